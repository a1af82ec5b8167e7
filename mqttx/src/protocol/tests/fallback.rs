//! Falling back to MQTT 3.1.1 for a server that does not speak MQTT 5.

use std::time::Instant;

use super::*;

fn config_auto() -> Config {
    Config {
        fallback: Some(Fallback { max_inflight: 20 }),
        ..config_v5()
    }
}

fn connect_version(p: &mut P, now: Instant) -> ProtocolVersion {
    p.connect(now);
    match drain(p, now).as_slice() {
        [Packet::Connect(connect)] => connect.protocol,
        other => panic!("expected CONNECT, got {other:?}"),
    }
}

fn refusal_v311() -> ConnAck {
    ConnAck {
        reason_code: ReasonCode::UnsupportedProtocolVersion,
        ..ConnAck::default()
    }
}

#[test]
fn the_311_refusal_makes_the_next_connect_speak_311_with_its_window() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_auto());
    assert_eq!(connect_version(&mut p, now), ProtocolVersion::V5);
    p.handle_packet(Packet::ConnAck(refusal_v311()), now).unwrap();
    assert_eq!(
        events(&mut p),
        [Event::VersionFallback],
        "not a refusal to report"
    );
    assert_eq!(p.config().version, ProtocolVersion::V311);
    assert_eq!(p.config().max_inflight, 20);

    p.connection_lost(now);
    assert_eq!(connect_version(&mut p, now), ProtocolVersion::V311);
    p.handle_packet(Packet::ConnAck(connack()), now).unwrap();
    assert!(matches!(events(&mut p).as_slice(), [Event::Connected { .. }]));

    // Remembered: a reconnect, even one closed before CONNACK, stays on 3.1.1.
    p.connection_lost(now);
    assert_eq!(connect_version(&mut p, now), ProtocolVersion::V311);
    p.connection_lost(now);
    assert!(events(&mut p).is_empty());
    assert_eq!(connect_version(&mut p, now), ProtocolVersion::V311);
}

#[test]
fn a_close_before_connack_falls_back_once_then_tries_5_again() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_auto());
    assert_eq!(connect_version(&mut p, now), ProtocolVersion::V5);
    p.connection_lost(now);
    assert_eq!(events(&mut p), [Event::VersionFallback]);
    assert_eq!(connect_version(&mut p, now), ProtocolVersion::V311);
    // 3.1.1 got no CONNACK either: the server was not the problem.
    p.connection_lost(now);
    assert!(events(&mut p).is_empty(), "no second fallback event");
    assert_eq!(connect_version(&mut p, now), ProtocolVersion::V5);
    assert_eq!(p.config().max_inflight, 100, "the MQTT 5 window is back");
}

#[test]
fn once_connected_on_5_the_client_never_falls_back() {
    let now = Instant::now();
    let mut p = connect_with(config_auto(), connack(), now);
    p.connection_lost(now);
    assert_eq!(connect_version(&mut p, now), ProtocolVersion::V5);
    p.connection_lost(now);
    p.connect(now);
    drain(&mut p, now);
    p.handle_packet(Packet::ConnAck(refusal_v311()), now).unwrap();
    assert!(matches!(events(&mut p).as_slice(), [Event::ConnectRejected(_)]));
    assert_eq!(p.config().version, ProtocolVersion::V5);
}

#[test]
fn a_pinned_version_never_falls_back() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_v5());
    connect_version(&mut p, now);
    p.handle_packet(Packet::ConnAck(refusal_v311()), now).unwrap();
    assert!(matches!(events(&mut p).as_slice(), [Event::ConnectRejected(_)]));
    p.connection_lost(now);
    assert_eq!(connect_version(&mut p, now), ProtocolVersion::V5);
    p.connection_lost(now);
    assert!(events(&mut p).is_empty());
    assert_eq!(connect_version(&mut p, now), ProtocolVersion::V5);
}
