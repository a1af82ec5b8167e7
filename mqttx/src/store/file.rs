//! [`FileStore`]: sessions in append-only files that survive the process.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::BytesMut;

use super::image::SessionImage;
use super::record::{self, Read, MAGIC};
use super::{SessionChange, SessionState, SessionStore, StoreError, StoreFuture};

/// A log is rewritten from its live records when it grows past this and
/// past four times what is live.
const COMPACT_MIN: u64 = 1024 * 1024;

/// Keeps each client's session in its own append-only file in a directory:
/// durable across the process being killed (even with SIGKILL), and across
/// power loss unless fsync is turned off.
///
/// - **What is written, when:** every batch of changes the connection
///   produces in one turn is appended with one `write`, *before* the
///   packets it guards go out: an outgoing QoS 1/2 PUBLISH is on disk
///   before it is sent and removed (by a later record) once acknowledged;
///   an incoming QoS 2 packet id is on disk before PUBREC and kept until
///   PUBREL.
/// - **fsync policy:** by default one `fdatasync` per batch, after the
///   write and before the packets are sent, so what was acknowledged to
///   the network is on stable storage. [`fsync(false)`](Self::fsync) skips
///   it: the data is still in the kernel when the process is killed, so
///   SIGKILL loses nothing, but an operating-system crash or power loss
///   may. See BENCHMARKS.md ("Session store") for the cost of each.
/// - **Torn records:** each record carries its length and a CRC-32; a
///   record cut short by a crash mid-write (or damaged) ends the log. It
///   and anything after it are dropped when the file is opened, and the
///   file is truncated there: such a record was never acted on, since
///   nothing is sent before its record is complete.
/// - **Compaction:** when a file grows past 1 MiB and four times its live
///   records, it is rewritten with only those (to a temporary file, synced,
///   then renamed over the old one). Opening a session compacts it too.
/// - File names are the client id in hex, plus `.session`. One process
///   per directory and client id at a time.
///
/// ```no_run
/// use mqttx::{store::FileStore, ConnectOptions};
///
/// let store = FileStore::open("/var/lib/my-app/mqtt")?;
/// let opts = ConnectOptions::new("localhost", "sensor-7")
///     .clean_session(false)
///     .session_expiry_interval(3600)
///     .session_store(store);
/// # let _ = opts;
/// # Ok::<(), mqttx::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    fsync: bool,
    logs: Mutex<HashMap<String, Log>>,
}

/// One client's open file and what it holds.
#[derive(Debug)]
struct Log {
    file: File,
    path: PathBuf,
    len: u64,
    image: SessionImage,
    /// Bytes of the records an image snapshot would write.
    live: u64,
    /// A failed write could not be undone: refuse more until reopened.
    broken: bool,
}

/// Session files are readable by their owner alone: they hold payloads.
fn owner_only(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

/// Creates `dir` (and its parents) if missing, owner-only on Unix.
fn owner_only_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

impl FileStore {
    /// A store in `dir`, created if missing. fsync is on.
    ///
    /// The files hold message payloads: on Unix a directory created here is
    /// owner-only (0700), and so is every session file (0600).
    pub fn open(dir: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        owner_only_dir(&dir).map_err(|e| {
            StoreError::io(
                format!("cannot create the session directory {}", dir.display()),
                e,
            )
        })?;
        Ok(FileStore {
            inner: Arc::new(Inner {
                dir,
                fsync: true,
                logs: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Whether each batch is made durable with `fdatasync` before its
    /// packets are sent (default `true`). Without it, SIGKILL still loses
    /// nothing; power loss may.
    pub fn fsync(self, on: bool) -> FileStore {
        FileStore {
            inner: Arc::new(Inner {
                dir: self.inner.dir.clone(),
                fsync: on,
                logs: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The directory the files are in.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The session saved for `client_id`, read from its file.
    pub fn session(&self, client_id: &str) -> Result<SessionState, StoreError> {
        self.with_log(client_id, |log, _| Ok(log.image.state()))
    }

    pub(crate) fn path(&self, client_id: &str) -> PathBuf {
        let mut name = String::with_capacity(client_id.len() * 2 + 8);
        for byte in client_id.bytes() {
            name.push_str(&format!("{byte:02x}"));
        }
        name.push_str(".session");
        self.inner.dir.join(name)
    }

    fn with_log<R>(
        &self,
        client_id: &str,
        f: impl FnOnce(&mut Log, bool) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut logs = self.inner.logs.lock().unwrap_or_else(PoisonError::into_inner);
        if !logs.contains_key(client_id) {
            let log = Log::open(self.path(client_id), &self.inner.dir, self.inner.fsync)?;
            logs.insert(client_id.to_owned(), log);
        }
        match logs.get_mut(client_id) {
            Some(log) => f(log, self.inner.fsync),
            None => Err(StoreError::new("session log vanished")),
        }
    }
}

impl SessionStore for FileStore {
    fn load(&self, client_id: &str) -> StoreFuture<SessionState> {
        self.with_log(client_id, |log, _| Ok(log.image.state())).into()
    }

    fn apply(&self, client_id: &str, changes: &[SessionChange]) -> StoreFuture<()> {
        if changes.is_empty() {
            return Ok(()).into();
        }
        self.with_log(client_id, |log, fsync| log.append(changes, fsync))
            .into()
    }

    fn clear(&self, client_id: &str) -> StoreFuture<()> {
        self.with_log(client_id, |log, fsync| {
            log.image = SessionImage::default();
            log.rewrite(fsync)
        })
        .into()
    }
}

impl Log {
    /// Opens (or creates) a log, replays it, drops a torn tail, compacts.
    fn open(path: PathBuf, dir: &Path, fsync: bool) -> Result<Log, StoreError> {
        let context = |what: &str| format!("{what} {}", path.display());
        let mut file = owner_only(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .open(&path)
        .map_err(|e| StoreError::io(context("cannot open the session file"), e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(context("cannot read the session file"), e))?;
        let mut image = SessionImage::default();
        if !bytes.is_empty() {
            let body = match bytes.strip_prefix(MAGIC.as_slice()) {
                Some(body) => body,
                None if MAGIC.starts_with(&bytes) => &[][..], // torn while being created
                None => {
                    return Err(StoreError::new(context("not an mqttx session file:")));
                }
            };
            let mut at = 0;
            loop {
                match record::read(body.get(at..).unwrap_or_default()) {
                    Read::Change(change, len) => {
                        image.apply(&change);
                        at += len;
                    }
                    Read::End => break,
                    Read::Torn => {
                        tracing::warn!(path = %path.display(), offset = MAGIC.len() + at, "session file ends in a torn record; dropping it");
                        break;
                    }
                }
            }
        }
        let mut log = Log {
            file,
            path,
            len: 0,
            image,
            live: 0,
            broken: false,
        };
        // Rewriting drops the torn tail and everything completed.
        log.rewrite(fsync)?;
        if fsync {
            // The file's name must be durable too.
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(log)
    }

    fn append(&mut self, changes: &[SessionChange], fsync: bool) -> Result<(), StoreError> {
        if self.broken {
            return Err(StoreError::new(format!(
                "the session file {} is unusable after an earlier write error",
                self.path.display()
            )));
        }
        let mut buf = BytesMut::new();
        for change in changes {
            record::write(change, &mut buf).map_err(StoreError::new)?;
        }
        if let Err(err) = self.write_at_end(&buf, fsync) {
            // A partial record would end the log early at the next open:
            // cut it off, or refuse further writes.
            if self.file.set_len(self.len).is_err() {
                self.broken = true;
            }
            return Err(StoreError::io(
                format!("cannot write the session file {}", self.path.display()),
                err,
            ));
        }
        self.len += buf.len() as u64;
        for change in changes {
            self.image.apply(change);
        }
        self.live = self.image_size();
        if self.len > COMPACT_MIN && self.len > 4 * self.live {
            self.rewrite(fsync)?;
        }
        Ok(())
    }

    fn write_at_end(&mut self, buf: &[u8], fsync: bool) -> std::io::Result<()> {
        self.file.seek(SeekFrom::Start(self.len))?;
        self.file.write_all(buf)?;
        if fsync {
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// What the image would take as records, roughly.
    fn image_size(&self) -> u64 {
        let publishes: u64 = self
            .image
            .outgoing
            .values()
            .map(|stored| 64 + (stored.publish.topic.len() + stored.publish.payload.len()) as u64)
            .sum();
        publishes + 16 * self.image.incoming.len() as u64
    }

    /// Replaces the file with the image's records: a new file written and
    /// synced beside it, then renamed over it, so a crash leaves one or the other.
    fn rewrite(&mut self, fsync: bool) -> Result<(), StoreError> {
        let mut buf = BytesMut::from(MAGIC.as_slice());
        for stored in self.image.outgoing.values() {
            record::write(&SessionChange::Publish(stored.clone()), &mut buf).map_err(StoreError::new)?;
        }
        for id in &self.image.incoming {
            record::write(&SessionChange::IncomingReceived(*id), &mut buf).map_err(StoreError::new)?;
        }
        let tmp = self.path.with_extension("session.tmp");
        let context = |what: &str| format!("{what} {}", tmp.display());
        let mut file = owner_only(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true),
        )
        .open(&tmp)
        .map_err(|e| StoreError::io(context("cannot create"), e))?;
        file.write_all(&buf)
            .map_err(|e| StoreError::io(context("cannot write"), e))?;
        if fsync {
            file.sync_data()
                .map_err(|e| StoreError::io(context("cannot sync"), e))?;
        }
        fs::rename(&tmp, &self.path).map_err(|e| StoreError::io(context("cannot rename"), e))?;
        self.file = file;
        self.len = buf.len() as u64;
        self.live = self.image_size();
        self.broken = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{PacketId, Publish, QoS};
    use crate::store::StoredPublish;

    /// A fresh directory under the system's temporary directory.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("mqttx-store-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn publish(seq: u64, id: u16) -> SessionChange {
        let mut publish = Publish::new("t", format!("message {seq}")).qos(QoS::ExactlyOnce);
        publish.packet_id = PacketId::new(id);
        SessionChange::Publish(StoredPublish {
            seq,
            publish,
            released: false,
        })
    }

    fn seqs(state: &SessionState) -> Vec<(u64, bool)> {
        state.outgoing.iter().map(|s| (s.seq, s.released)).collect()
    }

    #[test]
    fn a_session_survives_reopening() {
        let dir = TempDir::new("reopen");
        let store = FileStore::open(&dir.0).unwrap();
        let incoming = PacketId::new(9).unwrap();
        store
            .apply(
                "c1",
                &[
                    publish(0, 1),
                    publish(1, 2),
                    publish(2, 3),
                    SessionChange::IncomingReceived(incoming),
                ],
            )
            .unwrap();
        store
            .apply(
                "c1",
                &[
                    SessionChange::Completed { seq: 0 },
                    SessionChange::Released { seq: 1 },
                ],
            )
            .unwrap();
        store.apply("other", &[publish(5, 5)]).unwrap();
        drop(store);

        let store = FileStore::open(&dir.0).unwrap();
        let state = store.load("c1").unwrap();
        assert_eq!(seqs(&state), [(1, true), (2, false)]);
        assert_eq!(&state.outgoing[1].publish.payload[..], b"message 2");
        assert_eq!(state.incoming, [incoming]);
        assert_eq!(seqs(&store.load("other").unwrap()), [(5, false)]);
        assert!(store.load("unknown").unwrap().is_empty());
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_the_log_goes_on_after_it() {
        let dir = TempDir::new("torn");
        let store = FileStore::open(&dir.0).unwrap();
        store.apply("c1", &[publish(0, 1)]).unwrap();
        let path = store.path("c1");
        drop(store);
        // A crash in the middle of appending the next record.
        let mut torn = BytesMut::new();
        record::write(&publish(1, 2), &mut torn).unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&torn[..torn.len() / 2]).unwrap();
        drop(file);

        let store = FileStore::open(&dir.0).unwrap();
        assert_eq!(seqs(&store.load("c1").unwrap()), [(0, false)]);
        store.apply("c1", &[publish(2, 3)]).unwrap();
        drop(store);
        let store = FileStore::open(&dir.0).unwrap();
        assert_eq!(seqs(&store.load("c1").unwrap()), [(0, false), (2, false)]);
    }

    #[test]
    fn the_log_stays_small_while_messages_complete() {
        let dir = TempDir::new("compact");
        let store = FileStore::open(&dir.0).unwrap().fsync(false);
        let payload = "x".repeat(1000);
        for seq in 0..5_000u64 {
            let mut p = Publish::new("t", payload.clone()).qos(QoS::AtLeastOnce);
            p.packet_id = PacketId::new(1 + (seq % 1000) as u16);
            let stored = SessionChange::Publish(StoredPublish {
                seq,
                publish: p,
                released: false,
            });
            store
                .apply("c1", &[stored, SessionChange::Completed { seq }])
                .unwrap();
        }
        let len = fs::metadata(store.path("c1")).unwrap().len();
        assert!(len <= COMPACT_MIN + 2048, "compacted: {len} bytes");
        assert!(store.load("c1").unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_and_the_files_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("owner-only");
        let sessions = dir.0.join("sessions");
        let store = FileStore::open(&sessions).unwrap();
        store.apply("c1", &[publish(0, 1)]).unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&sessions), 0o700, "a directory it creates");
        assert_eq!(mode(&store.path("c1")), 0o600, "a session file");
        // A rewrite (compaction) makes the file anew: still owner-only.
        store.clear("c1").unwrap();
        assert_eq!(mode(&store.path("c1")), 0o600, "a rewritten session file");
    }

    #[test]
    fn clear_forgets_the_session_for_good() {
        let dir = TempDir::new("clear");
        let store = FileStore::open(&dir.0).unwrap();
        store.apply("c1", &[publish(0, 1)]).unwrap();
        store.clear("c1").unwrap();
        drop(store);
        assert!(FileStore::open(&dir.0).unwrap().load("c1").unwrap().is_empty());
    }

    #[test]
    fn a_file_that_is_not_a_session_is_an_error_not_an_empty_session() {
        let dir = TempDir::new("foreign");
        let store = FileStore::open(&dir.0).unwrap();
        fs::write(store.path("c1"), b"something else entirely").unwrap();
        let err = store.load("c1").unwrap_err();
        assert!(err.to_string().contains("not an mqttx session file"), "{err}");
    }
}
