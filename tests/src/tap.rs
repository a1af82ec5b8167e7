//! A TCP relay between a client and a real broker that decodes both
//! directions with mqttx's codec and counts what crosses, so a test can
//! assert wire-level facts (how many QoS 1/2 publishes were outstanding at
//! once) against a real broker. It forwards bytes untouched.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::BytesMut;
use mqttx::packet::{decode, Packet, PacketId, ProtocolVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Wire counts for all connections through a [`Tap`].
#[derive(Debug, Default, Clone)]
pub struct WireStats {
    /// PUBLISH packets sent by the client (QoS 1/2, resends included).
    pub client_publishes: u64,
    /// Acknowledgements (PUBACK or PUBCOMP) sent by the broker.
    pub broker_completions: u64,
    /// The most QoS 1/2 publishes the client had outstanding at once.
    pub max_outstanding: usize,
    /// PUBACK and PUBREC packets sent by the client (its acknowledgements
    /// of the broker's QoS 1/2 publishes).
    pub client_acks: u64,
    /// PINGREQ packets sent by the client.
    pub client_pings: u64,
    /// PUBLISH packets (any QoS) the broker sent to the client.
    pub broker_publishes: u64,
    /// The largest packet the client sent, in bytes (fixed header included).
    pub largest_client_packet: usize,
    outstanding: HashSet<PacketId>,
}

/// A relay on a free loopback port in front of `127.0.0.1:upstream`.
pub struct Tap {
    port: u16,
    stats: Arc<Mutex<WireStats>>,
    task: tokio::task::JoinHandle<()>,
}

impl Tap {
    /// Starts relaying; the protocol version decides how packets are decoded.
    pub async fn start(upstream: u16, version: ProtocolVersion) -> std::io::Result<Tap> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let stats = Arc::new(Mutex::new(WireStats::default()));
        let shared = Arc::clone(&stats);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    continue;
                };
                let stats = Arc::clone(&shared);
                tokio::spawn(relay(client, server, version, stats));
            }
        });
        Ok(Tap { port, stats, task })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A snapshot of the counts.
    pub fn stats(&self) -> WireStats {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(client: TcpStream, server: TcpStream, version: ProtocolVersion, stats: Arc<Mutex<WireStats>>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let upstream = pump(client_read, server_write, version, Arc::clone(&stats), true);
    let downstream = pump(server_read, client_write, version, stats, false);
    tokio::join!(upstream, downstream);
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    version: ProtocolVersion,
    stats: Arc<Mutex<WireStats>>,
    from_client: bool,
) {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut pending = BytesMut::new();
    loop {
        let n = match from.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(chunk.get(..n).unwrap_or_default());
        loop {
            let buffered = pending.len();
            let Ok(Some(packet)) = decode(&mut pending, version, u32::MAX) else {
                break;
            };
            let mut stats = stats.lock().unwrap_or_else(PoisonError::into_inner);
            if from_client {
                let size = buffered - pending.len();
                stats.largest_client_packet = stats.largest_client_packet.max(size);
            }
            count(&mut stats, &packet, from_client);
        }
        if to.write_all(chunk.get(..n).unwrap_or_default()).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

fn count(stats: &mut WireStats, packet: &Packet, from_client: bool) {
    match (packet, from_client) {
        (Packet::Publish(p), true) => {
            if let Some(id) = p.packet_id {
                stats.client_publishes += 1;
                stats.outstanding.insert(id);
                stats.max_outstanding = stats.max_outstanding.max(stats.outstanding.len());
            }
        }
        (Packet::PubAck(ack), false) => {
            stats.broker_completions += 1;
            stats.outstanding.remove(&ack.packet_id);
        }
        (Packet::PubComp(comp), false) => {
            stats.broker_completions += 1;
            stats.outstanding.remove(&comp.packet_id);
        }
        (Packet::PubAck(_) | Packet::PubRec(_), true) => stats.client_acks += 1,
        (Packet::PingReq, true) => stats.client_pings += 1,
        (Packet::Publish(_), false) => stats.broker_publishes += 1,
        _ => {}
    }
}
