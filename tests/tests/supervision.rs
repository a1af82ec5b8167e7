//! Supervised connections and the registry, against a real mosquitto:
//! a panicking connection restarts alone with its handler state and
//! session; `disconnect` stops it for good; `Client::list` and
//! `Client::whereis` show exactly the live supervised connections.

use std::time::Duration;

use mqttx::{
    Backoff, Client, ConnAck, ConnectOptions, DisconnectReason, Error, HandlerContext, MqttHandler, Publish,
    QoS, Transport,
};
use mqttx_tests::events::{recorder, Seen};
use mqttx_tests::Broker;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

fn options(port: u16, client_id: &str) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", client_id)
        .port(port)
        .clean_session(false)
        .session_expiry_interval(300)
        .backoff(
            Backoff::default()
                .initial(Duration::from_millis(50))
                .max(Duration::from_millis(500)),
        )
}

/// What a [`Counting`] handler reports.
#[derive(Debug)]
enum Report {
    /// The handler's own count of `connected` calls so far.
    Connected {
        count: u32,
        session_present: bool,
    },
    Disconnected(DisconnectReason),
    Message(Publish),
}

/// A handler with state of its own: it counts its connects.
struct Counting {
    connects: u32,
    tx: mpsc::UnboundedSender<Report>,
}

fn counting() -> (Counting, mpsc::UnboundedReceiver<Report>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Counting { connects: 0, tx }, rx)
}

impl MqttHandler for Counting {
    fn connected(&mut self, connack: &ConnAck, _ctx: &mut HandlerContext<'_>) {
        self.connects += 1;
        let _ = self.tx.send(Report::Connected {
            count: self.connects,
            session_present: connack.session_present,
        });
    }

    fn disconnected(&mut self, reason: &DisconnectReason, _ctx: &mut HandlerContext<'_>) {
        let _ = self.tx.send(Report::Disconnected(reason.clone()));
    }

    fn message(&mut self, msg: &Publish, _ctx: &mut HandlerContext<'_>) {
        let _ = self.tx.send(Report::Message(msg.clone()));
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Report>) -> Report {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a report in time")
        .expect("the handler is alive")
}

#[actix_rt::test]
async fn a_panicking_connection_restarts_alone_with_its_state_and_session() {
    let broker = Broker::start().unwrap();
    let (handler_a, mut a_reports) = counting();
    let a = Client::connect_supervised(options(broker.port(), "sup-a").handler(handler_a))
        .await
        .unwrap();
    let (handler_b, mut b_reports) = counting();
    let b = Client::connect_supervised(options(broker.port(), "sup-b").handler(handler_b))
        .await
        .unwrap();
    assert!(matches!(
        next(&mut a_reports).await,
        Report::Connected { count: 1, .. }
    ));
    assert!(matches!(
        next(&mut b_reports).await,
        Report::Connected { count: 1, .. }
    ));
    a.subscribe("sup/a", QoS::AtLeastOnce).await.unwrap();

    a.inject_panic().unwrap();
    match next(&mut a_reports).await {
        Report::Disconnected(reason @ DisconnectReason::Crashed { restarting: true, .. }) => {
            assert!(reason.will_reconnect());
            assert!(reason.to_string().contains("fault injection"), "{reason}");
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    // The same handler, with its count: the state survived the restart.
    // The broker kept the session across the reconnect.
    match next(&mut a_reports).await {
        Report::Connected {
            count,
            session_present,
        } => {
            assert_eq!(count, 2, "the handler's state survived");
            assert!(session_present, "the session is resumed");
        }
        other => panic!("expected a reconnect, got {other:?}"),
    }

    // The old handle still works, the subscription too; B never noticed.
    b.publish("sup/a", "after the restart")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    match next(&mut a_reports).await {
        Report::Message(msg) => assert_eq!(&msg.payload[..], b"after the restart"),
        other => panic!("expected the message, got {other:?}"),
    }
    a.publish("sup/b", "from a").qos(QoS::AtLeastOnce).await.unwrap();
    assert!(
        b_reports.try_recv().is_err(),
        "the other connection was untouched (one-for-one)"
    );
    assert!(a.is_running() && b.is_running());
    assert_eq!(Client::list().await.len(), 2);
    a.disconnect().await.unwrap();
    b.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn disconnect_stops_a_supervised_connection_for_good() {
    let broker = Broker::start().unwrap();
    let (recorder, mut events) = recorder();
    let client = Client::connect_supervised(options(broker.port(), "sup-stop").handler(recorder))
        .await
        .unwrap();
    events.connected(WAIT).await;
    assert!(Client::whereis("sup-stop").await.is_some());

    client.disconnect().await.unwrap();
    assert!(matches!(
        events.disconnected(WAIT).await,
        DisconnectReason::Client
    ));
    assert!(!client.is_running(), "no restart");
    let late = client.publish("t", "late").qos(QoS::AtLeastOnce).await;
    assert!(matches!(late, Err(Error::Closed)), "got {late:?}");
    assert!(Client::whereis("sup-stop").await.is_none(), "unregistered");
    assert!(Client::list().await.is_empty());
    let after = events.during(Duration::from_millis(500)).await;
    assert!(
        !after.iter().any(|e| matches!(e, Seen::Connected(_))),
        "it stays down: {after:?}"
    );
    // The id is free again.
    let again = Client::connect_supervised(options(broker.port(), "sup-stop"))
        .await
        .unwrap();
    again.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn the_registry_lists_exactly_the_live_supervised_connections() {
    let broker = Broker::builder().password("alice", "right").start().unwrap();
    assert!(Client::list().await.is_empty());
    let one = Client::connect_supervised(options(broker.port(), "reg-1"))
        .await
        .unwrap();
    let two = Client::connect_supervised(options(broker.port(), "reg-2"))
        .await
        .unwrap();
    let plain = Client::connect(options(broker.port(), "reg-plain"))
        .await
        .unwrap();

    let listed = Client::list().await;
    let ids: Vec<&str> = listed.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids, ["reg-1", "reg-2"], "supervised ones only, by id");
    let (_, _, meta) = &listed[0];
    assert_eq!(
        (meta.host.as_str(), meta.port, meta.transport),
        ("127.0.0.1", broker.port(), Transport::Tcp)
    );
    assert!(!meta.clean_session);

    // whereis hands out a working handle to the same connection.
    let (found, meta) = Client::whereis("reg-2").await.expect("registered");
    assert_eq!(found.client_id(), "reg-2");
    assert_eq!(meta.port, broker.port());
    let (tx, mut rx) = mpsc::unbounded_channel();
    struct Forward(mpsc::UnboundedSender<Publish>);
    impl MqttHandler for Forward {
        fn message(&mut self, msg: &Publish, _ctx: &mut HandlerContext<'_>) {
            let _ = self.0.send(msg.clone());
        }
    }
    let watcher = Client::connect(options(broker.port(), "reg-watch").handler(Forward(tx)))
        .await
        .unwrap();
    watcher.subscribe("reg/t", QoS::AtLeastOnce).await.unwrap();
    found
        .publish("reg/t", "via whereis")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    let msg = tokio::time::timeout(WAIT, rx.recv()).await.unwrap().unwrap();
    assert_eq!(&msg.payload[..], b"via whereis");
    assert!(Client::whereis("reg-plain").await.is_none());
    assert!(Client::whereis("nobody").await.is_none());

    // A connection refused for good is gone from the registry at once.
    let refused =
        Client::connect_supervised(options(broker.port(), "reg-bad").credentials("alice", "wrong")).await;
    assert!(
        matches!(refused, Err(Error::ConnectRejected { .. })),
        "got {refused:?}"
    );
    assert!(Client::whereis("reg-bad").await.is_none());

    one.disconnect().await.unwrap();
    let ids: Vec<String> = Client::list().await.into_iter().map(|(id, _, _)| id).collect();
    assert_eq!(ids, ["reg-2"]);
    two.disconnect().await.unwrap();
    assert!(Client::list().await.is_empty());
    plain.disconnect().await.unwrap();
    watcher.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn a_second_supervised_connection_with_a_registered_client_id_is_refused() {
    let broker = Broker::start().unwrap();
    let (recorder, mut events) = recorder();
    let first = Client::connect_supervised(options(broker.port(), "dup").handler(recorder))
        .await
        .unwrap();
    events.connected(WAIT).await;

    let second = Client::connect_supervised(options(broker.port(), "dup")).await;
    match second {
        Err(Error::ClientIdInUse { client_id }) => assert_eq!(client_id, "dup"),
        other => panic!("expected ClientIdInUse, got {other:?}"),
    }
    // The first was never kicked off the broker by a second CONNECT.
    let during = events.during(Duration::from_millis(300)).await;
    assert!(during.is_empty(), "the first connection is untouched: {during:?}");
    assert!(first.is_running());
    first.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn an_unsupervised_connection_that_panics_stops_and_fails_its_waiters() {
    let broker = Broker::start().unwrap();
    let (recorder, mut events) = recorder();
    let client = Client::connect(options(broker.port(), "plain-crash").handler(recorder))
        .await
        .unwrap();
    events.connected(WAIT).await;
    client.inject_panic().unwrap();
    match events.disconnected(WAIT).await {
        DisconnectReason::Crashed { restarting, .. } => assert!(!restarting),
        other => panic!("expected a crash, got {other}"),
    }
    let late = client.publish("t", "late").qos(QoS::AtLeastOnce).await;
    assert!(matches!(late, Err(Error::Closed)), "got {late:?}");
    assert!(!client.is_running());
}

/// A handler that says when it is dropped, which happens when its
/// connection actor is.
struct DropSignal(Option<tokio::sync::oneshot::Sender<()>>);

impl MqttHandler for DropSignal {}

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A supervised connection stopped for good is dropped once the
/// application lets go of its last `Client`; while one is held, it stays
/// (parked) so that the handle keeps answering `Closed`.
#[actix_rt::test]
async fn a_supervised_connection_stopped_for_good_is_dropped_with_its_last_client() {
    let broker = Broker::start().unwrap();
    let (tx, mut dropped) = tokio::sync::oneshot::channel();
    let client = Client::connect_supervised(options(broker.port(), "sup-drop").handler(DropSignal(Some(tx))))
        .await
        .unwrap();
    let other = client.clone();
    client.disconnect().await.unwrap();
    assert!(!other.is_running());
    drop(client);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut dropped)
            .await
            .is_err(),
        "a Client is still held: the connection stays"
    );
    drop(other);
    tokio::time::timeout(WAIT, dropped)
        .await
        .expect("the connection actor is dropped with the last Client")
        .unwrap();
}
