//! The state machine target: the fuzzer's bytes are a program of
//! operations, run against a `Protocol` by a harness that plays the I/O
//! shell (persist, then transmit; close on an error) and the server.
//!
//! After every operation the harness checks what must hold whatever the
//! input: nothing panics; every command's tag comes back exactly once
//! (and all of them once the session is shut down); the store holds every
//! flight before it is written; and the server's rules (see `server.rs`):
//! ids never used twice at once, the window kept, no PUBLISH after its
//! PUBREC, a QoS 2 message never delivered again before its PUBREL, even
//! across a restart of the process from its store.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::packet::{
    decode, encode, Auth, ByteString, ConnAck, Disconnect, Packet, PacketId, ProtocolVersion, PubAck,
    PubComp, PubRec, PubRel, Publish, QoS, ReasonCode, SubAck, SubscribeProperties, SubscriptionOptions,
    UnsubAck, UnsubscribeProperties,
};
use crate::protocol::{Ack, Config, Event, Fallback, Protocol};
use crate::store::image::SessionImage;
use crate::store::SessionChange;

use super::server::Server;

/// Topics to publish to, the invalid among them.
const TOPICS: [&str; 8] = ["a", "a/b", "s/+/t", "#", "", "$SYS/x", "a/b/c/d/e/f/g", "t\0"];
/// Filters to subscribe to, the invalid among them.
const FILTERS: [&str; 8] = ["a/#", "+/b", "#", "a/b", "", "a/#/b", "$share/g/a", "$share//a"];

/// The fuzzer's bytes, read front to back; zeros once they run out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn byte(&mut self) -> u8 {
        self.next().unwrap_or(0)
    }

    fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    fn bytes(&mut self, len: usize) -> &[u8] {
        let (taken, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        taken
    }

    /// Mostly a small id, where collisions happen; sometimes any.
    fn id(&mut self) -> PacketId {
        let small = self.byte();
        let id = if small < 0xF0 {
            u16::from(small % 8 + 1)
        } else {
            u16::from_be_bytes([self.byte(), self.byte()])
        };
        PacketId::new(id).unwrap_or(PacketId::MIN)
    }

    fn qos(&mut self) -> QoS {
        match self.byte() % 3 {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        }
    }

    /// Success most of the time, any code otherwise.
    fn reason(&mut self) -> ReasonCode {
        let byte = self.byte();
        if byte < 0xC0 {
            ReasonCode::Success
        } else {
            ReasonCode::from_u8(byte.wrapping_mul(3)).unwrap_or(ReasonCode::UnspecifiedError)
        }
    }
}

/// The configuration the first bytes pick.
fn config(input: &mut Input) -> (Config, bool, bool) {
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

struct Harness {
    config: Config,
    protocol: Protocol<u64>,
    manual_acks: bool,
    /// The store, when the session is recorded.
    store: Option<SessionImage>,
    /// The store fails the next batch's publishes.
    store_fails: bool,
    server: Server,
    /// Whether a transport is up, as the shell sees it.
    transport: bool,
    now: Instant,
    next_tag: u64,
    /// Tags handed to commands and not yet come back.
    pending: BTreeSet<u64>,
    /// Messages delivered, awaiting `acknowledge`.
    acks: Vec<Ack>,
}

pub(super) fn run(data: &[u8]) {
    let mut input = Input(data);
    let (config, manual_acks, record) = config(&mut input);
    let mut harness = Harness {
        protocol: Protocol::new(config.clone()),
        config,
        manual_acks,
        store: record.then(SessionImage::default),
        store_fails: false,
        server: Server::default(),
        transport: false,
        now: Instant::now(),
        next_tag: 0,
        pending: BTreeSet::new(),
        acks: Vec::new(),
    };
    harness.setup();
    while let Some(op) = input.next() {
        if !harness.step(op, &mut input) {
            return;
        }
        harness.settle();
    }
    harness.shut_down();
}

impl Harness {
    fn setup(&mut self) {
        self.protocol.manual_acks(self.manual_acks);
        self.protocol.record_session(self.store.is_some());
    }

    fn tag(&mut self) -> u64 {
        self.next_tag += 1;
        self.pending.insert(self.next_tag);
        self.next_tag
    }

    fn v5(&self) -> bool {
        self.protocol.config().version == ProtocolVersion::V5
    }

    /// Runs one operation; `false` when it ended the session for good.
    fn step(&mut self, op: u8, input: &mut Input) -> bool {
        let now = self.now;
        match op % 16 {
            0 => {
                self.protocol.connect(now);
                self.transport = true;
            }
            1 => self.close(),
            2 => {
                let len = usize::from(input.byte());
                let mut bytes = BytesMut::from(input.bytes(len));
                let version = self.protocol.config().version;
                match decode(&mut bytes, version, 1 << 20) {
                    Ok(Some(packet)) => self.deliver(packet),
                    Ok(None) => {}
                    Err(error) => {
                        self.protocol.handle_malformed(&error);
                        self.settle();
                        self.close();
                    }
                }
            }
            3 => {
                let packet = self.connack(input);
                self.send(packet);
            }
            4 => {
                let packet = self.answer(input);
                self.send(packet);
            }
            5 => {
                let packet = self.server_publish(input);
                self.send(packet);
            }
            6 => {
                let received = self.server.received_ids();
                let id = pick(&received, input);
                self.send(Packet::PubRel(PubRel::new(id)));
            }
            7 => self.send(Packet::PingResp),
            8 => {
                let publish = client_publish(input);
                let tag = self.tag();
                self.protocol.publish(publish, tag, now);
            }
            9 => {
                let filters = filters(input)
                    .into_iter()
                    .map(|filter| (filter, SubscriptionOptions::new(QoS::AtLeastOnce)))
                    .collect();
                let properties = SubscribeProperties {
                    subscription_identifier: input.flag().then(|| u32::from(input.byte()) + 1),
                    ..SubscribeProperties::default()
                };
                let tag = self.tag();
                self.protocol.subscribe(filters, properties, tag, now);
            }
            10 => {
                let tag = self.tag();
                let filters = filters(input);
                self.protocol
                    .unsubscribe(filters, UnsubscribeProperties::default(), tag, now);
            }
            11 => {
                let step = input.byte();
                self.now = match self.protocol.poll_timeout() {
                    Some(deadline) if step == 0 => deadline.max(now),
                    _ => now + Duration::from_millis(u64::from(step) * 100),
                };
                self.protocol.handle_timeout(self.now);
            }
            12 => {
                if !self.acks.is_empty() {
                    let ack = self.acks.remove(usize::from(input.byte()) % self.acks.len());
                    self.protocol.acknowledge(ack);
                }
            }
            13 => {
                self.shut_down();
                // The connection actor stops after `disconnect`; only a
                // new process, from the store, takes the session on.
                if self.store.is_none() {
                    return false;
                }
                self.restart();
            }
            14 if self.store.is_some() && input.flag() => self.restart(),
            14 => self.store_fails = true,
            _ => self.authenticate(input),
        }
        true
    }

    /// A CONNACK: Success mostly, with the limits the bytes pick.
    fn connack(&mut self, input: &mut Input) -> Packet {
        let flags = input.byte();
        let mut connack = ConnAck {
            session_present: flags & 1 != 0,
            reason_code: input.reason(),
            ..ConnAck::default()
        };
        if self.v5() && flags & 2 != 0 {
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
    fn answer(&mut self, input: &mut Input) -> Packet {
        let kind = input.byte();
        let id = pick(&self.server.open_ids(), input);
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
                reason_codes: codes(&self.server),
                properties: Default::default(),
            }),
            _ => Packet::UnsubAck(UnsubAck {
                packet_id: id,
                reason_codes: if self.v5() {
                    codes(&self.server)
                } else {
                    Vec::new()
                },
                properties: Default::default(),
            }),
        }
    }

    /// An application message from the server.
    fn server_publish(&mut self, input: &mut Input) -> Packet {
        let flags = input.byte();
        let topic = TOPICS.get(usize::from(flags >> 5)).copied().unwrap_or_default();
        let mut publish = Publish::new(topic, Bytes::copy_from_slice(input.bytes(usize::from(flags & 3))));
        publish.qos = input.qos();
        if publish.qos != QoS::AtMostOnce {
            publish.packet_id = Some(input.id());
        }
        publish.dup = flags & 4 != 0 && publish.qos != QoS::AtMostOnce;
        if self.v5() && flags & 8 != 0 {
            publish.properties.topic_alias = PacketId::new(u16::from(input.byte() % 4));
            if flags & 16 != 0 {
                publish.topic = ByteString::new();
            }
        }
        Packet::Publish(publish)
    }

    /// Enhanced authentication: a re-authentication of ours, or an answer
    /// to the server's challenge.
    fn authenticate(&mut self, input: &mut Input) {
        if input.flag() {
            let tag = self.tag();
            self.protocol
                .reauthenticate(Some(Bytes::from_static(b"data")), tag, self.now);
        } else {
            let auth = Auth {
                reason_code: ReasonCode::ContinueAuthentication,
                ..Auth::default()
            };
            self.protocol.auth(auth, self.now);
        }
    }

    /// Sends `packet` as the server would: written and read back by the
    /// codec first, so that only what can arrive from a network does.
    fn send(&mut self, packet: Packet) {
        let version = self.protocol.config().version;
        let mut bytes = BytesMut::new();
        if encode(&packet, version, &mut bytes).is_err() {
            return;
        }
        if let Ok(Some(packet)) = decode(&mut bytes, version, u32::MAX) {
            self.deliver(packet);
        }
    }

    /// Feeds a packet from the server, closing on a protocol error as the
    /// shell does.
    fn deliver(&mut self, packet: Packet) {
        let was_connected = self.protocol.is_connected();
        let view = packet.clone();
        match self.protocol.handle_packet(packet, self.now) {
            Ok(()) if was_connected => self.server.server_wrote(&view),
            Ok(()) => {
                if let (Packet::ConnAck(connack), true) = (&view, self.protocol.is_connected()) {
                    self.server.connected(connack);
                }
            }
            Err(_) => {
                self.settle();
                self.close();
            }
        }
    }

    /// The transport is gone.
    fn close(&mut self) {
        self.protocol.connection_lost(self.now);
        self.transport = false;
        self.server.connection();
        self.settle();
    }

    /// The process dies and starts again from its store: every caller is
    /// gone, and the session is what the store recorded.
    fn restart(&mut self) {
        let Some(image) = &self.store else { return };
        let state = image.state();
        self.transport = false;
        self.server.connection();
        self.pending.clear();
        self.acks.clear();
        self.protocol = Protocol::new(self.config.clone());
        self.setup();
        let (next_tag, pending) = (&mut self.next_tag, &mut self.pending);
        let restored = self.protocol.restore_session(state, |_| {
            *next_tag += 1;
            pending.insert(*next_tag);
            *next_tag
        });
        assert!(restored, "a fresh protocol refused its stored session");
    }

    /// What the shell does after every input: take the events, persist
    /// the session changes, then write the packets; close the transport
    /// when an event says so, once what was queued before is written.
    fn settle(&mut self) {
        loop {
            let close = self.events();
            self.persist();
            self.transmit();
            // A QoS 0 publish completes as it is written.
            if !(self.events() || close) {
                return;
            }
            self.protocol.connection_lost(self.now);
            self.transport = false;
            self.server.connection();
        }
    }

    fn transmit(&mut self) {
        let window = self.protocol.window();
        while let Some(packet) = self.protocol.poll_transmit(self.now) {
            assert!(self.transport, "{} written without a transport", packet.name());
            if let (Some(image), Packet::Publish(publish)) = (&self.store, &packet) {
                if let Some(id) = publish.packet_id {
                    let stored = image
                        .outgoing
                        .values()
                        .any(|s| s.publish.packet_id == Some(id) && !s.released);
                    assert!(stored, "PUBLISH {id} written before its record was stored");
                }
            }
            self.server.client_wrote(&packet, window);
        }
    }

    /// Takes the events; returns whether one of them closes the transport.
    fn events(&mut self) -> bool {
        let mut close = false;
        while let Some(event) = self.protocol.poll_event() {
            match event {
                Event::PublishDone { tag, .. }
                | Event::SubscribeDone { tag, .. }
                | Event::UnsubscribeDone { tag, .. }
                | Event::ReauthenticateDone { tag, .. } => {
                    assert!(
                        self.pending.remove(&tag),
                        "tag {tag} came back twice, or was never given"
                    );
                }
                Event::Message(publish) => {
                    if let (QoS::ExactlyOnce, Some(id)) = (publish.qos, publish.packet_id) {
                        assert!(self.server.may_deliver(id), "QoS 2 message {id} delivered twice");
                    }
                    self.acks.extend(Ack::of(&publish));
                }
                Event::Connected { .. } | Event::AuthChallenge(_) | Event::PublishFailed { .. } => {}
                Event::ConnectRejected(_)
                | Event::VersionFallback
                | Event::ServerDisconnect(_)
                | Event::AuthFailed(_)
                | Event::Timeout(_) => close = true,
            }
        }
        close
    }

    /// Persists the session changes, before anything they guard is
    /// written; a failing store abandons the publishes of its batch.
    fn persist(&mut self) {
        let fails = std::mem::take(&mut self.store_fails);
        while let Some(change) = self.protocol.poll_session_change() {
            let Some(image) = &mut self.store else { continue };
            match change {
                SessionChange::Publish(stored) if fails => {
                    if let Some(tag) = self.protocol.abandon_publish(stored.seq) {
                        assert!(self.pending.remove(&tag), "abandoned tag {tag} unknown");
                    }
                }
                change => image.apply(&change),
            }
        }
        let Some(image) = &self.store else { return };
        for flight in self.protocol.session_state().outgoing {
            let stored = image.outgoing.get(&flight.seq);
            assert!(
                stored.is_some_and(
                    |s| s.publish.packet_id == flight.publish.packet_id && s.released == flight.released
                ),
                "flight {} is not in the store as it is: {stored:?}",
                flight.seq
            );
        }
    }

    /// The application disconnects, or the program ends: the session
    /// shuts down, and every command still open must get its answer.
    fn shut_down(&mut self) {
        self.protocol.disconnect(Disconnect::default(), self.now);
        self.settle();
        self.close();
        assert!(
            self.pending.is_empty(),
            "tags never came back: {:?}",
            self.pending
        );
    }
}

/// One of `ids` mostly, any id otherwise.
fn pick(ids: &[PacketId], input: &mut Input) -> PacketId {
    let byte = input.byte();
    match ids.get(usize::from(byte) % ids.len().max(1)) {
        Some(&id) if byte < 0xE0 => id,
        _ => input.id(),
    }
}

/// A publish command.
fn client_publish(input: &mut Input) -> Publish {
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
fn filters(input: &mut Input) -> Vec<ByteString> {
    let byte = input.byte();
    (0..usize::from(byte % 3) + 1)
        .filter_map(|n| FILTERS.get(usize::from(byte >> (2 + n)) % FILTERS.len()))
        .map(|filter| ByteString::from_static(filter))
        .collect()
}
