//! The connection actor: one transport, one protocol state machine, one
//! handler. It is the thin I/O shell around [`Protocol`]: it feeds the
//! state machine packets, commands and the clock, writes what it asks to
//! write, and turns its events into replies and handler calls.

mod dispatch;
mod events;
mod fine_timer;
mod hold;
mod io;
mod link;
mod pacing;
mod persist;
mod pool;
mod supervision;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::{mpsc, oneshot};

use crate::client::{Command, FilterReply, IntoCommand, Outcome, Recipients, Reply};
use crate::handler::{DisconnectReason, HandlerEvent, MqttHandler, Slot};
use crate::options::Backoff;
use crate::packet::{ConnAck, Disconnect, Packet, ProtocolVersion, ReasonCode};
use crate::protocol::Protocol;
use crate::store::SharedStore;
use crate::transport::{self, AckHint, Endpoint, Servers};
use crate::{Client, ConnectOptions, Error};
use io::PacketStream;
use link::Link;
pub(crate) use supervision::Registration;

/// How long a `disconnect` waits for DISCONNECT to be written before the
/// actor stops anyway.
const DISCONNECT_GRACE: Duration = Duration::from_secs(5);

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Opening the transport.
    Opening,
    /// Transport up, CONNECT sent, no CONNACK yet.
    Handshake,
    /// CONNACK accepted the connection.
    Connected,
    /// Waiting out the backoff before the next attempt.
    Waiting,
    /// `disconnect` was called: flushing DISCONNECT, then stopping.
    Closing,
    /// Stopped for good.
    Stopped,
}

/// The caller of `Client::connect`, waiting for the first outcome.
struct FirstConnect {
    reply: oneshot::Sender<Result<ConnAck, Error>>,
    deadline: Instant,
}

/// The actor behind every [`Client`]. Generic over the handler type; the
/// `Client` erases it.
pub(crate) struct Connection<H: MqttHandler> {
    /// The brokers, in failover order, and which one is next.
    servers: Servers,
    version: ProtocolVersion,
    max_packet_size: u32,
    coalesce_reads: bool,
    backoff: Backoff,
    connect_timeout: Duration,
    handler: Slot<H>,
    protocol: Protocol<Reply>,
    client: Client,
    commands: Rc<RefCell<mpsc::UnboundedReceiver<Command>>>,
    phase: Phase,
    link: Option<Link>,
    next_link_id: u64,
    /// Consecutive failed attempts, for the backoff; reset by a CONNACK.
    attempt: u32,
    first_connect: Option<FirstConnect>,
    handler_subscribed: bool,
    /// The protocol deadline the timer is armed for.
    timer: Option<(Instant, SpawnHandle)>,
    /// The transport being opened, or the backoff before the next attempt.
    pending_attempt: Option<SpawnHandle>,
    disconnect_reply: Option<oneshot::Sender<Outcome<()>>>,
    /// `disconnect` while the handler was busy: DISCONNECT waits until the
    /// handler is done (or the grace period ends), so the messages it was
    /// working on are acknowledged first.
    deferred_disconnect: Option<Disconnect>,
    /// A write is scheduled for the end of this turn (with a store).
    write_scheduled: bool,
    /// Set by a deliberate stop (`disconnect`, a final refusal): a
    /// supervisor must not bring the connection back.
    finished: bool,
    /// Under a supervisor: the registry entry to remove when finished.
    supervised: Option<Registration>,
    /// The panic that stopped the actor, until the restart handles it.
    crashed: Option<String>,
    store: Option<SharedStore>,
    /// Session changes being persisted; reused between turns.
    journal: Vec<crate::protocol::SessionChange>,
}

impl<H: MqttHandler> Connection<H> {
    /// Starts the actor on the current arbiter, under a supervisor when
    /// `supervised` is given, and returns its handle. Loads (or clears) the
    /// session store first: a store that cannot be read is an error here.
    pub(crate) fn launch(
        opts: ConnectOptions<H>,
        connected: oneshot::Sender<Result<ConnAck, Error>>,
        supervised: Option<Registration>,
    ) -> Result<Client, Error> {
        let mut protocol = Protocol::new(opts.protocol_config());
        // A message is acknowledged once the handler is done with it, so one
        // waiting behind slow async work is never acknowledged and then lost.
        protocol.manual_acks(true);
        if let Some(store) = &opts.session_store {
            persist::open_session(&mut protocol, store, &opts.client_id, opts.clean_session)?;
        }
        let is_supervised = supervised.is_some();
        let handle = Rc::new(RefCell::new(None));
        let slot = Rc::clone(&handle);
        let build = move |ctx: &mut Context<Self>| {
            let (commands, receiver) = mpsc::unbounded_channel();
            let client = Client::new(commands, Recipients::of(&ctx.address()), opts.client_id.clone());
            *slot.borrow_mut() = Some(client.clone());
            Connection {
                servers: Servers::new(Endpoint::all(&opts)),
                version: opts.protocol_version,
                max_packet_size: opts.max_packet_size,
                coalesce_reads: opts.coalesce_reads,
                backoff: opts.backoff.clone(),
                connect_timeout: opts.connect_timeout,
                handler: Slot::new(opts.handler),
                protocol,
                client,
                commands: Rc::new(RefCell::new(receiver)),
                phase: Phase::Opening,
                link: None,
                next_link_id: 0,
                attempt: 0,
                first_connect: Some(FirstConnect {
                    reply: connected,
                    deadline: Instant::now() + opts.connect_timeout,
                }),
                handler_subscribed: false,
                timer: None,
                pending_attempt: None,
                disconnect_reply: None,
                deferred_disconnect: None,
                write_scheduled: false,
                finished: false,
                supervised,
                crashed: None,
                store: opts.session_store,
                journal: Vec::new(),
            }
        };
        if is_supervised {
            Supervisor::start(build);
        } else {
            Connection::create(build);
        }
        let client = handle.borrow_mut().take();
        client.ok_or(Error::Closed)
    }
}

impl<H: MqttHandler> Actor for Connection<H> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.finished {
            // A supervisor restarts whenever handles remain; stopped for
            // good means staying down.
            return self.park();
        }
        ctx.add_stream(link::CommandStream(Rc::clone(&self.commands)));
        self.resume_handler(ctx);
        self.report_restart(ctx);
        if self.attempt > 0 {
            // Restarted after a crash: back off, so a crash loop cannot
            // hammer the broker.
            self.schedule_attempt(ctx);
        } else {
            self.open(ctx);
        }
    }

    fn stopping(&mut self, ctx: &mut Self::Context) -> Running {
        if self.crashed.is_some() {
            // A crash stops now; the handler's work survives a restart.
            return Running::Stop;
        }
        self.stop_after_handler(ctx)
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        if self.supervised.is_some() && !self.finished {
            // A crash under a supervisor: `restarting` comes next, and the
            // session and every waiting caller stay.
            return;
        }
        if let Some(message) = self.crashed.take() {
            let reason = DisconnectReason::Crashed {
                message,
                restarting: false,
            };
            self.deliver(HandlerEvent::Disconnected(reason), ctx);
        }
        self.finish();
    }
}

impl<H: MqttHandler> Connection<H> {
    /// Starts one connection attempt: open the transport, then CONNECT.
    fn open(&mut self, ctx: &mut Context<Self>) {
        self.phase = Phase::Opening;
        let Some(endpoint) = self.servers.current().cloned() else {
            return self.stop_for_good(Error::InvalidOptions("no server to connect to".into()), ctx);
        };
        let ack_hint = AckHint::default();
        let opening = transport::open(endpoint, self.connect_timeout, ack_hint.clone())
            .into_actor(self)
            .map(move |result, act, ctx| {
                act.guarded(ctx, |act, ctx| {
                    act.pending_attempt = None;
                    if act.phase != Phase::Opening {
                        return;
                    }
                    match result {
                        Ok((read, write)) => act.on_open(read, write, ack_hint, ctx),
                        Err(err) => act.attempt_failed(err, ctx),
                    }
                })
            });
        self.pending_attempt = Some(ctx.spawn(opening));
    }

    fn on_open(
        &mut self,
        read: transport::ReadHalf,
        write: transport::WriteHalf,
        ack_hint: AckHint,
        ctx: &mut Context<Self>,
    ) {
        let publishing = pacing::Publishing::default();
        let pacing = pacing::ReadPacing::new(self.coalesce_reads, publishing.clone());
        let backlog = io::Backlog::default();
        let window_bound = hold::WindowBound::default();
        let reader = ctx.add_stream(PacketStream::new(
            read,
            self.version,
            self.max_packet_size,
            io::Pacing {
                reads: pacing,
                acks: hold::AckHold::new(self.coalesce_reads, window_bound.clone()),
            },
            backlog.clone(),
        ));
        self.next_link_id += 1;
        self.link = Some(Link::new(
            self.next_link_id,
            write,
            reader,
            ack_hint,
            link::Shared {
                publishing,
                backlog,
                window_bound,
            },
        ));
        self.phase = Phase::Handshake;
        let now = Instant::now();
        self.protocol.connect(now);
        self.pump_at(now, ctx);
    }

    /// Drains the state machine: events to their owners, packets into the
    /// link's buffer, then one write for all of it and the next timer.
    ///
    /// With a session store, events are handled now but writing waits for
    /// the end of the actor's turn, so that one store write (one fsync)
    /// covers every packet the turn handled rather than each one alone.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        self.pump_at(Instant::now(), ctx);
    }

    /// [`pump`](Self::pump) with the clock already read for this input:
    /// a message costs one clock read, not one per step (reading the clock
    /// was 5 % of a QoS 0 profile).
    fn pump_at(&mut self, now: Instant, ctx: &mut Context<Self>) {
        if self.store.is_some() {
            while let Some(event) = self.protocol.poll_event() {
                self.on_event(event, ctx);
            }
            self.write_later(now, ctx);
            return;
        }
        self.pump_now(now, ctx);
    }

    /// [`pump_at`](Self::pump_at) for a packet or a command the actor is
    /// handling from one of its streams: what it makes ready is queued now
    /// and written once the turn is over, together with whatever the rest
    /// of the turn adds. A read that brings many packets then gets one
    /// write back, not one for its first packet and one for the rest
    /// (QoS 2: 16 % fewer sends, and 5–10 % more messages a second).
    fn pump_in_turn(&mut self, now: Instant, ctx: &mut Context<Self>) {
        if self.store.is_some() {
            return self.pump_at(now, ctx);
        }
        self.drain(now, ctx);
        if self.link.as_ref().is_some_and(Link::can_write) {
            self.write_later(now, ctx);
        }
        self.arm_timer(now, ctx);
    }

    /// [`pump`](Self::pump), writing now.
    fn pump_now(&mut self, now: Instant, ctx: &mut Context<Self>) {
        self.drain(now, ctx);
        self.flush(ctx);
        self.arm_timer(now, ctx);
        if let Some(link) = &self.link {
            let protocol = &self.protocol;
            link.window_bound()
                .update(protocol.inflight(), protocol.window(), protocol.queued());
        }
    }

    /// Events to their owners and packets into the link's buffer, until
    /// the state machine has nothing more.
    fn drain(&mut self, now: Instant, ctx: &mut Context<Self>) {
        loop {
            let mut progressed = false;
            while let Some(event) = self.protocol.poll_event() {
                progressed = true;
                self.on_event(event, ctx);
            }
            // What the packets below depend on is stored before they are written.
            self.persist();
            if let Some(link) = self.link.as_mut() {
                while let Some(packet) = self.protocol.poll_transmit(now) {
                    progressed = true;
                    link.queue(&packet, self.version);
                }
            }
            if !progressed {
                break;
            }
        }
    }

    /// Starts a write of everything queued, unless one is in flight (its
    /// completion flushes again, so packets made ready meanwhile share it).
    fn flush(&mut self, ctx: &mut Context<Self>) {
        let Some(link) = self.link.as_mut() else { return };
        let Some(write) = link.start_write() else { return };
        let id = link.id();
        let writing = write.into_actor(self).map(move |(io, buf, result), act, ctx| {
            act.guarded(ctx, move |act, ctx| {
                let Some(link) = act.link.as_mut().filter(|link| link.id() == id) else {
                    return;
                };
                link.write_done(io, buf);
                match result {
                    Err(err) => act.link_lost(DisconnectReason::Transport(err.into()), ctx),
                    Ok(())
                        if act.phase == Phase::Closing
                            && act.deferred_disconnect.is_none()
                            && !act.link.as_ref().is_some_and(Link::has_pending) =>
                    {
                        ctx.stop();
                    }
                    Ok(()) => act.flush(ctx),
                }
            })
        });
        ctx.spawn(writing);
    }

    /// Arms the timer for the protocol's next deadline if it is earlier
    /// than the one armed; a timer firing early is harmless.
    fn arm_timer(&mut self, now: Instant, ctx: &mut Context<Self>) {
        let Some(deadline) = self.protocol.poll_timeout() else {
            return;
        };
        if let Some((armed, handle)) = self.timer {
            if armed <= deadline {
                return;
            }
            ctx.cancel_future(handle);
        }
        let delay = deadline.saturating_duration_since(now);
        let handle = ctx.run_later(delay, |act, ctx| {
            act.guarded(ctx, |act, ctx| {
                act.timer = None;
                let now = Instant::now();
                act.protocol.handle_timeout(now);
                act.pump_at(now, ctx);
            })
        });
        self.timer = Some((deadline, handle));
    }

    /// The transport is gone: tell the state machine and the handler, then
    /// reconnect after the backoff.
    fn link_lost(&mut self, reason: DisconnectReason, ctx: &mut Context<Self>) {
        let was_connected = self.phase == Phase::Connected;
        self.drop_link(ctx);
        self.protocol.connection_lost(Instant::now());
        match self.phase {
            Phase::Closing | Phase::Stopped => {
                ctx.stop();
                return;
            }
            _ => {}
        }
        if was_connected {
            tracing::warn!(client_id = %self.client.client_id(), %reason, "MQTT connection lost");
            let reference = match &reason {
                DisconnectReason::Server(disconnect) => Some((
                    disconnect.reason_code,
                    disconnect.properties.server_reference.clone(),
                )),
                _ => None,
            };
            self.deliver(HandlerEvent::Disconnected(reason), ctx);
            self.servers.lost();
            if let Some((reason_code, reference)) = reference {
                self.follow_reference(reason_code, reference.as_deref());
            }
            self.schedule_attempt(ctx);
        } else {
            let err = match reason {
                DisconnectReason::Transport(e)
                | DisconnectReason::Protocol(e)
                | DisconnectReason::ConnectFailed(e) => e,
                DisconnectReason::Timeout => Error::Io(std::sync::Arc::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no CONNACK within the connect timeout",
                ))),
                DisconnectReason::Server(d) => Error::ConnectRejected {
                    reason_code: d.reason_code,
                    reason_string: d.properties.reason_string.clone(),
                    server_reference: d.properties.server_reference.clone(),
                },
                DisconnectReason::Client | DisconnectReason::Crashed { .. } => Error::Closed,
            };
            self.attempt_failed(err, ctx);
        }
        self.pump(ctx);
    }

    fn drop_link(&mut self, ctx: &mut Context<Self>) {
        if let Some(link) = self.link.take() {
            ctx.cancel_future(link.reader());
        }
    }

    /// A connection attempt failed before CONNACK accepted it.
    fn attempt_failed(&mut self, err: Error, ctx: &mut Context<Self>) {
        // Once connected, a certificate failure may be a server mid-rotation: keep trying.
        let rotation = self.first_connect.is_none() && matches!(err, Error::Tls(_));
        if let Error::ConnectRejected {
            reason_code,
            server_reference,
            ..
        } = &err
        {
            if self.follow_reference(*reason_code, server_reference.as_deref()) {
                return self.open(ctx);
            }
        }
        if !err.is_retryable() && !rotation {
            tracing::error!(client_id = %self.client.client_id(), %err, "MQTT connect refused; not retrying");
            return self.stop_for_good(err, ctx);
        }
        if self.servers.failed() {
            if self
                .first_connect
                .as_ref()
                .is_some_and(|f| Instant::now() >= f.deadline)
            {
                return self.stop_for_good(
                    Error::ConnectTimeout {
                        last: Some(Box::new(err)),
                    },
                    ctx,
                );
            }
            tracing::warn!(client_id = %self.client.client_id(), %err, "MQTT connect attempt failed; trying the next server");
            return self.open(ctx);
        }
        let delay = self.backoff.delay(self.attempt + 1);
        if let Some(first) = &self.first_connect {
            if Instant::now() + delay >= first.deadline {
                return self.stop_for_good(
                    Error::ConnectTimeout {
                        last: Some(Box::new(err)),
                    },
                    ctx,
                );
            }
        }
        tracing::warn!(client_id = %self.client.client_id(), %err, ?delay, "MQTT connect attempt failed; retrying");
        self.schedule_attempt(ctx);
    }

    /// An MQTT 5 "use another server" or "server moved" with a Server
    /// Reference: the next attempt goes there. `true` if it will.
    fn follow_reference(&mut self, code: ReasonCode, reference: Option<&str>) -> bool {
        let moved = matches!(code, ReasonCode::UseAnotherServer | ReasonCode::ServerMoved);
        let Some(reference) = reference.filter(|_| moved) else {
            return false;
        };
        let following = self.servers.redirect(reference);
        tracing::info!(client_id = %self.client.client_id(), reference, following, "MQTT server named another server");
        following
    }

    /// The next attempt, after the backoff for the failures so far.
    fn schedule_attempt(&mut self, ctx: &mut Context<Self>) {
        self.attempt += 1;
        self.phase = Phase::Waiting;
        let delay = self.backoff.delay(self.attempt);
        self.pending_attempt = Some(ctx.run_later(delay, |act, ctx| {
            act.guarded(ctx, |act, ctx| {
                act.pending_attempt = None;
                if act.phase == Phase::Waiting {
                    act.open(ctx);
                }
            })
        }));
    }

    /// Gives up: the first `connect` call and the handler learn why.
    fn stop_for_good(&mut self, err: Error, ctx: &mut Context<Self>) {
        self.finished = true;
        self.phase = Phase::Stopped;
        self.drop_link(ctx);
        if let Some(first) = self.first_connect.take() {
            let _ = first.reply.send(Err(err.clone()));
        }
        let reason = DisconnectReason::ConnectFailed(err);
        self.deliver(HandlerEvent::Disconnected(reason), ctx);
        ctx.stop();
    }

    /// A request from a `Client` or a `Recipient`.
    fn on_command(&mut self, command: Command, ctx: &mut Context<Self>) {
        let now = Instant::now();
        match command {
            Command::Publish(publish, reply) => self.protocol.publish(publish, reply, now),
            Command::Subscribe(filters, properties, reply) => {
                self.protocol.subscribe(filters, properties, reply, now)
            }
            Command::Unsubscribe(filters, properties, reply) => {
                self.protocol.unsubscribe(filters, properties, reply, now)
            }
            Command::Disconnect(packet, reply) => return self.disconnect(packet, reply, ctx),
            Command::Panic => panic!("fault injection: Client::inject_panic"),
        }
        self.pump_in_turn(now, ctx);
    }

    /// `Client::disconnect`: DISCONNECT out, then stop; no reconnect.
    fn disconnect(
        &mut self,
        packet: Disconnect,
        reply: oneshot::Sender<Outcome<()>>,
        ctx: &mut Context<Self>,
    ) {
        if matches!(self.phase, Phase::Closing | Phase::Stopped) {
            let _ = reply.send(Ok(()));
            return;
        }
        let connected = self.phase == Phase::Connected;
        if let Some(pending) = self.pending_attempt.take() {
            ctx.cancel_future(pending);
        }
        if let Some(first) = self.first_connect.take() {
            let _ = first.reply.send(Err(Error::Closed));
        }
        self.phase = Phase::Closing;
        self.finished = true;
        self.disconnect_reply = Some(reply);
        if connected && self.handler.is_busy() {
            self.deferred_disconnect = Some(packet);
            ctx.run_later(DISCONNECT_GRACE, |act, ctx| act.finish_disconnect(ctx));
            return;
        }
        self.protocol.disconnect(packet, Instant::now());
        self.deliver(HandlerEvent::Disconnected(DisconnectReason::Client), ctx);
        if connected {
            self.pump(ctx);
            ctx.run_later(DISCONNECT_GRACE, |_, ctx| ctx.stop());
        } else {
            while let Some(event) = self.protocol.poll_event() {
                self.on_event(event, ctx);
            }
            ctx.stop();
        }
    }

    /// Sends the DISCONNECT a busy handler held back, then stops once it is
    /// written (or after the grace period).
    pub(super) fn finish_disconnect(&mut self, ctx: &mut Context<Self>) {
        let Some(packet) = self.deferred_disconnect.take() else {
            return;
        };
        self.protocol.disconnect(packet, Instant::now());
        self.deliver(HandlerEvent::Disconnected(DisconnectReason::Client), ctx);
        self.pump(ctx);
        if self.link.is_none() {
            ctx.stop();
            return;
        }
        ctx.run_later(DISCONNECT_GRACE, |_, ctx| ctx.stop());
    }

    /// A packet that cannot be decoded: say so (MQTT 5) and drop the link.
    fn on_malformed(&mut self, err: Error, ctx: &mut Context<Self>) {
        let malformed = matches!(err, Error::Decode(_));
        if malformed && self.version == ProtocolVersion::V5 {
            if let Some(link) = self.link.as_mut() {
                let disconnect = Disconnect {
                    reason_code: ReasonCode::MalformedPacket,
                    ..Disconnect::default()
                };
                link.queue(&Packet::Disconnect(disconnect), self.version);
                self.flush(ctx);
            }
        }
        let reason = if malformed {
            DisconnectReason::Protocol(err)
        } else {
            DisconnectReason::Transport(err)
        };
        self.link_lost(reason, ctx);
    }
}

impl<H: MqttHandler> StreamHandler<Result<Packet, Error>> for Connection<H> {
    fn handle(&mut self, item: Result<Packet, Error>, ctx: &mut Self::Context) {
        self.guarded(ctx, |act, ctx| act.on_packet(item, ctx));
    }

    fn finished(&mut self, _ctx: &mut Self::Context) {
        // The stream's last item already reported how it ended.
    }
}

impl<H: MqttHandler> Connection<H> {
    fn on_packet(&mut self, item: Result<Packet, Error>, ctx: &mut Context<Self>) {
        match item {
            Ok(packet) => {
                let ends_a_flow = ends_a_flow(&packet);
                let now = Instant::now();
                match self.protocol.handle_packet(packet, now) {
                    Ok(()) => {
                        self.pump_in_turn(now, ctx);
                        if ends_a_flow {
                            self.ack_promptly_if_idle();
                        }
                    }
                    Err(violation) => {
                        tracing::error!(client_id = %self.client.client_id(), %violation, "MQTT protocol violation by the server");
                        // The state machine queued a DISCONNECT (MQTT 5): the write
                        // started here outlives the link and closes the socket after it.
                        self.pump_now(now, ctx);
                        self.link_lost(violation.into(), ctx);
                    }
                }
            }
            Err(err) => self.on_malformed(err, ctx),
        }
    }

    /// After reading a packet we answer with nothing, a broker with Nagle on
    /// holds its next packet back until our delayed ACK (up to 40 ms); when
    /// no write of ours is about to carry the ACK, send it at once.
    fn ack_promptly_if_idle(&mut self) {
        if let Some(link) = self.link.as_ref().filter(|link| !link.has_pending()) {
            link.ack_hint().request();
        }
    }
}

/// Packets that end a flow of ours: nothing of ours answers them, and the
/// broker may be about to send more (the response to a request).
fn ends_a_flow(packet: &Packet) -> bool {
    matches!(
        packet,
        Packet::PubAck(_)
            | Packet::PubComp(_)
            | Packet::SubAck(_)
            | Packet::UnsubAck(_)
            | Packet::PingResp
            | Packet::ConnAck(_)
    )
}

impl<H: MqttHandler> StreamHandler<Command> for Connection<H> {
    fn handle(&mut self, command: Command, ctx: &mut Self::Context) {
        self.guarded(ctx, |act, ctx| act.on_command(command, ctx));
    }

    fn finished(&mut self, _ctx: &mut Self::Context) {
        // The connection holds a Client itself, so this never happens; and
        // a connection whose handles are gone still serves its handler.
    }
}

/// The actix door: each request message becomes the command a `Client`
/// would have sent, and takes the same way in.
impl<H: MqttHandler, M: IntoCommand + 'static> Handler<M> for Connection<H> {
    type Result = ResponseFuture<M::Result>;

    fn handle(&mut self, request: M, ctx: &mut Self::Context) -> Self::Result {
        let (command, pending) = request.into_command();
        self.guarded(ctx, |act, ctx| act.on_command(command, ctx));
        Box::pin(pending)
    }
}
