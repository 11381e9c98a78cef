#include "keyledger/events/usage.h"

#include "keyledger/common/coding.h"

namespace keyledger::events {

namespace {
constexpr std::uint8_t kUsageRecordVersion = 1;
}

std::string EncodeUsageRecord(const UsageRecord& r) {
  common::Encoder e;
  e.U8(kUsageRecordVersion);
  e.Bytes(r.replica_id);
  e.Bytes(r.key_id);
  e.Bytes(r.team_id);
  e.SignedVarint(r.minute);
  e.Varint(r.allowed);
  e.Varint(r.denied);
  e.Bytes(r.last_model);
  e.Bytes(r.last_source_vpc);
  return e.Take();
}

common::Result<UsageRecord> DecodeUsageRecord(std::string_view bytes) {
  common::Decoder d(bytes);
  if (d.U8() != kUsageRecordVersion) return common::DataLoss("usage record has an unknown version");
  UsageRecord r;
  r.replica_id = d.Bytes();
  r.key_id = d.Bytes();
  r.team_id = d.Bytes();
  r.minute = d.SignedVarint();
  r.allowed = d.Varint();
  r.denied = d.Varint();
  r.last_model = d.Bytes();
  r.last_source_vpc = d.Bytes();
  if (!d.done()) return common::DataLoss("usage record is truncated or malformed");
  if (r.replica_id.empty() || r.key_id.empty()) return common::DataLoss("usage record has no replica or key id");
  for (const std::string* f : {&r.replica_id, &r.key_id, &r.team_id, &r.last_model, &r.last_source_vpc}) {
    if (f->size() > kMaxUsageFieldBytes) return common::DataLoss("usage record has a field over 512 bytes");
  }
  if (r.minute < 0) return common::DataLoss("usage record has a minute before 1970");
  return r;
}

std::string UsageTopicFor(std::string_view event_topic) {
  constexpr std::string_view kSuffix = ".key-events";
  if (event_topic.size() >= kSuffix.size() && event_topic.substr(event_topic.size() - kSuffix.size()) == kSuffix) {
    return std::string(event_topic.substr(0, event_topic.size() - kSuffix.size())) + ".key-usage";
  }
  return std::string(event_topic) + ".key-usage";
}

}  // namespace keyledger::events
