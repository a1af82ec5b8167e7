//! A stand-in server for the broker-less rows: the bench itself, run as
//! `bench --standin MODE QOS COUNT`, in a process of its own pinned to one
//! core. With no broker in the way, these rows show the client's own
//! ceiling: the stand-in does a few nanoseconds of work per message, so
//! the client, on the other core, sets the rate.

mod server;

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

use mqttx::QoS;

use crate::measure;
use crate::pin;

pub use server::TOPIC;

/// The core the stand-in runs on; the measured client gets the other one.
pub const CORE: usize = 0;

/// What the stand-in does with its one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Writes `count` PUBLISHes to a client that subscribed.
    Firehose,
    /// Reads PUBLISHes, acknowledging QoS 1/2 at once, until the client leaves.
    Sink,
}

impl Mode {
    pub fn key(self) -> &'static str {
        match self {
            Mode::Firehose => "firehose",
            Mode::Sink => "sink",
        }
    }

    fn from_key(key: &str) -> Option<Mode> {
        [Mode::Firehose, Mode::Sink].into_iter().find(|m| m.key() == key)
    }
}

/// What went through the stand-in.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub messages: u64,
    pub bytes: u64,
}

/// A running stand-in, seen from the bench.
pub struct StandIn {
    child: Child,
    stdout: BufReader<ChildStdout>,
    port: u16,
}

impl StandIn {
    /// Starts one, and waits until it listens.
    pub fn start(mode: Mode, qos: QoS, count: u64) -> std::io::Result<StandIn> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .arg("--standin")
            .arg(mode.key())
            .arg((qos as u8).to_string())
            .arg(count.to_string())
            .stdout(Stdio::piped())
            .spawn()?;
        let Some(stdout) = child.stdout.take() else {
            return Err(std::io::Error::other("the stand-in has no stdout"));
        };
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("the stand-in said {line:?}")))?;
        Ok(StandIn { child, stdout, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn cpu_seconds(&self) -> f64 {
        measure::pid_cpu_seconds(self.child.id())
    }

    /// Waits for it to finish with its client (a few seconds at most: a
    /// client that failed may never have connected), and reads what it
    /// counted.
    pub fn finish(mut self) -> Tally {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let mut tally = Tally::default();
        let mut line = String::new();
        if self.stdout.read_line(&mut line).is_ok() {
            let mut fields = line.split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0));
            tally.messages = fields.next().unwrap_or(0);
            tally.bytes = fields.next().unwrap_or(0);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        tally
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In the stand-in process: serves one client, then prints its tally.
/// `None` when this process is not a stand-in.
pub fn run_if_standin() -> Option<std::io::Result<()>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("--standin") {
        return None;
    }
    let mode = args.get(1).and_then(|m| Mode::from_key(m))?;
    let qos = args.get(2).and_then(|q| q.parse().ok()).and_then(QoS::from_u8)?;
    let count: u64 = args.get(3).and_then(|c| c.parse().ok())?;
    pin::to_core(CORE);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return Some(Err(err)),
    };
    Some(runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("PORT {}", listener.local_addr()?.port());
        let (stream, _) = listener.accept().await?;
        let tally = server::serve(stream, mode, qos, count).await?;
        println!("DONE {} {}", tally.messages, tally.bytes);
        Ok(())
    }))
}
