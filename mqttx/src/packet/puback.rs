use bytestring::ByteString;

use super::lazy_box::empty_properties;
use super::{LazyBox, PacketId, ReasonCode, UserProperties};

/// The properties every acknowledgement carries in MQTT 5: a Reason String
/// and User Properties (PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct AckProperties {
    pub reason_string: Option<ByteString>,
    pub user_properties: UserProperties,
}

empty_properties! {
    AckProperties {
        reason_string: None,
        user_properties: Vec::new(),
    }
}

macro_rules! ack_packet {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            /// Packet Identifier of the flow this acknowledges.
            pub packet_id: PacketId,
            /// Reason Code (always Success in MQTT 3.1.1).
            pub reason_code: ReasonCode,
            /// Properties (MQTT 5); allocated only when one is set.
            pub properties: LazyBox<AckProperties>,
        }

        impl $name {
            /// A successful acknowledgement without properties.
            pub fn new(packet_id: PacketId) -> Self {
                $name { packet_id, reason_code: ReasonCode::Success, properties: LazyBox::default() }
            }
        }
    };
}

ack_packet!(
    /// PUBACK: acknowledges a QoS 1 PUBLISH.
    PubAck
);
ack_packet!(
    /// PUBREC: the receiver has a QoS 2 PUBLISH.
    PubRec
);
ack_packet!(
    /// PUBREL: the sender releases a QoS 2 PUBLISH.
    PubRel
);
ack_packet!(
    /// PUBCOMP: the QoS 2 handshake is complete.
    PubComp
);

mod codec {
    use super::{AckProperties, PubAck, PubComp, PubRec, PubRel};
    use crate::packet::property::{decode as de, encode as en, id};
    use crate::packet::reader::Reader;
    use crate::packet::reason::ReasonSet;
    use crate::packet::writer::{Sink, WriteProperties};
    use crate::packet::{DecodeError, EncodeError, LazyBox, PacketId, ProtocolVersion, ReasonCode};

    impl AckProperties {
        /// Allocates only if the list holds a property.
        pub(crate) fn decode(r: &mut Reader) -> Result<LazyBox<Self>, DecodeError> {
            let mut properties = LazyBox::default();
            de::properties(r, |property, r| {
                let p: &mut AckProperties = &mut properties;
                match property {
                    id::REASON_STRING => de::once(&mut p.reason_string, property, r.string()?),
                    id::USER_PROPERTY => de::user_property(&mut p.user_properties, r),
                    _ => Ok(false),
                }
            })?;
            Ok(properties)
        }
    }

    impl WriteProperties for AckProperties {
        fn is_empty(&self) -> bool {
            self.reason_string.is_none() && self.user_properties.is_empty()
        }

        fn write_to<S: Sink>(&self, s: &mut S) {
            en::string(s, id::REASON_STRING, self.reason_string.as_ref());
            en::user_properties(s, &self.user_properties);
        }
    }

    /// The part after the packet identifier. MQTT 5 lets the sender stop
    /// early: no byte means Success, no Property Length means no properties.
    fn decode_tail(
        r: &mut Reader,
        version: ProtocolVersion,
        set: ReasonSet,
    ) -> Result<(ReasonCode, LazyBox<AckProperties>), DecodeError> {
        if version == ProtocolVersion::V311 || r.is_empty() {
            return Ok((ReasonCode::Success, LazyBox::default()));
        }
        let reason = set.decode(r.u8()?, r.packet())?;
        if r.is_empty() {
            return Ok((reason, LazyBox::default()));
        }
        Ok((reason, AckProperties::decode(r)?))
    }

    /// Writes the shortest form that says the same thing.
    fn write_ack<S: Sink>(
        s: &mut S,
        version: ProtocolVersion,
        packet_id: PacketId,
        reason: ReasonCode,
        properties: &LazyBox<AckProperties>,
        set: ReasonSet,
        packet: &'static str,
    ) {
        s.u16(packet_id.get());
        match version {
            ProtocolVersion::V311 => {
                // 3.1.1 has nowhere to put a failure; dropping it would turn
                // a refusal into a success.
                if reason != ReasonCode::Success {
                    s.fail(EncodeError::NotInVersion(
                        "a reason code other than Success in an acknowledgement",
                    ));
                }
            }
            ProtocolVersion::V5 => {
                if S::VALIDATES {
                    set.check(s, reason, packet);
                }
                if properties.is_empty() {
                    if reason != ReasonCode::Success {
                        s.u8(reason.as_u8());
                    }
                } else {
                    s.u8(reason.as_u8());
                    s.properties(properties);
                }
            }
        }
    }

    macro_rules! ack_codec {
        ($name:ident, $label:literal, $set:expr) => {
            impl $name {
                pub(crate) fn decode(r: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
                    let packet_id = r.packet_id()?;
                    let (reason_code, properties) = decode_tail(r, version, $set)?;
                    Ok($name {
                        packet_id,
                        reason_code,
                        properties,
                    })
                }

                pub(crate) fn write<S: Sink>(&self, version: ProtocolVersion, s: &mut S) {
                    write_ack(
                        s,
                        version,
                        self.packet_id,
                        self.reason_code,
                        &self.properties,
                        $set,
                        $label,
                    );
                }
            }
        };
    }

    ack_codec!(PubAck, "PUBACK", ReasonSet::PubAck);
    ack_codec!(PubRec, "PUBREC", ReasonSet::PubAck);
    ack_codec!(PubRel, "PUBREL", ReasonSet::PubRel);
    ack_codec!(PubComp, "PUBCOMP", ReasonSet::PubRel);
}
