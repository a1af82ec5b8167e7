//! A store that answers later: what it guards waits for it, what it does
//! not guard goes out meanwhile, batches act in order, failures and hangs
//! fail the publishes they guard.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::server::{Answer, Peer};
use super::*;
use crate::store::{MemoryStore, StoreFuture};

/// A batch the test answers when it likes.
type Batch = (Vec<SessionChange>, oneshot::Sender<Result<(), StoreError>>);

/// Every `apply` waits for the test to answer it; `load` and `clear` may
/// too, when `slow_load` is set.
struct Gated {
    batches: mpsc::UnboundedSender<Batch>,
    memory: MemoryStore,
    slow_load: Option<Duration>,
}

impl SessionStore for Gated {
    fn load(&self, client_id: &str) -> StoreFuture<SessionState> {
        let mut loaded = self.memory.load(client_id);
        match self.slow_load {
            Some(delay) => {
                let loaded = loaded.now().unwrap_or_else(|| Ok(SessionState::default()));
                StoreFuture::new(async move {
                    tokio::time::sleep(delay).await;
                    loaded
                })
            }
            None => loaded,
        }
    }

    fn apply(&self, _client_id: &str, changes: &[SessionChange]) -> StoreFuture<()> {
        let (tx, rx) = oneshot::channel();
        let _ = self.batches.send((changes.to_vec(), tx));
        StoreFuture::new(async move {
            rx.await
                .unwrap_or_else(|_| Err(StoreError::new("the test dropped the batch")))
        })
    }

    fn clear(&self, client_id: &str) -> StoreFuture<()> {
        self.memory.clear(client_id)
    }
}

type Batches = mpsc::UnboundedReceiver<Batch>;

fn gated(slow_load: Option<Duration>) -> (Gated, Batches, MemoryStore) {
    let (batches, rx) = mpsc::unbounded_channel();
    let memory = MemoryStore::new();
    let store = Gated {
        batches,
        memory: memory.clone(),
        slow_load,
    };
    (store, rx, memory)
}

/// The next batch that records a publish; the ones before it (the
/// CONNACK's "no session", say) are answered Ok.
async fn next_batch(batches: &mut Batches) -> Batch {
    loop {
        let (changes, answer) = within(batches.recv()).await.expect("a batch");
        if changes.iter().any(|c| matches!(c, SessionChange::Publish(_))) {
            return (changes, answer);
        }
        let _ = answer.send(Ok(()));
    }
}

async fn connected(opts: ConnectOptions<()>) -> (Rig, Peer) {
    let (mut rig, _gate) = start(opts, Vec::<Answer>::new(), false);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");
    (rig, peer)
}

#[actix::test]
async fn a_guarded_publish_waits_for_its_batch_while_other_packets_go_out() {
    let (store, mut batches, _) = gated(None);
    let (rig, mut peer) = connected(options("c1").clean_session(false).session_store(store)).await;
    let publishing = actix::spawn(
        rig.client
            .publish("t", "recorded first")
            .qos(QoS::AtLeastOnce)
            .into_future(),
    );
    let (changes, answer) = next_batch(&mut batches).await;
    assert!(
        matches!(changes.as_slice(), [SessionChange::Publish(_)]),
        "{changes:?}"
    );

    // The server's QoS 1 message is acknowledged meanwhile: its PUBACK
    // guards nothing of ours.
    peer.write(Packet::Publish(
        Publish::new("in", "m").qos(QoS::AtLeastOnce).packet_id(9),
    ))
    .await;
    match peer.expect().await {
        Packet::PubAck(ack) => assert_eq!(ack.packet_id.get(), 9),
        other => panic!("the PUBACK before the guarded PUBLISH, got {other:?}"),
    }

    answer.send(Ok(())).expect("the batch waits");
    let Packet::Publish(sent) = peer.expect().await else {
        panic!("the publish, once recorded");
    };
    assert_eq!(&sent.payload[..], b"recorded first");
    peer.write(Packet::PubAck(PubAck::new(sent.packet_id.expect("an id"))))
        .await;
    within(publishing).await.expect("joined").expect("acknowledged");
}

#[actix::test]
async fn batches_act_in_order_even_when_a_later_one_finishes_first() {
    let (store, mut batches, _) = gated(None);
    let (rig, mut peer) = connected(options("c1").clean_session(false).session_store(store)).await;
    let first = actix::spawn(rig.client.publish("t", "one").qos(QoS::AtLeastOnce).into_future());
    let (_, answer_first) = next_batch(&mut batches).await;
    let second = actix::spawn(rig.client.publish("t", "two").qos(QoS::AtLeastOnce).into_future());
    let (_, answer_second) = next_batch(&mut batches).await;

    answer_second.send(Ok(())).expect("waits");
    within(rig.client.publish("marker", "qos0")).await.expect("sent");
    match peer.expect().await {
        Packet::Publish(p) => assert_eq!(p.topic, "marker", "nothing guarded before the first batch"),
        other => panic!("expected the QoS 0 marker, got {other:?}"),
    }
    answer_first.send(Ok(())).expect("waits");
    for expected in ["one", "two"] {
        let Packet::Publish(p) = peer.expect().await else {
            panic!("a publish");
        };
        assert_eq!(&p.payload[..], expected.as_bytes(), "in order");
        peer.write(Packet::PubAck(PubAck::new(p.packet_id.expect("an id"))))
            .await;
    }
    within(first).await.expect("joined").expect("acknowledged");
    within(second).await.expect("joined").expect("acknowledged");
}

#[actix::test]
async fn a_failed_batch_fails_its_publishes_and_sends_none_of_them() {
    let (store, mut batches, _) = gated(None);
    let (rig, mut peer) = connected(options("c1").clean_session(false).session_store(store)).await;
    let failing = actix::spawn(
        rig.client
            .publish("t", "unrecorded")
            .qos(QoS::AtLeastOnce)
            .into_future(),
    );
    let (_, answer) = next_batch(&mut batches).await;
    answer.send(Err(StoreError::new("redis is down"))).expect("waits");
    let refused = within(failing).await.expect("joined");
    assert!(
        matches!(&refused, Err(Error::Store(e)) if e.to_string() == "redis is down"),
        "{refused:?}"
    );
    within(rig.client.publish("t", "after"))
        .await
        .expect("QoS 0 sent");
    let Packet::Publish(next) = peer.expect().await else {
        panic!("a publish");
    };
    assert_eq!(
        &next.payload[..],
        b"after",
        "the unrecorded publish never went out"
    );
}

#[actix::test]
async fn a_store_that_hangs_fails_after_the_store_timeout() {
    let (store, mut batches, _) = gated(None);
    let opts = options("c1")
        .clean_session(false)
        .session_store(store)
        .store_timeout(Duration::from_millis(200));
    let (rig, mut peer) = connected(opts).await;
    let hanging = actix::spawn(
        rig.client
            .publish("t", "never recorded")
            .qos(QoS::AtLeastOnce)
            .into_future(),
    );
    let (_, _never_answered) = next_batch(&mut batches).await;
    let refused = within(hanging).await.expect("joined");
    assert!(
        matches!(&refused, Err(Error::Store(e)) if e.to_string().contains("did not answer within")),
        "{refused:?}"
    );
    within(rig.client.publish("t", "after"))
        .await
        .expect("QoS 0 sent");
    let Packet::Publish(next) = peer.expect().await else {
        panic!("a publish");
    };
    assert_eq!(&next.payload[..], b"after");
}

#[actix::test]
async fn the_first_connect_waits_for_a_session_that_loads_later() {
    let (store, mut batches, memory) = gated(Some(Duration::from_millis(50)));
    let stored = Publish::new("t", "from the store")
        .qos(QoS::AtLeastOnce)
        .packet_id(4);
    memory
        .apply(
            "c1",
            &[SessionChange::Publish(crate::store::StoredPublish {
                seq: 0,
                publish: stored,
                released: false,
            })],
        )
        .unwrap();
    let (mut rig, _gate) = start(
        options("c1").clean_session(false).session_store(store),
        Vec::<Answer>::new(),
        false,
    );
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");
    // No session present: the stored publish goes out as a new message,
    // recorded again first.
    let (changes, answer) = next_batch(&mut batches).await;
    assert!(
        matches!(changes.as_slice(), [.., SessionChange::Publish(p)] if p.seq == 0),
        "{changes:?}"
    );
    answer.send(Ok(())).expect("waits");
    let Packet::Publish(resent) = peer.expect().await else {
        panic!("the stored publish");
    };
    assert_eq!(&resent.payload[..], b"from the store");
}
