//! A real NATS server per test, with its MQTT listener and JetStream (which
//! MQTT needs), on free loopback ports. NATS speaks MQTT 3.1.1 only, QoS 0
//! and 1: the client's fallback from MQTT 5 is tested against it.
//!
//! ```no_run
//! let nats = mqttx_tests::nats::NatsServer::start()?;
//! println!("MQTT on 127.0.0.1:{}", nats.mqtt_port());
//! # Ok::<(), mqttx_tests::HarnessError>(())
//! ```

use std::fs::{self, File};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::broker::find_executable;
use crate::net::{self, Listening};
use crate::HarnessError;

/// How long nats-server gets to listen (JetStream start-up included).
const START_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);
/// How many fresh ports a start tries when another process took one.
const PORT_ATTEMPTS: usize = 5;

/// A nats-server process made for one test. Killed when dropped.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    mqtt_port: u16,
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// Starts nats-server with JetStream and an MQTT listener, each on its
    /// own free port, storing in a temporary directory.
    pub fn start() -> Result<NatsServer, HarnessError> {
        let exe = find_executable("nats-server").ok_or_else(|| HarnessError::Io {
            context: "nats-server was not found on PATH or in /usr/sbin: install it with \
                      `sudo apt-get install -y nats-server` (or run `.ci/run`, which installs it when missing)"
                .into(),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        let dir = tempfile::Builder::new()
            .prefix("mqttx-nats-")
            .tempdir()
            .map_err(|source| HarnessError::Io {
                context: "creating the NATS server's temporary directory".into(),
                source,
            })?;
        let mut last = None;
        for _ in 0..PORT_ATTEMPTS {
            match start_once(&exe, &dir) {
                Ok((child, mqtt_port)) => {
                    return Ok(NatsServer {
                        child,
                        mqtt_port,
                        dir,
                    })
                }
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or(HarnessError::NotRunning))
    }

    /// The port of the MQTT listener on 127.0.0.1.
    pub fn mqtt_port(&self) -> u16 {
        self.mqtt_port
    }

    /// What nats-server has logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("nats.log")).unwrap_or_default()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_once(exe: &std::path::Path, dir: &tempfile::TempDir) -> Result<(Child, u16), HarnessError> {
    let io = |context: &str| {
        let context = context.to_owned();
        move |source| HarnessError::Io { context, source }
    };
    let client_port = net::free_port().map_err(io("finding a free port"))?;
    let mqtt_port = net::free_port().map_err(io("finding a free port"))?;
    let store = dir.path().join(format!("jetstream-{mqtt_port}"));
    let config = dir.path().join("nats.conf");
    fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{client_port}\n\
             server_name: mqttx_test_{mqtt_port}\n\
             jetstream {{ store_dir: {store:?} }}\n\
             mqtt {{ listen: 127.0.0.1:{mqtt_port} }}\n"
        ),
    )
    .map_err(io("writing nats.conf"))?;
    let log = File::create(dir.path().join("nats.log")).map_err(io("creating nats.log"))?;
    let log_err = log.try_clone().map_err(io("creating nats.log"))?;
    let mut child = Command::new(exe)
        .arg("-c")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(io("spawning nats-server"))?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().map_err(io("waiting for nats-server"))? {
            return Err(HarnessError::Exited {
                status,
                config,
                log: fs::read_to_string(dir.path().join("nats.log")).unwrap_or_default(),
            });
        }
        let pid = Some(child.id());
        let up = [client_port, mqtt_port]
            .iter()
            .all(|&port| matches!(net::listening(pid, port), Listening::Owner | Listening::Unknown));
        if up {
            return Ok((child, mqtt_port));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(HarnessError::NotListening {
                port: mqtt_port,
                timeout: START_TIMEOUT,
                log: fs::read_to_string(dir.path().join("nats.log")).unwrap_or_default(),
            });
        }
        std::thread::sleep(POLL);
    }
}
