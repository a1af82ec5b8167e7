//! A three-node NATS cluster (routes on loopback, JetStream clustered, MQTT
//! on every node), with clients configured with every node: messages cross
//! nodes, and when a node dies mid-stream its clients fail over to another
//! node, resume their sessions there and lose no QoS 1 message.

use std::collections::BTreeSet;
use std::future::IntoFuture;
use std::time::{Duration, Instant};

use mqttx::{Client, ConnectOptions, ProtocolVersion, QoS};
use mqttx_tests::events::{recorder, Seen};
use mqttx_tests::nats::NatsCluster;
use mqttx_tests::support::{fast_backoff, WAIT};

/// A cluster's JetStream elects its leaders before MQTT sessions work.
const CLUSTER_WAIT: Duration = Duration::from_secs(60);
const COUNT: u32 = 2_000;

/// Each connect attempt's bound: a node that accepts TCP but cannot serve
/// the session yet is left for the next one.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// A client of `ports`, in that order. NATS speaks MQTT 3.1.1 only:
/// pinned to it, the client starts on the first node (the refused MQTT 5
/// attempt of the default would move it on to the next).
fn options(ports: &[u16], client_id: &str) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", client_id)
        .servers(ports.iter().map(|&port| ("127.0.0.1", port)))
        .protocol_version(ProtocolVersion::V311)
        .backoff(fast_backoff())
        .connect_timeout(ATTEMPT_TIMEOUT)
}

/// Waits until every node serves MQTT sessions: JetStream has elected its
/// leaders.
async fn ready(cluster: &NatsCluster) {
    for (n, port) in cluster.mqtt_ports().into_iter().enumerate() {
        let probe = options(&[port], &format!("probe{n}")).connect_timeout(CLUSTER_WAIT);
        let probe = Client::connect(probe)
            .await
            .unwrap_or_else(|err| panic!("node {n} did not serve MQTT: {err}\n{}", cluster.logs()));
        probe.disconnect().await.unwrap();
    }
}

#[actix::test]
async fn a_message_published_on_one_node_reaches_a_subscriber_on_another() {
    let cluster = NatsCluster::start().unwrap();
    ready(&cluster).await;
    let ports = cluster.mqtt_ports();
    let (handler, mut events) = recorder();
    let sub = Client::connect(options(&ports[1..2], "on-b").handler(handler))
        .await
        .unwrap_or_else(|err| panic!("connect to node B: {err}\n{}", cluster.logs()));
    sub.subscribe("cluster/t", QoS::AtLeastOnce).await.unwrap();
    let publisher = Client::connect(options(&ports[0..1], "on-a")).await.unwrap();
    publisher
        .publish("cluster/t", "across")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    let message = events.message(WAIT).await;
    assert_eq!(&message.payload[..], b"across");
}

#[actix::test]
async fn a_node_killed_mid_stream_loses_no_qos1_message_and_the_session_resumes_elsewhere() {
    let mut cluster = NatsCluster::start().unwrap();
    ready(&cluster).await;
    let ports = cluster.mqtt_ports();
    // Both clients list every node and start on node A.
    let (handler, mut events) = recorder();
    let sub = Client::connect(options(&ports, "sub").clean_session(false).handler(handler))
        .await
        .unwrap_or_else(|err| panic!("connect: {err}\n{}", cluster.logs()));
    sub.subscribe("cluster/stream", QoS::AtLeastOnce).await.unwrap();
    let publisher = Client::connect(options(&ports, "pub").clean_session(false))
        .await
        .unwrap();
    let sending = actix::spawn(async move {
        let pending: Vec<_> = (0..COUNT)
            .map(|n| {
                publisher
                    .publish("cluster/stream", n.to_string())
                    .qos(QoS::AtLeastOnce)
                    .into_future()
            })
            .collect();
        for (n, publish) in pending.into_iter().enumerate() {
            if let Err(err) = publish.await {
                panic!("publish {n}: {err}");
            }
        }
        publisher
    });

    let mut received = BTreeSet::new();
    let mut killed_at = None;
    let mut failover = None;
    let mut resumed = None;
    // JetStream's recovery after the kill took up to 30 s here.
    let deadline = Instant::now() + 2 * CLUSTER_WAIT;
    while received.len() < COUNT as usize {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.next(left).await {
            Some(Seen::Message(message)) => {
                let n: u32 = std::str::from_utf8(&message.payload).unwrap().parse().unwrap();
                received.insert(n);
                if killed_at.is_none() && received.len() >= COUNT as usize / 4 {
                    cluster.kill(0).unwrap();
                    killed_at = Some(Instant::now());
                }
            }
            Some(Seen::Connected(connack)) => {
                if let Some(killed) = killed_at {
                    failover.get_or_insert(killed.elapsed());
                    resumed.get_or_insert(connack.session_present);
                }
            }
            Some(_) => {}
            None => panic!(
                "{} of {COUNT} received (subscriber {:?}); missing from {:?}\n{}",
                received.len(),
                sub.state(),
                (0..COUNT).find(|n| !received.contains(n)),
                cluster.logs()
            ),
        }
    }
    let publisher = sending.await.unwrap();
    let failover = failover.expect("the subscriber reconnected after the kill");
    assert_eq!(resumed, Some(true), "the session resumed on another node");
    let complete = killed_at.map(|killed| killed.elapsed());
    eprintln!(
        "failover: node A killed; the subscriber resumed its session on another node {failover:?} later, \
         and had all {COUNT} messages {complete:?} after the kill"
    );
    drop((sub, publisher));
}
