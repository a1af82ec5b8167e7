//! Session stores against a real mosquitto: a new connection with the same
//! client id finishes what an earlier one left in flight; a clean session
//! clears the store; a store error reaches the caller of `publish`.
//! (A process killed with SIGKILL is in `loss.rs`.)

use std::future::IntoFuture;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqttx::packet::PacketId;
use mqttx::store::{
    FileStore, MemoryStore, SessionChange, SessionState, SessionStore, StoreError, StoreFuture, StoredPublish,
};
use mqttx::{Backoff, Client, ConnectOptions, Error, ProtocolVersion, Publish, QoS};
use mqttx_tests::chaos::Chaos;
use mqttx_tests::events::{recorder, Events, Seen};
use mqttx_tests::support::{tag, VERSIONS, WAIT};
use mqttx_tests::Broker;

fn options(port: u16, client_id: &str, version: ProtocolVersion) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", client_id)
        .port(port)
        .protocol_version(version)
        .clean_session(false)
        .session_expiry_interval(300)
        .backoff(
            Backoff::default()
                .initial(Duration::from_millis(50))
                .max(Duration::from_millis(500)),
        )
}

async fn watch(port: u16, topic: &str, version: ProtocolVersion) -> (Client, Events) {
    let (recorder, events) = recorder();
    let client =
        Client::connect(options(port, &format!("watch-{}", tag(version)), version).handler(recorder))
            .await
            .unwrap();
    client.subscribe(topic, QoS::ExactlyOnce).await.unwrap();
    (client, events)
}

/// Waits until `done` holds, polling what a store holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Publishes 0..count (QoS 1 and 2 alternating) into a proxy that holds
/// every byte, so none reaches the broker; once the store has them all,
/// disconnects (the DISCONNECT is held too) and cuts the proxy. The
/// callers learn `Closed`; the store keeps the publishes.
async fn leave_in_flight(
    chaos: &Chaos,
    opts: ConnectOptions,
    topic: &str,
    count: u32,
    stored: impl Fn() -> usize,
) {
    let client = Client::connect(opts).await.unwrap();
    chaos.hold(true);
    let sends: Vec<_> = (0..count)
        .map(|n| {
            let qos = if n % 2 == 0 {
                QoS::AtLeastOnce
            } else {
                QoS::ExactlyOnce
            };
            client
                .publish(topic.to_owned(), n.to_be_bytes().to_vec())
                .qos(qos)
                .into_future()
        })
        .collect();
    until("the store records every publish", || stored() == count as usize).await;
    client.disconnect().await.unwrap();
    for send in sends {
        assert!(matches!(send.await, Err(Error::Closed)));
    }
    chaos.cut_now();
    chaos.hold(false);
}

/// The numbers that arrive, until `count` distinct ones did; each once.
async fn expect_each_once(events: &mut Events, count: u32) {
    let mut seen = vec![0u32; count as usize];
    while seen.contains(&0) {
        let msg = events.message(WAIT).await;
        let n = u32::from_be_bytes(msg.payload[..4].try_into().unwrap());
        seen[n as usize] += 1;
    }
    let extra = events.during(Duration::from_millis(300)).await;
    assert!(
        !extra.iter().any(|e| matches!(e, Seen::Message(_))),
        "nothing more arrives: {extra:?}"
    );
    assert!(seen.iter().all(|&n| n == 1), "each exactly once: {seen:?}");
}

#[actix_rt::test]
async fn memory_store_lets_a_new_connection_finish_what_an_old_one_left_in_flight() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let chaos = Chaos::start(broker.port()).unwrap();
        let topic = format!("memory/{}", tag(version));
        let (watcher, mut events) = watch(broker.port(), &topic, version).await;
        let store = MemoryStore::new();
        let id = format!("memory-{}", tag(version));
        let opts = options(chaos.port(), &id, version).session_store(store.clone());
        let stored = || store.session(&id).outgoing.len();
        leave_in_flight(&chaos, opts.clone(), &topic, 10, stored).await;
        let early = events.during(Duration::from_millis(200)).await;
        assert!(
            !early.iter().any(|e| matches!(e, Seen::Message(_))),
            "nothing reached the broker: {early:?}"
        );

        // A new connection with the same id and store resumes the session.
        let client = Client::connect(opts).await.unwrap();
        expect_each_once(&mut events, 10).await;
        until("the store empties", || store.is_empty()).await;
        client.disconnect().await.unwrap();
        watcher.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn file_store_lets_a_new_store_on_the_same_directory_finish_the_session() {
    let broker = Broker::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let version = ProtocolVersion::V5;
    let chaos = Chaos::start(broker.port()).unwrap();
    let topic = "file/t";
    let (watcher, mut events) = watch(broker.port(), topic, version).await;
    let store = FileStore::open(dir.path()).unwrap();
    let opts = options(chaos.port(), "file-client", version);
    let reader = store.clone();
    let stored = move || reader.session("file-client").unwrap().outgoing.len();
    leave_in_flight(&chaos, opts.clone().session_store(store), topic, 10, stored).await;

    // As a restarted process would: a store opened afresh, reading the files.
    let reopened = FileStore::open(dir.path()).unwrap();
    assert_eq!(reopened.session("file-client").unwrap().outgoing.len(), 10);
    let client = Client::connect(opts.session_store(reopened.clone()))
        .await
        .unwrap();
    expect_each_once(&mut events, 10).await;
    until("the store empties", || {
        FileStore::open(dir.path())
            .unwrap()
            .session("file-client")
            .unwrap()
            .is_empty()
    })
    .await;
    client.disconnect().await.unwrap();
    watcher.disconnect().await.unwrap();
}

fn stored(seq: u64, id: u16, topic: &str, qos: QoS) -> SessionChange {
    let mut publish = Publish::new(topic.to_owned(), (seq as u32).to_be_bytes().to_vec()).qos(qos);
    publish.packet_id = PacketId::new(id);
    SessionChange::Publish(StoredPublish {
        seq,
        publish,
        released: false,
    })
}

#[actix_rt::test]
async fn a_stored_session_the_broker_does_not_have_goes_out_as_new_messages() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let topic = format!("absent/{}", tag(version));
        let (watcher, mut events) = watch(broker.port(), &topic, version).await;
        let store = MemoryStore::new();
        let id = format!("absent-{}", tag(version));
        store
            .apply(
                &id,
                &[
                    stored(0, 7, &topic, QoS::AtLeastOnce),
                    stored(1, 8, &topic, QoS::ExactlyOnce),
                    SessionChange::IncomingReceived(PacketId::new(3).unwrap()),
                ],
            )
            .now()
            .unwrap()
            .unwrap();
        // The broker never saw this client id: no session present.
        let client = Client::connect(options(broker.port(), &id, version).session_store(store.clone()))
            .await
            .unwrap();
        expect_each_once(&mut events, 2).await;
        until("the store empties", || store.is_empty()).await;
        client.disconnect().await.unwrap();
        watcher.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn a_clean_session_clears_the_store() {
    let broker = Broker::start().unwrap();
    let version = ProtocolVersion::V5;
    let topic = "clean/t";
    let (watcher, mut events) = watch(broker.port(), topic, version).await;
    let store = MemoryStore::new();
    store
        .apply("clean", &[stored(0, 7, topic, QoS::AtLeastOnce)])
        .now()
        .unwrap()
        .unwrap();
    let client = Client::connect(
        options(broker.port(), "clean", version)
            .clean_session(true)
            .session_store(store.clone()),
    )
    .await
    .unwrap();
    assert!(store.is_empty(), "a clean start empties the store");
    client
        .publish(topic, 1u32.to_be_bytes().to_vec())
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    let first = events.message(WAIT).await;
    assert_eq!(
        &first.payload[..],
        &1u32.to_be_bytes(),
        "the stored message was discarded"
    );
    client.disconnect().await.unwrap();
    watcher.disconnect().await.unwrap();
}

/// A store that fails while `failing` is set.
struct Flaky {
    inner: MemoryStore,
    failing: Arc<AtomicBool>,
}

impl SessionStore for Flaky {
    fn load(&self, client_id: &str) -> StoreFuture<SessionState> {
        self.inner.load(client_id)
    }

    fn apply(&self, client_id: &str, changes: &[SessionChange]) -> StoreFuture<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::io(
                "writing the session",
                std::io::Error::other("disk full"),
            ))
            .into();
        }
        self.inner.apply(client_id, changes)
    }

    fn clear(&self, client_id: &str) -> StoreFuture<()> {
        self.inner.clear(client_id)
    }
}

#[actix_rt::test]
async fn a_store_error_reaches_the_caller_of_publish_and_nothing_is_sent() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let topic = format!("flaky/{}", tag(version));
        let (watcher, mut events) = watch(broker.port(), &topic, version).await;
        let failing = Arc::new(AtomicBool::new(false));
        let store = Flaky {
            inner: MemoryStore::new(),
            failing: Arc::clone(&failing),
        };
        let client = Client::connect(
            options(broker.port(), &format!("flaky-{}", tag(version)), version).session_store(store),
        )
        .await
        .unwrap();

        failing.store(true, Ordering::SeqCst);
        for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let result = client
                .publish(topic.clone(), 0u32.to_be_bytes().to_vec())
                .qos(qos)
                .await;
            match result {
                Err(Error::Store(err)) => assert!(err.to_string().contains("disk full"), "{err}"),
                other => panic!("expected a store error, got {other:?}"),
            }
        }
        failing.store(false, Ordering::SeqCst);
        client
            .publish(topic.clone(), 1u32.to_be_bytes().to_vec())
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        let first = events.message(WAIT).await;
        assert_eq!(
            &first.payload[..],
            &1u32.to_be_bytes(),
            "the failed publishes were not sent"
        );
        client.disconnect().await.unwrap();
        watcher.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn a_store_needs_a_client_id() {
    let result =
        Client::connect(ConnectOptions::new("127.0.0.1", "").session_store(MemoryStore::new())).await;
    assert!(matches!(result, Err(Error::InvalidOptions(_))), "got {result:?}");
}
