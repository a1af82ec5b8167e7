//! A handler's many routes after a broker restart that lost the session,
//! against mosquitto: every filter is subscribed again — across several
//! runs of equal Subscription Identifiers, and across a run longer than
//! one restoring SUBSCRIBE carries (32 filters) — and a message on each
//! arrives.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use mqttx::packet::SubscriptionOptions;
use mqttx::{Client, ProtocolVersion, QoS, Subscription};
use mqttx_tests::events::{recorder, Events, Seen};
use mqttx_tests::support::{options, tag, VERSIONS, WAIT};
use mqttx_tests::Broker;

/// (how many filters, their identifier): the first run needs two
/// SUBSCRIBEs to restore; on MQTT 3.1.1 all are one run of 46.
const RUNS: [(usize, u32); 3] = [(36, 1), (5, 2), (5, 3)];

fn topics(version: ProtocolVersion) -> Vec<String> {
    let count: usize = RUNS.iter().map(|(n, _)| n).sum();
    (0..count)
        .map(|n| format!("routes/{}/{n}", tag(version)))
        .collect()
}

fn subscriptions(topics: &[String]) -> Vec<Subscription> {
    let identifiers = RUNS.iter().flat_map(|&(n, id)| std::iter::repeat_n(id, n));
    topics
        .iter()
        .zip(identifiers)
        .map(|(topic, id)| {
            Subscription::new(topic.clone(), SubscriptionOptions::new(QoS::AtLeastOnce)).identifier(id)
        })
        .collect()
}

/// Publishes on the last filter until it arrives: the restoring SUBSCRIBEs
/// go in order, so every one has been answered by then.
async fn until_subscribed(publisher: &Client, events: &mut Events, topic: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "{topic} never subscribed");
        publisher
            .publish(topic.to_owned(), "probe")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        for seen in events.during(Duration::from_millis(200)).await {
            if matches!(&seen, Seen::Message(m) if m.topic == topic) {
                return;
            }
        }
    }
}

/// Publishes once on every topic; returns the topics that arrived.
async fn one_on_each(publisher: &Client, events: &mut Events, topics: &[String]) -> BTreeSet<String> {
    for topic in topics {
        publisher
            .publish(topic.clone(), "x")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
    }
    let mut arrived = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while arrived.len() < topics.len() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match events.next(left).await {
            Some(Seen::Message(m)) if m.payload.as_ref() == b"x" => {
                arrived.insert(m.topic.to_string());
            }
            Some(_) => {}
            None => break,
        }
    }
    arrived
}

#[actix_rt::test]
async fn every_route_is_restored_after_a_broker_restart_that_lost_the_session() {
    for version in VERSIONS {
        let mut broker = Broker::start().unwrap();
        let topics = topics(version);
        let (handler, mut events) = recorder();
        let handler = handler.with_subscriptions(subscriptions(&topics));
        let client = Client::connect(options(broker.port(), "routes", version).handler(handler))
            .await
            .unwrap();
        events.connected(WAIT).await;
        let last = topics.last().unwrap();
        {
            let publisher = Client::connect(options(broker.port(), "routes-pub", version))
                .await
                .unwrap();
            until_subscribed(&publisher, &mut events, last).await;
            publisher.disconnect().await.unwrap();
        }

        // No persistence: the restarted broker knows no subscription.
        broker.stop().unwrap();
        broker.start_again().unwrap();
        let connack = events.connected(WAIT).await;
        assert!(!connack.session_present, "{version:?}");
        let publisher = Client::connect(options(broker.port(), "routes-pub", version))
            .await
            .unwrap();
        until_subscribed(&publisher, &mut events, last).await;
        let arrived = one_on_each(&publisher, &mut events, &topics).await;
        let lost: Vec<_> = topics.iter().filter(|t| !arrived.contains(*t)).collect();
        assert!(
            lost.is_empty(),
            "{version:?}: {} routes not restored: {lost:?}",
            lost.len()
        );
        publisher.disconnect().await.unwrap();
        client.disconnect().await.unwrap();
    }
}
