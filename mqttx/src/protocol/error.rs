//! Why a command failed, and what counts as the server breaking the protocol.

use crate::packet::{EncodeError, QoS, ReasonCode};

/// Why a command (publish, subscribe, unsubscribe) did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The encoded packet is larger than the server's Maximum Packet Size;
    /// nothing was written.
    #[error("packet of {size} bytes exceeds the server's maximum of {max}")]
    PacketTooLarge {
        /// The encoded size.
        size: usize,
        /// The server's Maximum Packet Size.
        max: usize,
    },
    /// More than `max_queued` commands are waiting.
    #[error("too many commands are waiting to be sent")]
    QueueFull,
    /// A QoS 0 publish while disconnected (QoS 1/2 wait in the queue instead).
    #[error("not connected")]
    NotConnected,
    /// The server answered PUBACK/PUBREC with this failure code.
    #[error("rejected by the server: {0}")]
    Rejected(ReasonCode),
    /// The QoS is above the server's Maximum QoS.
    #[error("QoS {requested:?} is above the server's maximum of {maximum:?}")]
    QoSNotSupported {
        /// The QoS of the publish.
        requested: QoS,
        /// The server's Maximum QoS.
        maximum: QoS,
    },
    /// A retained publish while the server says Retain Available = 0.
    #[error("the server does not support retained messages")]
    RetainNotSupported,
    /// An empty topic name, a wildcard in a topic name, or a malformed filter.
    #[error("invalid topic name or filter")]
    InvalidTopic,
    /// The packet cannot be encoded.
    #[error("cannot encode: {0}")]
    Encode(EncodeError),
    /// The session was shut down (`disconnect()`) before the command completed.
    #[error("the session was closed")]
    Closed,
}

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
    pub(super) fn new(reason: ReasonCode, message: &'static str) -> Self {
        ProtocolError { reason, message }
    }

    /// The generic Protocol Error (0x82).
    pub(super) fn violation(message: &'static str) -> Self {
        ProtocolError::new(ReasonCode::ProtocolError, message)
    }
}
