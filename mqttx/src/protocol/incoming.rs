//! Incoming QoS 1/2 flows: the packet ids of QoS 2 PUBLISHes delivered,
//! until the server's PUBREL releases them — remembering them is what makes
//! delivery exactly-once [MQTT-4.3.3-10] — and, when the shell acknowledges
//! by hand, the ids delivered but not yet acknowledged.

use crate::packet::{PacketId, ReasonCode};

use super::packet_ids::IdSet;
use super::ProtocolError;

#[derive(Debug, Default)]
pub(crate) struct Incoming {
    awaiting_rel: IdSet,
    /// Delivered, acknowledgement held until the shell has handled them.
    /// The server cannot reuse these ids meanwhile, so a PUBLISH with one
    /// of them is a resend of the same message.
    unacked: IdSet,
}

/// What to do with an incoming QoS 2 PUBLISH.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Qos2 {
    /// A new message: deliver it, then PUBREC.
    Deliver,
    /// A resend of one already delivered: PUBREC only.
    Duplicate,
}

impl Incoming {
    /// `receive_maximum` is ours: the server may not have more QoS 2 flows
    /// awaiting PUBREL than that [MQTT-3.3.4-9].
    pub(crate) fn on_publish(&mut self, id: PacketId, receive_maximum: u16) -> Result<Qos2, ProtocolError> {
        if self.awaiting_rel.contains(id) {
            return Ok(Qos2::Duplicate);
        }
        if self.awaiting_rel.len() >= usize::from(receive_maximum) {
            return Err(ProtocolError::new(
                ReasonCode::ReceiveMaximumExceeded,
                "more QoS 2 PUBLISHes awaiting PUBREL than our Receive Maximum",
            ));
        }
        self.awaiting_rel.insert(id);
        Ok(Qos2::Deliver)
    }

    /// Whether `id` was awaiting this PUBREL.
    pub(crate) fn on_pubrel(&mut self, id: PacketId) -> bool {
        self.awaiting_rel.remove(id)
    }

    /// The session is gone [MQTT-3.2.2-5].
    pub(crate) fn clear(&mut self) {
        self.awaiting_rel.clear();
        self.unacked.clear();
    }

    /// Holds the acknowledgement of a delivered message; `false` when one
    /// is already held for `id` (the message is a resend).
    pub(crate) fn hold(&mut self, id: PacketId) -> bool {
        if self.unacked.contains(id) {
            return false;
        }
        self.unacked.insert(id);
        true
    }

    /// Whether an acknowledgement is held for `id`.
    pub(crate) fn holds(&self, id: PacketId) -> bool {
        self.unacked.contains(id)
    }

    /// Releases the held acknowledgement; `false` if none was held.
    pub(crate) fn release(&mut self, id: PacketId) -> bool {
        self.unacked.remove(id)
    }

    /// The ids awaiting PUBREL, lowest first.
    pub(crate) fn ids(&self) -> Vec<PacketId> {
        (1..=u16::MAX)
            .filter_map(PacketId::new)
            .filter(|&id| self.awaiting_rel.contains(id))
            .take(self.awaiting_rel.len())
            .collect()
    }

    /// An id restored from a store.
    pub(crate) fn restore(&mut self, id: PacketId) {
        self.awaiting_rel.insert(id);
    }

    #[cfg(test)]
    pub(crate) fn awaiting(&self) -> usize {
        self.awaiting_rel.len()
    }
}
