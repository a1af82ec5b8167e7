//! The stand-in server's one connection: built on mqttx's codec, one task,
//! one core. It answers CONNECT and SUBSCRIBE, then either pours PUBLISHes
//! at the client (firehose) or takes the client's and acknowledges them
//! at once (sink). Whatever it does per message is a few nanoseconds next
//! to the client's work, so the client sets the rate.

use bytes::{BufMut, BytesMut};
use mqttx::packet::{decode, encode, ConnAck, Packet, PubAck, PubComp, PubRec, PubRel, SubAck};
use mqttx::{ProtocolVersion, Publish, QoS, ReasonCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Mode, Tally};

/// The window for a client that announces none (3.1.1 cannot): as the
/// bench's mosquitto, with no in-flight limit, would allow.
const UNANNOUNCED_WINDOW: u16 = u16::MAX;
/// Bytes of PUBLISHes the firehose keeps ready to write.
const WRITE_CHUNK: usize = 64 * 1024;
/// The topic every firehose PUBLISH goes to.
pub const TOPIC: &str = "standin/firehose";

/// Serves one client until it disconnects or `count` messages have gone
/// through, and says how many did.
pub async fn serve(mut stream: TcpStream, mode: Mode, qos: QoS, count: u64) -> std::io::Result<Tally> {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.split();
    let mut input = BytesMut::with_capacity(256 * 1024);
    let mut output = BytesMut::with_capacity(2 * WRITE_CHUNK);
    let mut peer = Peer::default();
    let mut tally = Tally::default();
    let mut firehose = Firehose::new(qos);
    loop {
        if mode == Mode::Firehose && peer.subscribed {
            firehose.fill(&mut output, &mut peer, &mut tally, count);
        }
        if mode == Mode::Firehose && tally.messages >= count && peer.in_flight == 0 && output.is_empty() {
            return Ok(tally);
        }
        tokio::select! {
            read = reader.read_buf(&mut input) => {
                if read? == 0 {
                    return Ok(tally);
                }
                while let Some(packet) = decode(&mut input, peer.version, u32::MAX).map_err(invalid)? {
                    if let Packet::Disconnect(_) = packet {
                        // As a broker does: the client waits for the close.
                        return Ok(tally);
                    }
                    peer.take(packet, &mut output, &mut tally)?;
                }
            }
            written = writer.write_buf(&mut output), if !output.is_empty() => {
                written?;
            }
        }
    }
}

/// What the server knows of its client.
struct Peer {
    version: ProtocolVersion,
    window: u16,
    subscribed: bool,
    in_flight: u16,
}

impl Default for Peer {
    fn default() -> Self {
        Peer {
            version: ProtocolVersion::V5,
            window: UNANNOUNCED_WINDOW,
            subscribed: false,
            in_flight: 0,
        }
    }
}

impl Peer {
    /// Answers one packet from the client.
    fn take(&mut self, packet: Packet, out: &mut BytesMut, tally: &mut Tally) -> std::io::Result<()> {
        let reply = match packet {
            Packet::Connect(connect) => {
                self.version = connect.protocol;
                self.window = connect.properties.receive_maximum.unwrap_or(UNANNOUNCED_WINDOW);
                Some(Packet::ConnAck(ConnAck::default()))
            }
            Packet::Subscribe(sub) => {
                self.subscribed = true;
                let granted = sub.filters.iter().map(|(_, o)| granted(o.qos)).collect();
                Some(Packet::SubAck(SubAck {
                    packet_id: sub.packet_id,
                    reason_codes: granted,
                    properties: Default::default(),
                }))
            }
            Packet::Publish(publish) => {
                tally.messages += 1;
                tally.bytes += publish.payload.len() as u64;
                match (publish.qos, publish.packet_id) {
                    (QoS::AtLeastOnce, Some(id)) => Some(Packet::PubAck(PubAck::new(id))),
                    (QoS::ExactlyOnce, Some(id)) => Some(Packet::PubRec(PubRec::new(id))),
                    _ => None,
                }
            }
            Packet::PubRel(rel) => Some(Packet::PubComp(PubComp::new(rel.packet_id))),
            Packet::PubAck(_) | Packet::PubComp(_) => {
                self.in_flight = self.in_flight.saturating_sub(1);
                None
            }
            Packet::PubRec(rec) => Some(Packet::PubRel(PubRel::new(rec.packet_id))),
            Packet::PingReq => Some(Packet::PingResp),
            other => return Err(invalid(format!("unexpected {}", other.name()))),
        };
        if let Some(reply) = reply {
            encode(&reply, self.version, out).map_err(invalid)?;
        }
        Ok(())
    }
}

fn granted(qos: QoS) -> ReasonCode {
    match qos {
        QoS::AtMostOnce => ReasonCode::GRANTED_QOS0,
        QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
        QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
    }
}

/// The PUBLISHes the firehose writes. QoS 0 copies one pre-encoded block
/// over and over; QoS 1/2 encode each message with its own packet
/// identifier, never more in flight than the client's Receive Maximum.
struct Firehose {
    qos: QoS,
    block: BytesMut,
    /// Where each message's payload starts in `block`.
    payload_at: Vec<usize>,
    next_id: u16,
}

impl Firehose {
    fn new(qos: QoS) -> Firehose {
        Firehose {
            qos,
            block: BytesMut::new(),
            payload_at: Vec::new(),
            next_id: 0,
        }
    }

    fn fill(&mut self, out: &mut BytesMut, peer: &mut Peer, tally: &mut Tally, count: u64) {
        if self.qos == QoS::AtMostOnce {
            self.fill_qos0(out, peer.version, tally, count);
            return;
        }
        while out.len() < WRITE_CHUNK && tally.messages < count && peer.in_flight < peer.window {
            self.next_id = self.next_id.checked_add(1).unwrap_or(1);
            let payload = crate::tally::payload(tally.messages as u32);
            let publish = Publish::new(TOPIC, payload).qos(self.qos).packet_id(self.next_id);
            if encode(&Packet::Publish(publish), peer.version, out).is_err() {
                return;
            }
            // Acknowledged in `Peer::take`.
            peer.in_flight += 1;
            tally.messages += 1;
            tally.bytes += crate::PAYLOAD as u64;
        }
    }

    fn fill_qos0(&mut self, out: &mut BytesMut, version: ProtocolVersion, tally: &mut Tally, count: u64) {
        if self.block.is_empty() {
            while self.block.len() < WRITE_CHUNK {
                let publish = Publish::new(TOPIC, crate::tally::payload(0));
                if encode(&Packet::Publish(publish), version, &mut self.block).is_err() {
                    return;
                }
                self.payload_at.push(self.block.len() - crate::PAYLOAD);
            }
        }
        let per_block = self.payload_at.len() as u64;
        while out.len() < WRITE_CHUNK && tally.messages < count {
            if count - tally.messages >= per_block {
                // The block again, each payload given its own sequence number,
                // so the client's tally still sees every message once.
                let base = out.len();
                out.put_slice(&self.block);
                for (i, at) in self.payload_at.iter().enumerate() {
                    let seq = (tally.messages + i as u64) as u32;
                    out[base + at..base + at + 4].copy_from_slice(&seq.to_be_bytes());
                }
                tally.messages += per_block;
            } else {
                let publish = Publish::new(TOPIC, crate::tally::payload(tally.messages as u32));
                if encode(&Packet::Publish(publish), version, out).is_err() {
                    return;
                }
                tally.messages += 1;
            }
        }
        tally.bytes = tally.messages * crate::PAYLOAD as u64;
    }
}

fn invalid(err: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, err.to_string())
}
