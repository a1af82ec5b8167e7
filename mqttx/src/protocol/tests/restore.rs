//! Restoring many subscriptions after the server lost the session: one
//! SUBSCRIBE per run of equal Subscription Identifiers, at most 32 filters
//! each, every filter in its original order and with its identifier.

use super::*;

/// Subscribes `count` filters `prefix/0..` with `identifier` and grants them.
fn subscribe_run(p: &mut P, prefix: &str, count: usize, identifier: Option<u32>, now: Instant) {
    let filters: Vec<_> = (0..count)
        .map(|n| {
            (
                ByteString::from(format!("{prefix}/{n}")),
                SubscriptionOptions::new(QoS::AtLeastOnce),
            )
        })
        .collect();
    let properties = SubscribeProperties {
        subscription_identifier: identifier,
        ..SubscribeProperties::default()
    };
    p.subscribe(filters, properties, 0, now);
    let sent = drain(p, now);
    let [Packet::Subscribe(subscribe)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    let granted = vec![ReasonCode::GrantedQoS1; count];
    p.handle_packet(suback(subscribe.packet_id.get(), granted), now)
        .unwrap();
    events(p);
}

#[test]
fn every_run_is_restored_in_chunks_of_at_most_32_filters() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    subscribe_run(&mut p, "a", 40, Some(1), now);
    subscribe_run(&mut p, "b", 3, Some(2), now);
    subscribe_run(&mut p, "c", 33, None, now);

    let sent = reconnect(&mut p, connack(), now);
    let restored: Vec<(Option<u32>, Vec<String>)> = sent
        .iter()
        .map(|packet| match packet {
            Packet::Subscribe(s) => (
                s.properties.subscription_identifier,
                s.filters.iter().map(|(f, _)| f.to_string()).collect(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    let runs: Vec<(Option<u32>, usize)> = restored.iter().map(|(id, f)| (*id, f.len())).collect();
    assert_eq!(
        runs,
        [(Some(1), 32), (Some(1), 8), (Some(2), 3), (None, 32), (None, 1)]
    );
    let filters: Vec<String> = restored.into_iter().flat_map(|(_, f)| f).collect();
    let expected: Vec<String> = [("a", 40), ("b", 3), ("c", 33)]
        .into_iter()
        .flat_map(|(prefix, count)| (0..count).map(move |n| format!("{prefix}/{n}")))
        .collect();
    assert_eq!(filters, expected, "every filter, once, in order");
}

/// The filters of the SUBSCRIBEs among `sent`, in order.
fn subscribed(sent: &[Packet]) -> Vec<String> {
    sent.iter()
        .filter_map(|packet| match packet {
            Packet::Subscribe(s) => Some(s.filters.iter().map(|(f, _)| f.to_string())),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn a_restore_not_yet_sent_is_replaced_not_repeated_when_the_session_is_lost_again() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    subscribe_run(&mut p, "a", 2, None, now);
    // The connection drops right after a CONNACK without the session,
    // before the restoring SUBSCRIBE is written.
    p.connection_lost(now);
    p.connect(now);
    drain(&mut p, now);
    p.handle_packet(Packet::ConnAck(connack()), now).unwrap();
    let sent = reconnect(&mut p, connack(), now);
    assert_eq!(subscribed(&sent), ["a/0", "a/1"], "restored once");
}

#[test]
fn unacknowledged_subscribes_are_sent_again_in_their_order() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    let topics: Vec<String> = (0..8).map(|n| format!("t/{n}")).collect();
    for (n, topic) in topics.iter().enumerate() {
        let filter = (
            ByteString::from(topic.clone()),
            SubscriptionOptions::new(QoS::AtLeastOnce),
        );
        p.subscribe(vec![filter], SubscribeProperties::default(), n as u32, now);
    }
    assert_eq!(subscribed(&drain(&mut p, now)), topics);
    let session_present = ConnAck {
        session_present: true,
        ..connack()
    };
    assert_eq!(subscribed(&reconnect(&mut p, session_present, now)), topics);
}

/// A refused re-subscribe leaves the subscription held as it was; a
/// refused restore forgets the filter, so the next lost session does not
/// ask for it again.
#[test]
fn a_refused_resubscribe_keeps_the_subscription_and_a_refused_restore_forgets_it() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    subscribe_run(&mut p, "a", 1, None, now);
    p.subscribe(
        subscribe_filters(&["a/0"]),
        SubscribeProperties::default(),
        0,
        now,
    );
    let sent = drain(&mut p, now);
    let [Packet::Subscribe(again)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    let refused = vec![ReasonCode::UnspecifiedError];
    p.handle_packet(suback(again.packet_id.get(), refused.clone()), now)
        .unwrap();
    events(&mut p);

    let sent = reconnect(&mut p, connack(), now);
    let [Packet::Subscribe(restore)] = sent.as_slice() else {
        panic!("the held subscription is restored: {sent:?}")
    };
    let filters: Vec<&str> = restore
        .filters
        .iter()
        .map(|(filter, _)| filter.as_ref())
        .collect();
    assert_eq!(filters, ["a/0"]);
    p.handle_packet(suback(restore.packet_id.get(), refused), now)
        .unwrap();
    let sent = reconnect(&mut p, connack(), now);
    assert!(sent.is_empty(), "a refused restore is forgotten: {sent:?}");
}
