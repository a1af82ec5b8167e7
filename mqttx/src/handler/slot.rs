//! Where the connection keeps its handler: at hand, or lent to the async
//! work of one event while later events wait their turn.

use std::collections::VecDeque;
use std::task::{Context, Poll};

use bytestring::ByteString;

use super::{contain, AuthResponse, Handled, HandlerContext, HandlerEvent, HandlerTask, MqttHandler};
use super::{Outbox, Subscription, MAX_HANDLER_BACKLOG};
use crate::client::Client;
use crate::packet::{Auth, AuthProperties, QoS, ReasonCode};
use crate::protocol::Ack;

/// The async work of one event, holding the handler.
struct Lent<H> {
    task: HandlerTask<H>,
    /// The Authentication Method to answer with, when the event is AUTH.
    auth_method: Option<Option<ByteString>>,
    /// The acknowledgement to send when the work is done, for a QoS 1/2 message.
    ack: Option<Ack>,
    /// The span the work runs in, entered at every poll.
    span: tracing::Span,
}

/// The connection's handler and the events waiting for it. It lives in the
/// actor struct, so a supervised restart keeps all of it, the work in
/// progress included; only the waker-driven polling must be set up again.
pub(crate) struct Slot<H> {
    /// `None` while lent (or lost to a panic in its async work).
    handler: Option<H>,
    lent: Option<Lent<H>>,
    backlog: VecDeque<HandlerEvent>,
    subscriptions: Option<Vec<Subscription>>,
    type_name: &'static str,
}

/// What the connection passes to a handler call.
pub(crate) struct Io<'a> {
    pub(crate) outbox: &'a mut dyn Outbox,
    pub(crate) client: &'a Client,
}

impl<H: MqttHandler> Slot<H> {
    /// Asks the handler for its subscriptions now, while it is at hand.
    pub(crate) fn new(handler: H) -> Self {
        let type_name = std::any::type_name::<H>();
        let subscriptions = contain(type_name, || handler.subscriptions());
        Slot {
            handler: Some(handler),
            lent: None,
            backlog: VecDeque::new(),
            subscriptions,
            type_name,
        }
    }

    /// The handler's declared subscriptions, the first time only.
    pub(crate) fn take_subscriptions(&mut self) -> Vec<Subscription> {
        self.subscriptions.take().unwrap_or_default()
    }

    /// Whether async work or waiting events need [`poll`](Self::poll).
    pub(crate) fn is_busy(&self) -> bool {
        self.lent.is_some() || !self.backlog.is_empty()
    }

    /// Hands `event` to the handler, or queues it behind the work in progress.
    ///
    /// A QoS 1/2 message is acknowledged only once the handler is done with
    /// it, so the server's flow control (our Receive Maximum) bounds how many
    /// wait here and none is ever dropped; only QoS 0 messages, which the
    /// server may drop too, are dropped beyond [`MAX_HANDLER_BACKLOG`].
    pub(crate) fn deliver(&mut self, event: HandlerEvent, io: Io<'_>) {
        if self.is_busy() {
            if self.backlog.len() >= MAX_HANDLER_BACKLOG && is_qos0_message(&event) {
                io.client.telemetry().dropped_qos0();
                tracing::error!(
                    handler = self.type_name,
                    backlog = self.backlog.len(),
                    "MQTT handler is too far behind; QoS 0 message dropped"
                );
                return;
            }
            self.backlog.push_back(event);
            return;
        }
        self.run(event, io);
    }

    fn run(&mut self, event: HandlerEvent, io: Io<'_>) {
        let Io { outbox, client } = io;
        let ack = match &event {
            HandlerEvent::Message(publish) => Ack::of(publish),
            _ => None,
        };
        let Some(handler) = self.handler.as_mut() else {
            tracing::error!(
                handler = self.type_name,
                "MQTT handler was lost to a panic; event dropped"
            );
            acknowledge(outbox, ack);
            return;
        };
        let mut cx = HandlerContext {
            client,
            outbox: &mut *outbox,
        };
        // What the handler logs names the client and the event. Made only
        // for a subscriber that wants it: with tracing's `log` feature on
        // (actix-web turns it on), even a span nobody records costs a
        // measurable share of a message's handling.
        let span = if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug_span!(
                "mqtt_handler",
                client_id = %client.client_id(),
                handler = self.type_name,
                event = event.kind(),
            )
        } else {
            tracing::Span::none()
        };
        let entered = span.enter();
        let handled = contain(self.type_name, || handler.handle(&event, &mut cx));
        drop(entered);
        match handled {
            // A panic is contained and logged: the message counts as handled.
            None | Some(Handled::Done) => acknowledge(outbox, ack),
            Some(Handled::Auth(answer)) => answer_auth(outbox, &event, answer),
            Some(Handled::Async(token)) => {
                let Some(handler) = self.handler.take() else {
                    return;
                };
                let auth_method = match &event {
                    HandlerEvent::Auth(auth) => Some(auth.properties.authentication_method.clone()),
                    _ => None,
                };
                let type_name = self.type_name;
                let client = client.clone();
                match contain(type_name, || handler.handle_async(token, event, client)) {
                    Some(task) => {
                        self.lent = Some(Lent {
                            task,
                            auth_method,
                            ack,
                            span,
                        })
                    }
                    None => acknowledge(outbox, ack),
                }
            }
        }
    }

    /// Drives the work in progress, then the events that waited for it.
    /// `Ready` once the handler is at hand with nothing waiting.
    pub(crate) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        outbox: &mut dyn Outbox,
        client: &Client,
    ) -> Poll<()> {
        loop {
            if let Some(lent) = self.lent.as_mut() {
                let entered = lent.span.enter();
                let polled = contain(self.type_name, || lent.task.as_mut().poll(cx));
                drop(entered);
                match polled {
                    Some(Poll::Pending) => return Poll::Pending,
                    Some(Poll::Ready((handler, answer))) => {
                        let (auth_method, ack) = self
                            .lent
                            .take()
                            .map_or((None, None), |lent| (lent.auth_method, lent.ack));
                        self.handler = Some(handler);
                        acknowledge(outbox, ack);
                        if let (Some(method), Some(answer)) = (auth_method, answer) {
                            answer_with(outbox, method, answer);
                        }
                    }
                    None => {
                        // The future panicked with the handler inside it.
                        let ack = self.lent.take().and_then(|lent| lent.ack);
                        acknowledge(outbox, ack);
                    }
                }
            }
            let Some(event) = self.backlog.pop_front() else {
                return Poll::Ready(());
            };
            self.run(event, Io { outbox, client });
        }
    }
}

impl<H> Drop for Slot<H> {
    fn drop(&mut self) {
        if self.lent.is_some() || !self.backlog.is_empty() {
            tracing::warn!(
                handler = self.type_name,
                waiting = self.backlog.len(),
                "the connection stopped while its handler was busy; the work in progress and the waiting events are dropped"
            );
        }
    }
}

/// Sends the PUBACK/PUBREC of a message the handler is done with.
fn acknowledge(outbox: &mut dyn Outbox, ack: Option<Ack>) {
    if let Some(ack) = ack {
        outbox.acknowledge(ack);
    }
}

fn is_qos0_message(event: &HandlerEvent) -> bool {
    matches!(event, HandlerEvent::Message(publish) if publish.qos == QoS::AtMostOnce)
}

fn answer_auth(outbox: &mut dyn Outbox, event: &HandlerEvent, answer: AuthResponse) {
    if let HandlerEvent::Auth(auth) = event {
        answer_with(outbox, auth.properties.authentication_method.clone(), answer);
    }
}

/// Sends AUTH (Continue authentication) when the handler has more to say.
/// `method` echoes the AUTH answered, which the state machine only lets
/// through when it names the CONNECT's Authentication Method
/// (`Protocol::on_auth`), and `Protocol::auth` writes the CONNECT's method
/// whatever it is given [MQTT-4.12.0-5].
fn answer_with(outbox: &mut dyn Outbox, method: Option<ByteString>, answer: AuthResponse) {
    if let AuthResponse::Continue(data) = answer {
        let reply = Auth {
            reason_code: ReasonCode::ContinueAuthentication,
            properties: AuthProperties {
                authentication_method: method,
                authentication_data: Some(data),
                ..AuthProperties::default()
            }
            .into(),
        };
        outbox.auth(reply);
    }
}

#[cfg(test)]
mod tests;
