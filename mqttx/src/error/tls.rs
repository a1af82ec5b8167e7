//! [`TlsError`]: rustls's failures, said in terms of what to fix.

use rustls::{AlertDescription, CertificateError};

/// Why TLS failed, in [`Error::Tls`](crate::Error::Tls).
///
/// **Retrying.** Certificate failures — every variant but
/// [`Handshake`](Self::Handshake) — cannot be fixed by trying again with
/// the same settings, so [`Error::is_retryable`](crate::Error::is_retryable)
/// is `false` for them: on the *first* connection
/// [`Client::connect`](crate::Client::connect) fails at once instead of
/// retrying until its timeout. *After* a connection has succeeded, the
/// client keeps retrying them with the backoff (the server may be in the
/// middle of a certificate rotation) and reports each failure to the
/// handler's `disconnected`. Other handshake failures are retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The server's certificate is not issued by a trusted authority
    /// (self-signed, or a private CA not given with
    /// [`TlsOptions::ca_pem`](crate::TlsOptions::ca_pem)).
    #[error("the server's certificate is not trusted: it is not issued by a trusted certificate authority")]
    UntrustedCertificate,
    /// The server's certificate is not valid for the name connected to.
    #[error("the server's certificate is not valid for {expected:?} (it is for {presented:?})")]
    NameMismatch {
        /// The name checked: the host, or the configured server name.
        expected: String,
        /// The names the certificate holds (may be empty when unknown).
        presented: Vec<String>,
    },
    /// The server's certificate has expired or is not valid yet.
    #[error("the server's certificate has expired or is not valid yet")]
    CertificateExpired,
    /// The server's certificate was rejected for another reason.
    #[error("the server's certificate was rejected: {0}")]
    InvalidCertificate(String),
    /// The server refused our client certificate, or wanted one and got
    /// none (mutual TLS).
    #[error("the server refused the client certificate ({0}); mutual TLS needs TlsOptions::client_cert_pem")]
    ClientCertificateRejected(String),
    /// The TLS settings cannot be used: a PEM file that cannot be read or
    /// parsed, an invalid server name, no roots in the platform store.
    #[error("unusable TLS settings: {0}")]
    Config(String),
    /// Any other handshake failure (no common protocol version or cipher,
    /// an alert from the server, ...). Retried with the backoff.
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
}

impl TlsError {
    /// Whether trying again with the same settings can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, TlsError::Handshake(_))
    }

    /// Whether this is about a certificate (the server's or ours).
    pub fn is_certificate_error(&self) -> bool {
        !matches!(self, TlsError::Handshake(_) | TlsError::Config(_))
    }

    /// The TLS failure inside an I/O error from tokio-rustls, if any.
    pub(crate) fn carried_by(err: &std::io::Error) -> Option<TlsError> {
        err.get_ref()?.downcast_ref::<rustls::Error>().map(TlsError::from)
    }
}

impl From<&rustls::Error> for TlsError {
    fn from(err: &rustls::Error) -> Self {
        match err {
            rustls::Error::InvalidCertificate(cert) => from_certificate_error(cert),
            rustls::Error::AlertReceived(alert) => from_alert(*alert),
            rustls::Error::NoCertificatesPresented => {
                TlsError::InvalidCertificate("the server presented no certificate".into())
            }
            other => TlsError::Handshake(other.to_string()),
        }
    }
}

fn from_certificate_error(err: &CertificateError) -> TlsError {
    match err {
        // A bad signature in the chain: an issuer with a trusted name but
        // not the trusted key, which is no more trusted than an unknown one.
        CertificateError::UnknownIssuer | CertificateError::BadSignature => TlsError::UntrustedCertificate,
        CertificateError::NotValidForName => TlsError::NameMismatch {
            expected: String::new(),
            presented: Vec::new(),
        },
        CertificateError::NotValidForNameContext { expected, presented } => TlsError::NameMismatch {
            expected: expected.to_str().into_owned(),
            presented: presented.clone(),
        },
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => TlsError::CertificateExpired,
        other => TlsError::InvalidCertificate(format!("{other:?}")),
    }
}

/// Alerts a server sends when it does not like our certificate (or our
/// lack of one). OpenSSL-based brokers say `CertificateRequired` on TLS
/// 1.3 and `HandshakeFailure` on 1.2 when none was sent.
fn from_alert(alert: AlertDescription) -> TlsError {
    match alert {
        AlertDescription::CertificateRequired
        | AlertDescription::BadCertificate
        | AlertDescription::UnsupportedCertificate
        | AlertDescription::CertificateRevoked
        | AlertDescription::CertificateExpired
        | AlertDescription::CertificateUnknown
        | AlertDescription::UnknownCA
        | AlertDescription::AccessDenied => TlsError::ClientCertificateRejected(format!("alert {alert:?}")),
        other => TlsError::Handshake(format!("the server sent alert {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_failures_are_final_handshake_failures_are_not() {
        let untrusted = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, untrusted);
        let err = crate::Error::from(io);
        assert!(
            matches!(err, crate::Error::Tls(TlsError::UntrustedCertificate)),
            "{err:?}"
        );
        assert!(!err.is_retryable());

        let required = rustls::Error::AlertReceived(AlertDescription::CertificateRequired);
        assert!(matches!(
            TlsError::from(&required),
            TlsError::ClientCertificateRejected(_)
        ));

        let other = TlsError::from(&rustls::Error::AlertReceived(AlertDescription::InternalError));
        assert!(other.is_retryable());

        let plain = crate::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(plain, crate::Error::Io(_)));
    }
}
