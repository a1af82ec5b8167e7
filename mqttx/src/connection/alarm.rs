//! A timer for the earliest of a set of deadlines that move: armed again
//! only when a deadline comes sooner than the one it is set for, so a busy
//! connection does not cancel and re-arm it at every turn. A timer that
//! fires early is harmless: its owner checks what is due.

use std::time::Instant;

use actix::{Actor, AsyncContext, Context, SpawnHandle};

/// One timer on an actor's context.
#[derive(Debug, Default)]
pub(super) struct Alarm(Option<(Instant, SpawnHandle)>);

impl Alarm {
    /// Arms for `deadline`, unless armed for it or sooner; `fire` runs then.
    pub(super) fn arm<A>(
        &mut self,
        deadline: Instant,
        now: Instant,
        ctx: &mut Context<A>,
        fire: impl FnOnce(&mut A, &mut Context<A>) + 'static,
    ) where
        A: Actor<Context = Context<A>>,
    {
        if let Some((armed, handle)) = self.0 {
            if armed <= deadline {
                return;
            }
            ctx.cancel_future(handle);
        }
        let handle = ctx.run_later(deadline.saturating_duration_since(now), fire);
        self.0 = Some((deadline, handle));
    }

    /// The timer fired, or went with the context of a restarted actor.
    pub(super) fn clear(&mut self) {
        self.0 = None;
    }
}
