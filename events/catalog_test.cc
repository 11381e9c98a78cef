#include "keyledger/events/catalog.h"

#include <gtest/gtest.h>

namespace keyledger::events {
namespace {

TEST(Catalog, DefaultHasThePlatformModelsAndBatchRules) {
  Catalog c = Catalog::Default();
  for (const char* id : {"openai-gpt-4o", "anthropic-claude-3.5-haiku", "llama3.3-70b-instruct",
                         "alibaba-qwen3-32b"}) {
    EXPECT_NE(c.FindModel(id), nullptr) << id;
  }
  EXPECT_EQ(c.FindModel("openai-gpt-4o")->owned_by, "openai");
  EXPECT_EQ(c.FindModel("alibaba-qwen3-32b")->owned_by, "digitalocean");
  for (const Model& m : c.models()) {
    bool expected = m.kind == "text" && (m.owned_by == "openai" || m.owned_by == "anthropic");
    EXPECT_EQ(m.batch_capable, expected) << m.id;
  }
  EXPECT_EQ(c.FindModel("no-such-model"), nullptr);
}

TEST(Catalog, TeamsOwnTheirVpcsOnly) {
  Catalog c = Catalog::Default();
  EXPECT_TRUE(c.TeamHasVpc("team-acme", "5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c"));
  EXPECT_TRUE(c.TeamHasVpc("team-acme", "5F0C8E3A-2B7D-4C1E-9A6F-1D2E3F4A5B6C"));
  EXPECT_FALSE(c.TeamHasVpc("team-acme", "c0ffee00-1234-4abc-8def-0123456789ab"));
  EXPECT_FALSE(c.TeamHasVpc("team-unknown", "c0ffee00-1234-4abc-8def-0123456789ab"));
}

TEST(Catalog, VpcsHaveTheirNamesAndRegionsSortedByName) {
  Catalog c = Catalog::Default();
  std::vector<Vpc> acme = c.TeamVpcList("team-acme");
  ASSERT_EQ(acme.size(), 2u);
  EXPECT_EQ(acme[0], (Vpc{"5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c", "acme-prod-nyc3", "nyc3"}));
  EXPECT_EQ(acme[1].name, "acme-staging-sfo3");
  EXPECT_TRUE(c.TeamVpcList("team-unknown").empty());
  // A bare UUID (the earlier format) is a VPC named by its id.
  auto bare = Catalog::FromJson(R"({"models": [], "teams": [{"team_id": "t", "vpcs": ["C0FFEE00-1234-4abc-8def-0123456789ab"]}]})");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(bare->TeamVpcList("t").at(0), (Vpc{"c0ffee00-1234-4abc-8def-0123456789ab", "c0ffee00-1234-4abc-8def-0123456789ab", ""}));
}

TEST(Catalog, RejectsBadFilesNamingTheProblem) {
  struct Case { const char* json; const char* expect; };
  for (const Case& c : {
           Case{"{", "not valid JSON"},
           Case{"[]", "must be a JSON object"},
           Case{R"({"models": 3})", "catalog.models"},
           Case{R"({"models": [{"id": "m", "kind": "text"}]})", "owned_by"},
           Case{R"({"models": [{"id": "m", "owned_by": "x", "kind": "text"}, {"id": "m", "owned_by": "x", "kind": "text"}]})", "duplicate"},
           Case{R"({"models": [{"id": "m", "owned_by": "digitalocean", "kind": "text", "batch_capable": true}]})", "batch_capable"},
           Case{R"({"models": [{"id": "m", "owned_by": "openai", "kind": "image", "batch_capable": true}]})", "batch_capable"},
           Case{R"({"models": [], "teams": [{"team_id": "t", "vpcs": ["nope"]}]})", "vpcs[0]: the id must be a VPC UUID"},
           Case{R"({"models": [], "teams": [{"team_id": "t", "vpcs": [3]}]})", "must be a VPC UUID or an object"},
           Case{R"({"models": [], "teams": [{"team_id": "t", "vpcs": [{"name": "x"}]}]})", "vpcs[0].id"},
           Case{R"({"models": [], "teams": [{"team_id": "t", "vpcs": ["c0ffee00-1234-4abc-8def-0123456789ab", {"id": "C0FFEE00-1234-4abc-8def-0123456789ab"}]}]})", "listed twice"},
       }) {
    auto r = Catalog::FromJson(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace keyledger::events
