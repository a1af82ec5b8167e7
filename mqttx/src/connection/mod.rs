//! The connection actor: one transport, one protocol state machine, one
//! handler. It is the thin I/O shell around [`Protocol`]: it feeds the
//! state machine packets, commands and the clock, writes what it asks to
//! write, and turns its events into replies and handler calls.
//!
//! Each file holds one part of it:
//! - [`lifecycle`]: the stage the connection is in, as one value;
//! - [`reconnect`]: opening transports, backoff, failover, giving up;
//! - [`turn`]: the one way out — events, store, encode, write;
//! - [`turn_end`]: the end of a turn and the write it starts, one future;
//! - [`replies`]: the state machine's events to callers and the handler;
//! - [`handler_driver`]: the handler's calls and its async work;
//! - [`session_store`]: the session store, loaded at start and written
//!   before the packets that depend on it;
//! - [`closing`]: `disconnect` and the last things every stop does;
//! - [`supervised`]: the panic guard on every turn, and restarts;
//! - [`io`]: a link's read and write halves, and the I/O tuning behind
//!   [`IoHints`](crate::IoHints).
//!
//! Two paths through the layers, each crossing each layer once:
//! - *A publish*: `client` (the builder becomes a `Command` on the queue)
//!   → here (`on_command`) → `protocol` (`Protocol::publish`) → here
//!   (`turn`, `write_now`) → `packet` (`encode`, into the link's buffer) →
//!   `transport` (the write). Its PUBACK comes back up the same way and
//!   `replies` answers the caller through the `client`'s `Reply`.
//! - *An incoming message*: `transport` (the read) → `packet` (`decode`,
//!   in [`io`]) → here (`on_packet`) → `protocol` (`handle_packet`, an
//!   `Event::Message`) → here (`replies`) → `handler` (the handler's
//!   call, then its `Outbox::acknowledge`, which this module implements
//!   on the state machine) → here (`turn`) → `packet` → `transport`.

mod alarm;
mod closing;
mod handler_driver;
mod io;
mod lifecycle;
mod reconnect;
mod replies;
mod requests;
mod session_store;
mod streams;
mod supervised;
mod turn;
mod turn_end;

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Instant;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::client::Client;
use crate::client::{Command, CommandReceiver, IntoCommand, Recipients, Reply};
use crate::error::Error;
use crate::handler::{DisconnectReason, HandlerEvent, MqttHandler, Slot};
use crate::options::ConnectOptions;
use crate::packet::{ConnAck, DecodeError, Packet, UnsubscribeProperties};
use crate::protocol::Protocol;
use crate::transport::{Endpoint, Servers};
use alarm::Alarm;
use handler_driver::Driver;
use io::{IoSettings, Link, ReadGate};
use lifecycle::Lifecycle;
use reconnect::{Dialer, FirstConnect, Reconnect};
use requests::Requests;
use session_store::Persistence;
use streams::Streams;
pub(crate) use supervised::Registration;

/// The actor behind every [`Client`]. Generic over the handler type; the
/// `Client` erases it.
pub(crate) struct Connection<H: MqttHandler> {
    lifecycle: Lifecycle,
    protocol: Protocol<Reply>,
    handler: Slot<H>,
    driver: Driver,
    requests: Requests,
    streams: Streams,
    reconnect: Reconnect,
    io: IoSettings,
    /// The connection's own handle, lent to the handler.
    client: Client,
    commands: Rc<RefCell<CommandReceiver>>,
    /// The handler's declared subscriptions were made.
    handler_subscribed: bool,
    /// The earliest deadline: the state machine's or a waiting call's.
    timer: Alarm,
    /// The end of this turn: whether it has a write to do, and when the
    /// turn was.
    turn_end: turn_end::TurnEnd,
    /// Under a supervisor: the registry entry to remove when finished.
    supervised: Option<Registration>,
    /// The session store, and the batches it has not finished.
    persistence: Option<Persistence>,
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
        Self::launch_over(Dialer::Network, opts, connected, supervised)
    }

    /// [`launch`](Self::launch), opening transports with `dialer`.
    fn launch_over(
        dialer: Dialer,
        opts: ConnectOptions<H>,
        connected: oneshot::Sender<Result<ConnAck, Error>>,
        supervised: Option<Registration>,
    ) -> Result<Client, Error> {
        let mut protocol = Protocol::new(opts.protocol_config());
        // A message is acknowledged once the handler is done with it, so one
        // waiting behind slow async work is never acknowledged and then lost.
        protocol.manual_acks(true);
        let persistence = match opts.session_store.clone() {
            Some(store) => Some(Persistence::open(
                store,
                opts.store_timeout,
                &mut protocol,
                &opts.client_id,
                opts.clean_session,
            )?),
            None => None,
        };
        let is_supervised = supervised.is_some();
        let handle = Rc::new(RefCell::new(None));
        let slot = Rc::clone(&handle);
        let servers = Servers::new(Endpoint::all(&opts));
        let build = move |ctx: &mut Context<Self>| {
            let (commands, receiver) = crate::client::queue();
            let client = Client::new(commands, Recipients::of(&ctx.address()), opts.client_id.clone());
            *slot.borrow_mut() = Some(client.clone());
            Connection {
                lifecycle: Lifecycle::Offline,
                protocol,
                handler: Slot::new(opts.handler),
                driver: Driver::default(),
                requests: Requests::default(),
                streams: Streams::default(),
                reconnect: Reconnect {
                    dialer,
                    servers,
                    backoff: opts.backoff.clone(),
                    connect_timeout: opts.connect_timeout,
                    attempt: 0,
                    first: Some(FirstConnect::new(
                        connected,
                        Instant::now() + opts.connect_timeout,
                    )),
                },
                io: IoSettings {
                    max_packet_size: opts.max_packet_size,
                    read_buffer: opts.read_buffer,
                    hints: opts.io_hints,
                    gate: ReadGate::default(),
                },
                client,
                commands: Rc::new(RefCell::new(receiver)),
                handler_subscribed: false,
                timer: Alarm::default(),
                turn_end: turn_end::TurnEnd::default(),
                supervised,
                persistence,
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
        if matches!(self.lifecycle, Lifecycle::Stopped) {
            // A supervisor restarts whenever handles remain; stopped for
            // good means staying down.
            return self.park();
        }
        ctx.add_stream(CommandStream(Rc::clone(&self.commands)));
        ctx.spawn(turn_end::EndOfTurn);
        self.resume_handler(ctx);
        // After a restart: waiting calls need their timer on the new context.
        self.arm_timer(Instant::now(), ctx);
        self.report_restart(ctx);
        self.watch_first_deadline(ctx);
        if self.finish_opening(ctx) {
            // The store is still loading the session: it connects after.
        } else if self.reconnect.attempt > 0 {
            // Restarted after a crash: back off first.
            self.schedule_attempt(ctx);
        } else {
            self.open(ctx);
        }
    }

    fn stopping(&mut self, ctx: &mut Self::Context) -> Running {
        if matches!(self.lifecycle, Lifecycle::Crashed(_)) {
            // A crash stops now; the handler's work survives a restart.
            return Running::Stop;
        }
        self.stop_after_handler(ctx)
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        if self.supervised.is_some() && !self.lifecycle.is_final() {
            // A crash under a supervisor: `restarting` comes next, and the
            // session and every waiting caller stay.
            return;
        }
        if let Lifecycle::Crashed(message) = std::mem::replace(&mut self.lifecycle, Lifecycle::Stopped) {
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
    /// A request from a `Client` or an actix message, taken at `now`.
    fn on_command(&mut self, command: Command, now: Instant, ctx: &mut Context<Self>) {
        match command {
            Command::Publish(publish, reply) => self.protocol.publish(publish, reply, now),
            Command::Request(publish, tx) => {
                self.requests
                    .send(publish, tx, &mut self.protocol, self.client.client_id(), now)
            }
            Command::Call(call) => {
                let client_id = self.client.client_id();
                // `turn` below arms the timer for its deadline.
                self.requests.call(*call, &mut self.protocol, client_id, now);
            }
            Command::Subscribe(filters, properties, reply) => {
                self.protocol.subscribe(filters, properties, reply, now)
            }
            Command::Unsubscribe(filters, properties, reply) => {
                self.protocol.unsubscribe(filters, properties, reply, now)
            }
            Command::OpenStream(stream) => self.streams.open(*stream),
            Command::CloseStream { id, unsubscribe } => {
                if let Some(filter) = self.streams.close(id).filter(|_| unsubscribe) {
                    let properties = UnsubscribeProperties::default();
                    self.protocol
                        .unsubscribe(vec![filter], properties, Reply::Detached, now);
                }
                self.reopen_when_drained();
            }
            Command::Acknowledge(ack) => {
                self.protocol.acknowledge(ack);
                self.reopen_when_drained();
            }
            Command::Reauthenticate(data, reply) => self.protocol.reauthenticate(data, reply, now),
            Command::Disconnect(packet, reply) => return self.disconnect(packet, reply, ctx),
            Command::Panic => panic!("fault injection: Client::inject_panic"),
        }
        self.turn(now, ctx);
    }

    /// Reading goes on once no message stream is full any more.
    fn reopen_when_drained(&mut self) {
        if !self.streams.is_full() {
            self.io.gate.open();
        }
    }

    /// A packet from the reader, or how the read ended.
    fn on_packet(&mut self, item: Result<Packet, Error>, ctx: &mut Context<Self>) {
        let packet = match item {
            Ok(packet) => packet,
            Err(Error::Decode(err)) => return self.on_malformed(err, ctx),
            Err(err) => return self.link_lost(DisconnectReason::Transport(err), ctx),
        };
        let ended_a_flow = io::ends_a_flow(&packet);
        // Its arrival: the clock is read once per read, not per packet.
        let now = self
            .lifecycle
            .link()
            .and_then(Link::read_at)
            .unwrap_or_else(Instant::now);
        match self.protocol.handle_packet(packet, now) {
            Ok(()) => {
                self.turn(now, ctx);
                if let Some(link) = self.lifecycle.link() {
                    link.ack_now_if_idle(ended_a_flow, self.protocol.has_transmit());
                }
            }
            Err(violation) => {
                tracing::error!(client_id = %self.client.client_id(), %violation, "MQTT protocol violation by the server");
                // The state machine queued a DISCONNECT (MQTT 5).
                self.close_link(violation.into(), ctx);
            }
        }
    }

    /// A packet that cannot be decoded: say so (MQTT 5) and drop the link.
    fn on_malformed(&mut self, err: DecodeError, ctx: &mut Context<Self>) {
        self.protocol.handle_malformed(&err);
        self.close_link(DisconnectReason::Protocol(Error::Decode(err)), ctx);
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

impl<H: MqttHandler> StreamHandler<(Command, Instant)> for Connection<H> {
    fn handle(&mut self, (command, taken_at): (Command, Instant), ctx: &mut Self::Context) {
        self.guarded(ctx, |act, ctx| act.on_command(command, taken_at, ctx));
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
        self.guarded(ctx, |act, ctx| act.on_command(command, Instant::now(), ctx));
        Box::pin(pending)
    }
}

/// The client command queue as a stream the actor polls. The receiver is
/// shared with the actor so it outlives the stream: a supervised restart
/// drops the context's streams, not the actor, and adds a new adapter.
struct CommandStream(Rc<RefCell<CommandReceiver>>);

impl Stream for CommandStream {
    type Item = (Command, Instant);

    fn poll_next(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.borrow_mut().poll_recv(cx)
    }
}

#[cfg(test)]
mod tests;
