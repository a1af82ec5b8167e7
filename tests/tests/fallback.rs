//! Brokers that speak only MQTT 3.1.1: with the default protocol setting
//! the client falls back and works; pinned to MQTT 5, it is refused at once.

use std::time::{Duration, Instant};

use mqttx::{Client, ConnectOptions, Error, ProtocolVersion, QoS, ReasonCode};
use mqttx_tests::events::recorder;
use mqttx_tests::nats::NatsServer;
use mqttx_tests::support::{fast_backoff, WAIT};

#[actix::test]
async fn nats_with_the_defaults_connects_on_3_1_1_and_delivers_qos1() {
    let nats = NatsServer::start().unwrap();
    let (handler, mut events) = recorder();
    let opts = ConnectOptions::new("127.0.0.1", "nats-fallback")
        .port(nats.mqtt_port())
        .backoff(fast_backoff())
        .handler(handler);
    let client = Client::connect(opts).await.unwrap();
    assert_eq!(
        client.subscribe("fallback/t", QoS::AtLeastOnce).await.unwrap(),
        QoS::AtLeastOnce
    );
    for n in 0..5 {
        client
            .publish("fallback/t", format!("m{n}"))
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
    }
    for n in 0..5 {
        let message = events.message(WAIT).await;
        assert_eq!(message.payload, format!("m{n}").as_bytes(), "in order, once");
        assert_eq!(message.qos, QoS::AtLeastOnce);
    }
    client.disconnect().await.unwrap();
}

#[actix::test]
async fn nats_refuses_a_pinned_mqtt_5_at_once_and_for_good() {
    let nats = NatsServer::start().unwrap();
    let opts = ConnectOptions::new("127.0.0.1", "nats-pinned")
        .port(nats.mqtt_port())
        .backoff(fast_backoff())
        .protocol_version(ProtocolVersion::V5);
    let started = Instant::now();
    let err = Client::connect(opts).await.expect_err("NATS has no MQTT 5");
    assert!(
        matches!(
            err,
            Error::ConnectRejected {
                reason_code: ReasonCode::UnsupportedProtocolVersion,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once, not after the connect timeout: {:?}",
        started.elapsed()
    );
}
