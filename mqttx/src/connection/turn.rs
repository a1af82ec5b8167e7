//! The one way out of the actor. Every trigger — a packet read, a
//! command, a timer, the handler's async work, a finished write — ends in
//! [`Connection::turn`]: events go to their owners at once; the session
//! changes, the packets and the write wait for the end of the actor's turn,
//! so that one store write and one socket write cover everything the turn
//! handled.

use std::time::Instant;

use actix::{ActorContext, Context};

use super::io::Link;
use super::lifecycle::Lifecycle;
use super::Connection;
use crate::handler::{DisconnectReason, MqttHandler};
use crate::packet::Packet;

impl<H: MqttHandler> Connection<H> {
    /// Ends a trigger: events now, the write once the turn is over.
    pub(super) fn turn(&mut self, now: Instant, ctx: &mut Context<Self>) {
        self.hand_out_events(ctx);
        if self.has_work_for_the_turns_end() {
            self.write_at_end_of_turn(now);
        }
        self.arm_timer(now, ctx);
        let protocol = &self.protocol;
        self.client
            .telemetry()
            .window(protocol.inflight(), protocol.queued());
    }

    /// Whether the end of the turn has something to do: a store to bring
    /// up to date (acknowledgements change it too), or packets to write on
    /// a link that is not writing already — a write in flight takes what
    /// is ready when it finishes.
    fn has_work_for_the_turns_end(&self) -> bool {
        self.persistence.is_some()
            || (self.protocol.has_transmit() && self.lifecycle.link().is_some_and(|link| !link.is_writing()))
    }

    /// Events to their owners: callers, the handler, the lifecycle.
    fn hand_out_events(&mut self, ctx: &mut Context<Self>) {
        while let Some(event) = self.protocol.poll_event() {
            self.on_event(event, ctx);
        }
    }

    /// Schedules [`write_now`](Self::write_now) once for this turn: the
    /// actor's [`EndOfTurn`](super::turn_end::EndOfTurn) does it after the
    /// stream being handled yields.
    fn write_at_end_of_turn(&mut self, now: Instant) {
        self.turn_end.schedule(now);
    }

    /// Whether packets left from the last read are about to be handled
    /// (actix hands a stream's items over sixteen a turn). Their turns add
    /// to the same write, so a read costs one write, not one per sixteen
    /// packets. Client commands waiting in the queue are
    /// [`more_commands_to_gather`](Self::more_commands_to_gather)'s: an
    /// application that keeps the queue full must not hold a write for good.
    pub(super) fn more_input_this_turn(&self) -> bool {
        self.lifecycle.link().is_some_and(Link::more_input_buffered)
    }

    /// Whether client commands wait in the queue, the write may wait for
    /// the turns that handle them, and it has not waited too long.
    pub(super) fn more_commands_to_gather(&self) -> bool {
        self.turn_end.may_wait_longer()
            && self.lifecycle.link().is_some_and(Link::may_gather)
            && !self.commands.borrow().is_empty()
    }

    /// Settles the state machine — events, then the session changes the
    /// packets depend on, then the packets into the link's buffer — until
    /// it has nothing more, and starts one write for all of it.
    pub(super) fn write_now(&mut self, now: Instant, ctx: &mut Context<Self>) {
        loop {
            let mut progressed = false;
            while let Some(event) = self.protocol.poll_event() {
                progressed = true;
                self.on_event(event, ctx);
            }
            // A publish is recorded before it is sent, an incoming QoS 2 id
            // before its PUBREC.
            self.persist(ctx);
            if let Some(link) = self.lifecycle.link_mut() {
                let version = self.protocol.config().version;
                while let Some(packet) = self.protocol.poll_transmit(now) {
                    progressed = true;
                    // What a pending store batch guards waits in the batch.
                    let packet = match &mut self.persistence {
                        Some(persistence) => persistence.hold(packet),
                        None => Some(packet),
                    };
                    if let Some(packet) = packet {
                        if let Packet::Publish(publish) = &packet {
                            if !publish.dup {
                                self.client.telemetry().sent(publish.qos);
                            }
                        }
                        link.queue(&packet, version);
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        self.flush();
        self.arm_timer(now, ctx);
        let protocol = &self.protocol;
        if let Some(link) = self.lifecycle.link() {
            link.window_bound()
                .update(protocol.inflight(), protocol.window(), protocol.queued());
        }
    }

    /// Starts a write of everything queued, unless one is in flight (its
    /// completion flushes again, so packets made ready meanwhile share it).
    fn flush(&mut self) {
        if let Some(link) = self.lifecycle.link_mut() {
            link.start_write();
        }
    }

    /// A write of the link's writer finished.
    pub(super) fn written(&mut self, result: std::io::Result<()>, now: Instant, ctx: &mut Context<Self>) {
        match result {
            Err(err) => self.link_lost(DisconnectReason::Transport(err.into()), ctx),
            Ok(()) if self.said_goodbye() => ctx.stop(),
            Ok(()) => self.write_now(now, ctx),
        }
    }

    /// Closing, with DISCONNECT sent and written.
    fn said_goodbye(&self) -> bool {
        if !self.persistence.as_ref().is_none_or(|p| p.is_settled()) {
            // DISCONNECT may still wait in a store batch.
            return false;
        }
        // A DISCONNECT made while a write was in flight is still in the
        // state machine when that write ends: not said yet.
        match &self.lifecycle {
            Lifecycle::Closing(closing) => {
                closing.held.is_none()
                    && !self.protocol.has_transmit()
                    && !closing.link.as_ref().is_some_and(Link::has_pending)
            }
            _ => false,
        }
    }

    /// Arms the one timer for the earliest deadline: the state machine's
    /// (keep-alive, CONNACK, 3.1.1 retries) or a waiting call's.
    pub(super) fn arm_timer(&mut self, now: Instant, ctx: &mut Context<Self>) {
        let deadline = match (self.protocol.poll_timeout(), self.requests.next_deadline()) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(deadline) => deadline,
                None => return,
            },
        };
        self.timer.arm(deadline, now, ctx, |act, ctx| {
            act.guarded(ctx, |act, ctx| {
                act.timer.clear();
                let now = Instant::now();
                act.protocol.handle_timeout(now);
                act.requests.expire(now);
                act.turn(now, ctx);
            })
        });
    }
}
