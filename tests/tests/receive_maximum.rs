//! The server's Receive Maximum against mosquitto (MQTT 5): with a client
//! window far wider, the client never has more QoS 1 publishes outstanding
//! than the broker's CONNACK allows, and still fills that window.

use std::future::IntoFuture;

use mqttx::{Client, ProtocolVersion, QoS};
use mqttx_tests::events::recorder;
use mqttx_tests::support::{options, WAIT};
use mqttx_tests::tap::Tap;
use mqttx_tests::Broker;

const SERVER_MAXIMUM: u16 = 3;

#[actix_rt::test]
async fn the_client_keeps_to_the_brokers_receive_maximum() {
    let broker = Broker::builder()
        .max_inflight_messages(u32::from(SERVER_MAXIMUM))
        .start()
        .unwrap();
    let v5 = ProtocolVersion::V5;
    let tap = Tap::start(broker.port(), v5).await.unwrap();
    let (handler, mut events) = recorder();
    let publisher = Client::connect(
        options(tap.port(), "recv-max", v5)
            .max_inflight(100)
            .handler(handler),
    )
    .await
    .unwrap();
    let connack = events.connected(WAIT).await;
    assert_eq!(connack.properties.receive_maximum, Some(SERVER_MAXIMUM));

    let sends: Vec<_> = (0..300u32)
        .map(|n| {
            publisher
                .publish("recv-max/t", n.to_be_bytes().to_vec())
                .qos(QoS::AtLeastOnce)
                .into_future()
        })
        .collect();
    for send in sends {
        send.await.unwrap();
    }
    let stats = tap.stats();
    assert!(stats.broker_completions >= 300, "{stats:?}");
    assert_eq!(
        stats.max_outstanding,
        usize::from(SERVER_MAXIMUM),
        "the broker's window is used, never exceeded: {stats:?}"
    );
    publisher.disconnect().await.unwrap();
}
