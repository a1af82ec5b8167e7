//! Entry points for the fuzz targets of `fuzz/` (cargo fuzz, libFuzzer):
//! one function per target, taking the fuzzer's bytes. Each returns
//! normally for any input and panics only when the library broke a rule
//! that must hold whatever the input: that panic is the finding.
//!
//! They live in the library, behind the `fuzzing` feature, because the
//! checks need what is private (the frame test, the store's file naming)
//! and because the unit tests replay the kept corpus through the same
//! functions (`tests.rs`), so CI keeps covering what the fuzzers found.

mod codec;
mod program;
mod protocol;
mod server;
mod store;
#[cfg(test)]
mod tests;

use crate::packet::ProtocolVersion;

/// Target `decode_v311`: decodes `data` as MQTT 3.1.1 packets from a
/// server, and checks every packet decoded re-encodes to bytes that
/// decode to the same packet.
pub fn decode_v311(data: &[u8]) {
    codec::decode_all(data, ProtocolVersion::V311);
}

/// Target `decode_v5`: [`decode_v311`] for MQTT 5.
pub fn decode_v5(data: &[u8]) {
    codec::decode_all(data, ProtocolVersion::V5);
}

/// Target `protocol`: runs the sans-IO state machine through the
/// operations `data` spells (server packets, commands, time, reconnects,
/// process restarts from the session journal), acting as the server, and
/// checks its invariants after every step (see `protocol.rs`).
pub fn protocol(data: &[u8]) {
    protocol::run(data);
}

/// Target `file_store`: writes `data` as a session file and opens it with
/// a `FileStore`. Opening must give an error or a session, never panic;
/// a session must read back the same after the store has rewritten the
/// file, and must restore into the state machine.
pub fn file_store(data: &[u8]) {
    store::open(data);
}
