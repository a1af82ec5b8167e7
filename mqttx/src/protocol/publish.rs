//! Publishing: taking a publish command, and the pump that moves queued
//! publishes into the window.

use std::time::Instant;

use crate::packet::topic::valid_topic_name;
use crate::packet::{Packet, Publish, QoS, ReasonCode};

use super::outgoing::Queued;
use super::persist::{SessionChange, StoredPublish};
use super::protocol::State;
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
                self.transmit.send_qos0(publish, tag);
            } else {
                self.publish_done(tag, Err(CommandError::NotConnected));
            }
            return;
        }
        let goes_straight_out =
            connected && self.outgoing.queued() == 0 && self.outgoing.on_wire() < self.window();
        if !goes_straight_out && self.queued() >= self.config.max_queued {
            self.publish_done(tag, Err(CommandError::QueueFull));
            return;
        }
        let checked = if connected { self.generation } else { 0 };
        self.outgoing.enqueue(Queued::new(publish, tag, checked));
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
        if let Some(properties) = publish.properties.get_mut() {
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
    fn check_publish(&self, publish: &mut Publish) -> Result<(), CommandError> {
        self.limits
            .check_publish(publish, self.config.version, self.aliases_out.enabled())
    }

    pub(super) fn publish_done(&mut self, tag: T, result: Result<ReasonCode, CommandError>) {
        self.events.push_back(Event::PublishDone { tag, result });
    }

    /// Moves publishes into the window while it has room: first those
    /// awaiting a resend after reconnect, then the queue, in order. Also
    /// sends SUBSCRIBE/UNSUBSCRIBE that waited for a free packet id.
    pub(super) fn pump(&mut self, now: Instant) {
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
            self.journal(|| {
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
}
