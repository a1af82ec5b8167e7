//! SUBSCRIBE / UNSUBSCRIBE: commands waiting for a connection, those
//! awaiting their acknowledgement, and the subscriptions the server holds for
//! us (restored after a reconnect that lost the session).

use std::collections::VecDeque;

use crate::packet::{
    ByteString, PacketId, SubAck, SubscribeProperties, SubscriptionOptions, UnsubAck, UnsubscribeProperties,
};

use super::packet_ids::IdMap;
use super::{CommandError, Event};

/// Topic filters with their options, as SUBSCRIBE carries them.
pub(crate) type Filters = Vec<(ByteString, SubscriptionOptions)>;

/// A subscription command. `tag` is `None` for the protocol's own restoring
/// SUBSCRIBEs, which complete silently.
#[derive(Debug)]
pub(crate) enum Control<T> {
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
    pub(crate) fn is_restore(&self) -> bool {
        match self {
            Control::Subscribe { tag, .. } | Control::Unsubscribe { tag, .. } => tag.is_none(),
        }
    }

    /// The Done event failing this command, if someone awaits it.
    pub(crate) fn fail(self, error: CommandError) -> Option<Event<T>> {
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
pub(crate) struct Held {
    pub(crate) filter: ByteString,
    pub(crate) options: SubscriptionOptions,
    pub(crate) identifier: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct Subscriptions<T> {
    /// In the order first granted. A Vec: subscription sets are small and
    /// change rarely, and restoring them in a stable order is easier to test.
    pub(crate) held: Vec<Held>,
    /// Sent, awaiting SUBACK/UNSUBACK; with the order they were sent in.
    pub(crate) pending: IdMap<(u64, Control<T>)>,
    /// Waiting for a connection.
    pub(crate) queue: VecDeque<Control<T>>,
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
    pub(crate) fn sent(&mut self, id: PacketId, control: Control<T>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.insert(id, (seq, control));
    }

    /// The connection is gone before their acknowledgement: whether the
    /// server acted on them is unknown, so they go back to the front of the
    /// queue, in the order sent. Returns their ids for release.
    pub(crate) fn connection_lost(&mut self) -> Vec<PacketId> {
        let mut pending: Vec<(u64, PacketId, Control<T>)> = self
            .pending
            .drain()
            .map(|(id, (seq, control))| (seq, id, control))
            .collect();
        pending.sort_unstable_by_key(|&(seq, _, _)| seq);
        let ids = pending.iter().map(|&(_, id, _)| id).collect();
        for (_, _, control) in pending.into_iter().rev() {
            self.queue.push_front(control);
        }
        ids
    }

    /// Applies a SUBACK to what we hold. A failed restore forgets the filter.
    pub(crate) fn granted(
        &mut self,
        filters: &Filters,
        identifier: Option<u32>,
        suback: &SubAck,
        restore: bool,
    ) {
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
    pub(crate) fn removed(&mut self, filters: &[ByteString], unsuback: &UnsubAck) {
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
    pub(crate) fn restore(&self) -> Vec<Control<T>> {
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
