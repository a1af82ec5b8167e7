//! The packets queued for writing, in the order they must go out.

use std::collections::VecDeque;

use crate::packet::{Packet, PacketId, Publish};

/// A packet waiting to be written.
#[derive(Debug)]
enum Outbound<T> {
    Packet(Packet),
    /// A QoS 0 publish completes when it is taken for writing, so its tag
    /// travels with it.
    Qos0(Publish, T),
}

/// What `poll_transmit` hands out, front first. Every packet the protocol
/// writes is queued through [`Transmit::send`] (or [`Transmit::send_qos0`]),
/// so the order of this queue is the order on the wire.
#[derive(Debug)]
pub(super) struct Transmit<T> {
    queue: VecDeque<Outbound<T>>,
}

impl<T> Default for Transmit<T> {
    fn default() -> Self {
        Transmit {
            queue: VecDeque::new(),
        }
    }
}

impl<T> Transmit<T> {
    pub(super) fn send(&mut self, packet: Packet) {
        self.queue.push_back(Outbound::Packet(packet));
    }

    pub(super) fn send_qos0(&mut self, publish: Publish, tag: T) {
        self.queue.push_back(Outbound::Qos0(publish, tag));
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The next packet, with the tag of a QoS 0 publish: taking it is what
    /// completes that publish.
    pub(super) fn pop(&mut self) -> Option<(Packet, Option<T>)> {
        Some(match self.queue.pop_front()? {
            Outbound::Packet(packet) => (packet, None),
            Outbound::Qos0(publish, tag) => (Packet::Publish(publish), Some(tag)),
        })
    }

    /// Drops every packet not yet taken: they belonged to a connection that
    /// is gone. Returns the tags of the QoS 0 publishes among them, which
    /// were never sent.
    pub(super) fn clear(&mut self) -> impl Iterator<Item = T> + '_ {
        self.queue.drain(..).filter_map(|outbound| match outbound {
            Outbound::Qos0(_, tag) => Some(tag),
            Outbound::Packet(_) => None,
        })
    }

    /// Takes back the QoS 1/2 PUBLISH with packet id `id`, if still queued.
    pub(super) fn withdraw_publish(&mut self, id: PacketId) {
        self.queue.retain(
            |outbound| !matches!(outbound, Outbound::Packet(Packet::Publish(p)) if p.packet_id == Some(id)),
        );
    }
}
