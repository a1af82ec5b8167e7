//! [`ProtocolError`]: what counts as the server breaking the protocol.

use crate::packet::ReasonCode;

/// A protocol violation by the server: the shell must close the connection.
///
/// On MQTT 5 the protocol has already queued a DISCONNECT carrying `reason`
/// for `poll_transmit` before returning this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protocol error ({reason}): {message}")]
pub struct ProtocolError {
    /// The reason code sent in the DISCONNECT.
    pub reason: ReasonCode,
    /// What the server did wrong.
    pub message: &'static str,
}

impl ProtocolError {
    pub(crate) fn new(reason: ReasonCode, message: &'static str) -> Self {
        ProtocolError { reason, message }
    }

    /// The generic Protocol Error (0x82).
    pub(crate) fn violation(message: &'static str) -> Self {
        ProtocolError::new(ReasonCode::ProtocolError, message)
    }
}
