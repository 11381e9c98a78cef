// What the end-to-end suites share: the HTTP client, the server process, temp dirs, the broker,
// development tokens, and the constants and helpers every suite used to repeat.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_broker.h"
#include "support/tokens.h"

namespace keyledger::testing {

inline constexpr char kKeysPath[] = "/v2/gen-ai/models/api_keys";
// VPCs of the default catalog: two of team-acme, one of team-globex.
inline constexpr char kAcmeVpc[] = "5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c";
inline constexpr char kGlobexVpc[] = "c0ffee00-1234-4abc-8def-0123456789ab";

// The response body as JSON (a test failure if it is not).
inline boost::json::value JsonBody(const HttpResult& r) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body;
  return v;
}

// A file's whole content ("" if it cannot be read).
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace keyledger::testing
