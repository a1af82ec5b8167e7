//! [`ConnectOptions`]: everything about how to reach the broker and behave
//! on the connection.

mod backoff;
mod debug;
mod derived;
mod io_hints;
mod proxy;
mod session;
pub(crate) mod tls;
mod transport;
mod url;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;

pub use backoff::Backoff;
pub use io_hints::IoHints;
pub use proxy::Proxy;
pub use tls::TlsOptions;
pub use transport::Transport;

use crate::auth::Authenticator;
use crate::handler::MqttHandler;
use crate::packet::{ConnectProperties, LastWill, ProtocolVersion};
use crate::store::SharedStore;

/// The largest packet accepted from the server unless
/// [`max_packet_size`](ConnectOptions::max_packet_size) says otherwise. On
/// MQTT 5 it is advertised in CONNECT, so the server never sends more.
pub const DEFAULT_MAX_PACKET_SIZE: u32 = 1024 * 1024;

/// The room made in the read buffer before each read unless
/// [`read_buffer`](ConnectOptions::read_buffer) says otherwise.
const DEFAULT_READ_BUFFER: usize = 8 * 1024;

/// The in-flight window on MQTT 5 unless set (the server may lower it).
pub const DEFAULT_MAX_INFLIGHT: u16 = 100;

/// The in-flight window on MQTT 3.1.1 unless set: mosquitto's default
/// `max_inflight_messages`, beyond which it drops QoS 2 messages unseen.
pub const DEFAULT_MAX_INFLIGHT_V311: u16 = 20;

/// How to connect, and how to behave once connected.
///
/// Built with [`ConnectOptions::new`] (host and client id) or
/// [`ConnectOptions::from_url`], then refined with the builder methods.
/// `H` is the [`MqttHandler`] that receives messages and lifecycle events;
/// `()` ignores them.
///
/// ```
/// use std::time::Duration;
/// use mqttx::{ConnectOptions, ProtocolVersion, Transport};
///
/// let opts = ConnectOptions::new("localhost", "my_client")
///     .port(1883)
///     .credentials("user", "secret")
///     .keepalive(Duration::from_secs(30))
///     .protocol_version(ProtocolVersion::V311);
/// assert_eq!(opts.transport_kind(), Transport::Tcp);
///
/// let parsed = ConnectOptions::from_url("mqtt://user:secret@localhost:1883?client_id=my_client")?;
/// assert_eq!(parsed.port_number(), 1883);
/// # Ok::<(), mqttx::Error>(())
/// ```
#[derive(Clone)]
pub struct ConnectOptions<H = ()> {
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
    pub(crate) transport: Transport,
    pub(crate) ws_path: String,
    /// Servers after the first (`host`, `port`), tried in order on failover.
    pub(crate) more_servers: Vec<(String, Option<u16>)>,
    pub(crate) tls: TlsOptions,
    pub(crate) proxy: Option<Proxy>,
    pub(crate) client_id: ByteString,
    pub(crate) username: Option<ByteString>,
    pub(crate) password: Option<Bytes>,
    pub(crate) clean_session: bool,
    pub(crate) keepalive: Duration,
    /// `None`: MQTT 5, falling back to 3.1.1 for a server without it.
    pub(crate) protocol_version: Option<ProtocolVersion>,
    pub(crate) will: Option<LastWill>,
    pub(crate) connect_properties: ConnectProperties,
    pub(crate) retry_interval: Duration,
    pub(crate) max_inflight: Option<u16>,
    pub(crate) max_queued: usize,
    pub(crate) max_packet_size: u32,
    pub(crate) io_hints: IoHints,
    pub(crate) read_buffer: usize,
    pub(crate) backoff: Backoff,
    pub(crate) connect_timeout: Duration,
    pub(crate) session_store: Option<SharedStore>,
    pub(crate) store_timeout: Duration,
    pub(crate) authenticator: Option<Arc<dyn Authenticator>>,
    pub(crate) handler: H,
}

impl ConnectOptions<()> {
    /// Options for `host` with client identifier `client_id` and every
    /// other option at its default: TCP on port 1883, MQTT 5, clean session,
    /// keep-alive 60 s, in-flight window 100 (20 on MQTT 3.1.1, see
    /// [`max_inflight`](Self::max_inflight)).
    ///
    /// An empty `client_id` asks an MQTT 5 server to assign one.
    pub fn new(host: impl Into<String>, client_id: impl Into<ByteString>) -> Self {
        ConnectOptions {
            host: host.into(),
            port: None,
            transport: Transport::Tcp,
            ws_path: "/mqtt".into(),
            more_servers: Vec::new(),
            tls: TlsOptions::default(),
            proxy: None,
            client_id: client_id.into(),
            username: None,
            password: None,
            clean_session: true,
            keepalive: Duration::from_secs(60),
            protocol_version: None,
            will: None,
            connect_properties: ConnectProperties::default(),
            retry_interval: Duration::from_secs(5),
            max_inflight: None,
            max_queued: 10_000,
            max_packet_size: DEFAULT_MAX_PACKET_SIZE,
            io_hints: IoHints::default(),
            read_buffer: DEFAULT_READ_BUFFER,
            backoff: Backoff::default(),
            connect_timeout: Duration::from_secs(30),
            session_store: None,
            store_timeout: Duration::from_secs(10),
            authenticator: None,
            handler: (),
        }
    }

    /// Options from a URL: `mqtt://[user[:pass]@]host[:port][?key=value&..]`.
    ///
    /// Schemes: `mqtt`/`tcp`, `mqtts`/`ssl`/`tls`, `ws`, `wss` (the path of a
    /// `ws`/`wss` URL is the WebSocket path). Query keys: `client_id`,
    /// `keepalive` (seconds), `clean_session` / `clean_start` (`true`/`false`),
    /// `protocol_version` (`3.1.1`/`4` or `5`), `max_inflight`,
    /// `connect_timeout` (seconds). User name and password may be
    /// percent-encoded. An unknown key is an error, not silently ignored.
    pub fn from_url(url: &str) -> Result<Self, crate::error::Error> {
        url::parse(url)
    }
}

impl<H> ConnectOptions<H> {
    /// The broker port (default: the transport's, see [`Transport::default_port`]).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The transport: TCP, TLS, WebSocket or secure WebSocket.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The HTTP path of a WebSocket transport (default `/mqtt`).
    pub fn ws_path(mut self, path: impl Into<String>) -> Self {
        self.ws_path = path.into();
        self
    }

    /// TLS settings for [`Transport::Tls`] and [`Transport::Wss`]: trusted
    /// roots, client certificate, server name (see [`TlsOptions`]; the
    /// default verifies the server against Mozilla's roots).
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// Tunnel the connection through an HTTP proxy (`CONNECT`), whatever
    /// the transport.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Another broker to fail over to, after those already listed (the
    /// first is the one given to [`new`](ConnectOptions::new)). All servers
    /// share the transport, TLS settings, proxy and session options.
    ///
    /// [`Client::connect`](crate::Client::connect) tries the servers in
    /// order and takes the first that accepts. When an attempt fails, the
    /// next server is tried at once; only when every server has failed in
    /// turn does the client wait out the backoff before the next round.
    /// When an established connection is lost, the client waits the first
    /// backoff delay and then tries the *next* server in the list (so a
    /// broker that went down is not insisted on), wrapping around. The
    /// backoff grows per round of failures and is reset by a CONNACK.
    ///
    /// A failure that retrying cannot fix (bad credentials, an untrusted
    /// certificate, ...) ends `Client::connect` at once, without trying the
    /// other servers. An MQTT 5 server that names another one (Server
    /// Reference with *Use another server* / *Server moved*) sends the next
    /// attempt there, once.
    ///
    /// ```
    /// use mqttx::ConnectOptions;
    ///
    /// let opts = ConnectOptions::new("mqtt-a.internal", "c1")
    ///     .port(1883)
    ///     .add_server("mqtt-b.internal", 1883)
    ///     .add_server("mqtt-c.internal", 1884);
    /// assert_eq!(
    ///     opts.server_list(),
    ///     [("mqtt-a.internal", 1883), ("mqtt-b.internal", 1883), ("mqtt-c.internal", 1884)]
    /// );
    /// ```
    pub fn add_server(mut self, host: impl Into<String>, port: u16) -> Self {
        self.more_servers.push((host.into(), Some(port)));
        self
    }

    /// Replaces every server, the first included, with this list (in
    /// failover order, see [`add_server`](Self::add_server)). An empty list
    /// leaves the options unchanged.
    pub fn servers<S: Into<String>>(mut self, servers: impl IntoIterator<Item = (S, u16)>) -> Self {
        let mut servers = servers.into_iter().map(|(host, port)| (host.into(), Some(port)));
        if let Some((host, port)) = servers.next() {
            self.host = host;
            self.port = port;
            self.more_servers = servers.collect();
        }
        self
    }

    /// The client identifier.
    pub fn client_id(mut self, client_id: impl Into<ByteString>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// User name and password.
    pub fn credentials(mut self, username: impl Into<ByteString>, password: impl Into<Bytes>) -> Self {
        self.username = Some(username.into());
        self.password = Some(password.into());
        self
    }

    /// User name alone.
    pub fn username(mut self, username: impl Into<ByteString>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Password alone (MQTT 5 allows a password without a user name).
    pub fn password(mut self, password: impl Into<Bytes>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Clean Session (3.1.1) / Clean Start (5); default `true`.
    ///
    /// With `false` the broker keeps the session (subscriptions and queued
    /// QoS 1/2 messages) across connections, whether the connection was
    /// lost or closed with [`Client::disconnect`](crate::Client::disconnect).
    /// On MQTT 5 that takes a Session Expiry Interval: unless
    /// [`session_expiry_interval`](Self::session_expiry_interval) sets one,
    /// `false` asks for 0xFFFFFFFF (the session never expires), as MQTT 5
    /// reads 3.1.1's Clean Session 0. With a session store
    /// ([`session_store`](Self::session_store)) the client's side of the
    /// session survives too, and no QoS 1/2 message is lost across
    /// reconnects.
    ///
    /// ```
    /// use mqttx::{store::MemoryStore, ConnectOptions};
    ///
    /// let opts = ConnectOptions::new("localhost", "persistent_client")
    ///     .clean_session(false)
    ///     .session_store(MemoryStore::new());
    /// # let _ = opts;
    /// ```
    pub fn clean_session(mut self, clean: bool) -> Self {
        self.clean_session = clean;
        self
    }

    /// Keep-alive interval, whole seconds up to 65,535 (default 60 s; zero
    /// turns it off). A Server Keep Alive in CONNACK replaces it.
    pub fn keepalive(mut self, keepalive: Duration) -> Self {
        self.keepalive = keepalive;
        self
    }

    /// Pins the protocol version: MQTT 5 or MQTT 3.1.1, and nothing else.
    ///
    /// Unset, the client speaks MQTT 5, and falls back to 3.1.1 for a
    /// server that does not speak it: one that answers the MQTT 5 CONNECT
    /// with 3.1.1's "unacceptable protocol version" (NATS), or closes the
    /// connection without a CONNACK (RabbitMQ 3.x). The fallback happens at
    /// once, before the first connection only, and the version that worked
    /// is kept for every reconnect. It needs a 3.1.1-valid configuration
    /// (a client id unless the session is clean, a user name with a
    /// password); without one the client stays on MQTT 5.
    ///
    /// ```
    /// use mqttx::{ConnectOptions, ProtocolVersion};
    ///
    /// // Never fall back: request/response needs MQTT 5.
    /// let opts = ConnectOptions::new("localhost", "rpc-client").protocol_version(ProtocolVersion::V5);
    /// # let _ = opts;
    /// ```
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.protocol_version = Some(version);
        self
    }

    /// Enhanced authentication (MQTT 5): `authenticator` opens the exchange
    /// in every CONNECT, with fresh data each time, and checks the server's
    /// last word before the connection counts as up. The handler's
    /// `#[auth]` method answers the challenges in between. Its method and
    /// first data replace those of
    /// [`connect_properties`](Self::connect_properties). See
    /// [`auth`](crate::auth) and, for SCRAM-SHA-256, `ScramSha256` (the
    /// `scram` feature).
    ///
    /// ```
    /// use mqttx::auth::{AuthError, Authenticator};
    /// use mqttx::Bytes;
    ///
    /// struct Token;
    ///
    /// impl Authenticator for Token {
    ///     fn method(&self) -> &str { "TOKEN" }
    ///     fn start(&self) -> Option<Bytes> { Some(Bytes::from_static(b"s3cret")) }
    ///     fn finish(&self, _data: Option<&[u8]>) -> Result<(), AuthError> { Ok(()) }
    /// }
    ///
    /// let opts = mqttx::ConnectOptions::new("localhost", "sensor-1").authenticator(Token);
    /// # let _ = opts;
    /// ```
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// The Will Message the broker publishes if this client vanishes.
    pub fn will(mut self, will: LastWill) -> Self {
        self.will = Some(will);
        self
    }

    /// MQTT 5 CONNECT properties (Session Expiry Interval, Receive Maximum,
    /// authentication method and data, user properties, ...).
    pub fn connect_properties(mut self, properties: ConnectProperties) -> Self {
        self.connect_properties = properties;
        self
    }

    /// MQTT 5 Session Expiry Interval in seconds: how long the broker keeps
    /// the session after the connection closes. Unset, it is 0 (the session
    /// ends with the connection) with `clean_session(true)`, and 0xFFFFFFFF
    /// (never) with `clean_session(false)`; a value set here wins.
    pub fn session_expiry_interval(mut self, seconds: u32) -> Self {
        self.connect_properties.session_expiry_interval = Some(seconds);
        self
    }

    /// MQTT 3.1.1 only: resend an unacknowledged PUBLISH or PUBREL after
    /// this long (default 5 s). MQTT 5 forbids resending except after a
    /// reconnect, so there this option has no effect.
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// How many QoS 1/2 publishes may await acknowledgement at once.
    ///
    /// MQTT 5 servers announce their own limit (Receive Maximum) and the
    /// window is the smaller of the two; the default here is 100. MQTT 3.1.1
    /// servers cannot announce one, and some enforce one silently: mosquitto
    /// acknowledges the QoS 2 messages beyond its `max_inflight_messages`
    /// (20 by default) and drops them. So on MQTT 3.1.1 the default is
    /// [`DEFAULT_MAX_INFLIGHT_V311`]; raise it only as far as your broker allows.
    pub fn max_inflight(mut self, max: u16) -> Self {
        self.max_inflight = Some(max.max(1));
        self
    }

    /// How many publishes may wait behind the in-flight window or for a
    /// reconnect (default 10,000). Beyond it `publish` fails with
    /// [`Error::QueueFull`](crate::error::Error::QueueFull).
    pub fn max_queued(mut self, max: usize) -> Self {
        self.max_queued = max;
        self
    }

    /// The largest packet accepted from the server (default 1 MiB),
    /// advertised as Maximum Packet Size on MQTT 5.
    pub fn max_packet_size(mut self, bytes: u32) -> Self {
        self.max_packet_size = bytes.max(16);
        self
    }

    /// Whether reads are batched where that costs a message no more than a
    /// millisecond: [`IoHints::read_pacing`] and [`IoHints::ack_batching`]
    /// together (both on by default; the second only for windows of 500
    /// or more). Turn it off
    /// when every millisecond of a high-rate stream counts.
    ///
    /// ```
    /// let opts = mqttx::ConnectOptions::new("localhost", "ticker").coalesce_reads(false);
    /// # let _ = opts;
    /// ```
    pub fn coalesce_reads(mut self, coalesce: bool) -> Self {
        self.io_hints.read_pacing = coalesce;
        self.io_hints.ack_batching = coalesce;
        self
    }

    /// When the connection reads and writes: each decision of its I/O
    /// tuning on or off ([`IoHints`]; default [`IoHints::default`]).
    pub fn io_hints(mut self, hints: IoHints) -> Self {
        self.io_hints = hints;
        self
    }

    /// The room made in the read buffer before each read, in bytes: the
    /// most one read system call takes in (default 8 KiB, at least 1 KiB).
    /// The benchmark's configuration matrix could not tell 64 KiB from the
    /// default (BENCHMARKS.md, runs 4 and 5), and a payload the handler
    /// keeps pins the buffer it was read into, so the default stays small;
    /// raise it for messages larger than the default.
    ///
    /// ```
    /// let opts = mqttx::ConnectOptions::new("localhost", "camera").read_buffer(256 * 1024);
    /// # let _ = opts;
    /// ```
    pub fn read_buffer(mut self, bytes: usize) -> Self {
        self.read_buffer = bytes.max(1024);
        self
    }

    /// The reconnect delays.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// How long [`Client::connect`](crate::Client::connect) keeps trying
    /// (default 30 s): failed attempts are retried with the backoff, the
    /// last one starting shortly before this deadline, and at the deadline
    /// `connect` fails with [`Error::ConnectTimeout`](crate::Error::ConnectTimeout),
    /// cutting short an attempt still under way. Each attempt, the first
    /// connect's and every reconnect's, also gets this long to open its
    /// transport and as long again for the CONNACK.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The handler that receives messages and lifecycle events.
    pub fn handler<H2: MqttHandler>(self, handler: H2) -> ConnectOptions<H2> {
        ConnectOptions {
            host: self.host,
            port: self.port,
            transport: self.transport,
            ws_path: self.ws_path,
            more_servers: self.more_servers,
            tls: self.tls,
            proxy: self.proxy,
            client_id: self.client_id,
            username: self.username,
            password: self.password,
            clean_session: self.clean_session,
            keepalive: self.keepalive,
            protocol_version: self.protocol_version,
            will: self.will,
            connect_properties: self.connect_properties,
            retry_interval: self.retry_interval,
            max_inflight: self.max_inflight,
            max_queued: self.max_queued,
            max_packet_size: self.max_packet_size,
            io_hints: self.io_hints,
            read_buffer: self.read_buffer,
            backoff: self.backoff,
            connect_timeout: self.connect_timeout,
            session_store: self.session_store,
            store_timeout: self.store_timeout,
            authenticator: self.authenticator,
            handler,
        }
    }
}
