use bytes::Bytes;
use bytestring::ByteString;

use super::lazy_box::empty_properties;
use super::{LazyBox, QoS, ReasonCode, UserProperties};

/// CONNACK: the server's answer to CONNECT.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnAck {
    /// Session Present.
    pub session_present: bool,
    /// Connect Reason Code (MQTT 3.1.1 return codes are mapped, see [`ReasonCode`]).
    pub reason_code: ReasonCode,
    /// CONNACK properties (MQTT 5); allocated only when one is set.
    pub properties: LazyBox<ConnAckProperties>,
}

/// CONNACK properties (MQTT 5, section 3.2.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct ConnAckProperties {
    pub session_expiry_interval: Option<u32>,
    pub receive_maximum: Option<u16>,
    pub maximum_qos: Option<QoS>,
    pub retain_available: Option<bool>,
    pub maximum_packet_size: Option<u32>,
    pub assigned_client_identifier: Option<ByteString>,
    pub topic_alias_maximum: Option<u16>,
    pub reason_string: Option<ByteString>,
    pub user_properties: UserProperties,
    pub wildcard_subscription_available: Option<bool>,
    pub subscription_identifiers_available: Option<bool>,
    pub shared_subscription_available: Option<bool>,
    pub server_keep_alive: Option<u16>,
    pub response_information: Option<ByteString>,
    pub server_reference: Option<ByteString>,
    pub authentication_method: Option<ByteString>,
    pub authentication_data: Option<Bytes>,
}

empty_properties! {
    ConnAckProperties {
        session_expiry_interval: None,
        receive_maximum: None,
        maximum_qos: None,
        retain_available: None,
        maximum_packet_size: None,
        assigned_client_identifier: None,
        topic_alias_maximum: None,
        reason_string: None,
        user_properties: Vec::new(),
        wildcard_subscription_available: None,
        subscription_identifiers_available: None,
        shared_subscription_available: None,
        server_keep_alive: None,
        response_information: None,
        server_reference: None,
        authentication_method: None,
        authentication_data: None,
    }
}

mod codec {
    use super::{ConnAck, ConnAckProperties};
    use crate::packet::property::{decode as de, encode as en, id};
    use crate::packet::reader::Reader;
    use crate::packet::reason::ReasonSet;
    use crate::packet::writer::{Sink, WriteProperties};
    use crate::packet::LazyBox;
    use crate::packet::{DecodeError, EncodeError, ProtocolVersion, QoS, ReasonCode};

    const NAME: &str = "CONNACK";

    fn invalid(reason: &'static str) -> EncodeError {
        EncodeError::Invalid { packet: NAME, reason }
    }

    /// MQTT 3.1.1's CONNACK return code for an unsupported protocol level.
    const V311_UNACCEPTABLE_VERSION: u8 = 1;

    impl ConnAck {
        pub(crate) fn decode(r: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
            let flags = r.u8()?;
            if flags & !1 != 0 {
                return Err(DecodeError::ReservedBits {
                    field: "CONNACK acknowledge flags",
                    value: flags,
                });
            }
            let code = r.u8()?;
            // A server that speaks only 3.1.1 refuses an MQTT 5 CONNECT
            // with its own CONNACK: two bytes, return code 1 (unacceptable
            // protocol version), no properties. Read that as what it says.
            if version == ProtocolVersion::V5 && code == V311_UNACCEPTABLE_VERSION && r.is_empty() {
                return Ok(ConnAck {
                    session_present: flags & 1 != 0,
                    reason_code: ReasonCode::UnsupportedProtocolVersion,
                    properties: LazyBox::default(),
                });
            }
            let (reason_code, properties) = match version {
                ProtocolVersion::V311 => {
                    let reason = ReasonCode::from_v311_connack(code)
                        .ok_or(DecodeError::InvalidReasonCode { code, packet: NAME })?;
                    (reason, LazyBox::default())
                }
                ProtocolVersion::V5 => (
                    ReasonSet::ConnAck.decode(code, NAME)?,
                    ConnAckProperties::decode(r)?,
                ),
            };
            Ok(ConnAck {
                session_present: flags & 1 != 0,
                reason_code,
                properties,
            })
        }

        pub(crate) fn write<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
            s.u8(u8::from(self.session_present));
            match version {
                ProtocolVersion::V311 => match self.reason_code.to_v311_connack() {
                    Some(code) => s.u8(code),
                    None => {
                        s.fail(EncodeError::NotInVersion("this CONNACK reason code"));
                        s.u8(0);
                    }
                },
                ProtocolVersion::V5 => {
                    if S::VALIDATES {
                        ReasonSet::ConnAck.check(s, self.reason_code, NAME);
                    }
                    s.u8(self.reason_code.as_u8());
                    s.properties(&self.properties);
                }
            }
        }
    }

    impl ConnAckProperties {
        fn decode(r: &mut Reader) -> Result<LazyBox<Self>, DecodeError> {
            let mut properties = LazyBox::default();
            let p: &mut ConnAckProperties = &mut properties;
            de::properties(r, |property, r| match property {
                id::SESSION_EXPIRY_INTERVAL => de::once(&mut p.session_expiry_interval, property, r.u32()?),
                id::RECEIVE_MAXIMUM => {
                    de::once(&mut p.receive_maximum, property, de::nonzero_u16(r, property)?)
                }
                id::MAXIMUM_QOS => de::once(&mut p.maximum_qos, property, de::maximum_qos(r)?),
                id::RETAIN_AVAILABLE => {
                    de::once(&mut p.retain_available, property, de::boolean(r, property)?)
                }
                id::MAXIMUM_PACKET_SIZE => de::once(
                    &mut p.maximum_packet_size,
                    property,
                    de::nonzero_u32(r, property)?,
                ),
                id::ASSIGNED_CLIENT_IDENTIFIER => {
                    de::once(&mut p.assigned_client_identifier, property, r.string()?)
                }
                id::TOPIC_ALIAS_MAXIMUM => de::once(&mut p.topic_alias_maximum, property, r.u16()?),
                id::REASON_STRING => de::once(&mut p.reason_string, property, r.string()?),
                id::USER_PROPERTY => de::user_property(&mut p.user_properties, r),
                id::WILDCARD_SUBSCRIPTION_AVAILABLE => de::once(
                    &mut p.wildcard_subscription_available,
                    property,
                    de::boolean(r, property)?,
                ),
                id::SUBSCRIPTION_IDENTIFIER_AVAILABLE => de::once(
                    &mut p.subscription_identifiers_available,
                    property,
                    de::boolean(r, property)?,
                ),
                id::SHARED_SUBSCRIPTION_AVAILABLE => de::once(
                    &mut p.shared_subscription_available,
                    property,
                    de::boolean(r, property)?,
                ),
                id::SERVER_KEEP_ALIVE => de::once(&mut p.server_keep_alive, property, r.u16()?),
                id::RESPONSE_INFORMATION => de::once(&mut p.response_information, property, r.string()?),
                id::SERVER_REFERENCE => de::once(&mut p.server_reference, property, r.string()?),
                id::AUTHENTICATION_METHOD => de::once(&mut p.authentication_method, property, r.string()?),
                id::AUTHENTICATION_DATA => de::once(&mut p.authentication_data, property, r.binary()?),
                _ => Ok(false),
            })?;
            de::check_auth(&p.authentication_method, &p.authentication_data)?;
            Ok(properties)
        }
    }

    impl WriteProperties for ConnAckProperties {
        fn write_to<S: Sink>(&self, s: &mut S) {
            en::u32(s, id::SESSION_EXPIRY_INTERVAL, self.session_expiry_interval);
            en::nonzero_u16(
                s,
                id::RECEIVE_MAXIMUM,
                self.receive_maximum,
                invalid("Receive Maximum 0"),
            );
            if S::VALIDATES && self.maximum_qos == Some(QoS::ExactlyOnce) {
                s.fail(invalid("Maximum QoS 2 (omit the property instead)"));
            }
            en::byte(s, id::MAXIMUM_QOS, self.maximum_qos.map(|q| q as u8));
            en::boolean(s, id::RETAIN_AVAILABLE, self.retain_available);
            en::nonzero_u32(
                s,
                id::MAXIMUM_PACKET_SIZE,
                self.maximum_packet_size,
                invalid("Maximum Packet Size 0"),
            );
            en::string(
                s,
                id::ASSIGNED_CLIENT_IDENTIFIER,
                self.assigned_client_identifier.as_ref(),
            );
            en::u16(s, id::TOPIC_ALIAS_MAXIMUM, self.topic_alias_maximum);
            en::string(s, id::REASON_STRING, self.reason_string.as_ref());
            en::user_properties(s, &self.user_properties);
            en::boolean(
                s,
                id::WILDCARD_SUBSCRIPTION_AVAILABLE,
                self.wildcard_subscription_available,
            );
            en::boolean(
                s,
                id::SUBSCRIPTION_IDENTIFIER_AVAILABLE,
                self.subscription_identifiers_available,
            );
            en::boolean(
                s,
                id::SHARED_SUBSCRIPTION_AVAILABLE,
                self.shared_subscription_available,
            );
            en::u16(s, id::SERVER_KEEP_ALIVE, self.server_keep_alive);
            en::string(s, id::RESPONSE_INFORMATION, self.response_information.as_ref());
            en::string(s, id::SERVER_REFERENCE, self.server_reference.as_ref());
            en::check_auth(s, NAME, &self.authentication_method, &self.authentication_data);
            en::string(s, id::AUTHENTICATION_METHOD, self.authentication_method.as_ref());
            en::binary(s, id::AUTHENTICATION_DATA, self.authentication_data.as_ref());
        }
    }
}
