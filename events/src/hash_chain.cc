#include "keyledger/events/hash_chain.h"

namespace keyledger::events {

common::Sha256Digest EventHash(std::string_view encoded_event) {
  return common::Sha256Of(encoded_event);
}

common::Status HashChain::Append(const Event& event, std::string_view encoded) {
  if (event.prev_hash != head_) {
    return common::DataLoss("hash chain broken: event " + event.event_id + " has prev_hash " +
                            common::HexEncode(event.prev_hash) + ", expected " +
                            common::HexEncode(head_));
  }
  head_ = EventHash(encoded);
  return common::Status::Ok();
}

}  // namespace keyledger::events
