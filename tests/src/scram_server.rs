//! A scripted MQTT 5 server that authenticates its client with
//! SCRAM-SHA-256 (RFC 5802, RFC 7677) over enhanced authentication, then
//! acts as a tiny broker for that client.
//!
//! The exchange, as a server does it:
//!
//! ```text
//! client                                         server
//! CONNECT  method SCRAM-SHA-256, client-first  ->
//!                                              <- AUTH 0x18  server-first
//! AUTH 0x18  client-final (the proof)          ->
//!                                              <- CONNACK 0x00  v=server signature
//!                                                 (or CONNACK 0x87 on a bad proof)
//! ```
//!
//! Re-authentication runs the same exchange with AUTH packets and ends in
//! AUTH Success (or DISCONNECT 0x87). The client opens it with AUTH 0x19
//! carrying a client-first-message; [`ScramServer::request_reauthentication`]
//! makes the server ask for one first, with AUTH 0x19 and no data, which
//! the client answers with AUTH 0x18 carrying its client-first-message.
//!
//! Once connected the server acknowledges PUBLISH (QoS 0, 1 and 2) and
//! sends each one back to the same client when one of its subscriptions
//! matches (exact filters, `+` and `#`); SUBSCRIBE, UNSUBSCRIBE, PINGREQ and
//! DISCONNECT get what a broker answers. There are no retained messages,
//! no sessions and no other clients. The SCRAM math here is written
//! independently of `mqttx::auth::ScramSha256`, so each checks the other.
//!
//! It runs on a thread of its own with its own runtime, so it serves
//! `#[actix_rt::test]` tests and examples alike, and stops when dropped.
//! Malformed input closes the connection; it never panics the thread.
//!
//! ```
//! use mqttx_tests::scram_server::{Fault, ScramConfig, ScramServer};
//!
//! let server = ScramServer::start(ScramConfig::new("alice", "s3cret"))?;
//! let liar = ScramServer::start(ScramConfig::new("alice", "s3cret").fault(Fault::BadServerSignature))?;
//! println!("connect to 127.0.0.1:{} (and :{})", server.port(), liar.port());
//! assert_eq!(server.connects(), 0);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use hmac::{Hmac, Mac};
use mqttx::packet::topic;
use mqttx::packet::{
    decode, encode, AckProperties, Auth, AuthProperties, ConnAck, ConnAckProperties, Connect, Disconnect,
    DisconnectProperties, LazyBox, Packet, PacketId, ProtocolVersion, PubAck, PubComp, PubRec, PubRel,
    Publish, QoS, ReasonCode, SubAck, Subscribe, SubscriptionOptions, UnsubAck, Unsubscribe,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

/// The Authentication Method the server accepts.
pub const METHOD: &str = "SCRAM-SHA-256";

/// The largest packet the server reads.
const MAX_PACKET: u32 = 1024 * 1024;

/// Random bytes the server adds to the client's nonce.
const SERVER_NONCE_BYTES: usize = 18;

type HmacSha256 = Hmac<Sha256>;

/// How the server misbehaves on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// It does not.
    #[default]
    None,
    /// Every server-final-message (in CONNACK and in AUTH Success) carries
    /// a wrong `v=`: a server that does not know the password, which the
    /// client must refuse.
    BadServerSignature,
}

/// What the server knows and how it behaves.
#[derive(Debug, Clone)]
pub struct ScramConfig {
    /// The one user it knows.
    pub username: String,
    /// That user's password.
    pub password: String,
    /// The salt it sends (`s=`).
    pub salt: Vec<u8>,
    /// The PBKDF2 iteration count it sends (`i=`); any value is sent as
    /// it is, 0 too, to test a client's limits.
    pub iterations: u32,
    /// How it misbehaves.
    pub fault: Fault,
}

impl Default for ScramConfig {
    /// User `user`, password `pencil` (RFC 7677's), a fixed salt, 4096
    /// iterations, no fault.
    fn default() -> Self {
        ScramConfig {
            username: "user".into(),
            password: "pencil".into(),
            salt: b"mqttx-scram-salt".to_vec(),
            iterations: 4096,
            fault: Fault::None,
        }
    }
}

impl ScramConfig {
    /// The defaults, with this user and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        ScramConfig {
            username: username.into(),
            password: password.into(),
            ..ScramConfig::default()
        }
    }

    /// Sets the salt.
    pub fn salt(mut self, salt: impl Into<Vec<u8>>) -> Self {
        self.salt = salt.into();
        self
    }

    /// Sets the iteration count.
    pub fn iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations;
        self
    }

    /// Sets the fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }
}

/// What the server has seen, over all its connections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// CONNECT packets received.
    pub connects: u64,
    /// Exchanges that ended in success: the initial ones and the
    /// re-authentications.
    pub authenticated: u64,
    /// Of those, re-authentications.
    pub reauthenticated: u64,
    /// Exchanges refused: a wrong or missing method, an unknown user, a
    /// bad proof, a malformed message.
    pub rejected: u64,
    /// The Reason String of the latest refusal.
    pub last_rejection: Option<String>,
    /// PUBLISH packets received from clients.
    pub publishes: u64,
    /// PUBLISH packets sent back to clients.
    pub echoed: u64,
    /// DISCONNECT packets received from clients.
    pub disconnects: u64,
}

struct Shared {
    config: ScramConfig,
    /// Derived on first use, so that a test of a client that refuses an
    /// absurd iteration count never pays for it.
    keys: OnceLock<Keys>,
    stats: watch::Sender<Stats>,
    /// Bumped by every [`ScramServer::request_reauthentication`].
    reauth: watch::Sender<u64>,
}

impl Shared {
    fn keys(&self) -> &Keys {
        self.keys
            .get_or_init(|| Keys::derive(&self.config.password, &self.config.salt, self.config.iterations))
    }

    fn count(&self, update: impl FnOnce(&mut Stats)) {
        self.stats.send_modify(update);
    }

    fn reject(&self, why: &str) {
        self.count(|s| {
            s.rejected += 1;
            s.last_rejection = Some(why.to_string());
        });
    }
}

/// A SCRAM-SHA-256 MQTT 5 server on a free loopback port. Stops when
/// dropped.
pub struct ScramServer {
    port: u16,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ScramServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramServer")
            .field("port", &self.port)
            .field("stats", &self.stats())
            .finish()
    }
}

impl ScramServer {
    /// Binds `127.0.0.1:0` and starts serving on a thread of its own.
    pub fn start(config: ScramConfig) -> io::Result<ScramServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            config,
            keys: OnceLock::new(),
            stats: watch::Sender::new(Stats::default()),
            reauth: watch::Sender::new(0),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let task_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("scram-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = stopped => {}
                        _ = accept(listener, task_shared) => {}
                    }
                });
            })?;
        Ok(ScramServer {
            port,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A snapshot of what the server has seen.
    pub fn stats(&self) -> Stats {
        self.shared.stats.borrow().clone()
    }

    /// CONNECT packets received so far.
    pub fn connects(&self) -> u64 {
        self.shared.stats.borrow().connects
    }

    /// Successful exchanges so far, initial and re-authentications.
    pub fn authenticated(&self) -> u64 {
        self.shared.stats.borrow().authenticated
    }

    /// A receiver that sees every change of the [`Stats`].
    pub fn watch(&self) -> watch::Receiver<Stats> {
        self.shared.stats.subscribe()
    }

    /// Waits until `until` holds for the stats, at most `timeout`: `Ok`
    /// with the stats that satisfied it, or `Err` with the latest ones.
    /// Needs a tokio runtime with timers (actix's has them).
    ///
    /// ```no_run
    /// # async fn demo(server: &mqttx_tests::scram_server::ScramServer) {
    /// use std::time::Duration;
    ///
    /// let stats = server.wait_for(Duration::from_secs(5), |s| s.authenticated >= 2).await;
    /// assert!(stats.is_ok(), "no re-authentication: {stats:?}");
    /// # }
    /// ```
    pub async fn wait_for(
        &self,
        timeout: Duration,
        mut until: impl FnMut(&Stats) -> bool,
    ) -> Result<Stats, Stats> {
        let mut stats = self.watch();
        let seen = match tokio::time::timeout(timeout, stats.wait_for(|s| until(s))).await {
            Ok(Ok(seen)) => Some(seen.clone()),
            _ => None,
        };
        seen.ok_or_else(|| self.stats())
    }

    /// Asks every connected client that has no exchange in progress to
    /// re-authenticate: the server sends AUTH Re-authenticate (0x19) with
    /// the method, expects AUTH Continue authentication with a
    /// client-first-message, and runs the exchange to AUTH Success. Watch
    /// [`authenticated`](Self::authenticated) to see it done.
    pub fn request_reauthentication(&self) {
        self.shared.reauth.send_modify(|n| *n += 1);
    }
}

impl Drop for ScramServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, Arc::clone(&shared)));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// One client connection, to its end.
async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let (mut read, mut write) = stream.into_split();
    let mut reauth = shared.reauth.subscribe();
    reauth.borrow_and_update();
    let mut conn = Connection::new(shared);
    let mut input = BytesMut::with_capacity(8 * 1024);
    let mut output = BytesMut::new();
    loop {
        let mut close = false;
        tokio::select! {
            read_result = read.read_buf(&mut input) => {
                if !matches!(read_result, Ok(n) if n > 0) {
                    break;
                }
                loop {
                    match decode(&mut input, ProtocolVersion::V5, MAX_PACKET) {
                        Ok(Some(packet)) => {
                            if conn.on_packet(packet) == Flow::Close {
                                close = true;
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            close = true;
                            break;
                        }
                    }
                }
            }
            changed = reauth.changed() => {
                if changed.is_err() {
                    break;
                }
                conn.request_reauthentication();
            }
        }
        for packet in conn.out.drain(..) {
            if encode(&packet, ProtocolVersion::V5, &mut output).is_err() {
                close = true;
                break;
            }
        }
        if !output.is_empty() && write.write_all(&output.split()).await.is_err() {
            break;
        }
        if close {
            let _ = write.shutdown().await;
            break;
        }
        input.reserve(4 * 1024);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
}

/// Where a connection stands.
enum Phase {
    /// Nothing received yet.
    AwaitConnect,
    /// CONNECT's exchange: the server-first-message is out.
    Connecting(Pending),
    /// CONNACK Success is out.
    Connected(Reauth),
}

/// A re-authentication, while connected.
enum Reauth {
    Idle,
    /// The server sent AUTH Re-authenticate; a client-first-message is next.
    AwaitClientFirst,
    /// The server-first-message is out; the client-final-message is next.
    AwaitClientFinal(Pending),
}

/// The sans-IO part of one connection: packets in, packets out.
struct Connection {
    shared: Arc<Shared>,
    phase: Phase,
    out: Vec<Packet>,
    subscriptions: Vec<(String, SubscriptionOptions, Option<u32>)>,
    /// QoS 2 publishes from the client, PUBREC sent, PUBREL awaited.
    incoming_qos2: HashSet<PacketId>,
    /// Our QoS 1/2 publishes to the client, not yet completed.
    outgoing: HashMap<PacketId, QoS>,
    next_id: u16,
}

impl Connection {
    fn new(shared: Arc<Shared>) -> Self {
        Connection {
            shared,
            phase: Phase::AwaitConnect,
            out: Vec::new(),
            subscriptions: Vec::new(),
            incoming_qos2: HashSet::new(),
            outgoing: HashMap::new(),
            next_id: 0,
        }
    }

    fn on_packet(&mut self, packet: Packet) -> Flow {
        match std::mem::replace(&mut self.phase, Phase::AwaitConnect) {
            Phase::AwaitConnect => match packet {
                Packet::Connect(connect) => self.on_connect(&connect),
                _ => Flow::Close,
            },
            Phase::Connecting(pending) => match packet {
                Packet::Auth(auth) if auth.reason_code == ReasonCode::ContinueAuthentication => {
                    self.on_connect_final(&pending, &auth)
                }
                _ => Flow::Close,
            },
            Phase::Connected(reauth) => {
                self.phase = Phase::Connected(Reauth::Idle);
                match packet {
                    Packet::Auth(auth) => self.on_reauth(reauth, &auth),
                    other => {
                        self.phase = Phase::Connected(reauth);
                        self.on_session_packet(other)
                    }
                }
            }
        }
    }

    fn on_connect(&mut self, connect: &Connect) -> Flow {
        self.shared.count(|s| s.connects += 1);
        if connect.protocol != ProtocolVersion::V5 {
            self.shared.reject("not MQTT 5");
            return Flow::Close;
        }
        let properties = &connect.properties;
        if properties.authentication_method.as_deref() != Some(METHOD) {
            return self.refuse_connect(
                ReasonCode::BadAuthenticationMethod,
                &format!(
                    "authentication method must be {METHOD}, not {:?}",
                    properties.authentication_method.as_deref()
                ),
            );
        }
        match self.client_first(properties.authentication_data.as_deref()) {
            Ok(pending) => {
                self.out.push(auth_packet(
                    ReasonCode::ContinueAuthentication,
                    Some(Bytes::from(pending.server_first.clone())),
                ));
                self.phase = Phase::Connecting(pending);
                Flow::Continue
            }
            Err(why) => self.refuse_connect(ReasonCode::NotAuthorized, &why),
        }
    }

    fn on_connect_final(&mut self, pending: &Pending, auth: &Auth) -> Flow {
        if auth.properties.authentication_method.as_deref() != Some(METHOD) {
            return self.refuse_connect(
                ReasonCode::BadAuthenticationMethod,
                "another authentication method",
            );
        }
        match self.client_final(pending, auth.properties.authentication_data.as_deref()) {
            Ok(server_final) => {
                self.shared.count(|s| s.authenticated += 1);
                self.out.push(Packet::ConnAck(ConnAck {
                    session_present: false,
                    reason_code: ReasonCode::Success,
                    properties: LazyBox::new(ConnAckProperties {
                        authentication_method: Some(METHOD.into()),
                        authentication_data: Some(Bytes::from(server_final)),
                        ..ConnAckProperties::default()
                    }),
                }));
                self.phase = Phase::Connected(Reauth::Idle);
                Flow::Continue
            }
            Err(why) => self.refuse_connect(ReasonCode::NotAuthorized, &why),
        }
    }

    fn refuse_connect(&mut self, reason_code: ReasonCode, why: &str) -> Flow {
        self.shared.reject(why);
        self.out.push(Packet::ConnAck(ConnAck {
            session_present: false,
            reason_code,
            properties: LazyBox::new(ConnAckProperties {
                reason_string: Some(why.into()),
                ..ConnAckProperties::default()
            }),
        }));
        Flow::Close
    }

    fn on_reauth(&mut self, state: Reauth, auth: &Auth) -> Flow {
        if auth.properties.authentication_method.as_deref() != Some(METHOD) {
            return self.disconnect(
                ReasonCode::BadAuthenticationMethod,
                "another authentication method",
            );
        }
        let data = auth.properties.authentication_data.as_deref();
        let first = match (auth.reason_code, state) {
            // The client opens a re-authentication (maybe just as the
            // server asked for one).
            (ReasonCode::ReAuthenticate, Reauth::Idle | Reauth::AwaitClientFirst) => self.client_first(data),
            // The client answers the server's request for one.
            (ReasonCode::ContinueAuthentication, Reauth::AwaitClientFirst) => self.client_first(data),
            (ReasonCode::ContinueAuthentication, Reauth::AwaitClientFinal(pending)) => {
                return match self.client_final(&pending, data) {
                    Ok(server_final) => {
                        self.shared.count(|s| {
                            s.authenticated += 1;
                            s.reauthenticated += 1;
                        });
                        self.out
                            .push(auth_packet(ReasonCode::Success, Some(Bytes::from(server_final))));
                        Flow::Continue
                    }
                    Err(why) => self.disconnect(ReasonCode::NotAuthorized, &why),
                };
            }
            _ => return self.disconnect(ReasonCode::ProtocolError, "unexpected AUTH"),
        };
        match first {
            Ok(pending) => {
                self.out.push(auth_packet(
                    ReasonCode::ContinueAuthentication,
                    Some(Bytes::from(pending.server_first.clone())),
                ));
                self.phase = Phase::Connected(Reauth::AwaitClientFinal(pending));
                Flow::Continue
            }
            Err(why) => self.disconnect(ReasonCode::NotAuthorized, &why),
        }
    }

    fn request_reauthentication(&mut self) {
        if let Phase::Connected(Reauth::Idle) = self.phase {
            self.out.push(auth_packet(ReasonCode::ReAuthenticate, None));
            self.phase = Phase::Connected(Reauth::AwaitClientFirst);
        }
    }

    /// Sends DISCONNECT and closes; authentication failures count as refusals.
    fn disconnect(&mut self, reason_code: ReasonCode, why: &str) -> Flow {
        if reason_code != ReasonCode::ProtocolError {
            self.shared.reject(why);
        }
        self.out.push(Packet::Disconnect(Disconnect {
            reason_code,
            properties: LazyBox::new(DisconnectProperties {
                reason_string: Some(why.into()),
                ..DisconnectProperties::default()
            }),
        }));
        Flow::Close
    }

    fn client_first(&self, data: Option<&[u8]>) -> Result<Pending, String> {
        let data = data.ok_or("no client-first-message")?;
        let mut random = [0u8; SERVER_NONCE_BYTES];
        getrandom::fill(&mut random).map_err(|e| format!("no random numbers: {e}"))?;
        Pending::new(&self.shared.config, data, &BASE64.encode(random))
    }

    fn client_final(&self, pending: &Pending, data: Option<&[u8]>) -> Result<String, String> {
        let data = data.ok_or("no client-final-message")?;
        let mut signature = pending.verify(self.shared.keys(), data)?;
        if self.shared.config.fault == Fault::BadServerSignature {
            if let Some(byte) = signature.first_mut() {
                *byte ^= 0x01;
            }
        }
        Ok(format!("v={}", BASE64.encode(signature)))
    }

    fn on_session_packet(&mut self, packet: Packet) -> Flow {
        match packet {
            Packet::Publish(publish) => return self.on_publish(publish),
            Packet::PubRel(rel) => {
                let mut comp = PubComp::new(rel.packet_id);
                if !self.incoming_qos2.remove(&rel.packet_id) {
                    comp.reason_code = ReasonCode::PacketIdentifierNotFound;
                }
                self.out.push(Packet::PubComp(comp));
            }
            Packet::PubAck(ack) => {
                self.outgoing.remove(&ack.packet_id);
            }
            Packet::PubRec(rec) => {
                if rec.reason_code.is_error() {
                    self.outgoing.remove(&rec.packet_id);
                } else {
                    self.out.push(Packet::PubRel(PubRel::new(rec.packet_id)));
                }
            }
            Packet::PubComp(comp) => {
                self.outgoing.remove(&comp.packet_id);
            }
            Packet::Subscribe(subscribe) => self.on_subscribe(subscribe),
            Packet::Unsubscribe(unsubscribe) => self.on_unsubscribe(unsubscribe),
            Packet::PingReq => self.out.push(Packet::PingResp),
            Packet::Disconnect(_) => {
                self.shared.count(|s| s.disconnects += 1);
                return Flow::Close;
            }
            _ => return self.disconnect(ReasonCode::ProtocolError, "unexpected packet"),
        }
        Flow::Continue
    }

    fn on_publish(&mut self, publish: Publish) -> Flow {
        self.shared.count(|s| s.publishes += 1);
        let fresh = match (publish.qos, publish.packet_id) {
            (QoS::AtMostOnce, _) => true,
            (QoS::AtLeastOnce, Some(id)) => {
                self.out.push(Packet::PubAck(PubAck::new(id)));
                true
            }
            (QoS::ExactlyOnce, Some(id)) => {
                self.out.push(Packet::PubRec(PubRec::new(id)));
                // A resend of one already received is not delivered again.
                self.incoming_qos2.insert(id)
            }
            (_, None) => return self.disconnect(ReasonCode::ProtocolError, "QoS 1/2 PUBLISH without id"),
        };
        if fresh {
            self.echo(publish);
        }
        Flow::Continue
    }

    /// Sends `publish` back if a subscription matches: once, at the highest
    /// QoS the matching subscriptions allow.
    fn echo(&mut self, publish: Publish) {
        let mut granted: Option<QoS> = None;
        let mut retain = false;
        let mut identifiers = Vec::new();
        for (filter, options, identifier) in &self.subscriptions {
            if options.no_local || !topic::matches(filter, &publish.topic) {
                continue;
            }
            granted = Some(granted.map_or(options.qos, |q| q.max(options.qos)));
            retain |= options.retain_as_published && publish.retain;
            identifiers.extend(*identifier);
        }
        let Some(granted) = granted else {
            return;
        };
        let qos = publish.qos.min(granted);
        let packet_id = if qos == QoS::AtMostOnce {
            None
        } else {
            let Some(id) = self.next_packet_id() else {
                return;
            };
            self.outgoing.insert(id, qos);
            Some(id)
        };
        let mut properties = publish.properties.get().cloned().unwrap_or_default();
        properties.topic_alias = None;
        properties.subscription_identifiers = identifiers;
        self.out.push(Packet::Publish(Publish {
            dup: false,
            qos,
            retain,
            topic: publish.topic,
            packet_id,
            properties: LazyBox::new(properties),
            payload: publish.payload,
        }));
        self.shared.count(|s| s.echoed += 1);
    }

    /// A packet id not in use by our own publishes; `None` when all are.
    fn next_packet_id(&mut self) -> Option<PacketId> {
        for _ in 0..u16::MAX {
            self.next_id = self.next_id.wrapping_add(1);
            if let Some(id) = PacketId::new(self.next_id) {
                if !self.outgoing.contains_key(&id) {
                    return Some(id);
                }
            }
        }
        None
    }

    fn on_subscribe(&mut self, subscribe: Subscribe) {
        let identifier = subscribe.properties.subscription_identifier;
        let mut reason_codes = Vec::with_capacity(subscribe.filters.len());
        for (filter, options) in subscribe.filters {
            if !topic::valid_topic_filter(&filter) {
                reason_codes.push(ReasonCode::TopicFilterInvalid);
                continue;
            }
            reason_codes.push(match options.qos {
                QoS::AtMostOnce => ReasonCode::GRANTED_QOS0,
                QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
                QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
            });
            let filter = filter.to_string();
            self.subscriptions.retain(|(f, _, _)| *f != filter);
            self.subscriptions.push((filter, options, identifier));
        }
        self.out.push(Packet::SubAck(SubAck {
            packet_id: subscribe.packet_id,
            reason_codes,
            properties: LazyBox::<AckProperties>::default(),
        }));
    }

    fn on_unsubscribe(&mut self, unsubscribe: Unsubscribe) {
        let reason_codes = unsubscribe
            .filters
            .iter()
            .map(|filter| {
                let before = self.subscriptions.len();
                self.subscriptions.retain(|(f, _, _)| f.as_str() != &**filter);
                if self.subscriptions.len() < before {
                    ReasonCode::Success
                } else {
                    ReasonCode::NoSubscriptionExisted
                }
            })
            .collect();
        self.out.push(Packet::UnsubAck(UnsubAck {
            packet_id: unsubscribe.packet_id,
            reason_codes,
            properties: LazyBox::default(),
        }));
    }
}

/// AUTH with the method and, maybe, data.
fn auth_packet(reason_code: ReasonCode, data: Option<Bytes>) -> Packet {
    Packet::Auth(Auth {
        reason_code,
        properties: LazyBox::new(AuthProperties {
            authentication_method: Some(METHOD.into()),
            authentication_data: data,
            ..AuthProperties::default()
        }),
    })
}

/// The server's keys for the configured password.
struct Keys {
    stored_key: [u8; 32],
    server_key: [u8; 32],
}

impl Keys {
    fn derive(password: &str, salt: &[u8], iterations: u32) -> Keys {
        let mut salted_password = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations.max(1), &mut salted_password);
        Keys {
            stored_key: Sha256::digest(hmac(&salted_password, b"Client Key")).into(),
            server_key: hmac(&salted_password, b"Server Key"),
        }
    }
}

/// An exchange after the server-first-message.
#[derive(Debug, Clone)]
struct Pending {
    /// `n,,` (or `y,,`, or with an authzid), exactly as the client sent it.
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    /// The client's nonce and ours.
    nonce: String,
}

impl Pending {
    /// Reads a client-first-message and makes the server-first-message,
    /// adding `server_nonce` to the client's.
    fn new(config: &ScramConfig, client_first: &[u8], server_nonce: &str) -> Result<Pending, String> {
        let text = std::str::from_utf8(client_first).map_err(|_| "client-first-message is not UTF-8")?;
        let (cbind, rest) = text.split_once(',').ok_or("malformed client-first-message")?;
        let (authzid, bare) = rest.split_once(',').ok_or("malformed client-first-message")?;
        match cbind {
            "n" | "y" => {}
            _ if cbind.starts_with("p=") => return Err("channel binding is not supported".into()),
            _ => return Err("malformed GS2 header".into()),
        }
        if !(authzid.is_empty() || authzid.starts_with("a=")) {
            return Err("malformed GS2 header".into());
        }
        let gs2_header = format!("{cbind},{authzid},");
        let mut attributes = bare.split(',');
        let user = attributes
            .next()
            .and_then(|a| a.strip_prefix("n="))
            .ok_or("malformed client-first-message (n=)")?;
        let client_nonce = attributes
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or("malformed client-first-message (r=)")?;
        if client_nonce.is_empty() || !client_nonce.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
            return Err("malformed client nonce".into());
        }
        if unescape_saslname(user).as_deref() != Some(config.username.as_str()) {
            return Err(format!("unknown user {user:?}"));
        }
        let nonce = format!("{client_nonce}{server_nonce}");
        let server_first = format!(
            "r={nonce},s={},i={}",
            BASE64.encode(&config.salt),
            config.iterations
        );
        Ok(Pending {
            gs2_header,
            client_first_bare: bare.to_string(),
            server_first,
            nonce,
        })
    }

    /// Checks the client-final-message's proof; the server signature if
    /// it holds.
    fn verify(&self, keys: &Keys, client_final: &[u8]) -> Result<[u8; 32], String> {
        let text = std::str::from_utf8(client_final).map_err(|_| "client-final-message is not UTF-8")?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or("malformed client-final-message (p=)")?;
        let mut attributes = without_proof.split(',');
        let binding = attributes
            .next()
            .and_then(|a| a.strip_prefix("c="))
            .ok_or("malformed client-final-message (c=)")?;
        if BASE64.decode(binding).ok().as_deref() != Some(self.gs2_header.as_bytes()) {
            return Err("channel binding does not match the GS2 header".into());
        }
        let nonce = attributes
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or("malformed client-final-message (r=)")?;
        if nonce != self.nonce {
            return Err("wrong nonce in client-final-message".into());
        }
        let proof: [u8; 32] = BASE64
            .decode(proof)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or("malformed client proof")?;
        let auth_message = format!("{},{},{without_proof}", self.client_first_bare, self.server_first);
        let client_signature = hmac(&keys.stored_key, auth_message.as_bytes());
        let mut client_key = proof;
        for (k, s) in client_key.iter_mut().zip(client_signature) {
            *k ^= s;
        }
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        if stored_key != keys.stored_key {
            return Err("invalid proof: wrong password".into());
        }
        Ok(hmac(&keys.server_key, auth_message.as_bytes()))
    }
}

/// A saslname back to the user name: `=2C` is `,`, `=3D` is `=`, any
/// other `=` is malformed.
fn unescape_saslname(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('=') {
        out.push_str(rest.get(..at)?);
        let escape = rest.get(at..at + 3)?;
        out.push(match escape {
            "=2C" => ',',
            "=3D" => '=',
            _ => return None,
        });
        rest = rest.get(at + 3..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// HMAC-SHA-256.
fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqttx::auth::{Authenticator, ScramSha256};
    use mqttx::AuthResponse;

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn rfc_config() -> ScramConfig {
        let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        ScramConfig::new("user", "pencil").salt(salt)
    }

    /// RFC 7677's example, from the server's side.
    #[test]
    fn rfc7677_test_vector() {
        let config = rfc_config();
        let pending = Pending::new(
            &config,
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        )
        .unwrap();
        assert_eq!(
            pending.server_first,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        );
        let keys = Keys::derive(&config.password, &config.salt, config.iterations);
        let client_final =
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let signature = pending.verify(&keys, client_final.as_bytes()).unwrap();
        assert_eq!(
            BASE64.encode(signature),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );

        let wrong = client_final.replace("p=dHzb", "p=eHzb");
        assert!(pending
            .verify(&keys, wrong.as_bytes())
            .unwrap_err()
            .contains("wrong password"));
        let other_nonce = client_final.replace("k0,p=", "k1,p=");
        assert!(pending.verify(&keys, other_nonce.as_bytes()).is_err());
        for malformed in ["", "p=", "c=biws", "c=,r=,p=", "c=biws,r=x,p=***", "\u{0},p=AAAA"] {
            assert!(
                pending.verify(&keys, malformed.as_bytes()).is_err(),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn client_first_messages() {
        let config = ScramConfig::new("a,b=c", "pw");
        assert!(Pending::new(&config, b"n,,n=a=2Cb=3Dc,r=abc", "xyz").is_ok());
        assert!(Pending::new(&config, b"y,a=who,n=a=2Cb=3Dc,r=abc", "xyz").is_ok());
        for bad in [
            &b""[..],
            b"n,,",
            b"n,,n=a=2Cb=3Dc",
            b"n,,n=a=2Cb=3Dc,r=",
            b"n,,n=a,b=c,r=abc",
            b"n,,n=a=2Cb=3,r=abc",
            b"p=tls-unique,,n=a=2Cb=3Dc,r=abc",
            b"x,,n=a=2Cb=3Dc,r=abc",
            b"n,,r=abc,n=a=2Cb=3Dc",
            &[0xff, b','],
        ] {
            assert!(
                Pending::new(&config, bad, "xyz").is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(unescape_saslname("=2C=3D="), None);
        assert_eq!(unescape_saslname("x=2Cy").as_deref(), Some("x,y"));
    }

    /// A client made of the raw codec and mqttx's SCRAM client.
    struct RawClient {
        stream: TcpStream,
        buf: BytesMut,
    }

    impl RawClient {
        async fn connect(port: u16, method: &str, data: Option<Bytes>) -> RawClient {
            let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let mut client = RawClient {
                stream,
                buf: BytesMut::new(),
            };
            let mut connect = Connect {
                protocol: ProtocolVersion::V5,
                clean_start: true,
                client_id: "scram-test".into(),
                ..Connect::default()
            };
            connect.properties.authentication_method = Some(method.into());
            connect.properties.authentication_data = data;
            client.send(Packet::Connect(Box::new(connect))).await;
            client
        }

        async fn send(&mut self, packet: Packet) {
            let mut out = BytesMut::new();
            encode(&packet, ProtocolVersion::V5, &mut out).unwrap();
            self.stream.write_all(&out).await.unwrap();
        }

        async fn recv(&mut self) -> Option<Packet> {
            loop {
                if let Some(packet) = decode(&mut self.buf, ProtocolVersion::V5, MAX_PACKET).unwrap() {
                    return Some(packet);
                }
                let n = tokio::time::timeout(TIMEOUT, self.stream.read_buf(&mut self.buf))
                    .await
                    .unwrap()
                    .unwrap();
                if n == 0 {
                    return None;
                }
            }
        }

        /// Answers challenges with `scram` until the exchange ends.
        async fn exchange(&mut self, scram: &ScramSha256) -> Packet {
            loop {
                match self.recv().await.unwrap() {
                    Packet::Auth(auth) if auth.reason_code != ReasonCode::Success => {
                        match scram.answer(&auth) {
                            AuthResponse::Continue(data) => {
                                self.send(auth_packet(ReasonCode::ContinueAuthentication, Some(data)))
                                    .await
                            }
                            AuthResponse::Done => panic!("the SCRAM client refused {auth:?}"),
                        }
                    }
                    other => return other,
                }
            }
        }
    }

    fn connack_data(packet: &Packet) -> Option<&[u8]> {
        match packet {
            Packet::ConnAck(c) => c.properties.authentication_data.as_deref(),
            Packet::Auth(a) => a.properties.authentication_data.as_deref(),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_scram_client_connects_reauthenticates_and_publishes() {
        let server = ScramServer::start(ScramConfig::new("user", "pencil")).unwrap();
        let scram = ScramSha256::new("user", "pencil");
        let mut client = RawClient::connect(server.port(), METHOD, scram.start()).await;
        let connack = client.exchange(&scram).await;
        let Packet::ConnAck(ack) = &connack else {
            panic!("{connack:?}")
        };
        assert_eq!(ack.reason_code, ReasonCode::Success);
        scram.finish(connack_data(&connack)).unwrap();

        // Subscribe, publish QoS 1 and 2, get them back.
        let mut subscribe = Subscribe {
            packet_id: PacketId::new(1).unwrap(),
            filters: vec![("a/+".into(), SubscriptionOptions::new(QoS::ExactlyOnce))],
            properties: Default::default(),
        };
        subscribe.properties.subscription_identifier = Some(7);
        client.send(Packet::Subscribe(subscribe)).await;
        let Some(Packet::SubAck(suback)) = client.recv().await else {
            panic!("no SUBACK")
        };
        assert_eq!(suback.reason_codes, [ReasonCode::GrantedQoS2]);

        client
            .send(Packet::Publish(
                Publish::new("a/b", "one").qos(QoS::AtLeastOnce).packet_id(2),
            ))
            .await;
        let mut got = Vec::new();
        while got.len() < 2 {
            got.push(client.recv().await.unwrap());
        }
        assert!(
            got.iter()
                .any(|p| matches!(p, Packet::PubAck(a) if a.packet_id.get() == 2)),
            "{got:?}"
        );
        let echo = got
            .iter()
            .find_map(|p| match p {
                Packet::Publish(p) => Some(p.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!((echo.qos, &echo.payload[..]), (QoS::AtLeastOnce, &b"one"[..]));
        assert_eq!(echo.properties.subscription_identifiers, [7]);
        client
            .send(Packet::PubAck(PubAck::new(echo.packet_id.unwrap())))
            .await;

        client
            .send(Packet::Publish(
                Publish::new("a/c", "two").qos(QoS::ExactlyOnce).packet_id(3),
            ))
            .await;
        let mut echo_id = None;
        for _ in 0..2 {
            match client.recv().await.unwrap() {
                Packet::PubRec(rec) => assert_eq!(rec.packet_id.get(), 3),
                Packet::Publish(p) if p.qos == QoS::ExactlyOnce && &p.payload[..] == b"two" => {
                    echo_id = p.packet_id
                }
                other => panic!("{other:?}"),
            }
        }
        let echo_id = echo_id.unwrap();
        client
            .send(Packet::PubRel(PubRel::new(PacketId::new(3).unwrap())))
            .await;
        assert!(matches!(client.recv().await, Some(Packet::PubComp(c)) if c.packet_id.get() == 3));
        client.send(Packet::PubRec(PubRec::new(echo_id))).await;
        assert!(matches!(client.recv().await, Some(Packet::PubRel(r)) if r.packet_id == echo_id));
        client.send(Packet::PubComp(PubComp::new(echo_id))).await;

        // The server asks for a re-authentication; the client answers.
        server.request_reauthentication();
        let done = client.exchange(&scram).await;
        assert!(
            matches!(&done, Packet::Auth(a) if a.reason_code == ReasonCode::Success),
            "{done:?}"
        );
        scram.finish(connack_data(&done)).unwrap();

        // The client opens one.
        client
            .send(auth_packet(ReasonCode::ReAuthenticate, scram.start()))
            .await;
        let done = client.exchange(&scram).await;
        scram.finish(connack_data(&done)).unwrap();

        client.send(Packet::PingReq).await;
        assert_eq!(client.recv().await, Some(Packet::PingResp));
        client.send(Packet::Disconnect(Disconnect::default())).await;
        assert_eq!(client.recv().await, None);

        let stats = server.wait_for(TIMEOUT, |s| s.disconnects == 1).await.unwrap();
        assert_eq!(
            (
                stats.connects,
                stats.authenticated,
                stats.reauthenticated,
                stats.rejected
            ),
            (1, 3, 2, 0)
        );
        assert_eq!((stats.publishes, stats.echoed), (2, 2));
    }

    #[tokio::test]
    async fn wrong_password_method_and_signature() {
        let server = ScramServer::start(ScramConfig::new("user", "pencil")).unwrap();

        let scram = ScramSha256::new("user", "crayon");
        let mut client = RawClient::connect(server.port(), METHOD, scram.start()).await;
        let Packet::ConnAck(ack) = client.exchange(&scram).await else {
            panic!("no CONNACK")
        };
        assert_eq!(ack.reason_code, ReasonCode::NotAuthorized);
        assert!(ack
            .properties
            .reason_string
            .as_deref()
            .unwrap()
            .contains("wrong password"));
        assert_eq!(client.recv().await, None);

        let mut client = RawClient::connect(server.port(), "PLAIN", None).await;
        let Some(Packet::ConnAck(ack)) = client.recv().await else {
            panic!("no CONNACK")
        };
        assert_eq!(ack.reason_code, ReasonCode::BadAuthenticationMethod);

        let stats = server.wait_for(TIMEOUT, |s| s.rejected == 2).await.unwrap();
        assert_eq!((stats.connects, stats.authenticated), (2, 0));

        let liar =
            ScramServer::start(ScramConfig::new("user", "pencil").fault(Fault::BadServerSignature)).unwrap();
        let scram = ScramSha256::new("user", "pencil");
        let mut client = RawClient::connect(liar.port(), METHOD, scram.start()).await;
        let connack = client.exchange(&scram).await;
        assert!(matches!(&connack, Packet::ConnAck(a) if a.reason_code == ReasonCode::Success));
        assert!(scram.finish(connack_data(&connack)).is_err());
    }
}
