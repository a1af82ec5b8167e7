//! Manual acknowledgement: PUBACK/PUBREC wait until the shell has handled
//! the message.

use super::*;

fn manual(now: Instant) -> P {
    let mut config = config_v5();
    // A session that outlives the connection, so reconnects can keep it.
    config.connect_properties.session_expiry_interval = Some(60);
    let mut p = Protocol::new(config);
    p.manual_acks(true);
    p.connect(now);
    drain(&mut p, now);
    p.handle_packet(Packet::ConnAck(connack()), now).unwrap();
    events(&mut p);
    drain(&mut p, now);
    p
}

fn message(qos: QoS, n: u16) -> Publish {
    Publish::new("t", "m").qos(qos).packet_id(n)
}

fn delivered(p: &mut P) -> Vec<Publish> {
    events(p)
        .into_iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

#[test]
fn puback_waits_for_acknowledge_and_keeps_arrival_order() {
    let now = Instant::now();
    let mut p = manual(now);
    p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, 1)), now)
        .unwrap();
    p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, 2)), now)
        .unwrap();
    let msgs = delivered(&mut p);
    assert_eq!(msgs.len(), 2);
    assert!(
        drain(&mut p, now).is_empty(),
        "nothing acknowledged before it is handled"
    );
    for m in &msgs {
        p.acknowledge(Ack::of(m).unwrap());
    }
    assert_eq!(
        drain(&mut p, now),
        [
            Packet::PubAck(PubAck::new(id(1))),
            Packet::PubAck(PubAck::new(id(2)))
        ]
    );
    // A second acknowledge of the same message sends nothing.
    p.acknowledge(Ack::of(&msgs[0]).unwrap());
    assert!(drain(&mut p, now).is_empty());
}

#[test]
fn a_resend_of_a_message_still_being_handled_is_not_delivered_twice() {
    let now = Instant::now();
    let mut p = manual(now);
    p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, 3)), now)
        .unwrap();
    let first = delivered(&mut p);
    let mut resend = message(QoS::AtLeastOnce, 3);
    resend.dup = true;
    p.handle_packet(Packet::Publish(resend), now).unwrap();
    assert!(delivered(&mut p).is_empty());
    assert!(drain(&mut p, now).is_empty());
    p.acknowledge(Ack::of(&first[0]).unwrap());
    assert_eq!(drain(&mut p, now), [Packet::PubAck(PubAck::new(id(3)))]);
}

#[test]
fn pubrec_waits_for_acknowledge_and_a_resend_meanwhile_is_answered_after() {
    let now = Instant::now();
    let mut p = manual(now);
    p.handle_packet(Packet::Publish(message(QoS::ExactlyOnce, 4)), now)
        .unwrap();
    let msgs = delivered(&mut p);
    assert_eq!(msgs.len(), 1);
    let mut resend = message(QoS::ExactlyOnce, 4);
    resend.dup = true;
    p.handle_packet(Packet::Publish(resend.clone()), now).unwrap();
    assert!(delivered(&mut p).is_empty(), "exactly once");
    assert!(
        drain(&mut p, now).is_empty(),
        "no PUBREC before the message is handled"
    );
    p.acknowledge(Ack::of(&msgs[0]).unwrap());
    assert_eq!(drain(&mut p, now), [Packet::PubRec(PubRec::new(id(4)))]);
    // A resend after PUBREC is answered at once, still not delivered again.
    p.handle_packet(Packet::Publish(resend), now).unwrap();
    assert!(delivered(&mut p).is_empty());
    assert_eq!(drain(&mut p, now), [Packet::PubRec(PubRec::new(id(4)))]);
}

#[test]
fn a_held_acknowledgement_goes_out_on_the_next_connection() {
    let now = Instant::now();
    let mut p = manual(now);
    p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, 5)), now)
        .unwrap();
    let msgs = delivered(&mut p);
    // Reconnect with the session: the server resends; it is not delivered twice.
    let sent = reconnect(
        &mut p,
        ConnAck {
            session_present: true,
            ..connack()
        },
        now,
    );
    assert!(sent.is_empty(), "{sent:?}");
    let mut resend = message(QoS::AtLeastOnce, 5);
    resend.dup = true;
    p.handle_packet(Packet::Publish(resend), now).unwrap();
    assert!(delivered(&mut p).is_empty());
    p.acknowledge(Ack::of(&msgs[0]).unwrap());
    assert_eq!(drain(&mut p, now), [Packet::PubAck(PubAck::new(id(5)))]);
}

#[test]
fn a_lost_session_forgets_held_acknowledgements() {
    let now = Instant::now();
    let mut p = manual(now);
    p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, 6)), now)
        .unwrap();
    let msgs = delivered(&mut p);
    reconnect(&mut p, connack(), now);
    p.acknowledge(Ack::of(&msgs[0]).unwrap());
    assert!(drain(&mut p, now).is_empty(), "the server no longer knows id 6");
}

#[test]
fn qos0_and_automatic_mode_are_unchanged() {
    let now = Instant::now();
    let mut p = manual(now);
    p.handle_packet(Packet::Publish(Publish::new("t", "m")), now)
        .unwrap();
    assert_eq!(delivered(&mut p).len(), 1);
    assert!(drain(&mut p, now).is_empty());

    let mut auto = connect_v5(now);
    auto.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, 7)), now)
        .unwrap();
    assert_eq!(drain(&mut auto, now), [Packet::PubAck(PubAck::new(id(7)))]);
}

#[test]
fn a_shared_acknowledgement_goes_out_after_every_consumer_acknowledged() {
    let now = Instant::now();
    let mut p = manual(now);
    for (n, qos) in [(1, QoS::AtLeastOnce), (2, QoS::ExactlyOnce)] {
        p.handle_packet(Packet::Publish(message(qos, n)), now).unwrap();
        let msg = delivered(&mut p).pop().unwrap();
        let ack = Ack::of(&msg).unwrap();
        p.share_ack(ack, 2);
        p.acknowledge(ack);
        p.acknowledge(ack);
        assert!(drain(&mut p, now).is_empty(), "one consumer still holds it");
        p.acknowledge(ack);
        let sent = drain(&mut p, now);
        assert!(
            matches!(sent.as_slice(), [Packet::PubAck(a)] if a.packet_id == id(n))
                || matches!(sent.as_slice(), [Packet::PubRec(r)] if r.packet_id == id(n)),
            "{sent:?}"
        );
        p.acknowledge(ack);
        assert!(drain(&mut p, now).is_empty(), "once only");
    }
}
