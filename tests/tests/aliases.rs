//! Outgoing topic aliases against mosquitto (MQTT 5; mosquitto does not
//! send aliases to clients, so incoming ones rest on the unit tests): once
//! the broker allows aliases, a topic published again goes out as an alias
//! alone, and every message still arrives under its own topic.

use mqttx::{Client, ProtocolVersion, QoS};
use mqttx_tests::chaos::Chaos;
use mqttx_tests::events::recorder;
use mqttx_tests::support::{options, WAIT};
use mqttx_tests::Broker;

#[actix_rt::test]
async fn a_repeated_topic_goes_out_as_an_alias_and_arrives_under_its_name() {
    let broker = Broker::builder()
        .extra_config("max_topic_alias 10\n")
        .start()
        .unwrap();
    let v5 = ProtocolVersion::V5;
    let (watcher, mut received) = recorder();
    let sub = Client::connect(options(broker.port(), "alias-sub", v5).handler(watcher))
        .await
        .unwrap();
    sub.subscribe("alias/#", QoS::AtLeastOnce).await.unwrap();
    // The proxy records what the publisher writes.
    let chaos = Chaos::start(broker.port()).unwrap();
    let publisher = Client::connect(options(chaos.port(), "alias-pub", v5))
        .await
        .unwrap();

    // Interleaved, so each alias must stand for its own topic.
    let sent: Vec<String> = (0..6).map(|n| format!("alias/topic-{}", n % 2)).collect();
    for (n, topic) in sent.iter().enumerate() {
        publisher
            .publish(topic.clone(), (n as u32).to_be_bytes().to_vec())
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        let message = received.message(WAIT).await;
        assert_eq!(
            (&*message.topic, &message.payload[..]),
            (topic.as_str(), &(n as u32).to_be_bytes()[..])
        );
    }

    let id = chaos.wire_log().client_ending_with("alias-pub-v5").unwrap();
    let written: Vec<String> = chaos
        .wire_log()
        .of_client(&id, |e| e.kind == "PUBLISH" && e.to_broker)
        .into_iter()
        .filter_map(|e| e.topic)
        .collect();
    assert_eq!(
        written,
        ["alias/topic-0", "alias/topic-1", "", "", "", ""],
        "the first publish on a topic names it; the rest use its alias"
    );
    publisher.disconnect().await.unwrap();
    sub.disconnect().await.unwrap();
}
