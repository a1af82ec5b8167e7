//! What the connection does with each event of the state machine: the
//! callers waiting for a command get their answer, the handler its events,
//! the lifecycle its transitions.

use std::time::Instant;

use actix::Context;

use super::lifecycle::Lifecycle;
use super::Connection;
use crate::client::{ConnectionState, FilterReply, Reply};
use crate::error::Error;
use crate::handler::{DisconnectReason, HandlerEvent, MqttHandler, PublishError};
use crate::packet::{Publish, QoS};
use crate::packet::{ReasonCode, SubAck, SubscribeProperties, UnsubAck};
use crate::protocol::{Ack, Event};

impl<H: MqttHandler> Connection<H> {
    pub(super) fn on_event(&mut self, event: Event<Reply>, ctx: &mut Context<Self>) {
        match event {
            Event::Connected {
                connack,
                session_present,
            } => {
                self.client.assigned(&self.protocol.config().client_id);
                tracing::info!(client_id = %self.client.client_id(), session_present, "MQTT connected");
                if let Lifecycle::Handshake(_) = self.lifecycle {
                    if let Some(link) = self.lifecycle.take_link() {
                        self.lifecycle = Lifecycle::Connected(link);
                    }
                }
                self.reconnect.attempt = 0;
                self.client.telemetry().set_state(ConnectionState::Connected);
                self.requests.connected(&connack);
                self.streams.identified(
                    self.protocol.config().version == crate::packet::ProtocolVersion::V5
                        && connack.properties.subscription_identifiers_available != Some(false),
                );
                self.reconnect.answer_first(Ok(connack.clone()));
                if !self.handler_subscribed {
                    self.handler_subscribed = true;
                    self.subscribe_handler_routes(&connack);
                }
                self.deliver(HandlerEvent::Connected(connack), ctx);
            }
            Event::ConnectRejected(mut connack) => {
                let properties = connack.properties.take();
                let err = Error::ConnectRejected {
                    reason_code: connack.reason_code,
                    reason_string: properties.reason_string,
                    server_reference: properties.server_reference,
                };
                self.drop_link(ctx);
                self.protocol.connection_lost(Instant::now());
                self.attempt_failed(err, ctx);
            }
            Event::VersionFallback => self.fall_back(ctx),
            Event::Message(publish) => match self
                .requests
                .answer(self.client.telemetry().received_one(publish))
            {
                // A call's response: the call has it, the handler never sees it.
                Ok(ack) => {
                    if let Some(ack) = ack {
                        self.protocol.acknowledge(ack);
                    }
                }
                Err(publish) => self.dispatch(publish, ctx),
            },
            Event::PublishDone {
                tag: Reply::Call(correlation),
                result,
            } => {
                if let Err(err) = result {
                    self.requests.fail(&correlation, err);
                }
            }
            Event::PublishDone { tag, result } => answer_publish(tag, result),
            Event::SubscribeDone { tag, result } => answer_subscribe(tag, result),
            Event::UnsubscribeDone { tag, result } => answer_unsubscribe(tag, result),
            Event::PublishFailed {
                packet_id,
                reason_code,
                properties,
            } => {
                let error = PublishError {
                    packet_id,
                    reason_code,
                    properties,
                };
                self.deliver(HandlerEvent::PublishError(error), ctx);
            }
            Event::ServerDisconnect(disconnect) => {
                self.link_lost(DisconnectReason::Server(disconnect), ctx);
            }
            Event::AuthChallenge(auth) => self.deliver(HandlerEvent::Auth(auth), ctx),
            Event::AuthFailed(err) => self.refuse_server(Error::Auth(err), ctx),
            Event::ReauthenticateDone { tag, result } => tag.answer_reauthenticate(result),
            Event::Timeout(kind) => {
                tracing::warn!(client_id = %self.client.client_id(), ?kind, "MQTT server stopped answering");
                self.link_lost(DisconnectReason::Timeout, ctx);
            }
        }
    }

    /// A message to the message streams it is for and to the handler; its
    /// acknowledgement waits for every one of them.
    fn dispatch(&mut self, publish: Publish, ctx: &mut Context<Self>) {
        if self.streams.is_empty() {
            return self.deliver(HandlerEvent::Message(publish), ctx);
        }
        let ack = Ack::of(&publish);
        let offer = self.streams.offer(&publish, ack);
        for _ in 0..offer.dropped {
            self.client.telemetry().dropped_qos0();
        }
        if let Some(ack) = ack {
            match offer.streams.saturating_add(u16::from(offer.handler)) {
                0 => self.protocol.acknowledge(ack),
                consumers => self.protocol.share_ack(ack, consumers - 1),
            }
        }
        if self.streams.is_full() {
            self.io.gate.shut();
        }
        if offer.handler {
            self.deliver(HandlerEvent::Message(publish), ctx);
        }
    }

    /// The handler's declared subscriptions, once; the state machine
    /// restores them after a reconnect that lost the session. One SUBSCRIBE
    /// per run of equal Subscription Identifiers (MQTT 5, when the server
    /// supports them; otherwise one for all, without identifiers).
    fn subscribe_handler_routes(&mut self, connack: &crate::packet::ConnAck) {
        let identifiers = self.protocol.config().version == crate::packet::ProtocolVersion::V5
            && connack.properties.subscription_identifiers_available != Some(false);
        let mut runs: Vec<(Option<u32>, Vec<_>)> = Vec::new();
        for subscription in self.handler.take_subscriptions() {
            let identifier = subscription.identifier.filter(|_| identifiers);
            self.streams
                .handler_subscribed(subscription.filter.clone(), identifier);
            let filter = (subscription.filter, subscription.options);
            match runs.last_mut() {
                Some((last, filters)) if *last == identifier => filters.push(filter),
                _ => runs.push((identifier, vec![filter])),
            }
        }
        for (identifier, filters) in runs {
            let properties = SubscribeProperties {
                subscription_identifier: identifier,
                ..SubscribeProperties::default()
            };
            self.protocol
                .subscribe(filters, properties, Reply::Detached, Instant::now());
        }
    }
}

/// Answers a command's waiter once the actor is stopping.
pub(super) fn answer_orphan(event: Event<Reply>) {
    match event {
        Event::PublishDone { tag, result } => answer_publish(tag, result),
        Event::SubscribeDone { tag, result } => answer_subscribe(tag, result),
        Event::UnsubscribeDone { tag, result } => answer_unsubscribe(tag, result),
        Event::ReauthenticateDone { tag, result } => tag.answer_reauthenticate(result),
        _ => {}
    }
}

fn answer_publish(tag: Reply, result: Result<ReasonCode, Error>) {
    tag.answer_publish(result.map(|_| ()));
}

fn answer_subscribe(tag: Reply, result: Result<SubAck, Error>) {
    match tag {
        Reply::Subscribe(pending) => {
            let FilterReply { filter, tx } = *pending;
            let granted = result.and_then(|suback| {
                let code = suback
                    .reason_codes
                    .first()
                    .copied()
                    .unwrap_or(ReasonCode::UnspecifiedError);
                match code {
                    ReasonCode::Success => Ok(QoS::AtMostOnce),
                    ReasonCode::GrantedQoS1 => Ok(QoS::AtLeastOnce),
                    ReasonCode::GrantedQoS2 => Ok(QoS::ExactlyOnce),
                    reason_code => Err(Error::SubscribeRejected { filter, reason_code }),
                }
            });
            let _ = tx.send(granted.map_err(Box::new));
        }
        Reply::Detached => match result {
            Ok(suback) => {
                for code in suback.reason_codes.iter().filter(|code| code.is_error()) {
                    tracing::error!(%code, "the server refused a subscription of the handler or of a response topic");
                }
            }
            Err(err) => tracing::error!(%err, "a subscription of the handler or of a response topic failed"),
        },
        Reply::Publish(_)
        | Reply::Request(_)
        | Reply::Call(_)
        | Reply::Unsubscribe(..)
        | Reply::Reauthenticate(_) => {}
    }
}

fn answer_unsubscribe(tag: Reply, result: Result<UnsubAck, Error>) {
    if let Reply::Unsubscribe(pending) = tag {
        let FilterReply { filter, tx } = *pending;
        let outcome = result.and_then(|unsuback| {
            match unsuback
                .reason_codes
                .first()
                .copied()
                .filter(|code| code.is_error())
            {
                Some(reason_code) => Err(Error::UnsubscribeRejected { filter, reason_code }),
                None => Ok(()),
            }
        });
        let _ = tx.send(outcome.map_err(Box::new));
    }
}
