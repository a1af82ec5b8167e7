//! The byte streams a connection runs over: TCP, TLS, WebSocket and secure
//! WebSocket, each optionally through an HTTP proxy. Each gives the
//! connection a read half and a write half; nothing here knows MQTT.

mod proxy;
mod servers;
mod tcp;
mod tls;
mod ws;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

pub(crate) use servers::Servers;
pub(crate) use tcp::AckHint;

use crate::error::Error;
use crate::options::{ConnectOptions, Proxy, TlsOptions, Transport};

/// The read side of a transport.
pub(crate) type ReadHalf = Box<dyn AsyncRead + Unpin>;
/// The write side of a transport. Writers flush after each batch (TLS and
/// WebSocket buffer until then; TCP's flush does nothing).
pub(crate) type WriteHalf = Box<dyn AsyncWrite + Unpin>;

/// Where and how to open a transport.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) transport: Transport,
    pub(crate) settings: Arc<Settings>,
}

impl Endpoint {
    /// Every server of `opts` as an endpoint, in failover order, sharing
    /// one set of transport settings.
    pub(crate) fn all<H>(opts: &ConnectOptions<H>) -> Vec<Endpoint> {
        let settings = Arc::new(Settings {
            ws_path: opts.ws_path.clone(),
            tls: opts.tls.clone(),
            proxy: opts.proxy.clone(),
            // A frame may pack several packets; twice the packet limit
            // leaves room for that and still bounds what is buffered.
            max_ws_message: usize::try_from(opts.max_packet_size)
                .unwrap_or(usize::MAX)
                .saturating_mul(2)
                .max(64 * 1024),
            tls_config: Mutex::new(None),
        });
        opts.server_list()
            .into_iter()
            .map(|(host, port)| Endpoint {
                host: host.to_owned(),
                port,
                transport: opts.transport,
                settings: Arc::clone(&settings),
            })
            .collect()
    }
}

/// What every server of one client shares.
#[derive(Debug, Default)]
pub(crate) struct Settings {
    pub(crate) ws_path: String,
    pub(crate) tls: TlsOptions,
    pub(crate) proxy: Option<Proxy>,
    /// The largest WebSocket message accepted.
    pub(crate) max_ws_message: usize,
    /// The rustls configuration, built on first use and kept, so that
    /// reconnects can resume TLS sessions. A failed build is not kept.
    pub(crate) tls_config: Mutex<Option<Arc<rustls::ClientConfig>>>,
}

impl Settings {
    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, Error> {
        let mut cached = self.tls_config.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(config) = cached.as_ref() {
            return Ok(Arc::clone(config));
        }
        let config = tls::client_config(&self.tls)?;
        *cached = Some(Arc::clone(&config));
        Ok(config)
    }
}

/// `host:port`, with an IPv6 address in brackets.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Opens the transport, giving up after `timeout`.
pub(crate) async fn open(
    endpoint: Endpoint,
    timeout: Duration,
    ack_hint: AckHint,
) -> Result<(ReadHalf, WriteHalf), Error> {
    match tokio::time::timeout(timeout, open_now(&endpoint, ack_hint)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Io(Arc::new(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "no {:?} connection to {} within {timeout:?}",
                endpoint.transport,
                authority(&endpoint.host, endpoint.port)
            ),
        )))),
    }
}

async fn open_now(endpoint: &Endpoint, ack_hint: AckHint) -> Result<(ReadHalf, WriteHalf), Error> {
    let settings = &endpoint.settings;
    let (host, port) = (endpoint.host.as_str(), endpoint.port);
    let stream = match &settings.proxy {
        Some(proxy) => {
            let mut stream = tcp::connect(&proxy.host, proxy.port).await?;
            proxy::tunnel(&mut stream, proxy, host, port).await?;
            stream
        }
        None => tcp::connect(host, port).await?,
    };
    let ws_target = |secure| ws::Target {
        secure,
        host,
        port,
        path: &settings.ws_path,
        max_message: settings.max_ws_message,
    };
    if endpoint.transport == Transport::Tcp {
        let (read, write) = stream.into_split();
        return Ok((Box::new(tcp::QuickAck(read, ack_hint)), Box::new(write)));
    }
    let stream = tcp::QuickAck(stream, ack_hint);
    Ok(match endpoint.transport {
        Transport::Tcp => split(stream),
        Transport::Tls => split(secure(settings, host, stream).await?),
        Transport::Ws => split(ws::connect(stream, ws_target(false)).await?),
        Transport::Wss => {
            let tls = secure(settings, host, stream).await?;
            split(ws::connect(tls, ws_target(true)).await?)
        }
    })
}

/// The TLS handshake with `host` over `stream`.
async fn secure<S>(
    settings: &Settings,
    host: &str,
    stream: S,
) -> Result<tokio_rustls::client::TlsStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if settings.tls.accept_invalid_certs {
        tracing::warn!(
            host,
            "TLS certificate verification is OFF (danger_accept_invalid_certs): the server is not authenticated"
        );
    }
    let name = tls::server_name(&settings.tls, host)?;
    tls::connect(settings.tls_config()?, name, stream).await
}

fn split<S: AsyncRead + AsyncWrite + 'static>(stream: S) -> (ReadHalf, WriteHalf) {
    let (read, write) = tokio::io::split(stream);
    (Box::new(read), Box::new(write))
}
