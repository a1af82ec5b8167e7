//! What the state machine offers a session store: the journal of changes
//! to persist, the session as it is, and a saved session to resume.

use super::protocol::State;
use super::session::{SessionChange, SessionState, StoredPublish};
use super::Protocol;

impl<T> Protocol<T> {
    /// Turns the [`SessionChange`] journal on (off by default, so a client
    /// without a store pays nothing for it).
    pub fn record_session(&mut self, on: bool) {
        self.journal.switch(on);
    }

    /// The next session change to persist. Drain this before taking packets
    /// from [`poll_transmit`](Self::poll_transmit) and persist what it
    /// gives before writing them.
    pub fn poll_session_change(&mut self) -> Option<SessionChange> {
        self.journal.take()
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
