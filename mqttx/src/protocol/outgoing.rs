//! Outgoing QoS 1/2 publishes: those in flight keyed by packet id, the
//! queue behind the window, and the order resends follow.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::packet::{Packet, PacketId, PubRel, Publish, QoS, ReasonCode};

use super::packet_ids::{IdMap, PacketIds};
pub(super) use super::queued::Queued;
use super::session::StoredPublish;
use super::transmit::Transmit;
use super::ProtocolError;

mod outcome;
mod strikes;
pub(super) use outcome::{PubAckOutcome, PubRecOutcome};
#[cfg(test)]
pub(super) use strikes::PROMPT_CLOSE;
pub(super) use strikes::STRIKES_TO_ABANDON;

/// Where an in-flight publish is in its flow.
#[derive(Debug)]
// Boxing the Publish would cost an allocation per message; a Released
// flight is short-lived, so the wasted bytes are not worth one.
#[allow(clippy::large_enum_variant)]
enum Stage {
    /// Sent; awaiting PUBACK (QoS 1) or PUBREC (QoS 2). Kept for resending.
    Unacked(Publish),
    /// QoS 2 after PUBREC: PUBREL sent, awaiting PUBCOMP. The payload is
    /// dropped, since the PUBLISH must never be resent now [MQTT-4.3.3-6].
    Released {
        /// Reported when PUBCOMP completes the flow (it may be No matching subscribers).
        pubrec: ReasonCode,
        /// When its PUBREC arrived, among the flights released: PUBRELs are
        /// sent again in this order [MQTT-4.6.0-4].
        order: u64,
    },
}

/// One publish written under a packet id and not yet completed.
#[derive(Debug)]
struct InFlight<T> {
    /// Original send order: resends follow it [MQTT-4.6.0-1].
    seq: u64,
    tag: T,
    stage: Stage,
    /// When last written on the current connection; `None` while it awaits
    /// a resend after reconnecting.
    sent_at: Option<Instant>,
    /// Connections the server closed on it; see [`Outgoing::server_closed`].
    strikes: u8,
}

#[derive(Debug)]
pub(super) struct Outgoing<T> {
    inflight: IdMap<InFlight<T>>,
    queue: VecDeque<Queued<T>>,
    /// In-flight publishes still to be resent after a reconnect, in send
    /// order, held back when the new window is smaller than what is in flight.
    /// Exactly the flights whose `sent_at` is `None` while connected.
    resend: VecDeque<PacketId>,
    next_seq: u64,
    /// The `order` of the next flight released.
    next_release: u64,
}

impl<T> Default for Outgoing<T> {
    fn default() -> Self {
        Outgoing {
            inflight: IdMap::default(),
            queue: VecDeque::new(),
            resend: VecDeque::new(),
            next_seq: 0,
            next_release: 0,
        }
    }
}

impl<T> Outgoing<T> {
    /// Publishes written and not yet completed.
    pub(super) fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    /// Publishes waiting behind the window or for a connection.
    pub(super) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// In flight and written on this connection: what counts against the window.
    pub(super) fn on_wire(&self) -> usize {
        self.inflight.len().saturating_sub(self.resend.len())
    }

    pub(super) fn enqueue(&mut self, queued: Queued<T>) {
        self.queue.push_back(queued);
    }

    /// The next publish to send, oldest first.
    pub(super) fn next_queued(&mut self) -> Option<Queued<T>> {
        self.queue.pop_front()
    }

    /// Puts back a publish taken with `next_queued` that cannot go yet.
    pub(super) fn unqueue(&mut self, queued: Queued<T>) {
        self.queue.push_front(queued);
    }

    /// Puts a queued publish in flight under `id`, written `now`; returns
    /// its `seq` and the PUBLISH to write.
    pub(super) fn send(&mut self, id: PacketId, queued: Queued<T>, now: Instant) -> (u64, Publish) {
        let Queued {
            mut publish,
            tag,
            seq,
            strikes,
            ..
        } = queued;
        publish.packet_id = Some(id);
        let wire = publish.clone();
        let seq = seq.unwrap_or_else(|| {
            let seq = self.next_seq;
            self.next_seq += 1;
            seq
        });
        self.inflight.insert(
            id,
            InFlight {
                seq,
                tag,
                stage: Stage::Unacked(publish),
                sent_at: Some(now),
                strikes,
            },
        );
        (seq, wire)
    }

    /// The next publish held back by a smaller window after a reconnect,
    /// marked as written `now`.
    pub(super) fn resend_next(&mut self, now: Instant) -> Option<Packet> {
        while let Some(id) = self.resend.pop_front() {
            if let Some(packet) = self.resend(id, now) {
                return Some(packet);
            }
        }
        None
    }

    /// Writes the flight `id` again, marked as written `now`: the PUBLISH
    /// with DUP and the same id, or the PUBREL once released.
    fn resend(&mut self, id: PacketId, now: Instant) -> Option<Packet> {
        let flight = self.inflight.get_mut(&id)?;
        flight.sent_at = Some(now);
        Some(match &flight.stage {
            Stage::Unacked(publish) => {
                let mut publish = publish.clone();
                publish.dup = true;
                Packet::Publish(publish)
            }
            Stage::Released { .. } => Packet::PubRel(PubRel::new(id)),
        })
    }

    /// What a PUBACK for `id` means: a late duplicate (a 3.1.1 retry
    /// crossing the first PUBACK) means nothing.
    pub(super) fn on_puback(&self, id: PacketId) -> Result<PubAckOutcome, ProtocolError> {
        match self.inflight.get(&id).map(|flight| &flight.stage) {
            None => Ok(PubAckOutcome::Unknown),
            Some(Stage::Unacked(publish)) if publish.qos == QoS::AtLeastOnce => Ok(PubAckOutcome::Completes),
            Some(Stage::Unacked(_)) => Ok(PubAckOutcome::QoS2Downgraded),
            Some(Stage::Released { .. }) => Err(ProtocolError::violation("PUBACK after PUBREC")),
        }
    }

    pub(super) fn on_pubrec(
        &mut self,
        id: PacketId,
        code: ReasonCode,
        now: Instant,
    ) -> Result<PubRecOutcome, ProtocolError> {
        let Some(flight) = self.inflight.get_mut(&id) else {
            return Ok(PubRecOutcome::Unknown);
        };
        match &flight.stage {
            Stage::Unacked(publish) if publish.qos == QoS::ExactlyOnce => {}
            Stage::Released { .. } => {
                let again = self.resend(id, now);
                return Ok(again.map_or(PubRecOutcome::Unknown, PubRecOutcome::Again));
            }
            Stage::Unacked(_) => return Err(ProtocolError::violation("PUBREC for a QoS 1 PUBLISH")),
        }
        if code.is_error() {
            return Ok(PubRecOutcome::Refused);
        }
        flight.stage = Stage::Released {
            pubrec: code,
            order: self.next_release,
        };
        self.next_release += 1;
        if flight.sent_at.replace(now).is_none() {
            // Acknowledged before its resend came up: it is on the wire now.
            self.resend.retain(|&waiting| waiting != id);
        }
        Ok(PubRecOutcome::Released { seq: flight.seq })
    }

    /// For a PUBCOMP: the PUBREC code the flight completes with, or `None`
    /// when no flight has this id.
    pub(super) fn on_pubcomp(&self, id: PacketId) -> Result<Option<ReasonCode>, ProtocolError> {
        match self.inflight.get(&id).map(|flight| &flight.stage) {
            None => Ok(None),
            Some(Stage::Released { pubrec, .. }) => Ok(Some(*pubrec)),
            Some(Stage::Unacked(_)) => Err(ProtocolError::violation("PUBCOMP before PUBREC")),
        }
    }

    /// Ends the flight `id` and frees its id; returns its `seq` and tag.
    pub(super) fn complete(&mut self, id: PacketId, ids: &mut PacketIds) -> Option<(u64, T)> {
        let flight = self.remove(id, ids)?;
        Some((flight.seq, flight.tag))
    }

    /// Gives up the flight `seq` (its record could not be stored): returns
    /// its packet id, now free, and its tag.
    pub(super) fn abandon(&mut self, seq: u64, ids: &mut PacketIds) -> Option<(PacketId, T)> {
        let id = self
            .inflight
            .iter()
            .find(|(_, flight)| flight.seq == seq)
            .map(|(&id, _)| id)?;
        let flight = self.remove(id, ids)?;
        Some((id, flight.tag))
    }

    fn remove(&mut self, id: PacketId, ids: &mut PacketIds) -> Option<InFlight<T>> {
        let flight = self.inflight.remove(&id)?;
        ids.release(id);
        if flight.sent_at.is_none() {
            self.resend.retain(|&queued| queued != id);
        }
        Some(flight)
    }

    /// The session is shut down: empties flights and queue, freeing their
    /// ids; returns every tag, flights in send order first, then the queue.
    pub(super) fn close(&mut self, ids: &mut PacketIds) -> Vec<T> {
        let mut tags = Vec::with_capacity(self.inflight.len() + self.queue.len());
        for id in self.in_send_order() {
            if let Some(flight) = self.remove(id, ids) {
                tags.push(flight.tag);
            }
        }
        tags.extend(self.queue.drain(..).map(|queued| queued.tag));
        tags
    }

    /// The connection is gone: nothing is on the wire any more.
    pub(super) fn connection_lost(&mut self) {
        for flight in self.inflight.values_mut() {
            flight.sent_at = None;
        }
        self.resend.clear();
    }

    /// The server kept the session: every unacknowledged PUBLISH is written
    /// again (DUP, same id) and every PUBREL [MQTT-4.4.0-1], PUBLISHes in
    /// their original order and PUBRELs in the order their PUBRECs arrived
    /// [MQTT-4.6.0-1, MQTT-4.6.0-4]. PUBLISHes beyond the (possibly
    /// smaller) new `window` wait in `resend`; PUBRELs never wait
    /// [MQTT-3.3.4-8].
    pub(super) fn session_resumed(&mut self, window: usize, now: Instant, transmit: &mut Transmit<T>) {
        let mut written = 0;
        for id in self.in_resend_order() {
            let held_back = match self.inflight.get(&id).map(|flight| &flight.stage) {
                None => continue,
                Some(Stage::Released { .. }) => false,
                Some(Stage::Unacked(_)) => !self.resend.is_empty() || written >= window,
            };
            if held_back {
                self.resend.push_back(id);
            } else if let Some(packet) = self.resend(id, now) {
                written += 1;
                transmit.send(packet);
            }
        }
    }

    /// The server has no session: flights it never took ownership of go
    /// back to the front of the queue as new messages (at-least-once
    /// holds), keeping their `seq` so their store record stays until they
    /// are sent again; QoS 2 ones it PUBREC'd were delivered and complete.
    /// Frees every id; returns the completed ones as (`seq`, tag, the
    /// PUBREC code), in send order.
    pub(super) fn session_lost(&mut self, ids: &mut PacketIds) -> Vec<(u64, T, ReasonCode)> {
        let mut requeue = Vec::new();
        let mut completed = Vec::new();
        for id in self.in_send_order() {
            let Some(flight) = self.remove(id, ids) else {
                continue;
            };
            match flight.stage {
                Stage::Unacked(publish) => {
                    requeue.push(Queued::again(publish, flight.tag, flight.seq, flight.strikes))
                }
                Stage::Released { pubrec, .. } => completed.push((flight.seq, flight.tag, pubrec)),
            }
        }
        self.resend.clear();
        for queued in requeue.into_iter().rev() {
            self.queue.push_front(queued);
        }
        completed
    }

    /// MQTT 3.1.1 only: writes again, with DUP, what has waited `interval`
    /// for its acknowledgement, in the order of a resend after a reconnect;
    /// returns when the next one falls due.
    pub(super) fn retry(
        &mut self,
        interval: Duration,
        now: Instant,
        transmit: &mut Transmit<T>,
    ) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        for id in self.in_resend_order() {
            let Some(sent_at) = self.inflight.get(&id).and_then(|flight| flight.sent_at) else {
                continue;
            };
            let due = if sent_at + interval > now {
                sent_at + interval
            } else {
                if let Some(packet) = self.resend(id, now) {
                    transmit.send(packet);
                }
                now + interval
            };
            next = Some(next.map_or(due, |next| next.min(due)));
        }
        next
    }

    /// Every flight as a store keeps it, in send order.
    pub(super) fn stored(&self) -> Vec<StoredPublish> {
        self.in_send_order()
            .into_iter()
            .filter_map(|id| {
                let flight = self.inflight.get(&id)?;
                Some(match &flight.stage {
                    Stage::Unacked(publish) => StoredPublish {
                        seq: flight.seq,
                        publish: Publish {
                            dup: false,
                            packet_id: Some(id),
                            ..publish.clone()
                        },
                        released: false,
                    },
                    Stage::Released { .. } => StoredPublish {
                        seq: flight.seq,
                        // The payload is gone after PUBREC [MQTT-4.3.3-6]; only the id matters.
                        publish: Publish {
                            packet_id: Some(id),
                            qos: QoS::ExactlyOnce,
                            ..Publish::default()
                        },
                        released: true,
                    },
                })
            })
            .collect()
    }

    /// Takes in the flights of a stored session, each awaiting its resend;
    /// `tag` makes each one's tag. One whose id is missing or taken twice,
    /// or a QoS 1 one marked released, goes to the front of the queue as a
    /// new message instead.
    pub(super) fn restore(
        &mut self,
        stored: Vec<StoredPublish>,
        mut tag: impl FnMut(&StoredPublish) -> T,
        ids: &mut PacketIds,
    ) {
        let mut requeue = Vec::new();
        for stored in stored {
            let tag = tag(&stored);
            let StoredPublish {
                seq,
                mut publish,
                released,
            } = stored;
            // New publishes get a `seq` after every restored one.
            self.next_seq = self.next_seq.max(seq.saturating_add(1));
            publish.dup = false;
            let id = publish.packet_id.filter(|&id| ids.reserve(id));
            let qos1_released = released && publish.qos != QoS::ExactlyOnce;
            match id {
                Some(id) if !qos1_released => {
                    let stage = if released {
                        // A store keeps no PUBREC order: send order stands in.
                        let order = self.next_release;
                        self.next_release += 1;
                        Stage::Released {
                            pubrec: ReasonCode::Success,
                            order,
                        }
                    } else {
                        Stage::Unacked(publish)
                    };
                    let flight = InFlight {
                        seq,
                        tag,
                        stage,
                        sent_at: None,
                        strikes: 0,
                    };
                    self.inflight.insert(id, flight);
                }
                _ => {
                    if let Some(id) = id {
                        ids.release(id);
                    }
                    requeue.push(Queued::again(publish, tag, seq, 0));
                }
            }
        }
        for queued in requeue.into_iter().rev() {
            self.queue.push_front(queued);
        }
    }

    /// The in-flight ids in original send order. Sorting here, only on
    /// reconnect, retry and shutdown, keeps the per-message path a plain
    /// map insert.
    fn in_send_order(&self) -> Vec<PacketId> {
        let mut order: Vec<(u64, PacketId)> = self
            .inflight
            .iter()
            .map(|(&id, flight)| (flight.seq, id))
            .collect();
        order.sort_unstable();
        order.into_iter().map(|(_, id)| id).collect()
    }

    /// The in-flight ids in the order they are written again: send order,
    /// except that the places of the released flights are taken by those
    /// flights in the order their PUBRECs arrived. PUBLISHes keep their
    /// order [MQTT-4.6.0-1], PUBRELs follow their PUBRECs [MQTT-4.6.0-4].
    fn in_resend_order(&self) -> Vec<PacketId> {
        let mut order = self.in_send_order();
        let mut released: Vec<(u64, PacketId)> = order
            .iter()
            .filter_map(|id| match self.inflight.get(id)?.stage {
                Stage::Released { order, .. } => Some((order, *id)),
                Stage::Unacked(_) => None,
            })
            .collect();
        if released.is_empty() {
            return order;
        }
        released.sort_unstable();
        let mut released = released.into_iter().map(|(_, id)| id);
        for id in &mut order {
            if matches!(
                self.inflight.get(id).map(|flight| &flight.stage),
                Some(Stage::Released { .. })
            ) {
                if let Some(next) = released.next() {
                    *id = next;
                }
            }
        }
        order
    }
}
