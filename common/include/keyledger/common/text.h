// Small text helpers every component parses with: one integer parser (flags, query parameters,
// cursors and offsets all go through it), trimming and ASCII case-insensitive comparison.
// Thread: free functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace keyledger::common {

// A decimal integer in [min, max]: an optional '-' (only if min < 0), then 1 to 19 digits,
// nothing else (no spaces, no '+'); leading zeros are accepted ("007" is unambiguous). nullopt
// otherwise, overflow included.
std::optional<std::int64_t> ParseInt64(std::string_view text, std::int64_t min, std::int64_t max);

// `text` without leading and trailing spaces and tabs.
std::string_view TrimSpaces(std::string_view text);

// ASCII case-insensitive comparisons (header values, auth schemes).
bool EqualsIgnoringCase(std::string_view a, std::string_view b);
bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix);

}  // namespace keyledger::common
