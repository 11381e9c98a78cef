#include "keyledger/api/operator_auth.h"

#include <sys/stat.h>

#include <cctype>

#include "keyledger/common/files.h"
#include "keyledger/common/text.h"

namespace keyledger::api {

namespace {

constexpr size_t kMinTokenLength = 32;
constexpr size_t kMaxIdLength = 64;

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '@' && c != '-') return false;
  }
  return true;
}

}  // namespace

common::Result<std::vector<OperatorCredential>> ParseOperatorTokens(std::string_view text) {
  std::vector<OperatorCredential> out;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = common::TrimSpaces(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::string where = "operator token file line " + std::to_string(line_number);
    size_t space = line.find_first_of(" \t");
    if (space == std::string_view::npos) return common::InvalidArgument(where + ": expected \"<operator id> <token>\"");
    std::string_view id = line.substr(0, space);
    std::string_view token = common::TrimSpaces(line.substr(space));
    if (!ValidId(id)) return common::InvalidArgument(where + ": the operator id must be 1 to 64 of A-Z a-z 0-9 . _ @ -");
    if (token.size() < kMinTokenLength || token.find_first_of(" \t") != std::string_view::npos) {
      return common::InvalidArgument(where + ": the token must be one word of at least 32 characters");
    }
    for (const OperatorCredential& c : out) {
      if (c.id == id) return common::InvalidArgument(where + ": operator " + std::string(id) + " is listed twice");
    }
    out.push_back({std::string(id), std::string(token)});
  }
  if (out.empty()) return common::NotFound("the operator token file lists no operator");
  return out;
}

common::Result<std::vector<OperatorCredential>> ReadOperatorTokenFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return common::NotFound("cannot read the operator token file " + path);
  if ((st.st_mode & 077) != 0) {
    return common::PermissionDenied("the operator token file " + path +
                                    " is readable by group or others; chmod 600 it");
  }
  KL_ASSIGN_OR_RETURN(std::string text, common::DefaultFileSystem()->ReadFile(path));
  return ParseOperatorTokens(text);
}

OperatorAuth::OperatorAuth(const std::vector<OperatorCredential>& credentials) {
  for (const OperatorCredential& c : credentials) entries_.push_back({c.id, common::Sha256Of(c.token)});
}

common::Result<events::Caller> OperatorAuth::Verify(std::string_view authorization) const {
  if (authorization.size() <= 7 || !common::StartsWithIgnoringCase(authorization, "bearer ")) {
    return common::Unauthenticated("an operator token is required (Authorization: Bearer <token>)");
  }
  if (entries_.empty()) {
    return common::PermissionDenied("operator routes are disabled: start serve with --operator-tokens FILE");
  }
  const common::Sha256Digest presented = common::Sha256Of(common::TrimSpaces(authorization.substr(7)));
  const Entry* found = nullptr;
  for (const Entry& e : entries_) {
    // Every entry is compared, so the time does not tell which one matched.
    if (common::ConstantTimeEquals(std::span<const std::uint8_t>(e.token_sha256), std::span<const std::uint8_t>(presented))) found = &e;
  }
  if (found == nullptr) return common::Unauthenticated("the operator token is not valid");
  return events::Caller{found->id, found->id, "", events::Role::kOperator};
}

}  // namespace keyledger::api
