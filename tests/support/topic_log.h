// Reads a whole topic back for tests: every record in (partition, offset) order, decoded, with each
// partition's hash chain checked. Records that do not decode or break the chain are reported in
// `problems` (first per partition), not dropped silently.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/storage/kafka.h"

namespace keyledger::testing {

struct LoggedEvent {
  storage::LogRecord record;
  events::Event event;  // default-constructed when the record does not decode
  bool decoded = false;
};

struct TopicLog {
  std::vector<LoggedEvent> records;
  std::vector<std::string> problems;  // "partition P offset O: what"
  bool complete = false;              // reached the end of every partition before the deadline
};

inline TopicLog ReadTopic(const storage::KafkaConfig& config, const std::string& topic, int partitions,
                          int timeout_ms = 60000) {
  TopicLog out;
  std::map<std::int32_t, std::int64_t> start;
  for (int p = 0; p < partitions; ++p) start[p] = 0;
  auto reader = storage::LogReader::Create(config, topic, start);
  if (!reader.ok()) {
    out.problems.push_back("cannot read " + topic + ": " + reader.status().ToString());
    return out;
  }
  std::map<std::int32_t, events::HashChain> chains;
  std::map<std::int32_t, bool> reported;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // A transaction's commit returns before its markers are on every partition, and until then a
  // read_committed reader sees the end of a partition before that transaction's records. So the
  // read goes on to each partition's high watermark as it was at the start (which includes those
  // records), for a few seconds at most: a transaction left open by a test would otherwise hold
  // the read until the deadline.
  std::map<std::int32_t, std::int64_t> high;
  for (int p = 0; p < partitions; ++p) {
    auto w = (*reader)->Watermarks(p, 10000);
    if (w.ok()) high[p] = w->second;
  }
  auto grace = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(5));
  auto short_of_high = [&] {
    for (const auto& [p, h] : high) {
      if ((*reader)->Position(p) < h) return true;
    }
    return false;
  };
  while (std::chrono::steady_clock::now() < deadline &&
         (!(*reader)->AtEnd() || (short_of_high() && std::chrono::steady_clock::now() < grace))) {
    auto batch = (*reader)->Poll(300, 10000);
    if (!batch.ok()) {
      out.problems.push_back("poll failed: " + batch.status().ToString());
      return out;
    }
    for (auto& r : *batch) {
      LoggedEvent logged{std::move(r), {}, false};
      auto where = "partition " + std::to_string(logged.record.partition) + " offset " +
                   std::to_string(logged.record.offset) + ": ";
      auto e = events::Decode(logged.record.value);
      if (!e.ok()) {
        if (!reported[logged.record.partition]) out.problems.push_back(where + e.status().ToString());
        reported[logged.record.partition] = true;
      } else {
        common::Status chained = chains[logged.record.partition].Append(*e, logged.record.value);
        if (!chained.ok() && !reported[logged.record.partition]) {
          out.problems.push_back(where + chained.ToString());
          reported[logged.record.partition] = true;
        }
        logged.event = std::move(*e);
        logged.decoded = true;
      }
      out.records.push_back(std::move(logged));
    }
  }
  out.complete = (*reader)->AtEnd();
  std::stable_sort(out.records.begin(), out.records.end(), [](const LoggedEvent& a, const LoggedEvent& b) {
    return std::pair(a.record.partition, a.record.offset) < std::pair(b.record.partition, b.record.offset);
  });
  return out;
}

}  // namespace keyledger::testing
