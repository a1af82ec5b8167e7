//! The connection's side of a session store: load or clear it at start,
//! and persist each turn's session changes before the turn's packets.

use std::time::Instant;

use actix::{ActorFutureExt, AsyncContext, Context};
use bytestring::ByteString;

use super::link::Link;
use super::{Connection, Reply};
use crate::handler::MqttHandler;
use crate::protocol::{Protocol, SessionChange};
use crate::store::SharedStore;
use crate::Error;

/// Before the first connect: resume what the store holds, or start clean.
pub(super) fn open_session(
    protocol: &mut Protocol<Reply>,
    store: &SharedStore,
    client_id: &ByteString,
    clean_session: bool,
) -> Result<(), Error> {
    if clean_session {
        store.0.clear(client_id)?;
    } else {
        let state = store.0.load(client_id)?;
        if !state.is_empty() {
            tracing::info!(
                %client_id,
                outgoing = state.outgoing.len(),
                incoming = state.incoming.len(),
                "resuming the session from the store"
            );
        }
        // Nobody waits for restored publishes: their callers were in an
        // earlier connection.
        protocol.restore_session(state, |_| Reply::Detached);
    }
    protocol.record_session(true);
    Ok(())
}

impl<H: MqttHandler> Connection<H> {
    /// Persists and writes once the actor's current turn is over: a future
    /// spawned now is polled after the stream that is being handled yields.
    /// `now` is the clock read for this turn's input; the turn is short.
    pub(super) fn write_later(&mut self, now: Instant, ctx: &mut Context<Self>) {
        if self.write_scheduled {
            return;
        }
        self.write_scheduled = true;
        ctx.spawn(actix::fut::ready(()).map(move |(), act: &mut Self, ctx| {
            act.write_scheduled = false;
            if act.more_input_this_turn() {
                // The turn that handles it schedules the write again.
                return;
            }
            act.guarded(ctx, |act, ctx| act.pump_now(now, ctx));
        }));
    }

    /// Whether packets left from the read are about to be handled (actix
    /// hands them over sixteen a turn). Their turns add to the same write,
    /// so a read costs one write instead of one per sixteen packets.
    ///
    /// Client commands waiting in the queue do not hold a write back: an
    /// application that keeps the queue full would hold it back for good.
    fn more_input_this_turn(&self) -> bool {
        self.link.as_ref().is_some_and(Link::more_input_buffered)
    }

    /// Hands this turn's session changes to the store. A publish whose
    /// record could not be stored is not sent: its caller gets the error.
    pub(super) fn persist(&mut self) {
        let Some(store) = &self.store else { return };
        self.journal.clear();
        self.journal
            .extend(std::iter::from_fn(|| self.protocol.poll_session_change()));
        if self.journal.is_empty() {
            return;
        }
        let Err(err) = store.0.apply(self.client.client_id(), &self.journal) else {
            return;
        };
        tracing::error!(client_id = %self.client.client_id(), %err, "session store failed");
        for change in &self.journal {
            if let SessionChange::Publish(stored) = change {
                if let Some(tag) = self.protocol.abandon_publish(stored.seq) {
                    answer_failed(tag, Error::Store(err.clone()));
                }
            }
        }
    }
}

fn answer_failed(tag: Reply, err: Error) {
    match tag {
        Reply::Publish(tx) => {
            let _ = tx.send(Err(Box::new(err)));
        }
        Reply::Detached => {
            tracing::warn!(%err, "a publish from a handler or a restored session was not sent")
        }
        Reply::Subscribe(..) | Reply::Unsubscribe(..) => {}
    }
}
