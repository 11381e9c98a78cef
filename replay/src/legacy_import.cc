#include "keyledger/replay/legacy_import.h"

#include <boost/json.hpp>

#include <algorithm>
#include <future>
#include <map>

#include "keyledger/common/clock.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/secret.h"

namespace keyledger::replay {

namespace json = boost::json;
using common::Result;

namespace {

const json::string* StringField(const json::object& o, const char* name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

}  // namespace

std::string LegacyKeyId(const std::string& team_id, const common::SecretHash& secret_hash) {
  std::string input = "keyledger legacy import";
  input.push_back('\0');
  input += team_id;
  input.push_back('\0');
  input.append(reinterpret_cast<const char*>(secret_hash.data()), secret_hash.size());
  common::Sha256Digest d = common::Sha256Of(input);
  d[6] = static_cast<std::uint8_t>((d[6] & 0x0f) | 0x80);  // version 8: custom
  d[8] = static_cast<std::uint8_t>((d[8] & 0x3f) | 0x80);  // RFC 9562 variant
  std::string hex = common::HexEncode(std::span<const std::uint8_t>(d.data(), 16));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

std::vector<LegacyLine> ParseLegacyLines(std::istream& in, std::vector<std::string>* errors, int first_line) {
  std::vector<LegacyLine> out;
  std::map<common::SecretHash, int> seen;  // secret hash -> first line
  std::string text;
  int number = first_line - 1;
  while (std::getline(in, text)) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto fail = [&](const std::string& what) { errors->push_back("line " + std::to_string(number) + ": " + what); };
    if (text.size() > 64 * 1024) {
      fail("longer than 65536 bytes");
      continue;
    }
    json::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
      fail("not a JSON object");
      continue;
    }
    const json::object& o = v.get_object();
    LegacyLine line;
    line.line = number;
    events::ImportLegacyKeyCommand& c = line.command;
    bool ok = true;
    for (const char* required : {"team_id", "creator_id", "creator_name", "name", "created_at"}) {
      const json::string* s = StringField(o, required);
      if (s == nullptr || s->empty()) {
        fail(std::string(required) + " is missing or not a non-empty string");
        ok = false;
      }
    }
    for (const auto& field : o) {
      static const char* kKnown[] = {"team_id", "creator_id", "creator_name", "name", "created_at",
                                     "secret", "secret_sha256", "secret_hint", "expires_at"};
      bool known = false;
      for (const char* k : kKnown) known = known || field.key() == k;
      if (!known) {
        fail("unknown field '" + std::string(field.key().substr(0, 64)) + "'");
        ok = false;
      }
    }
    if (!ok) continue;
    bool printable = true;
    for (const char* id : {"team_id", "creator_id", "creator_name"}) {
      const std::string_view field(*StringField(o, id));
      const bool control = std::any_of(field.begin(), field.end(), [](char ch) {
        return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
      });
      if (field.size() > 1024 || control) {
        fail(std::string(id) + " must be at most 1024 bytes without control characters");
        printable = false;
      }
    }
    if (!printable) continue;
    c.team_id = std::string(*StringField(o, "team_id"));
    c.creator_id = std::string(*StringField(o, "creator_id"));
    c.creator_name = std::string(*StringField(o, "creator_name"));
    auto name = events::NormalizeKeyName(std::string(*StringField(o, "name")));
    if (!name.ok()) {
      fail(name.status().message());
      continue;
    }
    c.name = *name;
    auto created = common::ParseRfc3339(std::string(*StringField(o, "created_at")));
    if (!created.ok()) {
      fail("created_at: " + created.status().message());
      continue;
    }
    c.created_at_micros = *created;
    // Legacy keys never expire, unless the operator imports them with an expiry.
    if (const json::value* expires = o.if_contains("expires_at"); expires != nullptr && !expires->is_null()) {
      auto at = expires->is_string() ? common::ParseRfc3339(std::string(expires->get_string()))
                                     : common::Result<std::int64_t>(common::InvalidArgument("not a string"));
      if (!at.ok() || *at <= 0) {
        fail("expires_at must be an RFC 3339 date-time or null");
        continue;
      }
      c.expires_at_micros = *at;
    }
    const json::string* secret = StringField(o, "secret");
    const json::string* hash = StringField(o, "secret_sha256");
    if ((secret == nullptr) == (hash == nullptr)) {
      fail("give exactly one of secret and secret_sha256");
      continue;
    }
    if (secret != nullptr) {
      // A legacy secret of any format (it predates sk-do-v1-); an sk-do-v1- one must be valid.
      common::Status format = common::CheckPresentedSecret(std::string_view(*secret));
      if (!format.ok()) {
        fail("secret: " + format.message());
        continue;
      }
      if (o.contains("secret_hint")) {
        fail("secret_hint is only for lines with secret_sha256 (it is taken from the secret)");
        continue;
      }
      c.secret_sha256 = common::HashSecret(std::string_view(*secret));
      c.secret_hint = common::SecretHint(std::string_view(*secret));
    } else {
      auto parsed = common::ParseSha256Hex(std::string_view(*hash), "secret_sha256");
      if (!parsed.ok()) {
        fail(parsed.status().message());
        continue;
      }
      c.secret_sha256 = *parsed;
      if (const json::value* hint = o.if_contains("secret_hint")) {
        if (!hint->is_string() || hint->get_string().size() != common::kSecretHintLength) {
          fail("secret_hint must be a string of 4 characters");
          continue;
        }
        c.secret_hint = std::string(hint->get_string());
      }
    }
    auto [it, inserted] = seen.emplace(c.secret_sha256, number);
    if (!inserted) {
      fail("the same secret as line " + std::to_string(it->second) + " (a secret may belong to one key only)");
      continue;
    }
    c.key_id = LegacyKeyId(c.team_id, c.secret_sha256);
    out.push_back(std::move(line));
  }
  return out;
}

Result<ImportReport> ImportLegacy(writer::CommandSink& writer, const std::vector<LegacyLine>& lines,
                                  const events::Caller& operator_caller, const ProgressCallback& progress,
                                  const common::Clock& clock, bool check_only) {
  ImportReport report;
  report.lines = lines.size();
  std::vector<const LegacyLine*> fresh;
  for (const LegacyLine& line : lines) {
    if (writer.KeyState(line.command.key_id)) {
      ++report.already_present;
      continue;
    }
    if (auto owner = writer.SecretOwner(line.command.secret_sha256)) {
      report.errors.push_back("line " + std::to_string(line.line) + ": the secret is already in use by key " +
                              *owner);
      continue;
    }
    fresh.push_back(&line);
  }
  if (!report.errors.empty()) return report;
  if (check_only) {
    report.imported = fresh.size();
    return report;
  }

  const std::int64_t started = clock.MonotonicMicros();
  std::int64_t last = started;
  constexpr size_t kWindow = 500;  // commands in flight at once
  for (size_t i = 0; i < fresh.size(); i += kWindow) {
    std::vector<std::future<Result<writer::CommandOutcome>>> futures;
    for (size_t j = i; j < std::min(fresh.size(), i + kWindow); ++j) {
      writer::CommandRequest request{operator_caller, fresh[j]->command,
                                     "legacy-import-line-" + std::to_string(fresh[j]->line), "", ""};
      futures.push_back(writer.SubmitAsync(std::move(request)));
    }
    for (size_t j = 0; j < futures.size(); ++j) {
      auto outcome = futures[j].get();
      const LegacyLine& line = *fresh[i + j];
      if (outcome.ok()) {
        ++report.imported;
      } else if (outcome.status().code() == common::StatusCode::kConflict && writer.KeyState(line.command.key_id)) {
        ++report.already_present;  // imported concurrently by another run
      } else {
        return outcome.status().WithContext("importing line " + std::to_string(line.line) + " (" +
                                            std::to_string(report.imported) +
                                            " keys imported so far; run the file again to finish)");
      }
    }
    const std::int64_t now = clock.MonotonicMicros();
    if (progress && (now - last >= 1'000'000 || i + kWindow >= fresh.size())) {
      double secs = static_cast<double>(now - started) / 1e6;
      progress(Progress::Of(report.imported, fresh.size(), secs));
      last = now;
    }
  }
  return report;
}

std::string LegacyLineJson(const events::ImportLegacyKeyCommand& c) {
  json::object o{{"team_id", c.team_id},
                 {"creator_id", c.creator_id},
                 {"creator_name", c.creator_name},
                 {"name", c.name},
                 {"created_at", common::FormatRfc3339(c.created_at_micros)},
                 {"secret_sha256", common::HexEncode(c.secret_sha256)}};
  if (!c.secret_hint.empty()) o["secret_hint"] = c.secret_hint;
  if (c.expires_at_micros != 0) o["expires_at"] = common::FormatRfc3339(c.expires_at_micros);
  return json::serialize(o);
}

}  // namespace keyledger::replay
