//! Panics and restarts. Every turn of the actor runs under
//! [`Connection::guarded`]: a panic stops the actor, which under
//! `actix::Supervisor` means a restart.
//!
//! actix restarts a supervised actor whenever it stops while handles to
//! it exist (`stopped` → `restarting` → `started`), whatever the reason.
//! So a deliberate stop leaves the lifecycle `Stopped`, and a restarted
//! actor that finds it so parks. The actor struct, its handler and its
//! session survive a restart; what was spawned on the context does not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;

use super::lifecycle::Lifecycle;
use super::Connection;
use crate::handler::{panic_message, DisconnectReason, HandlerEvent, MqttHandler};

/// A supervised connection's claim in the
/// [`ClientRegistry`](crate::ClientRegistry), under the client id in use.
/// An empty configured id is registered once the server has assigned one,
/// so the claim's token may come after the connection started; until
/// then it is 0, which the registry never hands out.
#[derive(Debug, Clone, Default)]
pub(crate) struct Registration {
    token: Arc<AtomicU64>,
}

impl Registration {
    /// The registry granted the claim.
    pub(crate) fn granted(&self, token: u64) {
        self.token.store(token, Ordering::Release);
    }

    /// The claim to give back, if one was granted.
    pub(crate) fn token(&self) -> Option<u64> {
        Some(self.token.load(Ordering::Acquire)).filter(|&token| token != 0)
    }
}

impl<H: MqttHandler> Supervised for Connection<H> {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        // Everything spawned on the old context is gone, so are its handles.
        self.timer.clear();
        self.turn_end = super::turn_end::TurnEnd::default();
        self.protocol.connection_lost(Instant::now());
        match &self.lifecycle {
            Lifecycle::Closing(_) | Lifecycle::Stopped => return self.finish(),
            Lifecycle::Crashed(_) => {}
            _ => self.lifecycle = Lifecycle::Crashed("stopped unexpectedly".into()),
        }
        if let Lifecycle::Crashed(message) = &self.lifecycle {
            tracing::warn!(client_id = %self.client.client_id(), %message, "MQTT connection restarting after a crash");
        }
        // Waiting callers keep waiting: their replies live in the protocol,
        // which the restart keeps. `started` tells the handler (once its
        // driver is back on the new context) and reconnects after a backoff,
        // so a crash loop cannot hammer the broker.
        self.reconnect.attempt = self.reconnect.attempt.max(1);
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
            let message = panic_message(panic.as_ref());
            tracing::error!(client_id = %self.client.client_id(), %message, "MQTT connection actor panicked");
            if !self.lifecycle.is_final() {
                // A panic while closing just ends the close sooner.
                self.lifecycle = Lifecycle::Crashed(message);
            }
            ctx.stop();
        }
    }

    /// After a restart: the handler hears about the crash.
    pub(super) fn report_restart(&mut self, ctx: &mut Context<Self>) {
        if let Lifecycle::Crashed(message) = std::mem::replace(&mut self.lifecycle, Lifecycle::Offline) {
            let reason = DisconnectReason::Crashed {
                message,
                restarting: true,
            };
            self.deliver(HandlerEvent::Disconnected(reason), ctx);
        }
    }
}
