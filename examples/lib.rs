//! Shared helpers for the examples: a broker to talk to.
//!
//! Examples call [`broker_url`] (or [`broker_addr`]): it returns `MQTT_URL`
//! when that is set, and otherwise starts an MQTT broker inside the process
//! ([rumqttd](https://docs.rs/rumqttd)) on a free loopback port, so
//! `cargo run --example NAME` needs nothing installed.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rumqttd::{Config, ConnectionSettings, RouterConfig, ServerSettings};

// The free-port and listener-ownership helpers of the test harness. Included
// by path, not by depending on `mqttx-tests`, so the examples do not pull in
// the harness (which needs mosquitto); the file uses only std.
#[path = "../tests/src/net.rs"]
mod net;

pub mod secure_broker;

/// How long the embedded broker gets to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How many fresh ports are tried when another process took one.
const PORT_ATTEMPTS: usize = 5;

/// An MQTT broker (rumqttd) running on threads of this process, with an
/// MQTT 3.1.1 listener and an MQTT 5 listener on loopback.
///
/// rumqttd has no shutdown, so the broker runs until the process exits;
/// dropping this value does not stop it.
#[derive(Debug, Clone)]
pub struct EmbeddedBroker {
    v4_port: u16,
    v5_port: u16,
}

impl EmbeddedBroker {
    /// `127.0.0.1`.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The MQTT 5 listener's port (mqttx speaks MQTT 5 by default).
    pub fn port(&self) -> u16 {
        self.v5_port
    }

    /// The MQTT 3.1.1 listener's port.
    pub fn v4_port(&self) -> u16 {
        self.v4_port
    }

    /// `mqtt://127.0.0.1:PORT` of the MQTT 5 listener.
    pub fn url(&self) -> String {
        format!("mqtt://{}:{}", self.host(), self.v5_port)
    }

    /// `mqtt://127.0.0.1:PORT` of the MQTT 3.1.1 listener.
    pub fn url_v4(&self) -> String {
        format!("mqtt://{}:{}", self.host(), self.v4_port)
    }
}

/// Start a new rumqttd broker in this process and wait until both its
/// listeners accept connections.
///
/// Each call starts another broker, which lives until the process exits;
/// examples usually want [`broker_url`], which starts one at most.
pub fn embedded_broker() -> io::Result<EmbeddedBroker> {
    let mut last_err = None;
    for _ in 0..PORT_ATTEMPTS {
        match embedded_broker_on(net::free_port()?, net::free_port()?) {
            Ok(broker) => return Ok(broker),
            // A port was taken by another process before rumqttd bound it.
            // (The listener that did bind, if any, stays; rumqttd cannot
            // stop it.)
            Err(err) if err.kind() == io::ErrorKind::AddrInUse => last_err = Some(err),
            Err(err) => return Err(err),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("embedded broker did not start")))
}

/// Start a new rumqttd broker in this process with its MQTT 3.1.1 listener
/// on `v4_port` and its MQTT 5 listener on `v5_port` (both on loopback),
/// and wait until both accept connections. A port that another process
/// holds is an [`io::ErrorKind::AddrInUse`] error.
pub fn embedded_broker_on(v4_port: u16, v5_port: u16) -> io::Result<EmbeddedBroker> {
    let broker = EmbeddedBroker { v4_port, v5_port };
    let config = config(v4_port, v5_port);
    let thread = std::thread::Builder::new()
        .name("rumqttd".to_owned())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            // Returns only when every listener has stopped, e.g. on a failed bind.
            broker.start().map_err(|err| err.to_string())
        })?;
    wait_listening(&broker, &thread)?;
    Ok(broker)
}

fn wait_listening(broker: &EmbeddedBroker, thread: &JoinHandle<Result<(), String>>) -> io::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let states = [broker.v4_port, broker.v5_port].map(|port| (port, net::listening(None, port)));
        if let Some(&(port, _)) = states.iter().find(|(_, state)| *state == net::Listening::Other) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("127.0.0.1:{port} was taken by another process"),
            ));
        }
        if states
            .iter()
            .all(|(_, state)| matches!(state, net::Listening::Owner | net::Listening::Unknown))
        {
            return Ok(());
        }
        if thread.is_finished() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "the embedded broker stopped while starting (its listeners could not bind)",
            ));
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the embedded broker did not listen within {START_TIMEOUT:?}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// rumqttd's config, built in code: one MQTT 3.1.1 ("v4") and one MQTT 5
/// listener on loopback, no TLS, no authentication, no metrics.
fn config(v4_port: u16, v5_port: u16) -> Config {
    let server = |name: &str, port: u16| ServerSettings {
        name: name.to_owned(),
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: 1024 * 1024,
            max_inflight_count: 100,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 1000,
            max_outgoing_packet_count: 200,
            max_segment_size: 10 * 1024 * 1024,
            max_segment_count: 10,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("1".to_owned(), server("embedded-v4", v4_port))])),
        v5: Some(HashMap::from([("1".to_owned(), server("embedded-v5", v5_port))])),
        ..Config::default()
    }
}

/// The broker the examples talk to: `MQTT_URL` if set (for example
/// `mqtt://localhost:1883`), otherwise the MQTT 5 listener of an embedded
/// broker started on first use and kept for the rest of the process.
///
/// # Panics
///
/// If the embedded broker cannot start (the message says why).
pub fn broker_url() -> String {
    match std::env::var("MQTT_URL") {
        Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => shared_embedded().url(),
    }
}

/// [`broker_url`] as host and port, for `ConnectOptions::new(host, ..).port(port)`.
/// A URL without a port means 1883.
///
/// # Panics
///
/// If `MQTT_URL` is not of the form `[mqtt://]HOST[:PORT]`, or the embedded
/// broker cannot start.
pub fn broker_addr() -> (String, u16) {
    let url = broker_url();
    parse_url(&url).unwrap_or_else(|| panic!("MQTT_URL={url:?} is not of the form mqtt://HOST[:PORT]"))
}

fn shared_embedded() -> &'static EmbeddedBroker {
    static EMBEDDED: OnceLock<EmbeddedBroker> = OnceLock::new();
    EMBEDDED.get_or_init(|| {
        embedded_broker()
            .unwrap_or_else(|err| panic!("could not start the embedded MQTT broker: {err} (or set MQTT_URL)"))
    })
}

/// `[mqtt://]HOST[:PORT]` into host and port (1883 by default).
fn parse_url(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("mqtt://").unwrap_or(url).trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        // An IPv6 address in brackets has colons of its own.
        Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
        _ => (rest, 1883),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty() && !host.contains('/')).then(|| (host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    const REPLY: Duration = Duration::from_secs(5);

    /// Send `connect` and return the CONNACK's variable header and
    /// properties (everything after the remaining length).
    fn connack(port: u16, connect: &[u8]) -> Vec<u8> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut stream = TcpStream::connect_timeout(&addr, REPLY).unwrap();
        stream.set_read_timeout(Some(REPLY)).unwrap();
        stream.write_all(connect).unwrap();
        let mut header = [0; 2];
        stream.read_exact(&mut header).unwrap();
        assert_eq!(header[0], 0x20, "not a CONNACK: {header:02x?}");
        assert!(header[1] < 0x80, "short CONNACK expected");
        let mut body = vec![0; usize::from(header[1])];
        stream.read_exact(&mut body).unwrap();
        body
    }

    #[test]
    fn embedded_broker_answers_mqtt_311_and_5() {
        let broker = embedded_broker().unwrap();
        assert_ne!(broker.port(), broker.v4_port());
        assert_eq!(broker.url(), format!("mqtt://127.0.0.1:{}", broker.port()));

        // MQTT 3.1.1 CONNECT, clean session, keep-alive 60 s, client id "smoke-v4".
        let mut v4 = vec![
            0x10, 0x14, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x08,
        ];
        v4.extend_from_slice(b"smoke-v4");
        assert_eq!(connack(broker.v4_port(), &v4), [0x00, 0x00]);

        // MQTT 5 CONNECT, clean start, keep-alive 60 s, no properties, client id "smoke-v5".
        let mut v5 = vec![
            0x10, 0x15, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x08,
        ];
        v5.extend_from_slice(b"smoke-v5");
        let reply = connack(broker.port(), &v5);
        assert_eq!(
            reply[..2],
            [0x00, 0x00],
            "session present 0, reason Success: {reply:02x?}"
        );
    }

    #[test]
    fn broker_url_is_stable_within_a_process() {
        // Holds whether or not MQTT_URL is set in the environment.
        assert_eq!(broker_url(), broker_url());
    }

    #[test]
    fn parses_urls() {
        assert_eq!(
            parse_url("mqtt://localhost:1884"),
            Some(("localhost".to_owned(), 1884))
        );
        assert_eq!(
            parse_url("mqtt://broker.local"),
            Some(("broker.local".to_owned(), 1883))
        );
        assert_eq!(parse_url("127.0.0.1:9000/"), Some(("127.0.0.1".to_owned(), 9000)));
        assert_eq!(parse_url("mqtt://[::1]:1885"), Some(("::1".to_owned(), 1885)));
        assert_eq!(parse_url("mqtt://[::1]"), Some(("::1".to_owned(), 1883)));
        assert_eq!(parse_url("mqtt://host:notaport"), None);
        assert_eq!(parse_url("mqtt://"), None);
    }
}
