//! The CONNACK outcome: session present (resend in original order) or
//! absent (drop, requeue, restore); reconnect flags; connect failures,
//! server DISCONNECT, AUTH, and shutting down.

use std::time::Instant;

use super::*;

/// In flight: id 1 QoS 1 (tag 1), id 2 QoS 2 PUBREC'd (tag 2), id 3 QoS 2 unacked (tag 3).
fn with_three_in_flight(now: Instant) -> P {
    let mut p = connect_with(config_persistent(), connack(), now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    publish(&mut p, "t", QoS::ExactlyOnce, 2, now);
    publish(&mut p, "t", QoS::ExactlyOnce, 3, now);
    drain(&mut p, now);
    p.handle_packet(Packet::PubRec(PubRec::new(id(2))), now).unwrap();
    drain(&mut p, now);
    p
}

fn session_present() -> ConnAck {
    ConnAck {
        session_present: true,
        ..connack()
    }
}

#[test]
fn session_present_resends_publish_with_dup_and_pubrel_in_original_order() {
    let now = Instant::now();
    let mut p = with_three_in_flight(now);
    let sent = reconnect(&mut p, session_present(), now);
    assert!(matches!(sent.as_slice(), [
        Packet::Publish(a), Packet::PubRel(b), Packet::Publish(c)
    ] if a.packet_id == Some(id(1)) && a.dup && b.packet_id == id(2) && c.packet_id == Some(id(3)) && c.dup));

    p.handle_packet(puback(1), now).unwrap();
    p.handle_packet(Packet::PubComp(PubComp::new(id(2))), now)
        .unwrap();
    p.handle_packet(Packet::PubRec(PubRec::new(id(3))), now).unwrap();
    p.handle_packet(Packet::PubComp(PubComp::new(id(3))), now)
        .unwrap();
    assert_eq!(
        events(&mut p)[1..],
        [
            done(1, Ok(ReasonCode::Success)),
            done(2, Ok(ReasonCode::Success)),
            done(3, Ok(ReasonCode::Success))
        ]
    );
}

#[test]
fn session_present_resends_only_as_many_publishes_as_the_new_window_allows() {
    let now = Instant::now();
    let mut p = with_three_in_flight(now);
    let sent = reconnect(
        &mut p,
        ConnAck {
            session_present: true,
            ..connack_with(|c| c.receive_maximum = Some(2))
        },
        now,
    );
    // PUBREL 2 is never delayed; it and PUBLISH 1 fill the window of 2.
    assert_eq!(sent.len(), 2);
    assert_eq!(publishes(&sent), [(1, true)]);
    p.handle_packet(puback(1), now).unwrap();
    assert_eq!(publishes(&drain(&mut p, now)), [(3, true)]);
}

#[test]
fn session_absent_requeues_unreceived_publishes_and_completes_pubrecd_ones() {
    let now = Instant::now();
    let mut p = with_three_in_flight(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 4, now); // goes out as id 4
    drain(&mut p, now);
    p.connection_lost(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 5, now); // queued offline
    let sent = reconnect(&mut p, connack(), now);
    // Fresh publishes (no DUP, new ids) in original order, before the queued one.
    assert_eq!(publishes(&sent), [(5, false), (6, false), (7, false), (8, false)]);
    let tags_events = events(&mut p);
    assert!(
        tags_events.contains(&done(2, Ok(ReasonCode::Success))),
        "{tags_events:?}"
    );
    assert_eq!(p.inflight(), 4);
    // Tags 1, 4, 5 are QoS 1 (ids 5, 7, 8); tag 3 is QoS 2 (id 6).
    p.handle_packet(puback(5), now).unwrap();
    p.handle_packet(Packet::PubRec(PubRec::new(id(6))), now).unwrap();
    p.handle_packet(Packet::PubComp(PubComp::new(id(6))), now)
        .unwrap();
    p.handle_packet(puback(7), now).unwrap();
    p.handle_packet(puback(8), now).unwrap();
    let tags: Vec<u32> = events(&mut p)
        .into_iter()
        .filter_map(|event| match event {
            Event::PublishDone { tag, result: Ok(_) } => Some(tag),
            _ => None,
        })
        .collect();
    assert_eq!(tags, [1, 3, 4, 5]);
}

#[test]
fn session_absent_forgets_incoming_qos2_state() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    p.handle_packet(
        Packet::Publish(Publish::new("t", "m").qos(QoS::ExactlyOnce).packet_id(7)),
        now,
    )
    .unwrap();
    events(&mut p);
    reconnect(&mut p, connack(), now);
    events(&mut p);
    p.handle_packet(
        Packet::Publish(Publish::new("t", "m").qos(QoS::ExactlyOnce).packet_id(7)),
        now,
    )
    .unwrap();
    assert_eq!(events(&mut p).len(), 1, "a new message, not a duplicate");
}

#[test]
fn session_present_keeps_incoming_qos2_state() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    p.handle_packet(
        Packet::Publish(Publish::new("t", "m").qos(QoS::ExactlyOnce).packet_id(7)),
        now,
    )
    .unwrap();
    events(&mut p);
    reconnect(&mut p, session_present(), now);
    events(&mut p);
    let mut again = Publish::new("t", "m").qos(QoS::ExactlyOnce).packet_id(7);
    again.dup = true;
    p.handle_packet(Packet::Publish(again), now).unwrap();
    assert!(events(&mut p).is_empty(), "not delivered twice");
    assert_eq!(drain(&mut p, now), [Packet::PubRec(PubRec::new(id(7)))]);
}

#[test]
fn session_absent_restores_subscriptions_silently() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.subscribe(
        subscribe_filters(&["a/#", "b"]),
        SubscribeProperties::default(),
        1,
        now,
    );
    drain(&mut p, now);
    p.handle_packet(
        suback(1, vec![ReasonCode::GrantedQoS1, ReasonCode::NotAuthorized]),
        now,
    )
    .unwrap();
    assert!(matches!(
        events(&mut p).as_slice(),
        [Event::SubscribeDone {
            tag: 1,
            result: Ok(_)
        }]
    ));
    let held: Vec<&str> = p.subscriptions().map(|(filter, _)| &**filter).collect();
    assert_eq!(held, ["a/#"], "only granted filters are held");

    let sent = reconnect(&mut p, connack(), now);
    let [Packet::Subscribe(restore)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(restore.filters, subscribe_filters(&["a/#"]));
    assert!(matches!(events(&mut p).as_slice(), [Event::Connected { .. }]));
    p.handle_packet(
        suback(restore.packet_id.get(), vec![ReasonCode::GrantedQoS1]),
        now,
    )
    .unwrap();
    assert!(events(&mut p).is_empty(), "restores complete silently");
}

#[test]
fn session_present_does_not_restore_subscriptions() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 1, now);
    drain(&mut p, now);
    p.handle_packet(suback(1, vec![ReasonCode::GrantedQoS1]), now)
        .unwrap();
    assert!(reconnect(&mut p, session_present(), now).is_empty());
}

#[test]
fn unsubscribe_forgets_the_subscription() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.subscribe(
        subscribe_filters(&["a", "b"]),
        SubscribeProperties::default(),
        1,
        now,
    );
    p.handle_packet(suback(1, vec![ReasonCode::GrantedQoS1; 2]), now)
        .unwrap();
    p.unsubscribe(vec!["a".into()], UnsubscribeProperties::default(), 2, now);
    drain(&mut p, now);
    p.handle_packet(
        Packet::UnsubAck(UnsubAck {
            packet_id: id(2),
            reason_codes: vec![ReasonCode::Success],
            properties: AckProperties::default().into(),
        }),
        now,
    )
    .unwrap();
    let held: Vec<&str> = p.subscriptions().map(|(filter, _)| &**filter).collect();
    assert_eq!(held, ["b"]);
}

#[test]
fn unacknowledged_subscribe_is_sent_again_after_reconnect() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 1, now);
    drain(&mut p, now);
    let sent = reconnect(&mut p, connack(), now);
    let [Packet::Subscribe(again)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    events(&mut p);
    p.handle_packet(suback(again.packet_id.get(), vec![ReasonCode::GrantedQoS1]), now)
        .unwrap();
    assert!(matches!(
        events(&mut p).as_slice(),
        [Event::SubscribeDone {
            tag: 1,
            result: Ok(_)
        }]
    ));
}

#[test]
fn clean_start_on_first_connect_then_resume_when_the_session_outlives_the_connection() {
    let now = Instant::now();
    let mut config = config_v5();
    config.clean_start = true;
    config.connect_properties.session_expiry_interval = Some(60);
    let mut p = connect_with(config.clone(), connack(), now);
    p.connection_lost(now);
    p.connect(now);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Connect(c)] if !c.clean_start));

    // Session Expiry 0: the session ends with the connection, so start clean.
    config.connect_properties.session_expiry_interval = None;
    let mut p = connect_with(config, connack(), now);
    p.connection_lost(now);
    p.connect(now);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Connect(c)] if c.clean_start));
}

#[test]
fn first_connect_uses_the_configured_clean_start_until_a_connack_arrives() {
    let now = Instant::now();
    let mut config = config_persistent();
    config.clean_start = true;
    let mut p: P = Protocol::new(config);
    p.connect(now);
    p.connection_lost(now);
    p.connect(now);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Connect(c)] if c.clean_start));
}

#[test]
fn connack_failure_is_connect_rejected_with_retryability() {
    let now = Instant::now();
    for (code, retryable) in [
        (ReasonCode::NotAuthorized, false),
        (ReasonCode::ServerUnavailable, true),
    ] {
        let mut p: P = Protocol::new(config_v5());
        p.connect(now);
        drain(&mut p, now);
        let rejection = ConnAck {
            reason_code: code,
            ..connack()
        };
        p.handle_packet(Packet::ConnAck(rejection.clone()), now).unwrap();
        let events = events(&mut p);
        assert_eq!(events, [Event::ConnectRejected(rejection)]);
        assert_eq!(events.first().and_then(Event::retryable), Some(retryable));
        assert!(!p.is_connected());
        assert_eq!(p.poll_timeout(), None);
    }
}

#[test]
fn server_disconnect_is_an_event() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    let disconnect = Disconnect {
        reason_code: ReasonCode::SessionTakenOver,
        ..Disconnect::default()
    };
    p.handle_packet(Packet::Disconnect(disconnect.clone()), now)
        .unwrap();
    assert_eq!(events(&mut p), [Event::ServerDisconnect(disconnect)]);
    assert!(drain(&mut p, now).is_empty());
    assert!(!p.is_connected());
}

#[test]
fn auth_from_the_server_is_a_challenge_answered_with_auth() {
    let now = Instant::now();
    let mut config = config_v5();
    // Only a CONNECT naming a method opens an exchange [MQTT-4.12.0-7].
    config.connect_properties.authentication_method = Some("TOKEN".into());
    let mut p: P = Protocol::new(config);
    p.connect(now);
    drain(&mut p, now);
    let challenge = token_challenge();
    p.handle_packet(Packet::Auth(challenge.clone()), now).unwrap();
    assert_eq!(events(&mut p), [Event::AuthChallenge(challenge.clone())]);
    p.auth(challenge.clone(), now);
    assert_eq!(drain(&mut p, now), [Packet::Auth(challenge)]);
}

#[test]
fn second_connack_is_a_protocol_error() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    assert!(p.handle_packet(Packet::ConnAck(connack()), now).is_err());
}

#[test]
fn session_present_after_clean_start_is_a_protocol_error() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_v5());
    p.connect(now);
    drain(&mut p, now);
    assert!(p.handle_packet(Packet::ConnAck(session_present()), now).is_err());
}

#[test]
fn disconnect_fails_every_pending_command_with_closed() {
    let now = Instant::now();
    let mut p = connect_with(
        Config {
            max_inflight: 1,
            ..config_v5()
        },
        connack(),
        now,
    );
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, now);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 3, now);
    drain(&mut p, now);
    p.disconnect(Disconnect::default(), now);
    assert_eq!(drain(&mut p, now), [Packet::Disconnect(Disconnect::default())]);
    assert_eq!(
        events(&mut p),
        [
            done(1, Err(Error::Closed)),
            done(2, Err(Error::Closed)),
            Event::SubscribeDone {
                tag: 3,
                result: Err(Error::Closed)
            },
        ]
    );
    assert_eq!((p.inflight(), p.queued()), (0, 0));
    publish(&mut p, "t", QoS::AtLeastOnce, 4, now);
    assert_eq!(events(&mut p), [done(4, Err(Error::Closed))]);
}

#[test]
fn packets_read_after_the_session_ended_are_dropped() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    drain(&mut p, now);
    p.disconnect(Disconnect::default(), now);
    drain(&mut p, now);
    events(&mut p);
    assert_eq!(p.handle_packet(puback(1), now), Ok(()));
    assert!(drain(&mut p, now).is_empty());
    assert!(events(&mut p).is_empty());
}
