//! The end of a turn and the write it starts, as one future for the
//! actor's life ([`EndOfTurn`]), and letting a link go.

use std::pin::Pin;
use std::task::{Poll, Waker};
use std::time::Instant;

use actix::{ActorFuture, AsyncContext, Context};

use super::io::Link;
use super::Connection;
use crate::handler::MqttHandler;

/// Whether the end of the turn has a write to do, and the waker of the
/// [`EndOfTurn`] future that does it.
#[derive(Debug, Default)]
pub(super) struct TurnEnd {
    scheduled: Option<Instant>,
    waker: Option<Waker>,
    /// Turns in a row that put the write off for queued commands.
    gathered: u8,
}

/// How many turns in a row a write may wait for client commands still
/// queued (each turn takes up to sixteen): enough to gather a burst of
/// publishes into one write, never so many that an application keeping
/// the queue full, from another thread, holds a write back.
const GATHER_TURNS: u8 = 16;

impl TurnEnd {
    /// Whether the write has waited fewer than [`GATHER_TURNS`] turns in a
    /// row for queued commands.
    pub(super) fn may_wait_longer(&self) -> bool {
        self.gathered < GATHER_TURNS
    }

    pub(super) fn schedule(&mut self, now: Instant) {
        if self.scheduled.is_none() {
            self.scheduled = Some(now);
            if let Some(waker) = &self.waker {
                waker.wake_by_ref();
            }
        }
    }
}

/// The end of every turn, as one future spawned when the actor starts:
/// woken by a turn that scheduled a write, it is polled once the stream
/// being handled yields (actix hands a stream's items over sixteen a poll),
/// so one write covers them all; then it drives that write
/// ([`Link::poll_write`]) to its end. One future for the actor's life
/// rather than one per turn or per write: neither allocates.
pub(super) struct EndOfTurn;

impl<H: MqttHandler> ActorFuture<Connection<H>> for EndOfTurn {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut Connection<H>,
        ctx: &mut Context<Connection<H>>,
        task: &mut std::task::Context<'_>,
    ) -> Poll<()> {
        while let Some(now) = act.turn_end.scheduled.take() {
            if act.more_input_this_turn() {
                // The turn that handles it schedules the write again.
                break;
            }
            if act.more_commands_to_gather() {
                act.turn_end.gathered += 1;
                break;
            }
            act.turn_end.gathered = 0;
            act.guarded(ctx, |act, ctx| act.write_now(now, ctx));
        }
        // Then the write that started, on whichever link is current: its
        // end (through `written`) may start the next, or schedule a turn's end.
        while let Some(link) = act.lifecycle.link_mut() {
            let Poll::Ready(result) = link.poll_write(task) else {
                break;
            };
            act.guarded(ctx, move |act, ctx| act.written(result, Instant::now(), ctx));
            if act.turn_end.scheduled.is_some() {
                // A turn's end again: the next poll, after what it waits for.
                task.waker().wake_by_ref();
                break;
            }
        }
        if !act
            .turn_end
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(task.waker()))
        {
            act.turn_end.waker = Some(task.waker().clone());
        }
        Poll::Pending
    }
}

impl<H: MqttHandler> Connection<H> {
    /// Lets a link go: nothing more is read; a write in flight — the
    /// DISCONNECT that tells the server why — still goes out, then the
    /// stream closes.
    pub(super) fn release_link(link: Link, ctx: &mut Context<Self>) {
        ctx.cancel_future(link.reader());
        if let Some(last) = link.finish_in_background() {
            actix::spawn(last);
        }
    }
}
