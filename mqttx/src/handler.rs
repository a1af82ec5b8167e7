//! [`MqttHandler`]: what a connection calls when something happens.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use bytestring::ByteString;

use crate::client::Client;
use crate::error::Error;
use crate::packet::{
    AckProperties, Auth, ConnAck, Disconnect, PacketId, Publish, ReasonCode, SubscriptionOptions,
};
use crate::protocol::ProtocolError;

mod outbox;
mod slot;
pub(crate) use outbox::{Discard, Outbox};
pub(crate) use slot::{Io, Slot};

/// Receives a connection's messages and lifecycle events.
///
/// Every method has a default that does nothing, so a handler implements
/// only what it needs. The methods run inside the connection actor, one at
/// a time, in the order the events happened: a handler owns its state
/// without locks. Keep them short; hand long work to another actor or task
/// (with [`HandlerContext::client`] to publish from there), or the
/// keep-alive and every other message on the connection wait. Work that
/// awaits belongs in [`handle_async`](Self::handle_async), which
/// [`#[mqtt_handler]`](crate::mqtt_handler) uses for `async fn` methods.
///
/// A handler that panics is contained: the panic is logged and the
/// connection carries on with the next event.
///
/// `#[mqtt_handler]` writes this implementation from annotated methods; by
/// hand it looks like this:
///
/// ```
/// use mqttx::{ConnAck, DisconnectReason, HandlerContext, MqttHandler, Publish};
///
/// #[derive(Default)]
/// struct Counter { messages: u64 }
///
/// impl MqttHandler for Counter {
///     fn message(&mut self, msg: &Publish, _ctx: &mut HandlerContext<'_>) {
///         self.messages += 1;
///         println!("{}: {:?}", msg.topic, msg.payload);
///     }
///
///     fn connected(&mut self, connack: &ConnAck, _ctx: &mut HandlerContext<'_>) {
///         println!("connected, session present: {}", connack.session_present);
///     }
///
///     fn disconnected(&mut self, reason: &DisconnectReason, _ctx: &mut HandlerContext<'_>) {
///         println!("disconnected: {reason}");
///     }
/// }
/// ```
pub trait MqttHandler: Unpin + 'static {
    /// Subscriptions this handler needs. They are made after the first
    /// successful connect and restored by the client whenever a reconnect
    /// finds the session gone.
    fn subscriptions(&self) -> Vec<Subscription> {
        Vec::new()
    }

    /// An incoming PUBLISH: topic, payload and the whole packet in one.
    fn message(&mut self, msg: &Publish, ctx: &mut HandlerContext<'_>) {
        let _ = (msg, ctx);
    }

    /// A successful CONNACK: its properties, and whether the session was present.
    fn connected(&mut self, connack: &ConnAck, ctx: &mut HandlerContext<'_>) {
        let _ = (connack, ctx);
    }

    /// The connection was lost or closed, or a connect attempt failed.
    fn disconnected(&mut self, reason: &DisconnectReason, ctx: &mut HandlerContext<'_>) {
        let _ = (reason, ctx);
    }

    /// The server answered one of our PUBLISHes with a failure code in
    /// PUBACK or PUBREC (MQTT 5). The caller awaiting that publish gets the
    /// same error.
    fn publish_error(&mut self, error: &PublishError, ctx: &mut HandlerContext<'_>) {
        let _ = (error, ctx);
    }

    /// An MQTT 5 AUTH packet from the server, during enhanced
    /// authentication: answer with more data, or say the exchange is done.
    /// The default answers [`AuthResponse::Done`].
    fn auth(&mut self, auth: &Auth, ctx: &mut HandlerContext<'_>) -> AuthResponse {
        let _ = (auth, ctx);
        AuthResponse::Done
    }

    /// Every event enters here. The default calls the method for the event
    /// ([`message`](Self::message), [`connected`](Self::connected), ..)
    /// and returns [`Handled::Done`] (or [`Handled::Auth`] with the answer
    /// of [`auth`](Self::auth)).
    ///
    /// A handler that wants to finish an event asynchronously returns
    /// [`Handled::Async`] with a token instead: the connection then lends
    /// the handler, by value, to [`handle_async`](Self::handle_async) with
    /// that token and the event, and runs the future it returns. This is
    /// what `#[mqtt_handler]` does for `async fn` methods; see
    /// [`handle_async`](Self::handle_async) for what the connection
    /// promises meanwhile.
    fn handle(&mut self, event: &HandlerEvent, ctx: &mut HandlerContext<'_>) -> Handled {
        match event {
            HandlerEvent::Message(msg) => self.message(msg, ctx),
            HandlerEvent::Connected(connack) => self.connected(connack, ctx),
            HandlerEvent::Disconnected(reason) => self.disconnected(reason, ctx),
            HandlerEvent::PublishError(error) => self.publish_error(error, ctx),
            HandlerEvent::Auth(auth) => return Handled::Auth(self.auth(auth, ctx)),
        }
        Handled::Done
    }

    /// Finishes an event asynchronously, owning the handler meanwhile; the
    /// future gives the handler back, with the answer when the event is an
    /// AUTH challenge. Called with the token [`handle`](Self::handle)
    /// returned in [`Handled::Async`].
    ///
    /// While the future runs, the connection goes on reading, writing and
    /// keeping the connection alive; events that arrive meanwhile wait, in
    /// order, and reach the handler after the future completes. The
    /// future lives in the connection actor itself, not on its context, so
    /// it survives a supervised restart of the actor and carries on; a
    /// stop waits for it (and the waiting events) up to 5 seconds. A QoS 1
    /// or 2 message is acknowledged (PUBACK / PUBREC) only once the handler
    /// is done with it, so the broker's flow control bounds how many wait
    /// and none is lost; QoS 0 messages beyond [`MAX_HANDLER_BACKLOG`]
    /// waiting are logged and dropped.
    ///
    /// A future that panics takes the handler with it: the panic is
    /// logged and later events are dropped. (`#[mqtt_handler]` contains
    /// panics inside each method, so its handlers carry on.)
    ///
    /// The default gives the handler back at once.
    fn handle_async(self, token: u32, event: HandlerEvent, client: Client) -> HandlerTask<Self>
    where
        Self: Sized,
    {
        let _ = (token, event, client);
        Box::pin(std::future::ready((self, None)))
    }
}

/// How many events may wait for a handler that is busy with asynchronous
/// work before further QoS 0 messages are logged and dropped. QoS 1/2
/// messages are never dropped: they are not acknowledged until handled, so
/// the broker stops sending more once our Receive Maximum is reached.
pub const MAX_HANDLER_BACKLOG: usize = 10_000;

/// An event for [`MqttHandler::handle`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HandlerEvent {
    /// An incoming PUBLISH.
    Message(Publish),
    /// A successful CONNACK.
    Connected(ConnAck),
    /// The connection went down.
    Disconnected(DisconnectReason),
    /// A failure code for one of our publishes.
    PublishError(PublishError),
    /// An AUTH challenge from the server.
    Auth(Auth),
}

impl HandlerEvent {
    /// The event's name, for logs.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            HandlerEvent::Message(_) => "message",
            HandlerEvent::Connected(_) => "connected",
            HandlerEvent::Disconnected(_) => "disconnected",
            HandlerEvent::PublishError(_) => "publish_error",
            HandlerEvent::Auth(_) => "auth",
        }
    }
}

/// What [`MqttHandler::handle`] did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// The event is dealt with.
    Done,
    /// The answer to an AUTH challenge.
    Auth(AuthResponse),
    /// Finish it in [`MqttHandler::handle_async`], with this token.
    Async(u32),
}

/// The future of [`MqttHandler::handle_async`]: it owns the handler and
/// gives it back, with the answer to an AUTH challenge if the event was one.
pub type HandlerTask<H> = Pin<Box<dyn Future<Output = (H, Option<AuthResponse>)>>>;

/// The handler that ignores every event.
impl MqttHandler for () {}

/// A subscription a handler declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The topic filter.
    pub filter: ByteString,
    /// QoS and the MQTT 5 subscription options.
    pub options: SubscriptionOptions,
    /// The MQTT 5 Subscription Identifier (1 to 268,435,455) the server
    /// adds to every message this subscription delivers. Subscriptions
    /// with different identifiers are made with one SUBSCRIBE each; the
    /// identifier is left out on MQTT 3.1.1 and when the server says it
    /// does not support them.
    pub identifier: Option<u32>,
}

impl Subscription {
    /// A subscription to `filter` with `options` and no identifier.
    pub fn new(filter: impl Into<ByteString>, options: SubscriptionOptions) -> Self {
        Subscription {
            filter: filter.into(),
            options,
            identifier: None,
        }
    }

    /// Sets the Subscription Identifier.
    pub fn identifier(mut self, identifier: u32) -> Self {
        self.identifier = Some(identifier);
        self
    }
}

/// Why a connection went down.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server sent DISCONNECT (MQTT 5); see its reason code and
    /// Server Reference.
    Server(Disconnect),
    /// The transport failed or the server closed it.
    Transport(Error),
    /// No PINGRESP (or no CONNACK) in time: the server stopped answering.
    Timeout,
    /// The server broke the protocol or sent a malformed packet.
    Protocol(Error),
    /// A connect attempt was refused, or failed, and the client stops.
    ConnectFailed(Error),
    /// [`Client::disconnect`] was called.
    Client,
    /// The connection actor itself panicked. Under a supervisor
    /// ([`Client::connect_supervised`]) it restarts, keeping this handler and
    /// the session, and reconnects; otherwise it stops.
    Crashed {
        /// The panic message.
        message: String,
        /// Whether a supervisor restarts the connection.
        restarting: bool,
    },
}

impl DisconnectReason {
    /// The reason code of a server DISCONNECT.
    pub fn reason_code(&self) -> Option<ReasonCode> {
        match self {
            DisconnectReason::Server(d) => Some(d.reason_code),
            _ => None,
        }
    }

    /// The Server Reference of a server DISCONNECT (another server to use).
    pub fn server_reference(&self) -> Option<&str> {
        match self {
            DisconnectReason::Server(d) => d.properties.server_reference.as_deref(),
            DisconnectReason::ConnectFailed(Error::ConnectRejected { server_reference, .. }) => {
                server_reference.as_deref()
            }
            _ => None,
        }
    }

    /// Whether the client will reconnect by itself.
    pub fn will_reconnect(&self) -> bool {
        match self {
            DisconnectReason::Client | DisconnectReason::ConnectFailed(_) => false,
            DisconnectReason::Crashed { restarting, .. } => *restarting,
            _ => true,
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DisconnectReason::Server(d) => {
                write!(f, "server sent DISCONNECT: {}", d.reason_code)?;
                if let Some(reason) = &d.properties.reason_string {
                    write!(f, " ({reason})")?;
                }
                if let Some(reference) = &d.properties.server_reference {
                    write!(f, ", use server {reference}")?;
                }
                Ok(())
            }
            DisconnectReason::Transport(e) => write!(f, "{e}"),
            DisconnectReason::Timeout => f.write_str("the server stopped answering (keep-alive timeout)"),
            DisconnectReason::Protocol(e) => write!(f, "{e}"),
            DisconnectReason::ConnectFailed(e) => write!(f, "connect failed: {e}"),
            DisconnectReason::Client => f.write_str("disconnected by the client"),
            DisconnectReason::Crashed { message, restarting } => {
                write!(f, "the connection panicked ({message})")?;
                f.write_str(if *restarting { "; restarting" } else { "; stopped" })
            }
        }
    }
}

impl From<ProtocolError> for DisconnectReason {
    fn from(err: ProtocolError) -> Self {
        DisconnectReason::Protocol(Error::Protocol(err))
    }
}

/// A failure code in PUBACK or PUBREC for one of our publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishError {
    /// The packet identifier of the refused PUBLISH.
    pub packet_id: PacketId,
    /// The failure code.
    pub reason_code: ReasonCode,
    /// Reason String and User Properties from the acknowledgement.
    pub properties: AckProperties,
}

pub use crate::auth::AuthResponse;

/// What a handler can reach while it runs.
pub struct HandlerContext<'a> {
    pub(crate) client: &'a Client,
    pub(crate) outbox: &'a mut dyn Outbox,
}

impl<'a> HandlerContext<'a> {
    /// Publishes without waiting for the outcome: the message goes out
    /// right after the handler returns, in the same write as everything
    /// else ready, ahead of anything published later. A failure is logged.
    /// Use [`client`](Self::client) instead to learn the outcome.
    pub fn publish(&mut self, publish: Publish) {
        self.outbox.publish(publish);
    }

    /// A handle to this connection, for publishing and subscribing. Its
    /// futures complete only after the handler returns, so spawn them
    /// (`actix::spawn(client.publish(..).into_future())`) rather than block.
    pub fn client(&self) -> &'a Client {
        self.client
    }

    /// Answers a request (MQTT 5 request/response): publishes `payload`
    /// at QoS 1 to the request's Response Topic with its Correlation Data,
    /// like [`publish`](Self::publish). Returns `false`, sending nothing,
    /// when the request has no Response Topic.
    pub fn respond(&mut self, request: &Publish, payload: impl Into<Bytes>) -> bool {
        let Some(topic) = request.properties.response_topic.clone() else {
            return false;
        };
        let mut response = Publish::new(topic, payload).qos(crate::packet::QoS::AtLeastOnce);
        if let Some(data) = &request.properties.correlation_data {
            // Only then: setting a property allocates the response's properties.
            response.properties.correlation_data = Some(data.clone());
        }
        self.publish(response);
        true
    }
}

/// Runs a handler callback, containing a panic so the connection survives.
pub(crate) fn contain<R>(event: &'static str, f: impl FnOnce() -> R) -> Option<R> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(value) => Some(value),
        Err(panic) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(event, %message, "MQTT handler panicked; the connection carries on");
            None
        }
    }
}

/// The message a panic was raised with.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}
