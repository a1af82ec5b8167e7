//! Known byte sequences, built by hand from the specification's field
//! layouts, decoded and (where they are the canonical form) re-encoded.

use std::num::NonZeroU16;

use bytes::Bytes;

use super::{decode_all, encode_vec};
use crate::packet::*;

use ProtocolVersion::{V311, V5};

fn id(n: u16) -> PacketId {
    NonZeroU16::new(n).unwrap()
}

/// Decodes to `packet` and encodes back to the same bytes.
fn both_ways(bytes: &[u8], version: ProtocolVersion, packet: Packet) {
    assert_eq!(
        decode_all(bytes, version),
        Ok(Some(packet.clone())),
        "decoding {bytes:02X?}"
    );
    assert_eq!(encode_vec(&packet, version), bytes, "encoding {packet:?}");
}

fn connect(version: ProtocolVersion) -> Connect {
    Connect {
        protocol: version,
        clean_start: true,
        keep_alive: 60,
        client_id: "test".into(),
        ..Default::default()
    }
}

#[test]
fn connect_v311_and_v5() {
    let v311 = b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3C\x00\x04test";
    both_ways(v311, V311, Packet::Connect(Box::new(connect(V311))));
    let v5 = b"\x10\x11\x00\x04MQTT\x05\x02\x00\x3C\x00\x00\x04test";
    both_ways(v5, V5, Packet::Connect(Box::new(connect(V5))));
}

#[test]
fn connect_takes_its_version_from_the_packet() {
    let v5 = b"\x10\x11\x00\x04MQTT\x05\x02\x00\x3C\x00\x00\x04test";
    assert_eq!(
        decode_all(v5, V311),
        Ok(Some(Packet::Connect(Box::new(connect(V5)))))
    );
}

#[test]
fn connect_with_will_credentials_and_properties() {
    let mut c = connect(V5);
    c.will = Some(LastWill::new("w", "bye").qos(QoS::AtLeastOnce).retain(true));
    c.username = Some("u".into());
    c.password = Some(Bytes::from_static(b"p"));
    c.properties.session_expiry_interval = Some(10);
    let bytes = b"\x10\x25\x00\x04MQTT\x05\xEE\x00\x3C\x05\x11\x00\x00\x00\x0A\x00\x04test\x00\x00\x01w\x00\x03bye\x00\x01u\x00\x01p";
    both_ways(bytes, V5, Packet::Connect(Box::new(c)));
}

#[test]
fn connack() {
    both_ways(b"\x20\x02\x00\x00", V311, Packet::ConnAck(ConnAck::default()));
    // A 3.1.1-only server's refusal of an MQTT 5 CONNECT reads as what it says.
    let mut old_refusal = bytes::BytesMut::from(&b"\x20\x02\x00\x01"[..]);
    let decoded = crate::packet::decode(&mut old_refusal, V5, 1 << 20).unwrap();
    let refused_version = ConnAck {
        reason_code: ReasonCode::UnsupportedProtocolVersion,
        ..Default::default()
    };
    assert_eq!(decoded, Some(Packet::ConnAck(refused_version)));
    // Any other two-byte CONNACK is still malformed on MQTT 5.
    let mut short = bytes::BytesMut::from(&b"\x20\x02\x00\x05"[..]);
    assert!(crate::packet::decode(&mut short, V5, 1 << 20).is_err());
    let refused = ConnAck {
        reason_code: ReasonCode::NotAuthorized,
        ..Default::default()
    };
    both_ways(b"\x20\x02\x00\x05", V311, Packet::ConnAck(refused));
    let present = ConnAck {
        session_present: true,
        ..Default::default()
    };
    both_ways(b"\x20\x03\x01\x00\x00", V5, Packet::ConnAck(present));
    let mut props = ConnAck::default();
    props.properties.receive_maximum = Some(20);
    props.properties.maximum_qos = Some(QoS::AtLeastOnce);
    both_ways(
        b"\x20\x08\x00\x00\x05\x21\x00\x14\x24\x01",
        V5,
        Packet::ConnAck(props),
    );
}

#[test]
fn publish() {
    let p = Publish::new("a/b", "hi").qos(QoS::AtLeastOnce).packet_id(1);
    both_ways(b"\x32\x09\x00\x03a/b\x00\x01hi", V311, Packet::Publish(p.clone()));
    both_ways(b"\x32\x0A\x00\x03a/b\x00\x01\x00hi", V5, Packet::Publish(p));
    let q0 = Publish::new("a", "").retain(true);
    both_ways(b"\x31\x03\x00\x01a", V311, Packet::Publish(q0));
    let mut aliased = Publish::new("", "x");
    aliased.properties.topic_alias = NonZeroU16::new(3);
    aliased.properties.subscription_identifiers = vec![1, 200];
    both_ways(
        b"\x30\x0C\x00\x00\x08\x23\x00\x03\x0B\x01\x0B\xC8\x01x",
        V5,
        Packet::Publish(aliased),
    );
}

#[test]
fn acks_use_short_forms() {
    both_ways(b"\x40\x02\x00\x01", V311, Packet::PubAck(PubAck::new(id(1))));
    both_ways(b"\x40\x02\x00\x01", V5, Packet::PubAck(PubAck::new(id(1))));
    both_ways(b"\x50\x02\x00\x02", V5, Packet::PubRec(PubRec::new(id(2))));
    both_ways(b"\x62\x02\x00\x03", V311, Packet::PubRel(PubRel::new(id(3))));
    both_ways(b"\x70\x02\x00\x04", V5, Packet::PubComp(PubComp::new(id(4))));
    let mut no_subs = PubAck::new(id(1));
    no_subs.reason_code = ReasonCode::NoMatchingSubscribers;
    both_ways(b"\x40\x03\x00\x01\x10", V5, Packet::PubAck(no_subs));
    // The long forms of Success decode too.
    assert_eq!(
        decode_all(b"\x40\x03\x00\x01\x00", V5),
        Ok(Some(Packet::PubAck(PubAck::new(id(1)))))
    );
    assert_eq!(
        decode_all(b"\x40\x04\x00\x01\x00\x00", V5),
        Ok(Some(Packet::PubAck(PubAck::new(id(1)))))
    );
    let mut with_reason = PubRel::new(id(5));
    with_reason.reason_code = ReasonCode::PacketIdentifierNotFound;
    with_reason.properties.reason_string = Some("gone".into());
    both_ways(
        b"\x62\x0B\x00\x05\x92\x07\x1F\x00\x04gone",
        V5,
        Packet::PubRel(with_reason),
    );
}

#[test]
fn subscribe_and_suback() {
    let sub = Subscribe {
        packet_id: id(1),
        filters: vec![("a/b".into(), SubscriptionOptions::new(QoS::AtLeastOnce))],
        properties: SubscribeProperties::default(),
    };
    both_ways(
        b"\x82\x08\x00\x01\x00\x03a/b\x01",
        V311,
        Packet::Subscribe(sub.clone()),
    );
    both_ways(b"\x82\x09\x00\x01\x00\x00\x03a/b\x01", V5, Packet::Subscribe(sub));
    let opts = SubscriptionOptions {
        qos: QoS::ExactlyOnce,
        no_local: true,
        retain_as_published: true,
        retain_handling: RetainHandling::DoNotSend,
    };
    let sub = Subscribe {
        packet_id: id(2),
        filters: vec![("#".into(), opts)],
        properties: SubscribeProperties {
            subscription_identifier: Some(128),
            user_properties: Vec::new(),
        },
    };
    both_ways(
        b"\x82\x0A\x00\x02\x03\x0B\x80\x01\x00\x01#\x2E",
        V5,
        Packet::Subscribe(sub),
    );
    let suback = SubAck {
        packet_id: id(1),
        reason_codes: vec![ReasonCode::GrantedQoS1, ReasonCode::UnspecifiedError],
        properties: AckProperties::default().into(),
    };
    both_ways(b"\x90\x04\x00\x01\x01\x80", V311, Packet::SubAck(suback.clone()));
    both_ways(b"\x90\x05\x00\x01\x00\x01\x80", V5, Packet::SubAck(suback));
}

#[test]
fn unsubscribe_and_unsuback() {
    let unsub = Unsubscribe {
        packet_id: id(1),
        filters: vec!["a/b".into()],
        properties: UnsubscribeProperties::default(),
    };
    both_ways(
        b"\xA2\x07\x00\x01\x00\x03a/b",
        V311,
        Packet::Unsubscribe(unsub.clone()),
    );
    both_ways(b"\xA2\x08\x00\x01\x00\x00\x03a/b", V5, Packet::Unsubscribe(unsub));
    let v311 = UnsubAck {
        packet_id: id(1),
        reason_codes: Vec::new(),
        properties: AckProperties::default().into(),
    };
    both_ways(b"\xB0\x02\x00\x01", V311, Packet::UnsubAck(v311));
    let v5 = UnsubAck {
        packet_id: id(1),
        reason_codes: vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted],
        properties: AckProperties::default().into(),
    };
    both_ways(b"\xB0\x05\x00\x01\x00\x00\x11", V5, Packet::UnsubAck(v5));
}

#[test]
fn ping_disconnect_auth() {
    for v in [V311, V5] {
        both_ways(b"\xC0\x00", v, Packet::PingReq);
        both_ways(b"\xD0\x00", v, Packet::PingResp);
        both_ways(b"\xE0\x00", v, Packet::Disconnect(Disconnect::default()));
    }
    let taken = Disconnect {
        reason_code: ReasonCode::SessionTakenOver,
        ..Default::default()
    };
    both_ways(b"\xE0\x01\x8E", V5, Packet::Disconnect(taken));
    assert_eq!(
        decode_all(b"\xE0\x02\x00\x00", V5),
        Ok(Some(Packet::Disconnect(Disconnect::default())))
    );
    both_ways(b"\xF0\x00", V5, Packet::Auth(Auth::default()));
    let mut auth = Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        ..Default::default()
    };
    auth.properties.authentication_method = Some("SCRAM".into());
    auth.properties.authentication_data = Some(Bytes::from_static(b"\x01"));
    both_ways(
        b"\xF0\x0E\x18\x0C\x15\x00\x05SCRAM\x16\x00\x01\x01",
        V5,
        Packet::Auth(auth),
    );
}

#[test]
fn encode_errors_append_nothing() {
    let mut buf = bytes::BytesMut::from(&b"keep"[..]);
    let bad = [
        (Packet::Publish(Publish::new("a/+", "x")), V5),
        (Packet::Publish(Publish::new("a", "x").qos(QoS::AtLeastOnce)), V5),
        (Packet::Publish(Publish::new("a", "x").packet_id(1)), V5),
        (Packet::Publish(Publish::new("", "x")), V311),
        (Packet::Auth(Auth::default()), V311),
        (Packet::Connect(Box::new(connect(V5))), V311),
        (Packet::Publish(Publish::new("a".repeat(70_000), "x")), V5),
        (
            Packet::Subscribe(Subscribe {
                packet_id: id(1),
                filters: Vec::new(),
                properties: SubscribeProperties::default(),
            }),
            V5,
        ),
        (
            Packet::Disconnect(Disconnect {
                reason_code: ReasonCode::ServerBusy,
                ..Default::default()
            }),
            V311,
        ),
    ];
    for (packet, version) in bad {
        assert!(encode(&packet, version, &mut buf).is_err(), "{packet:?}");
        assert!(encoded_len(&packet, version).is_err());
        assert_eq!(&buf[..], b"keep");
    }
}
