//! Running under `actix::Supervisor`: panics become restarts, a deliberate
//! stop stays a stop, and the registry learns when a connection is gone.
//!
//! actix restarts a supervised actor whenever it stops while handles to
//! it exist (`stopped` → `restarting` → `started`), whatever the reason.
//! So a deliberate stop sets `finished`, and a restarted actor that finds
//! it set parks: no socket, no timers, its command queue closed, every
//! request answered with `Closed`. The actor struct, its handler and its
//! session survive a restart; what was spawned on the context does not.

use std::time::Instant;

use actix::prelude::*;

use super::{events, Connection, Phase};
use crate::handler::{DisconnectReason, HandlerEvent, MqttHandler};
use crate::packet::Disconnect;
use crate::registry::{ClientRegistry, Unregister};
use crate::Error;

/// A supervised connection's entry in the [`ClientRegistry`].
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) client_id: String,
    pub(crate) token: u64,
}

impl<H: MqttHandler> Supervised for Connection<H> {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        // Everything spawned on the old context is gone, so are its handles.
        self.link = None;
        self.timer = None;
        self.pending_attempt = None;
        self.write_scheduled = false;
        self.protocol.connection_lost(Instant::now());
        if self.finished || self.phase == Phase::Closing {
            self.finished = true;
            self.finish();
            return;
        }
        let message = self.crashed.get_or_insert_with(|| "stopped unexpectedly".into());
        tracing::warn!(client_id = %self.client.client_id(), %message, "MQTT connection restarting after a crash");
        // Waiting callers keep waiting: their replies live in the protocol,
        // which the restart keeps. `started` tells the handler (once its
        // driver is back on the new context) and reconnects.
        self.attempt = self.attempt.max(1);
    }
}

impl<H: MqttHandler> Connection<H> {
    /// Runs one turn of the actor with panics caught: a panic stops the
    /// actor, which under a supervisor means a restart.
    pub(super) fn guarded(
        &mut self,
        ctx: &mut Context<Self>,
        turn: impl FnOnce(&mut Self, &mut Context<Self>),
    ) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| turn(self, ctx)));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            tracing::error!(client_id = %self.client.client_id(), %message, "MQTT connection actor panicked");
            self.crashed = Some(message);
            ctx.stop();
        }
    }

    /// Stopped for good: every waiter learns it, the registry forgets us.
    /// Safe to run more than once.
    pub(super) fn finish(&mut self) {
        self.phase = Phase::Stopped;
        self.finished = true;
        if let Some(first) = self.first_connect.take() {
            let _ = first.reply.send(Err(Error::Closed));
        }
        // The session itself stays in the store (if any) for the next
        // connection with this client id; the waiters here are told.
        self.protocol.disconnect(Disconnect::default(), Instant::now());
        while let Some(event) = self.protocol.poll_event() {
            events::answer_orphan(event);
        }
        if let Some(reply) = self.disconnect_reply.take() {
            let _ = reply.send(Ok(()));
        }
        if let Some(registration) = self.supervised.take() {
            if actix::System::try_current().is_some() {
                ClientRegistry::from_registry().do_send(Unregister {
                    client_id: registration.client_id,
                    token: registration.token,
                });
            }
        }
    }

    /// A supervised connection restarted after stopping for good: stay
    /// down. Queued commands are dropped (their callers get `Closed`) and
    /// the queue closed, so `Client::is_running` says false.
    ///
    /// actix restarts a supervised actor for as long as anything holds its
    /// address, and the actor's own `Client` did: a stopped connection
    /// stayed in memory until the System ended. Its copy now gets
    /// recipients of an address that was never connected, so the actor is
    /// dropped once the application's last `Client` is.
    pub(super) fn park(&mut self) {
        self.finish();
        {
            let mut commands = self.commands.borrow_mut();
            commands.close();
            while commands.try_recv().is_ok() {}
        }
        self.client = self.client.without_mailboxes();
    }
}

impl<H: MqttHandler> Connection<H> {
    /// After a restart: the handler hears about the crash.
    pub(super) fn report_restart(&mut self, ctx: &mut Context<Self>) {
        if let Some(message) = self.crashed.take() {
            let reason = DisconnectReason::Crashed {
                message,
                restarting: true,
            };
            self.deliver(HandlerEvent::Disconnected(reason), ctx);
        }
    }
}
