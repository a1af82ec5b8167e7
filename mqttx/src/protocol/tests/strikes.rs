//! A publish the server answers by closing the connection is given up after
//! three such closes; closes it cannot be blamed for do not count.

use std::time::Duration;

use super::*;
use crate::protocol::outgoing::{PROMPT_CLOSE, STRIKES_TO_ABANDON};

fn abandoned(tag: u32) -> Event<u32> {
    done(
        tag,
        Err(Error::PublishAbandoned {
            attempts: STRIKES_TO_ABANDON,
        }),
    )
}

/// The publishes that ended, as their events.
fn ended(p: &mut P) -> Vec<Event<u32>> {
    events(p)
        .into_iter()
        .filter(|event| matches!(event, Event::PublishDone { .. }))
        .collect()
}

/// The server closes the connection: what the shell does on EOF.
fn server_closes(p: &mut P, now: Instant) {
    p.server_closed(now);
    p.connection_lost(now);
}

fn session_present() -> ConnAck {
    ConnAck {
        session_present: true,
        ..connack()
    }
}

#[test]
fn a_publish_the_server_closes_on_three_times_fails_and_the_queue_goes_on() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "poison", QoS::AtLeastOnce, 1, now);
    assert_eq!(publishes(&drain(&mut p, now)), [(1, false)]);
    for close in 1..STRIKES_TO_ABANDON {
        server_closes(&mut p, now);
        assert!(ended(&mut p).is_empty(), "close {close}: still pending");
        // No session on the server: it goes out again as a new message.
        let resent = reconnect(&mut p, connack(), now);
        match resent.as_slice() {
            [Packet::Publish(again)] => assert_eq!((again.topic.as_ref(), again.dup), ("poison", false)),
            other => panic!("close {close}: expected it sent again, got {other:?}"),
        }
    }
    publish(&mut p, "next", QoS::AtLeastOnce, 2, now);
    server_closes(&mut p, now);
    assert_eq!(ended(&mut p), [abandoned(1)]);
    assert_eq!(p.inflight() + p.queued(), 1, "only the next one is left");
    let sent = reconnect(&mut p, connack(), now);
    match sent.as_slice() {
        [Packet::Publish(next)] => assert_eq!(next.topic, "next"),
        other => panic!("expected the next publish alone, got {other:?}"),
    }
}

#[test]
fn strikes_count_across_resumed_sessions_too() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    publish(&mut p, "poison", QoS::ExactlyOnce, 1, now);
    drain(&mut p, now);
    for _ in 1..STRIKES_TO_ABANDON {
        server_closes(&mut p, now);
        let resent = reconnect(&mut p, session_present(), now);
        assert_eq!(publishes(&resent), [(1, true)], "resent with DUP, same id");
    }
    server_closes(&mut p, now);
    assert_eq!(ended(&mut p), [abandoned(1)]);
    assert_eq!(p.inflight(), 0);
}

#[test]
fn a_close_after_the_server_answered_something_later_is_not_the_publishs_fault() {
    let start = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), start);
    publish(&mut p, "slow", QoS::AtLeastOnce, 1, start);
    drain(&mut p, start);
    for round in 0..2 * u32::from(STRIKES_TO_ABANDON) {
        let now = start + Duration::from_millis(u64::from(round) * 10 + 5);
        // Another publish, written after "slow" and acknowledged: the
        // server was still answering when it closed.
        publish(&mut p, "other", QoS::AtLeastOnce, 100 + round, now);
        let [(other, _)] = publishes(&drain(&mut p, now))[..] else {
            panic!("round {round}: one publish written");
        };
        p.handle_packet(puback(other), now).unwrap();
        server_closes(&mut p, now);
        reconnect(&mut p, session_present(), now + Duration::from_millis(1));
        let ended = ended(&mut p);
        assert_eq!(
            ended,
            [done(100 + round, Ok(ReasonCode::Success))],
            "round {round}"
        );
    }
    p.handle_packet(puback(1), start + Duration::from_secs(1))
        .unwrap();
    assert_eq!(ended(&mut p), [done(1, Ok(ReasonCode::Success))]);
}

#[test]
fn only_the_oldest_publish_the_server_did_not_answer_takes_the_blame() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    publish(&mut p, "poison", QoS::AtLeastOnce, 1, now);
    publish(&mut p, "fine", QoS::AtLeastOnce, 2, now);
    drain(&mut p, now);
    for _ in 0..STRIKES_TO_ABANDON {
        server_closes(&mut p, now);
        reconnect(&mut p, session_present(), now);
    }
    assert_eq!(ended(&mut p), [abandoned(1)]);
    p.handle_packet(puback(2), now).unwrap();
    assert_eq!(ended(&mut p), [done(2, Ok(ReasonCode::Success))]);
}

#[test]
fn closes_while_a_publish_waits_for_its_resend_do_not_count() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    publish(&mut p, "waiting", QoS::AtLeastOnce, 1, now);
    drain(&mut p, now);
    server_closes(&mut p, now);
    // Offline, and then connections the server closes before CONNACK:
    // the publish was never written on them.
    for _ in 0..STRIKES_TO_ABANDON {
        p.connect(now);
        drain(&mut p, now);
        p.server_closed(now);
        p.connection_lost(now);
    }
    assert!(ended(&mut p).is_empty());
    assert_eq!(p.inflight(), 1);
}

#[test]
fn a_broker_restarting_twice_under_a_publish_does_not_fail_it() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    drain(&mut p, now);
    for _ in 1..STRIKES_TO_ABANDON {
        server_closes(&mut p, now);
        reconnect(&mut p, session_present(), now);
    }
    p.handle_packet(puback(1), now).unwrap();
    assert_eq!(ended(&mut p), [done(1, Ok(ReasonCode::Success))]);
}

#[test]
fn a_close_long_after_the_publish_was_written_is_a_struggling_server_not_the_message() {
    // A cluster electing a new leader takes the publish, cannot store it,
    // and closes when its own timeout runs out: seconds, not at once.
    let start = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), start);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, start);
    drain(&mut p, start);
    let mut now = start;
    for _ in 0..2 * STRIKES_TO_ABANDON {
        now += PROMPT_CLOSE + Duration::from_secs(3);
        server_closes(&mut p, now);
        reconnect(&mut p, session_present(), now);
        assert!(ended(&mut p).is_empty());
    }
    p.handle_packet(puback(1), now).unwrap();
    assert_eq!(ended(&mut p), [done(1, Ok(ReasonCode::Success))]);
}

#[test]
fn a_disconnect_right_after_the_publish_counts_against_it() {
    // An MQTT 5 server can say why it closes; the DISCONNECT itself is
    // not an answer to the publish, though it comes after it.
    let start = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), start);
    publish(&mut p, "t", QoS::ExactlyOnce, 1, start);
    drain(&mut p, start);
    let mut now = start;
    for round in 0..STRIKES_TO_ABANDON {
        now += Duration::from_millis(10);
        let refusal = Disconnect {
            reason_code: ReasonCode::QoSNotSupported,
            ..Disconnect::default()
        };
        p.handle_packet(Packet::Disconnect(refusal), now).unwrap();
        server_closes(&mut p, now);
        if round + 1 < STRIKES_TO_ABANDON {
            reconnect(&mut p, session_present(), now);
        }
    }
    assert_eq!(ended(&mut p), [abandoned(1)]);
}

/// A close that comes exactly `PROMPT_CLOSE` after the write still
/// counts against the publish.
#[test]
fn a_close_exactly_prompt_close_after_the_write_still_counts() {
    let mut now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "poison", QoS::AtLeastOnce, 1, now);
    drain(&mut p, now);
    for close in 1..STRIKES_TO_ABANDON {
        now += PROMPT_CLOSE;
        server_closes(&mut p, now);
        assert!(ended(&mut p).is_empty(), "close {close}: still pending");
        assert_eq!(publishes(&reconnect(&mut p, connack(), now)).len(), 1);
    }
    now += PROMPT_CLOSE;
    server_closes(&mut p, now);
    assert_eq!(ended(&mut p), [abandoned(1)]);
}
