//! [`Client`]: the cloneable handle to one broker connection.

mod call;
mod command;
mod messages;
mod publish;
mod queue;
mod request;
mod response;
mod setters;
mod stream;
mod subscribe;
mod telemetry;

use std::future::Future;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use bytestring::ByteString;

pub use call::{CallBuilder, DEFAULT_CALL_TIMEOUT};
pub(crate) use command::{CallCommand, Command, FilterReply, Reply, RequestReply};
pub use messages::{
    CallMessage, ClientRequest, DisconnectRequest, PublishRequest, ReauthenticateRequest, RequestMessage,
    SubscribeRequest, UnsubscribeRequest,
};
pub(crate) use messages::{IntoCommand, Recipients};
pub use publish::PublishBuilder;
pub(crate) use queue::{queue, CommandReceiver, CommandSender};
pub use request::RequestBuilder;
pub(crate) use response::Answer;
pub use response::Response;
pub(crate) use stream::{Delivery, OpenStream, STREAM_IDENTIFIERS};
pub use stream::{MessageStream, StreamBuilder, DEFAULT_STREAM_BUFFER};
pub use subscribe::{SubscribeBuilder, UnsubscribeBuilder};
pub(crate) use telemetry::Telemetry;
pub use telemetry::{ClientStats, ConnectionState};

use crate::error::Error;
use crate::packet::{Disconnect, QoS};

/// A handle to one MQTT connection: cheap to clone, `Send`, usable from any
/// task or actor in the actix System.
///
/// Every request crosses one queue to the connection actor, which owns the
/// socket and the session; a request that cannot complete (the connection
/// stopped for good) resolves to [`Error::Closed`].
///
/// ```no_run
/// use mqttx::{Client, ConnectOptions, QoS};
///
/// #[actix::main]
/// async fn main() -> Result<(), mqttx::Error> {
///     let client = Client::connect(ConnectOptions::new("localhost", "my_client").port(1883)).await?;
///     client.subscribe("sensors/#", QoS::AtLeastOnce).await?;
///     client.publish("sensors/temp", "25.5").qos(QoS::AtLeastOnce).await?;
///     client.disconnect().await?;
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct Client {
    commands: CommandSender,
    recipients: Arc<Recipients>,
    identity: Arc<Identity>,
}

/// The client identifier in use: the configured one, or the one the
/// server assigned to an empty one (MQTT 5), which the client then keeps
/// using on every reconnect.
#[derive(Debug)]
struct Identity {
    configured: ByteString,
    assigned: OnceLock<ByteString>,
    /// What the connection tells about itself.
    telemetry: Telemetry,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.client_id())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Test-only fault injection: makes the connection actor panic when it
    /// takes this request from its queue (in order with publishes sent
    /// before it). Under a supervisor it restarts; otherwise it stops. Not
    /// part of the supported API.
    #[doc(hidden)]
    pub fn inject_panic(&self) -> Result<(), Error> {
        self.send(Command::Panic)
    }

    /// Publishes `payload` on `topic`: a builder to set QoS, retain and
    /// MQTT 5 properties, then `.await` it.
    ///
    /// It resolves when a QoS 0 message is handed to the transport, a QoS 1
    /// message is PUBACKed, a QoS 2 message is PUBCOMPed. While the client
    /// is reconnecting, QoS 1/2 messages wait in a bounded queue and go out
    /// after the reconnect; QoS 0 fails with [`Error::NotConnected`].
    pub fn publish(&self, topic: impl Into<ByteString>, payload: impl Into<Bytes>) -> PublishBuilder<'_> {
        PublishBuilder::new(self, topic.into(), payload.into())
    }

    /// Publishes an MQTT 5 request on `topic`: a builder like
    /// [`publish`](Self::publish)'s, with
    /// [`.response_topic(..)`](RequestBuilder::response_topic); `.await` it
    /// for the Correlation Data the request carries (fresh for each
    /// request, unguessable). The connection subscribes to the Response
    /// Topic the first time a request names it, and the response reaches
    /// the handler.
    ///
    /// ```no_run
    /// # async fn demo(client: mqttx::Client) -> Result<(), mqttx::Error> {
    /// let correlation = client.request("service/rpc", "ping").response_topic("reply/my_client").await?;
    /// # let _ = correlation;
    /// # Ok(()) }
    /// ```
    pub fn request(&self, topic: impl Into<ByteString>, payload: impl Into<Bytes>) -> RequestBuilder<'_> {
        RequestBuilder::new(self, topic.into(), payload.into())
    }

    /// Calls a service (MQTT 5 request/response): publishes a request like
    /// [`request`](Self::request) does and resolves to the response, the
    /// PUBLISH that comes back with the request's Correlation Data. The
    /// response goes to this future, not to the handler; one that comes
    /// after the [`timeout`](CallBuilder::timeout) (default 30 s), when the
    /// call has failed with [`Error::Timeout`], goes to the handler. Any
    /// number of calls may wait at once, and they survive a reconnect.
    ///
    /// ```no_run
    /// # async fn demo(client: mqttx::Client) -> Result<(), mqttx::Error> {
    /// let response = client.call("service/rpc", "ping").await?;
    /// println!("{:?}", response.payload);
    /// # Ok(()) }
    /// ```
    pub fn call(&self, topic: impl Into<ByteString>, payload: impl Into<Bytes>) -> CallBuilder<'_> {
        CallBuilder::new(self, topic.into(), payload.into())
    }

    /// Subscribes to `filter` with a maximum QoS: a builder for the MQTT 5
    /// subscription options, then `.await` it for the granted QoS. A SUBACK
    /// failure code is [`Error::SubscribeRejected`]. Subscriptions are
    /// restored after a reconnect that lost the session.
    pub fn subscribe(&self, filter: impl Into<ByteString>, qos: QoS) -> SubscribeBuilder<'_> {
        SubscribeBuilder::new(self, filter.into(), qos)
    }

    /// Subscribes to `filter` and yields its messages as a
    /// [`Stream`](futures_core::Stream): `.await` the builder for the
    /// [`MessageStream`] once the server granted the subscription.
    ///
    /// Each message goes to every stream whose filter matches it, and to
    /// the handler as always. A QoS 1/2 message is acknowledged once every
    /// one of them has taken it: a consumer slower than the publisher holds
    /// the server back (its flow control bounds what waits), and nothing is
    /// dropped. Only QoS 0 messages beyond the stream's
    /// [`buffer`](StreamBuilder::buffer) are, as the server may drop them
    /// too. Dropping the stream unsubscribes.
    ///
    /// ```no_run
    /// # async fn demo(client: mqttx::Client) -> Result<(), mqttx::Error> {
    /// use mqttx::QoS;
    ///
    /// let mut readings = client.stream("sensors/+/temp", QoS::AtLeastOnce).await?;
    /// while let Some(msg) = readings.recv().await {
    ///     println!("{}: {:?}", msg.topic, msg.payload_str());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(&self, filter: impl Into<ByteString>, qos: QoS) -> StreamBuilder<'_> {
        StreamBuilder::new(self, filter.into(), qos)
    }

    /// Removes the subscription to `filter`.
    pub fn unsubscribe(&self, filter: impl Into<ByteString>) -> UnsubscribeBuilder<'_> {
        UnsubscribeBuilder::new(self, filter.into())
    }

    /// Sends DISCONNECT (Normal disconnection, so the broker discards the
    /// Will) and stops the connection for good: no reconnect. Requests still
    /// waiting fail with [`Error::Closed`]. The stream is then closed the
    /// way its protocol asks: a TLS close_notify, a WebSocket Close frame,
    /// and a TCP FIN, so the broker sees a clean end, not a truncated one.
    pub fn disconnect(&self) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        self.disconnect_with(Disconnect::default())
    }

    /// [`disconnect`](Self::disconnect) with a chosen DISCONNECT packet (reason
    /// code, Session Expiry Interval, user properties on MQTT 5).
    pub fn disconnect_with(
        &self,
        packet: Disconnect,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let (command, response) = DisconnectRequest(packet).into_command();
        let sent = self.send(command);
        async move {
            sent?;
            response.await
        }
    }

    /// Starts an MQTT 5 re-authentication (AUTH, Re-authenticate) with the
    /// configured [`authenticator`](crate::ConnectOptions::authenticator)'s
    /// fresh data; the handler's `#[auth]` method answers the server's
    /// challenges. Resolves once the server's AUTH Success has been checked
    /// by the authenticator. A server that refuses ends the connection
    /// (DISCONNECT), and this fails with the reason the connection gives;
    /// so does a server whose Success does not verify
    /// ([`Error::Auth`]), and then the client reconnects, authenticating
    /// from scratch.
    ///
    /// ```no_run
    /// # async fn demo(client: mqttx::Client) -> Result<(), mqttx::Error> {
    /// // A long-lived connection proves its credentials again, e.g. hourly.
    /// client.reauthenticate().await?;
    /// # Ok(()) }
    /// ```
    pub fn reauthenticate(&self) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        self.send_reauthenticate(None)
    }

    /// [`reauthenticate`](Self::reauthenticate) with this Authentication
    /// Data, for a mechanism the handler runs without an authenticator
    /// (its method is the one in the CONNECT properties).
    pub fn reauthenticate_with(
        &self,
        data: impl Into<Bytes>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        self.send_reauthenticate(Some(data.into()))
    }

    fn send_reauthenticate(
        &self,
        data: Option<Bytes>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let (command, response) = ReauthenticateRequest(data).into_command();
        let sent = self.send(command);
        async move {
            sent?;
            response.await
        }
    }

    /// The connection's [`Recipient`](actix::Recipient) for one kind of
    /// request, for actors that want to talk to it with actix messages.
    pub fn recipient<M: ClientRequest>(&self) -> actix::Recipient<M>
    where
        M::Result: Send,
    {
        M::recipient(self)
    }

    /// The client identifier in use: the one given in the options, or,
    /// when that was empty, the Assigned Client Identifier of the server's
    /// first CONNACK (MQTT 5; until then it is empty).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), mqttx::Error> {
    /// use mqttx::{Client, ConnectOptions};
    ///
    /// let client = Client::connect(ConnectOptions::new("localhost", "")).await?;
    /// println!("the server calls us {}", client.client_id());
    /// # Ok(()) }
    /// ```
    pub fn client_id(&self) -> &str {
        self.identity.assigned.get().unwrap_or(&self.identity.configured)
    }

    /// Records the identifier the server assigned. Only an empty one can be
    /// replaced, and only once: the client keeps it for every reconnect.
    pub(crate) fn assigned(&self, client_id: &ByteString) {
        if self.identity.configured.is_empty() {
            let _ = self.identity.assigned.set(client_id.clone());
        }
    }

    /// Where the connection is now: connecting, connected, reconnecting
    /// (which attempt), or stopped.
    ///
    /// ```no_run
    /// # fn demo(client: mqttx::Client) {
    /// use mqttx::client::ConnectionState;
    /// let healthy = client.state() == ConnectionState::Connected;
    /// # let _ = healthy;
    /// # }
    /// ```
    pub fn state(&self) -> ConnectionState {
        self.identity.telemetry.state()
    }

    /// The connection's state as a [`watch`](tokio::sync::watch): wait for
    /// it to change. See [`ConnectionState`].
    pub fn watch_state(&self) -> tokio::sync::watch::Receiver<ConnectionState> {
        self.identity.telemetry.watch()
    }

    /// What the connection has done since it started: messages in and out
    /// per QoS, reconnects, in flight, queued, QoS 0 messages dropped.
    ///
    /// ```no_run
    /// # fn demo(client: mqttx::Client) {
    /// let stats = client.stats();
    /// println!("{} QoS 1 messages received, {} reconnects", stats.messages_in[1], stats.reconnects);
    /// # }
    /// ```
    pub fn stats(&self) -> ClientStats {
        self.identity.telemetry.stats()
    }

    pub(crate) fn telemetry(&self) -> &Telemetry {
        &self.identity.telemetry
    }

    /// Whether the connection actor still runs (it may be reconnecting).
    pub fn is_running(&self) -> bool {
        !self.commands.is_closed()
    }

    pub(crate) fn new(commands: CommandSender, recipients: Recipients, client_id: ByteString) -> Self {
        Client {
            commands,
            recipients: Arc::new(recipients),
            identity: Arc::new(Identity {
                configured: client_id,
                assigned: OnceLock::new(),
                telemetry: Telemetry::default(),
            }),
        }
    }

    /// The same client with mailboxes nobody reads: a connection stopped
    /// for good swaps its own copy for this, so that it does not keep its
    /// own address alive.
    pub(crate) fn without_mailboxes(&self) -> Self {
        Client {
            commands: self.commands.clone(),
            recipients: Arc::new(Recipients::closed()),
            identity: Arc::clone(&self.identity),
        }
    }

    pub(crate) fn send(&self, command: Command) -> Result<(), Error> {
        self.commands.send(command).map_err(|_| Error::Closed)
    }

    /// Sends a request; a request that cannot reach the connection
    /// resolves to [`Error::Closed`] (its reply is dropped unanswered).
    pub(crate) fn send_request<R: IntoCommand>(&self, request: R) -> R::Pending {
        let (command, pending) = request.into_command();
        let _ = self.send(command);
        pending
    }
}
