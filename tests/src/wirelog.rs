//! What crossed a proxy, packet by packet: a record of every MQTT packet a
//! relay forwarded, decoded with our own codec, so that a test that sees
//! a message twice can print the exchange that led to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::BytesMut;
use mqttx::packet::{decode, Packet, ProtocolVersion};

/// One packet as it crossed.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Which proxied connection (numbered from 1 in accept order).
    pub connection: u64,
    /// Client to broker (`true`) or broker to client.
    pub to_broker: bool,
    /// The packet type, as the specification spells it.
    pub kind: &'static str,
    /// PUBLISH and its acknowledgements only.
    pub packet_id: Option<u16>,
    /// A PUBLISH's DUP flag.
    pub dup: bool,
    /// For a PUBLISH: its topic and the first four payload bytes as a
    /// big-endian number (how the loss tests number their messages).
    pub topic: Option<String>,
    /// See `topic`.
    pub number: Option<u32>,
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let arrow = if self.to_broker { "->" } else { "<-" };
        write!(f, "conn {} {arrow} {}", self.connection, self.kind)?;
        if let Some(id) = self.packet_id {
            write!(f, " id {id}")?;
        }
        if self.dup {
            write!(f, " DUP")?;
        }
        if let (Some(topic), Some(n)) = (&self.topic, self.number) {
            write!(f, " {topic} #{n}")?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Inner {
    entries: Vec<Entry>,
    client_ids: HashMap<u64, String>,
}

/// The shared record; cheap to clone.
#[derive(Clone, Default)]
pub struct WireLog(Arc<Mutex<Inner>>);

impl WireLog {
    /// A decoder for one direction of one connection; one that records
    /// nothing unless `recording`.
    pub fn watch(&self, connection: u64, to_broker: bool, recording: bool) -> Watcher {
        Watcher {
            log: self.clone(),
            connection,
            to_broker,
            buf: BytesMut::new(),
            broken: !recording,
        }
    }

    /// The first client id seen that ends with `suffix`.
    pub fn client_ending_with(&self, suffix: &str) -> Option<String> {
        let inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ids: Vec<_> = inner
            .client_ids
            .iter()
            .filter(|(_, id)| id.ends_with(suffix))
            .collect();
        ids.sort();
        ids.first().map(|(_, id)| (*id).clone())
    }

    /// Everything recorded for connections of `client_id` where `keep`
    /// holds, in the order it crossed.
    pub fn of_client(&self, client_id: &str, keep: impl Fn(&Entry) -> bool) -> Vec<Entry> {
        let inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .entries
            .iter()
            .filter(|e| {
                inner
                    .client_ids
                    .get(&e.connection)
                    .is_some_and(|id| id == client_id)
            })
            .filter(|e| keep(e))
            .cloned()
            .collect()
    }
}

/// Decodes one direction's bytes as they are relayed.
pub struct Watcher {
    log: WireLog,
    connection: u64,
    to_broker: bool,
    buf: BytesMut,
    /// Set on a decode error, or when not recording: the rest of this
    /// stream is not recorded.
    broken: bool,
}

impl Watcher {
    /// Records every whole packet in `bytes` (and what earlier calls left).
    pub fn saw(&mut self, bytes: &[u8]) {
        if self.broken {
            return;
        }
        self.buf.extend_from_slice(bytes);
        loop {
            match decode(&mut self.buf, ProtocolVersion::V5, u32::MAX) {
                Ok(Some(packet)) => self.record(packet),
                Ok(None) => return,
                Err(_) => {
                    self.broken = true;
                    return;
                }
            }
        }
    }

    fn record(&self, packet: Packet) {
        let mut entry = Entry {
            connection: self.connection,
            to_broker: self.to_broker,
            kind: packet.name(),
            packet_id: None,
            dup: false,
            topic: None,
            number: None,
        };
        let mut inner = self.log.0.lock().unwrap_or_else(PoisonError::into_inner);
        match packet {
            Packet::Connect(connect) => {
                inner
                    .client_ids
                    .insert(self.connection, connect.client_id.to_string());
            }
            Packet::Publish(p) => {
                entry.packet_id = p.packet_id.map(|id| id.get());
                entry.dup = p.dup;
                entry.topic = Some(p.topic.to_string());
                entry.number = p
                    .payload
                    .get(..4)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_be_bytes);
            }
            Packet::PubAck(a) => entry.packet_id = Some(a.packet_id.get()),
            Packet::PubRec(a) => entry.packet_id = Some(a.packet_id.get()),
            Packet::PubRel(a) => entry.packet_id = Some(a.packet_id.get()),
            Packet::PubComp(a) => entry.packet_id = Some(a.packet_id.get()),
            _ => {}
        }
        inner.entries.push(entry);
    }
}
