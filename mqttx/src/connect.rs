//! Starting a connection: [`Client::connect`] and
//! [`Client::connect_supervised`].
//!
//! This sits above the connection actor and the registry: the handle type
//! itself ([`Client`]) and the commands it sends live below the actor,
//! which takes them; only starting an actor needs the actor.

use tokio::sync::oneshot;

use crate::client::Client;
use crate::connection::{Connection, Registration};
use crate::error::Error;
use crate::handler::MqttHandler;
use crate::options::ConnectOptions;
use crate::packet::ConnAck;
use crate::registry::{ClientMeta, ClientRegistry, Fill, Reserve, Unregister};

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
    /// It is registered under its client id, which must not be registered
    /// already: a second supervised connection with the same id fails with
    /// [`Error::ClientIdInUse`] (two would keep kicking each other off the
    /// broker). An empty client id is registered under the one the server
    /// assigns (MQTT 5), once the first CONNACK names it. Unsupervised
    /// connections are not registered.
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
        let meta = ClientMeta::of(&opts);
        let registry = ClientRegistry::from_registry();
        let registration = Registration::default();
        let configured = opts.client_id.to_string();
        let named = !configured.is_empty();
        if named {
            let token = registry
                .send(Reserve(configured.clone()))
                .await
                .map_err(|_| Error::Closed)??;
            registration.granted(token);
        }
        let (connected_tx, connected_rx) = oneshot::channel();
        let client = match Connection::launch(opts, connected_tx, Some(registration.clone())) {
            Ok(client) => client,
            Err(err) => {
                if let Some(token) = registration.token() {
                    registry.do_send(Unregister {
                        client_id: configured,
                        token,
                    });
                }
                return Err(err);
            }
        };
        if named {
            fill(&registry, &client, &registration, meta);
            connected_rx.await.map_err(|_| Error::Closed)??;
            return Ok(client);
        }
        // An empty id: the server assigns one, and the claim is made under it.
        connected_rx.await.map_err(|_| Error::Closed)??;
        let assigned = client.client_id().to_owned();
        match registry
            .send(Reserve(assigned))
            .await
            .map_err(|_| Error::Closed)?
        {
            Ok(token) => registration.granted(token),
            Err(err) => {
                let _ = client.disconnect().await;
                return Err(err);
            }
        }
        fill(&registry, &client, &registration, meta);
        Ok(client)
    }
}

/// The started connection for its claim, under the client id in use.
fn fill(
    registry: &actix::Addr<ClientRegistry>,
    client: &Client,
    registration: &Registration,
    meta: ClientMeta,
) {
    if let Some(token) = registration.token() {
        registry.do_send(Fill {
            client_id: client.client_id().to_owned(),
            token,
            client: client.clone(),
            meta,
        });
    }
}
