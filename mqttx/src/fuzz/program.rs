//! What the `protocol` target's bytes mean: the configuration, and the
//! packets and commands that its operations take as arguments.
//!
//! Byte for byte as the kept corpus was made: changing how bytes are read
//! here makes that corpus cover something else.

use bytes::Bytes;

use crate::packet::{
    ByteString, ConnAck, Packet, PacketId, ProtocolVersion, PubAck, PubComp, PubRec, Publish, QoS,
    ReasonCode, SubAck, UnsubAck,
};
use crate::protocol::{Config, Fallback};

use super::server::Server;

/// Topics to publish to, the invalid among them.
const TOPICS: [&str; 8] = ["a", "a/b", "s/+/t", "#", "", "$SYS/x", "a/b/c/d/e/f/g", "t\0"];
/// Filters to subscribe to, the invalid among them.
const FILTERS: [&str; 8] = ["a/#", "+/b", "#", "a/b", "", "a/#/b", "$share/g/a", "$share//a"];

/// The fuzzer's bytes, read front to back; zeros once they run out.
pub(super) struct Input<'a>(pub(super) &'a [u8]);

impl Input<'_> {
    pub(super) fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    pub(super) fn byte(&mut self) -> u8 {
        self.next().unwrap_or(0)
    }

    pub(super) fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    pub(super) fn bytes(&mut self, len: usize) -> &[u8] {
        let (taken, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        taken
    }

    /// Mostly a small id, where collisions happen; sometimes any.
    pub(super) fn id(&mut self) -> PacketId {
        let small = self.byte();
        let id = if small < 0xF0 {
            u16::from(small % 8 + 1)
        } else {
            u16::from_be_bytes([self.byte(), self.byte()])
        };
        PacketId::new(id).unwrap_or(PacketId::MIN)
    }

    pub(super) fn qos(&mut self) -> QoS {
        match self.byte() % 3 {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        }
    }

    /// Success most of the time, any code otherwise.
    pub(super) fn reason(&mut self) -> ReasonCode {
        let byte = self.byte();
        if byte < 0xC0 {
            ReasonCode::Success
        } else {
            ReasonCode::from_u8(byte.wrapping_mul(3)).unwrap_or(ReasonCode::UnspecifiedError)
        }
    }
}

/// The configuration the first bytes pick.
pub(super) fn config(input: &mut Input) -> (Config, bool, bool) {
    let flags = input.byte();
    let bit = |n: u8| flags & (1 << n) != 0;
    let mut config = Config::new("fuzz");
    config.version = if bit(0) {
        ProtocolVersion::V311
    } else {
        ProtocolVersion::V5
    };
    if bit(1) {
        // A session that outlives the connection.
        config.clean_start = false;
        config.connect_properties.session_expiry_interval = Some(3600);
    }
    config.fallback = bit(2).then_some(Fallback { max_inflight: 2 });
    config.keep_alive = if bit(3) { 5 } else { 0 };
    if bit(4) {
        config.connect_properties.request_problem_information = Some(false);
    }
    let limits = input.byte();
    config.max_inflight = u16::from(limits % 5);
    config.max_queued = usize::from(limits >> 5) + 1;
    let ours = input.byte();
    config.connect_properties.receive_maximum = (ours & 3 != 0).then_some(u16::from(ours & 3));
    config.connect_properties.topic_alias_maximum = Some(u16::from((ours >> 2) & 3));
    if bit(5) {
        config.connect_properties.authentication_method = Some("fuzz".into());
    }
    (config, bit(6), bit(7))
}

/// A CONNACK: Success mostly, with the limits the bytes pick.
pub(super) fn connack(input: &mut Input, v5: bool) -> Packet {
    let flags = input.byte();
    let mut connack = ConnAck {
        session_present: flags & 1 != 0,
        reason_code: input.reason(),
        ..ConnAck::default()
    };
    if v5 && flags & 2 != 0 {
        let properties = &mut *connack.properties;
        properties.receive_maximum = Some(u16::from(input.byte() % 4) + 1);
        properties.topic_alias_maximum = Some(u16::from(input.byte() % 4));
        properties.maximum_qos = (flags & 4 != 0).then_some(QoS::AtLeastOnce);
        properties.retain_available = (flags & 8 != 0).then_some(false);
        properties.maximum_packet_size = (flags & 16 != 0).then(|| u32::from(input.byte()) * 4 + 16);
        properties.server_keep_alive = (flags & 32 != 0).then(|| u16::from(input.byte() % 4));
        properties.subscription_identifiers_available = (flags & 64 != 0).then_some(false);
    }
    Packet::ConnAck(connack)
}

/// An acknowledgement of something the client has open, mostly.
pub(super) fn answer(input: &mut Input, server: &Server, v5: bool) -> Packet {
    let kind = input.byte();
    let id = pick(&server.open_ids(), input);
    let reason = input.reason();
    let codes = |server: &Server| vec![reason; server.filters(id).unwrap_or(1)];
    match kind % 5 {
        0 => Packet::PubAck(PubAck {
            reason_code: reason,
            ..PubAck::new(id)
        }),
        1 => Packet::PubRec(PubRec {
            reason_code: reason,
            ..PubRec::new(id)
        }),
        2 => Packet::PubComp(PubComp::new(id)),
        3 => Packet::SubAck(SubAck {
            packet_id: id,
            reason_codes: codes(server),
            properties: Default::default(),
        }),
        _ => Packet::UnsubAck(UnsubAck {
            packet_id: id,
            reason_codes: if v5 { codes(server) } else { Vec::new() },
            properties: Default::default(),
        }),
    }
}

/// An application message from the server.
pub(super) fn server_publish(input: &mut Input, v5: bool) -> Packet {
    let flags = input.byte();
    let topic = TOPICS.get(usize::from(flags >> 5)).copied().unwrap_or_default();
    let mut publish = Publish::new(topic, Bytes::copy_from_slice(input.bytes(usize::from(flags & 3))));
    publish.qos = input.qos();
    if publish.qos != QoS::AtMostOnce {
        publish.packet_id = Some(input.id());
    }
    publish.dup = flags & 4 != 0 && publish.qos != QoS::AtMostOnce;
    if v5 && flags & 8 != 0 {
        publish.properties.topic_alias = PacketId::new(u16::from(input.byte() % 4));
        if flags & 16 != 0 {
            publish.topic = ByteString::new();
        }
    }
    Packet::Publish(publish)
}

/// One of `ids` mostly, any id otherwise.
pub(super) fn pick(ids: &[PacketId], input: &mut Input) -> PacketId {
    let byte = input.byte();
    match ids.get(usize::from(byte) % ids.len().max(1)) {
        Some(&id) if byte < 0xE0 => id,
        _ => input.id(),
    }
}

/// A publish command.
pub(super) fn client_publish(input: &mut Input) -> Publish {
    let flags = input.byte();
    let topic = match TOPICS.get(usize::from(flags & 7)) {
        Some(topic) if flags & 8 == 0 => ByteString::from_static(topic),
        _ => ByteString::from("x".repeat(usize::from(input.byte()) * 4 + 1)),
    };
    let mut publish = Publish::new(
        topic,
        Bytes::copy_from_slice(input.bytes(usize::from(flags >> 6))),
    );
    publish.qos = input.qos();
    publish.retain = flags & 16 != 0;
    if flags & 32 != 0 {
        publish.properties.message_expiry_interval = Some(60);
    }
    publish
}

/// One to three filters of a command.
pub(super) fn filters(input: &mut Input) -> Vec<ByteString> {
    let byte = input.byte();
    (0..usize::from(byte % 3) + 1)
        .filter_map(|n| FILTERS.get(usize::from(byte >> (2 + n)) % FILTERS.len()))
        .map(|filter| ByteString::from_static(filter))
        .collect()
}
