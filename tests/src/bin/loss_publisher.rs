//! The publishing process of the `loss` test that is killed with SIGKILL:
//! it publishes numbered QoS 1 and QoS 2 messages with a `FileStore`, so
//! that a new process started after the kill finishes what the dead one
//! had in flight.
//!
//! ```text
//! loss_publisher PORT STORE_DIR CLIENT_ID PREFIX COUNT
//! ```
//!
//! It connects (resuming the stored session), publishes a MARK on both
//! topics, waits for both to complete, then reads "FROM_Q1 FROM_Q2" from
//! stdin and publishes FROM..COUNT on each topic, then END on each, and
//! disconnects. The MARK tells the test, watching a subscriber, that
//! everything the store resumed was delivered before it (one publisher,
//! one topic: in order), so it knows where to resume.

use std::collections::VecDeque;
use std::future::IntoFuture;
use std::time::Duration;

use mqttx::store::FileStore;
use mqttx::{Backoff, Client, ConnectOptions, ProtocolVersion, QoS};

const MARK: u32 = u32::MAX - 1;
const END: u32 = u32::MAX;
const PIPELINE: usize = 2_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port, store, client_id, prefix, count] = args.as_slice() else {
        eprintln!("usage: loss_publisher PORT STORE_DIR CLIENT_ID PREFIX COUNT");
        std::process::exit(2);
    };
    let port: u16 = port.parse().expect("port");
    let count: u32 = count.parse().expect("count");
    let store = FileStore::open(store).expect("store");
    let opts = ConnectOptions::new("127.0.0.1", client_id.as_str())
        .port(port)
        .protocol_version(ProtocolVersion::V5)
        .clean_session(false)
        .session_expiry_interval(600)
        .max_inflight(500)
        .connect_timeout(Duration::from_secs(20))
        .backoff(
            Backoff::default()
                .initial(Duration::from_millis(10))
                .max(Duration::from_millis(200)),
        )
        .session_store(store);
    let topics = [
        (format!("{prefix}/q1"), QoS::AtLeastOnce),
        (format!("{prefix}/q2"), QoS::ExactlyOnce),
    ];
    actix_rt::System::new().block_on(async move {
        let client = Client::connect(opts).await.expect("connect");
        eprintln!("publisher: connected");
        for (topic, qos) in &topics {
            client
                .publish(topic.clone(), MARK.to_be_bytes().to_vec())
                .qos(*qos)
                .await
                .expect("mark");
            eprintln!("publisher: mark on {topic}");
        }
        let line = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await
        .expect("stdin")
        .expect("stdin");
        let from: Vec<u32> = line
            .split_whitespace()
            .map(|n| n.parse().expect("number"))
            .collect();
        let [from_q1, from_q2] = from.as_slice() else {
            panic!("expected two numbers, got {line:?}");
        };
        let from = [*from_q1, *from_q2];
        let mut pending = VecDeque::new();
        for n in from_q1.min(from_q2).to_owned()..count {
            for (index, (topic, qos)) in topics.iter().enumerate() {
                if n >= from[index] {
                    let send = client.publish(topic.clone(), n.to_be_bytes().to_vec()).qos(*qos);
                    pending.push_back(send.into_future());
                }
            }
            while pending.len() > PIPELINE {
                if let Some(send) = pending.pop_front() {
                    send.await.expect("publish");
                }
            }
        }
        for send in pending {
            send.await.expect("publish");
        }
        for (topic, qos) in &topics {
            client
                .publish(topic.clone(), END.to_be_bytes().to_vec())
                .qos(*qos)
                .await
                .expect("end");
        }
        client.disconnect().await.expect("disconnect");
    });
}
