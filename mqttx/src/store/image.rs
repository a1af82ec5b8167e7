//! One client's session as the built-in stores hold it in memory.

use std::collections::{BTreeMap, BTreeSet};

use crate::packet::PacketId;

use super::{SessionChange, SessionState, StoredPublish};

#[derive(Debug, Default, Clone)]
pub(crate) struct SessionImage {
    /// By seq: the send order.
    pub(crate) outgoing: BTreeMap<u64, StoredPublish>,
    pub(crate) incoming: BTreeSet<PacketId>,
}

impl SessionImage {
    pub(crate) fn apply(&mut self, change: &SessionChange) {
        match change {
            SessionChange::Publish(stored) => {
                self.outgoing.insert(stored.seq, stored.clone());
            }
            SessionChange::Released { seq } => {
                if let Some(stored) = self.outgoing.get_mut(seq) {
                    stored.released = true;
                }
            }
            SessionChange::Completed { seq } => {
                self.outgoing.remove(seq);
            }
            SessionChange::IncomingReceived(id) => {
                self.incoming.insert(*id);
            }
            SessionChange::IncomingReleased(id) => {
                self.incoming.remove(id);
            }
            SessionChange::IncomingCleared => self.incoming.clear(),
        }
    }

    pub(crate) fn state(&self) -> SessionState {
        SessionState {
            outgoing: self.outgoing.values().cloned().collect(),
            incoming: self.incoming.iter().copied().collect(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.outgoing.is_empty() && self.incoming.is_empty()
    }
}
