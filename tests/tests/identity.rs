//! The client identifier in use: the one configured, or the one the server
//! assigned to an empty one (MQTT 5), kept for every reconnect.

use mqttx::{Client, ConnectOptions};
use mqttx_tests::chaos::Chaos;
use mqttx_tests::events::recorder;
use mqttx_tests::support::{fast_backoff, WAIT};
use mqttx_tests::Broker;

#[actix::test]
async fn an_empty_client_id_becomes_the_assigned_one_and_is_kept_across_reconnects() {
    let broker = Broker::start().unwrap();
    let chaos = Chaos::start(broker.port()).unwrap();
    let (handler, mut events) = recorder();
    let opts = ConnectOptions::new("127.0.0.1", "")
        .port(chaos.port())
        .backoff(fast_backoff())
        .handler(handler);
    let client = Client::connect(opts).await.unwrap();
    let connack = events.connected(WAIT).await;
    let assigned = connack
        .properties
        .assigned_client_identifier
        .clone()
        .expect("mosquitto assigns an id to an empty one on MQTT 5");
    assert!(!assigned.is_empty());
    assert_eq!(client.client_id(), &*assigned, "the handle names the id in use");
    let copy = client.clone();

    chaos.cut_now();
    events.connected(WAIT).await;
    assert_eq!(
        copy.client_id(),
        &*assigned,
        "every handle, before and after a reconnect"
    );
    let reconnects = chaos
        .wire_log()
        .of_client(&assigned, |entry| entry.kind == "CONNECT");
    assert_eq!(
        reconnects.len(),
        1,
        "the reconnect's CONNECT carries the assigned id"
    );
    client.disconnect().await.unwrap();
}

#[actix::test]
async fn a_configured_client_id_is_the_one_in_use() {
    let broker = Broker::start().unwrap();
    let opts = ConnectOptions::new("127.0.0.1", "named").port(broker.port());
    let client = Client::connect(opts).await.unwrap();
    assert_eq!(client.client_id(), "named");
    client.disconnect().await.unwrap();
}

#[actix::test]
async fn a_supervised_connection_with_an_empty_id_is_registered_under_the_assigned_one() {
    let broker = Broker::start().unwrap();
    let opts = ConnectOptions::new("127.0.0.1", "").port(broker.port());
    let client = Client::connect_supervised(opts).await.unwrap();
    let assigned = client.client_id().to_owned();
    assert!(!assigned.is_empty(), "the server assigned an id");
    let (found, _meta) = Client::whereis(&assigned).await.expect("registered under it");
    assert_eq!(found.client_id(), assigned);
    let listed: Vec<String> = Client::list().await.into_iter().map(|(id, _, _)| id).collect();
    assert_eq!(listed, std::slice::from_ref(&assigned));
    client.disconnect().await.unwrap();
    assert!(
        Client::whereis(&assigned).await.is_none(),
        "unregistered when it stops"
    );
}
