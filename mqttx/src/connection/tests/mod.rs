//! The actor's life, in-process: a real `Connection` over in-memory pipes
//! to a scripted server, in a real actix System. No sockets, no broker.

mod allocations;
mod async_store;
mod auth;
mod bursts;
mod calls;
mod connect_timeout;
mod goodbye;
mod hostile;
mod refusal;
mod server;
mod streams;

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{Connection, Registration};
use crate::client::Client;
use crate::error::Error;
use crate::handler::{DisconnectReason, Handled, HandlerContext, HandlerEvent, HandlerTask, MqttHandler};
use crate::options::{Backoff, ConnectOptions};
use crate::packet::{ConnAck, Packet, PubAck, Publish, QoS, ReasonCode};
use crate::store::{SessionChange, SessionState, SessionStore, StoreError, StoreFuture};
use server::{Answer, Network, DEADLINE};

/// Reports every event, and runs messages on `slow/..` asynchronously
/// until the test opens their gate.
struct Recorder {
    events: mpsc::UnboundedSender<HandlerEvent>,
    gate: Option<oneshot::Receiver<()>>,
}

impl MqttHandler for Recorder {
    fn handle(&mut self, event: &HandlerEvent, _ctx: &mut HandlerContext<'_>) -> Handled {
        let _ = self.events.send(event.clone());
        match event {
            HandlerEvent::Message(msg) if msg.topic.starts_with("slow/") => Handled::Async(0),
            _ => Handled::Done,
        }
    }

    fn handle_async(mut self, _token: u32, _event: HandlerEvent, _client: Client) -> HandlerTask<Self> {
        Box::pin(async move {
            if let Some(gate) = self.gate.take() {
                let _ = gate.await;
            }
            (self, None)
        })
    }
}

/// What a test holds: the network, the client, the handler's events.
struct Rig {
    network: Network,
    client: Client,
    connected: oneshot::Receiver<Result<ConnAck, Error>>,
    events: mpsc::UnboundedReceiver<HandlerEvent>,
}

/// Options a test starts from: quick, jitter-free backoff.
fn options(client_id: &str) -> ConnectOptions<()> {
    ConnectOptions::new("scripted", client_id)
        .backoff(Backoff::default().initial(Duration::from_millis(100)).jitter(0.0))
}

fn start(
    opts: ConnectOptions<()>,
    answers: Vec<Answer>,
    supervised: bool,
) -> (Rig, Option<oneshot::Sender<()>>) {
    let (events_tx, events) = mpsc::unbounded_channel();
    let (gate_tx, gate) = oneshot::channel();
    let handler = Recorder {
        events: events_tx,
        gate: Some(gate),
    };
    let (network, dialer) = Network::new(answers);
    let (tx, connected) = oneshot::channel();
    let registration = supervised.then(Registration::default);
    let client = Connection::launch_over(dialer, opts.handler(handler), tx, registration).expect("starts");
    let rig = Rig {
        network,
        client,
        connected,
        events,
    };
    (rig, Some(gate_tx))
}

impl Rig {
    /// The next event the handler saw.
    async fn event(&mut self) -> HandlerEvent {
        match tokio::time::timeout(DEADLINE, self.events.recv()).await {
            Ok(Some(event)) => event,
            _ => panic!("the handler saw nothing within {DEADLINE:?}"),
        }
    }

    /// The next event that is not a message.
    async fn lifecycle_event(&mut self) -> HandlerEvent {
        loop {
            match self.event().await {
                HandlerEvent::Message(_) => {}
                other => return other,
            }
        }
    }

    async fn first_outcome(&mut self) -> Result<ConnAck, Error> {
        match tokio::time::timeout(DEADLINE, &mut self.connected).await {
            Ok(Ok(outcome)) => outcome,
            _ => panic!("Client::connect got no outcome within {DEADLINE:?}"),
        }
    }
}

async fn within<F: IntoFuture>(future: F) -> F::Output {
    tokio::time::timeout(DEADLINE, future.into_future())
        .await
        .unwrap_or_else(|_| panic!("not done within {DEADLINE:?}"))
}

/// Lets the actor, on this same thread, take what was just sent to it.
async fn let_the_actor_run() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}

#[actix::test]
async fn connect_resolves_with_the_connack_after_connect_names_the_client() {
    let (mut rig, _gate) = start(options("c1"), vec![], false);
    let mut peer = rig.network.accept().await;
    let Packet::Connect(connect) = peer.expect().await else {
        panic!("first comes CONNECT");
    };
    assert_eq!(connect.client_id, "c1");
    let accept = ConnAck {
        session_present: false,
        ..ConnAck::default()
    };
    peer.write(Packet::ConnAck(accept)).await;
    let connack = rig.first_outcome().await.expect("accepted");
    assert_eq!(connack.reason_code, ReasonCode::Success);
    assert!(matches!(rig.lifecycle_event().await, HandlerEvent::Connected(_)));
}

#[actix::test]
async fn a_refusal_retrying_cannot_fix_fails_connect_and_is_not_retried() {
    let (mut rig, _gate) = start(options("c1"), vec![], false);
    let mut peer = rig.network.accept().await;
    peer.refuse(ReasonCode::NotAuthorized).await;
    match rig.first_outcome().await {
        Err(Error::ConnectRejected { reason_code, .. }) => assert_eq!(reason_code, ReasonCode::NotAuthorized),
        other => panic!("expected a refusal, got {other:?}"),
    }
    match rig.lifecycle_event().await {
        HandlerEvent::Disconnected(reason) => assert!(!reason.will_reconnect(), "{reason}"),
        other => panic!("expected Disconnected, got {other:?}"),
    }
    // Three backoffs' worth of time: a retry would have dialled by then.
    assert!(rig
        .network
        .dialled_within(Duration::from_millis(300))
        .await
        .is_none());
    assert_eq!(rig.network.dials().len(), 1);
}

#[actix::test]
async fn a_lost_connection_reconnects_after_a_growing_backoff_and_sends_what_waited() {
    let (mut rig, _gate) = start(options("c1"), vec![], false);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");

    // The next dial is refused, the one after accepted.
    rig.network.then(Answer::Refuse);
    drop(peer);
    match rig.lifecycle_event().await {
        HandlerEvent::Connected(_) => match rig.lifecycle_event().await {
            HandlerEvent::Disconnected(reason) => assert!(reason.will_reconnect(), "{reason}"),
            other => panic!("expected Disconnected, got {other:?}"),
        },
        other => panic!("expected Connected first, got {other:?}"),
    }
    let lost = Instant::now();
    let waiting = rig
        .client
        .publish("t", "while away")
        .qos(QoS::AtLeastOnce)
        .into_future();
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    let dials = rig.network.dials();
    assert_eq!(dials.len(), 3, "connect, a refused retry, an accepted one");
    let first_wait = dials[1].saturating_duration_since(lost);
    let second_wait = dials[2].saturating_duration_since(dials[1]);
    assert!(first_wait >= Duration::from_millis(90), "{first_wait:?}");
    assert!(
        second_wait >= Duration::from_millis(190),
        "the backoff doubles: {second_wait:?}"
    );
    assert!(second_wait < Duration::from_millis(1000), "{second_wait:?}");

    let Packet::Publish(publish) = peer.expect().await else {
        panic!("the publish that waited goes out");
    };
    assert_eq!(&publish.payload[..], b"while away");
    let id = publish.packet_id.expect("QoS 1 has an id");
    peer.write(Packet::PubAck(PubAck::new(id))).await;
    within(waiting).await.expect("acknowledged");
}

#[actix::test]
async fn disconnect_waits_for_the_busy_handler_so_its_message_is_acknowledged_first() {
    let (mut rig, gate) = start(options("c1"), vec![], false);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");
    let slow = Publish::new("slow/1", "work").qos(QoS::AtLeastOnce).packet_id(7);
    peer.write(Packet::Publish(slow)).await;
    loop {
        if let HandlerEvent::Message(_) = rig.event().await {
            break;
        }
    }
    let disconnected = rig.client.disconnect();
    let_the_actor_run().await;
    assert!(rig.events.try_recv().is_err(), "the handler is not told yet");
    gate.expect("a gate").send(()).expect("the handler waits on it");

    let Packet::PubAck(ack) = peer.expect().await else {
        panic!("the message is acknowledged first");
    };
    assert_eq!(ack.packet_id.get(), 7);
    assert!(
        matches!(peer.expect().await, Packet::Disconnect(_)),
        "then DISCONNECT"
    );
    assert!(peer.read().await.is_none(), "then the stream ends");
    within(disconnected).await.expect("disconnected");
    match rig.lifecycle_event().await {
        HandlerEvent::Disconnected(DisconnectReason::Client) => {}
        other => panic!("expected Disconnected(Client), got {other:?}"),
    }
    assert!(
        rig.network
            .dialled_within(Duration::from_millis(300))
            .await
            .is_none(),
        "no reconnect"
    );
}

#[actix::test]
async fn a_panic_under_supervision_restarts_the_actor_which_reconnects_and_finishes_waiting_publishes() {
    let (mut rig, _gate) = start(options("c1"), vec![], true);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");
    let waiting = rig
        .client
        .publish("t", "in flight")
        .qos(QoS::AtLeastOnce)
        .into_future();
    assert!(matches!(peer.expect().await, Packet::Publish(_)));
    rig.client.inject_panic().expect("the actor runs");

    let crashed = loop {
        if let HandlerEvent::Disconnected(reason) = rig.lifecycle_event().await {
            break reason;
        }
    };
    assert!(
        matches!(&crashed, DisconnectReason::Crashed { restarting: true, .. }),
        "{crashed}"
    );
    assert!(peer.read().await.is_none(), "the old link is gone");
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    let Packet::Publish(publish) = peer.expect().await else {
        panic!("the unacknowledged publish goes out again");
    };
    assert_eq!(&publish.payload[..], b"in flight");
    peer.write(Packet::PubAck(PubAck::new(publish.packet_id.expect("an id"))))
        .await;
    within(waiting)
        .await
        .expect("the caller gets its answer across the restart");
    assert!(rig.client.is_running());
}

/// A store whose writes always fail.
struct BrokenStore;

impl SessionStore for BrokenStore {
    fn load(&self, _client_id: &str) -> StoreFuture<SessionState> {
        Ok(SessionState::default()).into()
    }

    fn apply(&self, _client_id: &str, _changes: &[SessionChange]) -> StoreFuture<()> {
        Err(StoreError::new("disk full")).into()
    }

    fn clear(&self, _client_id: &str) -> StoreFuture<()> {
        Ok(()).into()
    }
}

#[actix::test]
async fn a_publish_the_store_cannot_record_fails_and_is_never_sent() {
    let opts = options("c1").clean_session(false).session_store(BrokenStore);
    let (mut rig, _gate) = start(opts, vec![], false);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");
    let refused = within(rig.client.publish("t", "unrecorded").qos(QoS::AtLeastOnce)).await;
    assert!(matches!(refused, Err(Error::Store(_))), "{refused:?}");
    // QoS 0 needs no record: it is the next thing the server sees.
    within(rig.client.publish("t", "after")).await.expect("sent");
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
async fn an_acknowledgement_with_nothing_to_answer_asks_for_our_tcp_ack_before_the_next_read() {
    let (mut rig, _gate) = start(options("c1"), vec![], false);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");
    let request = rig
        .client
        .publish("req", "ping")
        .qos(QoS::AtLeastOnce)
        .into_future();
    let Packet::Publish(publish) = peer.expect().await else {
        panic!("the request");
    };
    peer.write(Packet::PubAck(PubAck::new(publish.packet_id.expect("an id"))))
        .await;
    within(request).await.expect("acknowledged");
    let_the_actor_run().await;
    // A broker with Nagle on holds the response back until our ACK of the
    // PUBACK: the read right after the PUBACK must already ask for it, for
    // nothing else may wake the reader before the response comes.
    assert_eq!(
        rig.network.quick_acks().last(),
        Some(&true),
        "{:?}",
        rig.network.quick_acks()
    );
}
