//! What the state machine tells the I/O shell.

use crate::packet::{
    AckProperties, Auth, ConnAck, Disconnect, PacketId, Publish, ReasonCode, SubAck, UnsubAck,
};

use crate::auth::AuthError;
use crate::error::Error;

/// Packet-level outcomes handed to the I/O shell.
///
/// `T` is an opaque tag the caller attaches to each command (the connection
/// uses its reply channel); the protocol hands it back exactly once, in the
/// command's `*Done` event.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<T> {
    /// CONNACK with Success. Server-negotiated values are already applied.
    Connected {
        /// The CONNACK as received.
        connack: ConnAck,
        /// Whether the server resumed the session.
        session_present: bool,
    },
    /// CONNACK with a failure code; see [`Event::retryable`].
    ConnectRejected(ConnAck),
    /// The server did not take MQTT 5 (it refused the version, or closed
    /// before any CONNACK) and [`Config::fallback`](super::Config::fallback)
    /// allows 3.1.1: the next CONNECT speaks 3.1.1. The shell closes the
    /// transport, if it has not, and connects again at once: this was not
    /// a failure to back off from.
    VersionFallback,
    /// An application message to deliver, its topic already resolved from
    /// any alias. A QoS 2 message is delivered once: a duplicate PUBLISH whose
    /// packet id still awaits PUBREL is acknowledged but not delivered again.
    Message(Publish),
    /// A publish finished: QoS 0 once handed out by `poll_transmit`, QoS 1
    /// on PUBACK, QoS 2 on PUBCOMP. `Ok` carries the PUBACK/PUBREC reason
    /// code (Success or No matching subscribers).
    PublishDone {
        /// The tag given to `publish`.
        tag: T,
        /// The outcome.
        result: Result<ReasonCode, Error>,
    },
    /// SUBACK arrived (`Ok` even with failure codes in it: the shell
    /// decides), or the subscribe was refused locally or closed.
    SubscribeDone {
        /// The tag given to `subscribe`.
        tag: T,
        /// The outcome.
        result: Result<SubAck, Error>,
    },
    /// UNSUBACK arrived, or the unsubscribe was refused locally or closed.
    UnsubscribeDone {
        /// The tag given to `unsubscribe`.
        tag: T,
        /// The outcome.
        result: Result<UnsubAck, Error>,
    },
    /// A failure code in PUBACK/PUBREC (MQTT 5), reported in addition to
    /// the `PublishDone` error so that a handler sees it even for publishes
    /// nobody awaits.
    PublishFailed {
        /// The packet id of the rejected publish.
        packet_id: PacketId,
        /// The failure code.
        reason_code: ReasonCode,
        /// The acknowledgement's properties (reason string, user properties).
        properties: AckProperties,
    },
    /// The server sent DISCONNECT (MQTT 5). The shell closes the transport
    /// and calls `connection_lost()`.
    ServerDisconnect(Disconnect),
    /// The server sent AUTH: a challenge (Continue authentication) to
    /// answer with `auth()`, a request to re-authenticate, or the Success
    /// that ends a re-authentication (already checked by the
    /// authenticator, when there is one).
    AuthChallenge(Auth),
    /// The server's end of enhanced authentication did not verify (see
    /// [`Authenticator::finish`](crate::auth::Authenticator::finish)): a
    /// DISCONNECT is queued. The shell writes it and closes the transport;
    /// on a connect, retrying cannot help.
    AuthFailed(AuthError),
    /// A re-authentication started by `reauthenticate` ended.
    ReauthenticateDone {
        /// The tag given to `reauthenticate`.
        tag: T,
        /// `Ok` once the server's AUTH Success is accepted.
        result: Result<(), Error>,
    },
    /// The connection is dead: CONNACK or PINGRESP overdue. The shell closes
    /// the transport and calls `connection_lost()`.
    Timeout(TimeoutKind),
}

/// Which answer from the server did not arrive in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// No CONNACK within `connect_timeout`.
    ConnAck,
    /// No PINGRESP within the ping timeout.
    PingResp,
}

impl<T> Event<T> {
    /// For [`Event::ConnectRejected`]: whether backing off and connecting
    /// again can help. `None` for every other event.
    pub fn retryable(&self) -> Option<bool> {
        match self {
            Event::ConnectRejected(connack) => Some(connack.reason_code.retryable()),
            _ => None,
        }
    }
}
