//! The `FileStore` reader target: an arbitrary file where a session file
//! is expected.

use std::path::PathBuf;
use std::time::Instant;

use crate::packet::{ConnAck, Packet};
use crate::protocol::{Config, Protocol};
use crate::store::{FileStore, SessionState, SessionStore};

/// The client id whose file is written.
const CLIENT_ID: &str = "fuzz";

/// One directory per process, reused by every run: a run costs a file
/// write and a rename, not a directory.
fn dir() -> PathBuf {
    std::env::temp_dir().join(format!("mqttx-fuzz-store-{}", std::process::id()))
}

/// A fresh store over the directory (fsync off: durability is not what is
/// tested, and it would cost most of the time).
fn store() -> Option<FileStore> {
    FileStore::open(dir()).ok().map(|store| store.fsync(false))
}

fn load(store: &FileStore) -> Option<Result<SessionState, crate::store::StoreError>> {
    store.load(CLIENT_ID).now()
}

pub(super) fn open(data: &[u8]) {
    let Some(store) = store() else { return };
    if std::fs::write(store.path(CLIENT_ID), data).is_err() {
        return;
    }
    let Some(Ok(state)) = load(&store) else { return };
    // Opening rewrote the file with the live records only: a second
    // process opening it must find the same session.
    drop(store);
    if let Some(reopened) = self::store() {
        match load(&reopened) {
            Some(Ok(again)) => assert_eq!(again, state, "the rewritten file reads differently"),
            other => panic!("the rewritten file does not open: {other:?}"),
        }
    }
    resume(state);
}

/// The session goes where a connection would take it: restored before
/// the first connect, then resumed by a CONNACK with Session Present.
fn resume(state: SessionState) {
    let now = Instant::now();
    let mut config = Config::new(CLIENT_ID);
    config.clean_start = false;
    config.connect_properties.session_expiry_interval = Some(u32::MAX);
    let mut protocol: Protocol<u64> = Protocol::new(config);
    assert!(
        protocol.restore_session(state, |stored| stored.seq),
        "a fresh protocol refused a session"
    );
    protocol.connect(now);
    while protocol.poll_transmit(now).is_some() {}
    let connack = ConnAck {
        session_present: true,
        ..ConnAck::default()
    };
    let _ = protocol.handle_packet(Packet::ConnAck(connack), now);
    while protocol.poll_transmit(now).is_some() {}
    while protocol.poll_event().is_some() {}
}
