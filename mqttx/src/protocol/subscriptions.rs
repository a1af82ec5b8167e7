//! SUBSCRIBE / UNSUBSCRIBE: commands waiting for a connection, those
//! awaiting their acknowledgement, and the subscriptions the server holds for
//! us (restored after a reconnect that lost the session).

use std::collections::VecDeque;

use crate::packet::{
    ByteString, Packet, PacketId, SubAck, Subscribe, SubscribeProperties, SubscriptionOptions, UnsubAck,
    Unsubscribe, UnsubscribeProperties,
};

use super::packet_ids::{IdMap, PacketIds};
use super::{Event, ProtocolError};
use crate::error::Error;

/// Topic filters with their options, as SUBSCRIBE carries them.
type Filters = Vec<(ByteString, SubscriptionOptions)>;

/// A subscription command. `tag` is `None` for the protocol's own restoring
/// SUBSCRIBEs, which complete silently.
#[derive(Debug)]
pub(super) enum Control<T> {
    Subscribe {
        filters: Filters,
        properties: SubscribeProperties,
        tag: Option<T>,
    },
    Unsubscribe {
        filters: Vec<ByteString>,
        properties: UnsubscribeProperties,
        tag: Option<T>,
    },
}

impl<T> Control<T> {
    fn is_restore(&self) -> bool {
        match self {
            Control::Subscribe { tag, .. } | Control::Unsubscribe { tag, .. } => tag.is_none(),
        }
    }

    /// The SUBSCRIBE or UNSUBSCRIBE carrying this command under `id`.
    pub(super) fn packet(&self, id: PacketId) -> Packet {
        match self {
            Control::Subscribe {
                filters, properties, ..
            } => Packet::Subscribe(Subscribe {
                packet_id: id,
                filters: filters.clone(),
                properties: properties.clone(),
            }),
            Control::Unsubscribe {
                filters, properties, ..
            } => Packet::Unsubscribe(Unsubscribe {
                packet_id: id,
                filters: filters.clone(),
                properties: properties.clone(),
            }),
        }
    }

    /// The Done event failing this command, if someone awaits it.
    pub(super) fn fail(self, error: Error) -> Option<Event<T>> {
        match self {
            Control::Subscribe { tag, .. } => tag.map(|tag| Event::SubscribeDone {
                tag,
                result: Err(error),
            }),
            Control::Unsubscribe { tag, .. } => tag.map(|tag| Event::UnsubscribeDone {
                tag,
                result: Err(error),
            }),
        }
    }
}

/// A subscription the server holds for us.
#[derive(Debug, Clone)]
struct Held {
    filter: ByteString,
    options: SubscriptionOptions,
    identifier: Option<u32>,
}

#[derive(Debug)]
pub(super) struct Subscriptions<T> {
    /// In the order first granted. A Vec: subscription sets are small and
    /// change rarely, and restoring them in a stable order is easier to test.
    held: Vec<Held>,
    /// Sent, awaiting SUBACK/UNSUBACK; with the order they were sent in.
    pending: IdMap<(u64, Control<T>)>,
    /// Waiting for a connection, or for a free packet id.
    queue: VecDeque<Control<T>>,
    next_seq: u64,
}

impl<T> Default for Subscriptions<T> {
    fn default() -> Self {
        Subscriptions {
            held: Vec::new(),
            pending: IdMap::default(),
            queue: VecDeque::new(),
            next_seq: 0,
        }
    }
}

impl<T> Subscriptions<T> {
    /// Filter and options of every subscription held, in the order first granted.
    pub(super) fn held(&self) -> impl Iterator<Item = (&ByteString, &SubscriptionOptions)> {
        self.held.iter().map(|held| (&held.filter, &held.options))
    }

    /// Commands waiting to be sent.
    pub(super) fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// Queues a command behind those already waiting.
    pub(super) fn wait(&mut self, control: Control<T>) {
        self.queue.push_back(control);
    }

    /// Puts a command back at the front: it was next but no packet id was free.
    pub(super) fn wait_first(&mut self, control: Control<T>) {
        self.queue.push_front(control);
    }

    /// The next command waiting, oldest first.
    pub(super) fn next_waiting(&mut self) -> Option<Control<T>> {
        self.queue.pop_front()
    }

    /// The command was written under `id` and awaits its acknowledgement.
    pub(super) fn sent(&mut self, id: PacketId, control: Control<T>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.insert(id, (seq, control));
    }

    /// A SUBACK: `None` when no SUBSCRIBE awaits it; otherwise the command
    /// is complete, its id free, and this is its tag (`None` for a
    /// restoring SUBSCRIBE).
    pub(super) fn on_suback(
        &mut self,
        suback: &SubAck,
        ids: &mut PacketIds,
    ) -> Result<Option<Option<T>>, ProtocolError> {
        match self.pending.get(&suback.packet_id) {
            None => return Ok(None),
            Some((_, Control::Subscribe { filters, .. })) if filters.len() == suback.reason_codes.len() => {}
            Some((_, Control::Subscribe { .. })) => {
                return Err(ProtocolError::violation(
                    "SUBACK reason codes do not match the filters",
                ))
            }
            Some((_, Control::Unsubscribe { .. })) => {
                return Err(ProtocolError::violation("SUBACK for an UNSUBSCRIBE"))
            }
        }
        ids.release(suback.packet_id);
        let Some((
            _,
            Control::Subscribe {
                filters,
                properties,
                tag,
            },
        )) = self.pending.remove(&suback.packet_id)
        else {
            return Ok(None);
        };
        let identifier = properties.subscription_identifier;
        self.granted(&filters, identifier, suback, tag.is_none());
        Ok(Some(tag))
    }

    /// An UNSUBACK, as [`on_suback`](Self::on_suback). MQTT 3.1.1 carries
    /// no per-filter codes, so only MQTT 5 (`v5`) checks their count.
    pub(super) fn on_unsuback(
        &mut self,
        unsuback: &UnsubAck,
        v5: bool,
        ids: &mut PacketIds,
    ) -> Result<Option<Option<T>>, ProtocolError> {
        match self.pending.get(&unsuback.packet_id) {
            None => return Ok(None),
            Some((_, Control::Unsubscribe { filters, .. }))
                if !v5 || filters.len() == unsuback.reason_codes.len() => {}
            Some((_, Control::Unsubscribe { .. })) => {
                return Err(ProtocolError::violation(
                    "UNSUBACK reason codes do not match the filters",
                ))
            }
            Some((_, Control::Subscribe { .. })) => {
                return Err(ProtocolError::violation("UNSUBACK for a SUBSCRIBE"))
            }
        }
        ids.release(unsuback.packet_id);
        let Some((_, Control::Unsubscribe { filters, tag, .. })) = self.pending.remove(&unsuback.packet_id)
        else {
            return Ok(None);
        };
        self.removed(&filters, unsuback);
        Ok(Some(tag))
    }

    /// The connection is gone before their acknowledgement: whether the
    /// server acted on them is unknown, so they go back to the front of the
    /// queue, in the order sent, and their ids are freed.
    pub(super) fn connection_lost(&mut self, ids: &mut PacketIds) {
        for (id, control) in self.drain_pending().into_iter().rev() {
            ids.release(id);
            self.queue.push_front(control);
        }
    }

    /// The session is shut down: every command sent or waiting, in that
    /// order, with the ids of those sent freed.
    pub(super) fn close(&mut self, ids: &mut PacketIds) -> Vec<Control<T>> {
        let mut controls = Vec::with_capacity(self.pending.len() + self.queue.len());
        for (id, control) in self.drain_pending() {
            ids.release(id);
            controls.push(control);
        }
        controls.extend(self.queue.drain(..));
        controls
    }

    /// The commands awaiting acknowledgement, in the order sent.
    fn drain_pending(&mut self) -> Vec<(PacketId, Control<T>)> {
        let mut pending: Vec<(u64, PacketId, Control<T>)> = self
            .pending
            .drain()
            .map(|(id, (seq, control))| (seq, id, control))
            .collect();
        pending.sort_unstable_by_key(|&(seq, _, _)| seq);
        pending
            .into_iter()
            .map(|(_, id, control)| (id, control))
            .collect()
    }

    /// The server lost the session, and with it every subscription: queue
    /// SUBSCRIBEs re-creating all held, ahead of the commands waiting.
    /// Restoring re-creates everything held, so leftover restores are stale.
    pub(super) fn session_lost(&mut self) {
        self.queue.retain(|control| !control.is_restore());
        for control in self.restore().into_iter().rev() {
            self.queue.push_front(control);
        }
    }

    /// Applies a SUBACK to what we hold. A failed restore forgets the filter.
    fn granted(&mut self, filters: &Filters, identifier: Option<u32>, suback: &SubAck, restore: bool) {
        for ((filter, options), code) in filters.iter().zip(&suback.reason_codes) {
            let position = self.held.iter().position(|held| held.filter == *filter);
            match (code.is_error(), position) {
                (false, Some(index)) => {
                    if let Some(held) = self.held.get_mut(index) {
                        held.options = *options;
                        held.identifier = identifier;
                    }
                }
                (false, None) => self.held.push(Held {
                    filter: filter.clone(),
                    options: *options,
                    identifier,
                }),
                (true, Some(index)) if restore => {
                    self.held.remove(index);
                }
                (true, _) => {}
            }
        }
    }

    /// Applies an UNSUBACK. MQTT 3.1.1 has no per-filter codes: all are gone.
    fn removed(&mut self, filters: &[ByteString], unsuback: &UnsubAck) {
        for (index, filter) in filters.iter().enumerate() {
            let failed = unsuback
                .reason_codes
                .get(index)
                .is_some_and(|code| code.is_error());
            if !failed {
                self.held.retain(|held| held.filter != *filter);
            }
        }
    }

    /// SUBSCRIBEs re-creating every held subscription, one per run of equal
    /// Subscription Identifiers and at most `CHUNK` filters each, so a large
    /// set does not make one packet beyond the server's size limit.
    fn restore(&self) -> Vec<Control<T>> {
        const CHUNK: usize = 32;
        let mut controls: Vec<Control<T>> = Vec::new();
        let mut current: Option<(Option<u32>, Filters)> = None;
        for held in &self.held {
            match &mut current {
                Some((identifier, filters)) if *identifier == held.identifier && filters.len() < CHUNK => {
                    filters.push((held.filter.clone(), held.options));
                }
                _ => {
                    if let Some((identifier, filters)) = current.take() {
                        controls.push(restore_control(identifier, filters));
                    }
                    current = Some((held.identifier, vec![(held.filter.clone(), held.options)]));
                }
            }
        }
        if let Some((identifier, filters)) = current {
            controls.push(restore_control(identifier, filters));
        }
        controls
    }
}

fn restore_control<T>(identifier: Option<u32>, filters: Filters) -> Control<T> {
    Control::Subscribe {
        filters,
        properties: SubscribeProperties {
            subscription_identifier: identifier,
            ..SubscribeProperties::default()
        },
        tag: None,
    }
}
