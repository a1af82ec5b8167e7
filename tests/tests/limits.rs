//! The server's limits from CONNACK, against a mosquitto that announces
//! them: a Maximum Packet Size with topic aliases allowed.

use mqttx::packet::encoded_len;
use mqttx::{Client, Error, Packet, ProtocolVersion, Publish, QoS};
use mqttx_tests::events::recorder;
use mqttx_tests::support::{options, WAIT};
use mqttx_tests::tap::Tap;
use mqttx_tests::Broker;

const MAX_PACKET_SIZE: usize = 256;

/// A payload that makes a QoS 1 PUBLISH on `topic`, carrying its topic and
/// no alias, `size` bytes.
fn payload_for(topic: &str, size: usize) -> Vec<u8> {
    let mut payload = Vec::new();
    loop {
        let publish = Publish::new(topic.to_owned(), payload.clone())
            .qos(QoS::AtLeastOnce)
            .packet_id(1);
        let measured = encoded_len(&Packet::Publish(publish), ProtocolVersion::V5).unwrap();
        if measured >= size {
            assert_eq!(measured, size, "no payload makes {size} bytes");
            return payload;
        }
        payload.push(b'x');
    }
}

#[actix_rt::test]
async fn publishes_up_to_the_maximum_packet_size_are_delivered_with_aliases_allowed() {
    let broker = Broker::builder()
        .extra_config(&format!("max_packet_size {MAX_PACKET_SIZE}\nmax_topic_alias 10"))
        .start()
        .unwrap();
    let v5 = ProtocolVersion::V5;
    let (sub_recorder, mut received) = recorder();
    let sub = Client::connect(options(broker.port(), "limits-sub", v5).handler(sub_recorder))
        .await
        .unwrap();
    sub.subscribe("limits/#", QoS::AtLeastOnce).await.unwrap();
    // mosquitto lets a packet a few bytes over its maximum through: the
    // tap measures what the publisher writes.
    let tap = Tap::start(broker.port(), v5).await.unwrap();
    let (pub_recorder, mut publisher_events) = recorder();
    let publisher = Client::connect(options(tap.port(), "limits-pub", v5).handler(pub_recorder))
        .await
        .unwrap();
    let connack = publisher_events.connected(WAIT).await;
    assert_eq!(
        connack.properties.maximum_packet_size,
        Some(MAX_PACKET_SIZE as u32)
    );
    assert_eq!(connack.properties.topic_alias_maximum, Some(10));

    let topic = "limits/sized";
    for size in [254, 255, 256] {
        let payload = payload_for(topic, size);
        publisher
            .publish(topic, payload.clone())
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap_or_else(|e| panic!("{size} bytes: {e}"));
        let message = received.message(WAIT).await;
        assert_eq!(&*message.topic, topic);
        assert_eq!(message.payload.len(), payload.len(), "{size} bytes");
    }

    let too_large = publisher
        .publish(topic, payload_for(topic, 257))
        .qos(QoS::AtLeastOnce)
        .await;
    assert!(
        matches!(
            too_large,
            Err(Error::PacketTooLarge {
                size: 257,
                max: MAX_PACKET_SIZE
            })
        ),
        "{too_large:?}"
    );

    // Once a small publish has set up the alias, a full-size one goes out
    // with the alias in place of the topic.
    publisher
        .publish(topic, "small")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_eq!(&received.message(WAIT).await.payload[..], b"small");
    let payload = payload_for(topic, 256);
    publisher
        .publish(topic, payload.clone())
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    let message = received.message(WAIT).await;
    assert_eq!(&*message.topic, topic);
    assert_eq!(message.payload.len(), payload.len());

    publisher.disconnect().await.unwrap();
    assert_eq!(tap.stats().largest_client_packet, MAX_PACKET_SIZE);
    let reason = publisher_events.disconnected(WAIT).await;
    assert!(
        matches!(reason, mqttx::DisconnectReason::Client),
        "the publisher's connection ended before its disconnect: {reason}"
    );
    sub.disconnect().await.unwrap();
}
