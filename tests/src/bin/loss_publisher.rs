//! The publishing process of the `loss` test that is killed with SIGKILL:
//! it publishes numbered QoS 1 and QoS 2 messages with a session store, so
//! that a new process started after the kill finishes what the dead one
//! had in flight.
//!
//! ```text
//! loss_publisher PORT STORE CLIENT_ID PREFIX COUNT FROM_Q1 FROM_Q2
//! ```
//!
//! STORE is a `FileStore` directory, or a `redis://` URL for a `RedisStore`
//! (the connection then runs under the supervisor, as a service would).
//!
//! It connects (resuming the stored session), publishes FROM..COUNT on
//! each topic (`PREFIX/q1` at QoS 1, `PREFIX/q2` at QoS 2), then END on
//! each, and disconnects. Whenever the store has recorded publishes, it
//! prints `stored TOPIC NUMBER` (topic 0 or 1, the highest number in that
//! batch) before the connection goes on to send them: everything printed
//! is the store's to deliver, so the test resumes after it.

use std::collections::VecDeque;
use std::future::IntoFuture;
use std::io::Write;

use mqttx::store::{
    FileStore, RedisStore, SessionChange, SessionState, SessionStore, StoreError, StoreFuture,
};
use mqttx::Client;
use mqttx_tests::support::{loss_options, loss_topics};

const END: u32 = u32::MAX;
const PIPELINE: usize = 2_000;

/// A store that reports what it recorded, once it has.
struct Reporting(Box<dyn SessionStore>);

impl SessionStore for Reporting {
    fn load(&self, client_id: &str) -> StoreFuture<SessionState> {
        self.0.load(client_id)
    }

    fn apply(&self, client_id: &str, changes: &[SessionChange]) -> StoreFuture<()> {
        let highest = highest(changes);
        let mut applied = self.0.apply(client_id, changes);
        match applied.now() {
            Some(Ok(())) => report(highest).into(),
            Some(Err(err)) => Err(err).into(),
            None => StoreFuture::new(async move {
                applied.await?;
                report(highest)
            }),
        }
    }

    fn clear(&self, client_id: &str) -> StoreFuture<()> {
        self.0.clear(client_id)
    }
}

/// The highest number of each topic a batch records.
fn highest(changes: &[SessionChange]) -> [Option<u32>; 2] {
    let mut highest: [Option<u32>; 2] = [None, None];
    for change in changes {
        if let SessionChange::Publish(stored) = change {
            let index = usize::from(stored.publish.topic.ends_with("/q2"));
            let number = stored
                .publish
                .payload
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes);
            if let Some(number) = number.filter(|&n| n != END) {
                highest[index] = highest[index].max(Some(number));
            }
        }
    }
    highest
}

/// Prints what a batch recorded, once the store has it: from then on it is
/// the store's to deliver.
fn report(highest: [Option<u32>; 2]) -> Result<(), StoreError> {
    let mut out = std::io::stdout().lock();
    for (index, number) in highest.iter().enumerate() {
        if let Some(number) = number {
            writeln!(out, "stored {index} {number}").map_err(|e| StoreError::io("stdout", e))?;
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port, store, client_id, prefix, count, from_q1, from_q2] = args.as_slice() else {
        eprintln!("usage: loss_publisher PORT STORE CLIENT_ID PREFIX COUNT FROM_Q1 FROM_Q2");
        std::process::exit(2);
    };
    let number = |s: &String| -> u32 { s.parse().expect("a number") };
    let port = u16::try_from(number(port)).expect("port");
    let count = number(count);
    let from = [number(from_q1), number(from_q2)];
    let topics = loss_topics(prefix);
    actix_rt::System::new().block_on(async move {
        let redis = store.starts_with("redis://");
        let store: Box<dyn SessionStore> = if redis {
            Box::new(RedisStore::connect(store).await.expect("redis"))
        } else {
            Box::new(FileStore::open(store).expect("store"))
        };
        let opts = loss_options(port, client_id).session_store(Reporting(store));
        let client = if redis {
            Client::connect_supervised(opts).await.expect("connect")
        } else {
            Client::connect(opts).await.expect("connect")
        };
        let mut pending = VecDeque::new();
        for n in from[0].min(from[1])..count {
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
