use std::num::NonZeroU16;

use bytes::Bytes;
use bytestring::ByteString;

use super::{PacketId, QoS, UserProperties};

/// PUBLISH: an application message, in either direction.
///
/// Decoded topics and payloads share the read buffer: cloning a `Publish`
/// copies reference counts, never bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Publish {
    /// DUP: this may be a re-delivery.
    pub dup: bool,
    /// QoS of this delivery.
    pub qos: QoS,
    /// RETAIN.
    pub retain: bool,
    /// Topic Name; empty when a Topic Alias stands for it (MQTT 5).
    pub topic: ByteString,
    /// Packet Identifier: present exactly when `qos` is 1 or 2.
    pub packet_id: Option<PacketId>,
    /// PUBLISH properties (MQTT 5).
    pub properties: PublishProperties,
    /// The application payload.
    pub payload: Bytes,
}

impl Publish {
    /// A QoS 0, non-retained message.
    pub fn new(topic: impl Into<ByteString>, payload: impl Into<Bytes>) -> Self {
        Publish {
            topic: topic.into(),
            payload: payload.into(),
            ..Default::default()
        }
    }

    /// Sets the QoS.
    pub fn qos(mut self, qos: QoS) -> Self {
        self.qos = qos;
        self
    }

    /// Sets the retain flag.
    pub fn retain(mut self, retain: bool) -> Self {
        self.retain = retain;
        self
    }

    /// Sets the packet identifier; 0 clears it.
    pub fn packet_id(mut self, id: u16) -> Self {
        self.packet_id = NonZeroU16::new(id);
        self
    }

    /// The payload as UTF-8 text, if it is.
    pub fn payload_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.payload).ok()
    }
}

/// PUBLISH properties (MQTT 5, section 3.3.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct PublishProperties {
    pub payload_format_indicator: Option<bool>,
    pub message_expiry_interval: Option<u32>,
    pub topic_alias: Option<NonZeroU16>,
    pub response_topic: Option<ByteString>,
    pub correlation_data: Option<Bytes>,
    pub user_properties: UserProperties,
    /// Subscription Identifiers (server to client; may repeat).
    pub subscription_identifiers: Vec<u32>,
    pub content_type: Option<ByteString>,
}

mod codec {
    use super::{Publish, PublishProperties};
    use crate::packet::property::{decode as de, encode as en, id};
    use crate::packet::reader::Reader;
    use crate::packet::writer::{Sink, WriteProperties};
    use crate::packet::{topic, DecodeError, EncodeError, ProtocolVersion, QoS};

    const NAME: &str = "PUBLISH";

    fn invalid(reason: &'static str) -> EncodeError {
        EncodeError::Invalid { packet: NAME, reason }
    }

    impl Publish {
        /// DUP, QoS and RETAIN: the low nibble of the fixed header.
        pub(crate) fn flags(&self) -> u8 {
            (u8::from(self.dup) << 3) | ((self.qos as u8) << 1) | u8::from(self.retain)
        }

        /// Fills a default `Publish` in place: the value is large, and
        /// building it where it will live saves copying it on the hot path.
        #[inline]
        pub(crate) fn decode_into(
            &mut self,
            flags: u8,
            r: &mut Reader,
            version: ProtocolVersion,
        ) -> Result<(), DecodeError> {
            let qos_bits = (flags >> 1) & 0b11;
            self.qos = QoS::from_u8(qos_bits).ok_or(DecodeError::InvalidQoS(qos_bits))?;
            self.dup = flags & 0b1000 != 0;
            self.retain = flags & 1 != 0;
            self.topic = r.topic_name()?;
            if self.qos != QoS::AtMostOnce {
                self.packet_id = Some(r.packet_id()?);
            }
            if version == ProtocolVersion::V5 {
                self.properties.decode_into(r)?;
            }
            // Only a Topic Alias may stand in for the topic (MQTT-4.7.3-1).
            if self.topic.is_empty() && self.properties.topic_alias.is_none() {
                return Err(DecodeError::EmptyTopic);
            }
            self.payload = r.rest();
            Ok(())
        }

        pub(crate) fn write<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
            if S::VALIDATES {
                self.validate(version, s);
            }
            s.string(&self.topic);
            if let Some(id) = self.packet_id {
                s.u16(id.get());
            }
            if version == ProtocolVersion::V5 {
                s.properties(&self.properties);
            }
            s.raw(&self.payload);
        }

        fn validate<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
            match (self.qos, self.packet_id) {
                (QoS::AtMostOnce, Some(_)) => s.fail(invalid("QoS 0 with a packet identifier")),
                (QoS::AtLeastOnce | QoS::ExactlyOnce, None) => {
                    s.fail(invalid("QoS 1 or 2 without a packet identifier"))
                }
                _ => {}
            }
            if self.dup && self.qos == QoS::AtMostOnce {
                s.fail(invalid("DUP set on QoS 0"));
            }
            let aliased = version == ProtocolVersion::V5 && self.properties.topic_alias.is_some();
            if self.topic.is_empty() {
                if !aliased {
                    s.fail(invalid("empty topic name without a Topic Alias"));
                }
            } else if !topic::valid_topic_name(&self.topic) {
                s.fail(invalid("wildcard or U+0000 in the topic name"));
            }
        }
    }

    impl PublishProperties {
        fn decode_into(&mut self, r: &mut Reader) -> Result<(), DecodeError> {
            let p = self;
            de::properties(r, |property, r| match property {
                id::PAYLOAD_FORMAT_INDICATOR => de::once(
                    &mut p.payload_format_indicator,
                    property,
                    de::boolean(r, property)?,
                ),
                id::MESSAGE_EXPIRY_INTERVAL => de::once(&mut p.message_expiry_interval, property, r.u32()?),
                id::TOPIC_ALIAS => {
                    let alias = std::num::NonZeroU16::new(r.u16()?)
                        .ok_or(DecodeError::InvalidPropertyValue(property))?;
                    de::once(&mut p.topic_alias, property, alias)
                }
                id::RESPONSE_TOPIC => de::once(&mut p.response_topic, property, de::response_topic(r)?),
                id::CORRELATION_DATA => de::once(&mut p.correlation_data, property, r.binary()?),
                id::USER_PROPERTY => de::user_property(&mut p.user_properties, r),
                id::SUBSCRIPTION_IDENTIFIER => {
                    p.subscription_identifiers.push(de::subscription_identifier(r)?);
                    Ok(true)
                }
                id::CONTENT_TYPE => de::once(&mut p.content_type, property, r.string()?),
                _ => Ok(false),
            })?;
            Ok(())
        }
    }

    impl WriteProperties for PublishProperties {
        #[inline]
        fn is_empty(&self) -> bool {
            let p = self;
            p.payload_format_indicator.is_none()
                && p.message_expiry_interval.is_none()
                && p.topic_alias.is_none()
                && p.response_topic.is_none()
                && p.correlation_data.is_none()
                && p.user_properties.is_empty()
                && p.subscription_identifiers.is_empty()
                && p.content_type.is_none()
        }

        fn write_to<S: Sink>(&self, s: &mut S) {
            en::boolean(s, id::PAYLOAD_FORMAT_INDICATOR, self.payload_format_indicator);
            en::u32(s, id::MESSAGE_EXPIRY_INTERVAL, self.message_expiry_interval);
            en::u16(s, id::TOPIC_ALIAS, self.topic_alias.map(|a| a.get()));
            if S::VALIDATES {
                if let Some(topic) = &self.response_topic {
                    if !topic::valid_topic_name(topic) {
                        s.fail(invalid("Response Topic is not a valid topic name"));
                    }
                }
            }
            en::string(s, id::RESPONSE_TOPIC, self.response_topic.as_ref());
            en::binary(s, id::CORRELATION_DATA, self.correlation_data.as_ref());
            en::user_properties(s, &self.user_properties);
            for &sub in &self.subscription_identifiers {
                if S::VALIDATES && sub == 0 {
                    s.fail(invalid("Subscription Identifier 0"));
                }
                en::varint(s, id::SUBSCRIPTION_IDENTIFIER, sub);
            }
            en::string(s, id::CONTENT_TYPE, self.content_type.as_ref());
        }
    }
}
