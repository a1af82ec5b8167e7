//! The PUBLISH hot path against the general path it shortcuts: for any
//! PUBLISH, valid or not, both must produce the same bytes or error when
//! encoding, and the same packet or error when decoding.

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::MAX;
use crate::packet::arbitrary::{publish, publish_properties};
use crate::packet::codec::{decode_without_fast_path, encode_without_fast_path};
use crate::packet::{decode, encode, ByteString, Packet, ProtocolVersion, Publish, PublishProperties, QoS};

fn any_version() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![Just(ProtocolVersion::V311), Just(ProtocolVersion::V5)]
}

/// Topics of every kind the checks tell apart: plain ASCII of lengths
/// around the eight- and sixteen-byte steps, wildcards, U+0000, non-ASCII.
fn any_topic() -> impl Strategy<Value = ByteString> {
    prop_oneof![
        "[a-z/]{0,40}",
        "[a-z/+#]{0,40}",
        "[a-z/\u{0}]{0,40}",
        "[a-z/é€😀\u{7f}]{0,40}",
    ]
    .prop_map(ByteString::from)
}

/// Any combination of fields, including the invalid ones encoding rejects.
fn any_publish() -> impl Strategy<Value = Publish> {
    (
        0u8..3,
        any::<bool>(),
        any::<bool>(),
        any_topic(),
        any::<u16>(),
        option::weighted(0.3, publish_properties()),
        vec(any::<u8>(), 0..200),
    )
        .prop_map(|(qos, dup, retain, topic, id, properties, payload)| Publish {
            dup,
            qos: QoS::from_u8(qos).unwrap(),
            retain,
            topic,
            packet_id: std::num::NonZeroU16::new(id),
            properties: properties.unwrap_or_default(),
            payload: Bytes::from(payload),
        })
}

fn encode_both(
    packet: &Packet,
    version: ProtocolVersion,
) -> (Result<Vec<u8>, String>, Result<Vec<u8>, String>) {
    let mut fast = BytesMut::from(&b"prefix"[..]);
    let mut general = fast.clone();
    let fast = encode(packet, version, &mut fast)
        .map(|()| fast.to_vec())
        .map_err(|e| format!("{e:?}"));
    let general = encode_without_fast_path(packet, version, &mut general)
        .map(|()| general.to_vec())
        .map_err(|e| format!("{e:?}"));
    (fast, general)
}

/// Decodes `bytes` both ways; on success, how much each left in the buffer too.
fn decode_both(bytes: &[u8], version: ProtocolVersion) {
    let mut fast = BytesMut::from(bytes);
    let mut general = BytesMut::from(bytes);
    let fast_result = decode(&mut fast, version, MAX);
    let general_result = decode_without_fast_path(&mut general, version, MAX);
    assert_eq!(fast_result, general_result, "{bytes:02X?}");
    if fast_result.is_ok() {
        assert_eq!(fast, general, "{bytes:02X?}");
    }
}

/// A PUBLISH frame with the given body: any flags but QoS 3.
fn frame(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0x30 | (flags & 0x0F)];
    let mut len = BytesMut::new();
    crate::packet::varint::put(&mut len, body.len() as u32);
    bytes.extend_from_slice(&len);
    bytes.extend_from_slice(body);
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn encodes_like_the_general_path(p in any_publish(), version in any_version()) {
        let packet = Packet::Publish(p);
        let (fast, general) = encode_both(&packet, version);
        prop_assert_eq!(fast, general);
    }

    #[test]
    fn decodes_valid_publishes_like_the_general_path(p in publish(ProtocolVersion::V311), q in publish(ProtocolVersion::V5)) {
        for (p, version) in [(p, ProtocolVersion::V311), (q, ProtocolVersion::V5)] {
            let mut bytes = BytesMut::new();
            encode(&Packet::Publish(p), version, &mut bytes).unwrap();
            decode_both(&bytes, version);
        }
    }

    #[test]
    fn decodes_arbitrary_bodies_like_the_general_path(
        flags in any::<u8>().prop_filter("QoS 3", |f| f & 0b0110 != 0b0110),
        body in vec(any::<u8>(), 0..40),
        version in any_version(),
    ) {
        decode_both(&frame(flags, &body), version);
    }

    #[test]
    fn decodes_structured_bodies_like_the_general_path(
        flags in any::<u8>().prop_filter("QoS 3", |f| f & 0b0110 != 0b0110),
        topic in any_topic(),
        topic_len_delta in -2i32..=2,
        id in prop_oneof![Just(None), any::<u16>().prop_map(Some)],
        properties in prop_oneof![Just(vec![]), Just(vec![0]), vec(any::<u8>(), 0..4)],
        payload in vec(any::<u8>(), 0..20),
        version in any_version(),
    ) {
        // Plausible bodies, with lengths a little off now and then.
        let len = (topic.len() as i32 + topic_len_delta).clamp(0, 0xFFFF) as u16;
        let mut body = len.to_be_bytes().to_vec();
        body.extend_from_slice(topic.as_bytes());
        if let Some(id) = id {
            body.extend_from_slice(&id.to_be_bytes());
        }
        body.extend_from_slice(&properties);
        body.extend_from_slice(&payload);
        decode_both(&frame(flags, &body), version);
    }
}

#[test]
fn properties_take_the_general_path() {
    let mut p = Publish::new("a/b", "x").qos(QoS::AtLeastOnce).packet_id(3);
    p.properties = PublishProperties {
        topic_alias: std::num::NonZeroU16::new(4),
        ..Default::default()
    };
    let packet = Packet::Publish(p);
    let (fast, general) = encode_both(&packet, ProtocolVersion::V5);
    assert_eq!(fast, general);
    let bytes = fast.unwrap();
    decode_both(&bytes[6..], ProtocolVersion::V5);
    assert_eq!(
        super::decode_all(&bytes[6..], ProtocolVersion::V5),
        Ok(Some(packet))
    );
}

#[test]
fn non_ascii_topics_round_trip() {
    for topic in [
        "é",
        "sensors/€/temp",
        "😀😀😀😀😀😀😀😀",
        "a/\u{7f}/b/c/d/e/f/g/h",
    ] {
        for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
            let packet = Packet::Publish(Publish::new(topic, "x"));
            let (fast, general) = encode_both(&packet, version);
            assert_eq!(fast, general);
            let bytes = fast.unwrap();
            assert_eq!(super::decode_all(&bytes[6..], version), Ok(Some(packet)));
        }
    }
}
