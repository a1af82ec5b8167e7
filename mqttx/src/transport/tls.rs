//! TLS over any byte stream (a TCP socket, or a proxy tunnel), with rustls
//! and an explicitly chosen crypto provider.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::error::Error;
use crate::error::TlsError;
use crate::options::tls::{Pem, Roots};
use crate::options::TlsOptions;

fn config_error(message: impl Into<String>) -> Error {
    Error::Tls(TlsError::Config(message.into()))
}

/// The rustls configuration these options describe. Built once per
/// connection and kept, so reconnects can resume TLS sessions.
pub(super) fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, Error> {
    // aws-lc-rs (post-quantum key exchange preferred), chosen here rather
    // than taken from the process-wide default: an app that links two
    // providers (or none) neither panics nor changes us.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| config_error(err.to_string()))?;
    let builder = if opts.accept_invalid_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    } else {
        builder.with_root_certificates(root_store(&opts.roots)?)
    };
    let mut config = match &opts.client_cert {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => {
            let chain = certificates(chain, "client certificate")?;
            let key_pem = key.load().map_err(config_error)?;
            let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
                .map_err(|err| config_error(format!("client key {key:?}: {err}")))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|err| config_error(format!("client certificate and key: {err}")))?
        }
    };
    config.alpn_protocols.clone_from(&opts.alpn);
    Ok(Arc::new(config))
}

fn root_store(roots: &Roots) -> Result<RootCertStore, Error> {
    match roots {
        Roots::WebPki => Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
        Roots::Platform => {
            let found = rustls_native_certs::load_native_certs();
            let mut store = RootCertStore::empty();
            let (added, _ignored) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found
                    .errors
                    .first()
                    .map(|err| format!(": {err}"))
                    .unwrap_or_default();
                return Err(config_error(format!(
                    "no usable certificate in the platform store{why}"
                )));
            }
            Ok(store)
        }
        Roots::Custom(pems) => {
            let mut store = RootCertStore::empty();
            for pem in pems {
                for cert in certificates(pem, "CA certificate")? {
                    store
                        .add(cert)
                        .map_err(|err| config_error(format!("CA certificate {pem:?}: {err}")))?;
                }
            }
            Ok(store)
        }
    }
}

/// Every certificate in a PEM, at least one.
fn certificates(pem: &Pem, what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let text = pem.load().map_err(config_error)?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| config_error(format!("{what} {pem:?}: {err}")))?;
    if certs.is_empty() {
        return Err(config_error(format!("{what} {pem:?}: no CERTIFICATE in the PEM")));
    }
    Ok(certs)
}

/// The name to verify the certificate against, and to send as SNI.
pub(super) fn server_name(opts: &TlsOptions, host: &str) -> Result<ServerName<'static>, Error> {
    let name = opts.server_name.as_deref().unwrap_or(host);
    ServerName::try_from(name.to_owned()).map_err(|_| config_error(format!("invalid server name {name:?}")))
}

/// The TLS handshake over `stream`.
pub(super) async fn connect<S>(
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    stream: S,
) -> Result<TlsStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    TlsConnector::from(config)
        .connect(name, stream)
        .await
        .map_err(Error::from)
}

/// The verifier behind `danger_accept_invalid_certs`: any certificate is
/// taken, but the handshake signatures are still checked, so the session
/// is at least bound to the certificate presented.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
