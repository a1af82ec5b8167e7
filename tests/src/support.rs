//! What most integration tests share: the protocol versions they run for,
//! how long they wait for an event, and a client's options.

use std::time::Duration;

use mqttx::{Backoff, ConnectOptions, ProtocolVersion, QoS};

/// Every test that can runs for both protocol versions.
pub const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V311, ProtocolVersion::V5];

/// The deadline for an event a test waits on.
pub const WAIT: Duration = Duration::from_secs(10);

/// A short name for a version, for client ids and topics.
pub fn tag(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::V311 => "v311",
        ProtocolVersion::V5 => "v5",
    }
}

/// Reconnect delays short enough that broker restarts do not slow tests.
pub fn fast_backoff() -> Backoff {
    Backoff::default()
        .initial(Duration::from_millis(100))
        .max(Duration::from_millis(500))
}

/// A client of the broker on `127.0.0.1:port`, speaking `version`, whose
/// client id is `client_id` with the version's tag appended (so the two
/// versions' clients of one test never take each other's session).
pub fn options(port: u16, client_id: &str, version: ProtocolVersion) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", format!("{client_id}-{}", tag(version)))
        .port(port)
        .protocol_version(version)
        .backoff(fast_backoff())
}

/// A client of the loss tests (the test itself and the `loss_publisher`
/// process it kills): MQTT 5, a persistent session, a wide window, and
/// reconnects quick enough to ride out a cut every few hundred milliseconds.
pub fn loss_options(port: u16, client_id: &str) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", client_id)
        .port(port)
        .protocol_version(ProtocolVersion::V5)
        .clean_session(false)
        .session_expiry_interval(600)
        .max_inflight(500)
        .connect_timeout(Duration::from_secs(20))
        .backoff(
            Backoff::default()
                .initial(Duration::from_millis(10))
                .max(Duration::from_millis(200)),
        )
}

/// The two topics of a loss test: one at QoS 1, one at QoS 2.
pub fn loss_topics(prefix: &str) -> [(String, QoS); 2] {
    [
        (format!("{prefix}/q1"), QoS::AtLeastOnce),
        (format!("{prefix}/q2"), QoS::ExactlyOnce),
    ]
}
