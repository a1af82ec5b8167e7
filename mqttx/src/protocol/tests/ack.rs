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

fn acks_of(msgs: &[Publish]) -> Vec<Ack> {
    msgs.iter().map(|m| Ack::of(m).unwrap()).collect()
}

fn pubrec(n: u16) -> Packet {
    Packet::PubRec(PubRec::new(id(n)))
}

#[test]
fn an_acknowledgement_made_early_waits_for_the_earlier_messages() {
    let now = Instant::now();
    let mut p = manual(now);
    for n in 1..=3 {
        p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, n)), now)
            .unwrap();
    }
    let acks = acks_of(&delivered(&mut p));
    p.acknowledge(acks[1]);
    p.acknowledge(acks[2]);
    assert!(drain(&mut p, now).is_empty(), "message 1 is still being handled");
    p.acknowledge(acks[1]);
    assert!(
        drain(&mut p, now).is_empty(),
        "acknowledging twice changes nothing"
    );
    p.acknowledge(acks[0]);
    assert_eq!(
        drain(&mut p, now),
        [
            Packet::PubAck(PubAck::new(id(1))),
            Packet::PubAck(PubAck::new(id(2))),
            Packet::PubAck(PubAck::new(id(3)))
        ]
    );
    // The ids are free again: the server may reuse them for new messages.
    p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, 2)), now)
        .unwrap();
    let again = acks_of(&delivered(&mut p));
    p.acknowledge(again[0]);
    assert_eq!(drain(&mut p, now), [Packet::PubAck(PubAck::new(id(2)))]);
}

#[test]
fn a_resend_keeps_the_place_of_the_first_delivery() {
    let now = Instant::now();
    let mut p = manual(now);
    for (n, qos) in [(1, QoS::AtLeastOnce), (2, QoS::ExactlyOnce)] {
        p.handle_packet(Packet::Publish(message(qos, n)), now).unwrap();
    }
    let acks = acks_of(&delivered(&mut p));
    for (n, qos) in [(1, QoS::AtLeastOnce), (2, QoS::ExactlyOnce)] {
        let mut resend = message(qos, n);
        resend.dup = true;
        p.handle_packet(Packet::Publish(resend), now).unwrap();
    }
    assert!(delivered(&mut p).is_empty());
    p.acknowledge(acks[1]);
    assert!(drain(&mut p, now).is_empty());
    p.acknowledge(acks[0]);
    assert_eq!(
        drain(&mut p, now),
        [Packet::PubAck(PubAck::new(id(1))), pubrec(2)]
    );
}

#[test]
fn a_pubrec_answering_a_resend_waits_behind_earlier_messages() {
    let now = Instant::now();
    let mut p = manual(now);
    // Message 4 is received and PUBREC'd; then message 5 arrives and is
    // being handled when the server resends 4.
    p.handle_packet(Packet::Publish(message(QoS::ExactlyOnce, 4)), now)
        .unwrap();
    let first = acks_of(&delivered(&mut p));
    p.acknowledge(first[0]);
    assert_eq!(drain(&mut p, now), [pubrec(4)]);
    p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, 5)), now)
        .unwrap();
    let second = acks_of(&delivered(&mut p));
    let mut resend = message(QoS::ExactlyOnce, 4);
    resend.dup = true;
    p.handle_packet(Packet::Publish(resend.clone()), now).unwrap();
    p.handle_packet(Packet::Publish(resend.clone()), now).unwrap();
    assert!(delivered(&mut p).is_empty(), "exactly once");
    assert!(drain(&mut p, now).is_empty(), "PUBREC 4 keeps its turn");
    p.acknowledge(first[0]);
    assert!(drain(&mut p, now).is_empty(), "a stale acknowledge sends nothing");
    p.acknowledge(second[0]);
    assert_eq!(
        drain(&mut p, now),
        [Packet::PubAck(PubAck::new(id(5))), pubrec(4)],
        "one PUBREC for the resends that waited"
    );
    // Nothing held: a resend is answered at once.
    p.handle_packet(Packet::Publish(resend), now).unwrap();
    assert_eq!(drain(&mut p, now), [pubrec(4)]);
}

#[test]
fn shared_acknowledgements_keep_arrival_order() {
    let now = Instant::now();
    let mut p = manual(now);
    for n in 1..=2 {
        p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, n)), now)
            .unwrap();
    }
    let acks = acks_of(&delivered(&mut p));
    p.share_ack(acks[0], 1);
    p.acknowledge(acks[0]);
    p.acknowledge(acks[1]);
    assert!(drain(&mut p, now).is_empty(), "message 1 has a consumer left");
    p.acknowledge(acks[0]);
    assert_eq!(
        drain(&mut p, now),
        [
            Packet::PubAck(PubAck::new(id(1))),
            Packet::PubAck(PubAck::new(id(2)))
        ]
    );
}

#[test]
fn acknowledgements_made_off_line_go_out_when_the_session_resumes() {
    let now = Instant::now();
    let mut p = manual(now);
    p.record_session(true);
    for (n, qos) in [
        (1, QoS::AtLeastOnce),
        (2, QoS::ExactlyOnce),
        (3, QoS::AtLeastOnce),
    ] {
        p.handle_packet(Packet::Publish(message(qos, n)), now).unwrap();
    }
    let acks = acks_of(&delivered(&mut p));
    p.acknowledge(acks[2]);
    p.connection_lost(now);
    p.acknowledge(acks[0]);
    p.acknowledge(acks[1]);
    assert_eq!(
        std::iter::from_fn(|| p.poll_session_change()).collect::<Vec<_>>(),
        [SessionChange::IncomingReceived(id(2))],
        "a QoS 2 message is recorded as received once handled"
    );
    let sent = reconnect(
        &mut p,
        ConnAck {
            session_present: true,
            ..connack()
        },
        now,
    );
    assert_eq!(
        sent,
        [
            Packet::PubAck(PubAck::new(id(1))),
            pubrec(2),
            Packet::PubAck(PubAck::new(id(3)))
        ]
    );
}

#[test]
fn a_lost_session_forgets_acknowledgements_waiting_their_turn() {
    let now = Instant::now();
    let mut p = manual(now);
    for n in 1..=2 {
        p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, n)), now)
            .unwrap();
    }
    let acks = acks_of(&delivered(&mut p));
    p.acknowledge(acks[1]);
    assert!(reconnect(&mut p, connack(), now).is_empty());
    p.acknowledge(acks[0]);
    assert!(
        drain(&mut p, now).is_empty(),
        "the server no longer knows ids 1 and 2"
    );
    // New messages are acknowledged without waiting for the old ones.
    p.handle_packet(Packet::Publish(message(QoS::AtLeastOnce, 1)), now)
        .unwrap();
    let fresh = acks_of(&delivered(&mut p));
    p.acknowledge(fresh[0]);
    assert_eq!(drain(&mut p, now), [Packet::PubAck(PubAck::new(id(1)))]);
}
