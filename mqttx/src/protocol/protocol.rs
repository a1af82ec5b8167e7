//! The state machine itself: its state, the connection lifecycle, and the
//! outputs (packets, events, the next deadline).

use std::collections::VecDeque;
use std::time::Instant;

use crate::packet::{ByteString, Packet, ProtocolVersion, ReasonCode, SubscriptionOptions};

use super::alias::{InboundAliases, OutboundAliases};
use super::incoming::Incoming;
use super::keepalive::KeepAlive;
use super::limits::ServerLimits;
use super::outgoing::Outgoing;
use super::packet_ids::PacketIds;
use super::persist::SessionChange;
use super::subscriptions::Subscriptions;
use super::transmit::Transmit;
use super::{CommandError, Config, Event, TimeoutKind};

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// No transport, or one that is being torn down.
    Offline,
    /// CONNECT queued, CONNACK not yet received.
    AwaitingConnAck,
    /// CONNACK Success received.
    Connected,
    /// `disconnect()` was called: commands fail with `Closed`.
    Closed,
}

/// The sans-IO MQTT session: feed it packets, commands and the time; take
/// packets to write and events to act on.
///
/// `T` is an opaque tag attached to each command and handed back exactly
/// once, in that command's `*Done` event.
#[derive(Debug)]
pub struct Protocol<T> {
    pub(super) config: Config,
    /// Config's keep_alive before Server Keep Alive replaced it: what CONNECT asks for.
    pub(super) requested_keep_alive: u16,
    pub(super) state: State,
    pub(super) connected_once: bool,
    pub(super) clean_start_sent: bool,
    /// The session expiry in force (ours, or the server's override).
    pub(super) session_expiry: u32,
    /// Bumped on every CONNACK Success; see `Queued::checked`.
    pub(super) generation: u64,
    pub(super) limits: ServerLimits,
    pub(super) ids: PacketIds,
    pub(super) outgoing: Outgoing<T>,
    pub(super) incoming: Incoming,
    pub(super) subscriptions: Subscriptions<T>,
    pub(super) aliases_in: InboundAliases,
    pub(super) aliases_out: OutboundAliases,
    pub(super) keep_alive: KeepAlive,
    pub(super) connack_deadline: Option<Instant>,
    /// MQTT 3.1.1: the earliest an unacknowledged packet may need a resend.
    pub(super) retry_at: Option<Instant>,
    pub(super) transmit: Transmit<T>,
    pub(super) events: VecDeque<Event<T>>,
    /// Whether session changes are recorded for a store.
    pub(super) journal_on: bool,
    /// PUBACK/PUBREC wait for [`Protocol::acknowledge`].
    pub(super) manual_acks: bool,
    pub(super) journal: VecDeque<SessionChange>,
}

impl<T> Protocol<T> {
    /// A session that has never connected.
    pub fn new(config: Config) -> Self {
        Protocol {
            requested_keep_alive: config.keep_alive,
            session_expiry: config.connect_properties.session_expiry_interval.unwrap_or(0),
            config,
            state: State::Offline,
            connected_once: false,
            clean_start_sent: false,
            generation: 0,
            limits: ServerLimits::default(),
            ids: PacketIds::default(),
            outgoing: Outgoing::default(),
            incoming: Incoming::default(),
            subscriptions: Subscriptions::default(),
            aliases_in: InboundAliases::default(),
            aliases_out: OutboundAliases::default(),
            keep_alive: KeepAlive::default(),
            connack_deadline: None,
            retry_at: None,
            transmit: Transmit::default(),
            events: VecDeque::new(),
            journal_on: false,
            manual_acks: false,
            journal: VecDeque::new(),
        }
    }

    /// The configuration, with the Assigned Client Identifier and Server
    /// Keep Alive applied once connected.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// CONNACK Success received and the connection not lost since.
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// A transport is up: queue CONNECT. Everything that lives for one
    /// network connection (topic aliases, keep-alive, the server's limits)
    /// starts over; the session (in-flight publishes, subscriptions) does not.
    pub fn connect(&mut self, now: Instant) {
        if matches!(self.state, State::AwaitingConnAck | State::Connected) {
            self.connection_lost(now);
        }
        self.drop_transmit();
        self.limits = ServerLimits::default();
        self.aliases_in.reset(self.config.topic_alias_maximum());
        self.aliases_out.reset(0);
        self.keep_alive.stop();
        let connect = self.build_connect();
        self.clean_start_sent = connect.clean_start;
        self.transmit.send(Packet::Connect(Box::new(connect)));
        self.state = State::AwaitingConnAck;
        self.connack_deadline = Some(now + self.config.connect_timeout);
    }

    /// The transport is gone. In-flight QoS 1/2 state is kept for the next
    /// `connect()`; SUBSCRIBE/UNSUBSCRIBE still unacknowledged are queued again.
    pub fn connection_lost(&mut self, now: Instant) {
        let _ = now;
        self.drop_transmit();
        self.connack_deadline = None;
        self.retry_at = None;
        self.keep_alive.stop();
        self.outgoing.connection_lost();
        self.subscriptions.connection_lost(&mut self.ids);
        if self.state != State::Closed {
            self.state = State::Offline;
        }
    }

    /// Next packet to write. Drain until `None` after every input and write
    /// them all at once. Taking a packet counts as sending it.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Packet> {
        let (mut packet, qos0) = self.transmit.pop()?;
        if let Some(tag) = qos0 {
            self.publish_done(tag, Ok(ReasonCode::Success));
        }
        // Aliases are applied here, at the last moment, because they belong
        // to the connection the packet is written on.
        if let Packet::Publish(publish) = &mut packet {
            self.aliases_out.apply(publish);
        }
        self.keep_alive.on_sent(now);
        Some(packet)
    }

    /// Next event for the shell.
    pub fn poll_event(&mut self) -> Option<Event<T>> {
        self.events.pop_front()
    }

    /// The earliest instant `handle_timeout` must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::AwaitingConnAck => self.connack_deadline,
            State::Connected => match (self.keep_alive.next_deadline(), self.retry_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            State::Offline | State::Closed => None,
        }
    }

    /// Fires whatever deadline has passed: CONNACK or PINGRESP overdue
    /// (the connection is then dead), PINGREQ due, 3.1.1 retries due.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::AwaitingConnAck => {
                if self.connack_deadline.is_some_and(|deadline| now >= deadline) {
                    self.dead(TimeoutKind::ConnAck);
                }
            }
            State::Connected => {
                if self
                    .keep_alive
                    .pingresp_deadline()
                    .is_some_and(|deadline| now >= deadline)
                {
                    self.dead(TimeoutKind::PingResp);
                    return;
                }
                if self.keep_alive.ping_due().is_some_and(|due| now >= due) {
                    self.transmit.send(Packet::PingReq);
                    self.keep_alive.on_ping_sent(now);
                }
                if self.retry_at.is_some_and(|at| now >= at) {
                    self.retry(now);
                }
            }
            State::Offline | State::Closed => {}
        }
    }

    /// Subscriptions currently held (filter → options); restored
    /// automatically after a reconnect without session.
    pub fn subscriptions(&self) -> impl Iterator<Item = (&ByteString, &SubscriptionOptions)> {
        self.subscriptions.held()
    }

    /// QoS 1/2 publishes sent and not yet completed.
    pub fn inflight(&self) -> usize {
        self.outgoing.in_flight()
    }

    /// Commands waiting behind the window or for a connection.
    pub fn queued(&self) -> usize {
        self.outgoing.queued() + self.subscriptions.waiting()
    }

    /// The outgoing window: ours, lowered by the server's Receive Maximum.
    pub(crate) fn window(&self) -> usize {
        usize::from(self.config.max_inflight.max(1).min(self.limits.receive_maximum()))
    }

    pub(super) fn is_v5(&self) -> bool {
        self.config.version == ProtocolVersion::V5
    }

    /// A transport exists that can still take packets.
    pub(super) fn transport_up(&self) -> bool {
        matches!(self.state, State::AwaitingConnAck | State::Connected)
    }

    /// The connection is declared dead; the shell will call connection_lost.
    fn dead(&mut self, kind: TimeoutKind) {
        self.state = State::Offline;
        self.connack_deadline = None;
        self.keep_alive.stop();
        self.events.push_back(Event::Timeout(kind));
    }

    /// Packets never written are void with their connection; a QoS 0
    /// publish among them reports that it was not sent.
    fn drop_transmit(&mut self) {
        for tag in self.transmit.clear() {
            self.events.push_back(Event::PublishDone {
                tag,
                result: Err(CommandError::NotConnected),
            });
        }
    }
}
