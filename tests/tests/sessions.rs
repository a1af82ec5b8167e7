//! The reference client's "Session Persistence" recipe, as written:
//! `clean_session(false)` and a session store, nothing else. Messages
//! published while the subscriber was cut off, or had disconnected, arrive
//! when it comes back — on MQTT 5 (the default) as on 3.1.1. With
//! `clean_session(true)` they do not.

use std::collections::BTreeSet;

use mqttx::store::MemoryStore;
use mqttx::{Client, ConnectOptions, ProtocolVersion, QoS};
use mqttx_tests::chaos::Chaos;
use mqttx_tests::events::{recorder, Events, Seen};
use mqttx_tests::support::{fast_backoff, tag, VERSIONS, WAIT};
use mqttx_tests::Broker;

/// Messages published while the subscriber is away.
const AWAY: u32 = 100;

/// The recipe: a client id, `clean_session(false)`, a session store.
fn recipe(port: u16, client_id: &str, version: ProtocolVersion, store: &MemoryStore) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", format!("{client_id}-{}", tag(version)))
        .port(port)
        .protocol_version(version)
        .clean_session(false)
        .session_store(store.clone())
        .backoff(fast_backoff())
}

/// Publishes `away/0..AWAY` at QoS 1, then the marker `away/end`.
async fn publish_while_away(port: u16, topic: &str, version: ProtocolVersion) {
    let opts = ConnectOptions::new("127.0.0.1", format!("publisher-{topic}-{}", tag(version)))
        .port(port)
        .protocol_version(version);
    let publisher = Client::connect(opts).await.expect("the publisher connects");
    for n in 0..AWAY {
        publisher
            .publish(topic.to_owned(), n.to_string())
            .qos(QoS::AtLeastOnce)
            .await
            .expect("published");
    }
    publisher.disconnect().await.expect("disconnected");
}

/// The payloads that arrive before the marker the test publishes last.
async fn received_before(events: &mut Events, client: &Client, topic: &str) -> BTreeSet<u32> {
    client
        .publish(topic.to_owned(), "end")
        .qos(QoS::AtLeastOnce)
        .await
        .expect("the marker is published");
    let mut seen = BTreeSet::new();
    loop {
        let msg = events.message(WAIT).await;
        match std::str::from_utf8(&msg.payload) {
            Ok("end") => return seen,
            Ok(n) => {
                seen.insert(n.parse().expect("a number"));
            }
            Err(_) => panic!("not text: {msg:?}"),
        }
    }
}

#[actix::test]
async fn messages_published_while_the_connection_was_cut_arrive_after_it_comes_back() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let chaos = Chaos::start(broker.port()).unwrap();
        let store = MemoryStore::new();
        let topic = format!("cut/{}", tag(version));
        let (handler, mut events) = recorder();
        let opts = recipe(chaos.port(), "cut", version, &store).handler(handler);
        let client = Client::connect(opts).await.unwrap();
        client.subscribe(topic.clone(), QoS::AtLeastOnce).await.unwrap();

        // The network goes dead and the connection is cut: the broker sees
        // the connection close, the client cannot get back in.
        chaos.hold(true);
        chaos.cut_now();
        events
            .expect("the cut", WAIT, |seen| {
                matches!(seen, Seen::Disconnected(_)).then_some(())
            })
            .await;
        publish_while_away(broker.port(), &topic, version).await;
        chaos.hold(false);

        let connack = events.connected(WAIT).await;
        assert!(
            connack.session_present,
            "{version:?}: the broker kept the session"
        );
        let seen = received_before(&mut events, &client, &topic).await;
        assert_eq!(
            seen,
            (0..AWAY).collect(),
            "{version:?}: every message published while cut off"
        );
        client.disconnect().await.unwrap();
    }
}

#[actix::test]
async fn messages_published_after_a_disconnect_arrive_when_the_client_comes_back() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let store = MemoryStore::new();
        let topic = format!("left/{}", tag(version));
        let client = Client::connect(recipe(broker.port(), "left", version, &store))
            .await
            .unwrap();
        client.subscribe(topic.clone(), QoS::AtLeastOnce).await.unwrap();
        client.disconnect().await.unwrap();

        publish_while_away(broker.port(), &topic, version).await;

        let (handler, mut events) = recorder();
        let opts = recipe(broker.port(), "left", version, &store).handler(handler);
        let client = Client::connect(opts).await.unwrap();
        assert!(events.connected(WAIT).await.session_present, "{version:?}");
        let seen = received_before(&mut events, &client, &topic).await;
        assert_eq!(
            seen,
            (0..AWAY).collect(),
            "{version:?}: every message published while away"
        );
        client.disconnect().await.unwrap();
    }
}

#[actix::test]
async fn with_clean_session_nothing_published_while_away_arrives() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let store = MemoryStore::new();
        let topic = format!("clean/{}", tag(version));
        let clean = |store: &MemoryStore| recipe(broker.port(), "clean", version, store).clean_session(true);
        let client = Client::connect(clean(&store)).await.unwrap();
        client.subscribe(topic.clone(), QoS::AtLeastOnce).await.unwrap();
        client.disconnect().await.unwrap();

        publish_while_away(broker.port(), &topic, version).await;

        let (handler, mut events) = recorder();
        let client = Client::connect(clean(&store).handler(handler)).await.unwrap();
        assert!(!events.connected(WAIT).await.session_present, "{version:?}");
        client.subscribe(topic.clone(), QoS::AtLeastOnce).await.unwrap();
        let seen = received_before(&mut events, &client, &topic).await;
        assert!(
            seen.is_empty(),
            "{version:?}: a clean session starts empty, got {seen:?}"
        );
        client.disconnect().await.unwrap();
    }
}
