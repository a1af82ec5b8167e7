//! [`Proxy`]: an HTTP proxy the connection tunnels through with `CONNECT`.

use std::fmt;

/// An HTTP proxy that the transport is tunnelled through (`CONNECT
/// host:port`), for networks where the broker is only reachable that way.
/// It works under every transport: TLS and WebSocket run inside the tunnel,
/// end to end with the broker, and the broker's host name is resolved by
/// the proxy.
///
/// A `407 Proxy Authentication Required` answer fails the connection with
/// [`Error::ProxyRefused`](crate::Error::ProxyRefused), which is not
/// retried; other refusals (`502`, `503`, ...) are retried with the backoff.
///
/// ```
/// use mqttx::{ConnectOptions, Proxy, Transport};
///
/// let opts = ConnectOptions::new("broker.example.com", "c1")
///     .transport(Transport::Tls)
///     .proxy(Proxy::http("proxy.corp", 3128).credentials("alice", "s3cret"));
/// assert_eq!(opts.proxy_settings().map(Proxy::port), Some(3128));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) credentials: Option<(String, String)>,
}

impl Proxy {
    /// An HTTP proxy at `host:port`, reached over plain TCP.
    pub fn http(host: impl Into<String>, port: u16) -> Self {
        Proxy {
            host: host.into(),
            port,
            credentials: None,
        }
    }

    /// Basic authentication (`Proxy-Authorization: Basic ...`).
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// The proxy's host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            // The password stays out of logs.
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish()
    }
}
