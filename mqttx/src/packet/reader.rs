//! A bounds-checked cursor over one received frame.
//!
//! Every read returns an error instead of panicking when the frame is too
//! short, and every string or binary field comes out as a slice of the frame
//! (`Bytes::slice` bumps a reference count; nothing is copied).

use std::num::NonZeroU16;

use bytes::Bytes;
use bytestring::ByteString;

use super::{varint, DecodeError, PacketId};

/// Reads the fields of one packet body, `pos..end` of `frame`.
pub(crate) struct Reader<'a> {
    frame: &'a Bytes,
    pos: usize,
    end: usize,
    packet: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `frame[start..]`, reporting errors against `packet`.
    pub(crate) fn new(frame: &'a Bytes, start: usize, packet: &'static str) -> Self {
        Reader {
            frame,
            pos: start.min(frame.len()),
            end: frame.len(),
            packet,
        }
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

    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.advance_to(len)?;
        let frame: &'a Bytes = self.frame;
        let bytes = frame.get(self.pos..end).ok_or_else(|| self.short())?;
        self.pos = end;
        Ok(bytes)
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
        let bytes = self.take(N)?;
        <[u8; N]>::try_from(bytes).map_err(|_| self.short())
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

    /// A Topic Name: a string without wildcards (it may be empty here; only
    /// the caller knows whether a Topic Alias stands in for it).
    pub(crate) fn topic_name(&mut self) -> Result<ByteString, DecodeError> {
        let bytes = self.binary()?;
        match scan(&bytes) {
            Scan::Null => Err(DecodeError::NullCharacter),
            Scan::Wildcard => Err(DecodeError::WildcardInTopic),
            Scan::Clean => ByteString::try_from(bytes).map_err(|_| DecodeError::InvalidUtf8),
        }
    }

    /// Everything up to the end of the body (a PUBLISH payload).
    pub(crate) fn rest(&mut self) -> Bytes {
        let bytes = self.frame.slice(self.pos..self.end);
        self.pos = self.end;
        bytes
    }

    /// Splits off the next `len` bytes as a reader of their own, so a
    /// property list cannot run past its declared length.
    pub(crate) fn sub(&mut self, len: usize) -> Result<Reader<'a>, DecodeError> {
        let end = self.advance_to(len)?;
        let sub = Reader {
            frame: self.frame,
            pos: self.pos,
            end,
            packet: self.packet,
        };
        self.pos = end;
        Ok(sub)
    }
}

/// Validates a UTF-8 Encoded String (MQTT-1.5.4-1, MQTT-1.5.4-2).
pub(crate) fn to_string(bytes: Bytes) -> Result<ByteString, DecodeError> {
    if scan(&bytes) == Scan::Null {
        return Err(DecodeError::NullCharacter);
    }
    ByteString::try_from(bytes).map_err(|_| DecodeError::InvalidUtf8)
}

#[derive(PartialEq, Eq)]
enum Scan {
    Clean,
    Wildcard,
    Null,
}

/// Looks for U+0000 and wildcards in one pass. The fold has no early exit,
/// so it compiles to a branch-free loop; topics are short.
#[inline]
fn scan(bytes: &[u8]) -> Scan {
    let (null, wildcard) = bytes.iter().fold((false, false), |(null, wildcard), &b| {
        (null | (b == 0), wildcard | (b == b'+') | (b == b'#'))
    });
    if null {
        Scan::Null
    } else if wildcard {
        Scan::Wildcard
    } else {
        Scan::Clean
    }
}
