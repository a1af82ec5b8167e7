//! [`MemoryStore`]: sessions kept for as long as the process lives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::image::SessionImage;
use super::{SessionChange, SessionState, SessionStore, StoreFuture};

/// Keeps sessions in memory, keyed by client id, for the life of the
/// process. Clones share the same sessions.
///
/// It outlives any one connection: a later `Client::connect` with the same
/// client id and `clean_session(false)` resumes what an earlier one left in
/// flight (a connection that was dropped, or disconnected with publishes
/// still unacknowledged). Reconnects and supervised restarts keep the
/// session anyway, since the connection actor keeps it; a process that
/// dies loses it — use [`FileStore`](super::FileStore) for that.
///
/// ```
/// use mqttx::{store::MemoryStore, ConnectOptions};
///
/// let store = MemoryStore::new();
/// let opts = ConnectOptions::new("localhost", "sensor-7")
///     .clean_session(false)
///     .session_expiry_interval(600)
///     .session_store(store.clone());
/// # let _ = opts;
/// assert!(store.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    sessions: Arc<Mutex<HashMap<String, SessionImage>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Whether no session holds anything in flight.
    pub fn is_empty(&self) -> bool {
        self.lock().values().all(SessionImage::is_empty)
    }

    /// The session saved for `client_id`, for inspection.
    pub fn session(&self, client_id: &str) -> SessionState {
        self.lock()
            .get(client_id)
            .map(SessionImage::state)
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionImage>> {
        // A panic while holding the lock leaves a whole image behind: every
        // change is applied in one step.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SessionStore for MemoryStore {
    fn load(&self, client_id: &str) -> StoreFuture<SessionState> {
        Ok(self.session(client_id)).into()
    }

    fn apply(&self, client_id: &str, changes: &[SessionChange]) -> StoreFuture<()> {
        let mut sessions = self.lock();
        let image = sessions.entry(client_id.to_owned()).or_default();
        for change in changes {
            image.apply(change);
        }
        Ok(()).into()
    }

    fn clear(&self, client_id: &str) -> StoreFuture<()> {
        self.lock().remove(client_id);
        Ok(()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{PacketId, Publish, QoS};
    use crate::store::StoredPublish;

    fn publish(seq: u64) -> SessionChange {
        let mut publish = Publish::new("t", "x").qos(QoS::ExactlyOnce);
        publish.packet_id = PacketId::new(seq as u16 + 1);
        SessionChange::Publish(StoredPublish {
            seq,
            publish,
            released: false,
        })
    }

    #[test]
    fn clones_share_sessions_kept_apart_by_client_id() {
        let store = MemoryStore::new();
        let clone = store.clone();
        store.apply("a", &[publish(0), publish(1)]).unwrap();
        clone.apply("b", &[publish(5)]).unwrap();
        store
            .apply(
                "a",
                &[
                    SessionChange::Released { seq: 1 },
                    SessionChange::Completed { seq: 0 },
                ],
            )
            .unwrap();
        let a = clone.load("a").unwrap();
        assert_eq!(a.outgoing.len(), 1);
        assert!(a.outgoing[0].released && a.outgoing[0].seq == 1);
        assert_eq!(store.load("b").unwrap().outgoing[0].seq, 5);
        clone.clear("a").unwrap();
        assert!(store.load("a").unwrap().is_empty());
        assert!(!store.is_empty(), "b is still there");
    }

    #[test]
    fn a_publish_sent_again_under_a_new_id_replaces_its_record() {
        let store = MemoryStore::new();
        store.apply("a", &[publish(0)]).unwrap();
        let mut again = Publish::new("t", "x").qos(QoS::ExactlyOnce);
        again.packet_id = PacketId::new(99);
        store
            .apply(
                "a",
                &[SessionChange::Publish(StoredPublish {
                    seq: 0,
                    publish: again,
                    released: false,
                })],
            )
            .unwrap();
        let state = store.load("a").unwrap();
        assert_eq!(state.outgoing.len(), 1);
        assert_eq!(state.outgoing[0].publish.packet_id, PacketId::new(99));
    }
}
