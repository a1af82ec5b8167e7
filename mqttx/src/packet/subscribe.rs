use bytestring::ByteString;

use super::{AckProperties, LazyBox, PacketId, QoS, ReasonCode, UserProperties};

/// SUBSCRIBE: one or more topic filters with their options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// Topic filters and their options; never empty on the wire.
    pub filters: Vec<(ByteString, SubscriptionOptions)>,
    /// SUBSCRIBE properties (MQTT 5).
    pub properties: SubscribeProperties,
}

/// SUBSCRIBE properties (MQTT 5, section 3.8.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct SubscribeProperties {
    /// 1 to 268,435,455.
    pub subscription_identifier: Option<u32>,
    pub user_properties: UserProperties,
}

/// The Subscription Options byte (MQTT 5; 3.1.1 uses only `qos`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS.
    pub qos: QoS,
    /// No Local: do not send my own publishes back to me.
    pub no_local: bool,
    /// Retain As Published: keep the RETAIN flag as the publisher set it.
    pub retain_as_published: bool,
    /// When retained messages are sent.
    pub retain_handling: RetainHandling,
}

impl SubscriptionOptions {
    /// Options with the given QoS and everything else at its default.
    pub fn new(qos: QoS) -> Self {
        SubscriptionOptions {
            qos,
            ..Default::default()
        }
    }
}

/// Retain Handling (MQTT 5, section 3.8.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum RetainHandling {
    /// Send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// Send them only if the subscription did not exist yet.
    SendAtSubscribeIfNew = 1,
    /// Never send retained messages for this subscription.
    DoNotSend = 2,
}

/// SUBACK: one reason code per filter of the SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// Packet Identifier of the SUBSCRIBE.
    pub packet_id: PacketId,
    /// Granted QoS or a failure, per filter, in order.
    pub reason_codes: Vec<ReasonCode>,
    /// SUBACK properties (MQTT 5); allocated only when one is set.
    pub properties: LazyBox<AckProperties>,
}

mod codec {
    use super::{RetainHandling, SubAck, Subscribe, SubscribeProperties, SubscriptionOptions};
    use crate::packet::property::{decode as de, encode as en, id};
    use crate::packet::reader::Reader;
    use crate::packet::reason::ReasonSet;
    use crate::packet::writer::{Sink, WriteProperties};
    use crate::packet::{topic, AckProperties, DecodeError, EncodeError, ProtocolVersion, QoS, ReasonCode};

    fn invalid(packet: &'static str, reason: &'static str) -> EncodeError {
        EncodeError::Invalid { packet, reason }
    }

    impl SubscriptionOptions {
        fn decode(byte: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
            let reserved = match version {
                ProtocolVersion::V311 => 0b1111_1100,
                ProtocolVersion::V5 => 0b1100_0000,
            };
            if byte & reserved != 0 {
                return Err(DecodeError::ReservedBits {
                    field: "subscription options",
                    value: byte,
                });
            }
            let qos = QoS::from_u8(byte & 0b11).ok_or(DecodeError::InvalidQoS(byte & 0b11))?;
            let retain_handling = match (byte >> 4) & 0b11 {
                0 => RetainHandling::SendAtSubscribe,
                1 => RetainHandling::SendAtSubscribeIfNew,
                2 => RetainHandling::DoNotSend,
                _ => return Err(DecodeError::InvalidSubscriptionOptions("Retain Handling 3")),
            };
            Ok(SubscriptionOptions {
                qos,
                no_local: byte & 0b0100 != 0,
                retain_as_published: byte & 0b1000 != 0,
                retain_handling,
            })
        }

        /// 3.1.1 has only the QoS bits; the MQTT 5 options are left out there.
        fn to_byte(self, version: ProtocolVersion) -> u8 {
            let qos = self.qos as u8;
            match version {
                ProtocolVersion::V311 => qos,
                ProtocolVersion::V5 => {
                    qos | (u8::from(self.no_local) << 2)
                        | (u8::from(self.retain_as_published) << 3)
                        | ((self.retain_handling as u8) << 4)
                }
            }
        }
    }

    impl Subscribe {
        pub(crate) const NAME: &'static str = "SUBSCRIBE";

        pub(crate) fn decode(r: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
            let packet_id = r.packet_id()?;
            let properties = match version {
                ProtocolVersion::V5 => SubscribeProperties::decode(r)?,
                ProtocolVersion::V311 => SubscribeProperties::default(),
            };
            let mut filters = Vec::new();
            while !r.is_empty() {
                let filter = r.string()?;
                if !topic::valid_topic_filter(&filter) {
                    return Err(DecodeError::InvalidTopicFilter);
                }
                let options = SubscriptionOptions::decode(r.u8()?, version)?;
                if options.no_local && topic::is_shared(&filter) {
                    return Err(DecodeError::InvalidSubscriptionOptions(
                        "No Local on a Shared Subscription",
                    ));
                }
                filters.push((filter, options));
            }
            if filters.is_empty() {
                return Err(DecodeError::NoTopicFilters(Self::NAME));
            }
            Ok(Subscribe {
                packet_id,
                filters,
                properties,
            })
        }

        pub(crate) fn write<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
            if S::VALIDATES && self.filters.is_empty() {
                s.fail(invalid(Self::NAME, "no topic filters"));
            }
            s.u16(self.packet_id.get());
            if version == ProtocolVersion::V5 {
                s.properties(&self.properties);
            }
            for (filter, options) in &self.filters {
                if S::VALIDATES {
                    if !topic::valid_topic_filter(filter) {
                        s.fail(invalid(Self::NAME, "invalid topic filter"));
                    }
                    if version == ProtocolVersion::V5 && options.no_local && topic::is_shared(filter) {
                        s.fail(invalid(Self::NAME, "No Local on a Shared Subscription"));
                    }
                }
                s.string("Topic Filter", filter);
                s.u8(options.to_byte(version));
            }
        }
    }

    impl SubscribeProperties {
        fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
            let mut p = SubscribeProperties::default();
            de::properties(r, |property, r| match property {
                id::SUBSCRIPTION_IDENTIFIER => de::once(
                    &mut p.subscription_identifier,
                    property,
                    de::subscription_identifier(r)?,
                ),
                id::USER_PROPERTY => de::user_property(&mut p.user_properties, r),
                _ => Ok(false),
            })?;
            Ok(p)
        }
    }

    impl WriteProperties for SubscribeProperties {
        fn write_to<S: Sink>(&self, s: &mut S) {
            if let Some(sub) = self.subscription_identifier {
                if S::VALIDATES && sub == 0 {
                    s.fail(invalid(Subscribe::NAME, "Subscription Identifier 0"));
                }
                en::varint(s, id::SUBSCRIPTION_IDENTIFIER, sub);
            }
            en::user_properties(s, &self.user_properties);
        }
    }

    impl SubAck {
        pub(crate) const NAME: &'static str = "SUBACK";

        pub(crate) fn decode(r: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
            let packet_id = r.packet_id()?;
            let properties = match version {
                ProtocolVersion::V5 => AckProperties::decode(r)?,
                ProtocolVersion::V311 => Default::default(),
            };
            let mut reason_codes = Vec::new();
            while !r.is_empty() {
                let code = r.u8()?;
                let reason = match version {
                    ProtocolVersion::V5 => ReasonSet::SubAck.decode(code, Self::NAME)?,
                    ProtocolVersion::V311 => match code {
                        0x00..=0x02 | 0x80 => ReasonSet::SubAck.decode(code, Self::NAME)?,
                        _ => {
                            return Err(DecodeError::InvalidReasonCode {
                                code,
                                packet: Self::NAME,
                            })
                        }
                    },
                };
                reason_codes.push(reason);
            }
            // One code answers each filter, and a SUBSCRIBE has at least one.
            if reason_codes.is_empty() {
                return Err(DecodeError::LengthMismatch(Self::NAME));
            }
            Ok(SubAck {
                packet_id,
                reason_codes,
                properties,
            })
        }

        pub(crate) fn write<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
            if S::VALIDATES && self.reason_codes.is_empty() {
                s.fail(invalid(Self::NAME, "no reason codes"));
            }
            s.u16(self.packet_id.get());
            if version == ProtocolVersion::V5 {
                s.properties(&self.properties);
            }
            for &code in &self.reason_codes {
                match version {
                    ProtocolVersion::V5 => {
                        if S::VALIDATES {
                            ReasonSet::SubAck.check(s, code, Self::NAME);
                        }
                        s.u8(code.as_u8());
                    }
                    // 3.1.1 knows one failure code, 0x80; MQTT 5 refines it.
                    ProtocolVersion::V311 => {
                        let byte = match code {
                            ReasonCode::Success | ReasonCode::GrantedQoS1 | ReasonCode::GrantedQoS2 => {
                                code.as_u8()
                            }
                            _ if code.is_error() => 0x80,
                            _ => {
                                s.fail(invalid(Self::NAME, "reason code not defined for this packet"));
                                0x80
                            }
                        };
                        s.u8(byte);
                    }
                }
            }
        }
    }
}
