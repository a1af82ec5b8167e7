//! The server's side of the fuzzed session: what it must believe after
//! what the client wrote and what it answered, and the rules the client's
//! packets must keep against that belief.
//!
//! It is kept from the packets alone, never from the state machine's
//! insides, so that a bookkeeping error in the state machine shows as a
//! broken rule here rather than being copied.

use std::collections::{BTreeMap, BTreeSet};

use crate::packet::{ConnAck, Packet, PacketId, QoS};

/// Where one of the client's QoS 1/2 publishes is, as the server sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// PUBLISH received, not acknowledged.
    Published,
    /// QoS 2: PUBREC sent (Success), PUBCOMP not yet.
    Released,
}

#[derive(Debug, Default)]
pub(super) struct Server {
    /// The client's publishes the session holds unfinished, by packet id.
    flows: BTreeMap<PacketId, Flow>,
    /// Those of `flows` written (PUBLISH or PUBREL) on this connection:
    /// what the client's window counts.
    on_wire: BTreeSet<PacketId>,
    /// SUBSCRIBE/UNSUBSCRIBE unanswered on this connection, with their
    /// number of filters.
    controls: BTreeMap<PacketId, usize>,
    /// Incoming QoS 2 messages the client delivered, PUBREC not yet
    /// written (it may wait for the application's acknowledgement).
    delivered: BTreeSet<PacketId>,
    /// Incoming QoS 2 messages the client delivered and answered with
    /// PUBREC Success, not yet released: a PUBLISH with one of these ids
    /// is a resend, never a message, even after a restart of the process.
    received: BTreeSet<PacketId>,
}

impl Server {
    /// A new network connection: nothing is on its wire yet; the
    /// client's unanswered SUBSCRIBEs died with the old one.
    pub(super) fn connection(&mut self) {
        self.on_wire.clear();
        self.controls.clear();
    }

    /// The process restarted from its store without any session, or the
    /// server answered a CONNACK without Session Present: no flow survives.
    pub(super) fn session_lost(&mut self) {
        self.flows.clear();
        self.on_wire.clear();
        self.delivered.clear();
        self.received.clear();
    }

    /// The process restarted: a message delivered and not yet answered
    /// with PUBREC may be delivered again (the server will resend it).
    pub(super) fn restarted(&mut self) {
        self.connection();
        self.delivered.clear();
    }

    /// Checks and records one packet the client wrote; `window` is the
    /// client's outgoing window on this connection.
    pub(super) fn client_wrote(&mut self, packet: &Packet, window: usize) {
        match packet {
            Packet::Connect(connect) => {
                // Clean Start: the server discards the session [MQTT-3.1.2-4].
                if connect.clean_start {
                    self.session_lost();
                }
                self.connection();
            }
            Packet::Publish(publish) if publish.qos != QoS::AtMostOnce => {
                let Some(id) = publish.packet_id else {
                    panic!("QoS {:?} PUBLISH without a packet id", publish.qos);
                };
                assert!(
                    !self.controls.contains_key(&id),
                    "PUBLISH reuses the id of a SUBSCRIBE: {id}"
                );
                match self.flows.get(&id) {
                    None => {}
                    Some(Flow::Published) => {
                        assert!(publish.dup, "PUBLISH {id} again without DUP while in flight")
                    }
                    Some(Flow::Released) => panic!("PUBLISH {id} again after its PUBREC [MQTT-4.3.3-6]"),
                }
                self.flows.insert(id, Flow::Published);
                self.on_wire.insert(id);
                let open = self.on_wire.len();
                assert!(open <= window, "{open} publishes open past a window of {window}");
            }
            Packet::PubRel(rel) if self.flows.contains_key(&rel.packet_id) => {
                self.on_wire.insert(rel.packet_id);
            }
            Packet::PubRec(rec) if !rec.reason_code.is_error() && self.delivered.remove(&rec.packet_id) => {
                self.received.insert(rec.packet_id);
            }
            Packet::Subscribe(subscribe) => self.control(subscribe.packet_id, subscribe.filters.len()),
            Packet::Unsubscribe(unsubscribe) => {
                self.control(unsubscribe.packet_id, unsubscribe.filters.len())
            }
            _ => {}
        }
    }

    fn control(&mut self, id: PacketId, filters: usize) {
        assert!(
            !self.flows.contains_key(&id),
            "SUBSCRIBE reuses the id of a PUBLISH: {id}"
        );
        assert!(
            self.controls.insert(id, filters).is_none(),
            "two unanswered SUBSCRIBE/UNSUBSCRIBE with id {id}"
        );
    }

    /// Records what a packet the server sent, and the client took without
    /// a protocol error while connected, settled.
    pub(super) fn server_wrote(&mut self, packet: &Packet) {
        match packet {
            Packet::PubAck(ack) => self.finish(ack.packet_id),
            Packet::PubRec(rec) if rec.reason_code.is_error() => self.finish(rec.packet_id),
            Packet::PubRec(rec) => {
                if let Some(flow) = self.flows.get_mut(&rec.packet_id) {
                    *flow = Flow::Released;
                }
            }
            Packet::PubComp(comp) => self.finish(comp.packet_id),
            Packet::PubRel(rel) => {
                self.delivered.remove(&rel.packet_id);
                self.received.remove(&rel.packet_id);
            }
            Packet::SubAck(ack) => {
                self.controls.remove(&ack.packet_id);
            }
            Packet::UnsubAck(ack) => {
                self.controls.remove(&ack.packet_id);
            }
            _ => {}
        }
    }

    /// The CONNACK that made the client connected.
    pub(super) fn connected(&mut self, connack: &ConnAck) {
        if !connack.session_present {
            self.session_lost();
        }
    }

    fn finish(&mut self, id: PacketId) {
        self.flows.remove(&id);
        self.on_wire.remove(&id);
    }

    /// The client delivered the QoS 2 message `id`: it must not have
    /// delivered it already in a flow still open [MQTT-4.3.3-10].
    ///
    /// Only messages delivered count: a PUBREC that answers a replay the
    /// client recognised (a server resending a PUBLISH it already
    /// released, see `protocol/incoming.rs`) opens no flow, since the
    /// client remembers such replays in memory only.
    pub(super) fn deliver(&mut self, id: PacketId) {
        assert!(
            !self.received.contains(&id) && !self.delivered.contains(&id),
            "QoS 2 message {id} delivered twice"
        );
        self.delivered.insert(id);
    }

    /// Ids the client has in flight with the server, oldest id first, for
    /// acknowledgements to pick from.
    pub(super) fn open_ids(&self) -> Vec<PacketId> {
        self.flows.keys().chain(self.controls.keys()).copied().collect()
    }

    /// Incoming ids the server could release.
    pub(super) fn received_ids(&self) -> Vec<PacketId> {
        self.received.iter().copied().collect()
    }

    /// Filters in the SUBSCRIBE/UNSUBSCRIBE `id`, when one is open.
    pub(super) fn filters(&self, id: PacketId) -> Option<usize> {
        self.controls.get(&id).copied()
    }
}
