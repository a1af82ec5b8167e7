//! The state machine itself: its state, the connection lifecycle (connect,
//! connection lost, disconnect), the inputs that are not a command (packets
//! routed by state, deadlines) and the outputs (packets, events, the next
//! deadline).

use std::collections::VecDeque;
use std::time::Instant;

use crate::packet::{
    AckProperties, ByteString, DecodeError, Disconnect, LazyBox, Packet, ProtocolVersion, PubAck, PubComp,
    PubRec, PubRel, ReasonCode, SubAck, SubscriptionOptions, UnsubAck,
};

use super::alias::{InboundAliases, OutboundAliases};
use super::incoming::Incoming;
use super::keepalive::KeepAlive;
use super::limits::ServerLimits;
use super::outgoing::Outgoing;
use super::packet_ids::PacketIds;
use super::session::Journal;
use super::subscriptions::Subscriptions;
use super::transmit::Transmit;
use super::{Config, Event, ProtocolError, TimeoutKind};
use crate::error::Error;

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

/// A re-authentication under way.
#[derive(Debug)]
pub(super) struct Reauth<T> {
    /// Who asked for it; `None` when the server started it.
    pub(super) tag: Option<T>,
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
    /// Speaking 3.1.1 after a server did not take MQTT 5, not yet confirmed by a CONNACK.
    pub(super) falling_back: bool,
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
    /// PUBACK/PUBREC wait for [`Protocol::acknowledge`].
    pub(super) manual_acks: bool,
    /// Session changes for a store, when it records them.
    pub(super) journal: Journal,
    /// A re-authentication under way.
    pub(super) reauth: Option<Reauth<T>>,
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
            falling_back: false,
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
            manual_acks: false,
            journal: Journal::default(),
            reauth: None,
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
        if self.state == State::AwaitingConnAck {
            self.fall_back_on_close();
        }
        self.reauth_lost(Error::NotConnected);
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

    /// Queues DISCONNECT (when a transport is up) and shuts the session
    /// down: every pending command fails with [`Error::Closed`](crate::Error::Closed).
    /// On MQTT 3.1.1 the DISCONNECT carries no reason or properties. On
    /// MQTT 5 its Reason String, then its User Properties, are left out
    /// where they would make it larger than the server's Maximum Packet
    /// Size [MQTT-3.2.2-15, MQTT-3.14.2-3, MQTT-3.14.2-4].
    pub fn disconnect(&mut self, disconnect: Disconnect, now: Instant) {
        let _ = now;
        if self.transport_up() {
            let disconnect = if self.is_v5() {
                self.fit_disconnect(disconnect)
            } else {
                Disconnect::default()
            };
            self.transmit.send(Packet::Disconnect(disconnect));
        }
        for tag in self.outgoing.close(&mut self.ids) {
            self.publish_done(tag, Err(Error::Closed));
        }
        for control in self.subscriptions.close(&mut self.ids) {
            self.events.extend(control.fail(Error::Closed));
        }
        self.incoming.clear();
        self.reauth_lost(Error::Closed);
        self.state = State::Closed;
        self.connack_deadline = None;
        self.retry_at = None;
        self.keep_alive.stop();
    }

    /// Whether [`poll_transmit`](Self::poll_transmit) has a packet.
    pub fn has_transmit(&self) -> bool {
        !self.transmit.is_empty()
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
            let (limits, version) = (&self.limits, self.config.version);
            self.aliases_out
                .apply(publish, |publish| limits.fits(publish, version));
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

    /// Feeds one decoded packet from the wire.
    ///
    /// An `Err` is a protocol violation by the server: close the
    /// connection (on MQTT 5 a DISCONNECT with the reason is already queued).
    pub fn handle_packet(&mut self, packet: Packet, now: Instant) -> Result<(), ProtocolError> {
        self.keep_alive.on_received(now);
        let result = self.dispatch(packet, now);
        if let Err(error) = &result {
            tracing::debug!(%error, "server broke the protocol");
            self.say_why(error.reason);
        }
        result
    }

    /// What the server sent could not be decoded: on MQTT 5, queues the
    /// DISCONNECT that says why, as for any other violation. The shell then
    /// writes it and closes the connection.
    pub fn handle_malformed(&mut self, error: &DecodeError) {
        self.say_why(error.reason_code());
    }

    /// Queues DISCONNECT with `reason` on MQTT 5 (3.1.1 just closes).
    fn say_why(&mut self, reason: ReasonCode) {
        if self.is_v5() && self.transport_up() {
            self.transmit.send(Packet::Disconnect(Disconnect {
                reason_code: reason,
                ..Disconnect::default()
            }));
        }
    }

    fn dispatch(&mut self, packet: Packet, now: Instant) -> Result<(), ProtocolError> {
        let v5 = self.is_v5();
        if v5
            && self.config.connect_properties.request_problem_information == Some(false)
            && self.transport_up()
            && carries_problem_information(&packet)
        {
            // Section 3.1.2.11.7 [MQTT-3.1.2-29].
            return Err(ProtocolError::violation(
                "Reason String or User Property after Request Problem Information 0",
            ));
        }
        match (self.state, packet) {
            (State::AwaitingConnAck, Packet::ConnAck(connack)) => self.on_connack(connack, now),
            (State::AwaitingConnAck | State::Connected, Packet::Auth(auth)) if v5 => self.on_auth(auth),
            (State::AwaitingConnAck | State::Connected, Packet::Disconnect(disconnect)) if v5 => {
                // Nothing more may be written; the shell calls connection_lost.
                self.state = State::Offline;
                self.keep_alive.stop();
                self.connack_deadline = None;
                self.events.push_back(Event::ServerDisconnect(disconnect));
                Ok(())
            }
            (State::Connected, Packet::Publish(publish)) => self.on_publish(publish),
            (State::Connected, Packet::PubAck(ack)) => self.on_puback(ack, now),
            (State::Connected, Packet::PubRec(rec)) => self.on_pubrec(rec, now),
            (State::Connected, Packet::PubRel(rel)) => {
                self.on_pubrel(rel);
                Ok(())
            }
            (State::Connected, Packet::PubComp(comp)) => self.on_pubcomp(comp, now),
            (State::Connected, Packet::SubAck(suback)) => self.on_suback(suback, now),
            (State::Connected, Packet::UnsubAck(unsuback)) => self.on_unsuback(unsuback, now),
            (State::Connected, Packet::PingResp) => {
                self.keep_alive.on_pingresp();
                Ok(())
            }
            // Read before the transport closed: there is no connection left
            // to break, so leftovers are dropped rather than reported.
            (State::Offline | State::Closed, _) => Ok(()),
            (_, packet) => Err(ProtocolError::violation(unexpected(&packet))),
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
                result: Err(Error::NotConnected),
            });
        }
    }
}

/// Whether `packet` carries a Reason String or User Property that a server
/// told Request Problem Information 0 may not send: anything but PUBLISH,
/// CONNACK and DISCONNECT [MQTT-3.1.2-29].
fn carries_problem_information(packet: &Packet) -> bool {
    fn ack(properties: &LazyBox<AckProperties>) -> bool {
        properties
            .get()
            .is_some_and(|p| p.reason_string.is_some() || !p.user_properties.is_empty())
    }
    match packet {
        Packet::PubAck(PubAck { properties, .. })
        | Packet::PubRec(PubRec { properties, .. })
        | Packet::PubRel(PubRel { properties, .. })
        | Packet::PubComp(PubComp { properties, .. })
        | Packet::SubAck(SubAck { properties, .. })
        | Packet::UnsubAck(UnsubAck { properties, .. }) => ack(properties),
        Packet::Auth(auth) => auth
            .properties
            .get()
            .is_some_and(|p| p.reason_string.is_some() || !p.user_properties.is_empty()),
        _ => false,
    }
}

/// Why `packet` cannot arrive now (packets only a client sends, or a
/// server packet before CONNACK / after the connection ended).
fn unexpected(packet: &Packet) -> &'static str {
    match packet {
        Packet::Connect(_) => "CONNECT from the server",
        Packet::Subscribe(_) => "SUBSCRIBE from the server",
        Packet::Unsubscribe(_) => "UNSUBSCRIBE from the server",
        Packet::PingReq => "PINGREQ from the server",
        Packet::ConnAck(_) => "CONNACK when none was expected",
        Packet::Auth(_) => "AUTH on MQTT 3.1.1",
        Packet::Disconnect(_) => "DISCONNECT from the server on MQTT 3.1.1",
        Packet::Publish(_) => "PUBLISH before CONNACK",
        Packet::PubAck(_) | Packet::PubRec(_) | Packet::PubRel(_) | Packet::PubComp(_) => {
            "publish acknowledgement before CONNACK"
        }
        Packet::SubAck(_) | Packet::UnsubAck(_) => "subscription acknowledgement before CONNACK",
        Packet::PingResp => "PINGRESP before CONNACK",
    }
}
