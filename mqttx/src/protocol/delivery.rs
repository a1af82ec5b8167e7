//! Messages from the server: incoming PUBLISH and PUBREL, and their
//! acknowledgement, at once or once the application has handled them.
//!
//! By default a QoS 1 PUBLISH is answered with PUBACK (a QoS 2 one with
//! PUBREC) as it is fed in. A shell that hands messages to slower,
//! asynchronous work turns on manual acknowledgement: the answer then waits
//! for [`Protocol::acknowledge`]. Until it comes, the server keeps the
//! message in flight — counted against our Receive Maximum on MQTT 5, and
//! resent after a reconnect — so a message is never acknowledged and then
//! lost, and the server's flow control bounds how much waits.

use crate::packet::{Packet, PacketId, PubAck, PubComp, PubRec, PubRel, Publish, QoS, ReasonCode};

use super::incoming::Qos2;
use super::session::SessionChange;
use super::{Event, Protocol, ProtocolError};

/// What acknowledging a delivered message needs: its QoS and packet
/// identifier, without holding on to the message itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    qos: QoS,
    packet_id: PacketId,
}

impl Ack {
    /// The acknowledgement a message needs; `None` for QoS 0.
    pub fn of(publish: &Publish) -> Option<Ack> {
        match (publish.qos, publish.packet_id) {
            (QoS::AtMostOnce, _) | (_, None) => None,
            (qos, Some(packet_id)) => Some(Ack { qos, packet_id }),
        }
    }
}

impl<T> Protocol<T> {
    pub(super) fn on_publish(&mut self, mut publish: Publish) -> Result<(), ProtocolError> {
        if self.is_v5() {
            self.aliases_in.resolve(&mut publish)?;
        } else if publish.topic.is_empty() {
            return Err(ProtocolError::violation("PUBLISH without a topic name"));
        }
        let qos = publish.qos;
        if qos == QoS::AtMostOnce {
            self.events.push_back(Event::Message(publish));
            return Ok(());
        }
        let id = publish.packet_id.ok_or(ProtocolError::violation(
            "QoS 1/2 PUBLISH without a packet identifier",
        ))?;
        if qos == QoS::AtLeastOnce {
            if self.manual_acks {
                // A resend of a message still being handled is not delivered
                // twice; its PUBACK goes out when the first one is handled.
                if self.incoming.hold(id, qos) {
                    self.events.push_back(Event::Message(publish));
                }
                return Ok(());
            }
            self.events.push_back(Event::Message(publish));
            self.transmit.send(Packet::PubAck(PubAck::new(id)));
            return Ok(());
        }
        if self
            .incoming
            .on_publish(id, &publish, self.config.receive_maximum())?
            == Qos2::Deliver
        {
            self.events.push_back(Event::Message(publish));
            if self.manual_acks {
                self.incoming.hold(id, qos);
                return Ok(());
            }
            self.journal.record(|| SessionChange::IncomingReceived(id));
        } else if self.incoming.holds(id) {
            // Still being handled: the PUBREC waits for the acknowledgement.
            return Ok(());
        } else if self.manual_acks && self.incoming.answer_in_turn(id) {
            // Received already, but behind messages still being handled:
            // its PUBREC keeps the resend's place [MQTT-4.6.0-3].
            return Ok(());
        }
        self.transmit.send(Packet::PubRec(PubRec::new(id)));
        Ok(())
    }

    pub(super) fn on_pubrel(&mut self, rel: PubRel) {
        let id = rel.packet_id;
        let mut comp = PubComp::new(id);
        if self.incoming.on_pubrel(id) {
            self.journal.record(|| SessionChange::IncomingReleased(id));
        } else if self.is_v5() {
            comp.reason_code = ReasonCode::PacketIdentifierNotFound;
        }
        self.transmit.send(Packet::PubComp(comp));
    }

    /// Holds the PUBACK/PUBREC of each delivered message until
    /// [`acknowledge`](Self::acknowledge) is called for it.
    ///
    /// Messages may be acknowledged in any order: PUBACKs and PUBRECs still
    /// go out in the order their PUBLISHes arrived [MQTT-4.6.0-2,
    /// MQTT-4.6.0-3], so one acknowledged early waits for those before it.
    ///
    /// ```
    /// use std::time::Instant;
    /// use mqttx::packet::{ConnAck, Packet, Publish, QoS};
    /// use mqttx::protocol::{Ack, Config, Event, Protocol};
    ///
    /// let now = Instant::now();
    /// let mut protocol: Protocol<()> = Protocol::new(Config::new("c1"));
    /// protocol.manual_acks(true);
    /// protocol.connect(now);
    /// while protocol.poll_transmit(now).is_some() {}
    /// protocol.handle_packet(Packet::ConnAck(ConnAck::default()), now).unwrap();
    /// while protocol.poll_event().is_some() {}
    ///
    /// let publish = Publish::new("a/b", "x").qos(QoS::AtLeastOnce).packet_id(7);
    /// protocol.handle_packet(Packet::Publish(publish), now).unwrap();
    /// let Some(Event::Message(msg)) = protocol.poll_event() else { panic!() };
    /// assert_eq!(protocol.poll_transmit(now), None, "no PUBACK until handled");
    /// protocol.acknowledge(Ack::of(&msg).unwrap());
    /// assert!(matches!(protocol.poll_transmit(now), Some(Packet::PubAck(_))));
    /// ```
    pub fn manual_acks(&mut self, on: bool) {
        self.manual_acks = on;
    }

    /// The message `ack` stands for is delivered to `more` consumers
    /// beyond the first (the handler and message streams, say): its
    /// acknowledgement waits until [`acknowledge`](Self::acknowledge) has
    /// been called once by each. Needs manual acknowledgement.
    pub fn share_ack(&mut self, ack: Ack, more: u16) {
        if self.manual_acks {
            self.incoming.share(ack.packet_id, more);
        }
    }

    /// The message `ack` stands for (see [`Ack::of`] and
    /// [`Event::Message`](super::Event::Message)) is handled: its PUBACK or
    /// PUBREC goes out as soon as those of the messages that arrived before
    /// it have [MQTT-4.6.0-2, MQTT-4.6.0-3] (at once when it is the oldest).
    /// Does nothing without manual acknowledgement, for a message
    /// acknowledged already, or for one whose session is gone.
    ///
    /// Off-line the acknowledgement waits for the next connection: it goes
    /// out once the server resumes the session, and is forgotten if it does
    /// not. A QoS 2 message is recorded as received at once
    /// ([`SessionChange::IncomingReceived`]), so its resend is answered
    /// without being delivered again, even after a restart of the process.
    pub fn acknowledge(&mut self, ack: Ack) {
        let id = ack.packet_id;
        if !self.manual_acks || !self.incoming.release(id) {
            return;
        }
        if ack.qos == QoS::ExactlyOnce {
            // Before its PUBREC, which may wait behind earlier messages.
            self.journal.record(|| SessionChange::IncomingReceived(id));
        }
        self.send_acknowledgements();
    }

    /// Writes the held acknowledgements that may go, oldest first: those
    /// handled, up to the first one still being handled. Only while
    /// connected; otherwise they wait for a connection that resumes the
    /// session.
    pub(super) fn send_acknowledgements(&mut self) {
        if !self.is_connected() {
            return;
        }
        while let Some((id, qos)) = self.incoming.next_ready() {
            self.transmit.send(match qos {
                QoS::AtLeastOnce => Packet::PubAck(PubAck::new(id)),
                _ => Packet::PubRec(PubRec::new(id)),
            });
        }
    }
}
