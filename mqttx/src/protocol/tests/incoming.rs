//! Incoming QoS 0/1/2 flows and our Receive Maximum.

use std::time::Instant;

use super::*;

fn incoming(topic: &'static str, qos: QoS, n: u16) -> Packet {
    Packet::Publish(Publish::new(topic, "m").qos(qos).packet_id(n))
}

#[test]
fn qos0_is_delivered_without_acknowledgement() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.handle_packet(incoming("t", QoS::AtMostOnce, 0), now).unwrap();
    assert_eq!(events(&mut p), [Event::Message(Publish::new("t", "m"))]);
    assert!(drain(&mut p, now).is_empty());
}

#[test]
fn qos1_is_delivered_and_acknowledged_in_order() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.handle_packet(incoming("t", QoS::AtLeastOnce, 9), now).unwrap();
    p.handle_packet(incoming("t", QoS::AtLeastOnce, 4), now).unwrap();
    assert_eq!(events(&mut p).len(), 2);
    // PUBACKs in the order the PUBLISHes arrived [MQTT-4.6.0-2].
    assert_eq!(drain(&mut p, now), [puback(9), puback(4)]);
}

#[test]
fn qos2_is_delivered_exactly_once_until_pubrel() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.handle_packet(incoming("t", QoS::ExactlyOnce, 5), now).unwrap();
    assert_eq!(events(&mut p).len(), 1);
    assert_eq!(drain(&mut p, now), [Packet::PubRec(PubRec::new(id(5)))]);

    // A resend before PUBREL is acknowledged again but not delivered again.
    let mut duplicate = Publish::new("t", "m").qos(QoS::ExactlyOnce).packet_id(5);
    duplicate.dup = true;
    p.handle_packet(Packet::Publish(duplicate), now).unwrap();
    assert!(events(&mut p).is_empty());
    assert_eq!(drain(&mut p, now), [Packet::PubRec(PubRec::new(id(5)))]);

    p.handle_packet(Packet::PubRel(PubRel::new(id(5))), now).unwrap();
    assert_eq!(drain(&mut p, now), [Packet::PubComp(PubComp::new(id(5)))]);

    // After PUBCOMP the id starts a new message [MQTT-4.3.3-12].
    p.handle_packet(incoming("t", QoS::ExactlyOnce, 5), now).unwrap();
    assert_eq!(events(&mut p).len(), 1);
}

fn qos2(payload: &'static str, n: u16, dup: bool) -> Packet {
    let mut publish = Publish::new("t", payload).qos(QoS::ExactlyOnce).packet_id(n);
    publish.dup = dup;
    Packet::Publish(publish)
}

/// Delivers a QoS 2 message on id `n` and completes its flow.
fn complete_qos2(p: &mut P, payload: &'static str, n: u16, now: Instant) {
    p.handle_packet(qos2(payload, n, false), now).unwrap();
    assert_eq!(events(p).len(), 1);
    p.handle_packet(Packet::PubRel(PubRel::new(id(n))), now).unwrap();
    assert_eq!(
        drain(p, now),
        [
            Packet::PubRec(PubRec::new(id(n))),
            Packet::PubComp(PubComp::new(id(n)))
        ]
    );
}

#[test]
fn a_released_message_replayed_by_the_server_is_answered_not_delivered() {
    // mosquitto 2.0 resends the PUBLISH, DUP set, after two quick
    // reconnects even though it had sent PUBREL.
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    complete_qos2(&mut p, "reading", 7, now);
    assert!(reconnect(
        &mut p,
        ConnAck {
            session_present: true,
            ..connack()
        },
        now
    )
    .is_empty());
    events(&mut p);

    p.handle_packet(qos2("reading", 7, true), now).unwrap();
    assert!(
        events(&mut p).is_empty(),
        "the replay must not be delivered again"
    );
    assert_eq!(drain(&mut p, now), [Packet::PubRec(PubRec::new(id(7)))]);
    p.handle_packet(Packet::PubRel(PubRel::new(id(7))), now).unwrap();
    assert_eq!(drain(&mut p, now), [Packet::PubComp(PubComp::new(id(7)))]);
}

#[test]
fn a_new_message_on_a_released_id_is_delivered() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    complete_qos2(&mut p, "first", 7, now);
    // No DUP: a new message by definition [MQTT-4.3.3-12].
    p.handle_packet(qos2("first", 7, false), now).unwrap();
    assert_eq!(events(&mut p).len(), 1);
    p.handle_packet(Packet::PubRel(PubRel::new(id(7))), now).unwrap();
    drain(&mut p, now);
    // DUP, but another message: a resend of a new message whose first copy
    // was lost, which must be delivered.
    p.handle_packet(qos2("second", 7, true), now).unwrap();
    assert_eq!(events(&mut p).len(), 1);
}

#[test]
fn pubrel_for_an_unknown_id_gets_pubcomp_packet_identifier_not_found() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.handle_packet(Packet::PubRel(PubRel::new(id(42))), now).unwrap();
    let mut comp = PubComp::new(id(42));
    comp.reason_code = ReasonCode::PacketIdentifierNotFound;
    assert_eq!(drain(&mut p, now), [Packet::PubComp(comp)]);
}

#[test]
fn our_receive_maximum_bounds_qos2_awaiting_pubrel() {
    let now = Instant::now();
    let mut config = config_v5();
    config.connect_properties.receive_maximum = Some(2);
    let mut p = connect_with(config, connack(), now);
    p.handle_packet(incoming("t", QoS::ExactlyOnce, 1), now).unwrap();
    p.handle_packet(incoming("t", QoS::ExactlyOnce, 2), now).unwrap();
    // Releasing one makes room again.
    p.handle_packet(Packet::PubRel(PubRel::new(id(1))), now).unwrap();
    p.handle_packet(incoming("t", QoS::ExactlyOnce, 3), now).unwrap();
    drain(&mut p, now);
    assert_eq!(p.incoming.awaiting(), 2);

    let error = p
        .handle_packet(incoming("t", QoS::ExactlyOnce, 4), now)
        .unwrap_err();
    assert_eq!(error.reason, ReasonCode::ReceiveMaximumExceeded);
    assert_eq!(
        drain(&mut p, now),
        [Packet::Disconnect(Disconnect {
            reason_code: ReasonCode::ReceiveMaximumExceeded,
            ..Disconnect::default()
        })]
    );
}

#[test]
fn publish_before_connack_is_a_protocol_error() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_v5());
    p.connect(now);
    drain(&mut p, now);
    let error = p
        .handle_packet(incoming("t", QoS::AtMostOnce, 0), now)
        .unwrap_err();
    assert_eq!(error.reason, ReasonCode::ProtocolError);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Disconnect(_)]));
}

#[test]
fn client_only_packets_from_the_server_are_protocol_errors() {
    let now = Instant::now();
    for packet in [
        Packet::PingReq,
        Packet::Connect(Box::default()),
        Packet::Subscribe(Subscribe {
            packet_id: id(1),
            filters: subscribe_filters(&["a"]),
            properties: SubscribeProperties::default(),
        }),
        Packet::ConnAck(ConnAck::default()),
    ] {
        let mut p = connect_v5(now);
        assert!(p.handle_packet(packet, now).is_err());
    }
}

#[test]
fn suback_with_the_wrong_number_of_codes_is_a_protocol_error() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.subscribe(
        subscribe_filters(&["a", "b"]),
        SubscribeProperties::default(),
        1,
        now,
    );
    drain(&mut p, now);
    assert!(p
        .handle_packet(suback(1, vec![ReasonCode::GrantedQoS1]), now)
        .is_err());
}

#[test]
fn what_cannot_be_decoded_gets_a_disconnect_saying_why_on_mqtt_5_only() {
    let now = Instant::now();
    let goodbye = |reason_code| {
        Packet::Disconnect(Disconnect {
            reason_code,
            ..Disconnect::default()
        })
    };
    let mut p = connect_v5(now);
    p.handle_malformed(&DecodeError::UnknownPacketType(0));
    assert_eq!(drain(&mut p, now), [goodbye(ReasonCode::MalformedPacket)]);

    let mut p = connect_v5(now);
    p.handle_malformed(&DecodeError::PacketTooLarge {
        size: 9000,
        max: 1024,
    });
    assert_eq!(drain(&mut p, now), [goodbye(ReasonCode::PacketTooLarge)]);

    let mut p = connect_with(config_v311(), connack(), now);
    p.handle_malformed(&DecodeError::UnknownPacketType(0));
    assert!(
        drain(&mut p, now).is_empty(),
        "3.1.1 has no reason to send: it closes"
    );
}
