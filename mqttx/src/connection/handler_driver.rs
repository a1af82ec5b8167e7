//! Handing events to the handler, and driving its async work from the
//! actor's context without ever blocking the actor.

use std::pin::Pin;
use std::task::{self, Poll};
use std::time::Instant;

use actix::{ActorContext, ActorFuture, AsyncContext, Context, Running};

use super::closing::DISCONNECT_GRACE;
use super::Connection;
use crate::client::Reply;
use crate::handler::{HandlerEvent, Io, MqttHandler, Outbox};
use crate::packet::{Auth, Publish};
use crate::protocol::{Ack, Protocol};

/// Who polls the handler's async work, and until when a stop waits for it.
#[derive(Debug, Default)]
pub(super) struct Driver {
    /// Whether a future on the actor's context is polling the handler.
    driven: bool,
    /// The actor was asked to stop while the handler was busy: it stops
    /// once the handler is done, or at this deadline.
    stop_deadline: Option<Instant>,
}

impl<H: MqttHandler> Connection<H> {
    /// Gives `event` to the handler now, or after the work in progress.
    pub(super) fn deliver(&mut self, event: HandlerEvent, ctx: &mut Context<Self>) {
        let io = Io {
            outbox: &mut self.protocol,
            client: &self.client,
        };
        self.handler.deliver(event, io);
        self.drive_handler(ctx);
    }

    /// Makes sure something polls the handler's async work. Called after
    /// each delivery, and from `started`: a supervised restart drops the
    /// context's futures but not the work, which lives in the actor.
    fn drive_handler(&mut self, ctx: &mut Context<Self>) {
        if self.driver.driven || !self.handler.is_busy() {
            return;
        }
        self.driver.driven = true;
        ctx.spawn(DriveHandler);
    }

    /// After a restart: the old driver is gone with the context.
    pub(super) fn resume_handler(&mut self, ctx: &mut Context<Self>) {
        self.driver = Driver::default();
        self.drive_handler(ctx);
    }

    /// Asked to stop: the handler first finishes its async work and the
    /// events waiting for it (messages already acknowledged), for at most
    /// the disconnect grace period.
    pub(super) fn stop_after_handler(&mut self, ctx: &mut Context<Self>) -> Running {
        if !self.handler.is_busy() {
            return Running::Stop;
        }
        let now = Instant::now();
        match self.driver.stop_deadline {
            Some(deadline) if now >= deadline => Running::Stop,
            Some(_) => Running::Continue,
            None => {
                self.driver.stop_deadline = Some(now + DISCONNECT_GRACE);
                ctx.run_later(DISCONNECT_GRACE, |_, ctx| ctx.stop());
                Running::Continue
            }
        }
    }
}

/// Polls the handler's async work with the actor at hand, so the work's
/// publishes and AUTH answers go out in the next write.
struct DriveHandler;

impl<H: MqttHandler> ActorFuture<Connection<H>> for DriveHandler {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut Connection<H>,
        ctx: &mut Context<Connection<H>>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        // Like every other turn of the actor, under the panic guard: a bug
        // reached from here restarts a supervised connection.
        let mut outcome = Poll::Ready(());
        act.guarded(ctx, |act, ctx| outcome = drive(act, ctx, task));
        outcome
    }
}

fn drive<H: MqttHandler>(
    act: &mut Connection<H>,
    ctx: &mut Context<Connection<H>>,
    task: &mut task::Context<'_>,
) -> Poll<()> {
    loop {
        let polled = act.handler.poll(task, &mut act.protocol, &act.client);
        act.turn(Instant::now(), ctx);
        if polled.is_pending() {
            return Poll::Pending;
        }
        // The turn may have handed over new events meanwhile.
        if !act.handler.is_busy() {
            act.driver.driven = false;
            act.release_disconnect(ctx);
            if act.driver.stop_deadline.is_some() {
                ctx.stop();
            }
            return Poll::Ready(());
        }
    }
}

/// What a handler sends goes straight into the state machine, in call
/// order; nobody waits for a handler's publish.
impl Outbox for Protocol<Reply> {
    fn publish(&mut self, publish: Publish) {
        // The clock is read here rather than for every event: most
        // handlers never publish.
        Protocol::publish(self, publish, Reply::Detached, Instant::now());
    }

    fn acknowledge(&mut self, ack: Ack) {
        Protocol::acknowledge(self, ack);
    }

    fn auth(&mut self, auth: Auth) {
        Protocol::auth(self, auth, Instant::now());
    }
}
