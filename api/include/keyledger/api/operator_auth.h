// Operators' credentials for the operator routes (/v2/gen-ai/operator/...): long random bearer
// tokens, kept apart from users' JWTs (a user's token can never act as an operator, and an
// operator token names who used it in every event it causes).
//
// Token file: one operator per line, "<operator id> <token>"; blank lines and lines starting
// with '#' are ignored. Ids are 1..64 of [A-Za-z0-9._@-]; tokens are at least 32 characters
// (`openssl rand -hex 32`). The server keeps only each token's SHA-256 and compares in constant
// time. The file must not be readable by group or others. `keyledger skip` reads the same format
// (its first operator) to authenticate.
// Thread: OperatorAuth is immutable after Load; safe to share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "keyledger/common/crypto.h"
#include "keyledger/common/status.h"
#include "keyledger/events/key_rules.h"

namespace keyledger::api {

struct OperatorCredential {
  std::string id;
  std::string token;
};

// The lines of a token file; InvalidArgument naming the line for a malformed one (never echoing
// a token), PermissionDenied for a file readable by group or others, NotFound for no operator.
common::Result<std::vector<OperatorCredential>> ReadOperatorTokenFile(const std::string& path);
common::Result<std::vector<OperatorCredential>> ParseOperatorTokens(std::string_view text);

class OperatorAuth {
 public:
  OperatorAuth() = default;  // no operators: every operator route is refused
  explicit OperatorAuth(const std::vector<OperatorCredential>& credentials);

  bool enabled() const { return !entries_.empty(); }
  // `authorization` is the whole header ("Bearer <token>"). Unauthenticated for a missing or
  // unknown token; PermissionDenied for a token when no operator is configured.
  common::Result<events::Caller> Verify(std::string_view authorization) const;

 private:
  struct Entry {
    std::string id;
    common::Sha256Digest token_sha256;
  };
  std::vector<Entry> entries_;
};

}  // namespace keyledger::api
