//! Free loopback ports and "who is listening on this port" checks.
//!
//! This file uses only `std`: the examples package includes it with
//! `#[path]` for its embedded broker, so that it does not depend on the test
//! harness (and its need for mosquitto).

use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Ports this process has already handed out. A port is never handed out
/// twice in one process, even after its broker stopped: the broker may be
/// started again on it.
fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A loopback port that was free a moment ago and that no other caller in
/// this process has been given.
///
/// The port is found by binding `127.0.0.1:0` and dropping the listener, so
/// another process may still take it before the broker binds it: callers
/// detect a failed bind and ask for a new port.
pub fn free_port() -> io::Result<u16> {
    for _ in 0..1000 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port();
        let mut ports = handed_out()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if ports.insert(port) {
            return Ok(port);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrNotAvailable,
        "no free loopback port after 1000 tries",
    ))
}

/// Who listens on TCP `port` of the loopback interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listening {
    /// Nobody does (yet).
    Nobody,
    /// The process asked about does.
    Owner,
    /// Some other process does (so the one asked about failed to bind it).
    Other,
    /// Somebody accepts connections; ownership cannot be checked here.
    Unknown,
}

/// Who listens on `port`; `pid` is the process expected to (`None` for this
/// process).
///
/// On Linux this reads the listening sockets from `/proc/net/tcp{,6}` and
/// looks for their inodes among the process's file descriptors, so a port
/// taken by another process is told apart from the expected listener. Where
/// `/proc` is missing it falls back to a connect probe ([`Listening::Unknown`]).
pub fn listening(pid: Option<u32>, port: u16) -> Listening {
    match listening_inodes(port) {
        Some(inodes) if inodes.is_empty() => Listening::Nobody,
        Some(inodes) => {
            let fd_dir = match pid {
                Some(pid) => format!("/proc/{pid}/fd"),
                None => "/proc/self/fd".to_owned(),
            };
            let owned = std::fs::read_dir(fd_dir)
                .into_iter()
                .flatten()
                .flatten()
                .any(|entry| {
                    std::fs::read_link(entry.path())
                        .ok()
                        .and_then(|target| target.to_str().map(str::to_owned))
                        .and_then(|target| target.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok())
                        .is_some_and(|inode: u64| inodes.contains(&inode))
                });
            if owned {
                Listening::Owner
            } else {
                Listening::Other
            }
        }
        None => {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
                Ok(_) => Listening::Unknown,
                Err(_) => Listening::Nobody,
            }
        }
    }
}

/// Inodes of the sockets in LISTEN state on `port` (any address), or `None`
/// when `/proc/net/tcp` cannot be read.
fn listening_inodes(port: u16) -> Option<Vec<u64>> {
    const TCP_LISTEN: &str = "0A";
    let mut inodes = Vec::new();
    let mut readable = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        readable = true;
        // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) = (cols.get(1), cols.get(3), cols.get(9)) else {
                continue;
            };
            let local_port = local
                .rsplit(':')
                .next()
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            if *state == TCP_LISTEN && local_port == Some(port) {
                if let Ok(inode) = inode.parse() {
                    inodes.push(inode);
                }
            }
        }
    }
    readable.then_some(inodes)
}
