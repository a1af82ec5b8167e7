//! One row per malformation the specification names: the bytes, the
//! version they are read as, and the error they must produce.

use super::decode_all;
use crate::packet::{decode, DecodeError, ProtocolVersion};

use DecodeError as E;
use ProtocolVersion::{V311, V5};

type Row = (&'static str, &'static [u8], ProtocolVersion, DecodeError);

#[rustfmt::skip]
fn table() -> Vec<Row> {
    vec![
        // Variable Byte Integers
        ("remaining length over 4 bytes", b"\x30\xFF\xFF\xFF\xFF\x01", V5, E::MalformedVarInt),
        ("remaining length not minimal", b"\xC0\x80\x00", V5, E::MalformedVarInt),
        ("property length not minimal", b"\x40\x05\x00\x01\x00\x80\x00", V5, E::MalformedVarInt),
        ("subscription identifier over 4 bytes", b"\x30\x0A\x00\x01a\x06\x0B\xFF\xFF\xFF\xFF\x01", V5, E::MalformedVarInt),
        // Packet types and fixed header flags
        ("packet type 0", b"\x00\x00", V5, E::UnknownPacketType(0)),
        ("AUTH in 3.1.1", b"\xF0\x00", V311, E::NotInVersion("AUTH")),
        ("SUBSCRIBE flags 0", b"\x80\x08\x00\x01\x00\x03a/b\x01", V311, E::ReservedFlags { packet: "SUBSCRIBE", flags: 0 }),
        ("UNSUBSCRIBE flags 3", b"\xA3\x07\x00\x01\x00\x03a/b", V311, E::ReservedFlags { packet: "UNSUBSCRIBE", flags: 3 }),
        ("PUBREL flags 0", b"\x60\x02\x00\x01", V5, E::ReservedFlags { packet: "PUBREL", flags: 0 }),
        ("PUBACK flags 2", b"\x42\x02\x00\x01", V5, E::ReservedFlags { packet: "PUBACK", flags: 2 }),
        ("PINGREQ flags 1", b"\xC1\x00", V311, E::ReservedFlags { packet: "PINGREQ", flags: 1 }),
        ("AUTH flags 1", b"\xF1\x00", V5, E::ReservedFlags { packet: "AUTH", flags: 1 }),
        ("PUBLISH QoS 3", b"\x36\x05\x00\x01a\x00\x01", V311, E::InvalidQoS(3)),
        // Strings
        ("invalid UTF-8 in topic", b"\x30\x03\x00\x01\xFF", V311, E::InvalidUtf8),
        ("UTF-16 surrogate in topic", b"\x30\x05\x00\x03\xED\xA0\x80", V311, E::InvalidUtf8),
        ("U+0000 in topic", b"\x30\x05\x00\x03a\x00b", V311, E::NullCharacter),
        ("U+0000 in client id", b"\x10\x0E\x00\x04MQTT\x04\x02\x00\x3C\x00\x02a\x00", V311, E::NullCharacter),
        ("wildcard in PUBLISH topic", b"\x30\x05\x00\x03a/#", V311, E::WildcardInTopic),
        ("plus in PUBLISH topic", b"\x30\x05\x00\x03a/+", V5, E::WildcardInTopic),
        ("empty topic without alias", b"\x30\x03\x00\x00\x00", V5, E::EmptyTopic),
        ("empty topic in 3.1.1", b"\x30\x02\x00\x00", V311, E::EmptyTopic),
        // Packet identifiers
        ("PUBLISH QoS 1 id 0", b"\x32\x05\x00\x01a\x00\x00", V311, E::ZeroPacketId("PUBLISH")),
        ("PUBACK id 0", b"\x40\x02\x00\x00", V5, E::ZeroPacketId("PUBACK")),
        ("SUBSCRIBE id 0", b"\x82\x06\x00\x00\x00\x01a\x00", V311, E::ZeroPacketId("SUBSCRIBE")),
        ("SUBACK id 0", b"\x90\x03\x00\x00\x00", V311, E::ZeroPacketId("SUBACK")),
        ("PUBLISH QoS 1 without id", b"\x32\x03\x00\x01a", V311, E::LengthMismatch("PUBLISH")),
        // Lengths
        ("truncated topic", b"\x30\x03\x00\x05a", V311, E::LengthMismatch("PUBLISH")),
        ("PUBACK trailing bytes in 3.1.1", b"\x40\x03\x00\x01\x00", V311, E::LengthMismatch("PUBACK")),
        ("PINGREQ with body", b"\xC0\x01\x00", V311, E::LengthMismatch("PINGREQ")),
        ("DISCONNECT 3.1.1 with body", b"\xE0\x01\x00", V311, E::LengthMismatch("DISCONNECT")),
        ("property length overruns", b"\x40\x06\x00\x01\x00\x05\x1F\x00", V5, E::LengthMismatch("PUBACK")),
        ("property value overruns its list", b"\x40\x08\x00\x01\x00\x02\x1F\x00\x01a", V5, E::LengthMismatch("PUBACK")),
        ("CONNACK too short", b"\x20\x01\x00", V311, E::LengthMismatch("CONNACK")),
        ("CONNACK trailing byte in 3.1.1", b"\x20\x03\x00\x00\x00", V311, E::LengthMismatch("CONNACK")),
        ("SUBACK without codes", b"\x90\x02\x00\x01", V311, E::LengthMismatch("SUBACK")),
        ("UNSUBACK v5 without codes", b"\xB0\x03\x00\x01\x00", V5, E::LengthMismatch("UNSUBACK")),
        ("SUBSCRIBE filter without options", b"\x82\x05\x00\x01\x00\x01a", V311, E::LengthMismatch("SUBSCRIBE")),
        // Properties
        ("duplicate Message Expiry", b"\x30\x0E\x00\x01a\x0A\x02\x00\x00\x00\x01\x02\x00\x00\x00\x01", V5, E::DuplicateProperty(0x02)),
        ("duplicate Reason String", b"\x40\x0A\x00\x01\x80\x06\x1F\x00\x00\x1F\x00\x00", V5, E::DuplicateProperty(0x1F)),
        ("duplicate Subscription Identifier in SUBSCRIBE", b"\x82\x0B\x00\x01\x04\x0B\x01\x0B\x02\x00\x01a\x00", V5, E::DuplicateProperty(0x0B)),
        ("Topic Alias in PUBACK", b"\x40\x07\x00\x01\x00\x03\x23\x00\x01", V5, E::PropertyNotAllowed { property: 0x23, packet: "PUBACK" }),
        ("Session Expiry in PUBLISH", b"\x30\x09\x00\x01a\x05\x11\x00\x00\x00\x01", V5, E::PropertyNotAllowed { property: 0x11, packet: "PUBLISH" }),
        ("Will Delay in CONNECT properties", b"\x10\x13\x00\x04MQTT\x05\x02\x00\x3C\x05\x18\x00\x00\x00\x01\x00\x01a", V5, E::PropertyNotAllowed { property: 0x18, packet: "CONNECT" }),
        ("unknown property", b"\x40\x06\x00\x01\x00\x02\x7F\x00", V5, E::UnknownProperty(0x7F)),
        ("Receive Maximum 0", b"\x20\x06\x00\x00\x03\x21\x00\x00", V5, E::InvalidPropertyValue(0x21)),
        ("Maximum Packet Size 0", b"\x20\x08\x00\x00\x05\x27\x00\x00\x00\x00", V5, E::InvalidPropertyValue(0x27)),
        ("Maximum QoS 2", b"\x20\x05\x00\x00\x02\x24\x02", V5, E::InvalidPropertyValue(0x24)),
        ("Retain Available 2", b"\x20\x05\x00\x00\x02\x25\x02", V5, E::InvalidPropertyValue(0x25)),
        ("Payload Format Indicator 2", b"\x30\x06\x00\x01a\x02\x01\x02", V5, E::InvalidPropertyValue(0x01)),
        ("Topic Alias 0", b"\x30\x07\x00\x01a\x03\x23\x00\x00", V5, E::InvalidPropertyValue(0x23)),
        ("Subscription Identifier 0", b"\x30\x06\x00\x01a\x02\x0B\x00", V5, E::InvalidPropertyValue(0x0B)),
        ("wildcard in Response Topic", b"\x30\x09\x00\x01a\x05\x08\x00\x02a#", V5, E::InvalidPropertyValue(0x08)),
        ("Authentication Data without Method", b"\xF0\x06\x18\x04\x16\x00\x01\x01", V5, E::InvalidPropertyValue(0x16)),
        // Reason codes
        ("PUBACK with a PUBREL code", b"\x40\x03\x00\x01\x92", V5, E::InvalidReasonCode { code: 0x92, packet: "PUBACK" }),
        ("PUBCOMP with 0x80", b"\x70\x03\x00\x01\x80", V5, E::InvalidReasonCode { code: 0x80, packet: "PUBCOMP" }),
        ("CONNACK 0x04", b"\x20\x03\x00\x04\x00", V5, E::InvalidReasonCode { code: 0x04, packet: "CONNACK" }),
        ("CONNACK 3.1.1 return code 6", b"\x20\x02\x00\x06", V311, E::InvalidReasonCode { code: 0x06, packet: "CONNACK" }),
        ("SUBACK 3.1.1 code 0x87", b"\x90\x03\x00\x01\x87", V311, E::InvalidReasonCode { code: 0x87, packet: "SUBACK" }),
        ("UNSUBACK 0x01", b"\xB0\x04\x00\x01\x00\x01", V5, E::InvalidReasonCode { code: 0x01, packet: "UNSUBACK" }),
        ("DISCONNECT 0x18", b"\xE0\x01\x18", V5, E::InvalidReasonCode { code: 0x18, packet: "DISCONNECT" }),
        ("AUTH 0x87", b"\xF0\x01\x87", V5, E::InvalidReasonCode { code: 0x87, packet: "AUTH" }),
        ("undefined code 0x03", b"\x50\x03\x00\x01\x03", V5, E::InvalidReasonCode { code: 0x03, packet: "PUBREC" }),
        // CONNACK flags
        ("CONNACK reserved flag bits", b"\x20\x02\x02\x00", V311, E::ReservedBits { field: "CONNACK acknowledge flags", value: 2 }),
        // Subscriptions
        ("empty SUBSCRIBE", b"\x82\x02\x00\x01", V311, E::NoTopicFilters("SUBSCRIBE")),
        ("empty SUBSCRIBE v5", b"\x82\x03\x00\x01\x00", V5, E::NoTopicFilters("SUBSCRIBE")),
        ("empty UNSUBSCRIBE", b"\xA2\x02\x00\x01", V311, E::NoTopicFilters("UNSUBSCRIBE")),
        ("invalid filter", b"\x82\x07\x00\x01\x00\x02a#\x00", V311, E::InvalidTopicFilter),
        ("invalid UNSUBSCRIBE filter", b"\xA2\x07\x00\x01\x00\x03#/a", V311, E::InvalidTopicFilter),
        ("Retain Handling 3", b"\x82\x07\x00\x01\x00\x00\x01a\x30", V5, E::InvalidSubscriptionOptions("Retain Handling 3")),
        ("reserved subscription option bits", b"\x82\x07\x00\x01\x00\x00\x01a\x40", V5, E::ReservedBits { field: "subscription options", value: 0x40 }),
        ("3.1.1 requested QoS reserved bits", b"\x82\x06\x00\x01\x00\x01a\x04", V311, E::ReservedBits { field: "subscription options", value: 0x04 }),
        ("subscription QoS 3", b"\x82\x06\x00\x01\x00\x01a\x03", V311, E::InvalidQoS(3)),
        ("No Local on a shared subscription", b"\x82\x10\x00\x01\x00\x00\x0A$share/g/a\x04", V5, E::InvalidSubscriptionOptions("No Local on a Shared Subscription")),
        // CONNECT
        ("protocol name", b"\x10\x10\x00\x04MQTX\x04\x02\x00\x3C\x00\x04test", V311, E::InvalidConnect("protocol name is not MQTT")),
        ("protocol level 3", b"\x10\x12\x00\x06MQIsdp\x03\x02\x00\x3C\x00\x04test", V311, E::InvalidConnect("protocol name is not MQTT")),
        ("protocol level 6", b"\x10\x10\x00\x04MQTT\x06\x02\x00\x3C\x00\x04test", V5, E::InvalidConnect("unsupported protocol level")),
        ("CONNECT reserved flag", b"\x10\x10\x00\x04MQTT\x04\x03\x00\x3C\x00\x04test", V311, E::InvalidConnect("reserved flag is set")),
        ("will QoS without will", b"\x10\x10\x00\x04MQTT\x04\x0A\x00\x3C\x00\x04test", V311, E::InvalidConnect("will QoS or retain without the will flag")),
        ("will retain without will", b"\x10\x10\x00\x04MQTT\x04\x22\x00\x3C\x00\x04test", V311, E::InvalidConnect("will QoS or retain without the will flag")),
        ("will QoS 3", b"\x10\x10\x00\x04MQTT\x04\x1E\x00\x3C\x00\x04test", V311, E::InvalidQoS(3)),
        ("password without user name in 3.1.1", b"\x10\x13\x00\x04MQTT\x04\x42\x00\x3C\x00\x04test\x00\x01p", V311, E::InvalidConnect("password without a user name")),
        ("will flag but no will fields", b"\x10\x10\x00\x04MQTT\x04\x06\x00\x3C\x00\x04test", V311, E::LengthMismatch("CONNECT")),
        ("user name flag but no user name", b"\x10\x10\x00\x04MQTT\x04\x82\x00\x3C\x00\x04test", V311, E::LengthMismatch("CONNECT")),
        ("wildcard will topic", b"\x10\x15\x00\x04MQTT\x04\x06\x00\x3C\x00\x04test\x00\x01#\x00\x00", V311, E::WildcardInTopic),
    ]
}

#[test]
fn every_malformation_is_an_error_value() {
    for (name, bytes, version, expected) in table() {
        assert_eq!(decode_all(bytes, version), Err(expected), "{name}: {bytes:02X?}");
    }
}

#[test]
fn too_large_is_rejected_before_the_body_arrives() {
    // Only the fixed header of a 1,000,003-byte PUBLISH is here.
    let mut buf = bytes::BytesMut::from(&b"\x30\xC0\x84\x3D"[..]);
    assert_eq!(
        decode(&mut buf, V5, 1024),
        Err(E::PacketTooLarge {
            size: 1_000_004,
            max: 1024
        })
    );
    // The limit counts the fixed header: a 10-byte packet fits 10, not 9.
    let publish = b"\x30\x08\x00\x01a12345";
    let mut buf = bytes::BytesMut::from(&publish[..]);
    assert!(matches!(
        decode(&mut buf, V311, 9),
        Err(E::PacketTooLarge { size: 10, max: 9 })
    ));
    let mut buf = bytes::BytesMut::from(&publish[..]);
    assert!(matches!(decode(&mut buf, V311, 10), Ok(Some(_))));
}

#[test]
fn header_errors_need_only_the_first_byte() {
    assert_eq!(decode_all(b"\x00", V5), Err(E::UnknownPacketType(0)));
    assert_eq!(decode_all(b"\xF0", V311), Err(E::NotInVersion("AUTH")));
    assert_eq!(decode_all(b"\x36", V5), Err(E::InvalidQoS(3)));
}
