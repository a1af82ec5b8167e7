//! Enhanced authentication (MQTT 5): what opens an exchange and what
//! checks the server's last word.
//!
//! An exchange has three parts. The client opens it, in CONNECT or in the
//! AUTH of a re-authentication, with an Authentication Method and its
//! first data. The server answers with challenges (AUTH, Continue
//! authentication) until it is satisfied, and ends with CONNACK Success or
//! AUTH Success, which may carry data the client must check (SCRAM's server
//! signature proves the server knows the password too).
//!
//! An [`Authenticator`], set with
//! [`ConnectOptions::authenticator`](crate::ConnectOptions::authenticator),
//! does the first and the last part, inside the state machine: fresh data
//! for every CONNECT, and a check of the server's last word before the
//! connection counts as up. The handler's `#[auth]` method answers the
//! challenges in between, so that answer may take async work.
//!
//! ```
//! use mqttx::auth::{AuthError, Authenticator};
//! use mqttx::Bytes;
//!
//! /// A token mechanism: one message out, nothing to check.
//! struct Token(&'static str);
//!
//! impl Authenticator for Token {
//!     fn method(&self) -> &str {
//!         "TOKEN"
//!     }
//!     fn start(&self) -> Option<Bytes> {
//!         Some(Bytes::from_static(self.0.as_bytes()))
//!     }
//!     fn finish(&self, _data: Option<&[u8]>) -> Result<(), AuthError> {
//!         Ok(())
//!     }
//! }
//!
//! let options = mqttx::ConnectOptions::new("localhost", "sensor-1").authenticator(Token("s3cret"));
//! # let _ = options;
//! ```

#[cfg(feature = "scram")]
mod scram;

#[cfg(feature = "scram")]
pub use scram::ScramSha256;

use bytes::Bytes;

/// Opens an enhanced-authentication exchange and checks how it ends.
///
/// Called on the connection's thread, inside the state machine: keep each
/// call short and never block. Answers to the server's challenges in
/// between come from the handler's `#[auth]` method.
pub trait Authenticator: Send + Sync + 'static {
    /// The Authentication Method, such as `"SCRAM-SHA-256"`.
    fn method(&self) -> &str;

    /// The Authentication Data that opens an exchange: called once for
    /// every CONNECT and every re-authentication, so each can start fresh
    /// (a new nonce).
    fn start(&self) -> Option<Bytes>;

    /// The server's last word: the Authentication Data of CONNACK Success,
    /// or of AUTH Success after a re-authentication. `Err` refuses the
    /// server: the client sends DISCONNECT and, on a connect, gives up.
    fn finish(&self, data: Option<&[u8]>) -> Result<(), AuthError>;
}

impl std::fmt::Debug for dyn Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Authenticator").field(&self.method()).finish()
    }
}

/// A handler's answer to an AUTH packet (its `#[auth]` method's value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthResponse {
    /// Send AUTH (Continue authentication) with this Authentication Data.
    Continue(Bytes),
    /// Nothing more to send: wait for the server's CONNACK or AUTH Success.
    Done,
}

/// Why the client refused the server's end of an exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub String);

impl AuthError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        AuthError(message.into())
    }
}
