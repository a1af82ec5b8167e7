//! The basic suite against every broker we know users run: pub/sub at QoS
//! 0, 1 and 2, retained messages, the Will, a reconnect after the broker
//! restarts, and a persistent session. Each test starts its own broker.
//!
//! What a broker does not support is checked as documented, not skipped:
//! NATS closes the connection on a QoS 2 PUBLISH, RabbitMQ 3.10 answers it
//! with a PUBACK. Either way that publish fails with a clear error, and
//! the publishes queued behind it go on.

use std::future::IntoFuture;
use std::path::Path;

use mqttx::{Client, ConnectOptions, Error, LastWill, QoS};
use mqttx_tests::chaos::Chaos;
use mqttx_tests::events::{recorder, Events, Seen};
use mqttx_tests::interop::{InteropBroker, QoS2};
use mqttx_tests::nats::NatsServer;
use mqttx_tests::rabbitmq::RabbitMq;
use mqttx_tests::rumqttd::Rumqttd;
use mqttx_tests::support::{fast_backoff, WAIT};
use mqttx_tests::Broker;

/// A broker restart and the reconnect after it can take a while (an
/// Erlang VM boots slowly on a busy machine).
const RESTART_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

fn options(broker: &dyn InteropBroker, client_id: &str) -> ConnectOptions {
    let opts = ConnectOptions::new("127.0.0.1", client_id)
        .port(broker.port())
        .backoff(fast_backoff());
    match broker.version() {
        Some(version) => opts.protocol_version(version),
        None => opts,
    }
}

/// A client that records what it receives, subscribed to `filter`.
async fn subscriber(
    broker: &dyn InteropBroker,
    client_id: &str,
    filter: &str,
    qos: QoS,
) -> (Client, Events, QoS) {
    let (handler, events) = recorder();
    let client = Client::connect(options(broker, client_id).handler(handler))
        .await
        .unwrap_or_else(|err| panic!("{}: connect: {err}", broker.name()));
    let granted = client
        .subscribe(filter, qos)
        .await
        .unwrap_or_else(|err| panic!("{}: subscribe: {err}", broker.name()));
    (client, events, granted)
}

async fn publisher(broker: &dyn InteropBroker, client_id: &str) -> Client {
    Client::connect(options(broker, client_id))
        .await
        .unwrap_or_else(|err| panic!("{}: connect: {err}", broker.name()))
}

async fn expect_payload(events: &mut Events, broker: &dyn InteropBroker, payload: &str) {
    let message = events.message(WAIT).await;
    assert_eq!(
        String::from_utf8_lossy(&message.payload),
        payload,
        "{}: in order, once",
        broker.name()
    );
}

async fn pubsub(broker: &dyn InteropBroker, qos: QoS) {
    let topic = format!("interop/pubsub/{}", qos as u8);
    let (_sub, mut events, granted) = subscriber(broker, &format!("sub{}", qos as u8), &topic, qos).await;
    let publisher = publisher(broker, &format!("pub{}", qos as u8)).await;
    let expected = match (qos, broker.qos2()) {
        (QoS::ExactlyOnce, QoS2::ClosesTheConnection) => Some(Error::PublishAbandoned { attempts: 3 }),
        (QoS::ExactlyOnce, QoS2::AcknowledgesAsQoS1) => Some(Error::QoSNotSupported {
            requested: QoS::ExactlyOnce,
            maximum: QoS::AtLeastOnce,
        }),
        _ => None,
    };
    if let Some(expected) = expected {
        // The refused publish fails with a clear error; the one queued
        // behind it is not held up.
        let refused = publisher
            .publish(topic.as_str(), "refused")
            .qos(qos)
            .into_future();
        let next = publisher
            .publish(topic.as_str(), "next")
            .qos(QoS::AtLeastOnce)
            .into_future();
        let both = async { tokio::join!(refused, next) };
        let (refused, next) = tokio::time::timeout(3 * WAIT, both)
            .await
            .unwrap_or_else(|_| panic!("{}: the refused publish wedged the queue", broker.name()));
        assert_eq!(refused.err(), Some(expected), "{}", broker.name());
        next.unwrap_or_else(|err| panic!("{}: the next publish: {err}", broker.name()));
        let message = events
            .expect("the next publish", WAIT, |seen| match seen {
                Seen::Message(m) if &m.payload[..] == b"next" => Some(m),
                _ => None,
            })
            .await;
        assert_eq!(message.qos, QoS::AtLeastOnce);
        return;
    }
    for n in 0..20 {
        publisher
            .publish(topic.as_str(), format!("m{n}"))
            .qos(qos)
            .await
            .unwrap_or_else(|err| panic!("{}: publish {n}: {err}", broker.name()));
    }
    for n in 0..20 {
        let message = events.message(WAIT).await;
        assert_eq!(
            message.payload,
            format!("m{n}").as_bytes(),
            "{}: in order, once",
            broker.name()
        );
        assert_eq!(message.qos, qos.min(granted), "{}", broker.name());
    }
}

async fn retained(broker: &dyn InteropBroker) {
    let publisher = publisher(broker, "retainer").await;
    publisher
        .publish("interop/retained", "kept")
        .qos(QoS::AtLeastOnce)
        .retain(true)
        .await
        .unwrap_or_else(|err| panic!("{}: publish: {err}", broker.name()));
    let (_sub, mut events, _) = subscriber(broker, "late", "interop/retained", QoS::AtLeastOnce).await;
    let message = events.message(WAIT).await;
    assert_eq!(&message.payload[..], b"kept", "{}", broker.name());
    assert!(message.retain, "{}: delivered as retained", broker.name());
}

async fn will(broker: &dyn InteropBroker) {
    let (_sub, mut events, _) = subscriber(broker, "watcher", "interop/will", QoS::AtLeastOnce).await;
    // The mortal client goes through a proxy that cuts its connection: the
    // broker sees it vanish without a DISCONNECT.
    let chaos = Chaos::start(broker.port()).expect("chaos proxy");
    let mortal = options(broker, "mortal")
        .port(chaos.port())
        .will(LastWill::new("interop/will", "gone").qos(QoS::AtLeastOnce));
    let _mortal = Client::connect(mortal)
        .await
        .unwrap_or_else(|err| panic!("{}: connect: {err}", broker.name()));
    chaos.cut_now();
    expect_payload(&mut events, broker, "gone").await;
}

async fn restart(broker: &mut dyn InteropBroker) {
    let (sub, mut events, _) = subscriber(broker, "restart-sub", "interop/restart", QoS::AtLeastOnce).await;
    let publisher = publisher(broker, "restart-pub").await;
    publisher
        .publish("interop/restart", "before")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    expect_payload(&mut events, broker, "before").await;
    broker
        .restart()
        .unwrap_or_else(|err| panic!("{}: restart: {err}", broker.name()));
    events.disconnected(WAIT).await;
    events.connected(RESTART_WAIT).await;
    // The client restores the subscription when the broker lost it; a
    // SUBSCRIBE made now is answered after that restore, so once it is,
    // the subscription is in place whatever the broker kept.
    sub.subscribe("interop/restart", QoS::AtLeastOnce)
        .await
        .unwrap_or_else(|err| panic!("{}: subscribe after the restart: {err}", broker.name()));
    publisher
        .publish("interop/restart", "after")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap_or_else(|err| panic!("{}: publish after the restart: {err}", broker.name()));
    expect_payload(&mut events, broker, "after").await;
}

async fn session(broker: &mut dyn InteropBroker, across_restart: bool) {
    let keeper = |broker: &dyn InteropBroker| options(broker, "keeper").clean_session(false);
    let (handler, _) = recorder();
    let first = Client::connect(keeper(broker).handler(handler)).await.unwrap();
    first
        .subscribe("interop/session", QoS::AtLeastOnce)
        .await
        .unwrap();
    first.disconnect().await.unwrap();
    let publisher = publisher(broker, "session-pub").await;
    for n in 0..5 {
        publisher
            .publish("interop/session", format!("m{n}"))
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap_or_else(|err| panic!("{}: publish {n}: {err}", broker.name()));
    }
    if across_restart {
        broker
            .restart()
            .unwrap_or_else(|err| panic!("{}: restart: {err}", broker.name()));
    }
    let (handler, mut events) = recorder();
    let _again = Client::connect(keeper(broker).handler(handler)).await.unwrap();
    let connack = events.connected(WAIT).await;
    assert!(connack.session_present, "{}: the session was kept", broker.name());
    for n in 0..5 {
        expect_payload(&mut events, broker, &format!("m{n}")).await;
    }
}

/// One test per case, each with a broker of its own from `$start`.
macro_rules! suite {
    ($broker:ident, $start:expr) => {
        mod $broker {
            use super::*;

            #[actix::test]
            async fn qos0_pubsub() {
                pubsub(&$start, QoS::AtMostOnce).await;
            }

            #[actix::test]
            async fn qos1_pubsub() {
                pubsub(&$start, QoS::AtLeastOnce).await;
            }

            #[actix::test]
            async fn qos2_pubsub() {
                pubsub(&$start, QoS::ExactlyOnce).await;
            }

            #[actix::test]
            async fn retained_message() {
                retained(&$start).await;
            }

            #[actix::test]
            async fn will_message() {
                will(&$start).await;
            }

            #[actix::test]
            async fn reconnect_after_a_broker_restart() {
                restart(&mut $start).await;
            }

            #[actix::test]
            async fn persistent_session() {
                let mut broker = $start;
                let across_restart = broker.sessions_survive_restart();
                session(&mut broker, across_restart).await;
            }
        }
    };
}

suite!(mosquitto, Broker::builder().persistence(true).start().unwrap());
suite!(nats, NatsServer::start().unwrap());
suite!(
    rumqttd,
    Rumqttd::start(Path::new(env!("CARGO_BIN_EXE_rumqttd_broker"))).unwrap()
);

/// RabbitMQ boots an Erlang VM in seconds, not milliseconds: one node runs
/// the whole suite, in order.
#[actix::test]
async fn rabbitmq_basic_suite() {
    let mut rabbit = RabbitMq::start().unwrap();
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        pubsub(&rabbit, qos).await;
    }
    retained(&rabbit).await;
    will(&rabbit).await;
    restart(&mut rabbit).await;
    session(&mut rabbit, true).await;
}
