//! Encoding and decoding of whole packets: the entry points and the fixed
//! header. Each packet's body lives next to its type.

use bytes::{BufMut, Bytes, BytesMut};

use super::reader::Reader;
use super::writer::{Counter, Sink};
use super::{
    varint, Auth, ConnAck, Connect, DecodeError, Disconnect, EncodeError, Packet, ProtocolVersion, PubAck,
    PubComp, PubRec, PubRel, Publish, SubAck, Subscribe, UnsubAck, Unsubscribe,
};

/// Appends `packet`, encoded for `version`, to `buf`.
///
/// The packet is measured and checked first, then `buf` grows once to the
/// exact size and the bytes are written; on error nothing is appended.
///
/// MQTT 5 short forms are used whenever they say the same thing (a PUBACK
/// with Success and no properties is four bytes, a normal DISCONNECT two).
/// In MQTT 3.1.1 properties and subscription options other than QoS do not
/// exist and are left out, but a reason code that 3.1.1 cannot express (a
/// failed PUBREC, a DISCONNECT reason, AUTH) is an
/// [`EncodeError::NotInVersion`] rather than silently becoming a success. A
/// CONNECT is written for its own `protocol`, which must equal `version`.
pub fn encode(packet: &Packet, version: ProtocolVersion, buf: &mut BytesMut) -> Result<(), EncodeError> {
    if let Packet::Publish(publish) = packet {
        if let Some(done) = publish.encode_plain(version, buf) {
            return done;
        }
    }
    encode_measured(packet, version, buf)
}

/// Every packet but the common PUBLISH: measured and checked by one run of
/// its writer, then written by a second. Kept out of line so the hot path
/// stays small.
#[inline(never)]
pub(crate) fn encode_measured(
    packet: &Packet,
    version: ProtocolVersion,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    let first = first_byte(packet, version)?;
    let body = body_len(packet, version)?;
    buf.reserve(1 + varint::len(body) + body);
    buf.put_u8(first);
    // body_len checked it against varint::MAX.
    varint::put(buf, body as u32);
    write_body(packet, version, buf);
    Ok(())
}

/// The number of bytes [`encode`] would append, fixed header included, or
/// the error it would return.
pub fn encoded_len(packet: &Packet, version: ProtocolVersion) -> Result<usize, EncodeError> {
    first_byte(packet, version)?;
    let body = body_len(packet, version)?;
    Ok(1 + varint::len(body) + body)
}

/// Takes one whole packet off the front of `buf`.
///
/// Returns `Ok(None)` and consumes nothing while the frame is incomplete. A
/// declared size above `max_packet_size` (fixed header included) is an error
/// as soon as the fixed header is read, before the body is buffered; so are
/// an unknown packet type and reserved flag bits, as soon as the first byte
/// is. A CONNECT is decoded for the protocol level it declares, whatever
/// `version` says.
///
/// After an error the connection is unusable (the specification requires
/// closing it), so how much of `buf` was consumed is unspecified.
#[inline]
pub fn decode(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    max_packet_size: u32,
) -> Result<Option<Packet>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    check_first_byte(first, version)?;
    let Some((remaining, len_len)) = varint::parse(buf.get(1..).unwrap_or_default())? else {
        return Ok(None);
    };
    let header = 1 + len_len;
    let size = header + remaining as usize;
    if size > max_packet_size as usize {
        return Err(DecodeError::PacketTooLarge {
            size,
            max: max_packet_size as usize,
        });
    }
    if buf.len() < size {
        return Ok(None);
    }
    let frame = buf.split_to(size).freeze();
    if first >> 4 == 3 {
        // The hot path, kept out of the large function for the other packets.
        return Publish::decode(first & 0x0F, frame, header, version).map(|p| Some(Packet::Publish(p)));
    }
    decode_frame(first, frame, header, version).map(Some)
}

/// Whether `buf` starts with a whole frame: one [`decode`] call away from a
/// packet (or from the error that frame holds). A malformed header is
/// `false`, like a partial frame: nothing more will be decoded from it.
pub(crate) fn has_frame(buf: &[u8]) -> bool {
    match varint::parse(buf.get(1..).unwrap_or_default()) {
        Ok(Some((remaining, len_len))) => buf.len() >= 1 + len_len + remaining as usize,
        _ => false,
    }
}

/// The name of a packet type, for errors raised before a body exists.
fn type_name(kind: u8) -> &'static str {
    match kind {
        1 => "CONNECT",
        2 => "CONNACK",
        3 => "PUBLISH",
        4 => "PUBACK",
        5 => "PUBREC",
        6 => "PUBREL",
        7 => "PUBCOMP",
        8 => "SUBSCRIBE",
        9 => "SUBACK",
        10 => "UNSUBSCRIBE",
        11 => "UNSUBACK",
        12 => "PINGREQ",
        13 => "PINGRESP",
        14 => "DISCONNECT",
        15 => "AUTH",
        _ => "reserved",
    }
}

/// Checks the packet type and the fixed header flags (MQTT-2.1.3-1).
fn check_first_byte(first: u8, version: ProtocolVersion) -> Result<(), DecodeError> {
    let kind = first >> 4;
    let flags = first & 0x0F;
    let expected = match kind {
        0 => return Err(DecodeError::UnknownPacketType(0)),
        3 => {
            return match (flags >> 1) & 0b11 {
                3 => Err(DecodeError::InvalidQoS(3)),
                _ => Ok(()),
            }
        }
        15 if version == ProtocolVersion::V311 => return Err(DecodeError::NotInVersion("AUTH")),
        6 | 8 | 10 => 0b0010,
        _ => 0,
    };
    if flags != expected {
        return Err(DecodeError::ReservedFlags {
            packet: type_name(kind),
            flags,
        });
    }
    Ok(())
}

/// Runs `read` over the body and insists it used every byte.
#[inline(always)]
fn body<T>(
    frame: Bytes,
    start: usize,
    packet: &'static str,
    read: impl FnOnce(&mut Reader) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let mut r = Reader::new(frame, start, packet);
    let value = read(&mut r)?;
    r.finish()?;
    Ok(value)
}

#[inline(never)]
fn decode_frame(first: u8, frame: Bytes, start: usize, v: ProtocolVersion) -> Result<Packet, DecodeError> {
    let kind = first >> 4;
    let name = type_name(kind);
    Ok(match kind {
        3 => Packet::Publish(Publish::decode(first & 0x0F, frame, start, v)?),
        1 => Packet::Connect(Box::new(body(frame, start, name, Connect::decode)?)),
        2 => Packet::ConnAck(body(frame, start, name, |r| ConnAck::decode(r, v))?),
        4 => Packet::PubAck(body(frame, start, name, |r| PubAck::decode(r, v))?),
        5 => Packet::PubRec(body(frame, start, name, |r| PubRec::decode(r, v))?),
        6 => Packet::PubRel(body(frame, start, name, |r| PubRel::decode(r, v))?),
        7 => Packet::PubComp(body(frame, start, name, |r| PubComp::decode(r, v))?),
        8 => Packet::Subscribe(body(frame, start, name, |r| Subscribe::decode(r, v))?),
        9 => Packet::SubAck(body(frame, start, name, |r| SubAck::decode(r, v))?),
        10 => Packet::Unsubscribe(body(frame, start, name, |r| Unsubscribe::decode(r, v))?),
        11 => Packet::UnsubAck(body(frame, start, name, |r| UnsubAck::decode(r, v))?),
        12 => body(frame, start, name, |_| Ok(Packet::PingReq))?,
        13 => body(frame, start, name, |_| Ok(Packet::PingResp))?,
        14 => Packet::Disconnect(body(frame, start, name, |r| Disconnect::decode(r, v))?),
        15 => Packet::Auth(body(frame, start, name, Auth::decode)?),
        _ => return Err(DecodeError::UnknownPacketType(kind)),
    })
}

/// The first byte of the fixed header: packet type and flags.
fn first_byte(packet: &Packet, version: ProtocolVersion) -> Result<u8, EncodeError> {
    Ok(match packet {
        Packet::Connect(connect) => {
            if connect.protocol != version {
                return Err(EncodeError::Invalid {
                    packet: "CONNECT",
                    reason: "its protocol differs from the version it is encoded for",
                });
            }
            0x10
        }
        Packet::ConnAck(_) => 0x20,
        Packet::Publish(publish) => 0x30 | publish.flags(),
        Packet::PubAck(_) => 0x40,
        Packet::PubRec(_) => 0x50,
        Packet::PubRel(_) => 0x62,
        Packet::PubComp(_) => 0x70,
        Packet::Subscribe(_) => 0x82,
        Packet::SubAck(_) => 0x90,
        Packet::Unsubscribe(_) => 0xA2,
        Packet::UnsubAck(_) => 0xB0,
        Packet::PingReq => 0xC0,
        Packet::PingResp => 0xD0,
        Packet::Disconnect(_) => 0xE0,
        Packet::Auth(_) => {
            if version == ProtocolVersion::V311 {
                return Err(EncodeError::NotInVersion("AUTH"));
            }
            0xF0
        }
    })
}

/// The size [`encode`] would give a PUBLISH, or its error: for checks
/// made before a publish is queued, without wrapping it in a [`Packet`].
pub(crate) fn publish_len(publish: &Publish, version: ProtocolVersion) -> Result<usize, EncodeError> {
    let mut counter = Counter::default();
    publish.write(version, &mut counter);
    let body = counter.finish()?;
    if body > varint::MAX as usize {
        return Err(EncodeError::PacketTooLarge(body));
    }
    Ok(1 + varint::len(body) + body)
}

/// Measures and validates the body in one pass.
fn body_len(packet: &Packet, version: ProtocolVersion) -> Result<usize, EncodeError> {
    let mut counter = Counter::default();
    write_body(packet, version, &mut counter);
    let len = counter.finish()?;
    if len > varint::MAX as usize {
        return Err(EncodeError::PacketTooLarge(len));
    }
    Ok(len)
}

#[inline]
fn write_body<S: Sink>(packet: &Packet, version: ProtocolVersion, s: &mut S) {
    match packet {
        Packet::Publish(p) => p.write(version, s),
        Packet::Connect(p) => p.write(s),
        Packet::ConnAck(p) => p.write(version, s),
        Packet::PubAck(p) => p.write(version, s),
        Packet::PubRec(p) => p.write(version, s),
        Packet::PubRel(p) => p.write(version, s),
        Packet::PubComp(p) => p.write(version, s),
        Packet::Subscribe(p) => p.write(version, s),
        Packet::SubAck(p) => p.write(version, s),
        Packet::Unsubscribe(p) => p.write(version, s),
        Packet::UnsubAck(p) => p.write(version, s),
        Packet::PingReq | Packet::PingResp => {}
        Packet::Disconnect(p) => p.write(version, s),
        Packet::Auth(p) => p.write(s),
    }
}
