//! Ending a connection: `disconnect` (DISCONNECT out, then stop), and what
//! every stop does last — answer whoever still waits, leave the registry.

use std::time::{Duration, Instant};

use actix::{ActorContext, AsyncContext, Context, SystemService};
use tokio::sync::oneshot;

use super::lifecycle::{Closing, Lifecycle};
use super::{replies, Connection};
use crate::client::{Answer, ConnectionState};
use crate::error::Error;
use crate::handler::{DisconnectReason, HandlerEvent, MqttHandler};
use crate::packet::Disconnect;
use crate::registry::{ClientRegistry, Unregister};

/// How long a `disconnect` waits for DISCONNECT to be written, or a busy
/// handler to finish, before the actor stops anyway.
pub(super) const DISCONNECT_GRACE: Duration = Duration::from_secs(5);

impl<H: MqttHandler> Connection<H> {
    /// `Client::disconnect`: DISCONNECT out, then stop; no reconnect.
    pub(super) fn disconnect(
        &mut self,
        packet: Disconnect,
        reply: oneshot::Sender<Answer<()>>,
        ctx: &mut Context<Self>,
    ) {
        if self.lifecycle.is_final() {
            let _ = reply.send(Ok(()));
            return;
        }
        self.reconnect.answer_first(Err(Error::Closed));
        let link = match std::mem::replace(&mut self.lifecycle, Lifecycle::Stopped) {
            Lifecycle::Connected(link) => Some(link),
            Lifecycle::Opening(attempt) | Lifecycle::Waiting(attempt) => {
                ctx.cancel_future(attempt);
                None
            }
            Lifecycle::Handshake(link) => {
                // No session yet to close politely: just stop reading.
                Self::release_link(link, ctx);
                None
            }
            _ => None,
        };
        let connected = link.is_some();
        let hold = connected && self.handler.is_busy();
        self.lifecycle = Lifecycle::Closing(Closing {
            link,
            reply: Some(reply),
            held: hold.then_some(packet.clone()),
        });
        if hold {
            ctx.run_later(DISCONNECT_GRACE, |act, ctx| act.release_disconnect(ctx));
            return;
        }
        self.say_goodbye(packet, ctx);
        if !connected {
            ctx.stop();
        }
    }

    /// Sends the DISCONNECT a busy handler held back, once it is done (or
    /// after the grace period).
    pub(super) fn release_disconnect(&mut self, ctx: &mut Context<Self>) {
        let Lifecycle::Closing(closing) = &mut self.lifecycle else {
            return;
        };
        let Some(packet) = closing.held.take() else {
            return;
        };
        let linked = closing.link.is_some();
        self.say_goodbye(packet, ctx);
        if !linked {
            ctx.stop();
        }
    }

    /// DISCONNECT into the state machine, the handler told, and the actor
    /// stopped once it is written or the grace period is over.
    fn say_goodbye(&mut self, packet: Disconnect, ctx: &mut Context<Self>) {
        let now = Instant::now();
        self.protocol.disconnect(packet, now);
        self.deliver(HandlerEvent::Disconnected(DisconnectReason::Client), ctx);
        self.turn(now, ctx);
        ctx.run_later(DISCONNECT_GRACE, |_, ctx| ctx.stop());
    }

    /// Stopped for good: every waiter learns it, the registry forgets us.
    /// Safe to run more than once.
    pub(super) fn finish(&mut self) {
        self.client.telemetry().set_state(ConnectionState::Stopped);
        let reply = match std::mem::replace(&mut self.lifecycle, Lifecycle::Stopped) {
            Lifecycle::Closing(closing) => closing.reply,
            _ => None,
        };
        self.reconnect.answer_first(Err(Error::Closed));
        // The session itself stays in the store (if any) for the next
        // connection with this client id; the waiters here are told.
        self.protocol.disconnect(Disconnect::default(), Instant::now());
        while let Some(event) = self.protocol.poll_event() {
            replies::answer_orphan(event);
        }
        self.requests.close();
        if let Some(reply) = reply {
            let _ = reply.send(Ok(()));
        }
        let claim = self
            .supervised
            .take()
            .and_then(|registration| registration.token());
        if let Some(token) = claim.filter(|_| actix::System::try_current().is_some()) {
            ClientRegistry::from_registry().do_send(Unregister {
                client_id: self.client.client_id().to_owned(),
                token,
            });
        }
    }

    /// A supervised connection restarted after stopping for good: stay
    /// down. Queued commands are dropped (their callers get `Closed`) and
    /// the queue closed, so `Client::is_running` says false.
    ///
    /// actix restarts a supervised actor for as long as anything holds its
    /// address, and the actor's own `Client` does: its copy is swapped for
    /// one whose mailboxes nobody reads, so the actor is dropped once the
    /// application's last `Client` is.
    pub(super) fn park(&mut self) {
        self.finish();
        self.commands.borrow_mut().close();
        self.client = self.client.without_mailboxes();
    }
}
