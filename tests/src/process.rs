//! A server process a test starts, in a process group of its own so that
//! stopping it reaches whatever it forks (RabbitMQ's script starts the
//! Erlang VM as a child), and that waits until the server listens.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use crate::net::{self, Listening};
use crate::HarnessError;

const POLL: Duration = Duration::from_millis(20);
/// How long a server gets to shut down on SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// How to start one server process, again and again on the same ports.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables to set.
    pub env: Vec<(String, String)>,
    /// The ports it must listen on before it counts as started.
    pub ports: Vec<u16>,
    /// Where its output goes (appended to, across restarts).
    pub log: PathBuf,
    /// How long it gets to listen on every port.
    pub start_timeout: Duration,
}

/// A running server process. Killed, with its process group, when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    launch: Launch,
    child: Option<Child>,
}

impl ServerProcess {
    /// Starts the server and waits until it listens on every port.
    pub fn start(launch: Launch) -> Result<ServerProcess, HarnessError> {
        let mut process = ServerProcess::spawn(launch)?;
        process.wait_listening()?;
        Ok(process)
    }

    /// Starts the server without waiting; see [`wait_listening`](Self::wait_listening).
    pub fn spawn(launch: Launch) -> Result<ServerProcess, HarnessError> {
        let mut process = ServerProcess { launch, child: None };
        process.spawn_child()?;
        Ok(process)
    }

    /// What the server has written so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.launch.log).unwrap_or_default()
    }

    /// The log file.
    pub fn log_path(&self) -> &Path {
        &self.launch.log
    }

    /// Stops the server: SIGTERM to its group, then SIGKILL if it is still
    /// there after a while. Then waits until its ports are free.
    pub fn stop(&mut self) -> Result<(), HarnessError> {
        self.signal_and_reap(libc::SIGTERM, STOP_TIMEOUT)
    }

    /// Kills the server at once (SIGKILL to its group).
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.signal_and_reap(libc::SIGKILL, STOP_TIMEOUT)
    }

    /// Starts the server again, as it was first started (same ports, same
    /// files), once it is stopped.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        if self.child.is_some() {
            self.stop()?;
        }
        self.spawn_child()?;
        self.wait_listening()
    }

    fn spawn_child(&mut self) -> Result<(), HarnessError> {
        let io = |context: &str| {
            let context = context.to_owned();
            move |source| HarnessError::Io { context, source }
        };
        let launch = &self.launch;
        let log = File::options()
            .create(true)
            .append(true)
            .open(&launch.log)
            .map_err(io("opening the server's log"))?;
        let log_err = log.try_clone().map_err(io("opening the server's log"))?;
        let child = Command::new(&launch.program)
            .args(&launch.args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0)
            .spawn()
            .map_err(io("spawning the server"))?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits until the server listens on every port; kills it and fails
    /// if it exits or the start timeout passes first.
    pub fn wait_listening(&mut self) -> Result<(), HarnessError> {
        let deadline = Instant::now() + self.launch.start_timeout;
        loop {
            let child = self.child.as_mut().ok_or(HarnessError::NotRunning)?;
            let exited = child.try_wait().map_err(|source| HarnessError::Io {
                context: "waiting for the server".into(),
                source,
            })?;
            if let Some(status) = exited {
                self.child = None;
                return Err(HarnessError::Exited {
                    status,
                    config: self.launch.program.clone(),
                    log: self.log(),
                });
            }
            // A forked server (the Erlang VM under a script) holds the
            // sockets, not the child itself: any listener on our fresh
            // ports is taken as the server's.
            let up = self
                .launch
                .ports
                .iter()
                .all(|&port| net::listening(None, port) != Listening::Nobody);
            if up {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let port = self.launch.ports.first().copied().unwrap_or_default();
                let _ = self.kill();
                return Err(HarnessError::NotListening {
                    port,
                    timeout: self.launch.start_timeout,
                    log: self.log(),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    fn signal_and_reap(&mut self, signal: i32, patience: Duration) -> Result<(), HarnessError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let group = child.id() as i32;
        // SAFETY: kill(2) with a negative pid signals the process group we
        // made for this child; it touches no memory.
        unsafe { libc::kill(-group, signal) };
        let deadline = Instant::now() + patience;
        loop {
            let exited = child.try_wait().map_err(|source| HarnessError::Io {
                context: "waiting for the server to stop".into(),
                source,
            })?;
            let ports_free = self
                .launch
                .ports
                .iter()
                .all(|&port| net::listening(None, port) == Listening::Nobody);
            if exited.is_some() && ports_free {
                return Ok(());
            }
            if Instant::now() >= deadline {
                // SAFETY: as above.
                unsafe { libc::kill(-group, libc::SIGKILL) };
                let _ = child.wait();
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.signal_and_reap(libc::SIGKILL, Duration::from_secs(5));
    }
}
