//! Message streams (`Client::stream`) against mosquitto: every matching
//! message reaches every stream and the handler; a consumer slower than
//! the publisher holds the server back and loses nothing; dropping a
//! stream unsubscribes.

use std::time::Duration;

use mqttx::{Client, ConnectOptions, ProtocolVersion, QoS, Subscription, SubscriptionOptions};
use mqttx_tests::events::{recorder, Seen};
use mqttx_tests::support::{options, VERSIONS, WAIT};
use mqttx_tests::Broker;

async fn next(stream: &mut mqttx::client::MessageStream) -> mqttx::Publish {
    tokio::time::timeout(WAIT, stream.recv())
        .await
        .expect("a message within the deadline")
        .expect("the stream is open")
}

#[actix::test]
async fn each_message_reaches_every_stream_it_is_for_and_the_handler_its_own() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (handler, mut events) = recorder();
        let handler = handler.with_subscriptions(vec![Subscription::new(
            "s/kitchen/door",
            SubscriptionOptions::new(QoS::AtLeastOnce),
        )]);
        let client = Client::connect(options(broker.port(), "streams", version).handler(handler))
            .await
            .unwrap();
        let mut all = client.stream("s/#", QoS::AtLeastOnce).await.unwrap();
        let mut temps = client.stream("s/+/temp", QoS::ExactlyOnce).await.unwrap();
        client
            .publish("s/kitchen/temp", "t")
            .qos(QoS::ExactlyOnce)
            .await
            .unwrap();
        client
            .publish("s/kitchen/door", "d")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        client.subscribe("s/end", QoS::AtLeastOnce).await.unwrap();
        client.publish("s/end", "e").qos(QoS::AtLeastOnce).await.unwrap();

        // Overlapping subscriptions: the server sends a copy per
        // subscription (mosquitto does). On MQTT 5 each copy names its
        // subscription, and goes to that stream, or the handler, only.
        let mut seen_by_all = Vec::new();
        while seen_by_all.last().map(String::as_str) != Some("s/end") {
            seen_by_all.push(next(&mut all).await.topic.to_string());
        }
        let temp = next(&mut temps).await;
        assert_eq!(
            (temp.topic.as_ref(), temp.qos),
            ("s/kitchen/temp", QoS::ExactlyOnce)
        );
        let mut seen_by_handler = Vec::new();
        while seen_by_handler.last().map(String::as_str) != Some("s/end") {
            seen_by_handler.push(events.message(WAIT).await.topic.to_string());
        }
        match version {
            ProtocolVersion::V5 => {
                assert_eq!(
                    seen_by_all,
                    ["s/kitchen/temp", "s/kitchen/door", "s/end"],
                    "once each"
                );
                assert_eq!(
                    seen_by_handler,
                    ["s/kitchen/door", "s/end"],
                    "the handler's own copies"
                );
            }
            ProtocolVersion::V311 => {
                // Copies name nothing: every copy to every stream it
                // matches, and to the handler.
                for topic in ["s/kitchen/temp", "s/kitchen/door"] {
                    assert!(seen_by_all.iter().any(|t| t == topic), "{seen_by_all:?}");
                    assert!(seen_by_handler.iter().any(|t| t == topic), "{seen_by_handler:?}");
                }
            }
        }
        client.disconnect().await.unwrap();
        assert!(all.recv().await.is_none(), "a stream ends with its connection");
    }
}

#[actix::test]
async fn a_slow_consumer_holds_the_server_back_and_loses_nothing_at_qos1() {
    const MESSAGES: usize = 300;
    const BUFFER: usize = 10;
    let broker = Broker::start().unwrap();
    let consumer = Client::connect(options(broker.port(), "slow-consumer", ProtocolVersion::V5))
        .await
        .unwrap();
    let mut stream = consumer
        .stream("slow/t", QoS::AtLeastOnce)
        .buffer(BUFFER)
        .await
        .unwrap();
    let publisher = Client::connect(options(broker.port(), "fast-publisher", ProtocolVersion::V5))
        .await
        .unwrap();
    let publishing = actix::spawn(async move {
        for n in 0..MESSAGES {
            publisher
                .publish("slow/t", n.to_string())
                .qos(QoS::AtLeastOnce)
                .await
                .unwrap();
        }
        publisher
    });
    let mut most_waiting = 0;
    for n in 0..MESSAGES {
        most_waiting = most_waiting.max(stream.len());
        let msg = next(&mut stream).await;
        assert_eq!(
            msg.payload_str(),
            Some(n.to_string().as_str()),
            "in order, none lost"
        );
        if n % 10 == 0 {
            // The consumer's work: slower than the publisher.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // mosquitto does not keep to our Receive Maximum, so the bound is the
    // client's own: it stops reading while the stream is full.
    assert!(
        most_waiting <= BUFFER,
        "at most {BUFFER} messages wait for the consumer: {most_waiting} did"
    );
    assert!(
        most_waiting > 1,
        "the consumer was slower: messages did wait ({most_waiting})"
    );
    let publisher = publishing.await.unwrap();
    publisher.disconnect().await.unwrap();
    consumer.disconnect().await.unwrap();
}

#[actix::test]
async fn dropping_a_stream_unsubscribes_unless_the_filter_is_still_in_use() {
    let broker = Broker::start().unwrap();
    let (handler, mut events) = recorder();
    let opts = ConnectOptions::new("127.0.0.1", "dropper")
        .port(broker.port())
        .handler(handler);
    let client = Client::connect(opts).await.unwrap();
    let mut first = client.stream("d/t", QoS::AtLeastOnce).await.unwrap();
    let second = client.stream("d/t", QoS::AtLeastOnce).await.unwrap();
    client.subscribe("d/sentinel", QoS::AtLeastOnce).await.unwrap();

    // The server holds one subscription to d/t, named (on MQTT 5) by the
    // second stream's identifier; the first stream keeps getting it.
    drop(second);
    client
        .publish("d/t", "still")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_eq!(
        next(&mut first).await.payload_str(),
        Some("still"),
        "the other stream keeps the filter"
    );

    drop(first);
    // Messages from one client arrive in order: once the sentinel is in,
    // anything published before it on d/t would have been too.
    client.publish("d/t", "gone").qos(QoS::AtLeastOnce).await.unwrap();
    client
        .publish("d/sentinel", "end")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    let seen: Vec<_> = loop {
        let msg = events.message(WAIT).await;
        if msg.topic == "d/sentinel" {
            break events.during(Duration::ZERO).await;
        }
        assert_ne!(
            msg.payload_str(),
            Some("gone"),
            "unsubscribed once no stream used d/t"
        );
    };
    assert!(!seen
        .iter()
        .any(|s| matches!(s, Seen::Message(m) if m.payload_str() == Some("gone"))));
    client.disconnect().await.unwrap();
}

/// A handler with a route on the filter a stream also takes.
struct Kitchen(tokio::sync::mpsc::UnboundedSender<String>);

#[mqttx::mqtt_handler]
impl Kitchen {
    #[subscribe("k/{room}/temp", qos = 1)]
    fn temp(&mut self, room: &str) {
        let _ = self.0.send(room.to_owned());
    }
}

#[actix::test]
async fn a_stream_and_a_handler_route_on_one_filter_get_each_message_once() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (tx, mut rooms) = tokio::sync::mpsc::unbounded_channel();
        let client = Client::connect(options(broker.port(), "shared-filter", version).handler(Kitchen(tx)))
            .await
            .unwrap();
        let mut stream = client.stream("k/+/temp", QoS::AtLeastOnce).await.unwrap();
        for room in ["hall", "attic"] {
            client
                .publish(format!("k/{room}/temp"), "20")
                .qos(QoS::AtLeastOnce)
                .await
                .unwrap();
        }
        assert_eq!(next(&mut stream).await.topic, "k/hall/temp");
        assert_eq!(next(&mut stream).await.topic, "k/attic/temp");
        for room in ["hall", "attic"] {
            let seen = tokio::time::timeout(WAIT, rooms.recv()).await.unwrap().unwrap();
            assert_eq!(seen, room, "the route, once each, in order");
        }
        client
            .publish("k/hall/temp", "21")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        assert_eq!(
            next(&mut stream).await.payload_str(),
            Some("21"),
            "no extra copy before it"
        );
        assert_eq!(
            tokio::time::timeout(WAIT, rooms.recv()).await.unwrap().unwrap(),
            "hall"
        );
        client.disconnect().await.unwrap();
    }
}
