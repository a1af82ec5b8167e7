//! Our publishes: the publish command, moving what waits into the window,
//! the server's PUBACK/PUBREC/PUBCOMP, and MQTT 3.1.1's timed resends.

use std::time::Instant;

use crate::packet::topic::valid_topic_name;
use crate::packet::{
    AckProperties, LazyBox, Packet, PacketId, ProtocolVersion, PubAck, PubComp, PubRec, PubRel, Publish, QoS,
    ReasonCode,
};

use super::outgoing::{PubAckOutcome, PubRecOutcome, Queued, STRIKES_TO_ABANDON};
use super::protocol::State;
use super::session::{SessionChange, StoredPublish};
use super::{Event, Protocol, ProtocolError};
use crate::error::Error;

impl<T> Protocol<T> {
    /// Publishes a message. The packet id is assigned here (leave it
    /// `None`); DUP, Topic Alias and Subscription Identifiers set by the
    /// caller are cleared, since they are the protocol's to manage.
    ///
    /// Completes through one [`Event::PublishDone`] carrying `tag`: right
    /// away for a local refusal, when handed out by `poll_transmit` for
    /// QoS 0, on PUBACK for QoS 1, on PUBCOMP for QoS 2. While offline QoS
    /// 1/2 wait in the queue; QoS 0 fails with `NotConnected`.
    pub fn publish(&mut self, mut publish: Publish, tag: T, now: Instant) {
        if let Err(error) = self.accept_publish(&mut publish) {
            self.publish_done(tag, Err(error));
            return;
        }
        let connected = self.state == State::Connected;
        if publish.qos == QoS::AtMostOnce {
            if connected {
                self.transmit.send_qos0(publish, tag);
            } else {
                self.publish_done(tag, Err(Error::NotConnected));
            }
            return;
        }
        let goes_straight_out =
            connected && self.outgoing.queued() == 0 && self.outgoing.on_wire() < self.window();
        if !goes_straight_out && self.queued() >= self.config.max_queued {
            self.publish_done(tag, Err(Error::QueueFull));
            return;
        }
        let checked = if connected { self.generation } else { 0 };
        self.outgoing.enqueue(Queued::new(publish, tag, checked));
        self.send_waiting(now);
    }

    fn accept_publish(&mut self, publish: &mut Publish) -> Result<(), Error> {
        if self.state == State::Closed {
            return Err(Error::Closed);
        }
        if !valid_topic_name(&publish.topic) {
            return Err(Error::InvalidTopic);
        }
        publish.dup = false;
        publish.packet_id = None;
        if let Some(properties) = publish.properties.get_mut() {
            // Refused here, before anything is queued, rather than by the
            // encoder once the publish is about to be written [MQTT-1.5.4-2].
            properties.check_strings()?;
            properties.topic_alias = None;
            // A client must not send Subscription Identifiers [MQTT-3.3.4-6].
            properties.subscription_identifiers.clear();
        }
        if self.state == State::Connected {
            self.check_publish(publish)?;
        }
        Ok(())
    }

    /// Checks against the limits of the current connection.
    fn check_publish(&self, publish: &mut Publish) -> Result<(), Error> {
        self.limits.check_publish(publish, self.config.version)
    }

    pub(super) fn publish_done(&mut self, tag: T, result: Result<ReasonCode, Error>) {
        self.events.push_back(Event::PublishDone { tag, result });
    }

    /// Sends what waits, as far as packet ids and the window allow:
    /// SUBSCRIBE/UNSUBSCRIBE first (they never wait for the window), then
    /// publishes held back after a reconnect, then the queue, in order.
    pub(super) fn send_waiting(&mut self, now: Instant) {
        if self.state != State::Connected {
            return;
        }
        if self.subscriptions.waiting() > 0 {
            self.send_queued_controls(now);
        }
        let window = self.window();
        while self.outgoing.on_wire() < window {
            if let Some(packet) = self.outgoing.resend_next(now) {
                self.transmit.send(packet);
                continue;
            }
            let Some(mut queued) = self.outgoing.next_queued() else {
                break;
            };
            if queued.checked != self.generation {
                if let Err(error) = self.check_publish(&mut queued.publish) {
                    self.publish_done(queued.tag, Err(error));
                    continue;
                }
            }
            let Some(id) = self.ids.alloc() else {
                // All 65,535 ids are taken by subscribes: wait for an ack.
                self.outgoing.unqueue(queued);
                break;
            };
            let (seq, wire) = self.outgoing.send(id, queued, now);
            self.journal.record(|| {
                SessionChange::Publish(StoredPublish {
                    seq,
                    publish: wire.clone(),
                    released: false,
                })
            });
            self.transmit.send(Packet::Publish(wire));
        }
        self.arm_retry(now);
    }

    pub(super) fn on_puback(&mut self, ack: PubAck, now: Instant) -> Result<(), ProtocolError> {
        match self.outgoing.on_puback(ack.packet_id)? {
            PubAckOutcome::Unknown => {}
            PubAckOutcome::Completes => self.finish(ack.packet_id, ack.reason_code, ack.properties, now),
            PubAckOutcome::QoS2Downgraded => {
                // The connection goes, as for any violation, but the publish
                // is not resent on the next one: the server would do the same.
                let downgraded = Error::QoSNotSupported {
                    requested: QoS::ExactlyOnce,
                    maximum: QoS::AtLeastOnce,
                };
                // Nothing more goes out on this connection: the window
                // slot it frees is the next connection's.
                self.end(ack.packet_id, Err(downgraded));
                return Err(ProtocolError::violation("PUBACK for a QoS 2 PUBLISH"));
            }
        }
        Ok(())
    }

    /// The server closed the connection at `now`: a publish it closed on
    /// three times, each within a second of reading it, fails with
    /// [`Error::PublishAbandoned`](crate::Error::PublishAbandoned) rather
    /// than being resent forever. Call before `connection_lost`.
    pub fn server_closed(&mut self, now: Instant) {
        if let Some((seq, tag)) =
            self.outgoing
                .server_closed(self.keep_alive.last_received(), now, &mut self.ids)
        {
            tracing::warn!(
                attempts = STRIKES_TO_ABANDON,
                "the server closed the connection each time a publish was sent; giving it up"
            );
            self.journal.record(|| SessionChange::Completed { seq });
            let abandoned = Error::PublishAbandoned {
                attempts: STRIKES_TO_ABANDON,
            };
            self.publish_done(tag, Err(abandoned));
        }
    }

    pub(super) fn on_pubrec(&mut self, rec: PubRec, now: Instant) -> Result<(), ProtocolError> {
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
                self.journal.record(|| SessionChange::Released { seq });
                self.transmit.send(Packet::PubRel(PubRel::new(id)));
            }
        }
        Ok(())
    }

    pub(super) fn on_pubcomp(&mut self, comp: PubComp, now: Instant) -> Result<(), ProtocolError> {
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
        let result = if code.is_error() {
            self.events.push_back(Event::PublishFailed {
                packet_id: id,
                reason_code: code,
                properties: properties.take(),
            });
            Err(Error::PublishRejected(code))
        } else {
            Ok(code)
        };
        if self.end(id, result) {
            self.send_waiting(now);
        }
    }

    /// Ends the outgoing flow `id` with `result`; `false` if there was none.
    fn end(&mut self, id: PacketId, result: Result<ReasonCode, Error>) -> bool {
        let Some((seq, tag)) = self.outgoing.complete(id, &mut self.ids) else {
            return false;
        };
        self.journal.record(|| SessionChange::Completed { seq });
        self.events.push_back(Event::PublishDone { tag, result });
        true
    }

    /// MQTT 3.1.1 only: from now on, unacknowledged packets are resent
    /// after `retry_interval`.
    pub(super) fn arm_retry(&mut self, now: Instant) {
        if self.config.version == ProtocolVersion::V311
            && self.retry_at.is_none()
            && self.outgoing.in_flight() > 0
        {
            self.retry_at = Some(now + self.config.retry_interval);
        }
    }

    /// MQTT 3.1.1 only: resend what has waited `retry_interval` for its
    /// acknowledgement. MQTT 5 never gets here: it resends only on
    /// reconnect [MQTT-4.4.0-1].
    pub(super) fn retry(&mut self, now: Instant) {
        let interval = self.config.retry_interval;
        self.retry_at = self.outgoing.retry(interval, now, &mut self.transmit);
    }
}
