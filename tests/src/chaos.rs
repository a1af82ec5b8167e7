//! A fault-injecting TCP proxy: it relays bytes between clients and a
//! broker untouched, and cuts every connection through it at random
//! moments (mid-packet as often as not), or holds traffic on command.
//!
//! It runs on a thread of its own with its own runtime, so it keeps
//! cutting whatever the test's actix System is doing, and it can sit in
//! front of clients in other processes too.
//!
//! ```no_run
//! use std::time::Duration;
//! use mqttx_tests::chaos::Chaos;
//!
//! let chaos = Chaos::start(1883)?;               // in front of 127.0.0.1:1883
//! chaos.cut_every(Duration::from_millis(100), Duration::from_millis(400));
//! println!("connect to 127.0.0.1:{}", chaos.port());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

use crate::wirelog::{Watcher, WireLog};

/// The cutting schedule: a random pause in `[min, max]` between two cuts.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    min: Duration,
    max: Duration,
}

struct Shared {
    /// Bumped by every cut; each relay dies when it changes.
    generation: watch::Sender<u64>,
    /// While true, nothing is read from either side.
    held: watch::Sender<bool>,
    schedule: Mutex<Option<Schedule>>,
    cuts: AtomicU64,
    connections: AtomicU64,
    stopping: AtomicBool,
    /// Whether new connections' packets go in `log`.
    recording: AtomicBool,
    seed: u64,
    log: WireLog,
}

/// A chaos proxy on a free loopback port in front of `127.0.0.1:upstream`.
/// Stops when dropped.
pub struct Chaos {
    port: u16,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Chaos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chaos")
            .field("port", &self.port)
            .field("seed", &self.shared.seed)
            .field("cuts", &self.cuts())
            .finish()
    }
}

impl Chaos {
    /// Starts relaying, without cutting yet. The random seed comes from the
    /// clock unless `MQTTX_CHAOS_SEED` is set; it is printed, for replays.
    pub fn start(upstream: u16) -> std::io::Result<Chaos> {
        let seed = std::env::var("MQTTX_CHAOS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        eprintln!("chaos proxy: MQTTX_CHAOS_SEED={seed}");
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            generation: watch::Sender::new(0),
            held: watch::Sender::new(false),
            schedule: Mutex::new(None),
            cuts: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            recording: AtomicBool::new(true),
            seed,
            log: WireLog::default(),
        });
        let (stop, stopped) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let task_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("chaos-proxy".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = stopped => {}
                        _ = accept(listener, upstream, Arc::clone(&task_shared)) => {}
                        _ = cutter(task_shared) => {}
                    }
                });
            })?;
        Ok(Chaos {
            port,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts every connection after a random pause between `min` and `max`,
    /// again and again, until [`stop_cutting`](Self::stop_cutting).
    pub fn cut_every(&self, min: Duration, max: Duration) {
        *self
            .shared
            .schedule
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Schedule {
            min,
            max: max.max(min),
        });
    }

    /// No more cuts (connections made from now on stay up).
    pub fn stop_cutting(&self) {
        *self
            .shared
            .schedule
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Cuts every connection now.
    pub fn cut_now(&self) {
        self.shared.cut();
    }

    /// Holds all traffic (`true`): nothing sent after this returns is read
    /// from either side, so nothing crosses, as on a network path that went
    /// dead. `false` lets it flow again.
    pub fn hold(&self, on: bool) {
        self.shared.held.send_replace(on);
    }

    /// How many times connections were cut.
    pub fn cuts(&self) -> u64 {
        self.shared.cuts.load(Ordering::Relaxed)
    }

    /// Connections accepted from now on are not recorded in the
    /// [`wire_log`](Self::wire_log), whose growth would otherwise be
    /// counted against the client in a long run.
    pub fn stop_recording(&self) {
        self.shared.recording.store(false, Ordering::Relaxed);
    }

    /// Every packet relayed so far, decoded (as MQTT 5).
    pub fn wire_log(&self) -> WireLog {
        self.shared.log.clone()
    }

    /// How many client connections were accepted.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }
}

impl Drop for Chaos {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Relaxed);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn cut(&self) {
        self.cuts.fetch_add(1, Ordering::Relaxed);
        self.generation.send_modify(|g| *g += 1);
    }
}

async fn accept(listener: TcpListener, upstream: u16, shared: Arc<Shared>) {
    loop {
        let client = match listener.accept().await {
            Ok((client, _)) => client,
            // A client that went away before it was accepted (the killed
            // publishing process, say) must not stop the proxy.
            Err(err) => {
                eprintln!("chaos proxy: accept failed: {err}");
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let connection = shared.connections.fetch_add(1, Ordering::Relaxed) + 1;
        let generation = shared.generation.subscribe();
        let held = shared.held.subscribe();
        let recording = shared.recording.load(Ordering::Relaxed);
        let watchers = (
            shared.log.watch(connection, true, recording),
            shared.log.watch(connection, false, recording),
        );
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                return; // the broker is down: the client sees its connection close
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            relay(client, server, generation, held, watchers).await;
        });
    }
}

/// Relays both ways until either side closes or the next cut.
async fn relay(
    client: TcpStream,
    server: TcpStream,
    mut generation: watch::Receiver<u64>,
    held: watch::Receiver<bool>,
    (up, down): (Watcher, Watcher),
) {
    let born = *generation.borrow_and_update();
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // Biased: a cut wins over data released by a `hold(false)` after it.
    tokio::select! {
        biased;
        _ = generation.wait_for(|&g| g != born) => {}
        _ = pipe(client_read, server_write, held.clone(), up) => {}
        _ = pipe(server_read, client_write, held, down) => {}
    }
    // Dropping both sockets here closes them with whatever was in flight lost.
}

async fn pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut held: watch::Receiver<bool>,
    mut watcher: Watcher,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if held.wait_for(|&h| !h).await.is_err() {
            return;
        }
        // Biased: once `hold(true)` has returned, no later read goes
        // through, even when data and the hold arrive together.
        let n = tokio::select! {
            biased;
            _ = held.wait_for(|&h| h) => continue,
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
        };
        let bytes = buf.get(..n).unwrap_or_default();
        if to.write_all(bytes).await.is_err() {
            return;
        }
        // Recorded once written: what the log shows did cross.
        watcher.saw(bytes);
    }
}

async fn cutter(shared: Arc<Shared>) {
    let mut rng = XorShift(shared.seed);
    loop {
        let schedule = *shared.schedule.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(Schedule { min, max }) = schedule else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let span = (max - min).as_micros() as u64;
        let pause = min + Duration::from_micros(if span == 0 { 0 } else { rng.next() % span });
        tokio::time::sleep(pause).await;
        let still_cutting = shared
            .schedule
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        if still_cutting && !shared.stopping.load(Ordering::Relaxed) {
            shared.cut();
        }
    }
}

/// xorshift64*: plenty for picking pauses, and no dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}
