// The legacy import (SPEC section 1): JSON lines of keys created before scoping existed, appended
// as legacy KeyCreated events through the writer.
//
// Each line is an object {team_id, creator_id, creator_name, name, created_at (RFC 3339), and
// either secret (a keyledger secret, hashed here and never kept) or secret_sha256 (64 hex digits,
// with an optional 4-character secret_hint)}. Every line is checked before anything is appended,
// and a file with any bad line appends nothing: the report names each bad line by number.
//
// Idempotent: a line's key id is derived from its team and secret hash, so running the same file
// again finds every key already there (even if it was renamed, regenerated or deleted since) and
// appends nothing.
//
// Thread: caller's thread.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "keyledger/common/log.h"
#include "keyledger/common/status.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/replay/progress.h"
#include "keyledger/writer/writer.h"

namespace keyledger::replay {

struct LegacyLine {
  int line = 0;  // 1-based
  events::ImportLegacyKeyCommand command;
};

// Parses and checks every line; `errors` gets "line N: what is wrong" for each bad one (blank
// lines are skipped). Duplicate secrets within the file are errors naming both lines. The first
// line is numbered `first_line` (a chunk of a file sent to serve).
std::vector<LegacyLine> ParseLegacyLines(std::istream& in, std::vector<std::string>* errors, int first_line = 1);

// The key id a legacy key with this team and secret hash gets (a UUID, version 8).
std::string LegacyKeyId(const std::string& team_id, const common::SecretHash& secret_hash);

struct ImportReport {
  size_t lines = 0;
  size_t imported = 0;
  size_t already_present = 0;
  std::vector<std::string> errors;  // non-empty: nothing was appended
};

// Checks `lines` against the writer's state (a secret already used by another live key is an
// error), then appends the new ones. Errors found up front append nothing; an outage midway
// leaves a prefix appended, and re-running the file completes it.
// `check_only`: the checks alone (`imported` counts what would be appended). The sink is the
// running serve's writer (POST /v2/gen-ai/operator/legacy-imports) or, offline, a writer of the
// import's own.
common::Result<ImportReport> ImportLegacy(writer::CommandSink& writer, const std::vector<LegacyLine>& lines,
                                          const events::Caller& operator_caller,
                                          const ProgressCallback& progress, const common::Clock& clock,
                                          bool check_only = false);

// A parsed line as a line of the file in its hash-only form (secret_sha256 and secret_hint, never
// a secret): what `import-legacy` sends to serve.
std::string LegacyLineJson(const events::ImportLegacyKeyCommand& command);

}  // namespace keyledger::replay
