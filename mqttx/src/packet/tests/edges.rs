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

/// A reason code shows its name and its byte.
#[test]
fn a_reason_code_displays_its_name_and_byte() {
    assert_eq!(ReasonCode::NotAuthorized.to_string(), "NotAuthorized (0x87)");
}

/// 3.1.1's six CONNACK return codes, as MQTT 5 reason codes.
#[test]
fn mqtt_311_connack_return_codes_map_to_their_reason_codes() {
    let mapped: Vec<_> = (0..=6).map(ReasonCode::from_v311_connack).collect();
    assert_eq!(
        mapped,
        [
            Some(ReasonCode::Success),
            Some(ReasonCode::UnsupportedProtocolVersion),
            Some(ReasonCode::ClientIdentifierNotValid),
            Some(ReasonCode::ServerUnavailable),
            Some(ReasonCode::BadUserNameOrPassword),
            Some(ReasonCode::NotAuthorized),
            None,
        ]
    );
}

/// A subscription's QoS of 3 is named as 3, whatever other option bits
/// are set beside it.
#[test]
fn an_invalid_subscription_qos_is_reported_as_itself() {
    // MQTT 5 SUBSCRIBE id 1, no properties, filter "a", options 0x07:
    // No Local and QoS 3.
    let bytes = b"\x82\x07\x00\x01\x00\x00\x01a\x07";
    assert_eq!(
        decode_all(bytes, ProtocolVersion::V5),
        Err(crate::packet::DecodeError::InvalidQoS(3))
    );
}

/// A 3.1.1 SUBACK carries granted QoS or 0x80: a code that is neither a
/// grant nor an error has no 3.1.1 form and is refused.
#[test]
fn a_v311_suback_refuses_a_code_it_cannot_carry() {
    let suback = crate::packet::SubAck {
        packet_id: std::num::NonZeroU16::MIN,
        reason_codes: vec![ReasonCode::NoMatchingSubscribers],
        properties: Default::default(),
    };
    let mut buf = bytes::BytesMut::new();
    let refused = crate::packet::encode(&Packet::SubAck(suback), ProtocolVersion::V311, &mut buf);
    assert!(matches!(refused, Err(EncodeError::Invalid { .. })), "{refused:?}");
}

/// A 3.1.1 UNSUBACK has no reason codes: one with Success in them is
/// written, one with a failure is refused.
#[test]
fn a_v311_unsuback_refuses_a_failure_it_cannot_carry() {
    let unsuback = |code| crate::packet::UnsubAck {
        packet_id: std::num::NonZeroU16::MIN,
        reason_codes: vec![code],
        properties: Default::default(),
    };
    let ok = unsuback(ReasonCode::Success);
    assert_eq!(
        encode_vec(&Packet::UnsubAck(ok), ProtocolVersion::V311),
        b"\xB0\x02\x00\x01"
    );
    let mut buf = bytes::BytesMut::new();
    let failed = Packet::UnsubAck(unsuback(ReasonCode::NotAuthorized));
    let refused = crate::packet::encode(&failed, ProtocolVersion::V311, &mut buf);
    assert!(
        matches!(refused, Err(EncodeError::NotInVersion(_))),
        "{refused:?}"
    );
}

/// A malformed packet's error names its type, for every type a server
/// may send (a name falling back to "reserved" says nothing).
#[test]
fn a_malformed_packet_is_named_in_its_error() {
    // Each with one byte more than its body holds.
    let frames: [(&[u8], &str); 3] = [
        (b"\xB0\x03\x00\x01\x00", "UNSUBACK"),
        (b"\xD0\x01\x00", "PINGRESP"),
        (b"\x40\x05\x00\x01\x00\x00\x00", "PUBACK"),
    ];
    for (bytes, name) in frames {
        let err = decode_all(bytes, ProtocolVersion::V311).expect_err("malformed");
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
}

/// The general encoder (a PUBLISH with properties) sizes the largest
/// packet MQTT allows and refuses one byte more, as the plain one does.
#[test]
fn the_general_encoder_allows_exactly_the_protocol_maximum() {
    let with_property = |payload_len: usize| {
        let mut publish = Publish::new("t", Bytes::from(vec![0u8; payload_len]));
        publish.properties.content_type = Some("a".into());
        publish
    };
    // Topic (2 + 1), property length (1), content type (1 + 2 + 1).
    let overhead = 3 + 1 + 4;
    let at_max = varint::MAX as usize - overhead;
    let largest = with_property(at_max);
    let total = 1 + 4 + varint::MAX as usize;
    assert_eq!(
        crate::packet::publish_len(&largest, ProtocolVersion::V5),
        Ok(total)
    );
    let largest = Packet::Publish(largest);
    assert_eq!(
        crate::packet::encoded_len(&largest, ProtocolVersion::V5),
        Ok(total)
    );
    let over = with_property(at_max + 1);
    assert!(matches!(
        crate::packet::publish_len(&over, ProtocolVersion::V5),
        Err(EncodeError::PacketTooLarge(_))
    ));
    assert!(matches!(
        crate::packet::encoded_len(&Packet::Publish(over), ProtocolVersion::V5),
        Err(EncodeError::PacketTooLarge(_))
    ));
}

/// A string property MQTT does not allow (it holds U+0000) is refused
/// with the property's own name in the error.
#[test]
fn a_string_property_that_cannot_be_sent_is_named() {
    let bad = || crate::packet::ByteString::from("a\u{0}b");
    // Packets whose properties reach the property encoder unchecked (a
    // PUBLISH checks its strings, with its own names, before).
    let mut will = LastWill::new("w", "x");
    will.properties.response_topic = Some(bad());
    let connect = Connect {
        protocol: ProtocolVersion::V5,
        client_id: "c".into(),
        will: Some(will),
        ..Connect::default()
    };
    let connack = |set: fn(&mut crate::packet::ConnAckProperties, crate::packet::ByteString)| {
        let mut connack = crate::packet::ConnAck::default();
        set(&mut connack.properties, bad());
        Packet::ConnAck(connack)
    };
    let cases = [
        (Packet::Connect(Box::new(connect)), "Response Topic"),
        (
            connack(|p, s| p.user_properties.push((s, "v".into()))),
            "User Property",
        ),
        (
            connack(|p, s| p.assigned_client_identifier = Some(s)),
            "Assigned Client Identifier",
        ),
        (
            connack(|p, s| p.response_information = Some(s)),
            "Response Information",
        ),
        (connack(|p, s| p.server_reference = Some(s)), "Server Reference"),
    ];
    for (packet, name) in cases {
        let mut buf = bytes::BytesMut::new();
        let err = crate::packet::encode(&packet, ProtocolVersion::V5, &mut buf).expect_err("refused");
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
}

/// Authentication Data without an Authentication Method is refused on the
/// way out, as the receiver would call it a Protocol Error.
#[test]
fn authentication_data_without_a_method_is_not_sent() {
    let mut connect = Connect {
        protocol: ProtocolVersion::V5,
        client_id: "c".into(),
        ..Connect::default()
    };
    connect.properties.authentication_data = Some(Bytes::from_static(b"proof"));
    let mut buf = bytes::BytesMut::new();
    let refused = crate::packet::encode(
        &Packet::Connect(Box::new(connect.clone())),
        ProtocolVersion::V5,
        &mut buf,
    );
    assert!(matches!(refused, Err(EncodeError::Invalid { .. })), "{refused:?}");
    connect.properties.authentication_method = Some("SCRAM-SHA-256".into());
    encode_vec(&Packet::Connect(Box::new(connect)), ProtocolVersion::V5);
}

/// A Binary Data field (here Correlation Data) of 65,535 bytes, its
/// length prefix's maximum, is written; one byte more is refused.
#[test]
fn binary_data_of_exactly_its_maximum_is_written_and_one_more_is_not() {
    let with_correlation = |len: usize| {
        let mut publish = Publish::new("t", "x");
        publish.properties.correlation_data = Some(Bytes::from(vec![7u8; len]));
        Packet::Publish(publish)
    };
    let largest = with_correlation(usize::from(u16::MAX));
    let bytes = encode_vec(&largest, ProtocolVersion::V5);
    assert_eq!(decode_all(&bytes, ProtocolVersion::V5), Ok(Some(largest)));
    let mut buf = bytes::BytesMut::new();
    let over = crate::packet::encode(
        &with_correlation(usize::from(u16::MAX) + 1),
        ProtocolVersion::V5,
        &mut buf,
    );
    assert_eq!(over, Err(EncodeError::FieldTooLong(usize::from(u16::MAX) + 1)));
}

/// A Subscription Identifier of 268,435,455, the largest a Variable Byte
/// Integer holds, is written; one more is refused.
#[test]
fn a_subscription_identifier_of_exactly_the_varint_maximum_is_written_and_one_more_is_not() {
    let subscribe = |identifier: u32| {
        Packet::Subscribe(crate::packet::Subscribe {
            packet_id: crate::packet::PacketId::new(1).expect("nonzero"),
            filters: vec![(
                "a".into(),
                crate::packet::SubscriptionOptions::new(crate::QoS::AtLeastOnce),
            )],
            properties: crate::packet::SubscribeProperties {
                subscription_identifier: Some(identifier),
                user_properties: Vec::new(),
            },
        })
    };
    let largest = subscribe(varint::MAX);
    let bytes = encode_vec(&largest, ProtocolVersion::V5);
    assert_eq!(decode_all(&bytes, ProtocolVersion::V5), Ok(Some(largest)));
    let mut buf = bytes::BytesMut::new();
    let over = crate::packet::encode(&subscribe(varint::MAX + 1), ProtocolVersion::V5, &mut buf);
    assert!(matches!(over, Err(EncodeError::Invalid { .. })), "{over:?}");
}
