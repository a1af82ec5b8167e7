//! What a connection tells about itself: where it is, as a value and as a
//! watch, and what it has done, as counters. For an application's health
//! and metrics endpoints.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::watch;

use crate::packet::QoS;

/// Where a connection is.
///
/// ```no_run
/// # async fn demo(client: mqttx::Client) {
/// use mqttx::client::ConnectionState;
///
/// let mut state = client.watch_state();
/// while state.changed().await.is_ok() {
///     match *state.borrow() {
///         ConnectionState::Reconnecting { attempt } => eprintln!("broker lost; attempt {attempt}"),
///         other => eprintln!("{other:?}"),
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// The first connect is under way.
    Connecting,
    /// CONNACK accepted the connection.
    Connected,
    /// The connection was lost: attempt `attempt` (from 1) to get it back
    /// is under way or waiting out its backoff.
    Reconnecting {
        /// Which attempt since the connection was lost.
        attempt: u32,
    },
    /// Stopped for good: disconnected, or given up.
    Stopped,
}

/// What a connection has done since it started; see [`Client::stats`](super::Client::stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStats {
    /// Messages received, by QoS (index 0, 1, 2).
    pub messages_in: [u64; 3],
    /// PUBLISHes sent, by QoS; a resend of one already sent is not counted.
    pub messages_out: [u64; 3],
    /// Times the connection was lost and started reconnecting.
    pub reconnects: u64,
    /// QoS 1/2 publishes sent and not yet completed.
    pub in_flight: usize,
    /// Publishes waiting for the window or for a connection.
    pub queued: usize,
    /// QoS 0 messages dropped because the handler or a message stream was
    /// too far behind (QoS 1/2 messages never are).
    pub dropped_qos0: u64,
}

/// The cells the connection writes and every `Client` reads.
#[derive(Debug)]
pub(crate) struct Telemetry {
    state: watch::Sender<ConnectionState>,
    messages_in: [AtomicU64; 3],
    messages_out: [AtomicU64; 3],
    reconnects: AtomicU64,
    in_flight: AtomicUsize,
    queued: AtomicUsize,
    dropped_qos0: AtomicU64,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            state: watch::Sender::new(ConnectionState::Connecting),
            messages_in: Default::default(),
            messages_out: Default::default(),
            reconnects: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
            dropped_qos0: AtomicU64::new(0),
        }
    }
}

fn index(qos: QoS) -> usize {
    match qos {
        QoS::AtMostOnce => 0,
        QoS::AtLeastOnce => 1,
        QoS::ExactlyOnce => 2,
    }
}

impl Telemetry {
    pub(crate) fn state(&self) -> ConnectionState {
        *self.state.borrow()
    }

    pub(crate) fn watch(&self) -> watch::Receiver<ConnectionState> {
        self.state.subscribe()
    }

    pub(crate) fn set_state(&self, state: ConnectionState) {
        self.state.send_if_modified(|current| {
            let changed = *current != state;
            *current = state;
            changed
        });
    }

    /// Counts a message received, and passes it on.
    pub(crate) fn received_one(&self, publish: crate::packet::Publish) -> crate::packet::Publish {
        bump(&self.messages_in, publish.qos);
        publish
    }

    pub(crate) fn sent(&self, qos: QoS) {
        bump(&self.messages_out, qos);
    }

    pub(crate) fn reconnecting(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn window(&self, in_flight: usize, queued: usize) {
        self.in_flight.store(in_flight, Ordering::Relaxed);
        self.queued.store(queued, Ordering::Relaxed);
    }

    pub(crate) fn dropped_qos0(&self) {
        self.dropped_qos0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> ClientStats {
        let load = |counts: &[AtomicU64; 3]| counts.each_ref().map(|count| count.load(Ordering::Relaxed));
        ClientStats {
            messages_in: load(&self.messages_in),
            messages_out: load(&self.messages_out),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            queued: self.queued.load(Ordering::Relaxed),
            dropped_qos0: self.dropped_qos0.load(Ordering::Relaxed),
        }
    }
}

fn bump(counts: &[AtomicU64; 3], qos: QoS) {
    if let Some(count) = counts.get(index(qos)) {
        count.fetch_add(1, Ordering::Relaxed);
    }
}
