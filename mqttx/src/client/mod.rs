//! [`Client`]: the cloneable handle to one broker connection.

mod messages;
mod publish;
mod response;
mod subscribe;

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use bytestring::ByteString;
use tokio::sync::{mpsc, oneshot};

pub(crate) use messages::Recipients;
pub use messages::{ClientRequest, DisconnectRequest, PublishRequest, SubscribeRequest, UnsubscribeRequest};
pub use publish::PublishBuilder;
pub(crate) use response::Outcome;
pub use response::Response;
pub use subscribe::{SubscribeBuilder, UnsubscribeBuilder};

use crate::connection::{Command, Connection, Registration};
use crate::handler::MqttHandler;
use crate::packet::{ConnAck, Disconnect, QoS};
use crate::registry::{ClientMeta, ClientRegistry, Fill, ListClients, Reserve, Unregister, WhereIs};
use crate::{ConnectOptions, Error};

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
    commands: mpsc::UnboundedSender<Command>,
    recipients: Arc<Recipients>,
    client_id: ByteString,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a connection actor and resolves once the first CONNACK
    /// accepts the connection.
    ///
    /// Failed attempts are retried with the options' backoff until the
    /// connect timeout; a refusal that retrying cannot fix (bad user name or
    /// password, not authorized, client identifier not valid, bad
    /// authentication method, banned, unsupported protocol version) returns
    /// at once with [`Error::ConnectRejected`]. After the first success the
    /// actor reconnects by itself whenever the connection is lost, until
    /// [`disconnect`](Self::disconnect).
    ///
    /// Must be called inside a running actix System.
    pub async fn connect<H: MqttHandler>(opts: ConnectOptions<H>) -> Result<Client, Error> {
        let (client, connected) = Self::start(opts)?;
        connected.await.map_err(|_| Error::Closed)??;
        Ok(client)
    }

    /// Starts the actor; the receiver yields the first connect's outcome.
    pub(crate) fn start<H: MqttHandler>(
        opts: ConnectOptions<H>,
    ) -> Result<(Client, oneshot::Receiver<Result<ConnAck, Error>>), Error> {
        opts.validate()?;
        if actix::System::try_current().is_none() {
            return Err(Error::NoSystem);
        }
        let (connected_tx, connected_rx) = oneshot::channel();
        Ok((Connection::launch(opts, connected_tx, None)?, connected_rx))
    }

    /// [`connect`](Self::connect), with the connection run under an
    /// [`actix::Supervisor`] and registered in the [`ClientRegistry`].
    ///
    /// If the connection actor panics it is restarted alone (other
    /// connections are untouched), keeping its handler, its handler's state
    /// and its session: it reconnects, requests that were waiting complete,
    /// and every `Client` handle stays valid. The handler hears
    /// [`DisconnectReason::Crashed`](crate::DisconnectReason::Crashed) and
    /// then `connected` again. [`disconnect`](Self::disconnect) stops it for
    /// good, as does a refusal retrying cannot fix; only then does its
    /// registry entry go away.
    ///
    /// The client id must be set, and not registered already: a second
    /// supervised connection with the same id fails with
    /// [`Error::ClientIdInUse`] (two would keep kicking each other off the
    /// broker). Unsupervised connections are not registered.
    ///
    /// ```no_run
    /// use mqttx::{Client, ConnectOptions};
    ///
    /// #[actix::main]
    /// async fn main() -> Result<(), mqttx::Error> {
    ///     let client = Client::connect_supervised(ConnectOptions::new("localhost", "worker-1")).await?;
    ///     for (id, _client, meta) in Client::list().await {
    ///         println!("{id}: {}:{}", meta.host, meta.port);
    ///     }
    ///     client.disconnect().await?; // stops for good, unregisters
    ///     Ok(())
    /// }
    /// ```
    pub async fn connect_supervised<H: MqttHandler>(opts: ConnectOptions<H>) -> Result<Client, Error> {
        use actix::SystemService;

        opts.validate()?;
        if actix::System::try_current().is_none() {
            return Err(Error::NoSystem);
        }
        if opts.client_id.is_empty() {
            return Err(Error::InvalidOptions(
                "a supervised connection needs a client id: it is registered under it".into(),
            ));
        }
        let client_id = opts.client_id.to_string();
        let meta = ClientMeta::of(&opts);
        let registry = ClientRegistry::from_registry();
        let token = registry
            .send(Reserve(client_id.clone()))
            .await
            .map_err(|_| Error::Closed)??;
        let registration = Registration {
            client_id: client_id.clone(),
            token,
        };
        let (connected_tx, connected_rx) = oneshot::channel();
        let client = match Connection::launch(opts, connected_tx, Some(registration)) {
            Ok(client) => client,
            Err(err) => {
                registry.do_send(Unregister { client_id, token });
                return Err(err);
            }
        };
        registry.do_send(Fill {
            client_id,
            token,
            client: client.clone(),
            meta,
        });
        connected_rx.await.map_err(|_| Error::Closed)??;
        Ok(client)
    }

    /// Every supervised connection of this actix System, ordered by client
    /// id: `(client id, handle, meta)`. Empty outside a System.
    pub async fn list() -> Vec<(String, Client, ClientMeta)> {
        use actix::SystemService;

        if actix::System::try_current().is_none() {
            return Vec::new();
        }
        ClientRegistry::from_registry()
            .send(ListClients)
            .await
            .unwrap_or_default()
    }

    /// The supervised connection registered under `client_id`, if any.
    pub async fn whereis(client_id: &str) -> Option<(Client, ClientMeta)> {
        use actix::SystemService;

        actix::System::try_current()?;
        ClientRegistry::from_registry()
            .send(WhereIs(client_id.to_owned()))
            .await
            .ok()
            .flatten()
    }

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

    /// Subscribes to `filter` with a maximum QoS: a builder for the MQTT 5
    /// subscription options, then `.await` it for the granted QoS. A SUBACK
    /// failure code is [`Error::SubscribeRejected`]. Subscriptions are
    /// restored after a reconnect that lost the session.
    pub fn subscribe(&self, filter: impl Into<ByteString>, qos: QoS) -> SubscribeBuilder<'_> {
        SubscribeBuilder::new(self, filter.into(), qos)
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
        let (tx, rx) = oneshot::channel();
        let sent = self.send(Command::Disconnect(packet, tx));
        async move {
            sent?;
            // The actor gone before answering means it is already stopped.
            rx.await.unwrap_or(Ok(()))
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

    /// The client identifier given in the options.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Whether the connection actor still runs (it may be reconnecting).
    pub fn is_running(&self) -> bool {
        !self.commands.is_closed()
    }

    pub(crate) fn new(
        commands: mpsc::UnboundedSender<Command>,
        recipients: Recipients,
        client_id: ByteString,
    ) -> Self {
        Client {
            commands,
            recipients: Arc::new(recipients),
            client_id,
        }
    }

    /// The same client with other recipients: a parked connection swaps
    /// its own copy for one that does not keep its address alive.
    pub(crate) fn with_recipients(&self, recipients: Recipients) -> Self {
        Client {
            commands: self.commands.clone(),
            recipients: Arc::new(recipients),
            client_id: self.client_id.clone(),
        }
    }

    pub(crate) fn send(&self, command: Command) -> Result<(), Error> {
        self.commands.send(command).map_err(|_| Error::Closed)
    }
}
