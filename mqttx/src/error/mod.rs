//! The one error type every fallible public call returns.

mod protocol;
mod store;
mod tls;

pub use protocol::ProtocolError;
pub use store::StoreError;
pub use tls::TlsError;

use std::sync::Arc;

use bytestring::ByteString;
use thiserror::Error;

use crate::packet::{DecodeError, EncodeError, QoS, ReasonCode};

/// Everything that can go wrong between a call on [`Client`](crate::Client)
/// and the broker.
///
/// ```
/// use mqttx::{Error, ReasonCode};
/// let err = Error::ConnectRejected { reason_code: ReasonCode::NotAuthorized, reason_string: None, server_reference: None };
/// assert!(!err.is_retryable());
/// assert!(err.to_string().contains("NotAuthorized"));
/// ```
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed (connection refused, reset, DNS, ...).
    #[error("transport error: {0}")]
    Io(Arc<std::io::Error>),
    /// TLS failed: the server's certificate is not trusted or not for this
    /// name, the server refused our certificate, or the TLS settings are
    /// unusable. See [`TlsError`] for which, and for what is retried.
    #[error("TLS: {0}")]
    Tls(TlsError),
    /// The HTTP proxy refused to open the tunnel (`407` means it wants
    /// other credentials, and is not retried).
    #[error("the HTTP proxy refused the tunnel: {status} {reason}")]
    ProxyRefused {
        /// The HTTP status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// The WebSocket handshake failed (for example: a wrong `ws_path`, or
    /// a server that does not accept the `mqtt` subprotocol).
    #[error("WebSocket handshake failed: {0}")]
    WebSocket(String),
    /// The server refused the connection with this CONNACK reason code.
    #[error(
        "connection refused by the server: {reason_code}{}{}",
        reason_string.as_ref().map(|s| format!(" ({s})")).unwrap_or_default(),
        server_reference.as_ref().map(|r| format!("; use server {r}")).unwrap_or_default()
    )]
    ConnectRejected {
        /// The CONNACK reason code (MQTT 3.1.1 return codes are mapped).
        reason_code: ReasonCode,
        /// The server's Reason String, if it sent one.
        reason_string: Option<ByteString>,
        /// The server's Server Reference (another server to use), if any.
        server_reference: Option<ByteString>,
    },
    /// No successful CONNACK within the connect timeout.
    #[error("no connection within the connect timeout{}", last.as_ref().map(|e| format!("; last attempt: {e}")).unwrap_or_default())]
    ConnectTimeout {
        /// Why the last attempt failed (timed out, if the deadline cut it
        /// short); `None` if none had.
        last: Option<Box<Error>>,
    },
    /// The packet is larger than the server's Maximum Packet Size; nothing was sent.
    #[error("packet of {size} bytes exceeds the server's maximum packet size of {max}")]
    PacketTooLarge {
        /// Encoded size of the packet.
        size: usize,
        /// The server's limit.
        max: usize,
    },
    /// More publishes are waiting than `max_queued` allows.
    #[error("the publish queue is full")]
    QueueFull,
    /// A QoS 0 publish while no connection is up (QoS 1/2 wait instead).
    #[error("not connected")]
    NotConnected,
    /// The server answered a PUBLISH with a failure code in PUBACK or PUBREC.
    #[error("publish rejected by the server: {0}")]
    PublishRejected(ReasonCode),
    /// The server refused a subscription.
    #[error("subscription to {filter:?} refused by the server: {reason_code}")]
    SubscribeRejected {
        /// The refused filter.
        filter: ByteString,
        /// SUBACK reason code.
        reason_code: ReasonCode,
    },
    /// The server refused to remove a subscription.
    #[error("unsubscribe from {filter:?} refused by the server: {reason_code}")]
    UnsubscribeRejected {
        /// The filter.
        filter: ByteString,
        /// UNSUBACK reason code.
        reason_code: ReasonCode,
    },
    /// The publish asks for more than the server's Maximum QoS.
    #[error("QoS {requested:?} is above the server's maximum of {maximum:?}")]
    QoSNotSupported {
        /// QoS asked for.
        requested: QoS,
        /// The server's maximum.
        maximum: QoS,
    },
    /// The server closed the connection each of the `attempts` times this
    /// publish was sent, before answering anything else: it will not take
    /// the message (NATS closes on a QoS 2 PUBLISH; a 3.1.1 broker on one
    /// over its size limit). It was given up so that the queue behind it
    /// goes on.
    #[error("the server closed the connection each of the {attempts} times this message was sent; it was given up")]
    PublishAbandoned {
        /// How many times it was sent.
        attempts: u8,
    },
    /// The server does not support retained messages.
    #[error("the server does not support retained messages")]
    RetainNotSupported,
    /// A topic name or filter that MQTT does not allow.
    #[error("invalid topic or topic filter")]
    InvalidTopic,
    /// The server sent something that is not valid MQTT.
    #[error("malformed packet from the server: {0}")]
    Decode(#[from] DecodeError),
    /// A packet could not be encoded.
    #[error("cannot encode packet: {0}")]
    Encode(#[from] EncodeError),
    /// The server broke the protocol.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// No response came to a [`Client::call`](crate::Client::call) within
    /// its timeout.
    #[error("no response within {after:?}")]
    Timeout {
        /// The call's timeout.
        after: std::time::Duration,
    },
    /// The connection was closed (by `disconnect`, or it stopped for good)
    /// before the request completed.
    #[error("the connection is closed")]
    Closed,
    /// Called outside a running actix System.
    #[error(
        "no actix System is running: start one with #[actix::main], #[actix_web::main] or System::new()"
    )]
    NoSystem,
    /// The options are inconsistent, or ask for something this build cannot do.
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// The session store failed to load or record the session. A publish
    /// that fails with it was not sent.
    #[error("session store: {0}")]
    Store(#[from] StoreError),
    /// A second supervised connection with a client id already registered
    /// in the [`ClientRegistry`](crate::ClientRegistry).
    #[error("a supervised connection with client id {client_id:?} is already registered")]
    ClientIdInUse {
        /// The client id.
        client_id: String,
    },
    /// The server's end of enhanced authentication did not verify (a SCRAM
    /// server signature that does not match, say): the client refused the
    /// server and sent DISCONNECT. Not retried on a connect.
    #[error("the server failed authentication: {0}")]
    Auth(crate::auth::AuthError),
    /// A connection URL that cannot be parsed.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Error {
    /// Whether reconnecting can fix this error. A CONNACK refusal is final
    /// when [`ReasonCode::retryable`] says so; so are invalid options,
    /// certificate failures (see [`TlsError`]) and a proxy's `407`.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::ConnectRejected { reason_code, .. } => reason_code.retryable(),
            Error::InvalidOptions(_) | Error::InvalidUrl { .. } | Error::NoSystem | Error::Auth(_) => false,
            Error::Tls(tls) => tls.is_retryable(),
            Error::ProxyRefused { status, .. } => *status != 407,
            _ => true,
        }
    }
}

/// Two errors are equal when they are the same variant with the same
/// fields. `std::io::Error` has no equality of its own: an I/O error (also
/// inside a store error) equals another with the same kind and message.
/// Comparing is for tests and assertions, not a hot path: it formats both.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && format!("{self:?}") == format!("{other:?}")
    }
}

impl Eq for Error {}

impl From<std::io::Error> for Error {
    /// An I/O error, unless it carries a TLS failure (a certificate the
    /// server refused shows up on a read, after the handshake).
    fn from(err: std::io::Error) -> Self {
        match TlsError::carried_by(&err) {
            Some(tls) => Error::Tls(tls),
            None => Error::Io(Arc::new(err)),
        }
    }
}
