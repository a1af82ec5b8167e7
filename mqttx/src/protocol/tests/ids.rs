//! Packet identifiers: 1..=65535, shared by PUBLISH, SUBSCRIBE and
//! UNSUBSCRIBE, never one still in use [MQTT-2.2.1-3].

use std::time::Instant;

use super::super::packet_ids::PacketIds;
use super::*;

#[test]
fn ids_start_at_one_and_are_never_zero() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    for tag in 0..3 {
        publish(&mut p, "t", QoS::AtLeastOnce, tag, now);
    }
    assert_eq!(
        publishes(&drain(&mut p, now)),
        [(1, false), (2, false), (3, false)]
    );
}

#[test]
fn subscribe_unsubscribe_and_publish_share_one_id_space() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 1, now);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, now);
    p.unsubscribe(vec!["a".into()], UnsubscribeProperties::default(), 3, now);
    let ids: Vec<u16> = drain(&mut p, now)
        .iter()
        .map(|packet| match packet {
            Packet::Subscribe(s) => s.packet_id.get(),
            Packet::Publish(p) => p.packet_id.unwrap().get(),
            Packet::Unsubscribe(u) => u.packet_id.get(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    for n in 1..=3 {
        assert!(p.ids.is_used(id(n)));
    }
}

#[test]
fn ids_wrap_past_65535_skipping_those_still_in_use() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    // Hold id 1 (PUBLISH), 2 (SUBSCRIBE) and 3 (UNSUBSCRIBE) unacknowledged.
    publish(&mut p, "held", QoS::AtLeastOnce, 0, now);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 0, now);
    p.unsubscribe(vec!["a".into()], UnsubscribeProperties::default(), 0, now);
    drain(&mut p, now);
    // Cycle every other id once.
    for n in 4..=u16::MAX {
        publish(&mut p, "t", QoS::AtLeastOnce, u32::from(n), now);
        assert_eq!(publishes(&drain(&mut p, now)), [(n, false)]);
        p.handle_packet(puback(n), now).unwrap();
    }
    events(&mut p);
    // Past 65535 the allocator wraps and skips 1, 2 and 3.
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    assert_eq!(publishes(&drain(&mut p, now)), [(4, false)]);
    // Freed ids come back only when the cycle reaches them again.
    p.handle_packet(puback(1), now).unwrap();
    publish(&mut p, "t", QoS::AtLeastOnce, 2, now);
    assert_eq!(publishes(&drain(&mut p, now)), [(5, false)]);
}

#[test]
fn allocator_returns_none_when_all_in_use_and_reuses_a_released_id() {
    let mut ids = PacketIds::default();
    for n in 1..=u16::MAX {
        assert_eq!(ids.alloc(), Some(id(n)));
    }
    assert_eq!(ids.in_use(), 65_535);
    assert_eq!(ids.alloc(), None);
    ids.release(id(777));
    assert_eq!(ids.alloc(), Some(id(777)));
    assert_eq!(ids.alloc(), None);
}

#[test]
fn publishes_wait_when_subscribes_hold_every_id() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    for _ in 1..=u16::MAX {
        p.ids.alloc().unwrap();
    }
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    assert!(drain(&mut p, now).is_empty());
    assert_eq!(p.queued(), 1);
    p.ids.release(id(9));
    // An acknowledgement would send what waits; none is due, so ask directly.
    p.send_waiting(now);
    assert_eq!(publishes(&drain(&mut p, now)), [(9, false)]);
}

#[test]
fn subscribe_waits_for_a_free_id_and_goes_when_one_is_released() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now); // id 1
    drain(&mut p, now);
    while p.ids.alloc().is_some() {}
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 2, now);
    assert!(drain(&mut p, now).is_empty());
    assert_eq!(p.queued(), 1);
    p.handle_packet(puback(1), now).unwrap();
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Subscribe(s)] if s.packet_id == id(1)));
}
