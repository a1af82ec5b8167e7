//! The connection's side of a session store: load or clear it at start,
//! and persist each turn's session changes before the turn's packets.

use bytestring::ByteString;

use super::Connection;
use crate::client::Reply;
use crate::error::Error;
use crate::handler::MqttHandler;
use crate::protocol::{Protocol, SessionChange};
use crate::store::SharedStore;

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
                    tag.answer_publish(Err(Error::Store(err.clone())));
                }
            }
        }
    }
}
