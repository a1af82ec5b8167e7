//! A RabbitMQ node per test, with its MQTT plugin, on free loopback ports:
//! its own node name, Erlang cookie, database and logs in a temporary
//! directory, beside (never instead of) any RabbitMQ the machine runs.
//! RabbitMQ 3.10's MQTT plugin speaks MQTT 3.1.1, QoS 0 and 1.
//!
//! ```no_run
//! let rabbit = mqttx_tests::rabbitmq::RabbitMq::start()?;
//! println!("MQTT on 127.0.0.1:{}", rabbit.mqtt_port());
//! # Ok::<(), mqttx_tests::HarnessError>(())
//! ```

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use crate::net;
use crate::process::{Launch, ServerProcess};
use crate::HarnessError;

/// An Erlang VM is slow to boot, slower still beside a compiler.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// The script that runs the node in the foreground as the current user
/// (Debian's `/usr/sbin/rabbitmq-server` switches to the `rabbitmq` user).
const SCRIPTS: [&str; 2] = [
    "/usr/lib/rabbitmq/bin/rabbitmq-server",
    "/usr/local/lib/rabbitmq/bin/rabbitmq-server",
];

/// A RabbitMQ node made for one test. Killed when dropped.
#[derive(Debug)]
pub struct RabbitMq {
    process: ServerProcess,
    mqtt_port: u16,
    _dir: tempfile::TempDir,
}

impl RabbitMq {
    /// Whether RabbitMQ is installed here.
    pub fn installed() -> bool {
        script().is_some()
    }

    /// Starts a node with the MQTT plugin and waits until it listens.
    pub fn start() -> Result<RabbitMq, HarnessError> {
        let io = |context: &'static str| {
            move |source| HarnessError::Io {
                context: context.into(),
                source,
            }
        };
        let program = script().ok_or_else(|| HarnessError::Io {
            context: "rabbitmq-server was not found: install it with \
                      `sudo apt-get install -y rabbitmq-server` (`.ci/run` does when it is missing)"
                .into(),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        let dir = tempfile::Builder::new()
            .prefix("mqttx-rabbitmq-")
            .tempdir()
            .map_err(io("creating RabbitMQ's temporary directory"))?;
        let port = || net::free_port().map_err(io("finding a free port"));
        let (amqp, dist, mqtt) = (port()?, port()?, port()?);
        let path = |name: &str| dir.path().join(name);
        fs::write(
            path("rabbitmq.conf"),
            format!(
                "listeners.tcp.default = 127.0.0.1:{amqp}\n\
                 mqtt.listeners.tcp.default = 127.0.0.1:{mqtt}\n\
                 mqtt.allow_anonymous = true\n\
                 loopback_users = none\n"
            ),
        )
        .map_err(io("writing rabbitmq.conf"))?;
        fs::write(path("enabled_plugins"), "[rabbitmq_mqtt].\n").map_err(io("writing enabled_plugins"))?;
        let env = |key: &str, value: String| (key.to_owned(), value);
        let shown = |name: &str| path(name).display().to_string();
        let launch = Launch {
            program,
            args: Vec::new(),
            env: vec![
                // The Erlang cookie goes in $HOME: one of our own.
                env("HOME", dir.path().display().to_string()),
                env("RABBITMQ_NODENAME", format!("mqttx{mqtt}@localhost")),
                env("RABBITMQ_CONFIG_FILE", shown("rabbitmq.conf")),
                env("RABBITMQ_ENABLED_PLUGINS_FILE", shown("enabled_plugins")),
                env("RABBITMQ_MNESIA_BASE", shown("mnesia")),
                env("RABBITMQ_LOG_BASE", shown("log")),
                env("RABBITMQ_PID_FILE", shown("pid")),
                env("RABBITMQ_DIST_PORT", dist.to_string()),
            ],
            ports: vec![amqp, mqtt],
            log: path("rabbitmq.out"),
            start_timeout: START_TIMEOUT,
        };
        let process = ServerProcess::start(launch)?;
        Ok(RabbitMq {
            process,
            mqtt_port: mqtt,
            _dir: dir,
        })
    }

    /// The MQTT listener's port on 127.0.0.1.
    pub fn mqtt_port(&self) -> u16 {
        self.mqtt_port
    }

    /// Stops the node (SIGTERM, a clean shutdown) and starts it again on
    /// the same ports and database: durable sessions survive.
    pub fn restart(&mut self) -> Result<(), HarnessError> {
        self.process.start_again()
    }

    /// What the node wrote to its console so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

fn script() -> Option<PathBuf> {
    SCRIPTS.iter().map(PathBuf::from).find(|path| path.is_file())
}
