//! Edges the mutation run (cargo mutants) found no test at: each test
//! here fails with one of its surviving mutants applied.

use bytes::Bytes;

use super::{decode_all, encode_vec};
use crate::packet::varint;
use crate::packet::{Connect, EncodeError, LastWill, Packet, ProtocolVersion, Publish, ReasonCode};

/// Every reason code MQTT 5 defines reads back as itself, and no other
/// byte reads as one: 43 of them.
#[test]
fn every_reason_code_reads_back_as_itself() {
    let mut known = 0;
    for byte in 0..=u8::MAX {
        if let Some(code) = ReasonCode::from_u8(byte) {
            assert_eq!(code as u8, byte);
            known += 1;
        }
    }
    assert_eq!(known, 43);
}

/// A PUBLISH with an empty topic is valid on MQTT 5 only with a Topic
/// Alias standing for the topic.
#[test]
fn an_empty_topic_needs_an_alias_even_on_mqtt_5() {
    let bare = Publish::new("", "x");
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let mut buf = bytes::BytesMut::new();
        let refused = crate::packet::encode(&Packet::Publish(bare.clone()), version, &mut buf);
        assert!(
            matches!(refused, Err(EncodeError::Invalid { .. })),
            "{version:?}: {refused:?}"
        );
    }
    let mut aliased = bare;
    aliased.properties.topic_alias = std::num::NonZeroU16::new(1);
    encode_vec(&Packet::Publish(aliased), ProtocolVersion::V5);
}

/// A Will's Response Topic survives the round trip through the codec.
#[test]
fn a_will_response_topic_is_written_and_read() {
    let mut will = LastWill::new("status", "gone");
    will.properties.response_topic = Some("status/replies".into());
    will.properties.correlation_data = Some(Bytes::from_static(b"c1"));
    let connect = Connect {
        protocol: ProtocolVersion::V5,
        client_id: "c1".into(),
        will: Some(will),
        ..Connect::default()
    };
    let packet = Packet::Connect(Box::new(connect));
    let bytes = encode_vec(&packet, ProtocolVersion::V5);
    assert_eq!(decode_all(&bytes, ProtocolVersion::V5), Ok(Some(packet)));
}

/// The largest PUBLISH MQTT allows is sized; one byte more is refused
/// before anything is written. (`vec![0; n]` is calloc'd: the pages are
/// never touched, so the 256 MB cost nothing.)
#[test]
fn a_publish_body_of_exactly_the_protocol_maximum_is_allowed_and_one_more_is_not() {
    let topic = "t";
    // Topic length prefix and topic; QoS 0 has no packet identifier; 3.1.1 no properties.
    let overhead = 2 + topic.len();
    let at_max = varint::MAX as usize - overhead;
    let largest = Publish::new(topic, Bytes::from(vec![0u8; at_max]));
    let sized = largest.plain_len(ProtocolVersion::V311, false);
    assert_eq!(sized.map(|r| r.ok()), Some(Some(1 + 4 + varint::MAX as usize)));
    let over = Publish::new(topic, Bytes::from(vec![0u8; at_max + 1]));
    let refused = over.plain_len(ProtocolVersion::V311, false);
    assert!(
        matches!(refused, Some(Err(EncodeError::PacketTooLarge(_)))),
        "{refused:?}"
    );
}
