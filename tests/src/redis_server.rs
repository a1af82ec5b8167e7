//! A real redis-server per test, on a free loopback port, keeping nothing
//! on disk; it can be killed and started again on the same port.
//!
//! ```no_run
//! let redis = mqttx_tests::redis_server::RedisServer::start()?;
//! println!("{}", redis.url()); // redis://127.0.0.1:PORT
//! # Ok::<(), mqttx_tests::HarnessError>(())
//! ```

use std::fs::{self, File};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::broker::find_executable;
use crate::net::{self, Listening};
use crate::HarnessError;

const START_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(10);
const PORT_ATTEMPTS: usize = 5;

/// A redis-server process made for one test. Killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    exe: PathBuf,
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

fn io(context: &str) -> impl FnOnce(std::io::Error) -> HarnessError + '_ {
    move |source| HarnessError::Io {
        context: context.to_owned(),
        source,
    }
}

impl RedisServer {
    /// Starts redis-server on a free port, without persistence.
    pub fn start() -> Result<RedisServer, HarnessError> {
        let exe = find_executable("redis-server").ok_or_else(|| HarnessError::Io {
            context: "redis-server was not found on PATH or in /usr/sbin: install it with \
                      `sudo apt-get install -y redis-server` (or run `.ci/run`, which installs it when missing)"
                .into(),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        let dir = tempfile::Builder::new()
            .prefix("mqttx-redis-")
            .tempdir()
            .map_err(io("creating redis-server's temporary directory"))?;
        let mut server = RedisServer {
            exe,
            child: None,
            port: 0,
            dir,
        };
        let mut last = None;
        for _ in 0..PORT_ATTEMPTS {
            server.port = net::free_port().map_err(io("finding a free port"))?;
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or(HarnessError::NotRunning))
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL): what it held is gone, as it keeps nothing on disk.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        let mut child = self.child.take().ok_or(HarnessError::NotRunning)?;
        child.kill().map_err(io("killing redis-server"))?;
        child.wait().map_err(io("waiting for redis-server"))?;
        Ok(())
    }

    /// Starts it again on the same port.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        if self.child.is_some() {
            return Err(HarnessError::AlreadyRunning);
        }
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return Ok(()),
                // The old socket may linger a moment.
                Err(err) if Instant::now() >= deadline => return Err(err),
                Err(_) => std::thread::sleep(POLL),
            }
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn spawn(&mut self) -> Result<(), HarnessError> {
        let log = File::create(self.log_path()).map_err(io("creating redis.log"))?;
        let log_err = log.try_clone().map_err(io("creating redis.log"))?;
        let mut child = Command::new(&self.exe)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(io("spawning redis-server"))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().map_err(io("waiting for redis-server"))? {
                return Err(HarnessError::Exited {
                    status,
                    config: self.dir.path().to_owned(),
                    log: fs::read_to_string(self.log_path()).unwrap_or_default(),
                });
            }
            if matches!(
                net::listening(Some(child.id()), self.port),
                Listening::Owner | Listening::Unknown
            ) {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(HarnessError::NotListening {
                    port: self.port,
                    timeout: START_TIMEOUT,
                    log: fs::read_to_string(self.log_path()).unwrap_or_default(),
                });
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
