// Generates realistic, valid, hash-chained key events for many teams, partitioned as the writer
// would partition them; used to fill topics fast for projector tests and benchmarks.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "keyledger/common/crypto.h"
#include "keyledger/common/secret.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/storage/kafka.h"

namespace keyledger::testing {

struct StreamRecord {
  std::int32_t partition;
  std::string team_id;
  std::string bytes;
};

class EventStream {
 public:
  // With `with_vpcs`, a third of the new non-legacy keys are restricted to one of kVpcs.
  static constexpr const char* kVpcs[] = {"5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c",
                                          "0b9a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"};
  EventStream(std::int32_t partitions, int teams, std::uint64_t seed, bool with_vpcs = false)
      : partitions_(partitions), random_(seed), catalog_(events::Catalog::Default()), with_vpcs_(with_vpcs) {
    for (int t = 0; t < teams; ++t) teams_.push_back("team-" + std::to_string(t));
  }

  // The next event: mostly creations and renames, some regenerations, deletions, legacy keys.
  StreamRecord Next() {
    const std::string& team = teams_[random_.Next() % teams_.size()];
    std::int32_t partition = storage::PartitionForTeam(team, partitions_);
    events::Caller owner{"owner-" + team, "Owner of " + team, team, events::Role::kOwner};
    events::Caller member{"member-" + team, "Member of " + team, team, events::Role::kMember};
    const events::Caller& caller = random_.Next() % 2 ? owner : member;
    auto& live = live_[team];
    events::CommandContext ctx{*common::NewUuidV4(random_), now_ += 1000, "req-" + std::to_string(n_),
                               n_ % 3 == 0 ? "idem-" + std::to_string(n_) : "", "corr"};
    ++n_;
    std::uint64_t dice = random_.Next() % 100;
    common::Result<events::Event> event = common::Internal("none");
    std::optional<events::KeyState> current;
    if (live.empty() || dice < 35) {
      std::string secret = *common::GenerateSecret(random_);
      if (dice < 5) {
        events::ImportLegacyKeyCommand imp{*common::NewUuidV4(random_), team, caller.user_id,
                                           caller.display_name, "legacy " + std::to_string(n_),
                                           now_ - 1000000000, common::HashSecret(secret),
                                           common::SecretHint(secret)};
        events::Caller op{"ops", "Importer", "", events::Role::kOperator};
        event = events::DecideImportLegacy(std::nullopt, op, imp, ctx);
      } else {
        events::CreateKeyCommand c;
        c.key_id = *common::NewUuidV4(random_);
        c.name = "key " + std::to_string(n_);
        c.all_models = dice % 2 == 0;
        if (!c.all_models) c.models = {"openai-gpt-4o", "llama3.3-70b-instruct"};
        c.batch_inference = c.all_models && dice % 4 == 0;
        c.secret_sha256 = common::HashSecret(secret);
        c.secret_hint = common::SecretHint(secret);
        event = events::DecideCreate(std::nullopt, caller, c, catalog_, ctx);
        if (with_vpcs_ && event.ok() && n_ % 3 == 0) {
          std::get<events::KeyCreated>(event->payload).vpc_uuid = kVpcs[n_ % 2];
        }
      }
    } else {
      size_t index = random_.Next() % live.size();
      current = states_[live[index]];
      events::Caller actor = owner;
      if (dice < 70) {
        event = events::DecideRename(current, actor, {current->key_id, "renamed " + std::to_string(n_), {}}, ctx);
      } else if (dice < 90) {
        std::string secret = *common::GenerateSecret(random_);
        event = events::DecideRegenerate(current, actor, {current->key_id, current->name, {},
                                                          common::HashSecret(secret),
                                                          common::SecretHint(secret)}, ctx);
      } else {
        event = events::DecideDelete(current, actor, {current->key_id, current->name, {}}, ctx);
        live[index] = live.back();
        live.pop_back();
      }
    }
    event->prev_hash = chains_[partition].head();
    std::string bytes = *events::Encode(*event);
    chains_[partition].Advance(bytes);
    auto next = events::Apply(current, *event);
    states_[event->key_id] = *next;
    if (!current) live.push_back(event->key_id);
    return StreamRecord{partition, team, std::move(bytes)};
  }

 private:
  std::int32_t partitions_;
  common::SeededRandom random_;
  events::Catalog catalog_;
  std::vector<std::string> teams_;
  std::map<std::int32_t, events::HashChain> chains_;
  std::unordered_map<std::string, std::vector<std::string>> live_;
  std::unordered_map<std::string, events::KeyState> states_;
  std::int64_t now_ = 1795384512000000;
  std::uint64_t n_ = 0;
  bool with_vpcs_ = false;
};

// Appends `count` events of `stream` to `topic` in transactions of `per_transaction` records.
inline common::Status AppendStream(const storage::KafkaConfig& config, const std::string& topic,
                                   EventStream& stream, size_t count, size_t per_transaction,
                                   const std::string& transactional_id) {
  KL_ASSIGN_OR_RETURN(auto producer, storage::TransactionalProducer::Create(config, transactional_id));
  KL_RETURN_IF_ERROR(producer->InitTransactions(30000));
  size_t done = 0;
  while (done < count) {
    KL_RETURN_IF_ERROR(producer->BeginTransaction());
    size_t n = std::min(per_transaction, count - done);
    std::vector<storage::DeliveryReport> reports(n);
    std::vector<StreamRecord> records;
    records.reserve(n);
    for (size_t i = 0; i < n; ++i) records.push_back(stream.Next());
    for (size_t i = 0; i < n; ++i) {
      KL_RETURN_IF_ERROR(producer->Produce(topic, records[i].partition, records[i].team_id,
                                           records[i].bytes, &reports[i]));
    }
    KL_RETURN_IF_ERROR(producer->CommitTransaction(60000));
    done += n;
  }
  return common::Status::Ok();
}

}  // namespace keyledger::testing
