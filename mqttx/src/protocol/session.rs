//! CONNECT out, CONNACK in: which session we ask for, what the server
//! negotiated, and what happens to the session state either way.

use std::time::Instant;

use crate::packet::{
    ConnAck, Connect, ConnectProperties, Packet, ProtocolVersion, PubRel, ReasonCode, WillProperties,
};

use super::limits::ServerLimits;
use super::outgoing::{Queued, Stage};
use super::persist::SessionChange;
use super::protocol::State;
use super::{Event, Protocol, ProtocolError};

impl<T> Protocol<T> {
    pub(crate) fn build_connect(&self) -> Connect {
        let config = &self.config;
        let v5 = config.version == ProtocolVersion::V5;
        let mut will = config.will.clone();
        if let (Some(will), false) = (&mut will, v5) {
            will.properties = WillProperties::default();
        }
        Connect {
            protocol: config.version,
            clean_start: self.clean_start(),
            keep_alive: self.requested_keep_alive,
            client_id: config.client_id.clone(),
            will,
            username: config.username.clone(),
            password: config.password.clone(),
            properties: if v5 {
                config.connect_properties.clone()
            } else {
                ConnectProperties::default()
            },
        }
    }

    /// The configured flag for the first connect; afterwards, resume the
    /// session whenever the server can still have one.
    fn clean_start(&self) -> bool {
        if !self.connected_once {
            return self.config.clean_start;
        }
        match self.config.version {
            ProtocolVersion::V5 => self.session_expiry == 0 && self.config.clean_start,
            ProtocolVersion::V311 => self.config.clean_start,
        }
    }

    pub(crate) fn on_connack(&mut self, connack: ConnAck, now: Instant) -> Result<(), ProtocolError> {
        if self.state != State::AwaitingConnAck {
            return Err(ProtocolError::violation("CONNACK when none was expected"));
        }
        self.connack_deadline = None;
        if connack.reason_code != ReasonCode::Success {
            self.state = State::Offline;
            self.events.push_back(Event::ConnectRejected(connack));
            return Ok(());
        }
        if connack.session_present && self.clean_start_sent {
            // We hold no session the server could be resuming [MQTT-3.2.2-4].
            return Err(ProtocolError::violation("Session Present after a Clean Start"));
        }
        self.apply_negotiated(&connack, now);
        self.state = State::Connected;
        self.connected_once = true;
        self.generation += 1;
        let session_present = connack.session_present;
        self.events.push_back(Event::Connected {
            connack,
            session_present,
        });
        if session_present {
            self.resume_session(now);
        } else {
            self.fresh_session();
        }
        self.send_queued_controls(now);
        self.pump(now);
        Ok(())
    }

    fn apply_negotiated(&mut self, connack: &ConnAck, now: Instant) {
        let properties = &connack.properties;
        self.limits = ServerLimits::from_connack(properties);
        self.aliases_out.reset(self.limits.topic_alias_maximum);
        if let Some(id) = &properties.assigned_client_identifier {
            self.config.client_id = id.clone();
        }
        if let Some(expiry) = properties.session_expiry_interval {
            self.session_expiry = expiry;
        }
        // Server Keep Alive replaces ours [MQTT-3.1.2-21].
        self.config.keep_alive = properties.server_keep_alive.unwrap_or(self.requested_keep_alive);
        self.keep_alive
            .reset(self.config.keep_alive, self.config.ping_timeout, now);
    }

    /// The server kept the session: resend every unacknowledged PUBLISH
    /// (DUP, same id) and PUBREL in their original order [MQTT-4.4.0-1,
    /// MQTT-4.6.0-1]. PUBLISHes beyond the (possibly smaller) new window
    /// wait in `resend`; PUBRELs never wait [MQTT-3.3.4-8].
    fn resume_session(&mut self, now: Instant) {
        let window = self.window();
        let mut written = 0;
        for id in self.outgoing.in_send_order() {
            let Some(slot) = self.outgoing.inflight.get_mut(&id) else {
                continue;
            };
            let packet = match &slot.stage {
                Stage::Released { .. } => Packet::PubRel(PubRel::new(id)),
                Stage::Unacked(_) if !self.outgoing.resend.is_empty() || written >= window => {
                    self.outgoing.resend.push_back(id);
                    continue;
                }
                Stage::Unacked(publish) => {
                    let mut publish = publish.clone();
                    publish.dup = true;
                    Packet::Publish(publish)
                }
            };
            slot.sent_at = Some(now);
            written += 1;
            self.transmit.send(packet);
        }
        self.arm_retry(now);
    }

    /// The server has no session: forget packet ids and incoming QoS 2
    /// state [MQTT-3.2.2-5]. Publishes the server never took ownership of
    /// go back to the front of the queue as new messages (at-least-once
    /// holds); QoS 2 ones it PUBREC'd were delivered and complete. Then
    /// every held subscription is subscribed again.
    fn fresh_session(&mut self) {
        self.incoming.clear();
        self.journal(|| SessionChange::IncomingCleared);
        let mut requeue = Vec::new();
        for id in self.outgoing.in_send_order() {
            let Some(slot) = self.outgoing.remove(id) else {
                continue;
            };
            self.ids.release(id);
            match slot.stage {
                Stage::Unacked(mut publish) => {
                    publish.dup = false;
                    publish.packet_id = None;
                    // Its store record stays until it is sent again (same
                    // seq, new id): a crash meanwhile must not lose it.
                    requeue.push(Queued {
                        publish,
                        tag: slot.tag,
                        checked: 0,
                        seq: Some(slot.seq),
                    });
                }
                Stage::Released { pubrec } => {
                    self.journal(|| SessionChange::Completed { seq: slot.seq });
                    self.events.push_back(Event::PublishDone {
                        tag: slot.tag,
                        result: Ok(pubrec),
                    })
                }
            }
        }
        self.outgoing.resend.clear();
        for queued in requeue.into_iter().rev() {
            self.outgoing.queue.push_front(queued);
        }
        // Restoring re-creates everything held; leftover restores are stale.
        self.subscriptions.queue.retain(|control| !control.is_restore());
        for control in self.subscriptions.restore().into_iter().rev() {
            self.subscriptions.queue.push_front(control);
        }
    }

    /// MQTT 3.1.1 only: from now on, unacknowledged packets are resent
    /// after `retry_interval`.
    pub(crate) fn arm_retry(&mut self, now: Instant) {
        if self.config.version == ProtocolVersion::V311
            && self.retry_at.is_none()
            && !self.outgoing.inflight.is_empty()
        {
            self.retry_at = Some(now + self.config.retry_interval);
        }
    }

    /// MQTT 3.1.1 only: resend, with DUP and in send order, what has waited
    /// `retry_interval` for its acknowledgement. MQTT 5 never gets here: it
    /// resends only on reconnect [MQTT-4.4.0-1].
    pub(crate) fn retry(&mut self, now: Instant) {
        let interval = self.config.retry_interval;
        let mut next: Option<Instant> = None;
        for id in self.outgoing.in_send_order() {
            let Some(slot) = self.outgoing.inflight.get_mut(&id) else {
                continue;
            };
            let Some(sent_at) = slot.sent_at else {
                continue;
            };
            let due = sent_at + interval;
            if due > now {
                next = Some(next.map_or(due, |next| next.min(due)));
                continue;
            }
            let packet = match &slot.stage {
                Stage::Released { .. } => Packet::PubRel(PubRel::new(id)),
                Stage::Unacked(publish) => {
                    let mut publish = publish.clone();
                    publish.dup = true;
                    Packet::Publish(publish)
                }
            };
            slot.sent_at = Some(now);
            let due = now + interval;
            next = Some(next.map_or(due, |next| next.min(due)));
            self.transmit.send(packet);
        }
        self.retry_at = next;
    }
}
