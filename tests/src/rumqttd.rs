//! rumqttd (the broker the examples embed) in a process of its own per
//! test, on free loopback ports: one MQTT 3.1.1 and one MQTT 5 listener.
//!
//! The process is the `rumqttd_broker` binary of this crate; an
//! integration test passes its path, `env!("CARGO_BIN_EXE_rumqttd_broker")`.

use std::path::Path;
use std::time::Duration;

use crate::net;
use crate::process::{Launch, ServerProcess};
use crate::HarnessError;

const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A rumqttd process made for one test. Killed when dropped.
#[derive(Debug)]
pub struct Rumqttd {
    process: ServerProcess,
    v4_port: u16,
    v5_port: u16,
    _dir: tempfile::TempDir,
}

impl Rumqttd {
    /// Starts `exe` (the `rumqttd_broker` binary) on two free ports.
    pub fn start(exe: &Path) -> Result<Rumqttd, HarnessError> {
        let io = |context: &'static str| {
            move |source| HarnessError::Io {
                context: context.into(),
                source,
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("mqttx-rumqttd-")
            .tempdir()
            .map_err(io("creating rumqttd's temporary directory"))?;
        let v4_port = net::free_port().map_err(io("finding a free port"))?;
        let v5_port = net::free_port().map_err(io("finding a free port"))?;
        let process = ServerProcess::start(Launch {
            program: exe.to_path_buf(),
            args: vec![v4_port.to_string(), v5_port.to_string()],
            // rumqttd logs through `tracing` only when asked; its own
            // errors reach stderr.
            env: Vec::new(),
            ports: vec![v4_port, v5_port],
            log: dir.path().join("rumqttd.log"),
            start_timeout: START_TIMEOUT,
        })?;
        Ok(Rumqttd {
            process,
            v4_port,
            v5_port,
            _dir: dir,
        })
    }

    /// The MQTT 3.1.1 listener's port.
    pub fn v4_port(&self) -> u16 {
        self.v4_port
    }

    /// The MQTT 5 listener's port.
    pub fn v5_port(&self) -> u16 {
        self.v5_port
    }

    /// Kills it and starts it again on the same ports: rumqttd keeps
    /// nothing, so sessions and retained messages are gone.
    pub fn restart(&mut self) -> Result<(), HarnessError> {
        self.process.kill()?;
        self.process.start_again()
    }

    /// What it wrote so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}
