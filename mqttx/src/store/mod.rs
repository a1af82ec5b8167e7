//! Session stores: where a client keeps the client side of an MQTT session
//! so that it outlives the connection actor, or the process.
//!
//! The client side of a session is every outgoing QoS 1/2 publish that was
//! written and not yet completed, and the packet ids of incoming QoS 2
//! messages delivered and awaiting PUBREL ([`SessionState`]). With a store
//! and a session the broker keeps (`clean_session(false)` on MQTT 3.1.1;
//! Clean Start false with a Session Expiry Interval on MQTT 5), a new
//! connection with the same client id resumes it: the first CONNACK with
//! Session Present resends the stored publishes (DUP, same packet ids) and
//! PUBRELs; without Session Present they go out again as new messages.
//!
//! Three stores ship: [`MemoryStore`] (as long as the process lives),
//! [`FileStore`] (durable: survives the process being killed) and, with the
//! `redis` feature, `RedisStore` (shared: survives the machine, and lets
//! another host finish the session). Anything else implements
//! [`SessionStore`], which is async: a store over a network never blocks
//! the connection.
//!
//! ```no_run
//! use mqttx::{store::FileStore, Client, ConnectOptions, QoS};
//!
//! # async fn demo() -> Result<(), mqttx::Error> {
//! let store = FileStore::open("/var/lib/my-app/mqtt")?;
//! let opts = ConnectOptions::new("localhost", "sensor-7")
//!     .clean_session(false)
//!     .session_expiry_interval(3600)
//!     .session_store(store);
//! let client = Client::connect(opts).await?;
//! client.publish("sensors/7/temp", "21.5").qos(QoS::ExactlyOnce).await?;
//! # Ok(()) }
//! ```

mod file;
mod future;
pub(crate) mod image;
mod memory;
mod record;
#[cfg(feature = "redis")]
mod redis_store;

pub use crate::error::StoreError;
pub use file::FileStore;
pub use future::StoreFuture;
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis_store::{RedisStore, DEFAULT_PREFIX};

pub use crate::protocol::session::{SessionChange, SessionState, StoredPublish};

/// A place to keep the client side of MQTT sessions, keyed by client id.
///
/// The connection drives it; an implementation only stores and returns.
/// The contract:
///
/// - [`load`](Self::load) is called once, when a connection starts with
///   `clean_session(false)`, before its first connect. It returns what
///   was applied so far (an empty state for an unknown client id).
/// - [`clear`](Self::clear) is called instead when a connection starts with
///   `clean_session(true)`: the session starts empty, so must the store.
/// - [`apply`](Self::apply) is called with every batch of
///   [`SessionChange`]s, in order, **before** the packets they guard are
///   written to the network: a publish is recorded before it is sent,
///   forgotten when acknowledged; an incoming QoS 2 id is recorded before
///   PUBREC and forgotten before PUBCOMP. When `apply` returns `Ok`, the
///   changes must be as durable as the store promises; the connection then
///   writes the packets. Batches are as large as what one turn of the
///   connection produced, often dozens of changes; implementations should
///   make one durable write per batch, not one per change.
/// - An error from `apply` fails the publishes the batch would have sent:
///   they are not sent, and their callers get
///   [`Error::Store`](crate::Error::Store). Other changes in a failed batch
///   (acknowledgements) are logged; the store may then hold a publish that
///   was in fact completed, which a later resume sends again (a duplicate,
///   never a loss).
/// - `disconnect()` changes nothing: what was in flight stays stored, for
///   the next connection with the same client id to finish.
///
/// Every method returns a [`StoreFuture`]. The methods are called on the
/// connection's actor thread: a store that can answer at once (memory, a
/// local file) returns [`StoreFuture::ready`] and costs nothing more; one
/// that talks over a network returns [`StoreFuture::new`] with a future
/// that owns its request, and never blocks the thread. While an `apply` is
/// pending the connection goes on: it writes what the batch does not guard
/// (PUBACKs of QoS 1 messages, PINGREQ, SUBSCRIBE, ...), may hand the store
/// the next batch (batches complete in order: the connection acts on them
/// in order), and writes the guarded packets once their batch is applied.
/// An operation still pending after
/// [`store_timeout`](crate::ConnectOptions::store_timeout) fails like an
/// error.
///
/// One client id must be used by one connection at a time.
///
/// ```
/// use mqttx::store::{SessionChange, SessionState, SessionStore, StoreFuture};
///
/// /// Keeps nothing: every session starts empty.
/// struct Forgetful;
///
/// impl SessionStore for Forgetful {
///     fn load(&self, _client_id: &str) -> StoreFuture<SessionState> {
///         Ok(SessionState::default()).into()
///     }
///     fn apply(&self, _client_id: &str, _changes: &[SessionChange]) -> StoreFuture<()> {
///         Ok(()).into()
///     }
///     fn clear(&self, _client_id: &str) -> StoreFuture<()> {
///         Ok(()).into()
///     }
/// }
/// ```
pub trait SessionStore: Send + Sync + 'static {
    /// The session saved for `client_id`.
    fn load(&self, client_id: &str) -> StoreFuture<SessionState>;

    /// Records `changes`, in order, for `client_id`.
    fn apply(&self, client_id: &str, changes: &[SessionChange]) -> StoreFuture<()>;

    /// Forgets the session of `client_id`.
    fn clear(&self, client_id: &str) -> StoreFuture<()>;
}

/// A shared store, as the connection options hold it.
#[derive(Clone)]
pub(crate) struct SharedStore(pub(crate) std::sync::Arc<dyn SessionStore>);

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionStore")
    }
}
