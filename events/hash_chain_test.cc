#include "keyledger/events/hash_chain.h"

#include <gtest/gtest.h>

#include "event_fixtures.h"
#include "keyledger/events/codec.h"

namespace keyledger::events {
namespace {

// Builds a chained partition log: each event's prev_hash is the previous event's hash.
std::vector<std::string> ChainedLog() {
  std::vector<Event> events = {testing::SampleCreated(), testing::SampleRenamed(),
                               testing::SampleRegenerated(), testing::SampleDeleted()};
  std::vector<std::string> log;
  HashChain chain;
  for (Event& e : events) {
    e.prev_hash = chain.head();
    log.push_back(*Encode(e));
    chain.Advance(log.back());
  }
  return log;
}

TEST(HashChain, AcceptsAnIntactLog) {
  HashChain chain;
  for (const std::string& bytes : ChainedLog()) {
    auto e = Decode(bytes);
    ASSERT_TRUE(e.ok());
    ASSERT_TRUE(chain.Append(*e, bytes).ok());
  }
  EXPECT_NE(chain.head(), kGenesisHash);
}

TEST(HashChain, FirstEventLinksToGenesis) {
  auto log = ChainedLog();
  EXPECT_EQ(Decode(log[0])->prev_hash, kGenesisHash);
  EXPECT_EQ(Decode(log[1])->prev_hash, EventHash(log[0]));
}

TEST(HashChain, DetectsAlteredMissingAndReorderedEvents) {
  auto log = ChainedLog();
  {  // altered: the renamed event's new name changed and re-encoded
    Event e = *Decode(log[1]);
    std::get<KeyRenamed>(e.payload).new_name = "tampered";
    std::string altered = *Encode(e);
    HashChain chain;
    ASSERT_TRUE(chain.Append(*Decode(log[0]), log[0]).ok());
    ASSERT_TRUE(chain.Append(e, altered).ok());  // its own link still matches...
    common::Status next = chain.Append(*Decode(log[2]), log[2]);  // ...but the next one does not
    EXPECT_EQ(next.code(), common::StatusCode::kDataLoss);
  }
  {  // missing
    HashChain chain;
    ASSERT_TRUE(chain.Append(*Decode(log[0]), log[0]).ok());
    common::Status s = chain.Append(*Decode(log[2]), log[2]);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("hash chain broken"), std::string::npos);
  }
  {  // reordered
    HashChain chain;
    EXPECT_FALSE(chain.Append(*Decode(log[1]), log[1]).ok());
    EXPECT_EQ(chain.head(), kGenesisHash);  // unchanged after a failed append
  }
}

}  // namespace
}  // namespace keyledger::events
