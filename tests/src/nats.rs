//! Real NATS servers per test, with their MQTT listener and JetStream (which
//! MQTT needs), on free loopback ports: one alone ([`NatsServer`]) or three
//! routed into a cluster with JetStream clustered ([`NatsCluster`]). NATS
//! speaks MQTT 3.1.1 only, QoS 0 and 1.
//!
//! ```no_run
//! let nats = mqttx_tests::nats::NatsServer::start()?;
//! println!("MQTT on 127.0.0.1:{}", nats.mqtt_port());
//! # Ok::<(), mqttx_tests::HarnessError>(())
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::broker::find_executable;
use crate::net;
use crate::process::{Launch, ServerProcess};
use crate::HarnessError;

/// How long nats-server gets to listen (JetStream start-up included).
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How many fresh ports a start tries when another process took one.
const PORT_ATTEMPTS: usize = 5;

/// A nats-server process made for one test. Killed when dropped.
#[derive(Debug)]
pub struct NatsServer {
    process: ServerProcess,
    mqtt_port: u16,
    _dir: tempfile::TempDir,
}

/// The ports of one node.
#[derive(Debug, Clone, Copy)]
struct Ports {
    client: u16,
    mqtt: u16,
    cluster: u16,
}

impl Ports {
    fn fresh() -> Result<Ports, HarnessError> {
        let port = || {
            net::free_port().map_err(|source| HarnessError::Io {
                context: "finding a free port".into(),
                source,
            })
        };
        Ok(Ports {
            client: port()?,
            mqtt: port()?,
            cluster: port()?,
        })
    }
}

impl NatsServer {
    /// Starts nats-server with JetStream and an MQTT listener, each on its
    /// own free port, storing in a temporary directory.
    pub fn start() -> Result<NatsServer, HarnessError> {
        let dir = temp_dir()?;
        let mut last = None;
        for _ in 0..PORT_ATTEMPTS {
            let ports = Ports::fresh()?;
            let config = node_config(dir.path(), "alone", ports, None);
            match launch(dir.path(), "alone", &config, ports).and_then(ServerProcess::start) {
                Ok(process) => {
                    return Ok(NatsServer {
                        process,
                        mqtt_port: ports.mqtt,
                        _dir: dir,
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
        self.process.log()
    }

    /// Stops it (SIGTERM) and starts it again on the same ports with the
    /// same JetStream store, so MQTT sessions survive.
    pub fn restart(&mut self) -> Result<(), HarnessError> {
        self.process.start_again()
    }
}

/// Three nats-servers routed into one cluster, JetStream clustered (it
/// needs a majority: two of three), each with its MQTT listener.
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<(ServerProcess, u16)>,
    _dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Starts the three nodes and waits until each listens.
    pub fn start() -> Result<NatsCluster, HarnessError> {
        let dir = temp_dir()?;
        let ports = (0..3).map(|_| Ports::fresh()).collect::<Result<Vec<_>, _>>()?;
        let routes: Vec<u16> = ports.iter().map(|p| p.cluster).collect();
        let configs: Vec<(String, PathBuf)> = ports
            .iter()
            .enumerate()
            .map(|(n, &p)| {
                let name = format!("node{n}");
                let config = node_config(dir.path(), &name, p, Some(&routes));
                (name, config)
            })
            .collect();
        // Each node waits for its JetStream peers before it is useful, so
        // all three are spawned before any is waited on.
        let mut nodes = Vec::new();
        for ((name, config), &p) in configs.iter().zip(&ports) {
            nodes.push((
                ServerProcess::spawn(launch(dir.path(), name, config, p)?)?,
                p.mqtt,
            ));
        }
        for (process, _) in &mut nodes {
            process.wait_listening()?;
        }
        Ok(NatsCluster { nodes, _dir: dir })
    }

    /// The MQTT ports of the nodes, in order.
    pub fn mqtt_ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|(_, port)| *port).collect()
    }

    /// Kills node `n` (SIGKILL): it is gone at once, as in a crash.
    pub fn kill(&mut self, n: usize) -> Result<(), HarnessError> {
        match self.nodes.get_mut(n) {
            Some((process, _)) => process.kill(),
            None => Err(HarnessError::NotRunning),
        }
    }

    /// Every node's log, one after another.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .enumerate()
            .map(|(n, (process, _))| format!("--- node{n}\n{}", process.log()))
            .collect()
    }
}

fn temp_dir() -> Result<tempfile::TempDir, HarnessError> {
    tempfile::Builder::new()
        .prefix("mqttx-nats-")
        .tempdir()
        .map_err(|source| HarnessError::Io {
            context: "creating the NATS server's temporary directory".into(),
            source,
        })
}

/// Writes node `name`'s config; `routes` makes it one of a cluster.
fn node_config(dir: &Path, name: &str, ports: Ports, routes: Option<&[u16]>) -> PathBuf {
    let store = dir.join(format!("jetstream-{name}"));
    let cluster = match routes {
        None => String::new(),
        Some(routes) => {
            let routes: Vec<String> = routes
                .iter()
                .filter(|&&port| port != ports.cluster)
                .map(|port| format!("nats-route://127.0.0.1:{port}"))
                .collect();
            format!(
                "cluster {{ name: mqttx, listen: 127.0.0.1:{}, routes: [{}] }}\n",
                ports.cluster,
                routes.join(", ")
            )
        }
    };
    // In a cluster, MQTT's streams get a replica on every node, so that
    // losing one leaves a majority: left to itself, NATS sizes them by the
    // servers it knows at the first MQTT connect, which may be two.
    let replicas = if routes.is_some() {
        " stream_replicas: 3,"
    } else {
        ""
    };
    let config = dir.join(format!("{name}.conf"));
    let text = format!(
        "listen: 127.0.0.1:{}\n\
         server_name: mqttx_{name}_{}\n\
         jetstream {{ store_dir: {store:?} }}\n\
         mqtt {{{replicas} listen: 127.0.0.1:{} }}\n\
         {cluster}",
        ports.client, ports.mqtt, ports.mqtt
    );
    // Written now, read by the process; an unwritable temp dir fails the
    // launch below with the server's own message.
    let _ = fs::write(&config, text);
    config
}

fn launch(dir: &Path, name: &str, config: &Path, ports: Ports) -> Result<Launch, HarnessError> {
    let program = find_executable("nats-server").ok_or_else(|| HarnessError::Io {
        context: "nats-server was not found on PATH or in /usr/sbin: install it with \
                  `sudo apt-get install -y nats-server` (or run `.ci/run`, which installs it when missing)"
            .into(),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    Ok(Launch {
        program,
        args: vec!["-c".into(), config.display().to_string()],
        env: Vec::new(),
        ports: vec![ports.client, ports.mqtt],
        log: dir.join(format!("{name}.log")),
        start_timeout: START_TIMEOUT,
    })
}
