//! The slot without sockets: a hand-written async handler, polled by hand.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use tokio::sync::oneshot;

use super::{Io, Slot};
use crate::client::Client;
use crate::handler::Discard;
use crate::handler::{Handled, HandlerContext, HandlerEvent, HandlerTask, MqttHandler, MAX_HANDLER_BACKLOG};
use crate::packet::Publish;

/// Messages on `async/..` finish asynchronously, each after its gate opens.
struct Log {
    seen: Vec<String>,
    gates: VecDeque<oneshot::Receiver<()>>,
}

impl MqttHandler for Log {
    fn handle(&mut self, event: &HandlerEvent, _ctx: &mut HandlerContext<'_>) -> Handled {
        match event {
            HandlerEvent::Message(msg) if msg.topic.starts_with("async/") => Handled::Async(7),
            HandlerEvent::Message(msg) if msg.topic.starts_with("panic/") => panic!("sync panic"),
            HandlerEvent::Message(msg) => {
                self.seen.push(msg.topic.to_string());
                Handled::Done
            }
            _ => Handled::Done,
        }
    }

    fn handle_async(mut self, token: u32, event: HandlerEvent, _client: Client) -> HandlerTask<Self> {
        Box::pin(async move {
            assert_eq!(token, 7);
            let gate = self.gates.pop_front();
            if let Some(gate) = gate {
                let _ = gate.await;
            }
            if let HandlerEvent::Message(msg) = event {
                if msg.topic.ends_with("/boom") {
                    panic!("async panic");
                }
                self.seen.push(msg.topic.to_string());
            }
            (self, None)
        })
    }
}

struct Rig {
    slot: Slot<Log>,
    outbox: Discard,
    client: Client,
}

impl Rig {
    fn new(gates: usize) -> (Rig, Vec<oneshot::Sender<()>>) {
        let (senders, receivers): (Vec<_>, VecDeque<_>) = (0..gates).map(|_| oneshot::channel()).unzip();
        let handler = Log {
            seen: Vec::new(),
            gates: receivers,
        };
        let rig = Rig {
            slot: Slot::new(handler),
            outbox: Discard,
            client: crate::__private::detached_client(),
        };
        (rig, senders)
    }

    fn deliver(&mut self, topic: &str) {
        self.deliver_publish(Publish::new(topic.to_owned(), ""));
    }

    fn deliver_publish(&mut self, publish: Publish) {
        let io = Io {
            outbox: &mut self.outbox,
            client: &self.client,
        };
        self.slot.deliver(HandlerEvent::Message(publish), io);
    }

    /// One poll, as a driver on the actor's context would do it.
    fn poll(&mut self) -> Poll<()> {
        let mut cx = Context::from_waker(Waker::noop());
        self.slot.poll(&mut cx, &mut self.outbox, &self.client)
    }

    fn seen(&self) -> Vec<String> {
        self.slot
            .handler
            .as_ref()
            .map(|h| h.seen.clone())
            .unwrap_or_default()
    }
}

#[test]
fn later_events_wait_for_async_work_in_order() {
    let (mut rig, mut gates) = Rig::new(2);
    rig.deliver("sync/0");
    rig.deliver("async/1");
    rig.deliver("sync/2");
    rig.deliver("async/3");
    rig.deliver("sync/4");
    assert!(rig.slot.is_busy());
    assert_eq!(rig.poll(), Poll::Pending);
    assert!(rig.slot.handler.is_none(), "lent to the work of async/1");
    gates.remove(0).send(()).unwrap();
    assert_eq!(rig.poll(), Poll::Pending, "async/3 waits for its gate");
    gates.remove(0).send(()).unwrap();
    assert_eq!(rig.poll(), Poll::Ready(()));
    assert!(!rig.slot.is_busy());
    assert_eq!(rig.seen(), ["sync/0", "async/1", "sync/2", "async/3", "sync/4"]);
}

#[test]
fn work_survives_its_driver_being_dropped() {
    // A supervised restart drops the context's futures (the driver), not
    // the actor struct that holds the slot: a new driver carries on.
    let (mut rig, mut gates) = Rig::new(1);
    rig.deliver("async/1");
    rig.deliver("sync/2");
    assert_eq!(rig.poll(), Poll::Pending);
    gates.remove(0).send(()).unwrap();
    assert_eq!(rig.poll(), Poll::Ready(()));
    assert_eq!(rig.seen(), ["async/1", "sync/2"]);
}

#[test]
fn the_backlog_is_bounded() {
    let (mut rig, mut gates) = Rig::new(1);
    rig.deliver("async/0");
    for n in 0..MAX_HANDLER_BACKLOG + 5 {
        rig.deliver(&format!("sync/{n}"));
    }
    gates.remove(0).send(()).unwrap();
    assert_eq!(rig.poll(), Poll::Ready(()));
    let seen = rig.seen();
    assert_eq!(seen.len(), 1 + MAX_HANDLER_BACKLOG, "the overflow is dropped");
    assert_eq!(seen.last().map(String::as_str), Some("sync/9999"));
    assert_eq!(rig.client.stats().dropped_qos0, 5, "and counted");
}

#[test]
fn qos1_messages_are_never_dropped_from_the_backlog() {
    let (mut rig, mut gates) = Rig::new(1);
    rig.deliver("async/0");
    let n = MAX_HANDLER_BACKLOG as u16 + 5;
    for id in 1..=n {
        rig.deliver_publish(
            Publish::new(format!("sync/{id}"), "")
                .qos(crate::QoS::AtLeastOnce)
                .packet_id(id),
        );
    }
    gates.remove(0).send(()).unwrap();
    assert_eq!(rig.poll(), Poll::Ready(()));
    assert_eq!(
        rig.seen().len(),
        1 + usize::from(n),
        "flow control bounds them, not dropping"
    );
}

#[test]
fn panics_are_contained() {
    let (mut rig, _gates) = Rig::new(0);
    rig.deliver("panic/1");
    rig.deliver("sync/2");
    assert_eq!(rig.seen(), ["sync/2"], "a sync panic keeps the handler");
    rig.deliver("async/boom");
    assert_eq!(rig.poll(), Poll::Ready(()));
    rig.deliver("sync/3");
    assert!(
        rig.slot.handler.is_none() && !rig.slot.is_busy(),
        "a hand-written future that panics takes the handler with it; events are dropped, nothing panics"
    );
}

/// Records the names of the spans made while it is the subscriber.
struct SpanNames {
    names: std::sync::Arc<std::sync::Mutex<Vec<&'static str>>>,
    max: tracing::Level,
}

impl tracing::Subscriber for SpanNames {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.level() <= &self.max
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::from_level(self.max))
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        if let Ok(mut names) = self.names.lock() {
            names.push(span.metadata().name());
        }
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The spans made while delivering one message, under a subscriber that
/// wants events up to `max`.
fn spans_for_a_message(max: tracing::Level) -> Vec<&'static str> {
    let names = std::sync::Arc::default();
    let subscriber = SpanNames {
        names: std::sync::Arc::clone(&names),
        max,
    };
    let (mut rig, _) = Rig::new(0);
    tracing::subscriber::with_default(subscriber, || rig.deliver("t"));
    assert_eq!(rig.seen(), ["t"]);
    let names = names.lock().map(|names| names.clone()).unwrap_or_default();
    names
}

#[test]
fn a_handler_runs_in_a_span_for_a_subscriber_that_wants_debug_and_in_none_otherwise() {
    assert_eq!(spans_for_a_message(tracing::Level::DEBUG), ["mqtt_handler"]);
    assert!(spans_for_a_message(tracing::Level::INFO).is_empty());
}
