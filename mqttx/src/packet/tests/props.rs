//! Property tests over generated valid packets and arbitrary bytes.

use bytes::BytesMut;
use proptest::collection::vec;
use proptest::prelude::*;

use super::{decode_all, encode_vec, MAX};
use crate::packet::arbitrary::{packet, publish, versioned_packet};
use crate::packet::codec::encode_measured;
use crate::packet::topic;
use crate::packet::{decode, encoded_len, has_frame, Packet, ProtocolVersion, Publish, QoS};

/// A PUBLISH that may break the rules: QoS, packet id and DUP picked
/// independently, and a topic that may hold wildcards, U+0000 or nothing.
fn any_publish(version: ProtocolVersion) -> impl Strategy<Value = Publish> {
    (
        publish(version),
        prop::option::of(prop_oneof![
            Just(QoS::AtMostOnce),
            Just(QoS::AtLeastOnce),
            Just(QoS::ExactlyOnce)
        ]),
        any::<Option<u16>>(),
        any::<bool>(),
        prop::option::of("[a+#/\\x00é]{0,20}"),
        any::<bool>(),
        any::<Option<u16>>(),
    )
        .prop_map(|(mut p, qos, id, dup, topic, plain, alias)| {
            if plain {
                // Without properties, or with a Topic Alias only: the fast
                // path's cases.
                p.properties = Default::default();
                if let Some(alias) = alias.and_then(std::num::NonZeroU16::new) {
                    p.properties.topic_alias = Some(alias);
                }
            }
            if let Some(qos) = qos {
                p.qos = qos;
            }
            if let Some(id) = id {
                p = p.packet_id(id);
            }
            p.dup ^= dup;
            if let Some(topic) = topic {
                p.topic = topic.into();
            }
            p
        })
}

/// Bytes rich in what the topic scan looks for.
fn scan_input() -> impl Strategy<Value = Vec<u8>> {
    vec(
        prop_oneof![
            Just(0u8),
            Just(b'+'),
            Just(b'#'),
            Just(b'a'),
            Just(0x2Bu8 ^ 0x08),
            any::<u8>()
        ],
        0..40,
    )
}

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

    /// The one-pass PUBLISH encoder and the measured two-pass path must
    /// agree byte for byte, and on every error.
    #[test]
    fn publish_fast_path_matches_the_measured_path(
        (version, p) in any_version().prop_flat_map(|v| (Just(v), any_publish(v)))
    ) {
        let packet = Packet::Publish(p.clone());
        let mut fast = BytesMut::from(&b"x"[..]);
        let mut measured = fast.clone();
        let fast_result = match p.encode_plain(version, &mut fast) {
            Some(result) => result,
            None => return Ok(()), // has properties: only the measured path exists
        };
        let measured_result = encode_measured(&packet, version, &mut measured);
        prop_assert_eq!(fast_result, measured_result);
        prop_assert_eq!(fast, measured);
    }

    /// The size check before queueing measures a plain PUBLISH by
    /// arithmetic; it must be what encoding writes, alias included.
    #[test]
    fn plain_publish_size_is_what_encode_writes(
        (version, mut p) in any_version().prop_flat_map(|v| (Just(v), publish(v))),
        alias in any::<bool>(),
    ) {
        p.properties = Default::default();
        prop_assume!(!p.topic.is_empty());
        let expected = p.plain_len(version, alias).unwrap().unwrap();
        if alias && version == ProtocolVersion::V5 {
            p.properties.topic_alias = std::num::NonZeroU16::new(9);
        }
        // MQTT 3.1.1 has no Topic Alias: it is not counted there.
        prop_assert_eq!(expected, encode_vec(&Packet::Publish(p), version).len());
    }

    /// Whether a Topic Alias fits under the server's limit is decided by
    /// `wire_len` on the publish as it will be written: it must be what
    /// encoding writes, with or without other properties.
    #[test]
    fn wire_len_is_what_encode_writes(
        (version, mut p) in any_version().prop_flat_map(|v| (Just(v), publish(v))),
        plain in any::<bool>(),
        alias in any::<Option<u16>>(),
    ) {
        if plain {
            p.properties = Default::default();
        }
        if let Some(alias) = alias.and_then(std::num::NonZeroU16::new) {
            p.properties.topic_alias = Some(alias);
        }
        let size = p.wire_len(version).unwrap();
        let packet = Packet::Publish(p);
        // An empty topic whose alias went with the properties is not sendable.
        prop_assume!(encoded_len(&packet, version).is_ok());
        prop_assert_eq!(size, encode_vec(&packet, version).len());
    }

    #[test]
    fn topic_scan_agrees_with_a_byte_by_byte_look(bytes in scan_input()) {
        let found = topic::scan(&bytes);
        prop_assert_eq!(found.null, bytes.contains(&0));
        prop_assert_eq!(found.wildcard, bytes.iter().any(|&b| b == b'+' || b == b'#'));
        prop_assert_eq!(found.non_ascii, !bytes.is_ascii());
        let plain = bytes.is_ascii() && !bytes.iter().any(|&b| b == 0 || b == b'+' || b == b'#');
        prop_assert_eq!(topic::plain(&bytes), plain);
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
            prop_assert!(!has_frame(&buf), "{} of {} bytes is no whole frame", split, bytes.len());
            prop_assert_eq!(decode(&mut buf, version, MAX), Ok(None));
            prop_assert_eq!(buf.len(), split, "a partial frame must not be consumed");
            buf.extend_from_slice(&bytes[split..]);
            prop_assert!(has_frame(&buf));
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
