//! [`TlsOptions`]: how a `Tls` or `Wss` connection trusts the server and
//! proves who it is.

use std::fmt;
use std::path::PathBuf;

/// Where PEM text comes from: given in memory, or read from a file when the
/// connection is first opened.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Pem {
    Bytes(Vec<u8>),
    File(PathBuf),
}

impl Pem {
    /// The PEM text, reading the file if it is one.
    pub(crate) fn load(&self) -> Result<std::borrow::Cow<'_, [u8]>, String> {
        match self {
            Pem::Bytes(bytes) => Ok(std::borrow::Cow::Borrowed(bytes)),
            Pem::File(path) => std::fs::read(path)
                .map(std::borrow::Cow::Owned)
                .map_err(|err| format!("cannot read {}: {err}", path.display())),
        }
    }
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pem::Bytes(bytes) => write!(f, "<{} bytes of PEM>", bytes.len()),
            Pem::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Which certificate authorities the client trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Roots {
    /// Mozilla's root program, compiled in (the `webpki-roots` crate).
    #[default]
    WebPki,
    /// The operating system's store, loaded when the connection is first
    /// opened (the `rustls-native-certs` crate).
    Platform,
    /// Only the CA certificates given.
    Custom(Vec<Pem>),
}

/// TLS settings for [`Transport::Tls`](crate::Transport::Tls) and
/// [`Transport::Wss`](crate::Transport::Wss).
///
/// By default the server's certificate is verified against **Mozilla's
/// root certificates, compiled into the binary** (`webpki-roots`): the
/// same answer on every machine and in minimal containers, with no files
/// read. [`platform_roots`](Self::platform_roots) uses the operating
/// system's store instead, and [`ca_pem`](Self::ca_pem) /
/// [`ca_pem_file`](Self::ca_pem_file) trust only the authorities you give
/// (a private CA). The certificate must also be valid for the host name
/// connected to, or for [`server_name`](Self::server_name) when set.
///
/// A server that fails verification is never connected to; the error is an
/// [`Error::Tls`](crate::Error::Tls) saying why (untrusted issuer, name
/// mismatch, expired, ...). Only
/// [`danger_accept_invalid_certs`](Self::danger_accept_invalid_certs)
/// turns verification off, for development.
///
/// PEM files are read, and the rustls configuration built, when the
/// connection is first opened; the configuration is then kept for every
/// reconnect (so TLS sessions can be resumed). A PEM that cannot be read
/// or parsed makes [`Client::connect`](crate::Client::connect) fail with
/// [`TlsError::Config`](crate::TlsError::Config).
///
/// Crypto comes from rustls with the `ring` provider, chosen explicitly,
/// so an application that links another rustls provider (or none) does
/// not change or break it.
///
/// ```
/// use mqttx::{ConnectOptions, TlsOptions, Transport};
///
/// let opts = ConnectOptions::new("broker.internal", "sensor-7")
///     .transport(Transport::Tls) // port 8883 unless set
///     .tls(
///         TlsOptions::new()
///             .ca_pem_file("/etc/mqtt/ca.pem")
///             .client_cert_pem_files("/etc/mqtt/client.pem", "/etc/mqtt/client.key"),
///     );
/// assert_eq!(opts.port_number(), 8883);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    pub(crate) roots: Roots,
    pub(crate) client_cert: Option<(Pem, Pem)>,
    pub(crate) server_name: Option<String>,
    pub(crate) alpn: Vec<Vec<u8>>,
    pub(crate) accept_invalid_certs: bool,
}

impl TlsOptions {
    /// Verify the server against Mozilla's root certificates (compiled in),
    /// no client certificate, SNI from the host name.
    pub fn new() -> Self {
        TlsOptions::default()
    }

    /// Trust the operating system's certificate store instead of the
    /// compiled-in roots (loaded when the connection is first opened; an
    /// empty or unreadable store is an error then).
    pub fn platform_roots(mut self) -> Self {
        self.roots = Roots::Platform;
        self
    }

    /// Trust the CA certificate(s) in this PEM text — and only those: the
    /// built-in roots are no longer used. Call again to add more.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.push_root(Pem::Bytes(pem.into()));
        self
    }

    /// Like [`ca_pem`](Self::ca_pem), with the PEM read from a file.
    pub fn ca_pem_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.push_root(Pem::File(path.into()));
        self
    }

    fn push_root(&mut self, pem: Pem) {
        match &mut self.roots {
            Roots::Custom(pems) => pems.push(pem),
            other => *other = Roots::Custom(vec![pem]),
        }
    }

    /// A client certificate for mutual TLS: the certificate chain (leaf
    /// first) and its private key (PKCS#8, PKCS#1 or SEC1), both PEM.
    pub fn client_cert_pem(mut self, cert_chain: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.client_cert = Some((Pem::Bytes(cert_chain.into()), Pem::Bytes(key.into())));
        self
    }

    /// Like [`client_cert_pem`](Self::client_cert_pem), read from files.
    pub fn client_cert_pem_files(mut self, cert_chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.client_cert = Some((Pem::File(cert_chain.into()), Pem::File(key.into())));
        self
    }

    /// The name sent as SNI and checked against the server's certificate,
    /// when it differs from the host connected to (for example when
    /// connecting by IP address, or through a tunnel).
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// ALPN protocols to offer, most preferred first (some cloud brokers
    /// want one, e.g. to serve MQTT on port 443).
    pub fn alpn<P: Into<Vec<u8>>>(mut self, protocols: impl IntoIterator<Item = P>) -> Self {
        self.alpn = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// **Dangerous**: accept any server certificate — untrusted, expired,
    /// or for another name. The connection is still encrypted, but anyone
    /// on the path can impersonate the broker. For development against a
    /// self-signed broker only; every connection logs a warning.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("roots", &self.roots)
            // The key's bytes stay out of logs.
            .field("client_cert", &self.client_cert.as_ref().map(|(chain, _)| chain))
            .field("server_name", &self.server_name)
            .field("alpn", &self.alpn.len())
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .finish()
    }
}
