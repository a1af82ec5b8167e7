//! [`ClientRegistry`]: every supervised connection in the System, by
//! client id.

use std::collections::{BTreeMap, HashMap};

use actix::prelude::*;

use crate::client::Client;
use crate::error::Error;
use crate::options::Transport;
use crate::packet::ProtocolVersion;

/// What the registry tells about a supervised connection besides its handle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientMeta {
    /// The broker host.
    pub host: String,
    /// The broker port.
    pub port: u16,
    /// The transport.
    pub transport: Transport,
    /// The protocol version configured: MQTT 5 unless pinned to 3.1.1
    /// (an unpinned client may have fallen back to 3.1.1 since; see
    /// [`ConnectOptions::protocol_version`](crate::ConnectOptions::protocol_version)).
    pub protocol_version: ProtocolVersion,
    /// Whether the session is clean (Clean Session / Clean Start).
    pub clean_session: bool,
}

impl ClientMeta {
    pub(crate) fn of<H>(opts: &crate::options::ConnectOptions<H>) -> Self {
        ClientMeta {
            host: opts.host_name().to_owned(),
            port: opts.port_number(),
            transport: opts.transport_kind(),
            protocol_version: opts.version(),
            clean_session: opts.clean_session,
        }
    }
}

/// Every supervised connection of the actix System, registered under its
/// client id: an actix [`SystemService`], so every arbiter (every actix-web
/// worker) sees the same one.
///
/// [`Client::connect_supervised`] registers a connection as it starts; the
/// entry goes away when the connection stops for good (`disconnect()`, or a
/// refusal that retrying cannot fix), never on a reconnect or a supervised
/// restart. A client id is registered once: a second
/// `connect_supervised` with it fails with [`Error::ClientIdInUse`] until
/// the first one is gone. Query it with [`Client::list`] and
/// [`Client::whereis`], or with the [`ListClients`] and [`WhereIs`]
/// messages from another actor.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    entries: HashMap<String, Entry>,
    next_token: u64,
}

#[derive(Debug)]
struct Entry {
    token: u64,
    /// `None` between the reservation and the actor's start.
    live: Option<(Client, ClientMeta)>,
}

impl Actor for ClientRegistry {
    type Context = Context<Self>;
}

impl Supervised for ClientRegistry {}

impl SystemService for ClientRegistry {}

/// Claims a client id before its connection starts.
#[derive(Debug, Message)]
#[rtype(result = "Result<u64, Error>")]
pub(crate) struct Reserve(pub(crate) String);

/// The started connection for a claim.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Fill {
    pub(crate) client_id: String,
    pub(crate) token: u64,
    pub(crate) client: Client,
    pub(crate) meta: ClientMeta,
}

/// The connection behind a claim stopped for good.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Unregister {
    pub(crate) client_id: String,
    pub(crate) token: u64,
}

/// Every registered connection, ordered by client id.
#[derive(Debug, Clone, Copy, Default, Message)]
#[rtype(result = "Vec<(String, Client, ClientMeta)>")]
pub struct ListClients;

/// The connection registered under a client id.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Option<(Client, ClientMeta)>")]
pub struct WhereIs(pub String);

impl Handler<Reserve> for ClientRegistry {
    type Result = Result<u64, Error>;

    fn handle(&mut self, Reserve(client_id): Reserve, _: &mut Context<Self>) -> Self::Result {
        if self.entries.contains_key(&client_id) {
            return Err(Error::ClientIdInUse { client_id });
        }
        self.next_token += 1;
        let token = self.next_token;
        self.entries.insert(client_id, Entry { token, live: None });
        Ok(token)
    }
}

impl Handler<Fill> for ClientRegistry {
    type Result = ();

    fn handle(&mut self, fill: Fill, _: &mut Context<Self>) {
        if let Some(entry) = self.entries.get_mut(&fill.client_id) {
            if entry.token == fill.token {
                entry.live = Some((fill.client, fill.meta));
            }
        }
    }
}

impl Handler<Unregister> for ClientRegistry {
    type Result = ();

    fn handle(&mut self, gone: Unregister, _: &mut Context<Self>) {
        if self
            .entries
            .get(&gone.client_id)
            .is_some_and(|entry| entry.token == gone.token)
        {
            self.entries.remove(&gone.client_id);
        }
    }
}

impl Handler<ListClients> for ClientRegistry {
    type Result = MessageResult<ListClients>;

    fn handle(&mut self, _: ListClients, _: &mut Context<Self>) -> Self::Result {
        let live: BTreeMap<&String, &(Client, ClientMeta)> = self
            .entries
            .iter()
            .filter_map(|(id, entry)| Some((id, entry.live.as_ref()?)))
            .collect();
        MessageResult(
            live.into_iter()
                .map(|(id, (client, meta))| (id.clone(), client.clone(), meta.clone()))
                .collect(),
        )
    }
}

impl Handler<WhereIs> for ClientRegistry {
    type Result = Option<(Client, ClientMeta)>;

    fn handle(&mut self, WhereIs(client_id): WhereIs, _: &mut Context<Self>) -> Self::Result {
        self.entries.get(&client_id)?.live.clone()
    }
}

impl Client {
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
}
