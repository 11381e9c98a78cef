# keyledger key events (SPEC section 3).
#
# Evolution rules: add fields only with new ordinals at the end of a struct or union; never
# renumber, retype or remove a field; bump KeyEvent.schemaVersion when the meaning of a message
# changes. Golden encodings of every version live in events/testdata and are decoded by tests
# forever. On the wire (the Kafka record value) an event is the canonical encoding of a KeyEvent
# as a single segment without a segment table, so its SHA-256 is well defined.
@0xc3d5a0d0275692b8;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("keyledger::events::schema");

enum Role {
  unspecified @0;
  owner @1;
  member @2;
  operator @3;   # an operator tool (legacy import, admin commands), not a team member
}

struct Actor {
  userId @0 :Text;
  displayName @1 :Text;
  role @2 :Role;
}

struct KeyCreated {
  name @0 :Text;
  creatorId @1 :Text;
  creatorName @2 :Text;
  createdAtMicros @3 :Int64;
  allModels @4 :Bool;
  models @5 :List(Text);         # empty when allModels
  batchInference @6 :Bool;
  vpcUuid @7 :Text;              # empty = no VPC restriction
  legacy @8 :Bool;
  secretSha256 @9 :Data;         # 32 bytes; never the secret itself
  secretHint @10 :Text;          # last 4 characters of the secret
  expiresAtMicros @11 :Int64;    # schema version 2: when the key stops working; 0 = never
}

struct KeyRenamed {
  oldName @0 :Text;
  newName @1 :Text;
}

struct KeyRegenerated {
  secretSha256 @0 :Data;
  secretHint @1 :Text;
}

struct KeyDeleted {
  name @0 :Text;                 # the name at deletion, for audit readers
}

# Schema version 2. A control event, not a key event: an operator's decision that every consumer
# of the log passes over the record at (partition, offset) whose SHA-256 is recordSha256, which
# cannot be applied (events/partition_guard.h). It names no team and no key, and it is outside the
# hash chain (prevHash is zero, and the chain does not advance past it).
struct RecordSkipped {
  partition @0 :Int32;
  offset @1 :Int64;
  recordSha256 @2 :Data;         # of the skipped record's bytes as in the log
  reason @3 :Text;               # why consumers halted there, as the operator saw it
  note @4 :Text;                 # the operator's words
}

struct KeyEvent {
  eventId @0 :Text;              # UUID
  schemaVersion @1 :UInt16;
  teamId @2 :Text;
  keyId @3 :Text;                # UUID
  keyRevision @4 :UInt64;        # 1 at creation, +1 per later event of the key
  actor @5 :Actor;
  occurredAtMicros @6 :Int64;    # microseconds since the Unix epoch, UTC
  requestId @7 :Text;
  idempotencyKey @8 :Text;
  correlationId @9 :Text;
  prevHash @10 :Data;            # SHA-256 of the previous event in the partition; 32 zero bytes first

  payload :union {
    keyCreated @11 :KeyCreated;
    keyRenamed @12 :KeyRenamed;
    keyRegenerated @13 :KeyRegenerated;
    keyDeleted @14 :KeyDeleted;
    recordSkipped @15 :RecordSkipped;
  }
}
