//! [`RedisStore`]: sessions in Redis, shared by every host that may run
//! the client.

use std::collections::HashSet;
use std::time::Duration;

use bytes::BytesMut;
use redis::aio::ConnectionManager;

use super::record::{self, Read};
use super::{SessionChange, SessionState, SessionStore, StoreError, StoreFuture, StoredPublish};
use crate::packet::PacketId;

/// Keys start with this unless [`RedisStore::prefix`] says otherwise.
pub const DEFAULT_PREFIX: &str = "mqttx:session:";

/// Keeps sessions in Redis (feature `redis`): they survive the process and
/// the machine, and a client id's session can be finished by a process on
/// another host (see the guide's sessions chapter for the deployment).
///
/// Every batch of changes is one round trip: a `MULTI`/`EXEC` pipeline, so
/// a batch is recorded whole or not at all. The connection to Redis is a
/// `redis` connection manager, which reconnects by itself; while Redis is
/// unreachable, batches fail, and the publishes they guard fail with
/// [`Error::Store`](crate::Error::Store) without being sent.
///
/// # Keys
///
/// For client id `C`, with the prefix `P` (default [`DEFAULT_PREFIX`]):
///
/// | key | type | holds |
/// |---|---|---|
/// | `P{C}:out` | hash | outgoing QoS 1/2 publishes not yet completed: field = the publish's `seq`, value = the publish (the `FileStore`'s record format) |
/// | `P{C}:rel` | set | the `seq`s of those that were PUBREC'd (QoS 2: PUBREL sent) |
/// | `P{C}:in` | set | incoming QoS 2 packet ids delivered and awaiting PUBREL |
///
/// `{C}` is a Redis Cluster hash tag: a client's keys share a slot, so the
/// `MULTI` works on a cluster too. With [`expiry`](Self::expiry) set, every
/// batch sets the three keys to expire after it: set it to the session's
/// expiry interval, so the store forgets a session when the broker does.
///
/// ```no_run
/// use mqttx::{store::RedisStore, Client, ConnectOptions};
/// use std::time::Duration;
///
/// # async fn demo() -> Result<(), mqttx::Error> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379").await?.expiry(Duration::from_secs(3600));
/// let opts = ConnectOptions::new("localhost", "sensor-7")
///     .clean_session(false)
///     .session_expiry_interval(3600)
///     .session_store(store);
/// let client = Client::connect(opts).await?;
/// # drop(client);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    redis: ConnectionManager,
    prefix: String,
    expiry: Option<Duration>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("expiry", &self.expiry)
            .finish()
    }
}

fn failed(what: &str) -> impl Fn(redis::RedisError) -> StoreError + '_ {
    move |err| StoreError::new(format!("redis: {what}: {err}"))
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[:password@]host[:port][/db]`).
    pub async fn connect(url: &str) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url).map_err(failed("invalid URL"))?;
        let redis = ConnectionManager::new(client)
            .await
            .map_err(failed("cannot connect"))?;
        Ok(RedisStore {
            redis,
            prefix: DEFAULT_PREFIX.to_owned(),
            expiry: None,
        })
    }

    /// The prefix of every key (default [`DEFAULT_PREFIX`]).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Keys expire this long after the last batch; set it to the session
    /// expiry interval. Unset, they never expire.
    pub fn expiry(mut self, expiry: Duration) -> Self {
        self.expiry = Some(expiry);
        self
    }

    fn keys(&self, client_id: &str) -> Keys {
        let base = format!("{}{{{client_id}}}", self.prefix);
        Keys {
            out: format!("{base}:out"),
            rel: format!("{base}:rel"),
            incoming: format!("{base}:in"),
        }
    }
}

/// What `load` reads: the outgoing records by `seq`, the released `seq`s,
/// the incoming packet ids.
type Loaded = (Vec<(u64, Vec<u8>)>, HashSet<u64>, Vec<u16>);

struct Keys {
    out: String,
    rel: String,
    incoming: String,
}

impl SessionStore for RedisStore {
    fn load(&self, client_id: &str) -> StoreFuture<SessionState> {
        let keys = self.keys(client_id);
        let mut redis = self.redis.clone();
        StoreFuture::new(async move {
            let mut pipe = redis::pipe();
            pipe.hgetall(&keys.out)
                .smembers(&keys.rel)
                .smembers(&keys.incoming);
            let (out, rel, incoming): Loaded = pipe.query_async(&mut redis).await.map_err(failed("load"))?;
            let mut outgoing = Vec::with_capacity(out.len());
            for (seq, bytes) in out {
                let Read::Change(SessionChange::Publish(stored), _) = record::read(&bytes) else {
                    return Err(StoreError::new(format!(
                        "redis: the record of publish {seq} in {} is not a publish",
                        keys.out
                    )));
                };
                outgoing.push(StoredPublish {
                    released: rel.contains(&seq),
                    ..stored
                });
            }
            outgoing.sort_by_key(|stored| stored.seq);
            let mut incoming: Vec<PacketId> = incoming.into_iter().filter_map(PacketId::new).collect();
            incoming.sort_unstable();
            Ok(SessionState { outgoing, incoming })
        })
    }

    fn apply(&self, client_id: &str, changes: &[SessionChange]) -> StoreFuture<()> {
        if changes.is_empty() {
            return Ok(()).into();
        }
        let keys = self.keys(client_id);
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut buf = BytesMut::new();
        for change in changes {
            match change {
                SessionChange::Publish(stored) => {
                    buf.clear();
                    if let Err(err) = record::write(change, &mut buf) {
                        return Err(StoreError::new(format!("redis: cannot encode a publish: {err}"))).into();
                    }
                    pipe.hset(&keys.out, stored.seq, &buf[..]).ignore();
                    pipe.srem(&keys.rel, stored.seq).ignore();
                }
                SessionChange::Released { seq } => {
                    pipe.sadd(&keys.rel, *seq).ignore();
                }
                SessionChange::Completed { seq } => {
                    pipe.hdel(&keys.out, *seq).ignore();
                    pipe.srem(&keys.rel, *seq).ignore();
                }
                SessionChange::IncomingReceived(id) => {
                    pipe.sadd(&keys.incoming, id.get()).ignore();
                }
                SessionChange::IncomingReleased(id) => {
                    pipe.srem(&keys.incoming, id.get()).ignore();
                }
                SessionChange::IncomingCleared => {
                    pipe.del(&keys.incoming).ignore();
                }
            }
        }
        if let Some(expiry) = self.expiry {
            let millis = i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX);
            for key in [&keys.out, &keys.rel, &keys.incoming] {
                pipe.pexpire(key, millis).ignore();
            }
        }
        let mut redis = self.redis.clone();
        StoreFuture::new(async move { pipe.query_async::<()>(&mut redis).await.map_err(failed("apply")) })
    }

    fn clear(&self, client_id: &str) -> StoreFuture<()> {
        let keys = self.keys(client_id);
        let mut redis = self.redis.clone();
        StoreFuture::new(async move {
            redis::cmd("DEL")
                .arg(&keys.out)
                .arg(&keys.rel)
                .arg(&keys.incoming)
                .query_async::<()>(&mut redis)
                .await
                .map_err(failed("clear"))
        })
    }
}
