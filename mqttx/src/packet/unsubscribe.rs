use bytestring::ByteString;

use super::{AckProperties, LazyBox, PacketId, ReasonCode, UserProperties};

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
    /// UNSUBACK properties (MQTT 5); allocated only when one is set.
    pub properties: LazyBox<AckProperties>,
}

mod codec {
    use super::{UnsubAck, Unsubscribe, UnsubscribeProperties};
    use crate::packet::property::{decode as de, encode as en, id};
    use crate::packet::reader::Reader;
    use crate::packet::reason::ReasonSet;
    use crate::packet::writer::{Sink, WriteProperties};
    use crate::packet::{topic, AckProperties, DecodeError, EncodeError, ProtocolVersion, ReasonCode};

    impl Unsubscribe {
        pub(crate) const NAME: &'static str = "UNSUBSCRIBE";

        pub(crate) fn decode(r: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
            let packet_id = r.packet_id()?;
            let mut properties = UnsubscribeProperties::default();
            if version == ProtocolVersion::V5 {
                de::properties(r, |property, r| match property {
                    id::USER_PROPERTY => de::user_property(&mut properties.user_properties, r),
                    _ => Ok(false),
                })?;
            }
            let mut filters = Vec::new();
            while !r.is_empty() {
                let filter = r.string()?;
                if !topic::valid_topic_filter(&filter) {
                    return Err(DecodeError::InvalidTopicFilter);
                }
                filters.push(filter);
            }
            if filters.is_empty() {
                return Err(DecodeError::NoTopicFilters(Self::NAME));
            }
            Ok(Unsubscribe {
                packet_id,
                filters,
                properties,
            })
        }

        pub(crate) fn write<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
            if S::VALIDATES && self.filters.is_empty() {
                s.fail(EncodeError::Invalid {
                    packet: Self::NAME,
                    reason: "no topic filters",
                });
            }
            s.u16(self.packet_id.get());
            if version == ProtocolVersion::V5 {
                s.properties(&self.properties);
            }
            for filter in &self.filters {
                if S::VALIDATES && !topic::valid_topic_filter(filter) {
                    s.fail(EncodeError::Invalid {
                        packet: Self::NAME,
                        reason: "invalid topic filter",
                    });
                }
                s.string("Topic Filter", filter);
            }
        }
    }

    impl WriteProperties for UnsubscribeProperties {
        fn write_to<S: Sink>(&self, s: &mut S) {
            en::user_properties(s, &self.user_properties);
        }
    }

    impl UnsubAck {
        pub(crate) const NAME: &'static str = "UNSUBACK";

        pub(crate) fn decode(r: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
            let packet_id = r.packet_id()?;
            if version == ProtocolVersion::V311 {
                return Ok(UnsubAck {
                    packet_id,
                    reason_codes: Vec::new(),
                    properties: Default::default(),
                });
            }
            let properties = AckProperties::decode(r)?;
            let mut reason_codes = Vec::new();
            while !r.is_empty() {
                reason_codes.push(ReasonSet::UnsubAck.decode(r.u8()?, Self::NAME)?);
            }
            if reason_codes.is_empty() {
                return Err(DecodeError::LengthMismatch(Self::NAME));
            }
            Ok(UnsubAck {
                packet_id,
                reason_codes,
                properties,
            })
        }

        pub(crate) fn write<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
            s.u16(self.packet_id.get());
            match version {
                ProtocolVersion::V311 => {
                    if self.reason_codes.iter().any(|&c| c != ReasonCode::Success) {
                        s.fail(EncodeError::NotInVersion(
                            "an UNSUBACK reason code other than Success",
                        ));
                    }
                }
                ProtocolVersion::V5 => {
                    if S::VALIDATES && self.reason_codes.is_empty() {
                        s.fail(EncodeError::Invalid {
                            packet: Self::NAME,
                            reason: "no reason codes",
                        });
                    }
                    s.properties(&self.properties);
                    for &code in &self.reason_codes {
                        if S::VALIDATES {
                            ReasonSet::UnsubAck.check(s, code, Self::NAME);
                        }
                        s.u8(code.as_u8());
                    }
                }
            }
        }
    }
}
