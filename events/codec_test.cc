#include "keyledger/events/codec.h"

#include <gtest/gtest.h>

#include <random>

#include "event_fixtures.h"
#include "keyledger/common/secret.h"
#include "keyledger/events/key_rules.h"

namespace keyledger::events {
namespace {

using testing::SampleCreated;
using testing::SampleDeleted;
using testing::SampleRegenerated;
using testing::SampleRenamed;

std::vector<Event> AllSamples() {
  return {SampleCreated(), SampleRenamed(), SampleRegenerated(), SampleDeleted()};
}

TEST(Codec, EveryEventTypeRoundTrips) {
  for (const Event& e : AllSamples()) {
    auto bytes = Encode(e);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(bytes->size() % 8, 0u);
    auto decoded = Decode(*bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, e);
    EXPECT_EQ(decoded->type(), e.type());
  }
}

TEST(Codec, EncodingIsDeterministic) {
  EXPECT_EQ(*Encode(SampleCreated()), *Encode(SampleCreated()));
}

TEST(Codec, DecodesFromMisalignedBuffers) {
  std::string bytes = *Encode(SampleCreated());
  std::string shifted = "x" + bytes;
  auto decoded = Decode(std::string_view(shifted).substr(1));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, SampleCreated());
}

TEST(Codec, RejectsEmptyTruncatedAndOversizedInput) {
  std::string bytes = *Encode(SampleCreated());
  EXPECT_EQ(Decode("").status().code(), common::StatusCode::kDataLoss);
  for (size_t len = 1; len < bytes.size(); ++len) {
    auto r = Decode(std::string_view(bytes).substr(0, len));
    EXPECT_FALSE(r.ok()) << "truncated to " << len << " bytes decoded";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), common::StatusCode::kDataLoss);
    }
  }
  std::string huge(kMaxEncodedEventBytes + 8, '\0');
  auto r = Decode(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("limit"), std::string::npos);
}

TEST(Codec, RejectsTrailingGarbage) {
  std::string bytes = *Encode(SampleRenamed()) + std::string(8, '\x01');
  EXPECT_FALSE(Decode(bytes).ok());
}

TEST(Codec, RejectsUnknownUnionTagAndBadRole) {
  // A message whose payload tag is past the known event types is "unknown event type".
  std::string bytes = *Encode(SampleDeleted());
  bool found = false;
  // The union discriminant is a 16-bit field in the data section; flip candidates until
  // decoding reports the unknown type, proving the decoder checks it.
  for (size_t i = 8; i + 1 < bytes.size() && !found; i += 2) {
    std::string mutated = bytes;
    if (static_cast<unsigned char>(mutated[i]) == 3 && mutated[i + 1] == 0) {
      mutated[i] = 9;
      auto r = Decode(mutated);
      if (!r.ok() && r.status().message().find("unknown event type") != std::string::npos) {
        found = true;
      }
    }
  }
  EXPECT_TRUE(found);
}

TEST(Codec, EncodeRejectsMalformedEventsNamingTheField) {
  Event e = SampleCreated();
  e.event_id = "not-a-uuid";
  auto r = Encode(e);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("event_id"), std::string::npos);

  e = SampleCreated();
  e.key_revision = 2;
  EXPECT_FALSE(Encode(e).ok());

  e = SampleRenamed();
  e.key_revision = 1;
  EXPECT_FALSE(Encode(e).ok());

  e = SampleCreated();
  std::get<KeyCreated>(e.payload).batch_inference = true;  // with selected models
  EXPECT_FALSE(Encode(e).ok());
}

// Many random and mutated inputs: the decoder answers with a Status, never crashes or throws.
TEST(Codec, RandomAndMutatedBytesNeverCrashTheDecoder) {
  std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::vector<std::string> valid;
  for (const Event& e : AllSamples()) valid.push_back(*Encode(e));

  int decoded_ok = 0;
  for (int i = 0; i < 50000; ++i) {
    std::string input;
    switch (i % 4) {
      case 0: {  // random bytes of random length
        input.resize(rng() % 512);
        for (char& c : input) c = static_cast<char>(rng());
        break;
      }
      case 1: {  // random words: word-aligned lengths reach the Cap'n Proto parser
        input.resize(8 * (rng() % 64));
        for (char& c : input) c = static_cast<char>(rng());
        break;
      }
      case 2: {  // bit flips in a valid event
        input = valid[rng() % valid.size()];
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) input[rng() % input.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
      }
      default: {  // a valid event cut and spliced with another
        const std::string& a = valid[rng() % valid.size()];
        const std::string& b = valid[rng() % valid.size()];
        size_t cut = 8 * (rng() % (a.size() / 8));
        input = a.substr(0, cut) + b.substr(std::min(b.size(), cut));
        break;
      }
    }
    auto r = Decode(input);
    if (r.ok()) {
      ++decoded_ok;
      EXPECT_TRUE(ValidateEvent(*r).ok());
    } else {
      EXPECT_EQ(r.status().code(), common::StatusCode::kDataLoss);
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  // Most mutations must be caught; a few bit flips in text bytes legitimately still decode.
  EXPECT_LT(decoded_ok, 50000 / 4);
}

// A secret never appears in an encoded event: only its SHA-256 and 4-character hint do.
TEST(Codec, EncodedEventsNeverContainTheSecret) {
  common::OsRandom random;
  for (int i = 0; i < 200; ++i) {
    std::string secret = *common::GenerateSecret(random);
    CreateKeyCommand create;
    create.key_id = testing::Uuid(i + 1);
    create.name = "scan " + std::to_string(i);
    create.all_models = true;
    create.secret_sha256 = common::HashSecret(secret);
    create.secret_hint = common::SecretHint(secret);
    auto event = DecideCreate(std::nullopt, testing::Owner(), create, Catalog::Default(),
                              testing::Context(i));
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    std::string bytes = *Encode(*event);
    std::string body = secret.substr(common::kSecretPrefix.size());
    // No window of 8 characters of the secret's body (hint excluded) occurs in the bytes.
    for (size_t at = 0; at + 8 <= body.size() - common::kSecretHintLength; ++at) {
      ASSERT_EQ(bytes.find(body.substr(at, 8)), std::string::npos) << "secret leaked into event";
    }
    EXPECT_EQ(bytes.find(common::kSecretPrefix), std::string::npos);
    EXPECT_NE(bytes.find(std::string(reinterpret_cast<const char*>(create.secret_sha256.data()), 32)),
              std::string::npos);
  }
}

}  // namespace
}  // namespace keyledger::events
