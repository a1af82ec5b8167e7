//! The session journal and export/import for stores: every change is
//! queued before the packet it guards, and a restored session finishes its
//! flows as the CONNACK says.

use std::time::Instant;

use super::*;
use crate::protocol::session::StoredPublish;

fn persistent() -> Config {
    Config {
        clean_start: false,
        ..config_v5()
    }
}

fn recording(now: Instant) -> P {
    let mut p = connect_with(persistent(), connack(), now);
    p.record_session(true);
    p
}

fn changes(p: &mut P) -> Vec<SessionChange> {
    std::iter::from_fn(|| p.poll_session_change()).collect()
}

fn stored_seqs(changes: &[SessionChange]) -> Vec<(u64, u16)> {
    changes
        .iter()
        .filter_map(|change| match change {
            SessionChange::Publish(stored) => {
                Some((stored.seq, stored.publish.packet_id.map_or(0, PacketId::get)))
            }
            _ => None,
        })
        .collect()
}

fn session_present() -> ConnAck {
    ConnAck {
        session_present: true,
        ..connack()
    }
}

#[test]
fn nothing_is_recorded_unless_asked() {
    let now = Instant::now();
    let mut p = connect_with(persistent(), connack(), now);
    publish(&mut p, "t", QoS::ExactlyOnce, 1, now);
    drain(&mut p, now);
    assert!(changes(&mut p).is_empty());
}

#[test]
fn turning_recording_off_drops_what_was_not_taken() {
    let now = Instant::now();
    let mut p = recording(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    p.record_session(false);
    assert!(changes(&mut p).is_empty());
    p.record_session(true);
    assert!(
        changes(&mut p).is_empty(),
        "nor does turning it on again bring them back"
    );
}

#[test]
fn qos1_is_recorded_before_it_is_sent_and_forgotten_on_puback() {
    let now = Instant::now();
    let mut p = recording(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    // The record is there before the packet is taken for writing.
    let recorded = changes(&mut p);
    assert!(matches!(recorded.as_slice(), [SessionChange::Publish(s)]
        if s.seq == 0 && s.publish.packet_id == Some(id(1)) && !s.released && &s.publish.payload[..] == b"payload"));
    assert_eq!(publishes(&drain(&mut p, now)), [(1, false)]);
    p.handle_packet(puback(1), now).unwrap();
    assert_eq!(changes(&mut p), [SessionChange::Completed { seq: 0 }]);
}

#[test]
fn qos2_records_release_before_pubrel_and_completion_on_pubcomp() {
    let now = Instant::now();
    let mut p = recording(now);
    publish(&mut p, "t", QoS::ExactlyOnce, 1, now);
    changes(&mut p);
    drain(&mut p, now);
    p.handle_packet(Packet::PubRec(PubRec::new(id(1))), now).unwrap();
    assert_eq!(changes(&mut p), [SessionChange::Released { seq: 0 }]);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::PubRel(_)]));
    p.handle_packet(Packet::PubComp(PubComp::new(id(1))), now)
        .unwrap();
    assert_eq!(changes(&mut p), [SessionChange::Completed { seq: 0 }]);
}

#[test]
fn a_refused_publish_is_forgotten_too() {
    let now = Instant::now();
    let mut p = recording(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    changes(&mut p);
    drain(&mut p, now);
    let mut ack = PubAck::new(id(1));
    ack.reason_code = ReasonCode::NotAuthorized;
    p.handle_packet(Packet::PubAck(ack), now).unwrap();
    assert_eq!(changes(&mut p), [SessionChange::Completed { seq: 0 }]);
}

#[test]
fn incoming_qos2_is_recorded_once_and_released() {
    let now = Instant::now();
    let mut p = recording(now);
    let mut incoming = Publish::new("in", "x").qos(QoS::ExactlyOnce);
    incoming.packet_id = Some(id(7));
    p.handle_packet(Packet::Publish(incoming.clone()), now).unwrap();
    assert_eq!(changes(&mut p), [SessionChange::IncomingReceived(id(7))]);
    incoming.dup = true;
    p.handle_packet(Packet::Publish(incoming), now).unwrap();
    assert!(changes(&mut p).is_empty(), "a duplicate changes nothing");
    p.handle_packet(Packet::PubRel(PubRel::new(id(7))), now).unwrap();
    assert_eq!(changes(&mut p), [SessionChange::IncomingReleased(id(7))]);
    p.handle_packet(Packet::PubRel(PubRel::new(id(7))), now).unwrap();
    assert!(changes(&mut p).is_empty(), "an unknown PUBREL changes nothing");
}

#[test]
fn a_lost_session_keeps_each_publish_under_its_seq_until_sent_again() {
    let now = Instant::now();
    let mut p = recording(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    publish(&mut p, "t", QoS::ExactlyOnce, 2, now);
    publish(&mut p, "t", QoS::ExactlyOnce, 3, now);
    drain(&mut p, now);
    p.handle_packet(Packet::PubRec(PubRec::new(id(2))), now).unwrap();
    drain(&mut p, now);
    assert_eq!(stored_seqs(&changes(&mut p)), [(0, 1), (1, 2), (2, 3)]);

    p.connection_lost(now);
    assert!(
        changes(&mut p).is_empty(),
        "a lost connection is not a lost session"
    );
    reconnect(&mut p, connack(), now);
    let after = changes(&mut p);
    // The PUBREC'd one completed; the others go out as new messages under
    // new ids, but the same seqs: one record each, never a gap.
    assert!(after.contains(&SessionChange::Completed { seq: 1 }), "{after:?}");
    assert!(after.contains(&SessionChange::IncomingCleared), "{after:?}");
    let resent = stored_seqs(&after);
    assert_eq!(resent.iter().map(|&(seq, _)| seq).collect::<Vec<_>>(), [0, 2]);
    assert!(resent.iter().all(|&(_, id)| id > 3), "new ids: {resent:?}");
}

#[test]
fn exported_session_resumes_in_a_new_protocol_when_the_server_kept_it() {
    let now = Instant::now();
    let mut old = recording(now);
    publish(&mut old, "t", QoS::AtLeastOnce, 1, now);
    publish(&mut old, "t", QoS::ExactlyOnce, 2, now);
    publish(&mut old, "t", QoS::ExactlyOnce, 3, now);
    drain(&mut old, now);
    old.handle_packet(Packet::PubRec(PubRec::new(id(2))), now)
        .unwrap();
    let mut incoming = Publish::new("in", "x").qos(QoS::ExactlyOnce);
    incoming.packet_id = Some(id(9));
    old.handle_packet(Packet::Publish(incoming.clone()), now).unwrap();
    let state = old.session_state();
    assert_eq!(state.outgoing.len(), 3);
    assert!(state.outgoing[1].released);
    assert_eq!(state.incoming, [id(9)]);

    let mut new: P = Protocol::new(persistent());
    assert!(new.restore_session(state, |stored| 100 + stored.seq as u32));
    assert_eq!(new.inflight(), 3);
    new.connect(now);
    let connect = drain(&mut new, now);
    assert!(matches!(connect.as_slice(), [Packet::Connect(c)] if !c.clean_start));
    new.handle_packet(Packet::ConnAck(session_present()), now)
        .unwrap();
    let sent = drain(&mut new, now);
    assert!(matches!(sent.as_slice(), [
        Packet::Publish(a), Packet::PubRel(b), Packet::Publish(c)
    ] if a.packet_id == Some(id(1)) && a.dup && b.packet_id == id(2) && c.packet_id == Some(id(3)) && c.dup));

    // The incoming id came along: the server's resend is not delivered again.
    incoming.dup = true;
    new.handle_packet(Packet::Publish(incoming), now).unwrap();
    assert!(!events(&mut new).iter().any(|e| matches!(e, Event::Message(_))));

    new.handle_packet(puback(1), now).unwrap();
    new.handle_packet(Packet::PubComp(PubComp::new(id(2))), now)
        .unwrap();
    let done_events: Vec<_> = events(&mut new);
    assert_eq!(
        done_events,
        [
            done(100, Ok(ReasonCode::Success)),
            done(101, Ok(ReasonCode::Success))
        ]
    );
    // New publishes come after the restored ones, in seq and in id.
    publish(&mut new, "t", QoS::AtLeastOnce, 5, now);
    let state = new.session_state();
    let last = state.outgoing.last().unwrap();
    assert!(
        last.seq > 2 && last.publish.packet_id.unwrap().get() > 3,
        "{last:?}"
    );
}

#[test]
fn restored_session_the_server_lost_goes_out_as_new_messages() {
    let now = Instant::now();
    let mut old = recording(now);
    publish(&mut old, "t", QoS::AtLeastOnce, 1, now);
    publish(&mut old, "t", QoS::ExactlyOnce, 2, now);
    drain(&mut old, now);
    old.handle_packet(Packet::PubRec(PubRec::new(id(2))), now)
        .unwrap();
    let state = old.session_state();

    let mut new: P = Protocol::new(persistent());
    new.record_session(true);
    assert!(new.restore_session(state, |stored| stored.seq as u32));
    new.connect(now);
    drain(&mut new, now);
    new.handle_packet(Packet::ConnAck(connack()), now).unwrap();
    let sent = drain(&mut new, now);
    assert_eq!(publishes(&sent), [(3, false)], "the QoS 1 one, as a new message");
    assert!(
        events(&mut new).contains(&done(1, Ok(ReasonCode::Success))),
        "the PUBREC'd one is done"
    );
    let recorded = changes(&mut new);
    assert!(recorded.contains(&SessionChange::Completed { seq: 1 }));
    assert_eq!(stored_seqs(&recorded), [(0, 3)]);
}

#[test]
fn restore_is_refused_once_connected() {
    let now = Instant::now();
    let mut p = recording(now);
    assert!(!p.restore_session(SessionState::default(), |_| 0));
}

/// A session with one outgoing QoS 1 publish in flight, as a store keeps it.
fn one_in_flight(now: Instant) -> SessionState {
    let mut old = recording(now);
    publish(&mut old, "t", QoS::AtLeastOnce, 1, now);
    drain(&mut old, now);
    old.session_state()
}

#[test]
fn restore_is_refused_while_connecting() {
    let now = Instant::now();
    let mut p: P = Protocol::new(persistent());
    p.connect(now);
    assert!(!p.restore_session(one_in_flight(now), |_| 0));
    assert_eq!(p.inflight(), 0, "nothing was imported");
}

#[test]
fn restore_is_refused_once_publishes_are_held() {
    let now = Instant::now();
    let mut p: P = Protocol::new(persistent());
    assert!(p.restore_session(one_in_flight(now), |_| 0));
    // A second import would take the same ids and seqs again.
    assert!(!p.restore_session(one_in_flight(now), |_| 0));
    assert_eq!(p.inflight(), 1);
}

#[test]
fn a_session_state_is_empty_only_without_flows_either_way() {
    let now = Instant::now();
    assert!(SessionState::default().is_empty());
    assert!(!one_in_flight(now).is_empty());
    let incoming = SessionState {
        incoming: vec![id(1)],
        ..SessionState::default()
    };
    assert!(!incoming.is_empty());
}

#[test]
fn an_abandoned_publish_is_never_sent_and_its_id_is_free() {
    let now = Instant::now();
    let mut p = recording(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, now);
    let recorded = changes(&mut p);
    assert_eq!(stored_seqs(&recorded), [(0, 1), (1, 2)]);
    assert_eq!(p.abandon_publish(0), Some(1));
    assert_eq!(p.abandon_publish(0), None);
    assert_eq!(publishes(&drain(&mut p, now)), [(2, false)]);
    assert_eq!(p.inflight(), 1);
    assert!(!p.ids.is_used(id(1)));
}

/// A stored flight as a store would keep it: `qos`, packet id `n`, sent
/// `seq`-th, PUBREC'd or not.
fn stored(seq: u64, n: u16, qos: QoS, released: bool) -> StoredPublish {
    StoredPublish {
        seq,
        publish: Publish::new("t", "payload").qos(qos).packet_id(n),
        released,
    }
}

/// Restores `outgoing` into a new protocol and resumes the session;
/// returns what was written after CONNACK.
fn resume(outgoing: Vec<StoredPublish>, now: Instant) -> Vec<Packet> {
    let mut p: P = Protocol::new(persistent());
    let state = SessionState {
        outgoing,
        incoming: Vec::new(),
    };
    assert!(p.restore_session(state, |stored| stored.seq as u32));
    p.connect(now);
    drain(&mut p, now);
    p.handle_packet(Packet::ConnAck(session_present()), now).unwrap();
    drain(&mut p, now)
}

/// PUBRELs of a restored session follow the stored order (a store keeps
/// no PUBREC order, so send order stands in) [MQTT-4.6.0-4], whatever
/// their packet ids.
#[test]
fn restored_pubrels_go_out_in_stored_order() {
    let now = Instant::now();
    let sent = resume(
        vec![
            stored(0, 9, QoS::ExactlyOnce, true),
            stored(1, 4, QoS::ExactlyOnce, true),
            stored(2, 6, QoS::ExactlyOnce, true),
        ],
        now,
    );
    let released: Vec<u16> = sent
        .iter()
        .filter_map(|packet| match packet {
            Packet::PubRel(rel) => Some(rel.packet_id.get()),
            _ => None,
        })
        .collect();
    assert_eq!(released, [9, 4, 6], "{sent:?}");
}

/// A QoS 1 record marked released (no such flow exists) is not answered
/// with a PUBREL: it is sent again as a new message.
#[test]
fn a_restored_qos1_record_marked_released_is_sent_as_a_new_message() {
    let now = Instant::now();
    let sent = resume(vec![stored(0, 5, QoS::AtLeastOnce, true)], now);
    assert!(
        !sent.iter().any(|packet| matches!(packet, Packet::PubRel(_))),
        "{sent:?}"
    );
    assert_eq!(publishes(&sent).len(), 1, "{sent:?}");
    assert!(matches!(sent.as_slice(), [Packet::Publish(p)] if !p.dup && p.qos == QoS::AtLeastOnce));
}
