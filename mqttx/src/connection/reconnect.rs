//! Connecting, and connecting again: opening a transport, the backoff
//! between attempts, failover along the server list, following an MQTT 5
//! Server Reference, and giving up.

use std::future::Future;
use std::time::{Duration, Instant};

use actix::{ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use tokio::sync::oneshot;
use tracing::Instrument;

use super::closing::DISCONNECT_GRACE;
use super::lifecycle::{Closing, Lifecycle};
use super::Connection;
use crate::client::ConnectionState;
use crate::error::Error;
use crate::handler::{DisconnectReason, HandlerEvent, MqttHandler};
use crate::options::Backoff;
use crate::packet::{ConnAck, ReasonCode};
use crate::transport::{self, AckHint, Endpoint, Servers};

/// An opened transport's two halves.
type Opened = Result<(transport::ReadHalf, transport::WriteHalf), Error>;

/// How an attempt opens its transport.
pub(super) enum Dialer {
    /// The endpoint's own transport over the network.
    Network,
    /// A pipe to a scripted server: the actor's own tests. `None` is a
    /// dial that never completes.
    #[cfg(test)]
    Script(std::rc::Rc<dyn Fn(AckHint) -> Option<Opened>>),
}

impl Dialer {
    /// Opens a transport to `endpoint`, giving up after `timeout`.
    fn dial(
        &self,
        endpoint: Endpoint,
        timeout: Duration,
        ack_hint: AckHint,
    ) -> impl Future<Output = Opened> + 'static {
        #[cfg(test)]
        let script = match self {
            Dialer::Script(script) => Some(std::rc::Rc::clone(script)),
            Dialer::Network => None,
        };
        async move {
            #[cfg(test)]
            if let Some(script) = script {
                return match script(ack_hint) {
                    Some(opened) => opened,
                    None => std::future::pending().await,
                };
            }
            transport::open(endpoint, timeout, ack_hint).await
        }
    }
}

/// How the connection reaches a broker, and how often it has failed to.
pub(super) struct Reconnect {
    pub(super) dialer: Dialer,
    /// The brokers, in failover order, and which one is next.
    pub(super) servers: Servers,
    pub(super) backoff: Backoff,
    pub(super) connect_timeout: Duration,
    /// Consecutive failed attempts, for the backoff; reset by a CONNACK.
    pub(super) attempt: u32,
    /// The caller of `Client::connect`, until the first outcome.
    pub(super) first: Option<FirstConnect>,
}

/// The caller of `Client::connect`, waiting for the first outcome.
pub(super) struct FirstConnect {
    reply: oneshot::Sender<Result<ConnAck, Error>>,
    deadline: Instant,
    /// Why the latest attempt failed: what `ConnectTimeout` reports when
    /// the deadline finds no attempt under way.
    last: Option<Error>,
}

impl FirstConnect {
    pub(super) fn new(reply: oneshot::Sender<Result<ConnAck, Error>>, deadline: Instant) -> Self {
        FirstConnect {
            reply,
            deadline,
            last: None,
        }
    }
}

impl Reconnect {
    /// Tells the caller of `Client::connect`, if it still waits.
    pub(super) fn answer_first(&mut self, outcome: Result<ConnAck, Error>) {
        if let Some(first) = self.first.take() {
            let _ = first.reply.send(outcome);
        }
    }

    /// How long the first connect still waits; `None` once it has its answer.
    fn first_time_left(&self, now: Instant) -> Option<Duration> {
        self.first
            .as_ref()
            .map(|first| first.deadline.saturating_duration_since(now))
    }

    /// Keeps why an attempt failed, while the first connect waits.
    fn keep_failure(&mut self, err: Error) {
        if let Some(first) = &mut self.first {
            first.last = Some(err);
        }
    }

    /// How long before the first connect's deadline its last attempt
    /// starts: room for a handshake, yet a small share of the wait.
    fn last_attempt_margin(&self) -> Duration {
        (self.connect_timeout / 10).min(Duration::from_secs(1))
    }
}

impl<H: MqttHandler> Connection<H> {
    /// Starts one connection attempt: open the transport, then CONNECT.
    pub(super) fn open(&mut self, ctx: &mut Context<Self>) {
        let Some(endpoint) = self.reconnect.servers.current().cloned() else {
            return self.stop_for_good(Error::InvalidOptions("no server to connect to".into()), ctx);
        };
        let ack_hint = AckHint::default();
        // What the transport logs while it opens (DNS, TLS, WebSocket, a
        // proxy) names the client and the attempt.
        let span = tracing::info_span!(
            "mqtt_connect",
            client_id = %self.client.client_id(),
            attempt = self.reconnect.attempt,
            server = ?endpoint,
        );
        let opening = self
            .reconnect
            .dialer
            .dial(endpoint, self.reconnect.connect_timeout, ack_hint.clone())
            .instrument(span);
        let opening = opening.into_actor(self).map(move |result, act, ctx| {
            act.guarded(ctx, |act, ctx| {
                if !matches!(act.lifecycle, Lifecycle::Opening(_)) {
                    return;
                }
                act.lifecycle = Lifecycle::Offline;
                match result {
                    Ok((read, write)) => act.on_open(read, write, ack_hint, ctx),
                    Err(err) => act.attempt_failed(err, ctx),
                }
            })
        });
        self.lifecycle = Lifecycle::Opening(ctx.spawn(opening));
    }

    fn on_open(
        &mut self,
        read: transport::ReadHalf,
        write: transport::WriteHalf,
        ack_hint: AckHint,
        ctx: &mut Context<Self>,
    ) {
        let version = self.protocol.config().version;
        let link = self
            .io
            .link(version, read, write, ack_hint, |stream| ctx.add_stream(stream));
        self.lifecycle = Lifecycle::Handshake(link);
        let now = Instant::now();
        self.protocol.connect(now);
        self.turn(now, ctx);
    }

    /// The transport is gone: tell the state machine and the handler, then
    /// reconnect after the backoff.
    pub(super) fn link_lost(&mut self, reason: DisconnectReason, ctx: &mut Context<Self>) {
        let was_connected = self.lifecycle.is_connected();
        self.drop_link(ctx);
        let now = Instant::now();
        if matches!(
            reason,
            DisconnectReason::Server(_) | DisconnectReason::Transport(_)
        ) {
            self.protocol.server_closed(now);
        }
        self.protocol.connection_lost(now);
        if self.lifecycle.is_final() {
            ctx.stop();
            return;
        }
        if was_connected {
            tracing::warn!(client_id = %self.client.client_id(), %reason, "MQTT connection lost");
            self.client.telemetry().reconnecting();
            let reference = match &reason {
                DisconnectReason::Server(disconnect) => Some((
                    disconnect.reason_code,
                    disconnect.properties.server_reference.clone(),
                )),
                _ => None,
            };
            self.deliver(HandlerEvent::Disconnected(reason), ctx);
            self.reconnect.servers.lost();
            if let Some((reason_code, reference)) = reference {
                self.follow_reference(reason_code, reference.as_deref());
            }
            self.schedule_attempt(ctx);
        } else {
            self.attempt_failed(reason.into_connect_error(), ctx);
        }
        self.turn(Instant::now(), ctx);
    }

    /// The server broke the protocol or sent what cannot be decoded: what
    /// the state machine queued for it (a DISCONNECT with the reason, on
    /// MQTT 5) is written now — the write outlives the link and closes the
    /// socket after it — and the link is dropped.
    pub(super) fn close_link(&mut self, reason: DisconnectReason, ctx: &mut Context<Self>) {
        self.write_now(Instant::now(), ctx);
        self.link_lost(reason, ctx);
    }

    pub(super) fn drop_link(&mut self, ctx: &mut Context<Self>) {
        if let Some(link) = self.lifecycle.take_link() {
            Self::release_link(link, ctx);
        }
        if let Some(persistence) = &mut self.persistence {
            persistence.link_lost();
        }
    }

    /// A connection attempt failed before CONNACK accepted it.
    pub(super) fn attempt_failed(&mut self, err: Error, ctx: &mut Context<Self>) {
        // Once connected, a certificate failure may be a server mid-rotation: keep trying.
        let rotation = self.reconnect.first.is_none() && matches!(err, Error::Tls(_));
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
        let now = Instant::now();
        let time_left = self.reconnect.first_time_left(now);
        if time_left == Some(Duration::ZERO) {
            return self.stop_for_good(timed_out(Some(err)), ctx);
        }
        if self.reconnect.servers.failed() {
            tracing::warn!(client_id = %self.client.client_id(), %err, "MQTT connect attempt failed; trying the next server");
            return self.open(ctx);
        }
        let mut delay = self.reconnect.backoff.delay(self.reconnect.attempt + 1);
        if let Some(left) = time_left {
            let margin = self.reconnect.last_attempt_margin();
            if left <= margin {
                // Too late for another attempt to finish: the deadline
                // (see `watch_first_deadline`) answers the caller.
                tracing::warn!(client_id = %self.client.client_id(), %err, "MQTT connect attempt failed; no time left for another");
                self.reconnect.keep_failure(err);
                return;
            }
            // A backoff past the deadline would leave the rest of the wait
            // unused: the last attempt starts early enough to finish.
            delay = delay.min(left - margin);
        }
        tracing::warn!(client_id = %self.client.client_id(), %err, ?delay, "MQTT connect attempt failed; retrying");
        self.reconnect.keep_failure(err);
        self.reconnect.attempt += 1;
        self.schedule_open(delay, ctx);
    }

    /// Arms the first connect's deadline. Whatever is under way then, the
    /// caller gets `ConnectTimeout` at the deadline: an attempt's own
    /// bounds (transport open, then CONNACK, each `connect_timeout`) would
    /// carry a late attempt far past it.
    pub(super) fn watch_first_deadline(&mut self, ctx: &mut Context<Self>) {
        let Some(left) = self.reconnect.first_time_left(Instant::now()) else {
            return;
        };
        ctx.run_later(left, |act, ctx| {
            act.guarded(ctx, |act, ctx| act.first_deadline_passed(ctx))
        });
    }

    fn first_deadline_passed(&mut self, ctx: &mut Context<Self>) {
        if self.lifecycle.is_final() {
            return;
        }
        let Some(first) = &mut self.reconnect.first else {
            return;
        };
        let cut_short = |what: &str| {
            Error::Io(std::sync::Arc::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("{what} within the connect timeout"),
            )))
        };
        let last = match self.lifecycle {
            Lifecycle::Opening(_) => Some(cut_short("the transport did not open")),
            Lifecycle::Handshake(_) => Some(cut_short("no CONNACK")),
            _ => first.last.take(),
        };
        tracing::error!(client_id = %self.client.client_id(), "MQTT connect timed out; not retrying");
        self.stop_for_good(timed_out(last), ctx);
    }

    /// The server did not take MQTT 5: the state machine speaks 3.1.1 from
    /// the next CONNECT, which goes out now, on a new transport. This was
    /// not a failed attempt: no backoff, and the failure count stays.
    pub(super) fn fall_back(&mut self, ctx: &mut Context<Self>) {
        match std::mem::replace(&mut self.lifecycle, Lifecycle::Offline) {
            Lifecycle::Handshake(link) => {
                Self::release_link(link, ctx);
                self.protocol.connection_lost(Instant::now());
            }
            Lifecycle::Waiting(retry) => {
                // The close already counted as a failure and scheduled a retry.
                ctx.cancel_future(retry);
                self.reconnect.attempt = self.reconnect.attempt.saturating_sub(1);
            }
            Lifecycle::Offline => {}
            other => {
                // Stopped, closing or already opening again: nothing to redo.
                self.lifecycle = other;
                return;
            }
        }
        self.open(ctx);
    }

    /// An MQTT 5 "use another server" or "server moved" with a Server
    /// Reference: the next attempt goes there. `true` if it will.
    fn follow_reference(&mut self, code: ReasonCode, reference: Option<&str>) -> bool {
        let moved = matches!(code, ReasonCode::UseAnotherServer | ReasonCode::ServerMoved);
        let Some(reference) = reference.filter(|_| moved) else {
            return false;
        };
        let following = self.reconnect.servers.redirect(reference);
        tracing::info!(client_id = %self.client.client_id(), reference, following, "MQTT server named another server");
        following
    }

    /// The next attempt, after the backoff for the failures so far.
    pub(super) fn schedule_attempt(&mut self, ctx: &mut Context<Self>) {
        self.reconnect.attempt += 1;
        let delay = self.reconnect.backoff.delay(self.reconnect.attempt);
        self.schedule_open(delay, ctx);
    }

    /// The next attempt, `delay` from now.
    fn schedule_open(&mut self, delay: Duration, ctx: &mut Context<Self>) {
        if self.reconnect.first.is_none() {
            let attempt = self.reconnect.attempt.max(1);
            self.client
                .telemetry()
                .set_state(ConnectionState::Reconnecting { attempt });
        }
        let retry = ctx.run_later(delay, |act, ctx| {
            act.guarded(ctx, |act, ctx| {
                if matches!(act.lifecycle, Lifecycle::Waiting(_)) {
                    act.open(ctx);
                }
            })
        });
        self.lifecycle = Lifecycle::Waiting(retry);
    }

    /// The server's end of enhanced authentication did not verify. Once
    /// connected (a re-authentication), the link goes and the reconnect
    /// authenticates from scratch. While connecting, the client gives up,
    /// after writing the DISCONNECT that tells the server why.
    pub(super) fn refuse_server(&mut self, err: Error, ctx: &mut Context<Self>) {
        if !matches!(self.lifecycle, Lifecycle::Handshake(_)) {
            return self.close_link(DisconnectReason::Protocol(err), ctx);
        }
        self.write_now(Instant::now(), ctx);
        let Some(link) = self.lifecycle.take_link() else {
            return self.stop_for_good(err, ctx);
        };
        // Kept, and written, until the DISCONNECT is out.
        ctx.cancel_future(link.reader());
        tracing::error!(client_id = %self.client.client_id(), %err, "MQTT connect refused by the client; not retrying");
        self.reconnect.answer_first(Err(err.clone()));
        self.deliver(
            HandlerEvent::Disconnected(DisconnectReason::ConnectFailed(err)),
            ctx,
        );
        // Stops once the DISCONNECT is written (see `said_goodbye`), or after the grace period.
        self.lifecycle = Lifecycle::Closing(Closing {
            link: Some(link),
            reply: None,
            held: None,
        });
        ctx.run_later(DISCONNECT_GRACE, |_, ctx| ctx.stop());
    }

    /// Gives up: the first `connect` call and the handler learn why.
    pub(super) fn stop_for_good(&mut self, err: Error, ctx: &mut Context<Self>) {
        self.drop_link(ctx);
        if let Lifecycle::Opening(pending) | Lifecycle::Waiting(pending) =
            std::mem::replace(&mut self.lifecycle, Lifecycle::Stopped)
        {
            ctx.cancel_future(pending);
        }
        self.reconnect.answer_first(Err(err.clone()));
        let reason = DisconnectReason::ConnectFailed(err);
        self.deliver(HandlerEvent::Disconnected(reason), ctx);
        ctx.stop();
    }
}

fn timed_out(last: Option<Error>) -> Error {
    Error::ConnectTimeout {
        last: last.map(Box::new),
    }
}

impl DisconnectReason {
    /// Why an attempt that never got a CONNACK Success failed, as the error
    /// the first `connect` call returns.
    fn into_connect_error(self) -> Error {
        match self {
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
        }
    }
}
