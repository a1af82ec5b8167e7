//! Keep-alive: PINGREQ after a quiet interval, ours or the server's, dead
//! on a late PINGRESP;
//! the CONNACK deadline.

use std::time::{Duration, Instant};

use super::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn connect_keep_alive(keep_alive: u16, ping_timeout: Option<Duration>, now: Instant) -> P {
    let config = Config {
        keep_alive,
        ping_timeout,
        ..config_v5()
    };
    connect_with(config, connack(), now)
}

#[test]
fn pingreq_when_nothing_was_sent_for_the_keep_alive_interval() {
    let t0 = Instant::now();
    let mut p = connect_keep_alive(10, None, t0);
    assert_eq!(p.poll_timeout(), Some(t0 + secs(10)));
    p.handle_timeout(t0 + secs(9));
    assert!(drain(&mut p, t0 + secs(9)).is_empty());
    p.handle_timeout(t0 + secs(10));
    assert_eq!(drain(&mut p, t0 + secs(10)), [Packet::PingReq]);
}

#[test]
fn any_packet_sent_postpones_the_ping() {
    let t0 = Instant::now();
    let mut p = connect_keep_alive(10, None, t0);
    // The server speaks too: only our own silence can make a ping due.
    p.handle_packet(Packet::Publish(Publish::new("t", "m")), t0 + secs(6))
        .unwrap();
    publish(&mut p, "t", QoS::AtMostOnce, 1, t0 + secs(6));
    drain(&mut p, t0 + secs(6));
    assert_eq!(p.poll_timeout(), Some(t0 + secs(16)));
    p.handle_timeout(t0 + secs(10));
    assert!(drain(&mut p, t0 + secs(10)).is_empty());
}

#[test]
fn a_server_silent_for_the_interval_is_pinged_while_we_keep_sending() {
    let t0 = Instant::now();
    let mut p = connect_keep_alive(10, None, t0);
    for second in 1..=10 {
        let now = t0 + secs(second);
        publish(&mut p, "t", QoS::AtMostOnce, 1, now);
        p.handle_timeout(now);
        let sent = drain(&mut p, now);
        let pinged = sent.contains(&Packet::PingReq);
        assert_eq!(pinged, second == 10, "at {second} s: {sent:?}");
    }
    // Nothing received for the interval since CONNACK, and no PINGRESP.
    events(&mut p);
    p.handle_timeout(t0 + secs(20));
    assert_eq!(events(&mut p), [Event::Timeout(TimeoutKind::PingResp)]);
}

#[test]
fn receiving_does_not_postpone_the_ping() {
    let t0 = Instant::now();
    let mut p = connect_keep_alive(10, None, t0);
    p.handle_packet(Packet::Publish(Publish::new("t", "m")), t0 + secs(8))
        .unwrap();
    p.handle_timeout(t0 + secs(10));
    assert_eq!(drain(&mut p, t0 + secs(10)), [Packet::PingReq]);
}

#[test]
fn overdue_pingresp_declares_the_connection_dead() {
    let t0 = Instant::now();
    let mut p = connect_keep_alive(10, None, t0);
    p.handle_timeout(t0 + secs(10));
    drain(&mut p, t0 + secs(10));
    // The ping timeout defaults to one keep-alive interval.
    assert_eq!(p.poll_timeout(), Some(t0 + secs(20)));
    p.handle_timeout(t0 + secs(19));
    assert!(events(&mut p).is_empty());
    p.handle_timeout(t0 + secs(20));
    assert_eq!(events(&mut p), [Event::Timeout(TimeoutKind::PingResp)]);
    assert!(!p.is_connected());
    assert_eq!(p.poll_timeout(), None);
}

#[test]
fn pingresp_in_time_keeps_the_connection() {
    let t0 = Instant::now();
    let mut p = connect_keep_alive(10, Some(secs(3)), t0);
    p.handle_timeout(t0 + secs(10));
    drain(&mut p, t0 + secs(10));
    assert_eq!(p.poll_timeout(), Some(t0 + secs(13)));
    p.handle_packet(Packet::PingResp, t0 + secs(12)).unwrap();
    assert_eq!(p.poll_timeout(), Some(t0 + secs(20)));
    p.handle_timeout(t0 + secs(13));
    assert!(events(&mut p).is_empty());
    assert!(p.is_connected());
}

#[test]
fn keep_alive_zero_sends_no_pings() {
    let t0 = Instant::now();
    let mut p = connect_keep_alive(0, None, t0);
    assert_eq!(p.poll_timeout(), None);
    p.handle_timeout(t0 + secs(100_000));
    assert!(drain(&mut p, t0 + secs(100_000)).is_empty());
}

#[test]
fn server_keep_alive_replaces_ours() {
    let t0 = Instant::now();
    let config = Config {
        keep_alive: 60,
        ..config_v5()
    };
    let p = connect_with(config, connack_with(|c| c.server_keep_alive = Some(5)), t0);
    assert_eq!(p.config().keep_alive, 5);
    assert_eq!(p.poll_timeout(), Some(t0 + secs(5)));
}

#[test]
fn overdue_connack_is_a_timeout() {
    let t0 = Instant::now();
    let config = Config {
        connect_timeout: secs(4),
        keep_alive: 30,
        ..config_v5()
    };
    let mut p: P = Protocol::new(config);
    p.connect(t0);
    drain(&mut p, t0);
    assert_eq!(p.poll_timeout(), Some(t0 + secs(4)));
    p.handle_timeout(t0 + secs(3));
    assert!(events(&mut p).is_empty());
    p.handle_timeout(t0 + secs(4));
    assert_eq!(events(&mut p), [Event::Timeout(TimeoutKind::ConnAck)]);
    assert_eq!(p.poll_timeout(), None);
}
