// keyledger token: mint a development JWT (HS256).
#include "command.h"
#include "keyledger/api/jwt.h"

namespace keyledger::cli {

namespace {

struct TokenFlags {
  std::string jwt_secret;
  std::string sub = "user-dev";
  std::string name;
  std::string team = "team-acme";
  std::string role = "owner";
  std::string issuer;
  std::string audience;
  std::int64_t ttl = 86400;
};

}  // namespace

Runner AddToken(CLI::App& app) {
  auto flags = std::make_shared<TokenFlags>();
  CLI::App* cmd = app.add_subcommand("token", "mint a development JWT (HS256)");
  cmd->add_option("--jwt-secret", flags->jwt_secret, "HS256 secret, at least 32 bytes")
      ->envname("KEYLEDGER_JWT_SECRET")
      ->required();
  cmd->add_option("--sub", flags->sub, "user id")->capture_default_str();
  cmd->add_option("--name", flags->name, "display name (default: the user id)");
  cmd->add_option("--team", flags->team, "team id")->capture_default_str();
  cmd->add_option("--role", flags->role, "owner or member")->check(CLI::IsMember({"owner", "member"}))->capture_default_str();
  cmd->add_option("--jwt-issuer", flags->issuer, "iss claim");
  cmd->add_option("--jwt-audience", flags->audience, "aud claim");
  AddIntFlag(cmd, "--ttl", &flags->ttl, "seconds until the token expires", 1, 10 * 365 * 86400);
  return [flags](const Env& env) {
    if (flags->jwt_secret.size() < 32) {
      std::fprintf(stderr, "keyledger token: --jwt-secret must be at least 32 bytes\n");
      return 2;
    }
    api::TokenClaims claims;
    claims.sub = flags->sub;
    claims.name = flags->name.empty() ? flags->sub : flags->name;
    claims.team_id = flags->team;
    claims.role = flags->role;
    claims.issuer = flags->issuer;
    claims.audience = flags->audience;
    claims.expires_at = env.clock->NowMicros() / 1000000 + flags->ttl;
    std::printf("%s\n", api::MintHs256(claims, flags->jwt_secret).c_str());
    return 0;
  };
}

}  // namespace keyledger::cli
