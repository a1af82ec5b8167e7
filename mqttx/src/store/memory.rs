//! [`MemoryStore`]: sessions kept for as long as the process lives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::image::SessionImage;
use super::{SessionChange, SessionState, SessionStore, StoreError};

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
    fn load(&self, client_id: &str) -> Result<SessionState, StoreError> {
        Ok(self.session(client_id))
    }

    fn apply(&self, client_id: &str, changes: &[SessionChange]) -> Result<(), StoreError> {
        let mut sessions = self.lock();
        let image = sessions.entry(client_id.to_owned()).or_default();
        for change in changes {
            image.apply(change);
        }
        Ok(())
    }

    fn clear(&self, client_id: &str) -> Result<(), StoreError> {
        self.lock().remove(client_id);
        Ok(())
    }
}
