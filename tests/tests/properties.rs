//! MQTT 5 properties end to end, against mosquitto: what a publisher sets
//! arrives as set, a retained message expires, and the CONNACK's
//! properties reach a `#[connected]` method.

use std::time::Duration;

use mqttx::{mqtt_handler, Client, ConnAck, ConnectOptions, ProtocolVersion, Publish, QoS};
use mqttx_tests::support::WAIT;
use mqttx_tests::Broker;
use tokio::sync::mpsc;

/// What the handler saw.
#[derive(Debug)]
enum Seen {
    Connected(Box<ConnAck>),
    Message(Box<Publish>),
}

struct Watcher(mpsc::UnboundedSender<Seen>);

#[mqtt_handler]
impl Watcher {
    #[subscribe("props/{kind}", qos = 1)]
    fn on_message(&mut self, kind: &str, msg: &Publish) {
        let _ = kind;
        let _ = self.0.send(Seen::Message(Box::new(msg.clone())));
    }

    #[connected]
    fn on_connected(&mut self, connack: &ConnAck) {
        let _ = self.0.send(Seen::Connected(Box::new(connack.clone())));
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(seen)) => seen,
        _ => panic!("the handler saw nothing within {WAIT:?}"),
    }
}

async fn message(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Publish {
    loop {
        if let Seen::Message(msg) = next(rx).await {
            return *msg;
        }
    }
}

fn options(port: u16, client_id: &str) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", client_id)
        .port(port)
        .protocol_version(ProtocolVersion::V5)
}

#[actix::test]
async fn the_connack_reaches_connected_with_its_properties() {
    let broker = Broker::builder()
        .extra_config("max_topic_alias 7\n")
        .start()
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let client = Client::connect(options(broker.port(), "props-connack").handler(Watcher(tx)))
        .await
        .unwrap();
    let Seen::Connected(connack) = next(&mut rx).await else {
        panic!("connected comes first");
    };
    // mosquitto 2.0 announces its Receive Maximum and Topic Alias Maximum.
    assert_eq!(connack.properties.receive_maximum, Some(20), "{connack:?}");
    assert_eq!(connack.properties.topic_alias_maximum, Some(10), "{connack:?}");
    client.disconnect().await.unwrap();
}

#[actix::test]
async fn publish_properties_arrive_as_sent() {
    let broker = Broker::start().unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let subscriber = Client::connect(options(broker.port(), "props-sub").handler(Watcher(tx)))
        .await
        .unwrap();
    // The handler's subscription is made on connect; its SUBACK precedes
    // anything published after this round trip.
    subscriber
        .subscribe("props/sync", QoS::AtLeastOnce)
        .await
        .unwrap();

    let publisher = Client::connect(options(broker.port(), "props-pub"))
        .await
        .unwrap();
    publisher
        .publish("props/typed", r#"{"t":21.5}"#)
        .qos(QoS::AtLeastOnce)
        .content_type("application/json")
        .utf8_payload(true)
        .message_expiry_interval(3600)
        .response_topic("props/replies")
        .correlation_data(&b"\x00\x01req-7"[..])
        .user_property("site", "north")
        .user_property("unit", "celsius")
        .user_property("site", "south")
        .await
        .unwrap();

    let msg = message(&mut rx).await;
    let props = &msg.properties;
    assert_eq!(msg.topic, "props/typed");
    assert_eq!(props.content_type.as_deref(), Some("application/json"));
    assert_eq!(props.payload_format_indicator, Some(true));
    assert!(
        props
            .message_expiry_interval
            .is_some_and(|left| left <= 3600 && left > 3500),
        "the broker passes on what is left of the expiry: {:?}",
        props.message_expiry_interval
    );
    assert_eq!(props.response_topic.as_deref(), Some("props/replies"));
    assert_eq!(props.correlation_data.as_deref(), Some(&b"\x00\x01req-7"[..]));
    let users: Vec<(&str, &str)> = props
        .user_properties
        .iter()
        .map(|(k, v)| (&k[..], &v[..]))
        .collect();
    assert_eq!(
        users,
        [("site", "north"), ("unit", "celsius"), ("site", "south")],
        "in order, repeats kept"
    );
    publisher.disconnect().await.unwrap();
    subscriber.disconnect().await.unwrap();
}

#[actix::test]
async fn a_retained_message_is_gone_once_its_expiry_has_passed() {
    let broker = Broker::start().unwrap();
    let publisher = Client::connect(options(broker.port(), "props-retain"))
        .await
        .unwrap();
    publisher
        .publish("props/kept", "stays")
        .qos(QoS::AtLeastOnce)
        .retain(true)
        .await
        .unwrap();
    publisher
        .publish("props/expiring", "goes")
        .qos(QoS::AtLeastOnce)
        .retain(true)
        .message_expiry_interval(1)
        .await
        .unwrap();
    // What is being tested is the passing of time: the expiry is 1 s.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let (tx, mut rx) = mpsc::unbounded_channel();
    let late = Client::connect(options(broker.port(), "props-late").handler(Watcher(tx)))
        .await
        .unwrap();
    // The retained messages come with the handler's subscription: the one
    // without an expiry is there, the expired one is not.
    let first = message(&mut rx).await;
    assert_eq!(first.topic, "props/kept");
    late.publish("props/end", "end")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    let after = message(&mut rx).await;
    assert_eq!(after.topic, "props/end", "the expired retained message is gone");
    publisher.disconnect().await.unwrap();
    late.disconnect().await.unwrap();
}
