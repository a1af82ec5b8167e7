//! Certificates made at test time (rcgen): a CA, a server certificate it
//! signs, and a client certificate for mutual TLS, written to a temporary
//! directory for mosquitto's TLS listeners.
//!
//! ```no_run
//! use mqttx_tests::certs::Pki;
//! use mqttx_tests::Broker;
//!
//! let pki = Pki::new()?;
//! let broker = Broker::builder()
//!     .listener_extra("tls", &pki.listener_config(false))
//!     .start()?;
//! let tls_port = broker.listener_port("tls");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// Something went wrong making or writing the certificates.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// rcgen refused.
    #[error("generating a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// Writing the files failed.
    #[error("writing certificates: {0}")]
    Io(#[from] std::io::Error),
}

/// A certificate and its private key, PEM.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

/// A small public-key infrastructure of one CA, for one test.
pub struct Pki {
    dir: tempfile::TempDir,
    ca_pem: String,
    server: Identity,
    client: Identity,
}

impl Pki {
    /// A CA, a server certificate for `localhost` and `127.0.0.1`, and a
    /// client certificate, all new.
    pub fn new() -> Result<Pki, CertError> {
        Pki::for_server_names(&["localhost", "127.0.0.1"])
    }

    /// Like [`new`](Self::new), with the server certificate valid for
    /// these names only (DNS names or IP addresses).
    pub fn for_server_names(names: &[&str]) -> Result<Pki, CertError> {
        Pki::build(names, ServerCert::Valid)
    }

    /// Like [`new`](Self::new), with a server certificate that expired
    /// (valid in 2020 only).
    pub fn expired_server() -> Result<Pki, CertError> {
        Pki::build(&["localhost", "127.0.0.1"], ServerCert::Expired)
    }

    /// Like [`new`](Self::new), with a server certificate signed by its
    /// own key, not by the CA a client trusts.
    pub fn self_signed_server() -> Result<Pki, CertError> {
        Pki::build(&["localhost", "127.0.0.1"], ServerCert::SelfSigned)
    }

    fn build(names: &[&str], kind: ServerCert) -> Result<Pki, CertError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own: two test CAs must not look like one to a verifier.
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("mqttx test CA {}", unique()));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

        let names: Vec<String> = names.iter().map(|&n| n.to_owned()).collect();
        let mut server_params = CertificateParams::new(names)?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "mqttx test broker");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = match kind {
            ServerCert::Valid => issue(server_params, &ca)?,
            ServerCert::Expired => {
                server_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
                server_params.not_after = rcgen::date_time_ymd(2020, 12, 31);
                issue(server_params, &ca)?
            }
            ServerCert::SelfSigned => {
                let key = KeyPair::generate()?;
                let cert = server_params.self_signed(&key)?;
                Identity {
                    cert_pem: cert.pem(),
                    key_pem: key.serialize_pem(),
                }
            }
        };

        let mut client_params = CertificateParams::new(Vec::<String>::new())?;
        client_params
            .distinguished_name
            .push(DnType::CommonName, "mqttx test client");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = issue(client_params, &ca)?;

        let dir = tempfile::Builder::new().prefix("mqttx-pki-").tempdir()?;
        let pki = Pki {
            dir,
            ca_pem: ca.pem(),
            server,
            client,
        };
        fs::write(pki.ca_path(), &pki.ca_pem)?;
        fs::write(pki.server_cert_path(), &pki.server.cert_pem)?;
        fs::write(pki.server_key_path(), &pki.server.key_pem)?;
        Ok(pki)
    }

    /// The CA certificate, PEM: what a client trusts.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate's file.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server certificate's file.
    pub fn server_cert_path(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// The server key's file.
    pub fn server_key_path(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// The client certificate and key, signed by this CA.
    pub fn client(&self) -> &Identity {
        &self.client
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// mosquitto listener lines for TLS with this server certificate; with
    /// `require_client_cert`, clients must present a certificate from this
    /// CA. Add `protocol websockets` for secure WebSocket.
    pub fn listener_config(&self, require_client_cert: bool) -> String {
        format!(
            "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate {}\n",
            self.ca_path().display(),
            self.server_cert_path().display(),
            self.server_key_path().display(),
            require_client_cert
        )
    }
}

/// A number no other `Pki` of any test process has used.
fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Which server certificate a [`Pki`] holds.
#[derive(Debug, Clone, Copy)]
enum ServerCert {
    Valid,
    Expired,
    SelfSigned,
}

fn issue(params: CertificateParams, ca: &CertifiedIssuer<'_, KeyPair>) -> Result<Identity, CertError> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca)?;
    Ok(Identity {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}
