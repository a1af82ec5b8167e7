use bytestring::ByteString;

use super::{ReasonCode, UserProperties};

/// DISCONNECT. In MQTT 3.1.1 it has no body and the reason is always
/// Normal disconnection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disconnect {
    /// Disconnect Reason Code.
    pub reason_code: ReasonCode,
    /// DISCONNECT properties (MQTT 5).
    pub properties: DisconnectProperties,
}

/// DISCONNECT properties (MQTT 5, section 3.14.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct DisconnectProperties {
    pub session_expiry_interval: Option<u32>,
    pub reason_string: Option<ByteString>,
    pub user_properties: UserProperties,
    pub server_reference: Option<ByteString>,
}
