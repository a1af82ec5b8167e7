//! Message streams (`Client::stream`) against mosquitto: every matching
//! message reaches every stream and the handler; a consumer slower than
//! the publisher holds the server back and loses nothing; dropping a
//! stream unsubscribes.

use std::time::Duration;

use mqttx::{Client, ConnectOptions, ProtocolVersion, QoS};
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
async fn each_message_reaches_every_matching_stream_and_the_handler() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (handler, mut events) = recorder();
        let client = Client::connect(options(broker.port(), "streams", version).handler(handler))
            .await
            .unwrap();
        let mut all = client.stream("s/#", QoS::AtLeastOnce).await.unwrap();
        let mut temps = client.stream("s/+/temp", QoS::ExactlyOnce).await.unwrap();
        for (topic, qos) in [
            ("s/kitchen/temp", QoS::ExactlyOnce),
            ("s/kitchen/door", QoS::AtLeastOnce),
        ] {
            client.publish(topic, topic).qos(qos).await.unwrap();
        }
        // Overlapping subscriptions: the server may send a message once per
        // subscription (mosquitto does on 3.1.1), and each copy goes to
        // every stream it matches. The door message comes after the temp.
        let mut copies = 0;
        loop {
            let msg = next(&mut all).await;
            if msg.topic == "s/kitchen/door" {
                break;
            }
            assert_eq!(msg.topic, "s/kitchen/temp");
            copies += 1;
        }
        assert!((1..=2).contains(&copies), "{copies} copies");
        let temp = next(&mut temps).await;
        assert_eq!(
            (temp.topic.as_ref(), temp.qos),
            ("s/kitchen/temp", QoS::ExactlyOnce)
        );
        // The handler sees them as well (mosquitto sends one copy per
        // matching subscription on 3.1.1, and may on 5: at least one each).
        let mut topics = Vec::new();
        while topics.len() < 2 {
            let msg = events.message(WAIT).await;
            if !topics.contains(&msg.topic) {
                topics.push(msg.topic.clone());
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
    let first = client.stream("d/t", QoS::AtLeastOnce).await.unwrap();
    let mut second = client.stream("d/t", QoS::AtLeastOnce).await.unwrap();
    client.subscribe("d/sentinel", QoS::AtLeastOnce).await.unwrap();

    drop(first);
    client
        .publish("d/t", "still")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_eq!(
        next(&mut second).await.payload_str(),
        Some("still"),
        "the other stream keeps the filter"
    );

    drop(second);
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
