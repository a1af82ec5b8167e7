//! A bounds-checked cursor over one received frame.
//!
//! Every read returns an error instead of panicking when the frame is too
//! short, and every string or binary field comes out as a slice of the frame
//! (`Bytes::slice` bumps a reference count; nothing is copied). PUBLISH, the
//! hot path, reads its fixed fields without a reader (see `Publish::decode`).
//!
//! Invariant: `pos <= end <= frame.len()`.

use std::num::NonZeroU16;

use bytes::Bytes;
use bytestring::ByteString;

use super::topic::{self, Scanned};
use super::{varint, DecodeError, PacketId};

/// Reads the fields of one packet body, `pos..end` of `frame`.
pub(crate) struct Reader {
    frame: Bytes,
    pos: usize,
    end: usize,
    packet: &'static str,
}

impl Reader {
    /// A reader over `frame[start..]`, reporting errors against `packet`.
    pub(crate) fn new(frame: Bytes, start: usize, packet: &'static str) -> Self {
        let end = frame.len();
        Reader {
            frame,
            pos: start.min(end),
            end,
            packet,
        }
    }

    /// Where the next read starts, as an offset into the frame.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The name errors are reported against.
    pub(crate) fn packet(&self) -> &'static str {
        self.packet
    }

    fn short(&self) -> DecodeError {
        DecodeError::LengthMismatch(self.packet)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    /// Fails unless every byte has been read: trailing bytes mean the
    /// declared length and the fields disagree.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.short())
        }
    }

    fn advance_to(&mut self, len: usize) -> Result<usize, DecodeError> {
        match self.pos.checked_add(len) {
            Some(end) if end <= self.end => Ok(end),
            _ => Err(self.short()),
        }
    }

    fn take(&mut self, len: usize) -> Result<&[u8], DecodeError> {
        let start = self.pos;
        let end = self.advance_to(len)?;
        self.pos = end;
        self.frame
            .get(start..end)
            .ok_or(DecodeError::LengthMismatch(self.packet))
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let [byte] = self.array::<1>()?;
        Ok(byte)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let packet = self.packet;
        let bytes = self.take(N)?;
        <[u8; N]>::try_from(bytes).map_err(|_| DecodeError::LengthMismatch(packet))
    }

    /// A Variable Byte Integer that must end inside the body.
    pub(crate) fn varint(&mut self) -> Result<u32, DecodeError> {
        let rest = self.frame.get(self.pos..self.end).unwrap_or_default();
        match varint::parse(rest)? {
            Some((value, len)) => {
                self.pos += len;
                Ok(value)
            }
            None => Err(self.short()),
        }
    }

    pub(crate) fn packet_id(&mut self) -> Result<PacketId, DecodeError> {
        NonZeroU16::new(self.u16()?).ok_or(DecodeError::ZeroPacketId(self.packet))
    }

    /// The next `len` bytes as a slice of the frame.
    pub(crate) fn bytes(&mut self, len: usize) -> Result<Bytes, DecodeError> {
        let end = self.advance_to(len)?;
        let bytes = self.frame.slice(self.pos..end);
        self.pos = end;
        Ok(bytes)
    }

    /// Binary Data: a two-byte length and that many bytes.
    pub(crate) fn binary(&mut self) -> Result<Bytes, DecodeError> {
        let len = self.u16()?;
        self.bytes(usize::from(len))
    }

    /// A UTF-8 Encoded String.
    pub(crate) fn string(&mut self) -> Result<ByteString, DecodeError> {
        let bytes = self.binary()?;
        to_string(bytes)
    }

    /// A Topic Name (see [`topic_name`]).
    pub(crate) fn topic_name(&mut self) -> Result<ByteString, DecodeError> {
        let bytes = self.binary()?;
        topic_name(bytes)
    }

    /// Runs `read` with the reader limited to the next `len` bytes, so a
    /// property list cannot run past its declared length; `read` must use
    /// all of them.
    pub(crate) fn limited<T>(
        &mut self,
        len: usize,
        read: impl FnOnce(&mut Reader) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        let limit = self.advance_to(len)?;
        let end = std::mem::replace(&mut self.end, limit);
        let value = read(self)?;
        self.finish()?;
        self.end = end;
        Ok(value)
    }
}

/// Validates a UTF-8 Encoded String (MQTT-1.5.4-1, MQTT-1.5.4-2).
pub(crate) fn to_string(bytes: Bytes) -> Result<ByteString, DecodeError> {
    checked_string(topic::scan_owned(bytes))
}

/// Validates a Topic Name: a string without wildcards (it may be empty
/// here; only the caller knows whether a Topic Alias stands in for it).
#[inline]
pub(crate) fn topic_name(bytes: Bytes) -> Result<ByteString, DecodeError> {
    let bytes = match topic::plain_ascii(bytes) {
        Ok(ascii) => return Ok(ascii.into_string()),
        Err(bytes) => bytes,
    };
    let found = topic::scan_owned(bytes);
    if found.wildcard && !found.null {
        return Err(DecodeError::WildcardInTopic);
    }
    checked_string(found)
}

/// Finishes the check `scan` began: ASCII needs no UTF-8 decoding.
#[inline]
fn checked_string(found: Scanned) -> Result<ByteString, DecodeError> {
    if found.null {
        return Err(DecodeError::NullCharacter);
    }
    match found.text {
        Ok(ascii) => Ok(ascii.into_string()),
        Err(bytes) => ByteString::try_from(bytes).map_err(|_| DecodeError::InvalidUtf8),
    }
}
