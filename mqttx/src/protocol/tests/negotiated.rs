//! Values the server negotiates in CONNACK: Assigned Client Identifier,
//! Maximum Packet Size, Maximum QoS, Retain Available (Receive Maximum is
//! in `window`, Server Keep Alive in `keepalive`, Topic Alias Maximum in
//! `aliases`).

use std::time::Instant;

use super::*;

#[test]
fn assigned_client_identifier_replaces_ours_and_is_reused_on_reconnect() {
    let now = Instant::now();
    let config = Config {
        client_id: ByteString::new(),
        ..config_v5()
    };
    let mut p = connect_with(
        config,
        connack_with(|c| c.assigned_client_identifier = Some("auto-42".into())),
        now,
    );
    assert_eq!(p.config().client_id, "auto-42");
    p.connection_lost(now);
    p.connect(now);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Connect(c)] if c.client_id == "auto-42"));
}

#[test]
fn publish_above_maximum_packet_size_is_packet_too_large_and_nothing_is_written() {
    let now = Instant::now();
    let mut p = connect_with(
        config_v5(),
        connack_with(|c| c.maximum_packet_size = Some(64)),
        now,
    );
    p.publish(Publish::new("t", vec![0u8; 100]).qos(QoS::AtLeastOnce), 1, now);
    p.publish(Publish::new("t", vec![0u8; 100]), 2, now);
    assert!(drain(&mut p, now).is_empty());
    let events = events(&mut p);
    assert!(
        matches!(events.as_slice(), [
            Event::PublishDone { tag: 1, result: Err(Error::PacketTooLarge { max: 64, size: s1 }) },
            Event::PublishDone { tag: 2, result: Err(Error::PacketTooLarge { max: 64, size: s2 }) },
        ] if *s1 > 64 && *s2 > 64),
        "{events:?}"
    );
    assert_eq!(p.inflight(), 0);
    assert!(!p.ids.is_used(id(1)), "no packet id spent");

    p.publish(Publish::new("t", "small").qos(QoS::AtLeastOnce), 3, now);
    assert_eq!(publishes(&drain(&mut p, now)), [(1, false)]);
}

#[test]
fn queued_publish_above_the_new_maximum_packet_size_fails_at_connack() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_v5());
    p.publish(Publish::new("t", vec![0u8; 100]).qos(QoS::AtLeastOnce), 1, now);
    p.connect(now);
    drain(&mut p, now);
    p.handle_packet(
        Packet::ConnAck(connack_with(|c| c.maximum_packet_size = Some(64))),
        now,
    )
    .unwrap();
    assert!(drain(&mut p, now).is_empty());
    assert!(matches!(
        events(&mut p).as_slice(),
        [
            Event::Connected { .. },
            Event::PublishDone {
                tag: 1,
                result: Err(Error::PacketTooLarge { .. })
            }
        ]
    ));
}

#[test]
fn qos_above_the_servers_maximum_qos_is_refused() {
    let now = Instant::now();
    let mut p = connect_with(
        config_v5(),
        connack_with(|c| c.maximum_qos = Some(QoS::AtLeastOnce)),
        now,
    );
    publish(&mut p, "t", QoS::ExactlyOnce, 1, now);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, now);
    assert_eq!(publishes(&drain(&mut p, now)), [(1, false)]);
    assert_eq!(
        events(&mut p),
        [done(
            1,
            Err(Error::QoSNotSupported {
                requested: QoS::ExactlyOnce,
                maximum: QoS::AtLeastOnce
            })
        )]
    );
}

#[test]
fn retain_is_refused_when_the_server_has_no_retain() {
    let now = Instant::now();
    let mut p = connect_with(
        config_v5(),
        connack_with(|c| c.retain_available = Some(false)),
        now,
    );
    p.publish(Publish::new("t", "x").retain(true), 1, now);
    p.publish(Publish::new("t", "x"), 2, now);
    assert_eq!(drain(&mut p, now).len(), 1);
    assert_eq!(
        events(&mut p),
        [
            done(1, Err(Error::RetainNotSupported)),
            done(2, Ok(ReasonCode::Success))
        ]
    );
}

#[test]
fn publishes_queued_offline_are_checked_against_the_new_limits() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_v5());
    publish(&mut p, "t", QoS::ExactlyOnce, 1, now);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, now);
    p.connect(now);
    drain(&mut p, now);
    p.handle_packet(
        Packet::ConnAck(connack_with(|c| c.maximum_qos = Some(QoS::AtLeastOnce))),
        now,
    )
    .unwrap();
    assert_eq!(publishes(&drain(&mut p, now)), [(1, false)]);
    let events = events(&mut p);
    assert!(matches!(
        events.get(1),
        Some(Event::PublishDone {
            tag: 1,
            result: Err(Error::QoSNotSupported { .. })
        })
    ));
}

#[test]
fn limits_are_per_connection() {
    let now = Instant::now();
    let mut p = connect_with(
        config_v5(),
        connack_with(|c| c.maximum_qos = Some(QoS::AtMostOnce)),
        now,
    );
    reconnect(&mut p, connack(), now);
    publish(&mut p, "t", QoS::ExactlyOnce, 1, now);
    assert_eq!(publishes(&drain(&mut p, now)).len(), 1);
}

/// A server that says it has no Subscription Identifiers (Subscription
/// Identifiers Available 0) gets SUBSCRIBEs without one; a server that
/// says nothing gets them as asked.
#[test]
fn subscription_identifiers_are_left_out_for_a_server_without_them() {
    let now = Instant::now();
    let sent_identifier = |connack: ConnAck| {
        let mut p = connect_with(config_v5(), connack, now);
        let properties = SubscribeProperties {
            subscription_identifier: Some(7),
            ..SubscribeProperties::default()
        };
        p.subscribe(subscribe_filters(&["a/b"]), properties, 1, now);
        match drain(&mut p, now).as_slice() {
            [Packet::Subscribe(subscribe)] => subscribe.properties.subscription_identifier,
            other => panic!("expected one SUBSCRIBE, got {other:?}"),
        }
    };
    assert_eq!(sent_identifier(connack()), Some(7));
    let without = connack_with(|c| c.subscription_identifiers_available = Some(false));
    assert_eq!(sent_identifier(without), None);
}
