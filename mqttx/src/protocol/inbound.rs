//! Packets from the server: dispatch by state, the acknowledgements of our
//! flows, and incoming PUBLISH/PUBREL.

use std::time::Instant;

use crate::packet::{
    AckProperties, Disconnect, LazyBox, Packet, PacketId, PubAck, PubComp, PubRec, PubRel, Publish, QoS,
    ReasonCode, SubAck, UnsubAck,
};

use super::incoming::Qos2;
use super::outgoing::PubRecOutcome;
use super::persist::SessionChange;
use super::protocol::State;
use super::{CommandError, Event, Protocol, ProtocolError};

impl<T> Protocol<T> {
    /// Feeds one decoded packet from the wire.
    ///
    /// An `Err` is a protocol violation by the server: close the
    /// connection (on MQTT 5 a DISCONNECT with the reason is already queued).
    pub fn handle_packet(&mut self, packet: Packet, now: Instant) -> Result<(), ProtocolError> {
        let result = self.dispatch(packet, now);
        if let Err(error) = &result {
            tracing::debug!(%error, "server broke the protocol");
            if self.is_v5() && self.transport_up() {
                self.transmit.send(Packet::Disconnect(Disconnect {
                    reason_code: error.reason,
                    ..Disconnect::default()
                }));
            }
        }
        result
    }

    fn dispatch(&mut self, packet: Packet, now: Instant) -> Result<(), ProtocolError> {
        let v5 = self.is_v5();
        match (self.state, packet) {
            (State::AwaitingConnAck, Packet::ConnAck(connack)) => self.on_connack(connack, now),
            (State::AwaitingConnAck | State::Connected, Packet::Auth(auth)) if v5 => {
                self.events.push_back(Event::AuthChallenge(auth));
                Ok(())
            }
            (State::AwaitingConnAck | State::Connected, Packet::Disconnect(disconnect)) if v5 => {
                // Nothing more may be written; the shell calls connection_lost.
                self.state = State::Offline;
                self.keep_alive.stop();
                self.connack_deadline = None;
                self.events.push_back(Event::ServerDisconnect(disconnect));
                Ok(())
            }
            (State::Connected, Packet::Publish(publish)) => self.on_publish(publish),
            (State::Connected, Packet::PubAck(ack)) => self.on_puback(ack, now),
            (State::Connected, Packet::PubRec(rec)) => self.on_pubrec(rec, now),
            (State::Connected, Packet::PubRel(rel)) => {
                self.on_pubrel(rel);
                Ok(())
            }
            (State::Connected, Packet::PubComp(comp)) => self.on_pubcomp(comp, now),
            (State::Connected, Packet::SubAck(suback)) => self.on_suback(suback, now),
            (State::Connected, Packet::UnsubAck(unsuback)) => self.on_unsuback(unsuback, now),
            (State::Connected, Packet::PingResp) => {
                self.keep_alive.on_pingresp();
                Ok(())
            }
            // Read before the transport closed: there is no connection left
            // to break, so leftovers are dropped rather than reported.
            (State::Offline | State::Closed, _) => Ok(()),
            (_, packet) => Err(ProtocolError::violation(unexpected(&packet))),
        }
    }

    fn on_publish(&mut self, mut publish: Publish) -> Result<(), ProtocolError> {
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
                if self.incoming.hold(id) {
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
                self.incoming.hold(id);
                return Ok(());
            }
            self.journal(|| SessionChange::IncomingReceived(id));
        } else if self.incoming.holds(id) {
            // Still being handled: the PUBREC waits for the acknowledgement.
            return Ok(());
        }
        self.transmit.send(Packet::PubRec(PubRec::new(id)));
        Ok(())
    }

    fn on_pubrel(&mut self, rel: PubRel) {
        let id = rel.packet_id;
        let mut comp = PubComp::new(id);
        if self.incoming.on_pubrel(id) {
            self.journal(|| SessionChange::IncomingReleased(id));
        } else if self.is_v5() {
            comp.reason_code = ReasonCode::PacketIdentifierNotFound;
        }
        self.transmit.send(Packet::PubComp(comp));
    }

    fn on_puback(&mut self, ack: PubAck, now: Instant) -> Result<(), ProtocolError> {
        if self.outgoing.on_puback(ack.packet_id)? {
            self.finish(ack.packet_id, ack.reason_code, ack.properties, now);
        }
        Ok(())
    }

    fn on_pubrec(&mut self, rec: PubRec, now: Instant) -> Result<(), ProtocolError> {
        let id = rec.packet_id;
        match self.outgoing.on_pubrec(id, rec.reason_code, now)? {
            PubRecOutcome::Unknown if !rec.reason_code.is_error() => {
                let mut rel = PubRel::new(id);
                if self.is_v5() {
                    rel.reason_code = ReasonCode::PacketIdentifierNotFound;
                }
                self.transmit.send(Packet::PubRel(rel));
            }
            PubRecOutcome::Unknown => {}
            PubRecOutcome::Again(pubrel) => self.transmit.send(pubrel),
            PubRecOutcome::Refused => self.finish(id, rec.reason_code, rec.properties, now),
            PubRecOutcome::Released { seq } => {
                self.journal(|| SessionChange::Released { seq });
                self.transmit.send(Packet::PubRel(PubRel::new(id)));
            }
        }
        Ok(())
    }

    fn on_pubcomp(&mut self, comp: PubComp, now: Instant) -> Result<(), ProtocolError> {
        let Some(pubrec) = self.outgoing.on_pubcomp(comp.packet_id)? else {
            return Ok(());
        };
        // Any code completes: after PUBREC the server owned the message,
        // and Packet Identifier not found only means it already let go.
        self.finish(comp.packet_id, pubrec, comp.properties, now);
        Ok(())
    }

    /// Ends an outgoing flow: frees its id and window slot, reports it.
    fn finish(
        &mut self,
        id: PacketId,
        code: ReasonCode,
        mut properties: LazyBox<AckProperties>,
        now: Instant,
    ) {
        let Some((seq, tag)) = self.outgoing.complete(id, &mut self.ids) else {
            return;
        };
        self.journal(|| SessionChange::Completed { seq });
        let result = if code.is_error() {
            self.events.push_back(Event::PublishFailed {
                packet_id: id,
                reason_code: code,
                properties: properties.take(),
            });
            Err(CommandError::Rejected(code))
        } else {
            Ok(code)
        };
        self.events.push_back(Event::PublishDone { tag, result });
        self.pump(now);
    }

    fn on_suback(&mut self, suback: SubAck, now: Instant) -> Result<(), ProtocolError> {
        let Some(tag) = self.subscriptions.on_suback(&suback, &mut self.ids)? else {
            return Ok(());
        };
        if let Some(tag) = tag {
            self.events.push_back(Event::SubscribeDone {
                tag,
                result: Ok(suback),
            });
        }
        // A packet id came free: anything waiting for one can go.
        self.pump(now);
        Ok(())
    }

    fn on_unsuback(&mut self, unsuback: UnsubAck, now: Instant) -> Result<(), ProtocolError> {
        let v5 = self.is_v5();
        let Some(tag) = self.subscriptions.on_unsuback(&unsuback, v5, &mut self.ids)? else {
            return Ok(());
        };
        if let Some(tag) = tag {
            self.events.push_back(Event::UnsubscribeDone {
                tag,
                result: Ok(unsuback),
            });
        }
        self.pump(now);
        Ok(())
    }
}

/// Why `packet` cannot arrive now (packets only a client sends, or a
/// server packet before CONNACK / after the connection ended).
fn unexpected(packet: &Packet) -> &'static str {
    match packet {
        Packet::Connect(_) => "CONNECT from the server",
        Packet::Subscribe(_) => "SUBSCRIBE from the server",
        Packet::Unsubscribe(_) => "UNSUBSCRIBE from the server",
        Packet::PingReq => "PINGREQ from the server",
        Packet::ConnAck(_) => "CONNACK when none was expected",
        Packet::Auth(_) => "AUTH on MQTT 3.1.1",
        Packet::Disconnect(_) => "DISCONNECT from the server on MQTT 3.1.1",
        Packet::Publish(_) => "PUBLISH before CONNACK",
        Packet::PubAck(_) | Packet::PubRec(_) | Packet::PubRel(_) | Packet::PubComp(_) => {
            "publish acknowledgement before CONNACK"
        }
        Packet::SubAck(_) | Packet::UnsubAck(_) => "subscription acknowledgement before CONNACK",
        Packet::PingResp => "PINGRESP before CONNACK",
    }
}
