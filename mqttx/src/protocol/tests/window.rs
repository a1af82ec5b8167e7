//! The outgoing window: min(max_inflight, server Receive Maximum), with a
//! queue behind it [MQTT-3.3.4-7].

use std::time::Instant;

use super::*;

fn config_window(max_inflight: u16) -> Config {
    Config {
        max_inflight,
        ..config_v5()
    }
}

#[test]
fn publishes_beyond_max_inflight_wait_and_go_out_in_order() {
    let now = Instant::now();
    let mut p = connect_with(config_window(3), connack(), now);
    for tag in 0..5 {
        publish(&mut p, "t", QoS::AtLeastOnce, tag, now);
    }
    assert_eq!(
        publishes(&drain(&mut p, now)),
        [(1, false), (2, false), (3, false)]
    );
    assert_eq!((p.inflight(), p.queued()), (3, 2));

    p.handle_packet(puback(2), now).unwrap();
    assert_eq!(publishes(&drain(&mut p, now)), [(4, false)]);
    p.handle_packet(puback(1), now).unwrap();
    assert_eq!(publishes(&drain(&mut p, now)), [(5, false)]);
    assert_eq!((p.inflight(), p.queued()), (3, 0));
}

#[test]
fn server_receive_maximum_lowers_the_window() {
    let now = Instant::now();
    let mut p = connect_with(
        config_window(100),
        connack_with(|c| c.receive_maximum = Some(2)),
        now,
    );
    for tag in 0..4 {
        publish(&mut p, "t", QoS::ExactlyOnce, tag, now);
    }
    assert_eq!(publishes(&drain(&mut p, now)).len(), 2);
    assert_eq!(p.queued(), 2);
}

#[test]
fn max_inflight_wins_when_lower_than_receive_maximum() {
    let now = Instant::now();
    let mut p = connect_with(
        config_window(1),
        connack_with(|c| c.receive_maximum = Some(10)),
        now,
    );
    for tag in 0..3 {
        publish(&mut p, "t", QoS::AtLeastOnce, tag, now);
    }
    assert_eq!(publishes(&drain(&mut p, now)).len(), 1);
}

#[test]
fn qos2_holds_its_window_slot_until_pubcomp() {
    let now = Instant::now();
    let mut p = connect_with(config_window(1), connack(), now);
    publish(&mut p, "t", QoS::ExactlyOnce, 1, now);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, now);
    assert_eq!(publishes(&drain(&mut p, now)), [(1, false)]);
    p.handle_packet(Packet::PubRec(PubRec::new(id(1))), now).unwrap();
    assert_eq!(drain(&mut p, now), [Packet::PubRel(PubRel::new(id(1)))]);
    p.handle_packet(Packet::PubComp(PubComp::new(id(1))), now)
        .unwrap();
    assert_eq!(publishes(&drain(&mut p, now)), [(2, false)]);
}

#[test]
fn qos0_and_subscribes_are_not_held_back_by_a_full_window() {
    let now = Instant::now();
    let mut p = connect_with(config_window(1), connack(), now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, now);
    drain(&mut p, now);
    publish(&mut p, "t", QoS::AtMostOnce, 3, now);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 4, now);
    let sent = drain(&mut p, now);
    assert!(
        matches!(sent.as_slice(), [Packet::Publish(q0), Packet::Subscribe(_)] if q0.qos == QoS::AtMostOnce)
    );
}

#[test]
fn queue_is_bounded_by_max_queued() {
    let now = Instant::now();
    let config = Config {
        max_queued: 2,
        ..config_window(1)
    };
    let mut p = connect_with(config, connack(), now);
    for tag in 0..4 {
        publish(&mut p, "t", QoS::AtLeastOnce, tag, now);
    }
    // One in flight, two queued, the fourth refused.
    assert_eq!((p.inflight(), p.queued()), (1, 2));
    assert_eq!(events(&mut p), [done(3, Err(Error::QueueFull))]);
}

#[test]
fn offline_publishes_and_subscribes_wait_for_connack() {
    let now = Instant::now();
    let config = Config {
        max_queued: 3,
        ..config_window(10)
    };
    let mut p: P = Protocol::new(config);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 2, now);
    publish(&mut p, "t", QoS::ExactlyOnce, 3, now);
    publish(&mut p, "t", QoS::ExactlyOnce, 4, now);
    assert_eq!(p.queued(), 3);
    assert_eq!(events(&mut p), [done(4, Err(Error::QueueFull))]);

    p.connect(now);
    assert!(
        matches!(drain(&mut p, now).as_slice(), [Packet::Connect(_)]),
        "only CONNECT before CONNACK"
    );
    p.handle_packet(Packet::ConnAck(connack()), now).unwrap();
    let sent = drain(&mut p, now);
    assert!(matches!(sent.first(), Some(Packet::Subscribe(_))));
    assert_eq!(publishes(&sent), [(2, false), (3, false)]);
    assert_eq!(p.queued(), 0);
}

/// With no queue at all (`max_queued` 0), a publish the window has room
/// for still goes straight out; the next, which would have to wait, is
/// refused.
#[test]
fn without_a_queue_what_fits_the_window_goes_out_and_the_rest_is_refused() {
    let now = Instant::now();
    let config = Config {
        max_queued: 0,
        ..config_window(1)
    };
    let mut p = connect_with(config, connack(), now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    assert_eq!(publishes(&drain(&mut p, now)), [(1, false)]);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, now);
    assert!(drain(&mut p, now).is_empty());
    assert_eq!((p.inflight(), p.queued()), (1, 0));
    assert_eq!(events(&mut p), [done(2, Err(Error::QueueFull))]);
}

/// `max_queued` bounds what waits while offline, subscriptions included;
/// once connected a SUBSCRIBE never waits, so it is never refused for it.
#[test]
fn max_queued_bounds_subscribes_only_while_they_wait() {
    let now = Instant::now();
    let config = || Config {
        max_queued: 1,
        ..config_v5()
    };
    let mut offline: P = Protocol::new(config());
    offline.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 1, now);
    offline.subscribe(subscribe_filters(&["b"]), SubscribeProperties::default(), 2, now);
    assert!(matches!(
        events(&mut offline).as_slice(),
        [Event::SubscribeDone {
            tag: 2,
            result: Err(Error::QueueFull)
        }]
    ));

    let mut p = connect_with(
        Config {
            max_queued: 0,
            ..config()
        },
        connack(),
        now,
    );
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 1, now);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Subscribe(_)]));
    assert!(events(&mut p).is_empty());
}
