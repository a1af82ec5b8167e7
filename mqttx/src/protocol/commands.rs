//! Commands from the user: publish, subscribe, unsubscribe, disconnect,
//! auth; and the pump that moves queued publishes into the window.

use std::time::Instant;

use crate::packet::topic::{valid_topic_filter, valid_topic_name};
use crate::packet::{
    encoded_len, Auth, ByteString, Disconnect, Packet, Publish, QoS, Subscribe, SubscribeProperties,
    SubscriptionOptions, Unsubscribe, UnsubscribeProperties,
};

use super::outgoing::Queued;
use super::protocol::{Outbound, State};
use super::subscriptions::Control;
use super::{CommandError, Event, Protocol};

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
                self.transmit.push_back(Outbound::Qos0(publish, tag));
            } else {
                self.publish_done(tag, Err(CommandError::NotConnected));
            }
            return;
        }
        let goes_straight_out =
            connected && self.outgoing.queue.is_empty() && self.outgoing.on_wire() < self.window();
        if !goes_straight_out && self.queued() >= self.config.max_queued {
            self.publish_done(tag, Err(CommandError::QueueFull));
            return;
        }
        self.outgoing.queue.push_back(Queued {
            publish,
            tag,
            checked: if connected { self.generation } else { 0 },
        });
        self.pump(now);
    }

    fn accept_publish(&mut self, publish: &mut Publish) -> Result<(), CommandError> {
        if self.state == State::Closed {
            return Err(CommandError::Closed);
        }
        if !valid_topic_name(&publish.topic) {
            return Err(CommandError::InvalidTopic);
        }
        publish.dup = false;
        publish.packet_id = None;
        publish.properties.topic_alias = None;
        // A client must not send Subscription Identifiers [MQTT-3.3.4-6].
        publish.properties.subscription_identifiers.clear();
        if self.state == State::Connected {
            self.check_publish(publish)?;
        }
        Ok(())
    }

    /// Checks against the limits of the current connection.
    fn check_publish(&self, publish: &mut Publish) -> Result<(), CommandError> {
        self.limits
            .check_publish(publish, self.config.version, self.aliases_out.enabled())
    }

    fn publish_done(&mut self, tag: T, result: Result<crate::packet::ReasonCode, CommandError>) {
        self.events.push_back(Event::PublishDone { tag, result });
    }

    /// Moves publishes into the window while it has room: first those
    /// awaiting a resend after reconnect, then the queue, in order. Also
    /// sends SUBSCRIBE/UNSUBSCRIBE that waited for a free packet id.
    pub(crate) fn pump(&mut self, now: Instant) {
        if self.state != State::Connected {
            return;
        }
        if !self.subscriptions.queue.is_empty() {
            self.send_queued_controls(now);
        }
        let window = self.window();
        while self.outgoing.on_wire() < window {
            if let Some(id) = self.outgoing.resend.pop_front() {
                self.resend_one(id, now);
                continue;
            }
            let Some(mut queued) = self.outgoing.queue.pop_front() else {
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
                self.outgoing.queue.push_front(queued);
                break;
            };
            queued.publish.packet_id = Some(id);
            let wire = queued.publish.clone();
            self.outgoing.insert(id, queued.publish, queued.tag, now);
            self.transmit.push_back(Outbound::Packet(Packet::Publish(wire)));
        }
        self.arm_retry(now);
    }

    fn resend_one(&mut self, id: crate::packet::PacketId, now: Instant) {
        let Some(slot) = self.outgoing.inflight.get_mut(&id) else {
            return;
        };
        if let super::outgoing::Stage::Unacked(publish) = &slot.stage {
            let mut publish = publish.clone();
            publish.dup = true;
            slot.sent_at = Some(now);
            self.transmit
                .push_back(Outbound::Packet(Packet::Publish(publish)));
        }
    }

    /// Subscribes to `filters`. Completes through one
    /// [`Event::SubscribeDone`]: on SUBACK (whatever its codes), or right
    /// away for a local refusal. While offline it waits for the connection.
    pub fn subscribe(
        &mut self,
        filters: Vec<(ByteString, SubscriptionOptions)>,
        properties: SubscribeProperties,
        tag: T,
        now: Instant,
    ) {
        let valid = !filters.is_empty() && filters.iter().all(|(filter, _)| valid_topic_filter(filter));
        let control = Control::Subscribe {
            filters,
            properties,
            tag: Some(tag),
        };
        self.control(control, valid, now);
    }

    /// Unsubscribes from `filters`. Completes through one
    /// [`Event::UnsubscribeDone`], like [`subscribe`](Self::subscribe).
    pub fn unsubscribe(
        &mut self,
        filters: Vec<ByteString>,
        properties: UnsubscribeProperties,
        tag: T,
        now: Instant,
    ) {
        let valid = !filters.is_empty() && filters.iter().all(|filter| valid_topic_filter(filter));
        let control = Control::Unsubscribe {
            filters,
            properties,
            tag: Some(tag),
        };
        self.control(control, valid, now);
    }

    fn control(&mut self, control: Control<T>, valid: bool, now: Instant) {
        let refusal = if self.state == State::Closed {
            Some(CommandError::Closed)
        } else if !valid {
            Some(CommandError::InvalidTopic)
        } else if self.state != State::Connected && self.queued() >= self.config.max_queued {
            Some(CommandError::QueueFull)
        } else {
            None
        };
        if let Some(error) = refusal {
            self.events.extend(control.fail(error));
        } else if self.state == State::Connected {
            self.send_control(control, now);
        } else {
            self.subscriptions.queue.push_back(control);
        }
    }

    /// Writes a SUBSCRIBE/UNSUBSCRIBE now: these never wait for the
    /// publish window [MQTT-3.3.4-8].
    fn send_control(&mut self, control: Control<T>, now: Instant) {
        let _ = now;
        let Some(id) = self.ids.alloc() else {
            self.subscriptions.queue.push_front(control);
            return;
        };
        let packet = match &control {
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
        };
        let size = encoded_len(&packet, self.config.version).map_err(CommandError::Encode);
        if let Err(error) = size.and_then(|size| self.limits.check_size(size)) {
            self.ids.release(id);
            self.events.extend(control.fail(error));
            return;
        }
        self.subscriptions.sent(id, control);
        self.transmit.push_back(Outbound::Packet(packet));
    }

    /// Sends what waited for the connection.
    pub(crate) fn send_queued_controls(&mut self, now: Instant) {
        let mut waiting = std::mem::take(&mut self.subscriptions.queue);
        while let Some(control) = waiting.pop_front() {
            self.send_control(control, now);
            if !self.subscriptions.queue.is_empty() {
                // Out of packet ids: keep the rest, in order, for later.
                self.subscriptions.queue.extend(waiting.drain(..));
                break;
            }
        }
    }

    /// Queues DISCONNECT (when a transport is up) and shuts the session
    /// down: every pending command fails with [`CommandError::Closed`].
    /// On MQTT 3.1.1 the DISCONNECT carries no reason or properties.
    pub fn disconnect(&mut self, disconnect: Disconnect, now: Instant) {
        let _ = now;
        if self.transport_up() {
            let disconnect = if self.is_v5() {
                disconnect
            } else {
                Disconnect::default()
            };
            self.transmit
                .push_back(Outbound::Packet(Packet::Disconnect(disconnect)));
        }
        for id in self.outgoing.in_send_order() {
            if let Some(slot) = self.outgoing.remove(id) {
                self.ids.release(id);
                self.publish_done(slot.tag, Err(CommandError::Closed));
            }
        }
        for queued in std::mem::take(&mut self.outgoing.queue) {
            self.publish_done(queued.tag, Err(CommandError::Closed));
        }
        let mut pending: Vec<_> = self.subscriptions.pending.drain().collect();
        pending.sort_unstable_by_key(|(_, (seq, _))| *seq);
        for (id, (_, control)) in pending {
            self.ids.release(id);
            self.events.extend(control.fail(CommandError::Closed));
        }
        for control in std::mem::take(&mut self.subscriptions.queue) {
            self.events.extend(control.fail(CommandError::Closed));
        }
        self.incoming.clear();
        self.state = State::Closed;
        self.connack_deadline = None;
        self.retry_at = None;
        self.keep_alive.stop();
    }

    /// Queues an AUTH: the answer to an [`Event::AuthChallenge`], or a
    /// client-initiated re-authentication (Re-authenticate). MQTT 5 only:
    /// ignored on 3.1.1 or without a transport.
    pub fn auth(&mut self, auth: Auth, now: Instant) {
        let _ = now;
        if self.is_v5() && self.transport_up() {
            self.transmit.push_back(Outbound::Packet(Packet::Auth(auth)));
        } else {
            tracing::debug!("AUTH dropped: MQTT 3.1.1 or no connection");
        }
    }
}
