#include "event_fixtures.h"

#include <cstdio>

namespace keyledger::events::testing {

Caller Owner(const std::string& team) { return Caller{"user-olga", "Olga Owner", team, Role::kOwner}; }
Caller Member(const std::string& user, const std::string& team) {
  return Caller{user, "Mia Member", team, Role::kMember};
}
Caller Operator() { return Caller{"ops-importer", "Legacy importer", "", Role::kOperator}; }

std::string Uuid(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
  return buf;
}

CommandContext Context(int n, std::int64_t now_micros) {
  return CommandContext{Uuid(1000 + n), now_micros, "req-" + std::to_string(n),
                        "idem-" + std::to_string(n), "corr-" + std::to_string(n)};
}

namespace {

Event Envelope(std::uint64_t revision, std::int64_t at, std::uint16_t schema_version = 1) {
  Event e;
  e.schema_version = schema_version;
  e.event_id = Uuid(100 + static_cast<int>(revision));
  e.team_id = kTeam;
  e.key_id = Uuid(1);
  e.key_revision = revision;
  e.actor = Actor{"user-olga", "Olga Owner", Role::kOwner};
  e.occurred_at_micros = at;
  e.request_id = "req-" + std::to_string(revision);
  e.idempotency_key = revision == 2 ? "" : "idem-" + std::to_string(revision);
  e.correlation_id = "corr-" + std::to_string(revision);
  for (size_t i = 0; i < e.prev_hash.size(); ++i) e.prev_hash[i] = static_cast<std::uint8_t>(revision * 7 + i);
  return e;
}

}  // namespace

Event SampleCreated() {
  Event e = Envelope(1, 1795384512000000);
  KeyCreated c;
  c.name = "production gateway";
  c.creator_id = "user-olga";
  c.creator_name = "Olga Owner";
  c.created_at_micros = 1795384512000000;
  c.all_models = false;
  c.models = {"openai-gpt-4o", "llama3.3-70b-instruct"};
  c.batch_inference = false;
  c.vpc_uuid = kAcmeVpc;
  c.legacy = false;
  for (size_t i = 0; i < c.secret_sha256.size(); ++i) c.secret_sha256[i] = static_cast<std::uint8_t>(0xA0 + i);
  c.secret_hint = "Zq9X";
  e.payload = c;
  return e;
}

Event SampleRenamed() {
  Event e = Envelope(2, 1795384513000000);
  e.payload = KeyRenamed{"production gateway", "prod gateway (eu)"};
  return e;
}

Event SampleRegenerated() {
  Event e = Envelope(3, 1795384514000000);
  KeyRegenerated r;
  for (size_t i = 0; i < r.secret_sha256.size(); ++i) r.secret_sha256[i] = static_cast<std::uint8_t>(0x10 + i);
  r.secret_hint = "b7Lm";
  e.payload = r;
  return e;
}

Event SampleDeleted() {
  Event e = Envelope(4, 1795384515000000);
  e.payload = KeyDeleted{"prod gateway (eu)"};
  return e;
}

Event SampleCreatedV2() {
  Event e = SampleCreated();
  e.schema_version = 2;
  e.event_id = Uuid(201);
  std::get<KeyCreated>(e.payload).expires_at_micros = 1798761600000000;  // 2027-01-01T00:00:00Z
  return e;
}

Event SampleRecordSkipped() {
  Event e;
  e.schema_version = 2;
  e.event_id = Uuid(202);
  e.actor = Actor{"ops-oscar", "Oscar Operator", Role::kOperator};
  e.occurred_at_micros = 1795384516000000;
  e.request_id = "req-skip";
  RecordSkipped r;
  r.partition = 7;
  r.offset = 41;
  for (size_t i = 0; i < r.record_sha256.size(); ++i) r.record_sha256[i] = static_cast<std::uint8_t>(0x30 + i);
  r.reason = "undecodable event: event is 17 bytes, not a whole number of 8-byte words (truncated?)";
  r.note = "a test producer wrote garbage; INC-1234";
  e.payload = r;
  return e;
}

}  // namespace keyledger::events::testing
