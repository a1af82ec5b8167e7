use bytestring::ByteString;

use super::{PacketId, ReasonCode, UserProperties};

/// The properties every acknowledgement carries in MQTT 5: a Reason String
/// and User Properties (PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct AckProperties {
    pub reason_string: Option<ByteString>,
    pub user_properties: UserProperties,
}

macro_rules! ack_packet {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            /// Packet Identifier of the flow this acknowledges.
            pub packet_id: PacketId,
            /// Reason Code (always Success in MQTT 3.1.1).
            pub reason_code: ReasonCode,
            /// Properties (MQTT 5).
            pub properties: AckProperties,
        }

        impl $name {
            /// A successful acknowledgement without properties.
            pub fn new(packet_id: PacketId) -> Self {
                $name { packet_id, reason_code: ReasonCode::Success, properties: AckProperties::default() }
            }
        }
    };
}

ack_packet!(
    /// PUBACK: acknowledges a QoS 1 PUBLISH.
    PubAck
);
ack_packet!(
    /// PUBREC: the receiver has a QoS 2 PUBLISH.
    PubRec
);
ack_packet!(
    /// PUBREL: the sender releases a QoS 2 PUBLISH.
    PubRel
);
ack_packet!(
    /// PUBCOMP: the QoS 2 handshake is complete.
    PubComp
);
