//! Manual acknowledgement with a session store (the path async
//! `#[mqtt_handler]` methods take): a QoS 2 message is recorded as received
//! when the shell acknowledges it, before its PUBREC, so a process
//! restarted from the store answers the server's resend without
//! delivering it again; a message never acknowledged is delivered again.

use super::*;

/// A restarted process: a manual-ack protocol recording its session,
/// resumed from what the store kept, connected to a server that kept the
/// session too.
fn restarted(kept: SessionState, now: Instant) -> P {
    let mut p = Protocol::new(config_persistent());
    p.manual_acks(true);
    p.record_session(true);
    assert!(p.restore_session(kept, |_| 0));
    p.connect(now);
    drain(&mut p, now);
    let resumed = ConnAck {
        session_present: true,
        ..connack()
    };
    p.handle_packet(Packet::ConnAck(resumed), now).unwrap();
    events(&mut p);
    drain(&mut p, now);
    p
}

/// Applies the recorded changes to `store`, as the shell does before it
/// writes the packets queued after them.
fn persist(p: &mut P, store: &mut SessionState) {
    while let Some(change) = p.poll_session_change() {
        match change {
            SessionChange::IncomingReceived(id) => store.incoming.push(id),
            SessionChange::IncomingReleased(id) => store.incoming.retain(|&kept| kept != id),
            SessionChange::IncomingCleared => store.incoming.clear(),
            _ => {}
        }
    }
}

fn qos2(n: u16, dup: bool) -> Packet {
    let mut publish = Publish::new("t", "m").qos(QoS::ExactlyOnce).packet_id(n);
    publish.dup = dup;
    Packet::Publish(publish)
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
fn a_handled_qos2_message_is_not_delivered_again_by_a_restarted_process() {
    let now = Instant::now();
    let mut store = SessionState::default();
    let mut p = restarted(store.clone(), now);
    p.handle_packet(qos2(7, false), now).unwrap();
    let msgs = delivered(&mut p);
    assert_eq!(msgs.len(), 1);
    p.acknowledge(Ack::of(&msgs[0]).unwrap());
    // Persisted before the PUBREC is taken for writing.
    persist(&mut p, &mut store);
    assert_eq!(store.incoming, [id(7)], "recorded when acknowledged");
    assert_eq!(drain(&mut p, now), [Packet::PubRec(PubRec::new(id(7)))]);

    // The process stops before the PUBREC reaches the server, which resends.
    let mut p = restarted(store.clone(), now);
    p.handle_packet(qos2(7, true), now).unwrap();
    assert!(delivered(&mut p).is_empty(), "delivered twice");
    assert_eq!(
        drain(&mut p, now),
        [Packet::PubRec(PubRec::new(id(7)))],
        "answered at once: the message was handled before the restart"
    );
    p.handle_packet(Packet::PubRel(PubRel::new(id(7))), now).unwrap();
    assert_eq!(drain(&mut p, now), [Packet::PubComp(PubComp::new(id(7)))]);
    persist(&mut p, &mut store);
    assert!(store.incoming.is_empty(), "released: {store:?}");
}

#[test]
fn a_qos2_message_never_acknowledged_is_delivered_again_after_a_restart() {
    let now = Instant::now();
    let mut store = SessionState::default();
    let mut p = restarted(store.clone(), now);
    p.handle_packet(qos2(8, false), now).unwrap();
    assert_eq!(delivered(&mut p).len(), 1);
    persist(&mut p, &mut store);
    assert!(
        store.incoming.is_empty(),
        "recorded before it was handled: a crash now would lose it"
    );

    let mut p = restarted(store, now);
    p.handle_packet(qos2(8, true), now).unwrap();
    let again = delivered(&mut p);
    assert_eq!(again.len(), 1, "the handler never finished it");
    assert!(drain(&mut p, now).is_empty(), "no PUBREC before it is handled");
    p.acknowledge(Ack::of(&again[0]).unwrap());
    assert_eq!(drain(&mut p, now), [Packet::PubRec(PubRec::new(id(8)))]);
}
