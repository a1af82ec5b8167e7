//! A handler that records every event, and the test side that waits for them.

use std::time::Duration;

use mqttx::{ConnAck, DisconnectReason, HandlerContext, MqttHandler, Publish, PublishError, Subscription};
use tokio::sync::mpsc;

/// One event a connection reported to its handler.
#[derive(Debug, Clone)]
pub enum Seen {
    /// `message`.
    Message(Publish),
    /// `connected`.
    Connected(ConnAck),
    /// `disconnected`.
    Disconnected(DisconnectReason),
    /// `publish_error`.
    PublishError(PublishError),
}

/// An [`MqttHandler`] that forwards every event to an [`Events`].
pub struct Recorder {
    tx: mpsc::UnboundedSender<Seen>,
    subscriptions: Vec<Subscription>,
}

impl Recorder {
    /// Declares subscriptions for the connection to make (and restore).
    pub fn with_subscriptions(mut self, subscriptions: Vec<Subscription>) -> Self {
        self.subscriptions = subscriptions;
        self
    }
}

/// A recorder and the receiving end of its events.
pub fn recorder() -> (Recorder, Events) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        Recorder {
            tx,
            subscriptions: Vec::new(),
        },
        Events { rx },
    )
}

impl MqttHandler for Recorder {
    fn subscriptions(&self) -> Vec<Subscription> {
        self.subscriptions.clone()
    }

    fn message(&mut self, msg: &Publish, _ctx: &mut HandlerContext<'_>) {
        let _ = self.tx.send(Seen::Message(msg.clone()));
    }

    fn connected(&mut self, connack: &ConnAck, _ctx: &mut HandlerContext<'_>) {
        let _ = self.tx.send(Seen::Connected(connack.clone()));
    }

    fn disconnected(&mut self, reason: &DisconnectReason, _ctx: &mut HandlerContext<'_>) {
        let _ = self.tx.send(Seen::Disconnected(reason.clone()));
    }

    fn publish_error(&mut self, error: &PublishError, _ctx: &mut HandlerContext<'_>) {
        let _ = self.tx.send(Seen::PublishError(error.clone()));
    }
}

/// The events a [`Recorder`] saw, in order.
pub struct Events {
    rx: mpsc::UnboundedReceiver<Seen>,
}

impl Events {
    /// The next event of any kind, or `None` if none comes within `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Seen> {
        tokio::time::timeout(within, self.rx.recv()).await.ok().flatten()
    }

    /// Waits for the first event `pick` accepts, discarding the others
    /// before it; panics naming `what` when none comes within `within`.
    pub async fn expect<T>(
        &mut self,
        what: &str,
        within: Duration,
        mut pick: impl FnMut(Seen) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(seen)) => {
                    if let Some(found) = pick(seen) {
                        return found;
                    }
                }
                Ok(None) => panic!("the handler is gone while waiting for {what}"),
                Err(_) => panic!("no {what} within {within:?}"),
            }
        }
    }

    /// The next message (other events are skipped).
    pub async fn message(&mut self, within: Duration) -> Publish {
        self.expect("message", within, |seen| match seen {
            Seen::Message(p) => Some(p),
            _ => None,
        })
        .await
    }

    /// The next `connected` (other events are skipped).
    pub async fn connected(&mut self, within: Duration) -> ConnAck {
        self.expect("connected event", within, |seen| match seen {
            Seen::Connected(c) => Some(c),
            _ => None,
        })
        .await
    }

    /// The next `disconnected` (other events are skipped).
    pub async fn disconnected(&mut self, within: Duration) -> DisconnectReason {
        self.expect("disconnected event", within, |seen| match seen {
            Seen::Disconnected(r) => Some(r),
            _ => None,
        })
        .await
    }

    /// Collects events for `window`, for asserting that something did not happen.
    pub async fn during(&mut self, window: Duration) -> Vec<Seen> {
        let deadline = tokio::time::Instant::now() + window;
        let mut seen = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            seen.push(event);
        }
        seen
    }
}
