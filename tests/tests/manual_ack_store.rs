//! Exactly once through a restart, on the path async `#[mqtt_handler]`
//! methods take (manual acknowledgement) with a `FileStore`, against
//! mosquitto: a QoS 2 message handled, whose PUBREC never reached the
//! broker, is resent by the broker to the restarted client — which must
//! answer it from the store without handing it to the handler again.

use std::time::{Duration, Instant};

use mqttx::store::FileStore;
use mqttx::{mqtt_handler, Client, ConnectOptions, ProtocolVersion, Publish, QoS};
use mqttx_tests::chaos::Chaos;
use mqttx_tests::support::{fast_backoff, options as plain, tag, VERSIONS, WAIT};
use mqttx_tests::Broker;
use tokio::sync::{mpsc, oneshot};

/// Reports each message it starts handling; the first on `once/held`
/// waits for the test to open the gate.
struct Once {
    seen: mpsc::UnboundedSender<String>,
    gate: Option<oneshot::Receiver<()>>,
}

#[mqtt_handler]
impl Once {
    #[subscribe("once/+", qos = 2)]
    async fn handle(&mut self, msg: &Publish) {
        let _ = self.seen.send(msg.topic.to_string());
        if msg.topic == "once/held" {
            if let Some(gate) = self.gate.take() {
                let _ = gate.await;
            }
        }
    }
}

fn options(port: u16, client_id: &str, version: ProtocolVersion) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", client_id)
        .port(port)
        .protocol_version(version)
        .clean_session(false)
        .session_expiry_interval(300)
        .backoff(fast_backoff())
}

async fn next(seen: &mut mpsc::UnboundedReceiver<String>, what: &str) -> String {
    match tokio::time::timeout(WAIT, seen.recv()).await {
        Ok(Some(topic)) => topic,
        _ => panic!("{what}: nothing handled within {WAIT:?}"),
    }
}

/// Publishes on `topic` until the handler reports it (its route is
/// subscribed by then); returns what it reported before.
async fn until_handled(
    publisher: &Client,
    seen: &mut mpsc::UnboundedReceiver<String>,
    topic: &str,
) -> Vec<String> {
    let mut before = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "{topic} never handled: {before:?}");
        publisher.publish(topic, "").qos(QoS::ExactlyOnce).await.unwrap();
        while let Ok(Some(got)) = tokio::time::timeout(Duration::from_millis(200), seen.recv()).await {
            if got == topic {
                return before;
            }
            before.push(got);
        }
    }
}

/// Polls what the client's store holds, through a clone of it: opening
/// the directory again meanwhile would compact the file under the client
/// (one process per directory and client id).
async fn until_stored(store: &FileStore, client_id: &str, what: &str, done: impl Fn(usize) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let incoming = store.session(client_id).unwrap().incoming.len();
        if done(incoming) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {incoming} incoming ids stored"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[actix_rt::test]
async fn a_handled_qos2_message_is_not_handled_again_after_a_restart_mid_flow() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let chaos = Chaos::start(broker.port()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let id = format!("once-{}", tag(version));
        let opts = options(chaos.port(), &id, version);
        let (report, mut seen) = mpsc::unbounded_channel();
        let (open, gate) = oneshot::channel();
        let handler = Once {
            seen: report.clone(),
            gate: Some(gate),
        };
        let store = FileStore::open(dir.path()).unwrap();
        let client = Client::connect(opts.clone().session_store(store.clone()).handler(handler))
            .await
            .unwrap();
        let publisher = Client::connect(plain(broker.port(), "once-pub", version))
            .await
            .unwrap();
        until_handled(&publisher, &mut seen, "once/probe").await;

        publisher
            .publish("once/held", "x")
            .qos(QoS::ExactlyOnce)
            .await
            .unwrap();
        assert_eq!(next(&mut seen, "the held message").await, "once/held");
        // Nothing the client writes from now on reaches the broker: the
        // PUBREC that follows the handling is lost with the process.
        chaos.hold(true);
        open.send(()).unwrap();
        until_stored(&store, &id, "the handled message is recorded as received", |n| {
            n == 1
        })
        .await;
        client.disconnect().await.unwrap();
        chaos.cut_now();
        chaos.hold(false);

        // The restarted process: a new store on the same files.
        let handler = Once {
            seen: report.clone(),
            gate: None,
        };
        let store = FileStore::open(dir.path()).unwrap();
        let client = Client::connect(opts.session_store(store.clone()).handler(handler))
            .await
            .unwrap();
        until_stored(&store, &id, "the broker's PUBREL releases it", |n| n == 0).await;
        let before = until_handled(&publisher, &mut seen, "once/after").await;
        assert!(
            !before.iter().any(|topic| topic == "once/held"),
            "{version:?}: handled twice: {before:?}"
        );
        // The proxy's log decodes MQTT 5 only.
        if version == ProtocolVersion::V5 {
            let resent = chaos
                .wire_log()
                .of_client(&id, |e| e.kind == "PUBLISH" && !e.to_broker && e.dup);
            assert!(!resent.is_empty(), "the broker never resent the message");
        }
        publisher.disconnect().await.unwrap();
        client.disconnect().await.unwrap();
    }
}
