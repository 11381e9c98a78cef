// Encoding and decoding of key events (Cap'n Proto).
//
// Encode produces the canonical single-segment encoding of a KeyEvent (no segment table); those
// bytes are the Kafka record value and the input of the hash chain. Decode accepts any byte
// string: truncated, oversized, misaligned, non-canonical or random input returns DataLoss with
// the reason, never an exception or a crash. The input need not be word-aligned (it is copied
// into an aligned buffer when it is not). Decoded values own their memory.
// Thread: free functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "keyledger/common/status.h"
#include "keyledger/events/event.h"

namespace keyledger::events {

// Events larger than this are rejected on both sides (a key event is well under 4 KiB).
inline constexpr size_t kMaxEncodedEventBytes = 64 * 1024;

// Fails with InvalidArgument if the event is not well-formed (see ValidateEvent).
common::Result<std::string> Encode(const Event& event);

common::Result<Event> Decode(std::string_view bytes);

// Structural checks that both Encode and Decode apply: ids present, revision >= 1, a created
// event has revision 1, hash sizes, payload fields present.
common::Status ValidateEvent(const Event& event);

}  // namespace keyledger::events
