use bytestring::ByteString;

use super::lazy_box::empty_properties;
use super::{LazyBox, ReasonCode, UserProperties};

/// DISCONNECT. In MQTT 3.1.1 it has no body and the reason is always
/// Normal disconnection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disconnect {
    /// Disconnect Reason Code.
    pub reason_code: ReasonCode,
    /// DISCONNECT properties (MQTT 5); allocated only when one is set.
    pub properties: LazyBox<DisconnectProperties>,
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

empty_properties! {
    DisconnectProperties {
        session_expiry_interval: None,
        reason_string: None,
        user_properties: Vec::new(),
        server_reference: None,
    }
}

mod codec {
    use super::{Disconnect, DisconnectProperties};
    use crate::packet::property::{decode as de, encode as en, id};
    use crate::packet::reader::Reader;
    use crate::packet::reason::ReasonSet;
    use crate::packet::writer::{Sink, WriteProperties};
    use crate::packet::{DecodeError, EncodeError, ProtocolVersion, ReasonCode};

    const NAME: &str = "DISCONNECT";

    impl Disconnect {
        /// MQTT 5 lets the sender stop early: an empty body means Normal
        /// disconnection, a lone reason code means no properties.
        pub(crate) fn decode(r: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
            let mut disconnect = Disconnect::default();
            if version == ProtocolVersion::V311 || r.is_empty() {
                return Ok(disconnect);
            }
            disconnect.reason_code = ReasonSet::Disconnect.decode(r.u8()?, NAME)?;
            if r.is_empty() {
                return Ok(disconnect);
            }
            let p: &mut DisconnectProperties = &mut disconnect.properties;
            de::properties(r, |property, r| match property {
                id::SESSION_EXPIRY_INTERVAL => de::once(&mut p.session_expiry_interval, property, r.u32()?),
                id::REASON_STRING => de::once(&mut p.reason_string, property, r.string()?),
                id::USER_PROPERTY => de::user_property(&mut p.user_properties, r),
                id::SERVER_REFERENCE => de::once(&mut p.server_reference, property, r.string()?),
                _ => Ok(false),
            })?;
            Ok(disconnect)
        }

        pub(crate) fn write<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
            let empty = *self.properties == DisconnectProperties::default();
            match version {
                ProtocolVersion::V311 => {
                    if self.reason_code != ReasonCode::NORMAL_DISCONNECTION {
                        s.fail(EncodeError::NotInVersion("a DISCONNECT reason code"));
                    }
                }
                ProtocolVersion::V5 => {
                    if S::VALIDATES {
                        ReasonSet::Disconnect.check(s, self.reason_code, NAME);
                    }
                    if !empty || self.reason_code != ReasonCode::NORMAL_DISCONNECTION {
                        s.u8(self.reason_code.as_u8());
                    }
                    if !empty {
                        s.properties(&self.properties);
                    }
                }
            }
        }
    }

    impl WriteProperties for DisconnectProperties {
        fn write_to<S: Sink>(&self, s: &mut S) {
            en::u32(s, id::SESSION_EXPIRY_INTERVAL, self.session_expiry_interval);
            en::string(s, id::REASON_STRING, self.reason_string.as_ref());
            en::user_properties(s, &self.user_properties);
            en::string(s, id::SERVER_REFERENCE, self.server_reference.as_ref());
        }
    }
}
