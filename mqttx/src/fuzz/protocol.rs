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
//!
//! The harness uses the state machine as the connection actor does: after
//! `disconnect` it never connects the same `Protocol` again (the actor
//! stops; a new process takes the session on from its store). `connect`
//! after `disconnect` would revive a session whose incoming QoS 2 ids were
//! dropped, which the first run flagged as a double delivery.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::packet::{
    decode, encode, Auth, Disconnect, Packet, ProtocolVersion, PubRel, QoS, ReasonCode, SubscribeProperties,
    SubscriptionOptions, UnsubscribeProperties,
};
use crate::protocol::{Ack, Config, Event, Protocol};
use crate::store::image::SessionImage;
use crate::store::SessionChange;

use super::program::{self, Input};
use super::server::Server;

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
    let (config, manual_acks, record) = program::config(&mut input);
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
                let packet = program::connack(input, self.v5());
                self.send(packet);
            }
            4 => {
                let packet = program::answer(input, &self.server, self.v5());
                self.send(packet);
            }
            5 => {
                let packet = program::server_publish(input, self.v5());
                self.send(packet);
            }
            6 => {
                let received = self.server.received_ids();
                let id = program::pick(&received, input);
                self.send(Packet::PubRel(PubRel::new(id)));
            }
            7 => self.send(Packet::PingResp),
            8 => {
                let publish = program::client_publish(input);
                let tag = self.tag();
                self.protocol.publish(publish, tag, now);
            }
            9 => {
                let filters = program::filters(input)
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
                let filters = program::filters(input);
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
        self.server.restarted();
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
                        self.server.deliver(id);
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
