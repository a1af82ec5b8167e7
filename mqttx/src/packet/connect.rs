use bytes::Bytes;
use bytestring::ByteString;

use std::fmt;

use super::{ProtocolVersion, QoS, Redacted, UserProperties};

/// CONNECT: the first packet a client sends. Its `Debug` output shows the
/// password's and the authentication data's length, not their bytes.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Connect {
    /// Protocol level 4 (3.1.1) or 5.
    pub protocol: ProtocolVersion,
    /// Clean Session (3.1.1) / Clean Start (5).
    pub clean_start: bool,
    /// Keep Alive in seconds; 0 turns keep-alive off.
    pub keep_alive: u16,
    /// Client Identifier; may be empty to ask the server for one.
    pub client_id: ByteString,
    /// The Will Message.
    pub will: Option<LastWill>,
    /// User Name.
    pub username: Option<ByteString>,
    /// Password (binary data).
    pub password: Option<Bytes>,
    /// CONNECT properties (MQTT 5).
    pub properties: ConnectProperties,
}

/// CONNECT properties (MQTT 5, section 3.1.2.11).
#[derive(Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)] // fields are the specification's property names
pub struct ConnectProperties {
    pub session_expiry_interval: Option<u32>,
    pub receive_maximum: Option<u16>,
    pub maximum_packet_size: Option<u32>,
    pub topic_alias_maximum: Option<u16>,
    pub request_response_information: Option<bool>,
    pub request_problem_information: Option<bool>,
    pub user_properties: UserProperties,
    pub authentication_method: Option<ByteString>,
    pub authentication_data: Option<Bytes>,
}

impl fmt::Debug for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connect")
            .field("protocol", &self.protocol)
            .field("clean_start", &self.clean_start)
            .field("keep_alive", &self.keep_alive)
            .field("client_id", &self.client_id)
            .field("will", &self.will)
            .field("username", &self.username)
            .field("password", &Redacted(self.password.as_ref()))
            .field("properties", &self.properties)
            .finish()
    }
}

impl fmt::Debug for ConnectProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectProperties")
            .field("session_expiry_interval", &self.session_expiry_interval)
            .field("receive_maximum", &self.receive_maximum)
            .field("maximum_packet_size", &self.maximum_packet_size)
            .field("topic_alias_maximum", &self.topic_alias_maximum)
            .field("request_response_information", &self.request_response_information)
            .field("request_problem_information", &self.request_problem_information)
            .field("user_properties", &self.user_properties)
            .field("authentication_method", &self.authentication_method)
            .field(
                "authentication_data",
                &Redacted(self.authentication_data.as_ref()),
            )
            .finish()
    }
}

/// The Will Message: published by the server when the client vanishes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LastWill {
    /// Will Topic.
    pub topic: ByteString,
    /// Will Payload.
    pub payload: Bytes,
    /// Will QoS.
    pub qos: QoS,
    /// Will Retain.
    pub retain: bool,
    /// Will properties (MQTT 5).
    pub properties: WillProperties,
}

impl LastWill {
    /// A will with QoS 0, not retained, no properties.
    pub fn new(topic: impl Into<ByteString>, payload: impl Into<Bytes>) -> Self {
        LastWill {
            topic: topic.into(),
            payload: payload.into(),
            ..Default::default()
        }
    }

    /// Sets the Will QoS.
    pub fn qos(mut self, qos: QoS) -> Self {
        self.qos = qos;
        self
    }

    /// Sets Will Retain.
    pub fn retain(mut self, retain: bool) -> Self {
        self.retain = retain;
        self
    }
}

/// Will properties (MQTT 5, section 3.1.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct WillProperties {
    pub will_delay_interval: Option<u32>,
    pub payload_format_indicator: Option<bool>,
    pub message_expiry_interval: Option<u32>,
    pub content_type: Option<ByteString>,
    pub response_topic: Option<ByteString>,
    pub correlation_data: Option<Bytes>,
    pub user_properties: UserProperties,
}

mod codec {
    use super::{Connect, ConnectProperties, LastWill, WillProperties};
    use crate::packet::property::{decode as de, encode as en, id};
    use crate::packet::reader::Reader;
    use crate::packet::writer::{Sink, WriteProperties};
    use crate::packet::{topic, DecodeError, EncodeError, ProtocolVersion, QoS};

    const NAME: &str = "CONNECT";
    const PROTOCOL_NAME: &str = "MQTT";

    const RESERVED: u8 = 0b0000_0001;
    const CLEAN_START: u8 = 0b0000_0010;
    const WILL: u8 = 0b0000_0100;
    const WILL_RETAIN: u8 = 0b0010_0000;
    const PASSWORD: u8 = 0b0100_0000;
    const USERNAME: u8 = 0b1000_0000;

    fn invalid(reason: &'static str) -> EncodeError {
        EncodeError::Invalid { packet: NAME, reason }
    }

    impl Connect {
        /// Decodes a CONNECT body; the protocol level comes from the packet.
        pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
            if r.string()? != PROTOCOL_NAME {
                return Err(DecodeError::InvalidConnect("protocol name is not MQTT"));
            }
            let protocol = ProtocolVersion::from_level(r.u8()?)
                .ok_or(DecodeError::InvalidConnect("unsupported protocol level"))?;
            let flags = r.u8()?;
            if flags & RESERVED != 0 {
                return Err(DecodeError::InvalidConnect("reserved flag is set"));
            }
            let will_qos_bits = (flags >> 3) & 0b11;
            let will_qos = QoS::from_u8(will_qos_bits).ok_or(DecodeError::InvalidQoS(will_qos_bits))?;
            let has_will = flags & WILL != 0;
            if !has_will && (will_qos_bits != 0 || flags & WILL_RETAIN != 0) {
                return Err(DecodeError::InvalidConnect(
                    "will QoS or retain without the will flag",
                ));
            }
            if protocol == ProtocolVersion::V311 && flags & PASSWORD != 0 && flags & USERNAME == 0 {
                return Err(DecodeError::InvalidConnect("password without a user name"));
            }
            let keep_alive = r.u16()?;
            let properties = match protocol {
                ProtocolVersion::V5 => ConnectProperties::decode(r)?,
                ProtocolVersion::V311 => ConnectProperties::default(),
            };
            let client_id = r.string()?;
            let will = if has_will {
                let properties = match protocol {
                    ProtocolVersion::V5 => WillProperties::decode(r)?,
                    ProtocolVersion::V311 => WillProperties::default(),
                };
                let topic = r.topic_name()?;
                if topic.is_empty() {
                    return Err(DecodeError::EmptyTopic);
                }
                Some(LastWill {
                    topic,
                    payload: r.binary()?,
                    qos: will_qos,
                    retain: flags & WILL_RETAIN != 0,
                    properties,
                })
            } else {
                None
            };
            let username = if flags & USERNAME != 0 {
                Some(r.string()?)
            } else {
                None
            };
            let password = if flags & PASSWORD != 0 {
                Some(r.binary()?)
            } else {
                None
            };
            Ok(Connect {
                protocol,
                clean_start: flags & CLEAN_START != 0,
                keep_alive,
                client_id,
                will,
                username,
                password,
                properties,
            })
        }

        fn flags(&self) -> u8 {
            let mut flags = 0;
            if self.clean_start {
                flags |= CLEAN_START;
            }
            if let Some(will) = &self.will {
                flags |= WILL | ((will.qos as u8) << 3);
                if will.retain {
                    flags |= WILL_RETAIN;
                }
            }
            if self.username.is_some() {
                flags |= USERNAME;
            }
            if self.password.is_some() {
                flags |= PASSWORD;
            }
            flags
        }

        /// Writes the body for `self.protocol`; the codec has already checked
        /// that it agrees with the connection's version.
        pub(crate) fn write<S: Sink>(&self, s: &mut S) {
            let v5 = self.protocol == ProtocolVersion::V5;
            if S::VALIDATES && !v5 && self.password.is_some() && self.username.is_none() {
                s.fail(invalid("MQTT 3.1.1 allows a password only with a user name"));
            }
            s.string("Protocol Name", PROTOCOL_NAME);
            s.u8(self.protocol.level());
            s.u8(self.flags());
            s.u16(self.keep_alive);
            if v5 {
                s.properties(&self.properties);
            }
            s.string("Client Identifier", &self.client_id);
            if let Some(will) = &self.will {
                if S::VALIDATES && !topic::valid_topic_name(&will.topic) {
                    s.fail(invalid("will topic is not a valid topic name"));
                }
                if v5 {
                    s.properties(&will.properties);
                }
                s.string("Will Topic", &will.topic);
                s.binary(&will.payload);
            }
            if let Some(username) = &self.username {
                s.string("User Name", username);
            }
            if let Some(password) = &self.password {
                s.binary(password);
            }
        }
    }

    impl ConnectProperties {
        fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
            let mut p = ConnectProperties::default();
            de::properties(r, |property, r| match property {
                id::SESSION_EXPIRY_INTERVAL => de::once(&mut p.session_expiry_interval, property, r.u32()?),
                id::RECEIVE_MAXIMUM => {
                    de::once(&mut p.receive_maximum, property, de::nonzero_u16(r, property)?)
                }
                id::MAXIMUM_PACKET_SIZE => de::once(
                    &mut p.maximum_packet_size,
                    property,
                    de::nonzero_u32(r, property)?,
                ),
                id::TOPIC_ALIAS_MAXIMUM => de::once(&mut p.topic_alias_maximum, property, r.u16()?),
                id::REQUEST_RESPONSE_INFORMATION => de::once(
                    &mut p.request_response_information,
                    property,
                    de::boolean(r, property)?,
                ),
                id::REQUEST_PROBLEM_INFORMATION => de::once(
                    &mut p.request_problem_information,
                    property,
                    de::boolean(r, property)?,
                ),
                id::USER_PROPERTY => de::user_property(&mut p.user_properties, r),
                id::AUTHENTICATION_METHOD => de::once(&mut p.authentication_method, property, r.string()?),
                id::AUTHENTICATION_DATA => de::once(&mut p.authentication_data, property, r.binary()?),
                _ => Ok(false),
            })?;
            de::check_auth(&p.authentication_method, &p.authentication_data)?;
            Ok(p)
        }
    }

    impl WriteProperties for ConnectProperties {
        fn write_to<S: Sink>(&self, s: &mut S) {
            en::u32(s, id::SESSION_EXPIRY_INTERVAL, self.session_expiry_interval);
            en::nonzero_u16(
                s,
                id::RECEIVE_MAXIMUM,
                self.receive_maximum,
                invalid("Receive Maximum 0"),
            );
            en::nonzero_u32(
                s,
                id::MAXIMUM_PACKET_SIZE,
                self.maximum_packet_size,
                invalid("Maximum Packet Size 0"),
            );
            en::u16(s, id::TOPIC_ALIAS_MAXIMUM, self.topic_alias_maximum);
            en::boolean(
                s,
                id::REQUEST_RESPONSE_INFORMATION,
                self.request_response_information,
            );
            en::boolean(
                s,
                id::REQUEST_PROBLEM_INFORMATION,
                self.request_problem_information,
            );
            en::user_properties(s, &self.user_properties);
            en::check_auth(s, NAME, &self.authentication_method, &self.authentication_data);
            en::string(s, id::AUTHENTICATION_METHOD, self.authentication_method.as_ref());
            en::binary(s, id::AUTHENTICATION_DATA, self.authentication_data.as_ref());
        }
    }

    impl WillProperties {
        fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
            let mut p = WillProperties::default();
            de::properties(r, |property, r| match property {
                id::WILL_DELAY_INTERVAL => de::once(&mut p.will_delay_interval, property, r.u32()?),
                id::PAYLOAD_FORMAT_INDICATOR => de::once(
                    &mut p.payload_format_indicator,
                    property,
                    de::boolean(r, property)?,
                ),
                id::MESSAGE_EXPIRY_INTERVAL => de::once(&mut p.message_expiry_interval, property, r.u32()?),
                id::CONTENT_TYPE => de::once(&mut p.content_type, property, r.string()?),
                id::RESPONSE_TOPIC => de::once(&mut p.response_topic, property, de::response_topic(r)?),
                id::CORRELATION_DATA => de::once(&mut p.correlation_data, property, r.binary()?),
                id::USER_PROPERTY => de::user_property(&mut p.user_properties, r),
                _ => Ok(false),
            })?;
            Ok(p)
        }
    }

    impl WriteProperties for WillProperties {
        fn write_to<S: Sink>(&self, s: &mut S) {
            en::u32(s, id::WILL_DELAY_INTERVAL, self.will_delay_interval);
            en::boolean(s, id::PAYLOAD_FORMAT_INDICATOR, self.payload_format_indicator);
            en::u32(s, id::MESSAGE_EXPIRY_INTERVAL, self.message_expiry_interval);
            en::string(s, id::CONTENT_TYPE, self.content_type.as_ref());
            if S::VALIDATES {
                if let Some(topic) = &self.response_topic {
                    if !topic::valid_topic_name(topic) {
                        s.fail(invalid("will Response Topic is not a valid topic name"));
                    }
                }
            }
            en::string(s, id::RESPONSE_TOPIC, self.response_topic.as_ref());
            en::binary(s, id::CORRELATION_DATA, self.correlation_data.as_ref());
            en::user_properties(s, &self.user_properties);
        }
    }
}
