// keyledger skip, keyledger halts: operators' commands against a running `serve` (its operator
// routes, authenticated with an operator token file: api/operator_auth.h).
#include "command.h"
#include "keyledger/api/operator_auth.h"
#include "keyledger/common/log.h"
#include "keyledger/http/client.h"

namespace keyledger::cli {

namespace {

struct SkipFlags {
  OperatorFlags op;
  std::int64_t partition = -1;
  std::int64_t offset = -1;
  std::string sha256;
  std::string note;
  std::string idempotency_key;
};

// Sends the request as the file's first operator; prints the answer's body; 0 for a 2xx answer.
int Call(const Env& env, const OperatorFlags& flags, const std::string& method, const std::string& path,
         const std::string& body, const std::map<std::string, std::string>& extra_headers) {
  auto response = FetchAsOperator(flags, method, path, body, extra_headers);
  if (!response.ok()) return Fail(*env.log, "the request failed", response.status());
  std::printf("%s\n", response->body.c_str());
  if (response->status / 100 != 2) {
    env.log->Error("the server refused", {{"status", response->status}});
    return 1;
  }
  return 0;
}

}  // namespace

void AddOperatorFlags(CLI::App* cmd, OperatorFlags* flags, bool token_required) {
  cmd->add_option("--api", flags->api, "the serve to talk to, http(s)://HOST:PORT")->capture_default_str();
  CLI::Option* token = cmd->add_option("--operator-token-file", flags->token_file,
                                       "file of \"<operator id> <token>\" (its first operator is used; chmod 600)")
                           ->envname("KEYLEDGER_OPERATOR_TOKEN_FILE");
  if (token_required) token->required();
  cmd->add_option("--ca-file", flags->ca_file, "https: trust these CA certificates instead of the system's");
  AddIntFlag(cmd, "--timeout-ms", &flags->timeout_ms, "give up after this long", 100, 600000);
}

common::Result<http::ClientResponse> FetchAsOperator(const OperatorFlags& flags, const std::string& method,
                                                     const std::string& path, const std::string& body,
                                                     const std::map<std::string, std::string>& extra_headers) {
  auto operators = api::ReadOperatorTokenFile(flags.token_file);
  if (!operators.ok()) return operators.status().WithContext("cannot use the operator token file");
  http::ClientRequest request;
  request.method = method;
  request.url = flags.api + path;
  request.body = body;
  request.ca_file = flags.ca_file;
  request.timeout_ms = static_cast<int>(flags.timeout_ms);
  request.headers = extra_headers;
  request.headers["Authorization"] = "Bearer " + operators->front().token;
  auto response = http::Fetch(request);
  if (!response.ok()) return response.status().WithContext("the server did not answer");
  return response;
}

Runner AddSkip(CLI::App& app) {
  auto flags = std::make_shared<SkipFlags>();
  CLI::App* cmd = app.add_subcommand(
      "skip", "operator: skip the bad record a partition halted at (every component passes it, recorded with a note)");
  AddOperatorFlags(cmd, &flags->op);
  AddIntFlag(cmd, "--partition", &flags->partition, "the halted partition", 0, INT32_MAX)->required();
  AddIntFlag(cmd, "--offset", &flags->offset, "the offset it halted at", 0, INT64_MAX)->required();
  cmd->add_option("--sha256", flags->sha256, "SHA-256 of the record's bytes, as `keyledger halts` shows it")->required();
  cmd->add_option("--note", flags->note, "why it is skipped (1 to 1024 bytes, kept in the log)")->required();
  cmd->add_option("--idempotency-key", flags->idempotency_key, "makes a retry safe (default: one per record)");
  return [flags](const Env& env) {
    std::string body = "{\"partition\":" + std::to_string(flags->partition) +
                       ",\"offset\":" + std::to_string(flags->offset) + ",\"record_sha256\":";
    common::AppendJsonString(body, flags->sha256);
    body += ",\"note\":";
    common::AppendJsonString(body, flags->note);
    body += "}";
    // One skip per record: a retry of this command is answered from the first.
    std::string key = flags->idempotency_key.empty() ? "skip-" + std::to_string(flags->partition) + "-" +
                                                           std::to_string(flags->offset) + "-" + flags->sha256
                                                     : flags->idempotency_key;
    return Call(env, flags->op, "POST", "/v2/gen-ai/operator/skips", body, {{"Idempotency-Key", key.substr(0, 255)}});
  };
}

Runner AddHalts(CLI::App& app) {
  auto flags = std::make_shared<OperatorFlags>();
  CLI::App* cmd = app.add_subcommand("halts", "operator: the partitions halted on a bad record, and the skips so far");
  AddOperatorFlags(cmd, flags.get());
  return [flags](const Env& env) { return Call(env, *flags, "GET", "/v2/gen-ai/operator/halts", "", {}); };
}

}  // namespace keyledger::cli
