//! Where the client side of the session is kept, and how long the store
//! may take.

use std::time::Duration;

use super::ConnectOptions;
use crate::store::{SessionStore, SharedStore};

impl<H> ConnectOptions<H> {
    /// Where the client side of the session is kept: outgoing QoS 1/2
    /// publishes until acknowledged, incoming QoS 2 ids until PUBREL.
    ///
    /// With `clean_session(false)` the store's session for this client id is
    /// loaded at start and resumed by the first connect; with
    /// `clean_session(true)` it is cleared. [`MemoryStore`](crate::store::MemoryStore)
    /// lasts as long as the process, [`FileStore`](crate::store::FileStore)
    /// survives it, `RedisStore` (feature `redis`) survives the machine. Needs a non-empty client id. See the
    /// [`store`](crate::store) module for the contract.
    ///
    /// ```
    /// use mqttx::{store::MemoryStore, ConnectOptions};
    /// let opts = ConnectOptions::new("localhost", "sensor-7")
    ///     .clean_session(false)
    ///     .session_expiry_interval(3600)
    ///     .session_store(MemoryStore::new());
    /// # let _ = opts;
    /// ```
    pub fn session_store(mut self, store: impl SessionStore) -> Self {
        self.session_store = Some(SharedStore(std::sync::Arc::new(store)));
        self
    }

    /// How long a session store operation may take (default 10 s). One
    /// still pending then counts as failed: a batch's publishes fail with
    /// [`Error::Store`](crate::Error::Store) and are not sent; a session
    /// that cannot be loaded stops the connection. A store that answers at
    /// once never meets it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mqttx::{store::MemoryStore, ConnectOptions};
    ///
    /// let opts = ConnectOptions::new("localhost", "sensor-7")
    ///     .session_store(MemoryStore::new())
    ///     .store_timeout(Duration::from_secs(2));
    /// # let _ = opts;
    /// ```
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }
}
