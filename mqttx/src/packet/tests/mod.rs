//! Codec tests: spec byte vectors, the malformed-input table, property tests.

mod conformance;
mod edges;
mod malformed;
mod props;
mod vectors;

use bytes::BytesMut;

use super::{decode, encode, encoded_len, DecodeError, Packet, ProtocolVersion};

const MAX: u32 = 1 << 20;

pub(super) fn decode_all(bytes: &[u8], version: ProtocolVersion) -> Result<Option<Packet>, DecodeError> {
    let mut buf = BytesMut::from(bytes);
    decode(&mut buf, version, MAX)
}

pub(super) fn encode_vec(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode(packet, version, &mut buf).unwrap();
    assert_eq!(encoded_len(packet, version).unwrap(), buf.len());
    buf.to_vec()
}
