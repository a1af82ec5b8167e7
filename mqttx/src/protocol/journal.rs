//! The session state a store keeps, and the changes that keep it current.

use std::collections::VecDeque;

use crate::packet::{PacketId, Publish};

use super::protocol::State;
use super::Protocol;

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
/// The state machine stays sans-IO: with [`Protocol::record_session`] on, it
/// queues a change for everything a store must know, and the shell drains
/// them with [`Protocol::poll_session_change`] and persists them *before*
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
/// [`Protocol::session_state`] exports the whole state at once and
/// [`Protocol::restore_session`] imports it before the first connect.
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

impl<T> Protocol<T> {
    /// Turns the [`SessionChange`] journal on (off by default, so a client
    /// without a store pays nothing for it).
    pub fn record_session(&mut self, on: bool) {
        self.journal.on = on;
        if !on {
            self.journal.changes.clear();
        }
    }

    /// The next session change to persist. Drain this before taking packets
    /// from [`poll_transmit`](Self::poll_transmit) and persist what it
    /// gives before writing them.
    pub fn poll_session_change(&mut self) -> Option<SessionChange> {
        self.journal.changes.pop_front()
    }

    /// The session state as it is now: every outgoing QoS 1/2 publish that
    /// has been written and not completed, and the incoming QoS 2 ids
    /// awaiting PUBREL. Publishes still waiting in the queue are not part of
    /// it (their callers still wait; nothing about them reached the wire).
    pub fn session_state(&self) -> SessionState {
        SessionState {
            outgoing: self.outgoing.stored(),
            incoming: self.incoming.ids(),
        }
    }

    /// Imports a session saved by a store, before the first connect; `tag`
    /// makes the tag each restored publish completes with. The first
    /// CONNACK then decides, as for any reconnect: Session Present resends
    /// them (DUP, same packet id) and PUBRELs the released ones; no session
    /// sends them again as new messages.
    ///
    /// Returns `false`, changing nothing, once the protocol has connected
    /// or holds publishes of its own. A publish without a packet id, or
    /// whose id is taken twice, is queued as a new message.
    pub fn restore_session(&mut self, state: SessionState, tag: impl FnMut(&StoredPublish) -> T) -> bool {
        if self.connected_once || self.state != State::Offline || self.outgoing.in_flight() > 0 {
            return false;
        }
        self.outgoing.restore(state.outgoing, tag, &mut self.ids);
        for id in state.incoming {
            self.incoming.restore(id);
        }
        true
    }

    /// Gives up an outgoing publish whose [`SessionChange::Publish`] could
    /// not be persisted: it leaves the window and the transmit queue unsent,
    /// and its tag comes back for the shell to report the failure.
    pub fn abandon_publish(&mut self, seq: u64) -> Option<T> {
        let (id, tag) = self.outgoing.abandon(seq, &mut self.ids)?;
        self.transmit.withdraw_publish(id);
        Some(tag)
    }
}

/// The session changes not yet taken by the shell.
#[derive(Debug, Default)]
pub(super) struct Journal {
    /// Off by default: a client without a store pays nothing for it.
    on: bool,
    changes: VecDeque<SessionChange>,
}

impl Journal {
    /// Queues a change when the journal is on; `change` is not even built
    /// otherwise, since a Publish record clones the message.
    pub(super) fn record(&mut self, change: impl FnOnce() -> SessionChange) {
        if self.on {
            self.changes.push_back(change());
        }
    }
}
