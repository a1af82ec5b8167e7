//! MQTT 3.1.1: no properties, no reason codes in acks, no AUTH, and
//! resends after `retry_interval` while connected.

use std::time::{Duration, Instant};

use super::*;

fn connect_v311(now: Instant) -> P {
    connect_with(config_v311(), connack(), now)
}

#[test]
fn connect_carries_no_v5_properties() {
    let now = Instant::now();
    let mut config = config_v311();
    config.clean_start = false;
    config.keep_alive = 30;
    config.username = Some("user".into());
    config.connect_properties.receive_maximum = Some(10);
    config.connect_properties.session_expiry_interval = Some(60);
    let mut will = LastWill::new("will", "gone");
    will.properties.message_expiry_interval = Some(5);
    config.will = Some(will);
    let mut p: P = Protocol::new(config);
    p.connect(now);
    let sent = drain(&mut p, now);
    let [Packet::Connect(connect)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(connect.protocol, ProtocolVersion::V311);
    assert_eq!(connect.properties, ConnectProperties::default());
    assert_eq!(connect.will, Some(LastWill::new("will", "gone")));
    assert_eq!((connect.clean_start, connect.keep_alive), (false, 30));
    assert_eq!(connect.username.as_deref(), Some("user"));
}

#[test]
fn v5_connect_carries_the_configured_properties() {
    let now = Instant::now();
    let mut config = config_v5();
    config.connect_properties.receive_maximum = Some(10);
    let mut p: P = Protocol::new(config);
    p.connect(now);
    let sent = drain(&mut p, now);
    assert!(matches!(sent.as_slice(),
        [Packet::Connect(c)] if c.protocol == ProtocolVersion::V5 && c.properties.receive_maximum == Some(10)));
}

#[test]
fn clean_session_false_is_kept_on_reconnect() {
    let now = Instant::now();
    let mut config = config_v311();
    config.clean_start = false;
    let mut p = connect_with(config, connack(), now);
    p.connection_lost(now);
    p.connect(now);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Connect(c)] if !c.clean_start));
}

#[test]
fn unacknowledged_publish_and_pubrel_are_resent_after_retry_interval() {
    let t0 = Instant::now();
    let mut p = connect_v311(t0);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, t0);
    publish(&mut p, "t", QoS::ExactlyOnce, 2, t0);
    drain(&mut p, t0);
    let retry = Duration::from_secs(5);
    assert_eq!(p.poll_timeout(), Some(t0 + retry));

    let t1 = t0 + Duration::from_secs(2);
    p.handle_packet(Packet::PubRec(PubRec::new(id(2))), t1).unwrap();
    drain(&mut p, t1);

    // At t0+5 only the PUBLISH has waited long enough; the PUBREL waits until t1+5.
    p.handle_timeout(t0 + retry);
    assert_eq!(publishes(&drain(&mut p, t0 + retry)), [(1, true)]);
    assert_eq!(p.poll_timeout(), Some(t1 + retry));
    p.handle_timeout(t1 + retry);
    assert_eq!(drain(&mut p, t1 + retry), [Packet::PubRel(PubRel::new(id(2)))]);

    p.handle_packet(puback(1), t1 + retry).unwrap();
    p.handle_packet(Packet::PubComp(PubComp::new(id(2))), t1 + retry)
        .unwrap();
    assert_eq!(
        events(&mut p),
        [done(1, Ok(ReasonCode::Success)), done(2, Ok(ReasonCode::Success))]
    );
}

#[test]
fn pubrel_for_an_unknown_id_gets_a_plain_pubcomp() {
    let now = Instant::now();
    let mut p = connect_v311(now);
    p.handle_packet(Packet::PubRel(PubRel::new(id(42))), now).unwrap();
    assert_eq!(drain(&mut p, now), [Packet::PubComp(PubComp::new(id(42)))]);
}

#[test]
fn disconnect_carries_no_reason() {
    let now = Instant::now();
    let mut p = connect_v311(now);
    let mut disconnect = Disconnect {
        reason_code: ReasonCode::DisconnectWithWillMessage,
        ..Disconnect::default()
    };
    disconnect.properties.session_expiry_interval = Some(5);
    p.disconnect(disconnect, now);
    assert_eq!(drain(&mut p, now), [Packet::Disconnect(Disconnect::default())]);
}

#[test]
fn protocol_errors_queue_no_disconnect() {
    let now = Instant::now();
    let mut p = connect_v311(now);
    assert!(p.handle_packet(Packet::PingReq, now).is_err());
    assert!(drain(&mut p, now).is_empty());
}

#[test]
fn auth_and_server_disconnect_do_not_exist() {
    let now = Instant::now();
    let mut p = connect_v311(now);
    assert!(p.handle_packet(Packet::Auth(Auth::default()), now).is_err());
    assert!(p
        .handle_packet(Packet::Disconnect(Disconnect::default()), now)
        .is_err());
    p.auth(Auth::default(), now);
    assert!(drain(&mut p, now).is_empty());
}

#[test]
fn unsuback_without_codes_removes_every_filter() {
    let now = Instant::now();
    let mut p = connect_v311(now);
    p.subscribe(
        subscribe_filters(&["a", "b"]),
        SubscribeProperties::default(),
        1,
        now,
    );
    p.handle_packet(suback(1, vec![ReasonCode::GrantedQoS1; 2]), now)
        .unwrap();
    p.unsubscribe(
        vec!["a".into(), "b".into()],
        UnsubscribeProperties::default(),
        2,
        now,
    );
    p.handle_packet(
        Packet::UnsubAck(UnsubAck {
            packet_id: id(2),
            reason_codes: Vec::new(),
            properties: AckProperties::default().into(),
        }),
        now,
    )
    .unwrap();
    assert_eq!(p.subscriptions().count(), 0);
    assert!(matches!(
        events(&mut p).last(),
        Some(Event::UnsubscribeDone {
            tag: 2,
            result: Ok(_)
        })
    ));
}

#[test]
fn session_absent_restores_subscriptions_on_v311_too() {
    let now = Instant::now();
    let mut p = connect_v311(now);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 1, now);
    p.handle_packet(suback(1, vec![ReasonCode::GrantedQoS1]), now)
        .unwrap();
    let sent = reconnect(&mut p, connack(), now);
    assert!(matches!(sent.as_slice(), [Packet::Subscribe(s)] if s.filters == subscribe_filters(&["a"])));
}

/// The retry timer runs only while something waits for its
/// acknowledgement, from when it was sent.
#[test]
fn the_retry_timer_starts_with_the_first_unacknowledged_packet() {
    let t0 = Instant::now();
    let mut p = connect_v311(t0);
    assert_eq!(p.poll_timeout(), None, "nothing in flight, nothing to retry");
    let t1 = t0 + Duration::from_secs(3);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, t1);
    drain(&mut p, t1);
    assert_eq!(p.poll_timeout(), Some(t1 + Duration::from_secs(5)));
}
