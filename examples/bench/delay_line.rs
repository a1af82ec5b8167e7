//! A loopback link with a fixed delay each way, for the matrix's delayed
//! cells.
//!
//! The issue asks for `tc netem` in a network namespace; this machine's
//! kernel has no netem qdisc (and loads no modules), so the bench relays
//! through a process of its own instead: every chunk it reads is held for
//! the delay, then written on. Like netem's `delay`, it adds latency
//! without limiting the rate, and both ends keep their own Nagle and
//! delayed-ACK behaviour (the relay's sockets have TCP_NODELAY, so it
//! adds none of its own). Its CPU is its own process's, not the client's
//! or the broker's.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The largest chunk read at once.
const CHUNK: usize = 64 * 1024;

/// A running relay process in front of `target`.
pub struct DelayLine {
    child: Child,
    port: u16,
}

impl DelayLine {
    /// Starts `current_exe --delay-line TARGET MICROS` and reads the port
    /// it listens on.
    pub fn start(target: u16, delay: Duration) -> io::Result<DelayLine> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("--delay-line")
            .arg(target.to_string())
            .arg(delay.as_micros().to_string())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        match line.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok()) {
            Some(port) => Ok(DelayLine { child, port }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(io::Error::other(format!("delay line said {line:?}")))
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for DelayLine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In the relay process: serves until killed.
pub fn run_if_delay_line() -> Option<io::Result<()>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("--delay-line") {
        return None;
    }
    let target: u16 = args.get(1)?.parse().ok()?;
    let delay = Duration::from_micros(args.get(2)?.parse().ok()?);
    Some(serve(target, delay))
}

fn serve(target: u16, delay: Duration) -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    println!("PORT {}", listener.local_addr()?.port());
    io::stdout().flush()?;
    for inbound in listener.incoming() {
        let inbound = inbound?;
        let outbound = TcpStream::connect(("127.0.0.1", target))?;
        for stream in [&inbound, &outbound] {
            stream.set_nodelay(true)?;
        }
        relay(inbound.try_clone()?, outbound.try_clone()?, delay);
        relay(outbound, inbound, delay);
    }
    Ok(())
}

/// One direction: a reader stamps each chunk, a writer holds it until
/// its stamp plus `delay`.
fn relay(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (chunks, held) = mpsc::channel::<(Instant, Vec<u8>)>();
    thread::spawn(move || {
        for (read_at, chunk) in held {
            let due = read_at + delay;
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    thread::spawn(move || {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let chunk = buf.get(..n).map(<[u8]>::to_vec).unwrap_or_default();
                    if chunks.send((Instant::now(), chunk)).is_err() {
                        break;
                    }
                }
            }
        }
    });
}
