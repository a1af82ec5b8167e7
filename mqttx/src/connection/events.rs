//! What the connection does with each event of the state machine.

use std::time::Instant;

use actix::Context;

use super::{Connection, Phase, Reply};
use crate::handler::{AuthResponse, DisconnectReason, MqttHandler, PublishError};
use crate::packet::{Auth, AuthProperties, ReasonCode, SubAck, SubscribeProperties, UnsubAck};
use crate::protocol::{CommandError, Event};
use crate::{Error, QoS};

impl<H: MqttHandler> Connection<H> {
    pub(super) fn on_event(&mut self, event: Event<Reply>, ctx: &mut Context<Self>) {
        match event {
            Event::Connected {
                connack,
                session_present,
            } => {
                tracing::info!(client_id = %self.client_id, session_present, "MQTT connected");
                self.phase = Phase::Connected;
                self.attempt = 0;
                if let Some(first) = self.first_connect.take() {
                    let _ = first.reply.send(Ok(connack.clone()));
                }
                if !self.handler_subscribed {
                    self.handler_subscribed = true;
                    self.subscribe_handler_routes();
                }
                self.call_handler(|handler, cx| handler.connected(&connack, cx));
            }
            Event::ConnectRejected(connack) => {
                let err = Error::ConnectRejected {
                    reason_code: connack.reason_code,
                    reason_string: connack.properties.reason_string,
                    server_reference: connack.properties.server_reference,
                };
                self.drop_link(ctx);
                self.protocol.connection_lost(Instant::now());
                self.attempt_failed(err, ctx);
            }
            Event::Message(publish) => {
                self.call_handler(|handler, cx| handler.message(&publish, cx));
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
                self.call_handler(|handler, cx| handler.publish_error(&error, cx));
            }
            Event::ServerDisconnect(disconnect) => {
                self.link_lost(DisconnectReason::Server(disconnect), ctx);
            }
            Event::AuthChallenge(auth) => {
                let method = auth.properties.authentication_method.clone();
                let answer = self.call_handler(|handler, cx| handler.auth(&auth, cx));
                if let Some(AuthResponse::Continue(data)) = answer {
                    let reply = Auth {
                        reason_code: ReasonCode::ContinueAuthentication,
                        properties: AuthProperties {
                            authentication_method: method,
                            authentication_data: Some(data),
                            ..AuthProperties::default()
                        },
                    };
                    self.protocol.auth(reply, Instant::now());
                }
            }
            Event::Timeout(kind) => {
                tracing::warn!(client_id = %self.client_id, ?kind, "MQTT server stopped answering");
                self.link_lost(DisconnectReason::Timeout, ctx);
            }
        }
    }

    /// The handler's declared subscriptions, once; the state machine
    /// restores them after a reconnect that lost the session.
    fn subscribe_handler_routes(&mut self) {
        let Some(subscriptions) = self.call_handler(|handler, _| handler.subscriptions()) else {
            return;
        };
        if subscriptions.is_empty() {
            return;
        }
        let filters = subscriptions.into_iter().map(|s| (s.filter, s.options)).collect();
        self.protocol.subscribe(
            filters,
            SubscribeProperties::default(),
            Reply::Detached,
            Instant::now(),
        );
    }
}

/// Answers a command's waiter once the actor is stopping.
pub(super) fn answer_orphan(event: Event<Reply>) {
    match event {
        Event::PublishDone { tag, result } => answer_publish(tag, result),
        Event::SubscribeDone { tag, result } => answer_subscribe(tag, result),
        Event::UnsubscribeDone { tag, result } => answer_unsubscribe(tag, result),
        _ => {}
    }
}

fn answer_publish(tag: Reply, result: Result<ReasonCode, CommandError>) {
    let result = result.map(|_| ()).map_err(Error::from);
    match tag {
        Reply::Publish(tx) => {
            let _ = tx.send(result);
        }
        Reply::Detached => {
            if let Err(err) = result {
                tracing::warn!(%err, "publish from a handler failed");
            }
        }
        Reply::Subscribe(..) | Reply::Unsubscribe(..) => {}
    }
}

fn answer_subscribe(tag: Reply, result: Result<SubAck, CommandError>) {
    match tag {
        Reply::Subscribe(filter, tx) => {
            let granted = result.map_err(Error::from).and_then(|suback| {
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
            let _ = tx.send(granted);
        }
        Reply::Detached => match result {
            Ok(suback) => {
                for code in suback.reason_codes.iter().filter(|code| code.is_error()) {
                    tracing::error!(%code, "the server refused a handler subscription");
                }
            }
            Err(err) => tracing::error!(%err, "a handler subscription failed"),
        },
        Reply::Publish(_) | Reply::Unsubscribe(..) => {}
    }
}

fn answer_unsubscribe(tag: Reply, result: Result<UnsubAck, CommandError>) {
    if let Reply::Unsubscribe(filter, tx) = tag {
        let outcome = result.map_err(Error::from).and_then(|unsuback| {
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
        let _ = tx.send(outcome);
    }
}
