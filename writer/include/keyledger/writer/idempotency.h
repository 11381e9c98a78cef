// Idempotency records (SPEC section 3): what each Idempotency-Key of a team's user did in the
// last 24 h, so that a retry returns the same outcome and appends nothing. Outcomes are typed
// values: the command's kind and the key it acted on, never a string read back by prefix.
//
// Bounded memory: records leave in the order they were remembered (about the order they were
// made: recovery interleaves partitions), by ExpireBefore (the writer calls it
// on its own thread every second, whatever commands arrive), and at most `max_records` are held:
// beyond that the oldest is evicted early (counted: a retry of its command after that would be
// carried out again, so size the cap for a day of commands that carry an Idempotency-Key).
// Thread: not thread-safe; the writer guards it with its lock.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "keyledger/events/event.h"
#include "keyledger/events/key_rules.h"

namespace keyledger::writer {

inline constexpr std::int64_t kIdempotencyWindowMicros = 24ll * 3600 * 1000000;

enum class CommandKind { kCreate, kImport, kRename, kRegenerate, kDelete, kSkip };
std::string_view CommandKindName(CommandKind kind);  // "create", "import", ...
CommandKind KindOf(const events::Command& command);
// What produced this event: an import is a creation by an operator.
CommandKind KindOf(const events::Event& event);

struct IdempotencyRecord {
  CommandKind kind = CommandKind::kCreate;
  std::string key_id;  // the key the command acted on (created, for a create)
  std::uint64_t revision = 0;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int64_t at_micros = 0;
};

// Whether a retry's body is the request its key was first used for (SPEC: a key reused for another
// request is a 409). A create is compared with the key it made, field by field as the rules
// normalise them (name trimmed, models de-duplicated, VPC in lower case; the name only while the
// key has not changed since, as a later rename changes it); a rename with the name it set, while
// the key is still at that revision. The other commands carry nothing to compare beyond their
// kind and key (Check). `key` is the key's current state.
bool SameRequest(const events::Command& retry, const IdempotencyRecord& record, const events::KeyState& key);
// Two commands in one batch under the same key: the same request?
bool SameRequest(const events::Command& a, const events::Command& b);

// The scope of an Idempotency-Key: team, user and the key itself ("" when the request has none).
std::string IdempotencyScope(std::string_view team_id, std::string_view user_id, std::string_view idempotency_key);

inline constexpr size_t kDefaultMaxIdempotencyRecords = 1'000'000;

class IdempotencyTable {
 public:
  explicit IdempotencyTable(size_t max_records = kDefaultMaxIdempotencyRecords) : max_records_(max_records) {}
  enum class Verdict { kNew, kReplay, kConflict };
  struct Lookup {
    Verdict verdict = Verdict::kNew;
    IdempotencyRecord record;  // for kReplay and kConflict: what the key was used for
  };
  // A command of `kind` on `key_id` ("" for a create) under `scope` at `now`: new, a replay of
  // the same command, or a reuse of the key for another one (kConflict). Records older than the
  // window count as absent.
  Lookup Check(const std::string& scope, CommandKind kind, const std::string& key_id, std::int64_t now_micros);
  void Remember(const std::string& scope, IdempotencyRecord record);
  // Forgets every record made at or before `now_micros` - the window; returns how many.
  size_t ExpireBefore(std::int64_t now_micros);
  size_t size() const { return records_.size(); }
  std::uint64_t expired() const { return expired_; }
  std::uint64_t evicted() const { return evicted_; }  // forgotten early, at the cap

 private:
  struct Made {
    std::string scope;
    std::int64_t at_micros = 0;
  };
  // Drops `made` if it is still the scope's record (a scope remembered again has a newer entry).
  bool Forget(const Made& made);

  size_t max_records_;
  std::unordered_map<std::string, IdempotencyRecord> records_;
  std::deque<Made> order_;  // records in the order they were made (oldest first)
  std::uint64_t expired_ = 0;
  std::uint64_t evicted_ = 0;
};

}  // namespace keyledger::writer
