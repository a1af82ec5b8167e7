//! SUBSCRIBE and UNSUBSCRIBE commands: validated, queued while offline or
//! out of packet ids, written without waiting for the publish window, and
//! completed by their SUBACK/UNSUBACK.

use std::time::Instant;

use crate::packet::topic::valid_topic_filter;
use crate::packet::{
    encoded_len, ByteString, Packet, SubAck, SubscribeProperties, SubscriptionOptions, UnsubAck,
    UnsubscribeProperties,
};

use super::protocol::State;
use super::subscriptions::Control;
use super::{Event, Protocol, ProtocolError};
use crate::error::Error;

impl<T> Protocol<T> {
    /// Subscribes to `filters`. Completes through one
    /// [`Event::SubscribeDone`](super::Event::SubscribeDone): on SUBACK (whatever its codes), or right
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
    /// [`Event::UnsubscribeDone`](super::Event::UnsubscribeDone), like [`subscribe`](Self::subscribe).
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
            Some(Error::Closed)
        } else if !valid {
            Some(Error::InvalidTopic)
        } else if self.state != State::Connected && self.queued() >= self.config.max_queued {
            Some(Error::QueueFull)
        } else {
            None
        };
        if let Some(error) = refusal {
            self.events.extend(control.fail(error));
        } else if self.state == State::Connected {
            self.send_control(control, now);
        } else {
            self.subscriptions.wait(control);
        }
    }

    /// Writes a SUBSCRIBE/UNSUBSCRIBE now: these never wait for the
    /// publish window [MQTT-3.3.4-8]. Out of packet ids, the command waits
    /// first in line and this returns `false`.
    fn send_control(&mut self, control: Control<T>, now: Instant) -> bool {
        let _ = now;
        let Some(id) = self.ids.alloc() else {
            self.subscriptions.wait_first(control);
            return false;
        };
        let mut packet = control.packet(id);
        if let (Packet::Subscribe(subscribe), false) = (&mut packet, self.limits.subscription_identifiers()) {
            // Not for a server that said it has none (Subscription
            // Identifiers Available 0, section 3.2.2.3.12): it would be a
            // protocol error. Kept for the next server; sent without.
            subscribe.properties.subscription_identifier = None;
        }
        let size = encoded_len(&packet, self.config.version).map_err(Error::Encode);
        if let Err(error) = size.and_then(|size| self.limits.check_size(size)) {
            self.ids.release(id);
            self.events.extend(control.fail(error));
            return true;
        }
        self.subscriptions.sent(id, control);
        self.transmit.send(packet);
        true
    }

    /// Sends what waited for the connection or for a packet id, in order,
    /// until the ids run out again.
    pub(super) fn send_queued_controls(&mut self, now: Instant) {
        while let Some(control) = self.subscriptions.next_waiting() {
            if !self.send_control(control, now) {
                break;
            }
        }
    }

    pub(super) fn on_suback(&mut self, suback: SubAck, now: Instant) -> Result<(), ProtocolError> {
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
        self.send_waiting(now);
        Ok(())
    }

    pub(super) fn on_unsuback(&mut self, unsuback: UnsubAck, now: Instant) -> Result<(), ProtocolError> {
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
        self.send_waiting(now);
        Ok(())
    }
}
