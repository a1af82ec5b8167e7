//! The connection's side of a session store: load or clear it before the
//! first connect, and record each turn's session changes before the
//! packets they guard go out.
//!
//! A store that answers at once (memory, a local file) costs nothing more
//! than the call. One that answers later (over a network) gets its batch,
//! and the connection goes on: packets the batch does not guard are written
//! meanwhile, the next turn's batch may go to the store too, and the guarded
//! packets wait in their batch until it, and every batch before it, is done.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use actix::fut::ActorFutureExt;
use actix::{AsyncContext, Context, WrapFuture};
use bytestring::ByteString;

use super::Connection;
use crate::client::Reply;
use crate::error::Error;
use crate::handler::MqttHandler;
use crate::packet::{Packet, PacketId, QoS};
use crate::protocol::{Protocol, SessionChange};
use crate::store::{SessionState, SharedStore, StoreError, StoreFuture};

/// A connection's store and the batches it has not finished.
pub(super) struct Persistence {
    store: SharedStore,
    /// How long an operation may stay pending before it counts as failed.
    timeout: Duration,
    /// The turn's changes, in a buffer kept from turn to turn.
    journal: Vec<SessionChange>,
    /// Batches the store has not finished, oldest first.
    pending: VecDeque<Batch>,
    next_batch: u64,
    /// The session still being loaded (or cleared) before the first connect.
    opening: Option<Opening>,
}

/// One batch of changes the store is applying, and the packets it guards.
struct Batch {
    number: u64,
    /// `None` until the store has answered.
    outcome: Option<Result<(), StoreError>>,
    /// The publishes recorded in the batch: failed if it fails.
    publishes: Vec<(u64, Option<PacketId>)>,
    /// Packets polled while the batch was pending that need it done first.
    held: Vec<Packet>,
}

/// The first operation, when the store could not answer at once.
enum Opening {
    Load(StoreFuture<SessionState>),
    Clear(StoreFuture<()>),
}

/// Whether a packet must wait for the changes recorded before it: the
/// packets of QoS 1/2 flows, whose records they are, and DISCONNECT, which
/// must not overtake them.
fn guarded(packet: &Packet) -> bool {
    match packet {
        Packet::Publish(publish) => publish.qos != QoS::AtMostOnce,
        Packet::PubRel(_) | Packet::PubRec(_) | Packet::PubComp(_) | Packet::Disconnect(_) => true,
        _ => false,
    }
}

impl Persistence {
    /// Starts the session: resumes what the store holds, or clears it. A
    /// store that answers at once has done so when this returns.
    pub(super) fn open(
        store: SharedStore,
        timeout: Duration,
        protocol: &mut Protocol<Reply>,
        client_id: &ByteString,
        clean_session: bool,
    ) -> Result<Persistence, Error> {
        protocol.record_session(true);
        let opening = if clean_session {
            let mut clear = store.0.clear(client_id);
            match clear.now() {
                Some(done) => done.map(|()| None)?,
                None => Some(Opening::Clear(clear)),
            }
        } else {
            let mut load = store.0.load(client_id);
            match load.now() {
                Some(loaded) => {
                    resume(protocol, client_id, loaded?);
                    None
                }
                None => Some(Opening::Load(load)),
            }
        };
        Ok(Persistence {
            store,
            timeout,
            journal: Vec::new(),
            pending: VecDeque::new(),
            next_batch: 0,
            opening,
        })
    }

    /// A packet to write now, or `None` when it waits for a pending batch.
    pub(super) fn hold(&mut self, packet: Packet) -> Option<Packet> {
        match self.pending.back_mut() {
            Some(batch) if guarded(&packet) => {
                batch.held.push(packet);
                None
            }
            _ => Some(packet),
        }
    }

    /// Whether nothing waits for the store.
    pub(super) fn is_settled(&self) -> bool {
        self.pending.is_empty()
    }

    /// The link is gone: what waited to be written on it never will be;
    /// the state machine sends it again on the next connection.
    pub(super) fn link_lost(&mut self) {
        for batch in &mut self.pending {
            batch.held.clear();
        }
    }
}

/// Imports a loaded session into the state machine.
fn resume(protocol: &mut Protocol<Reply>, client_id: &str, state: SessionState) {
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

impl<H: MqttHandler> Connection<H> {
    /// Whether the store is still loading the session; if so, the first
    /// connect starts once it is done.
    pub(super) fn finish_opening(&mut self, ctx: &mut Context<Self>) -> bool {
        let Some(persistence) = &mut self.persistence else {
            return false;
        };
        let Some(opening) = persistence.opening.take() else {
            return false;
        };
        let timeout = persistence.timeout;
        let client_id = self.client.client_id().to_owned();
        let done = async move {
            match opening {
                Opening::Load(load) => within(timeout, load).await.map(Some),
                Opening::Clear(clear) => within(timeout, clear).await.map(|()| None),
            }
        };
        ctx.spawn(done.into_actor(self).map(move |outcome, act, ctx| {
            act.guarded(ctx, |act, ctx| match outcome {
                Ok(loaded) => {
                    if let Some(state) = loaded {
                        resume(&mut act.protocol, &client_id, state);
                    }
                    act.open(ctx);
                }
                Err(err) => act.stop_for_good(Error::Store(err), ctx),
            })
        }));
        true
    }

    /// Hands this turn's session changes to the store. A publish whose
    /// record could not be stored is not sent: its caller gets the error.
    pub(super) fn persist(&mut self, ctx: &mut Context<Self>) {
        let Some(persistence) = &mut self.persistence else {
            return;
        };
        persistence.journal.clear();
        persistence
            .journal
            .extend(std::iter::from_fn(|| self.protocol.poll_session_change()));
        if persistence.journal.is_empty() {
            return;
        }
        let mut applying = persistence
            .store
            .0
            .apply(self.client.client_id(), &persistence.journal);
        match applying.now() {
            Some(Ok(())) => {}
            Some(Err(err)) => {
                let publishes = recorded_publishes(&persistence.journal);
                self.store_failed(&err, &publishes, &mut Vec::new());
            }
            None => {
                let number = persistence.next_batch;
                persistence.next_batch += 1;
                persistence.pending.push_back(Batch {
                    number,
                    outcome: None,
                    publishes: recorded_publishes(&persistence.journal),
                    held: Vec::new(),
                });
                let applied = within(persistence.timeout, applying);
                ctx.spawn(applied.into_actor(self).map(move |outcome, act, ctx| {
                    act.guarded(ctx, |act, ctx| act.batch_done(number, outcome, ctx))
                }));
            }
        }
    }

    /// A pending batch finished: act on every finished batch at the front,
    /// in order, then write what they held.
    fn batch_done(&mut self, number: u64, outcome: Result<(), StoreError>, ctx: &mut Context<Self>) {
        let Some(persistence) = &mut self.persistence else {
            return;
        };
        if let Some(batch) = persistence
            .pending
            .iter_mut()
            .find(|batch| batch.number == number)
        {
            batch.outcome = Some(outcome);
        }
        while let Some(batch) = self.next_finished() {
            let Batch {
                outcome,
                publishes,
                mut held,
                ..
            } = batch;
            if let Some(Err(err)) = outcome {
                self.store_failed(&err, &publishes, &mut held);
            }
            if let Some(link) = self.lifecycle.link_mut() {
                let version = self.protocol.config().version;
                for packet in &held {
                    link.queue(packet, version);
                }
            }
        }
        self.write_now(Instant::now(), ctx);
    }

    fn next_finished(&mut self) -> Option<Batch> {
        let pending = &mut self.persistence.as_mut()?.pending;
        pending.front()?.outcome.as_ref()?;
        pending.pop_front()
    }

    /// The store could not record `publishes`: they are not sent, and
    /// their callers get the error. Their PUBLISHes already polled (held
    /// in `held`) are dropped.
    fn store_failed(
        &mut self,
        err: &StoreError,
        publishes: &[(u64, Option<PacketId>)],
        held: &mut Vec<Packet>,
    ) {
        tracing::error!(client_id = %self.client.client_id(), %err, "session store failed");
        for &(seq, packet_id) in publishes {
            if let Some(tag) = self.protocol.abandon_publish(seq) {
                tag.answer_publish(Err(Error::Store(err.clone())));
            }
            held.retain(|packet| !matches!(packet, Packet::Publish(p) if p.packet_id == packet_id));
        }
    }
}

/// The publishes a batch records, by `seq` and packet id.
fn recorded_publishes(changes: &[SessionChange]) -> Vec<(u64, Option<PacketId>)> {
    changes
        .iter()
        .filter_map(|change| match change {
            SessionChange::Publish(stored) => Some((stored.seq, stored.publish.packet_id)),
            _ => None,
        })
        .collect()
}

/// A store operation that must finish within `timeout`.
async fn within<T>(timeout: Duration, operation: StoreFuture<T>) -> Result<T, StoreError> {
    match tokio::time::timeout(timeout, operation).await {
        Ok(outcome) => outcome,
        Err(_) => Err(StoreError::new(format!(
            "the session store did not answer within {timeout:?}"
        ))),
    }
}
