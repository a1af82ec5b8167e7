//! What an acknowledgement from the server means for the flow it names.

use crate::packet::Packet;

/// What a PUBACK means for the flow it acknowledges.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::protocol) enum PubAckOutcome {
    /// No flight has this id.
    Unknown,
    /// A QoS 1 flow is complete.
    Completes,
    /// The PUBLISH was QoS 2: the server took it at QoS 1 (RabbitMQ 3.10
    /// does so), so exactly-once does not hold for it. Resending cannot
    /// change that: the publish fails, and the connection closes for the
    /// protocol violation.
    QoS2Downgraded,
}

/// What a PUBREC means for the flow it acknowledges.
#[derive(Debug)]
pub(in crate::protocol) enum PubRecOutcome {
    /// No flight has this id: the server still needs a PUBREL to finish
    /// its side, unless the PUBREC carried a failure code.
    Unknown,
    /// Released already (our PUBREL crossed a resent PUBREC): write this again.
    Again(Packet),
    /// A failure code: the flow is over and is never resent [MQTT-4.4.0-2].
    Refused,
    /// The flow moved on to PUBREL: record that `seq` is released, then
    /// write the PUBREL.
    Released {
        /// The publish's `seq`.
        seq: u64,
    },
}
