use bytestring::ByteString;

use super::{AckProperties, PacketId, ReasonCode, UserProperties};

/// UNSUBSCRIBE: one or more topic filters to remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// Topic filters; never empty on the wire.
    pub filters: Vec<ByteString>,
    /// UNSUBSCRIBE properties (MQTT 5).
    pub properties: UnsubscribeProperties,
}

/// UNSUBSCRIBE properties (MQTT 5, section 3.10.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct UnsubscribeProperties {
    pub user_properties: UserProperties,
}

/// UNSUBACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    /// Packet Identifier of the UNSUBSCRIBE.
    pub packet_id: PacketId,
    /// One reason code per filter (MQTT 5); empty in MQTT 3.1.1.
    pub reason_codes: Vec<ReasonCode>,
    /// UNSUBACK properties (MQTT 5).
    pub properties: AckProperties,
}
