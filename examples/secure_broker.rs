//! An embedded broker with TLS and WebSocket listeners, for the `tls` and
//! `websocket` examples: a certificate authority and a server certificate
//! for `localhost` are made at start-up (rcgen), so nothing needs to be
//! installed or configured.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rumqttd::{Config, ConnectionSettings, RouterConfig, ServerSettings, TlsConfig};

use crate::net;

/// A running broker (rumqttd, in this process) and what a client needs to
/// trust it. It runs until the process exits, but reads its certificate
/// files for every connection: keep this value alive while connecting.
#[derive(Debug)]
pub struct SecureBroker {
    /// MQTT 5 over TLS.
    pub tls_port: u16,
    /// MQTT 3.1.1 over WebSocket (rumqttd's WebSocket listeners speak 3.1.1).
    pub ws_port: u16,
    /// MQTT 3.1.1 over secure WebSocket.
    pub wss_port: u16,
    /// The CA certificate (PEM) that signed the broker's certificate.
    pub ca_pem: String,
    _certs: tempfile::TempDir,
}

fn other(err: impl std::fmt::Display) -> io::Error {
    io::Error::other(err.to_string())
}

/// Starts the broker and waits until its listeners accept connections.
pub fn start() -> io::Result<SecureBroker> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "mqttx example CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(other)?).map_err(other)?;
    let server_key = KeyPair::generate().map_err(other)?;
    let server_cert = CertificateParams::new(vec!["localhost".to_owned()])
        .map_err(other)?
        .signed_by(&server_key, &ca)
        .map_err(other)?;

    let dir = tempfile::Builder::new()
        .prefix("mqttx-example-certs-")
        .tempdir()?;
    let cert_path = dir.path().join("server.pem");
    let key_path = dir.path().join("server.key");
    std::fs::write(&cert_path, server_cert.pem())?;
    std::fs::write(&key_path, server_key.serialize_pem())?;
    let tls = TlsConfig::Rustls {
        capath: None,
        certpath: cert_path.display().to_string(),
        keypath: key_path.display().to_string(),
    };

    let (tls_port, ws_port, wss_port) = (net::free_port()?, net::free_port()?, net::free_port()?);
    let server = |name: &str, port: u16, tls: Option<TlsConfig>| ServerSettings {
        name: name.to_owned(),
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        tls,
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
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 100,
            max_outgoing_packet_count: 200,
            max_segment_size: 10 * 1024 * 1024,
            max_segment_count: 10,
            ..RouterConfig::default()
        },
        v5: Some(HashMap::from([(
            "1".to_owned(),
            server("tls", tls_port, Some(tls.clone())),
        )])),
        ws: Some(HashMap::from([
            ("1".to_owned(), server("ws", ws_port, None)),
            ("2".to_owned(), server("wss", wss_port, Some(tls))),
        ])),
        ..Config::default()
    };
    std::thread::Builder::new()
        .name("rumqttd".to_owned())
        .spawn(move || {
            rumqttd::Broker::new(config)
                .start()
                .map_err(|err| err.to_string())
        })?;

    let deadline = Instant::now() + Duration::from_secs(10);
    while ![tls_port, ws_port, wss_port].iter().all(|&port| {
        matches!(
            net::listening(None, port),
            net::Listening::Owner | net::Listening::Unknown
        )
    }) {
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the embedded TLS/WebSocket broker did not listen within 10 s",
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(SecureBroker {
        tls_port,
        ws_port,
        wss_port,
        ca_pem: ca.pem(),
        _certs: dir,
    })
}
