//! MQTT 5 property identifiers and the pieces properties are made of.

use bytestring::ByteString;

/// User Property pairs in the order they appeared; a name may repeat.
pub type UserProperties = Vec<(ByteString, ByteString)>;

/// MQTT 5 property identifiers (section 2.2.2.2).
#[allow(missing_docs)]
pub mod id {
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    pub const CONTENT_TYPE: u8 = 0x03;
    pub const RESPONSE_TOPIC: u8 = 0x08;
    pub const CORRELATION_DATA: u8 = 0x09;
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    pub const SERVER_REFERENCE: u8 = 0x1C;
    pub const REASON_STRING: u8 = 0x1F;
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    pub const TOPIC_ALIAS: u8 = 0x23;
    pub const MAXIMUM_QOS: u8 = 0x24;
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    pub const USER_PROPERTY: u8 = 0x26;
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;
}

/// The name of a property that holds a UTF-8 Encoded String, for errors.
pub(crate) fn string_name(property: u8) -> &'static str {
    match property {
        id::CONTENT_TYPE => "Content Type",
        id::RESPONSE_TOPIC => "Response Topic",
        id::ASSIGNED_CLIENT_IDENTIFIER => "Assigned Client Identifier",
        id::AUTHENTICATION_METHOD => "Authentication Method",
        id::RESPONSE_INFORMATION => "Response Information",
        id::SERVER_REFERENCE => "Server Reference",
        id::REASON_STRING => "Reason String",
        id::USER_PROPERTY => "User Property",
        _ => "string property",
    }
}

/// Whether MQTT 5 defines the identifier at all; telling "unknown" from
/// "not allowed here" makes the error point at the right fault.
pub(crate) fn is_known(property: u8) -> bool {
    matches!(property, 0x01..=0x03 | 0x08 | 0x09 | 0x0B | 0x11..=0x13 | 0x15..=0x1A | 0x1C | 0x1F | 0x21..=0x2A)
}

pub(crate) mod decode {
    //! Reading property lists: the loop, and checked readers for values.

    use bytestring::ByteString;

    use super::{id, is_known};
    use crate::packet::reader::Reader;
    use crate::packet::{DecodeError, QoS};

    /// Reads a Property Length and the properties it covers, handing each
    /// identifier to `each`, which answers whether that packet allows it.
    pub(crate) fn properties<F>(r: &mut Reader, mut each: F) -> Result<(), DecodeError>
    where
        F: FnMut(u8, &mut Reader) -> Result<bool, DecodeError>,
    {
        let len = r.varint()?;
        if len == 0 {
            return Ok(());
        }
        r.limited(len as usize, |list| each_property(list, &mut each))
    }

    fn each_property<F>(list: &mut Reader, each: &mut F) -> Result<(), DecodeError>
    where
        F: FnMut(u8, &mut Reader) -> Result<bool, DecodeError>,
    {
        while !list.is_empty() {
            // Identifiers are Variable Byte Integers, but all defined ones are
            // below 0x80, so a byte with the continuation bit is unknown anyway.
            let property = list.u8()?;
            if !each(property, list)? {
                return Err(if is_known(property) {
                    DecodeError::PropertyNotAllowed {
                        property,
                        packet: list.packet(),
                    }
                } else {
                    DecodeError::UnknownProperty(property)
                });
            }
        }
        Ok(())
    }

    /// Stores a property that may appear at most once.
    pub(crate) fn once<T>(slot: &mut Option<T>, property: u8, value: T) -> Result<bool, DecodeError> {
        if slot.is_some() {
            return Err(DecodeError::DuplicateProperty(property));
        }
        *slot = Some(value);
        Ok(true)
    }

    /// A Byte property that is a boolean: anything but 0 or 1 is a Protocol Error.
    pub(crate) fn boolean(r: &mut Reader, property: u8) -> Result<bool, DecodeError> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::InvalidPropertyValue(property)),
        }
    }

    /// A Two Byte Integer for which 0 is a Protocol Error.
    pub(crate) fn nonzero_u16(r: &mut Reader, property: u8) -> Result<u16, DecodeError> {
        match r.u16()? {
            0 => Err(DecodeError::InvalidPropertyValue(property)),
            value => Ok(value),
        }
    }

    /// A Four Byte Integer for which 0 is a Protocol Error.
    pub(crate) fn nonzero_u32(r: &mut Reader, property: u8) -> Result<u32, DecodeError> {
        match r.u32()? {
            0 => Err(DecodeError::InvalidPropertyValue(property)),
            value => Ok(value),
        }
    }

    /// Maximum QoS: only 0 or 1 may be sent (a server supporting QoS 2 omits it).
    pub(crate) fn maximum_qos(r: &mut Reader) -> Result<QoS, DecodeError> {
        match r.u8()? {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            _ => Err(DecodeError::InvalidPropertyValue(id::MAXIMUM_QOS)),
        }
    }

    /// A Subscription Identifier: 1 to 268,435,455.
    pub(crate) fn subscription_identifier(r: &mut Reader) -> Result<u32, DecodeError> {
        match r.varint()? {
            0 => Err(DecodeError::InvalidPropertyValue(id::SUBSCRIPTION_IDENTIFIER)),
            value => Ok(value),
        }
    }

    /// A Response Topic is a Topic Name, so it may not hold wildcards (MQTT-3.3.2-14).
    pub(crate) fn response_topic(r: &mut Reader) -> Result<ByteString, DecodeError> {
        r.topic_name().map_err(|e| match e {
            DecodeError::WildcardInTopic => DecodeError::InvalidPropertyValue(id::RESPONSE_TOPIC),
            other => other,
        })
    }

    /// Appends one User Property pair.
    pub(crate) fn user_property(
        list: &mut Vec<(ByteString, ByteString)>,
        r: &mut Reader,
    ) -> Result<bool, DecodeError> {
        let name = r.string()?;
        let value = r.string()?;
        list.push((name, value));
        Ok(true)
    }

    /// Authentication Data without an Authentication Method is a Protocol Error.
    pub(crate) fn check_auth<T, U>(method: &Option<T>, data: &Option<U>) -> Result<(), DecodeError> {
        if data.is_some() && method.is_none() {
            return Err(DecodeError::InvalidPropertyValue(id::AUTHENTICATION_DATA));
        }
        Ok(())
    }
}

pub(crate) mod encode {
    //! Writing single properties: identifier, then value; absent ones write nothing.

    use bytes::Bytes;
    use bytestring::ByteString;

    use crate::packet::writer::Sink;
    use crate::packet::EncodeError;

    pub(crate) fn byte<S: Sink>(s: &mut S, property: u8, value: Option<u8>) {
        if let Some(value) = value {
            s.u8(property);
            s.u8(value);
        }
    }

    pub(crate) fn boolean<S: Sink>(s: &mut S, property: u8, value: Option<bool>) {
        byte(s, property, value.map(u8::from));
    }

    pub(crate) fn u16<S: Sink>(s: &mut S, property: u8, value: Option<u16>) {
        if let Some(value) = value {
            s.u8(property);
            s.u16(value);
        }
    }

    pub(crate) fn u32<S: Sink>(s: &mut S, property: u8, value: Option<u32>) {
        if let Some(value) = value {
            s.u8(property);
            s.u32(value);
        }
    }

    /// A Two Byte Integer whose value 0 the receiver would reject.
    pub(crate) fn nonzero_u16<S: Sink>(s: &mut S, property: u8, value: Option<u16>, err: EncodeError) {
        if value == Some(0) {
            s.fail(err);
        }
        u16(s, property, value);
    }

    /// A Four Byte Integer whose value 0 the receiver would reject.
    pub(crate) fn nonzero_u32<S: Sink>(s: &mut S, property: u8, value: Option<u32>, err: EncodeError) {
        if value == Some(0) {
            s.fail(err);
        }
        u32(s, property, value);
    }

    pub(crate) fn varint<S: Sink>(s: &mut S, property: u8, value: u32) {
        s.u8(property);
        s.varint(value);
    }

    pub(crate) fn string<S: Sink>(s: &mut S, property: u8, value: Option<&ByteString>) {
        if let Some(value) = value {
            s.u8(property);
            s.string(super::string_name(property), value);
        }
    }

    pub(crate) fn binary<S: Sink>(s: &mut S, property: u8, value: Option<&Bytes>) {
        if let Some(value) = value {
            s.u8(property);
            s.binary(value);
        }
    }

    pub(crate) fn user_properties<S: Sink>(s: &mut S, list: &[(ByteString, ByteString)]) {
        for (name, value) in list {
            s.u8(super::id::USER_PROPERTY);
            s.string("User Property", name);
            s.string("User Property", value);
        }
    }

    /// Authentication Data makes no sense without its method; the receiver
    /// would call it a Protocol Error.
    pub(crate) fn check_auth<S: Sink, T, U>(
        s: &mut S,
        packet: &'static str,
        method: &Option<T>,
        data: &Option<U>,
    ) {
        if data.is_some() && method.is_none() {
            s.fail(EncodeError::Invalid {
                packet,
                reason: "Authentication Data without Authentication Method",
            });
        }
    }
}
