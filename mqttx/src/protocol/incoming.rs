//! Incoming QoS 1/2 flows: the packet ids of QoS 2 PUBLISHes delivered,
//! until the server's PUBREL releases them — remembering them is what makes
//! delivery exactly-once [MQTT-4.3.3-10] — and, when the shell acknowledges
//! by hand, the acknowledgements held, in the order their PUBLISHes arrived.
//!
//! Held acknowledgements go out in arrival order whatever order the
//! messages are handled in [MQTT-4.6.0-2, MQTT-4.6.0-3]: one handled
//! early waits, marked done, until every one before it is done too. The
//! server's flow control bounds how many are held (our Receive Maximum;
//! at most one per packet id in any case), and the queue's buffer is
//! reused, so acknowledging in order costs no allocation per message.
//!
//! A server must never resend a PUBLISH once it has sent PUBREL
//! [MQTT-4.3.3-5], but mosquitto 2.0 does after two reconnects in quick
//! succession (the second turns its "resend PUBREL" state back into "send
//! PUBLISH"). So the last messages released are remembered by packet id
//! and a fingerprint of topic and payload: such a replay (DUP set, same
//! id, same message) is answered but not delivered again. A PUBLISH without
//! DUP, or with other content, is a new message, as the specification says.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use crate::packet::{PacketId, Publish, QoS, ReasonCode};

use super::packet_ids::IdSet;
use super::ProtocolError;

/// How many released QoS 2 messages are remembered against replays.
const REMEMBERED: usize = 1024;

#[derive(Debug, Default)]
pub(super) struct Incoming {
    awaiting_rel: IdSet,
    /// Fingerprints of the messages awaiting PUBREL (those delivered here;
    /// ids restored from a store have none).
    prints: HashMap<PacketId, u64>,
    released: Released,
    /// Held acknowledgements (PUBACK for QoS 1, PUBREC for QoS 2), in the
    /// order their PUBLISHes arrived.
    held: VecDeque<(PacketId, QoS)>,
    /// The ids in `held`. The server cannot reuse these ids meanwhile, so a
    /// PUBLISH with one of them is a resend of the same message.
    unacked: IdSet,
    /// The ids in `held` that may go out once they reach the front: their
    /// message is handled by every consumer.
    done: IdSet,
    /// Held acknowledgements shared by several consumers: how many more
    /// releases each waits for beyond the last one.
    shares: HashMap<PacketId, u16>,
}

/// What to do with an incoming QoS 2 PUBLISH.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Qos2 {
    /// A new message: deliver it, then PUBREC.
    Deliver,
    /// A resend of one already delivered: PUBREC only.
    Duplicate,
}

impl Incoming {
    /// `receive_maximum` is ours: the server may not have more QoS 2 flows
    /// awaiting PUBREL than that [MQTT-3.3.4-9].
    pub(super) fn on_publish(
        &mut self,
        id: PacketId,
        publish: &Publish,
        receive_maximum: u16,
    ) -> Result<Qos2, ProtocolError> {
        if self.awaiting_rel.contains(id) {
            return Ok(Qos2::Duplicate);
        }
        if self.awaiting_rel.len() >= usize::from(receive_maximum) {
            return Err(ProtocolError::new(
                ReasonCode::ReceiveMaximumExceeded,
                "more QoS 2 PUBLISHes awaiting PUBREL than our Receive Maximum",
            ));
        }
        let print = fingerprint(publish);
        let replay = publish.dup && self.released.take(id) == Some(print);
        self.awaiting_rel.insert(id);
        self.prints.insert(id, print);
        if replay {
            tracing::debug!(
                packet_id = id.get(),
                "the server resent a QoS 2 PUBLISH after releasing it; not delivered again"
            );
            return Ok(Qos2::Duplicate);
        }
        Ok(Qos2::Deliver)
    }

    /// Whether `id` was awaiting this PUBREL.
    pub(super) fn on_pubrel(&mut self, id: PacketId) -> bool {
        if !self.awaiting_rel.remove(id) {
            return false;
        }
        if let Some(print) = self.prints.remove(&id) {
            self.released.remember(id, print);
        }
        true
    }

    /// The session is gone [MQTT-3.2.2-5].
    pub(super) fn clear(&mut self) {
        self.awaiting_rel.clear();
        self.held.clear();
        self.unacked.clear();
        self.done.clear();
        self.shares.clear();
        self.prints.clear();
        self.released = Released::default();
    }

    /// Holds the acknowledgement of a delivered message, behind those held
    /// already; `false` when one is already held for `id` (the message is a
    /// resend, which keeps the place of the first).
    pub(super) fn hold(&mut self, id: PacketId, qos: QoS) -> bool {
        if !self.unacked.insert(id) {
            return false;
        }
        self.held.push_back((id, qos));
        true
    }

    /// Queues the PUBREC that answers a resend of a QoS 2 message already
    /// acknowledged behind the acknowledgements held, so it keeps the
    /// resend's place in arrival order; `false` when none is held and it
    /// can go at once.
    pub(super) fn answer_in_turn(&mut self, id: PacketId) -> bool {
        if self.held.is_empty() || !self.hold(id, QoS::ExactlyOnce) {
            return false;
        }
        self.done.insert(id);
        true
    }

    /// Whether an acknowledgement is held for `id`.
    pub(super) fn holds(&self, id: PacketId) -> bool {
        self.unacked.contains(id)
    }

    /// The held acknowledgement of `id` waits for `more` releases beyond
    /// the one it already waits for.
    pub(super) fn share(&mut self, id: PacketId, more: u16) {
        if more > 0 && self.unacked.contains(id) && !self.done.contains(id) {
            let shares = self.shares.entry(id).or_default();
            *shares = shares.saturating_add(more);
        }
    }

    /// Releases one hold on the acknowledgement; `true` when that was the
    /// last (the acknowledgement may go, in its turn: see
    /// [`next_ready`](Self::next_ready)), `false` if none was held.
    pub(super) fn release(&mut self, id: PacketId) -> bool {
        if !self.shares.is_empty() {
            if let Some(shares) = self.shares.get_mut(&id) {
                *shares -= 1;
                if *shares == 0 {
                    self.shares.remove(&id);
                }
                return false;
            }
        }
        self.unacked.contains(id) && self.done.insert(id)
    }

    /// The oldest held acknowledgement, once its message is handled and
    /// every one before it has gone: taken out, to be written now.
    pub(super) fn next_ready(&mut self) -> Option<(PacketId, QoS)> {
        let &(id, qos) = self.held.front()?;
        if !self.done.remove(id) {
            return None;
        }
        self.held.pop_front();
        self.unacked.remove(id);
        Some((id, qos))
    }

    /// The ids awaiting PUBREL, lowest first.
    pub(super) fn ids(&self) -> Vec<PacketId> {
        (1..=u16::MAX)
            .filter_map(PacketId::new)
            .filter(|&id| self.awaiting_rel.contains(id))
            .take(self.awaiting_rel.len())
            .collect()
    }

    /// An id restored from a store.
    pub(super) fn restore(&mut self, id: PacketId) {
        self.awaiting_rel.insert(id);
    }

    #[cfg(test)]
    pub(super) fn awaiting(&self) -> usize {
        self.awaiting_rel.len()
    }
}

/// The last messages released by PUBREL. `order` may hold ids already
/// taken back out (their entry's sequence number no longer matches), so
/// that taking one is O(1) even when the server reuses ids at once.
#[derive(Debug, Default)]
struct Released {
    order: VecDeque<(PacketId, u64)>,
    prints: HashMap<PacketId, (u64, u64)>,
    seq: u64,
}

impl Released {
    fn remember(&mut self, id: PacketId, print: u64) {
        self.seq += 1;
        self.prints.insert(id, (print, self.seq));
        self.order.push_back((id, self.seq));
        while self.order.len() > REMEMBERED {
            if let Some((old, seq)) = self.order.pop_front() {
                if self.prints.get(&old).is_some_and(|&(_, current)| current == seq) {
                    self.prints.remove(&old);
                }
            }
        }
    }

    /// Forgets `id` (a PUBLISH with it arrived), returning its fingerprint.
    fn take(&mut self, id: PacketId) -> Option<u64> {
        self.prints.remove(&id).map(|(print, _)| print)
    }
}

/// Topic, payload length and the payload's ends: enough to tell a replay
/// of one message from another message, without hashing a large payload.
fn fingerprint(publish: &Publish) -> u64 {
    let payload: &[u8] = publish.payload.as_ref();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    publish.topic.hash(&mut hasher);
    payload.len().hash(&mut hasher);
    payload.get(..64).unwrap_or(payload).hash(&mut hasher);
    payload
        .get(payload.len().saturating_sub(64)..)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u16) -> PacketId {
        PacketId::new(n).unwrap()
    }

    #[test]
    fn released_remembers_the_last_ones_within_its_bound() {
        let mut released = Released::default();
        for n in 1..=3000u16 {
            released.remember(id(n), u64::from(n));
            // An id reused at once (taken back) must not pin memory.
            if n % 2 == 0 {
                assert_eq!(released.take(id(n)), Some(u64::from(n)));
            }
        }
        assert!(released.order.len() <= REMEMBERED);
        assert!(released.prints.len() <= REMEMBERED);
        assert_eq!(released.take(id(2999)), Some(2999), "a recent one is remembered");
        assert_eq!(released.take(id(1)), None, "the oldest were forgotten");
        assert_eq!(released.take(id(2999)), None, "taking forgets");
    }

    /// Exactly the last REMEMBERED releases are kept, and an id released
    /// again is kept by its newer release when its older one ages out.
    #[test]
    fn released_keeps_exactly_its_bound_and_an_id_by_its_newest_release() {
        let mut released = Released::default();
        released.remember(id(1), 10);
        released.remember(id(1), 11);
        let bound = u16::try_from(REMEMBERED).unwrap();
        // The first release of 1 ages out; its second is the oldest kept.
        for n in 2..=bound {
            released.remember(id(n), u64::from(n));
        }
        assert_eq!(released.order.len(), REMEMBERED);
        assert_eq!(released.take(id(1)), Some(11));
        released.remember(id(bound), 0);
        released.remember(id(bound + 1), 0);
        assert_eq!(released.take(id(2)), None, "aged out");
        assert_eq!(
            released.take(id(3)),
            Some(3),
            "the oldest of the last {REMEMBERED}"
        );
    }
}
