use thiserror::Error;

use super::reason::ReasonCode;

/// Why bytes from the wire are not a valid MQTT packet.
///
/// Every variant is something the specification calls a Malformed Packet or
/// a Protocol Error; the connection answers it by closing (with DISCONNECT
/// 0x81 or 0x82 on MQTT 5) and never by panicking.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A Variable Byte Integer longer than four bytes or not in its shortest form.
    #[error("malformed variable byte integer")]
    MalformedVarInt,
    /// The declared Remaining Length is above what the receiver accepts.
    #[error("packet of {size} bytes exceeds the maximum of {max}")]
    PacketTooLarge {
        /// The packet's full size as declared.
        size: usize,
        /// The receiver's maximum.
        max: usize,
    },
    /// Packet type 0 or 15 (15 is AUTH in MQTT 5 only).
    #[error("unknown packet type {0}")]
    UnknownPacketType(u8),
    /// Fixed header flags that must hold a fixed value do not.
    #[error("reserved flag bits of {packet} are set to {flags:#06b}")]
    ReservedFlags {
        /// The packet's name.
        packet: &'static str,
        /// The flags found.
        flags: u8,
    },
    /// QoS 3.
    #[error("invalid QoS {0}")]
    InvalidQoS(u8),
    /// A string that is not well-formed UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A string containing U+0000.
    #[error("string contains U+0000")]
    NullCharacter,
    /// A packet identifier of 0 where one is required.
    #[error("packet identifier 0 in {0}")]
    ZeroPacketId(&'static str),
    /// The body ended before a field it must hold, or held bytes after the last field.
    #[error("length of {0} disagrees with its contents")]
    LengthMismatch(&'static str),
    /// An unknown property identifier.
    #[error("unknown property identifier {0:#04x}")]
    UnknownProperty(u8),
    /// A property that may appear once appeared twice.
    #[error("property {0:#04x} appears more than once")]
    DuplicateProperty(u8),
    /// A property that is not allowed on this packet.
    #[error("property {property:#04x} is not allowed in {packet}")]
    PropertyNotAllowed {
        /// The property identifier.
        property: u8,
        /// The packet's name.
        packet: &'static str,
    },
    /// A property value outside its allowed range (for example Receive Maximum 0).
    #[error("property {0:#04x} has an invalid value")]
    InvalidPropertyValue(u8),
    /// A reason code that is not defined for this packet.
    #[error("reason code {code:#04x} is not valid in {packet}")]
    InvalidReasonCode {
        /// The byte found.
        code: u8,
        /// The packet's name.
        packet: &'static str,
    },
    /// A PUBLISH topic name with `+` or `#`.
    #[error("wildcard in a PUBLISH topic name")]
    WildcardInTopic,
    /// A topic filter that breaks the wildcard rules.
    #[error("invalid topic filter")]
    InvalidTopicFilter,
    /// A SUBSCRIBE or UNSUBSCRIBE without any topic filter.
    #[error("{0} without topic filters")]
    NoTopicFilters(&'static str),
    /// An invalid CONNECT: protocol name or level, flags, will fields.
    #[error("invalid CONNECT: {0}")]
    InvalidConnect(&'static str),
    /// An empty Topic Name without a Topic Alias standing in for it.
    #[error("empty topic name without a Topic Alias")]
    EmptyTopic,
    /// Reserved bits outside the fixed header (CONNACK flags, subscription
    /// options) that are not 0.
    #[error("reserved bits of the {field} are set to {value:#010b}")]
    ReservedBits {
        /// The field holding them.
        field: &'static str,
        /// The whole byte found.
        value: u8,
    },
    /// Subscription options that contradict the specification (Retain
    /// Handling 3, No Local on a Shared Subscription).
    #[error("invalid subscription options: {0}")]
    InvalidSubscriptionOptions(&'static str),
    /// A packet that does not exist in the protocol version spoken (AUTH in 3.1.1).
    #[error("{0} does not exist in MQTT 3.1.1")]
    NotInVersion(&'static str),
}

impl DecodeError {
    /// The reason code a DISCONNECT gives for it (MQTT 5): a packet over
    /// our Maximum Packet Size is 0x95, anything else malformed 0x81.
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            DecodeError::PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            _ => ReasonCode::MalformedPacket,
        }
    }
}

/// Why a packet cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The packet is larger than MQTT's 268,435,455-byte Remaining Length allows.
    #[error("packet body of {0} bytes exceeds the protocol limit")]
    PacketTooLarge(usize),
    /// A string or binary field longer than 65,535 bytes.
    #[error("field of {0} bytes exceeds 65,535")]
    FieldTooLong(usize),
    /// A packet whose fields contradict each other (QoS 0 with a packet id,
    /// QoS 1 without one, a wildcard in a topic name, an empty SUBSCRIBE, ...).
    #[error("invalid {packet}: {reason}")]
    Invalid {
        /// The packet's name.
        packet: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A packet or property that does not exist in the protocol version spoken.
    #[error("{0} does not exist in MQTT 3.1.1")]
    NotInVersion(&'static str),
    /// A string holding U+0000, which MQTT forbids in every UTF-8 Encoded
    /// String [MQTT-1.5.4-2]; names the field (the Client Identifier, a
    /// User Property, the Content Type, ...).
    #[error("the {0} contains U+0000")]
    NullCharacter(&'static str),
}
