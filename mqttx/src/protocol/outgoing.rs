//! Outgoing QoS 1/2 publishes: the in-flight slots keyed by packet id, the
//! queue behind the window, and the resend order.

use std::collections::VecDeque;
use std::time::Instant;

use crate::packet::{PacketId, Publish, ReasonCode};

use super::packet_ids::IdMap;

/// A publish waiting for room in the window or for a connection.
#[derive(Debug)]
pub(crate) struct Queued<T> {
    pub(crate) publish: Publish,
    pub(crate) tag: T,
    /// The connection generation whose limits it was checked against
    /// (0 = never), so a publish accepted while connected is not measured twice.
    pub(crate) checked: u64,
    /// Its `seq` when it was sent before (requeued after a lost session, or
    /// restored): a store keeps one record per publish, whatever its id.
    pub(crate) seq: Option<u64>,
}

/// Where an in-flight publish is in its flow.
#[derive(Debug)]
// Boxing the Publish would cost an allocation per message; a Released slot
// is short-lived, so the wasted bytes are not worth one.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Stage {
    /// Sent; awaiting PUBACK (QoS 1) or PUBREC (QoS 2). Kept for resending.
    Unacked(Publish),
    /// QoS 2 after PUBREC: PUBREL sent, awaiting PUBCOMP. The payload is
    /// dropped, since the PUBLISH must never be resent now [MQTT-4.3.3-6].
    Released {
        /// Reported when PUBCOMP completes the flow (it may be No matching subscribers).
        pubrec: ReasonCode,
    },
}

#[derive(Debug)]
pub(crate) struct Slot<T> {
    /// Original send order: resends follow it [MQTT-4.6.0-1].
    pub(crate) seq: u64,
    pub(crate) tag: T,
    pub(crate) stage: Stage,
    /// When last written on the current connection; `None` while it awaits
    /// a resend after reconnecting.
    pub(crate) sent_at: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct Outgoing<T> {
    pub(crate) inflight: IdMap<Slot<T>>,
    pub(crate) queue: VecDeque<Queued<T>>,
    /// In-flight publishes still to be resent after a reconnect, in send
    /// order, held back when the new window is smaller than what is in flight.
    pub(crate) resend: VecDeque<PacketId>,
    next_seq: u64,
}

impl<T> Default for Outgoing<T> {
    fn default() -> Self {
        Outgoing {
            inflight: IdMap::default(),
            queue: VecDeque::new(),
            resend: VecDeque::new(),
            next_seq: 0,
        }
    }
}

impl<T> Outgoing<T> {
    /// In flight and written on this connection: what counts against the window.
    pub(crate) fn on_wire(&self) -> usize {
        self.inflight.len().saturating_sub(self.resend.len())
    }

    /// Puts a publish on the wire's books; returns its `seq`.
    pub(crate) fn insert(
        &mut self,
        id: PacketId,
        publish: Publish,
        tag: T,
        now: Instant,
        seq: Option<u64>,
    ) -> u64 {
        let seq = seq.unwrap_or_else(|| {
            let seq = self.next_seq;
            self.next_seq += 1;
            seq
        });
        self.inflight.insert(
            id,
            Slot {
                seq,
                tag,
                stage: Stage::Unacked(publish),
                sent_at: Some(now),
            },
        );
        seq
    }

    /// A publish restored from a store, awaiting its resend.
    pub(crate) fn restore(&mut self, id: PacketId, seq: u64, stage: Stage, tag: T) {
        self.bump_seq(seq);
        self.inflight.insert(
            id,
            Slot {
                seq,
                tag,
                stage,
                sent_at: None,
            },
        );
    }

    /// New publishes get a `seq` after every restored one.
    pub(crate) fn bump_seq(&mut self, seq: u64) {
        self.next_seq = self.next_seq.max(seq.saturating_add(1));
    }

    /// Removes a finished slot.
    pub(crate) fn remove(&mut self, id: PacketId) -> Option<Slot<T>> {
        let slot = self.inflight.remove(&id)?;
        if slot.sent_at.is_none() {
            self.resend.retain(|&queued| queued != id);
        }
        Some(slot)
    }

    /// The in-flight ids in original send order. Sorting here, only on
    /// reconnect and retry, keeps the per-message path a plain map insert.
    pub(crate) fn in_send_order(&self) -> Vec<PacketId> {
        let mut order: Vec<(u64, PacketId)> =
            self.inflight.iter().map(|(&id, slot)| (slot.seq, id)).collect();
        order.sort_unstable();
        order.into_iter().map(|(_, id)| id).collect()
    }

    /// The connection is gone: nothing is on the wire any more.
    pub(crate) fn connection_lost(&mut self) {
        for slot in self.inflight.values_mut() {
            slot.sent_at = None;
        }
        self.resend.clear();
    }
}
