//! Property tests over generated valid packets and arbitrary bytes.

use bytes::BytesMut;
use proptest::collection::vec;
use proptest::prelude::*;

use super::{decode_all, encode_vec, MAX};
use crate::packet::arbitrary::{packet, versioned_packet};
use crate::packet::{decode, encoded_len, ProtocolVersion};

fn any_version() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![Just(ProtocolVersion::V311), Just(ProtocolVersion::V5)]
}

/// Decodes until the buffer is empty, incomplete or wrong; it must not panic.
fn drain(bytes: &[u8], version: ProtocolVersion) {
    let mut buf = BytesMut::from(bytes);
    while let Ok(Some(_)) = decode(&mut buf, version, MAX) {}
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trips_v311(p in packet(ProtocolVersion::V311)) {
        let bytes = encode_vec(&p, ProtocolVersion::V311);
        prop_assert_eq!(decode_all(&bytes, ProtocolVersion::V311), Ok(Some(p)));
    }

    #[test]
    fn round_trips_v5(p in packet(ProtocolVersion::V5)) {
        let bytes = encode_vec(&p, ProtocolVersion::V5);
        prop_assert_eq!(decode_all(&bytes, ProtocolVersion::V5), Ok(Some(p)));
    }

    #[test]
    fn encoded_len_is_bytes_written((version, p) in versioned_packet()) {
        let mut buf = BytesMut::from(&b"prefix"[..]);
        crate::packet::encode(&p, version, &mut buf).unwrap();
        prop_assert_eq!(encoded_len(&p, version).unwrap(), buf.len() - 6);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..96), version in any_version()) {
        drain(&bytes, version);
    }

    #[test]
    fn bit_flips_never_panic((version, p) in versioned_packet(), flips in vec(any::<prop::sample::Index>(), 1..4)) {
        let mut bytes = encode_vec(&p, version);
        for flip in flips {
            let bit = flip.index(bytes.len() * 8);
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
        drain(&bytes, version);
    }

    #[test]
    fn byte_flips_never_panic((version, p) in versioned_packet(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = encode_vec(&p, version);
        let i = at.index(bytes.len());
        bytes[i] = byte;
        drain(&bytes, version);
    }

    #[test]
    fn chunked_input_decodes_like_whole((version, p) in versioned_packet()) {
        let bytes = encode_vec(&p, version);
        for split in 0..bytes.len() {
            let mut buf = BytesMut::from(&bytes[..split]);
            prop_assert_eq!(decode(&mut buf, version, MAX), Ok(None));
            prop_assert_eq!(buf.len(), split, "a partial frame must not be consumed");
            buf.extend_from_slice(&bytes[split..]);
            prop_assert_eq!(decode(&mut buf, version, MAX), Ok(Some(p.clone())));
            prop_assert!(buf.is_empty());
        }
    }

    #[test]
    fn back_to_back_packets_decode_in_order(ps in vec(packet(ProtocolVersion::V5), 1..5)) {
        let mut buf = BytesMut::new();
        for p in &ps {
            crate::packet::encode(p, ProtocolVersion::V5, &mut buf).unwrap();
        }
        for p in ps {
            prop_assert_eq!(decode(&mut buf, ProtocolVersion::V5, MAX), Ok(Some(p)));
        }
        prop_assert!(buf.is_empty());
    }
}
