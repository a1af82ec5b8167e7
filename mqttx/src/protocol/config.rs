//! What the session state machine is told up front.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::auth::Authenticator;
use crate::packet::{ByteString, ConnectProperties, LastWill, ProtocolVersion};

/// Everything the state machine needs to know up front.
///
/// [`Protocol::config`](super::Protocol::config) returns it with the values
/// the server negotiated applied: the Assigned Client Identifier replaces
/// `client_id` (so a reconnect resumes the same session) and Server Keep
/// Alive replaces `keep_alive`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The protocol version spoken; MQTT 5 by default.
    pub version: ProtocolVersion,
    /// Whether to speak MQTT 3.1.1 when a server refuses MQTT 5, and how.
    /// `None` (the default) keeps to `version`.
    pub fallback: Option<Fallback>,
    /// Client Identifier. May be empty: the server then assigns one.
    pub client_id: ByteString,
    /// Clean Session (3.1.1) / Clean Start (5) for the first connect. Later
    /// connects resume the session instead when there is one to resume:
    /// on MQTT 5 when the Session Expiry Interval is above 0, on 3.1.1 when
    /// this is false.
    pub clean_start: bool,
    /// Keep Alive in seconds; 0 turns keep-alive off.
    pub keep_alive: u16,
    /// User Name.
    pub username: Option<ByteString>,
    /// Password.
    pub password: Option<Bytes>,
    /// The Will Message.
    pub will: Option<LastWill>,
    /// Our CONNECT properties (MQTT 5 only). `receive_maximum` (65,535 when
    /// absent) bounds incoming QoS 2 flows, `topic_alias_maximum` (0 when
    /// absent) bounds incoming topic aliases.
    pub connect_properties: ConnectProperties,
    /// Our outgoing window of QoS 1/2 publishes; the server's Receive
    /// Maximum may lower it. Default 100; 0 counts as 1.
    pub max_inflight: u16,
    /// Commands that may wait behind the window or while offline. Default 10,000.
    pub max_queued: usize,
    /// MQTT 3.1.1 only: resend an unacknowledged PUBLISH/PUBREL after this
    /// long while connected (MQTT 5 forbids it). Default 5 s.
    pub retry_interval: Duration,
    /// How long after `connect()` the CONNACK must arrive. Default 10 s.
    pub connect_timeout: Duration,
    /// How long after a PINGREQ the PINGRESP must arrive; `None` means one
    /// keep-alive interval.
    pub ping_timeout: Option<Duration>,
    /// Opens enhanced authentication in every CONNECT (replacing the
    /// Authentication Method and Data of `connect_properties`) and checks
    /// the server's last word. MQTT 5 only.
    pub authenticator: Option<Arc<dyn Authenticator>>,
}

/// Falling back to MQTT 3.1.1 for a server that does not speak MQTT 5.
///
/// The state machine falls back when, before it ever connected, the server
/// answers an MQTT 5 CONNECT with 3.1.1's "unacceptable protocol version"
/// or closes the connection without a CONNACK. If the 3.1.1 attempt gets
/// no CONNACK either, the next attempt speaks MQTT 5 again. Once connected,
/// the version that worked is kept for every reconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback {
    /// The outgoing window of QoS 1/2 publishes on 3.1.1, which has no
    /// Receive Maximum to tell us the server's.
    pub max_inflight: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: ProtocolVersion::V5,
            fallback: None,
            client_id: ByteString::new(),
            clean_start: true,
            keep_alive: 60,
            username: None,
            password: None,
            will: None,
            connect_properties: ConnectProperties::default(),
            max_inflight: 100,
            max_queued: 10_000,
            retry_interval: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            ping_timeout: None,
            authenticator: None,
        }
    }
}

impl Config {
    /// The defaults with the given Client Identifier.
    pub fn new(client_id: impl Into<ByteString>) -> Self {
        Config {
            client_id: client_id.into(),
            ..Config::default()
        }
    }

    /// Our Receive Maximum: how many incoming QoS 2 flows may await PUBREL.
    pub(super) fn receive_maximum(&self) -> u16 {
        match self.version {
            ProtocolVersion::V5 => self.connect_properties.receive_maximum.unwrap_or(u16::MAX),
            ProtocolVersion::V311 => u16::MAX,
        }
    }

    /// Our Topic Alias Maximum: the highest alias the server may use.
    pub(super) fn topic_alias_maximum(&self) -> u16 {
        match self.version {
            ProtocolVersion::V5 => self.connect_properties.topic_alias_maximum.unwrap_or(0),
            ProtocolVersion::V311 => 0,
        }
    }
}
