//! Codec checks for MQTT 5.0 normative statements (see CONFORMANCE.md at
//! the repository root): what the client writes, and what it refuses to
//! read. Each test names the statements it checks.

use std::num::NonZeroU16;

use bytes::{Bytes, BytesMut};

use super::{decode_all, encode_vec};
use crate::packet::*;

use ProtocolVersion::{V311, V5};

fn id(n: u16) -> PacketId {
    NonZeroU16::new(n).unwrap()
}

/// `bytes` with the one occurrence of `marker` replaced by `with` (same length).
fn corrupt(bytes: &[u8], marker: &[u8], with: &[u8]) -> Vec<u8> {
    assert_eq!(marker.len(), with.len());
    let at: Vec<usize> = bytes
        .windows(marker.len())
        .enumerate()
        .filter(|(_, window)| *window == marker)
        .map(|(at, _)| at)
        .collect();
    assert_eq!(at.len(), 1, "{marker:?} once in {bytes:02X?}");
    let mut out = bytes.to_vec();
    out[at[0]..at[0] + with.len()].copy_from_slice(with);
    out
}

const MARK: &str = "XYZ";

/// Every packet a server sends, each with one string field set to
/// [`MARK`], named after the field.
fn server_packets_with_a_marked_string() -> Vec<(&'static str, Packet)> {
    let mark = || ByteString::from_static(MARK);
    let mut packets: Vec<(&'static str, Packet)> =
        vec![("PUBLISH topic", Packet::Publish(Publish::new(MARK, "x")))];
    let publish = |set: fn(&mut PublishProperties, ByteString)| {
        let mut publish = Publish::new("t", "x");
        set(&mut publish.properties, mark());
        Packet::Publish(publish)
    };
    packets.push(("PUBLISH Content Type", publish(|p, s| p.content_type = Some(s))));
    packets.push((
        "PUBLISH Response Topic",
        publish(|p, s| p.response_topic = Some(s)),
    ));
    packets.push((
        "PUBLISH User Property name",
        publish(|p, s| p.user_properties.push((s, "v".into()))),
    ));
    packets.push((
        "PUBLISH User Property value",
        publish(|p, s| p.user_properties.push(("k".into(), s))),
    ));
    let mut puback = PubAck::new(id(1));
    puback.reason_code = ReasonCode::UnspecifiedError;
    puback.properties.reason_string = Some(mark());
    packets.push(("PUBACK Reason String", Packet::PubAck(puback)));
    let mut pubrel = PubRel::new(id(1));
    pubrel.properties.user_properties.push(("k".into(), mark()));
    packets.push(("PUBREL User Property", Packet::PubRel(pubrel)));
    let connack = |set: fn(&mut ConnAckProperties, ByteString)| {
        let mut connack = ConnAck::default();
        set(&mut connack.properties, mark());
        Packet::ConnAck(connack)
    };
    packets.push((
        "CONNACK Assigned Client Identifier",
        connack(|p, s| p.assigned_client_identifier = Some(s)),
    ));
    packets.push(("CONNACK Reason String", connack(|p, s| p.reason_string = Some(s))));
    packets.push((
        "CONNACK Response Information",
        connack(|p, s| p.response_information = Some(s)),
    ));
    packets.push((
        "CONNACK Server Reference",
        connack(|p, s| p.server_reference = Some(s)),
    ));
    packets.push((
        "CONNACK Authentication Method",
        connack(|p, s| p.authentication_method = Some(s)),
    ));
    let properties = AckProperties {
        reason_string: Some(mark()),
        ..AckProperties::default()
    };
    packets.push((
        "SUBACK Reason String",
        Packet::SubAck(SubAck {
            packet_id: id(1),
            reason_codes: vec![ReasonCode::GrantedQoS1],
            properties: properties.clone().into(),
        }),
    ));
    packets.push((
        "UNSUBACK Reason String",
        Packet::UnsubAck(UnsubAck {
            packet_id: id(1),
            reason_codes: vec![ReasonCode::Success],
            properties: properties.into(),
        }),
    ));
    let mut disconnect = Disconnect::default();
    disconnect.properties.reason_string = Some(mark());
    packets.push(("DISCONNECT Reason String", Packet::Disconnect(disconnect)));
    let mut disconnect = Disconnect {
        reason_code: ReasonCode::UseAnotherServer,
        ..Disconnect::default()
    };
    disconnect.properties.server_reference = Some(mark());
    packets.push(("DISCONNECT Server Reference", Packet::Disconnect(disconnect)));
    let mut auth = Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        ..Auth::default()
    };
    auth.properties.authentication_method = Some(mark());
    packets.push(("AUTH Authentication Method", Packet::Auth(auth)));
    let mut auth = Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        ..Auth::default()
    };
    auth.properties.authentication_method = Some("m".into());
    auth.properties.reason_string = Some(mark());
    packets.push(("AUTH Reason String", Packet::Auth(auth)));
    packets
}

/// [MQTT-1.5.4-1], [MQTT-3.3.2-13], [MQTT-3.3.2-19]: every UTF-8 string the
/// client reads, in every packet a server sends, must be well-formed
/// UTF-8 without surrogate code points; anything else is malformed.
#[test]
fn every_string_the_client_reads_must_be_well_formed_utf8() {
    for (field, packet) in server_packets_with_a_marked_string() {
        let bytes = encode_vec(&packet, V5);
        assert_eq!(decode_all(&bytes, V5), Ok(Some(packet)), "{field} as sent");
        // U+D800 encoded as UTF-8 would be: a surrogate, not a character.
        let surrogate = corrupt(&bytes, MARK.as_bytes(), b"\xED\xA0\x80");
        assert_eq!(
            decode_all(&surrogate, V5),
            Err(DecodeError::InvalidUtf8),
            "{field}"
        );
        let invalid = corrupt(&bytes, MARK.as_bytes(), b"a\xFFb");
        assert_eq!(decode_all(&invalid, V5), Err(DecodeError::InvalidUtf8), "{field}");
        let overlong = corrupt(&bytes, MARK.as_bytes(), b"\xC0\xAFa");
        assert_eq!(
            decode_all(&overlong, V5),
            Err(DecodeError::InvalidUtf8),
            "{field}"
        );
    }
}

/// [MQTT-1.5.4-2]: U+0000 in any string the client reads is malformed.
#[test]
fn every_string_the_client_reads_must_not_hold_u0000() {
    for (field, packet) in server_packets_with_a_marked_string() {
        let bytes = encode_vec(&packet, V5);
        let null = corrupt(&bytes, MARK.as_bytes(), b"a\0b");
        assert_eq!(decode_all(&null, V5), Err(DecodeError::NullCharacter), "{field}");
    }
}

/// [MQTT-1.5.7-1]: both strings of a User Property pair are UTF-8
/// Encoded Strings, checked as such.
#[test]
fn both_strings_of_a_user_property_are_checked() {
    let mut puback = PubAck::new(id(1));
    puback.reason_code = ReasonCode::NoMatchingSubscribers;
    puback
        .properties
        .user_properties
        .push(("NAM".into(), "VAL".into()));
    let bytes = encode_vec(&Packet::PubAck(puback), V5);
    for marker in [b"NAM", b"VAL"] {
        for (bad, error) in [
            (b"\xED\xA0\x80", DecodeError::InvalidUtf8),
            (b"a\0b", DecodeError::NullCharacter),
        ] {
            let broken = corrupt(&bytes, marker, bad);
            assert_eq!(decode_all(&broken, V5), Err(error), "{marker:?} -> {bad:?}");
        }
    }
}

/// [MQTT-1.5.4-3]: a BOM (0xEF 0xBB 0xBF) is U+FEFF wherever it appears
/// and is never skipped or stripped, read or written.
#[test]
fn a_byte_order_mark_is_kept_wherever_it_appears() {
    let bom = "\u{FEFF}";
    let mut publish = Publish::new(format!("{bom}a/{bom}"), "x");
    publish.properties.content_type = Some(bom.into());
    publish.properties.response_topic = Some(format!("{bom}r").into());
    publish
        .properties
        .user_properties
        .push((bom.into(), format!("v{bom}").into()));
    let bytes = encode_vec(&Packet::Publish(publish.clone()), V5);
    assert!(bytes.starts_with(b"\x30"));
    assert_eq!(
        &bytes[2..7],
        b"\x00\x08\xEF\xBB\xBF",
        "the topic starts with the BOM"
    );
    let Ok(Some(Packet::Publish(read))) = decode_all(&bytes, V5) else {
        panic!("{bytes:02X?}")
    };
    assert_eq!(read, publish);
    assert!(read.topic.starts_with(bom) && read.topic.ends_with(bom));
    assert_eq!(read.properties.content_type.as_deref(), Some(bom));

    let mut connack = ConnAck::default();
    connack.properties.assigned_client_identifier = Some(format!("{bom}id").into());
    let bytes = encode_vec(&Packet::ConnAck(connack.clone()), V5);
    assert_eq!(decode_all(&bytes, V5), Ok(Some(Packet::ConnAck(connack))));
}

/// Every packet a client sends, for both versions where it exists.
fn client_packets(version: ProtocolVersion) -> Vec<Packet> {
    let mut packets = vec![
        Packet::Connect(Box::new(Connect {
            protocol: version,
            client_id: "c".into(),
            ..Connect::default()
        })),
        Packet::PubAck(PubAck::new(id(1))),
        Packet::PubRec(PubRec::new(id(1))),
        Packet::PubRel(PubRel::new(id(1))),
        Packet::PubComp(PubComp::new(id(1))),
        Packet::Subscribe(Subscribe {
            packet_id: id(1),
            filters: vec![("a/#".into(), SubscriptionOptions::new(QoS::ExactlyOnce))],
            properties: SubscribeProperties::default(),
        }),
        Packet::Unsubscribe(Unsubscribe {
            packet_id: id(1),
            filters: vec!["a/#".into()],
            properties: UnsubscribeProperties::default(),
        }),
        Packet::PingReq,
        Packet::Disconnect(Disconnect::default()),
    ];
    if version == V5 {
        packets.push(Packet::Auth(Auth {
            reason_code: ReasonCode::ReAuthenticate,
            properties: AuthProperties {
                authentication_method: Some("m".into()),
                ..AuthProperties::default()
            }
            .into(),
        }));
    }
    packets
}

/// [MQTT-2.1.3-1], [MQTT-3.6.1-1], [MQTT-3.8.1-1], [MQTT-3.10.1-1],
/// [MQTT-3.15.1-1], [MQTT-3.3.1-4]: the fixed header flags of every packet
/// the client writes are the values the specification lists (0010 for
/// PUBREL, SUBSCRIBE and UNSUBSCRIBE, 0000 for the others), and a
/// PUBLISH never has both QoS bits set.
#[test]
fn every_packet_the_client_sends_has_the_listed_fixed_header_flags() {
    for version in [V311, V5] {
        for packet in client_packets(version) {
            let expected = match packet {
                Packet::PubRel(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => 0b0010,
                _ => 0b0000,
            };
            let first = encode_vec(&packet, version)[0];
            assert_eq!(first & 0x0F, expected, "{} on {version:?}", packet.name());
        }
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            for (dup, retain) in [(false, false), (true, true), (false, true)] {
                let mut publish = Publish::new("t", "x").qos(qos).retain(retain);
                if qos != QoS::AtMostOnce {
                    publish = publish.packet_id(1);
                    publish.dup = dup;
                }
                let first = encode_vec(&Packet::Publish(publish.clone()), version)[0];
                assert_eq!(first >> 4, 3);
                assert_ne!((first >> 1) & 0b11, 0b11, "never QoS 3");
                assert_eq!((first >> 1) & 0b11, qos as u8);
                assert_eq!(first & 1 != 0, retain);
                assert_eq!(first & 0b1000 != 0, publish.dup);
            }
        }
    }
}

/// [MQTT-2.1.3-1], [MQTT-3.14.1-1], [MQTT-3.15.1-1]: reserved fixed
/// header bits in a packet the server sends are checked: any other value
/// is a Malformed Packet, answered (on MQTT 5) with DISCONNECT 0x81.
#[test]
fn reserved_fixed_header_flags_the_client_reads_are_checked() {
    // Each server packet with its correct first byte and a body that
    // decodes after it.
    let packets: [(u8, &[u8]); 10] = [
        (0x20, b"\x03\x00\x00\x00"),
        (0x40, b"\x02\x00\x01"),
        (0x50, b"\x02\x00\x01"),
        (0x62, b"\x02\x00\x01"),
        (0x70, b"\x02\x00\x01"),
        (0x90, b"\x04\x00\x01\x00\x01"),
        (0xB0, b"\x04\x00\x01\x00\x00"),
        (0xD0, b"\x00"),
        (0xE0, b"\x00"),
        (0xF0, b"\x00"),
    ];
    for (first, body) in packets {
        let right = [&[first][..], body].concat();
        assert!(matches!(decode_all(&right, V5), Ok(Some(_))), "{right:02X?}");
        for flags in 0..16u8 {
            if flags == first & 0x0F {
                continue;
            }
            let wrong = [&[(first & 0xF0) | flags][..], body].concat();
            let error = decode_all(&wrong, V5).unwrap_err();
            assert!(
                matches!(error, DecodeError::ReservedFlags { .. }),
                "{wrong:02X?}: {error:?}"
            );
            assert_eq!(error.reason_code(), ReasonCode::MalformedPacket);
        }
    }
}

/// The flags byte of an encoded CONNECT.
fn connect_flags(connect: &Connect) -> (u8, Vec<u8>) {
    let bytes = encode_vec(&Packet::Connect(Box::new(connect.clone())), connect.protocol);
    // Fixed header (these are all shorter than 128 bytes), "MQTT", level.
    assert!(bytes[1] < 0x80);
    assert_eq!(&bytes[2..8], b"\x00\x04MQTT");
    (bytes[9], bytes)
}

/// Every combination of will (none, QoS 0/1/2, retained or not), user
/// name and password, for both versions (3.1.1 has no password alone).
fn connects() -> Vec<Connect> {
    let mut out = Vec::new();
    let wills = [
        None,
        Some(LastWill::new("w", "bye")),
        Some(LastWill::new("w", "bye").qos(QoS::AtLeastOnce)),
        Some(LastWill::new("w", "bye").qos(QoS::ExactlyOnce).retain(true)),
        Some(LastWill::new("w", "bye").retain(true)),
    ];
    for protocol in [V311, V5] {
        for will in &wills {
            for (username, password) in [(false, false), (true, false), (true, true), (false, true)] {
                if protocol == V311 && password && !username {
                    continue;
                }
                for clean_start in [false, true] {
                    out.push(Connect {
                        protocol,
                        clean_start,
                        keep_alive: 30,
                        client_id: "c".into(),
                        will: will.clone(),
                        username: username.then(|| "u".into()),
                        password: password.then(|| Bytes::from_static(b"p")),
                        properties: ConnectProperties::default(),
                    });
                }
            }
        }
    }
    out
}

/// [MQTT-3.1.2-3]: the reserved bit of the CONNECT flags is always 0.
#[test]
fn connect_reserved_flag_is_always_zero() {
    for connect in connects() {
        let (flags, _) = connect_flags(&connect);
        assert_eq!(flags & 1, 0, "{connect:?}");
        assert_eq!(flags & 0b10 != 0, connect.clean_start);
    }
}

/// [MQTT-3.1.2-9], [MQTT-3.1.2-11], [MQTT-3.1.2-12], [MQTT-3.1.2-13]:
/// the Will Flag says whether Will Properties, Topic and Payload follow;
/// without a will, Will QoS and Will Retain are 0; with one, Will QoS is
/// its 0, 1 or 2.
#[test]
fn will_flags_follow_the_will() {
    for connect in connects() {
        let (flags, bytes) = connect_flags(&connect);
        let will_qos = (flags >> 3) & 0b11;
        match &connect.will {
            None => {
                assert_eq!(flags & 0b0000_0100, 0);
                assert_eq!(will_qos, 0, "Will QoS 0 without a will");
                assert_eq!(flags & 0b0010_0000, 0, "Will Retain 0 without a will");
            }
            Some(will) => {
                assert_ne!(flags & 0b0000_0100, 0);
                assert_eq!(will_qos, will.qos as u8);
                assert_eq!(flags & 0b0010_0000 != 0, will.retain);
                // Will Properties (MQTT 5), Will Topic, Will Payload follow the client id.
                let fields: &[u8] = match connect.protocol {
                    V5 => b"\x00\x01c\x00\x00\x01w\x00\x03bye",
                    V311 => b"\x00\x01c\x00\x01w\x00\x03bye",
                };
                assert!(bytes.windows(fields.len()).any(|w| w == fields), "{bytes:02X?}");
            }
        }
        // The decoder reads exactly the fields the flags announce, and
        // nothing may be left over.
        assert_eq!(
            decode_all(&bytes, connect.protocol),
            Ok(Some(Packet::Connect(Box::new(connect))))
        );
    }
}

/// [MQTT-3.1.2-16], [MQTT-3.1.2-17], [MQTT-3.1.2-18], [MQTT-3.1.2-19]:
/// a User Name or Password is in the payload exactly when its flag is set.
#[test]
fn user_name_and_password_are_present_exactly_when_flagged() {
    for connect in connects() {
        let (flags, bytes) = connect_flags(&connect);
        assert_eq!(flags & 0x80 != 0, connect.username.is_some(), "{connect:?}");
        assert_eq!(flags & 0x40 != 0, connect.password.is_some(), "{connect:?}");
        let tail: Vec<u8> = [
            connect.username.as_ref().map_or(&b""[..], |_| b"\x00\x01u"),
            connect.password.as_ref().map_or(&b""[..], |_| b"\x00\x01p"),
        ]
        .concat();
        assert!(bytes.ends_with(&tail), "{bytes:02X?}");
        let without = bytes.len() - tail.len();
        let payload_end: &[u8] = if connect.will.is_some() {
            b"bye"
        } else {
            b"\x00\x01c"
        };
        assert!(
            bytes[..without].ends_with(payload_end),
            "nothing else: {bytes:02X?}"
        );
    }
}

/// [MQTT-3.1.3-1], [MQTT-3.1.3-3]: the payload is Client Identifier, Will
/// Properties, Will Topic, Will Payload, User Name, Password, in that
/// order; the Client Identifier is there and first even when empty.
#[test]
fn connect_payload_fields_come_in_order_starting_with_the_client_id() {
    let mut connect = Connect {
        protocol: V5,
        client_id: "cid".into(),
        will: Some(LastWill::new("wt", "wp")),
        username: Some("un".into()),
        password: Some(Bytes::from_static(b"pw")),
        ..Connect::default()
    };
    connect.will.as_mut().unwrap().properties.will_delay_interval = Some(7);
    let bytes = encode_vec(&Packet::Connect(Box::new(connect.clone())), V5);
    // Variable header: name, level, flags, keep alive, no properties.
    let header = b"\x00\x04MQTT\x05\xC4\x00\x00\x00";
    assert_eq!(&bytes[2..2 + header.len()], header);
    let payload = b"\x00\x03cid\x05\x18\x00\x00\x00\x07\x00\x02wt\x00\x02wp\x00\x02un\x00\x02pw";
    assert_eq!(&bytes[2 + header.len()..], payload);

    connect.client_id = ByteString::new();
    connect.will = None;
    connect.username = None;
    connect.password = None;
    let bytes = encode_vec(&Packet::Connect(Box::new(connect)), V5);
    assert_eq!(&bytes[2..], b"\x00\x04MQTT\x05\x00\x00\x00\x00\x00\x00");
}

/// [MQTT-3.1.3-11]: the Will Topic is a UTF-8 Encoded String, and a topic
/// name: the encoder refuses one that is empty or holds a wildcard or U+0000.
#[test]
fn a_will_topic_must_be_a_valid_topic_name() {
    for topic in ["", "a/#", "+", "a\0b"] {
        for protocol in [V311, V5] {
            let connect = Connect {
                protocol,
                client_id: "c".into(),
                will: Some(LastWill::new(topic, "x")),
                ..Connect::default()
            };
            let packet = Packet::Connect(Box::new(connect));
            assert!(encoded_len(&packet, protocol).is_err(), "{topic:?}");
            assert!(
                encode(&packet, protocol, &mut BytesMut::new()).is_err(),
                "{topic:?}"
            );
        }
    }
}

/// [MQTT-1.5.4-2], [MQTT-3.1.3-4], [MQTT-3.1.3-12]: no string the client
/// writes may hold U+0000: not the Client Identifier, not the User Name,
/// not a property. The encoder refuses it, naming the field.
#[test]
fn strings_the_client_sends_must_not_hold_u0000() {
    let null: ByteString = "a\0b".into();
    let connect = |set: &dyn Fn(&mut Connect)| {
        let mut connect = Connect {
            protocol: V5,
            client_id: "c".into(),
            ..Connect::default()
        };
        set(&mut connect);
        Packet::Connect(Box::new(connect))
    };
    let mut publish = Publish::new("t", "x");
    publish.properties.content_type = Some(null.clone());
    let mut user_property = Publish::new("t", "x");
    user_property
        .properties
        .user_properties
        .push(("k".into(), null.clone()));
    let mut disconnect = Disconnect::default();
    disconnect.properties.reason_string = Some(null.clone());
    let mut auth = Auth::default();
    auth.properties.authentication_method = Some(null.clone());
    let mut will = LastWill::new("w", "x");
    will.properties.content_type = Some(null.clone());
    let cases = [
        ("Client Identifier", connect(&|c| c.client_id = null.clone())),
        ("User Name", connect(&|c| c.username = Some(null.clone()))),
        (
            "User Property",
            connect(&|c| c.properties.user_properties.push((null.clone(), "v".into()))),
        ),
        (
            "Authentication Method",
            connect(&|c| c.properties.authentication_method = Some(null.clone())),
        ),
        ("Content Type", connect(&|c| c.will = Some(will.clone()))),
        ("Content Type", Packet::Publish(publish)),
        ("User Property", Packet::Publish(user_property)),
        ("Reason String", Packet::Disconnect(disconnect)),
        ("Authentication Method", Packet::Auth(auth)),
    ];
    for (field, packet) in cases {
        assert_eq!(
            encoded_len(&packet, V5),
            Err(EncodeError::NullCharacter(field)),
            "U+0000 in the {field} of {packet:?}"
        );
        let mut buf = BytesMut::new();
        assert!(encode(&packet, V5, &mut buf).is_err(), "{field}");
        assert!(buf.is_empty(), "nothing of it is written");
    }
}

/// [MQTT-3.3.2-14]: a Response Topic is a topic name: the encoder refuses
/// one with a wildcard, in a PUBLISH or in a will.
#[test]
fn a_response_topic_must_not_hold_wildcards() {
    for topic in ["a/#", "+/b", "#"] {
        let mut publish = Publish::new("t", "x");
        publish.properties.response_topic = Some(topic.into());
        assert!(encoded_len(&Packet::Publish(publish), V5).is_err(), "{topic}");
        let mut will = LastWill::new("w", "x");
        will.properties.response_topic = Some(topic.into());
        let connect = Connect {
            protocol: V5,
            client_id: "c".into(),
            will: Some(will),
            ..Connect::default()
        };
        assert!(
            encoded_len(&Packet::Connect(Box::new(connect)), V5).is_err(),
            "{topic}"
        );
    }
}

/// [MQTT-3.3.1-2], [MQTT-2.2.1-2]: a QoS 0 PUBLISH carries neither DUP
/// nor a Packet Identifier; the encoder refuses either.
#[test]
fn a_qos0_publish_can_carry_neither_dup_nor_a_packet_id() {
    for version in [V311, V5] {
        let mut dup = Publish::new("t", "x");
        dup.dup = true;
        assert!(encoded_len(&Packet::Publish(dup), version).is_err());
        let with_id = Publish::new("t", "x").packet_id(3);
        assert!(encoded_len(&Packet::Publish(with_id), version).is_err());
        let bytes = encode_vec(&Packet::Publish(Publish::new("t", "x")), version);
        assert_eq!(bytes[0], 0x30);
        assert_eq!(&bytes[2..5], b"\x00\x01t", "topic, then no packet id");
    }
}

/// The reason codes the specification lists for each acknowledgement and
/// for AUTH (sections 3.4.2.1, 3.5.2.1, 3.6.2.1, 3.7.2.1, 3.15.2.1).
const PUBACK_CODES: &[u8] = &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL_CODES: &[u8] = &[0x00, 0x92];
const AUTH_CODES: &[u8] = &[0x00, 0x18, 0x19];

/// `name` (PUBACK, PUBREC, PUBREL, PUBCOMP or AUTH) with reason `code`.
fn with_code(name: &str, code: ReasonCode) -> Packet {
    match name {
        "PUBACK" => Packet::PubAck(PubAck {
            reason_code: code,
            ..PubAck::new(id(1))
        }),
        "PUBREC" => Packet::PubRec(PubRec {
            reason_code: code,
            ..PubRec::new(id(1))
        }),
        "PUBREL" => Packet::PubRel(PubRel {
            reason_code: code,
            ..PubRel::new(id(1))
        }),
        "PUBCOMP" => Packet::PubComp(PubComp {
            reason_code: code,
            ..PubComp::new(id(1))
        }),
        _ => Packet::Auth(Auth {
            reason_code: code,
            properties: AuthProperties {
                authentication_method: Some("m".into()),
                ..AuthProperties::default()
            }
            .into(),
        }),
    }
}

/// [MQTT-3.4.2-1], [MQTT-3.5.2-1], [MQTT-3.6.2-1], [MQTT-3.7.2-1],
/// [MQTT-3.15.2-1]: a PUBACK, PUBREC, PUBREL, PUBCOMP or AUTH can only be
/// written (and is only read) with one of its own reason codes.
#[test]
fn acknowledgements_and_auth_carry_only_their_own_reason_codes() {
    let cases: [(&str, &[u8], ReasonCode); 5] = [
        ("PUBACK", PUBACK_CODES, ReasonCode::UnspecifiedError),
        ("PUBREC", PUBACK_CODES, ReasonCode::UnspecifiedError),
        ("PUBREL", PUBREL_CODES, ReasonCode::PacketIdentifierNotFound),
        ("PUBCOMP", PUBREL_CODES, ReasonCode::PacketIdentifierNotFound),
        ("AUTH", AUTH_CODES, ReasonCode::ContinueAuthentication),
    ];
    for (name, listed, long_form) in cases {
        // A form that carries its reason code byte: at 4 after the packet
        // id for the acknowledgements, at 2 for AUTH.
        let template = encode_vec(&with_code(name, long_form), V5);
        let at = if name == "AUTH" { 2 } else { 4 };
        assert_eq!(template[at], long_form.as_u8());
        for byte in 0..=255u8 {
            let allowed = listed.contains(&byte);
            if let Some(code) = ReasonCode::from_u8(byte) {
                assert_eq!(
                    encoded_len(&with_code(name, code), V5).is_ok(),
                    allowed,
                    "{name} with {code} is written only if listed"
                );
            }
            let mut bytes = template.clone();
            bytes[at] = byte;
            assert_eq!(
                decode_all(&bytes, V5).is_ok(),
                allowed,
                "{name} read with {byte:#04x}"
            );
        }
    }
}

/// [MQTT-3.8.4-7], [MQTT-3.11.3-2]: each SUBACK code is a granted QoS or a
/// failure, each UNSUBACK code one of the Unsubscribe Reason Codes; any
/// other code from the server is malformed.
#[test]
fn suback_and_unsuback_codes_are_only_the_listed_ones() {
    const SUBACK: &[u8] = &[
        0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
    ];
    const UNSUBACK: &[u8] = &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];
    for code in 0..=255u8 {
        let suback = [0x90, 0x04, 0x00, 0x01, 0x00, code];
        assert_eq!(
            decode_all(&suback, V5).is_ok(),
            SUBACK.contains(&code),
            "SUBACK {code:#04x}"
        );
        let unsuback = [0xB0, 0x04, 0x00, 0x01, 0x00, code];
        assert_eq!(
            decode_all(&unsuback, V5).is_ok(),
            UNSUBACK.contains(&code),
            "UNSUBACK {code:#04x}"
        );
        let v311 = [0x90, 0x03, 0x00, 0x01, code];
        let granted_or_failure = matches!(code, 0x00..=0x02 | 0x80);
        assert_eq!(
            decode_all(&v311, V311).is_ok(),
            granted_or_failure,
            "3.1.1 SUBACK {code:#04x}"
        );
    }
}

/// [MQTT-3.8.3-2], [MQTT-3.10.3-2], [MQTT-3.8.3-4]: a SUBSCRIBE or
/// UNSUBSCRIBE without a filter, or No Local on a Shared Subscription,
/// cannot be written.
#[test]
fn subscribe_and_unsubscribe_need_a_filter_and_shared_ones_no_local() {
    for version in [V311, V5] {
        let empty = Packet::Subscribe(Subscribe {
            packet_id: id(1),
            filters: Vec::new(),
            properties: SubscribeProperties::default(),
        });
        assert!(encoded_len(&empty, version).is_err());
        let empty = Packet::Unsubscribe(Unsubscribe {
            packet_id: id(1),
            filters: Vec::new(),
            properties: UnsubscribeProperties::default(),
        });
        assert!(encoded_len(&empty, version).is_err());
    }
    let mut options = SubscriptionOptions::new(QoS::AtLeastOnce);
    options.no_local = true;
    let subscribe = |filter: &'static str| {
        Packet::Subscribe(Subscribe {
            packet_id: id(1),
            filters: vec![(filter.into(), options)],
            properties: SubscribeProperties::default(),
        })
    };
    assert!(encoded_len(&subscribe("$share/g/a"), V5).is_err());
    assert!(encoded_len(&subscribe("a"), V5).is_ok());
}
