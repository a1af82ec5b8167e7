//! The session state a store keeps, the changes that keep it current, and
//! the queue of changes not yet taken.

use std::collections::VecDeque;

use crate::packet::{PacketId, Publish};

/// An outgoing QoS 1/2 publish as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPublish {
    /// The publish's place in the original send order; stable for its
    /// whole life, even when it is sent again under a new packet id.
    pub seq: u64,
    /// The PUBLISH with its packet identifier (DUP clear).
    pub publish: Publish,
    /// QoS 2 only: PUBREC arrived and PUBREL was sent; only PUBCOMP is missing.
    pub released: bool,
}

/// A session's state: what a reconnect, or a restarted process, needs to
/// finish every QoS 1/2 flow exactly as the protocol requires.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionState {
    /// Outgoing publishes not yet completed, in send order.
    pub outgoing: Vec<StoredPublish>,
    /// Incoming QoS 2 packet ids delivered and PUBREC'd, awaiting PUBREL.
    pub incoming: Vec<PacketId>,
}

impl SessionState {
    /// Nothing in flight either way.
    pub fn is_empty(&self) -> bool {
        self.outgoing.is_empty() && self.incoming.is_empty()
    }
}

/// One change to the session state, for a store to record.
///
/// The state machine stays sans-IO: with [`Protocol::record_session`](crate::protocol::Protocol::record_session) on, it
/// queues a change for everything a store must know, and the shell drains
/// them with [`Protocol::poll_session_change`](crate::protocol::Protocol::poll_session_change) and persists them *before*
/// it writes the packets polled after them. A change is queued in the same
/// call that queues the packet it guards, so "persist, then transmit" is the
/// whole rule:
///
/// - [`Publish`](Self::Publish) before the PUBLISH goes out (first send, or
///   sent again as a new message after the server lost the session);
/// - [`Released`](Self::Released) before the PUBREL (a PUBLISH must not be
///   resent after that [MQTT-4.3.3-6]; a restored QoS 2 flow resumes with PUBREL);
/// - [`Completed`](Self::Completed) when a flow ends;
/// - [`IncomingReceived`](Self::IncomingReceived) before the PUBREC, and
///   [`IncomingReleased`](Self::IncomingReleased) before the PUBCOMP, so a
///   QoS 2 message is delivered once even across a restart of the process;
/// - [`IncomingCleared`](Self::IncomingCleared) when the server had no session.
///
/// [`Protocol::session_state`](crate::protocol::Protocol::session_state) exports the whole state at once and
/// [`Protocol::restore_session`](crate::protocol::Protocol::restore_session) imports it before the first connect.
#[derive(Debug, Clone, PartialEq, Eq)]
// Boxing the publish would cost an allocation per message sent with a store.
#[allow(clippy::large_enum_variant)]
pub enum SessionChange {
    /// An outgoing publish is about to be written under this packet id.
    /// Replaces any earlier record with the same `seq`.
    Publish(StoredPublish),
    /// The QoS 2 publish `seq` was PUBREC'd; PUBREL is about to be written.
    Released {
        /// The publish's `seq`.
        seq: u64,
    },
    /// The publish `seq` finished (acknowledged, refused, or completed by a
    /// session the server no longer had): forget it.
    Completed {
        /// The publish's `seq`.
        seq: u64,
    },
    /// An incoming QoS 2 PUBLISH was delivered; PUBREC is about to be written.
    IncomingReceived(PacketId),
    /// PUBREL arrived for this id; PUBCOMP is about to be written.
    IncomingReleased(PacketId),
    /// The server had no session: forget every incoming id.
    IncomingCleared,
}

/// The session changes not yet taken by the shell.
#[derive(Debug, Default)]
pub(super) struct Journal {
    /// Off by default: a client without a store pays nothing for it.
    on: bool,
    changes: VecDeque<SessionChange>,
}

impl Journal {
    /// Turns recording on or off; off drops what was not taken.
    pub(super) fn switch(&mut self, on: bool) {
        self.on = on;
        if !on {
            self.changes.clear();
        }
    }

    /// The oldest change not yet taken.
    pub(super) fn take(&mut self) -> Option<SessionChange> {
        self.changes.pop_front()
    }

    /// Queues a change when the journal is on; `change` is not even built
    /// otherwise, since a Publish record clones the message.
    pub(super) fn record(&mut self, change: impl FnOnce() -> SessionChange) {
        if self.on {
            self.changes.push_back(change());
        }
    }
}
