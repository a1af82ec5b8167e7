//! A small HTTP `CONNECT` proxy for tests, with optional basic
//! authentication. It opens tunnels to loopback targets only and records
//! what it was asked, so a test can prove its traffic went through it.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use mqttx_tests::proxy::HttpProxy;
//!
//! let open = HttpProxy::start(None).await?;
//! let guarded = HttpProxy::start(Some(("alice", "s3cret"))).await?;
//! println!("proxies on {} and {}", open.port(), guarded.port());
//! # Ok(()) }
//! ```

use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The longest request head the proxy reads.
const MAX_HEAD: usize = 8 * 1024;

/// What the proxy saw.
#[derive(Debug, Default, Clone)]
pub struct ProxyLog {
    /// `host:port` of every tunnel opened.
    pub tunnels: Vec<String>,
    /// How many requests were answered `407`.
    pub refused: usize,
}

/// A `CONNECT` proxy on a free loopback port.
pub struct HttpProxy {
    port: u16,
    log: Arc<Mutex<ProxyLog>>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpProxy {
    /// Starts the proxy on the current runtime; with `credentials`,
    /// requests without the right `Proxy-Authorization: Basic` get `407`.
    pub async fn start(credentials: Option<(&str, &str)>) -> std::io::Result<HttpProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let expected = credentials.map(|(user, password)| {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            format!("basic {token}")
        });
        let log = Arc::new(Mutex::new(ProxyLog::default()));
        let shared = Arc::clone(&log);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, expected.clone(), Arc::clone(&shared)));
            }
        });
        Ok(HttpProxy { port, log, task })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A snapshot of what the proxy saw.
    pub fn log(&self) -> ProxyLog {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for HttpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut client: TcpStream, expected: Option<String>, log: Arc<Mutex<ProxyLog>>) {
    let Some(head) = read_head(&mut client).await else {
        return;
    };
    let mut lines = head.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let mut parts = request.split(' ');
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        let _ = client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    let authorized = match &expected {
        None => true,
        Some(expected) => lines.any(|line| {
            line.split_once(':').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("proxy-authorization")
                    && value.trim().eq_ignore_ascii_case(expected)
            })
        }),
    };
    if !authorized {
        log.lock().unwrap_or_else(PoisonError::into_inner).refused += 1;
        let _ = client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"mqttx-tests\"\r\nContent-Length: 0\r\n\r\n",
            )
            .await;
        return;
    }
    // Loopback targets only: the tests never reach out.
    let loopback = target.starts_with("127.0.0.1:") || target.starts_with("localhost:");
    let upstream = match loopback {
        true => TcpStream::connect(target).await.ok(),
        false => None,
    };
    let Some(mut upstream) = upstream else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .tunnels
        .push(target.to_owned());
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_ok()
    {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }
}

async fn read_head(client: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") && head.len() < MAX_HEAD {
        head.push(client.read_u8().await.ok()?);
    }
    String::from_utf8(head).ok()
}
