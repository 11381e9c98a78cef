// Test-only builders of well-formed events and callers (events_test and golden data).
#pragma once

#include <string>

#include "keyledger/events/event.h"
#include "keyledger/events/key_rules.h"

namespace keyledger::events::testing {

inline constexpr char kTeam[] = "team-acme";
inline constexpr char kOtherTeam[] = "team-globex";
inline constexpr char kAcmeVpc[] = "5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c";
inline constexpr char kGlobexVpc[] = "c0ffee00-1234-4abc-8def-0123456789ab";

Caller Owner(const std::string& team = kTeam);
Caller Member(const std::string& user = "user-mia", const std::string& team = kTeam);
Caller Operator();

// Deterministic ids: Uuid(1) = "00000000-0000-4000-8000-000000000001".
std::string Uuid(int n);
CommandContext Context(int n, std::int64_t now_micros = 1795384512000000);

Event SampleCreated();
Event SampleRenamed();
Event SampleRegenerated();
Event SampleDeleted();
// Schema version 2: a creation with an expiry, and a skip of a bad record.
Event SampleCreatedV2();
Event SampleRecordSkipped();

}  // namespace keyledger::events::testing
