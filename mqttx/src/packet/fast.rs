//! The PUBLISH hot path: a PUBLISH without properties (every 3.1.1 PUBLISH,
//! and an MQTT 5 one whose Property Length is 0), encoded and decoded
//! without the general reader and the measure-then-write pass.
//!
//! It produces the same bytes, values and errors as the general path
//! (`Publish::write`, `Publish::decode_into`), which the property tests
//! check against each other; anything else is left to that path.

use std::num::NonZeroU16;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use bytestring::ByteString;

use super::{topic, varint, DecodeError, EncodeError, ProtocolVersion, Publish, PublishProperties, QoS};

const NAME: &str = "PUBLISH";

/// Where the fields of a PUBLISH frame are, once they have been checked.
pub(crate) struct Layout {
    /// Offset of the Topic Name in the frame, and its length.
    topic_start: usize,
    topic_len: usize,
    packet_id: Option<NonZeroU16>,
    /// Offset of the payload in the frame.
    payload_start: usize,
}

/// Checks the fields of a PUBLISH frame whose body starts at `header`.
///
/// `Ok(None)` when it carries MQTT 5 properties: the general path decodes
/// those. Errors are the ones the general path would return.
#[inline(always)]
pub(crate) fn publish_layout(
    flags: u8,
    frame: &[u8],
    header: usize,
    version: ProtocolVersion,
) -> Result<Option<Layout>, DecodeError> {
    let short = DecodeError::LengthMismatch(NAME);
    let body = frame.get(header..).unwrap_or_default();
    let [hi, lo, rest @ ..] = body else {
        return Err(short);
    };
    let topic_len = usize::from(u16::from_be_bytes([*hi, *lo]));
    let Some((topic, rest)) = rest.split_at_checked(topic_len) else {
        return Err(short);
    };
    check_topic(topic)?;
    let (packet_id, rest) = if flags & 0b0110 == 0 {
        (None, rest)
    } else {
        let [hi, lo, rest @ ..] = rest else {
            return Err(short);
        };
        let id = NonZeroU16::new(u16::from_be_bytes([*hi, *lo])).ok_or(DecodeError::ZeroPacketId(NAME))?;
        (Some(id), rest)
    };
    let rest = match (version, rest) {
        (ProtocolVersion::V311, rest) => rest,
        (ProtocolVersion::V5, [0, rest @ ..]) => rest,
        (ProtocolVersion::V5, []) => return Err(short),
        (ProtocolVersion::V5, _) => return Ok(None),
    };
    // Without properties there is no Topic Alias to stand in for the topic.
    if topic_len == 0 {
        return Err(DecodeError::EmptyTopic);
    }
    Ok(Some(Layout {
        topic_start: header + 2,
        topic_len,
        packet_id,
        payload_start: frame.len() - rest.len(),
    }))
}

/// Succeeds only for valid UTF-8 without U+0000 and wildcards; the error
/// for anything else is the general path's, in its order.
#[inline(always)]
fn check_topic(topic: &[u8]) -> Result<(), DecodeError> {
    if topic::is_plain(topic) {
        return Ok(());
    }
    check_topic_closer(topic)
}

#[cold]
fn check_topic_closer(topic: &[u8]) -> Result<(), DecodeError> {
    match topic::scan(topic) {
        (true, _) => Err(DecodeError::NullCharacter),
        (false, true) => Err(DecodeError::WildcardInTopic),
        (false, false) => match std::str::from_utf8(topic) {
            Ok(_) => Ok(()),
            Err(_) => Err(DecodeError::InvalidUtf8),
        },
    }
}

impl Layout {
    /// Builds the PUBLISH from the frame `publish_layout` checked. The topic
    /// is a slice of the frame; the frame itself becomes the payload.
    ///
    /// # Safety
    ///
    /// `frame` must hold exactly the bytes this layout was made from by
    /// `publish_layout`: the topic is taken as UTF-8 without a second check.
    #[inline(always)]
    pub(crate) unsafe fn build(self, flags: u8, frame: Bytes) -> Publish {
        let topic_end = self.topic_start + self.topic_len;
        let topic = frame.slice(self.topic_start..topic_end);
        // SAFETY: `frame` holds the bytes `publish_layout` checked (this
        // function's precondition), and it returned this layout only after
        // `check_topic` accepted exactly these topic bytes, which it does
        // only for ASCII (`topic::is_plain`) or after `str::from_utf8`
        // succeeded.
        let topic = unsafe { ByteString::from_bytes_unchecked(topic) };
        let mut payload = frame;
        payload.advance(self.payload_start);
        let qos = match (flags >> 1) & 0b11 {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            // 3 was rejected with the first byte.
            _ => QoS::ExactlyOnce,
        };
        Publish {
            dup: flags & 0b1000 != 0,
            qos,
            retain: flags & 1 != 0,
            topic,
            packet_id: self.packet_id,
            properties: PublishProperties::default(),
            payload,
        }
    }
}

/// Whether [`encode_publish`] handles `publish` for `version`.
#[inline(always)]
pub(crate) fn encodes(publish: &Publish, version: ProtocolVersion) -> bool {
    use super::writer::WriteProperties;
    version == ProtocolVersion::V311 || publish.properties.is_empty()
}

/// The general path's checks (`Publish::validate`), in its order, for a
/// PUBLISH without properties that the quick check did not vouch for.
#[cold]
fn check_closer(p: &Publish) -> Result<(), EncodeError> {
    match (p.qos, p.packet_id) {
        (QoS::AtMostOnce, Some(_)) => return Err(invalid("QoS 0 with a packet identifier")),
        (QoS::AtLeastOnce | QoS::ExactlyOnce, None) => {
            return Err(invalid("QoS 1 or 2 without a packet identifier"))
        }
        _ => {}
    }
    if p.dup && p.qos == QoS::AtMostOnce {
        return Err(invalid("DUP set on QoS 0"));
    }
    if p.topic.is_empty() {
        // No properties, so no Topic Alias.
        return Err(invalid("empty topic name without a Topic Alias"));
    }
    if !topic::valid_topic_name(&p.topic) {
        return Err(invalid("wildcard or U+0000 in the topic name"));
    }
    Ok(())
}

fn invalid(reason: &'static str) -> EncodeError {
    EncodeError::Invalid { packet: NAME, reason }
}

/// Appends a PUBLISH that [`encodes`] accepted: its size is a sum of
/// lengths, so it is checked once and written in one go.
#[inline]
pub(crate) fn encode_publish(
    p: &Publish,
    version: ProtocolVersion,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    let v5 = version == ProtocolVersion::V5;
    let topic = p.topic.as_bytes();
    // The usual case is checked with few branches; anything else takes the
    // general path's checks, in its order, to find the error (if any).
    let ids_fit = match p.qos {
        QoS::AtMostOnce => p.packet_id.is_none() && !p.dup,
        QoS::AtLeastOnce | QoS::ExactlyOnce => p.packet_id.is_some(),
    };
    // Also rejects the empty topic: without properties there is no alias.
    let length_fits = topic.len().wrapping_sub(1) < usize::from(u16::MAX);
    if !(ids_fit & length_fits) || !topic::is_plain(topic) {
        check_closer(p)?;
    }
    let topic_len = topic.len() as u16;
    let id_len = if p.packet_id.is_some() { 2 } else { 0 };
    let body = 2 + topic.len() + id_len + usize::from(v5) + p.payload.len();
    if body > varint::MAX as usize {
        return Err(EncodeError::PacketTooLarge(body));
    }
    buf.reserve(1 + varint::len(body) + body);
    let first = 0x30 | p.flags();
    let [topic_hi, topic_lo] = topic_len.to_be_bytes();
    if body < 128 {
        // Fixed header and topic length in one store.
        buf.put_u32(u32::from_be_bytes([first, body as u8, topic_hi, topic_lo]));
    } else {
        buf.put_u8(first);
        varint::put(buf, body as u32);
        buf.put_u16(topic_len);
    }
    buf.extend_from_slice(topic);
    if let Some(id) = p.packet_id {
        buf.put_u16(id.get());
    }
    if v5 {
        // An empty property list.
        buf.put_u8(0);
    }
    buf.extend_from_slice(&p.payload);
    Ok(())
}
