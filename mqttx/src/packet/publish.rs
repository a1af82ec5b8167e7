use std::num::NonZeroU16;

use bytes::Bytes;
use bytestring::ByteString;

use super::lazy_box::empty_properties;
use super::{LazyBox, PacketId, QoS, UserProperties};

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
    /// PUBLISH properties (MQTT 5); allocated only when one is set.
    pub properties: LazyBox<PublishProperties>,
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

empty_properties! {
    PublishProperties {
        payload_format_indicator: None,
        message_expiry_interval: None,
        topic_alias: None,
        response_topic: None,
        correlation_data: None,
        user_properties: Vec::new(),
        subscription_identifiers: Vec::new(),
        content_type: None,
    }
}

mod codec {
    use std::num::NonZeroU16;

    use bytes::{Buf, BufMut, Bytes, BytesMut};

    use super::{Publish, PublishProperties};
    use crate::packet::property::{decode as de, encode as en, id};
    use crate::packet::reader::{self, Reader};
    use crate::packet::writer::{check_text, Sink, WriteProperties};
    use crate::packet::LazyBox;
    use crate::packet::{topic, varint, DecodeError, EncodeError, ProtocolVersion, QoS};

    const NAME: &str = "PUBLISH";

    fn invalid(reason: &'static str) -> EncodeError {
        EncodeError::Invalid { packet: NAME, reason }
    }

    impl Publish {
        /// DUP, QoS and RETAIN: the low nibble of the fixed header.
        pub(crate) fn flags(&self) -> u8 {
            (u8::from(self.dup) << 3) | ((self.qos as u8) << 1) | u8::from(self.retain)
        }

        /// Decodes a PUBLISH body, `frame[start..]`: the hot path. The
        /// fixed-layout fields are read straight off the slice; only a
        /// non-empty property list goes through the general [`Reader`].
        #[inline]
        pub(crate) fn decode(
            flags: u8,
            mut frame: Bytes,
            start: usize,
            version: ProtocolVersion,
        ) -> Result<Publish, DecodeError> {
            let short = || DecodeError::LengthMismatch(NAME);
            let qos_bits = (flags >> 1) & 0b11;
            let qos = QoS::from_u8(qos_bits).ok_or(DecodeError::InvalidQoS(qos_bits))?;
            let body = frame.get(start..).unwrap_or_default();
            let &[hi, lo, ..] = body else {
                return Err(short());
            };
            let topic_end = 2 + usize::from(u16::from_be_bytes([hi, lo]));
            if body.len() < topic_end {
                return Err(short());
            }
            let topic = reader::topic_name(frame.slice(start + 2..start + topic_end))?;
            let mut pos = topic_end;
            let mut packet_id = None;
            if qos != QoS::AtMostOnce {
                let id = body
                    .get(pos..pos + 2)
                    .and_then(|b| <[u8; 2]>::try_from(b).ok())
                    .ok_or_else(short)?;
                packet_id =
                    Some(NonZeroU16::new(u16::from_be_bytes(id)).ok_or(DecodeError::ZeroPacketId(NAME))?);
                pos += 2;
            }
            let mut properties = LazyBox::default();
            if version == ProtocolVersion::V5 {
                match body.get(pos) {
                    Some(0) => pos += 1,
                    Some(_) => {
                        let mut r = Reader::new(frame.clone(), start + pos, NAME);
                        PublishProperties::decode_into(&mut properties, &mut r)?;
                        pos = r.position() - start;
                    }
                    None => return Err(short()),
                }
            }
            // Only a Topic Alias may stand in for the topic (MQTT-4.7.3-1).
            if topic.is_empty() && properties.topic_alias.is_none() {
                return Err(DecodeError::EmptyTopic);
            }
            if start + pos > frame.len() {
                return Err(short());
            }
            // The frame itself becomes the payload: no reference count to bump.
            frame.advance(start + pos);
            Ok(Publish {
                dup: flags & 0b1000 != 0,
                qos,
                retain: flags & 1 != 0,
                topic,
                packet_id,
                properties,
                payload: frame,
            })
        }

        pub(crate) fn write<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
            if S::VALIDATES {
                self.validate(version, s);
            }
            s.string("Topic Name", &self.topic);
            if let Some(id) = self.packet_id {
                s.u16(id.get());
            }
            if version == ProtocolVersion::V5 {
                s.properties(&self.properties);
            }
            s.raw(&self.payload);
        }

        fn validate<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
            if let Err(error) = self.check(version) {
                s.fail(error);
            }
        }

        /// The rules a PUBLISH must meet to be sent, the first broken one.
        #[inline]
        fn check(&self, version: ProtocolVersion) -> Result<(), EncodeError> {
            match (self.qos, self.packet_id) {
                (QoS::AtMostOnce, Some(_)) => return Err(invalid("QoS 0 with a packet identifier")),
                (QoS::AtLeastOnce | QoS::ExactlyOnce, None) => {
                    return Err(invalid("QoS 1 or 2 without a packet identifier"))
                }
                _ => {}
            }
            if self.dup && self.qos == QoS::AtMostOnce {
                return Err(invalid("DUP set on QoS 0"));
            }
            let aliased = version == ProtocolVersion::V5 && self.properties.topic_alias.is_some();
            if self.topic.is_empty() {
                if !aliased {
                    return Err(invalid("empty topic name without a Topic Alias"));
                }
            } else if !topic::valid_topic_name(&self.topic) {
                return Err(invalid("wildcard or U+0000 in the topic name"));
            }
            Ok(())
        }

        /// The encoded size of a PUBLISH without properties, or with only
        /// a Topic Alias if `alias`, by arithmetic alone: for a publish whose
        /// topic and flags were already checked. `None` when it has
        /// properties.
        pub(crate) fn plain_len(
            &self,
            version: ProtocolVersion,
            alias: bool,
        ) -> Option<Result<usize, EncodeError>> {
            if self.properties.get().is_some() {
                return None;
            }
            Some(
                self.plain_body_len(version, alias)
                    .map(|body| 1 + varint::len(body) + body),
            )
        }

        /// The encoded size of this PUBLISH exactly as it stands, the
        /// sizing half of [`encode`](crate::packet::encode): arithmetic when
        /// at most a Topic Alias is set, a measuring pass otherwise.
        pub(crate) fn wire_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
            let alias = match (version, self.properties.get()) {
                (ProtocolVersion::V311, _) | (_, None) => false,
                (ProtocolVersion::V5, Some(properties)) => match properties.alias_only() {
                    Some(alias) => alias.is_some(),
                    None => return crate::packet::publish_len(self, version),
                },
            };
            self.plain_body_len(version, alias)
                .map(|body| 1 + varint::len(body) + body)
        }

        /// The body size of a PUBLISH whose only property, if any, is a
        /// Topic Alias: what both the size check and the one-pass encoder
        /// rely on.
        #[inline]
        fn plain_body_len(&self, version: ProtocolVersion, alias: bool) -> Result<usize, EncodeError> {
            let id_len = if self.qos == QoS::AtMostOnce { 0 } else { 2 };
            // Property Length, then Topic Alias (identifier and two bytes).
            let properties_len = match (version, alias) {
                (ProtocolVersion::V311, _) => 0,
                (ProtocolVersion::V5, false) => 1,
                (ProtocolVersion::V5, true) => 4,
            };
            let body = 2 + self.topic.len() + id_len + properties_len + self.payload.len();
            if body > varint::MAX as usize {
                return Err(EncodeError::PacketTooLarge(body));
            }
            Ok(body)
        }

        /// The hot path of [`encode`](crate::packet::encode): a PUBLISH
        /// without properties, or with only the Topic Alias that outgoing
        /// aliasing adds (every 3.1.1 one, most MQTT 5 ones), is checked,
        /// sized and written in one pass with one reservation. `None` sends
        /// one with other properties down the general two-pass path.
        #[inline]
        pub(crate) fn encode_plain(
            &self,
            version: ProtocolVersion,
            buf: &mut BytesMut,
        ) -> Option<Result<(), EncodeError>> {
            let alias = match (version, self.properties.get()) {
                (ProtocolVersion::V311, _) | (_, None) => None,
                (ProtocolVersion::V5, Some(properties)) => properties.alias_only()?,
            };
            Some(self.encode_without_properties(version, alias, buf))
        }

        /// Writes a PUBLISH whose only property, if any, is `alias` (what
        /// outgoing topic aliasing adds to most messages).
        #[inline]
        fn encode_without_properties(
            &self,
            version: ProtocolVersion,
            alias: Option<NonZeroU16>,
            buf: &mut BytesMut,
        ) -> Result<(), EncodeError> {
            self.check(version)?;
            let topic = self.topic.as_bytes();
            // valid_topic_name has bounded it to u16::MAX; an empty aliased one is 0.
            let topic_len = u16::try_from(topic.len()).map_err(|_| EncodeError::FieldTooLong(topic.len()))?;
            let v5 = version == ProtocolVersion::V5;
            // check() has made the packet id agree with the QoS.
            let body = self.plain_body_len(version, alias.is_some())?;
            buf.reserve(1 + varint::len(body) + body);
            buf.put_u8(0x30 | self.flags());
            varint::put(buf, body as u32);
            buf.put_u16(topic_len);
            buf.extend_from_slice(topic);
            if let Some(id) = self.packet_id {
                buf.put_u16(id.get());
            }
            if v5 {
                match alias {
                    None => buf.put_u8(0),
                    Some(alias) => {
                        buf.put_u8(3);
                        buf.put_u8(id::TOPIC_ALIAS);
                        buf.put_u16(alias.get());
                    }
                }
            }
            buf.extend_from_slice(&self.payload);
            Ok(())
        }
    }

    impl PublishProperties {
        /// The strings the encoder would refuse, checked without encoding:
        /// the first one holding U+0000 [MQTT-1.5.4-2]. Only the strings
        /// present are scanned, one `memchr` pass each.
        pub(crate) fn check_strings(&self) -> Result<(), EncodeError> {
            if let Some(content_type) = &self.content_type {
                check_text("Content Type", content_type)?;
            }
            if let Some(response_topic) = &self.response_topic {
                check_text("Response Topic", response_topic)?;
            }
            for (name, value) in &self.user_properties {
                check_text("User Property", name)?;
                check_text("User Property", value)?;
            }
            Ok(())
        }

        /// `Some(alias)` when nothing but (at most) a Topic Alias is set.
        #[inline]
        fn alias_only(&self) -> Option<Option<NonZeroU16>> {
            let p = self;
            let rest_empty = p.payload_format_indicator.is_none()
                && p.message_expiry_interval.is_none()
                && p.response_topic.is_none()
                && p.correlation_data.is_none()
                && p.user_properties.is_empty()
                && p.subscription_identifiers.is_empty()
                && p.content_type.is_none();
            rest_empty.then_some(p.topic_alias)
        }

        /// Allocates the properties only if the list holds one.
        fn decode_into(properties: &mut LazyBox<Self>, r: &mut Reader) -> Result<(), DecodeError> {
            de::properties(r, |property, r| {
                let p = &mut **properties;
                decode_one(p, property, r)
            })
        }
    }

    fn decode_one(p: &mut PublishProperties, property: u8, r: &mut Reader) -> Result<bool, DecodeError> {
        match property {
            id::PAYLOAD_FORMAT_INDICATOR => de::once(
                &mut p.payload_format_indicator,
                property,
                de::boolean(r, property)?,
            ),
            id::MESSAGE_EXPIRY_INTERVAL => de::once(&mut p.message_expiry_interval, property, r.u32()?),
            id::TOPIC_ALIAS => {
                let alias =
                    std::num::NonZeroU16::new(r.u16()?).ok_or(DecodeError::InvalidPropertyValue(property))?;
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
