//! Where encoded bytes go: a [`Counter`] that measures and validates, or the
//! caller's `BytesMut`.
//!
//! Each packet has one `write` function generic over [`Sink`]. Running it on
//! a [`Counter`] first gives the exact size and every encoding error before a
//! byte is appended; running it again on the buffer writes exactly that many
//! bytes. One function for both means the length and the bytes cannot drift
//! apart.

use bytes::{BufMut, BytesMut};

use super::{varint, EncodeError, LazyBox, StaticDefault};

/// A destination for packet fields.
pub(crate) trait Sink {
    /// Whether checks that can only fail should run: true for the counting
    /// pass, false for the writing pass that follows a successful count.
    const VALIDATES: bool;

    fn u8(&mut self, value: u8);
    fn u16(&mut self, value: u16);
    fn u32(&mut self, value: u32);
    fn varint(&mut self, value: u32);
    /// Bytes without a length prefix (a PUBLISH payload).
    fn raw(&mut self, bytes: &[u8]);
    /// Binary Data: a two-byte length, then the bytes.
    fn binary(&mut self, bytes: &[u8]);
    /// A property list with its Property Length in front.
    fn properties<P: WriteProperties>(&mut self, properties: &P);
    /// Records that the packet cannot be encoded. Only the [`Counter`] pass
    /// can see this, and it runs first.
    fn fail(&mut self, error: EncodeError);

    /// A UTF-8 Encoded String; `field` names it in the error when it
    /// holds U+0000, which no string may [MQTT-1.5.4-2].
    #[inline]
    fn string(&mut self, field: &'static str, value: &str) {
        if Self::VALIDATES {
            if let Err(error) = check_text(field, value) {
                self.fail(error);
            }
        }
        self.binary(value.as_bytes());
    }
}

/// Whether `value` may be sent as a UTF-8 Encoded String: it is UTF-8 by
/// construction, so only U+0000 is left to refuse [MQTT-1.5.4-2]. One
/// `memchr` pass (what `<[u8]>::contains` compiles to for a byte).
#[inline]
pub(crate) fn check_text(field: &'static str, value: &str) -> Result<(), EncodeError> {
    if value.as_bytes().contains(&0) {
        return Err(EncodeError::NullCharacter(field));
    }
    Ok(())
}

/// A property list that can write itself (without its length) to a sink.
pub(crate) trait WriteProperties {
    fn write_to<S: Sink>(&self, sink: &mut S);

    /// A cheap check that lets the common "no properties" case skip the
    /// field-by-field walk.
    fn is_empty(&self) -> bool {
        false
    }
}

/// An unset box writes as an empty list without looking inside.
impl<P: WriteProperties + StaticDefault> WriteProperties for LazyBox<P> {
    fn write_to<S: Sink>(&self, sink: &mut S) {
        (**self).write_to(sink)
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.get().is_none_or(WriteProperties::is_empty)
    }
}

/// Counts bytes and keeps the first error.
#[derive(Default)]
pub(crate) struct Counter {
    len: usize,
    error: Option<EncodeError>,
}

impl Counter {
    pub(crate) fn finish(self) -> Result<usize, EncodeError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.len),
        }
    }
}

impl Sink for Counter {
    const VALIDATES: bool = true;

    #[inline]
    fn u8(&mut self, _: u8) {
        self.len += 1;
    }

    #[inline]
    fn u16(&mut self, _: u16) {
        self.len += 2;
    }

    #[inline]
    fn u32(&mut self, _: u32) {
        self.len += 4;
    }

    #[inline]
    fn varint(&mut self, value: u32) {
        if value > varint::MAX {
            self.fail(EncodeError::Invalid {
                packet: "variable byte integer",
                reason: "value above 268,435,455",
            });
        }
        self.len += varint::len(value as usize);
    }

    #[inline]
    fn raw(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
    }

    #[inline]
    fn binary(&mut self, bytes: &[u8]) {
        if bytes.len() > usize::from(u16::MAX) {
            self.fail(EncodeError::FieldTooLong(bytes.len()));
        }
        self.len += 2 + bytes.len();
    }

    #[inline]
    fn properties<P: WriteProperties>(&mut self, properties: &P) {
        if properties.is_empty() {
            self.len += 1;
            return;
        }
        let start = self.len;
        properties.write_to(self);
        let len = self.len - start;
        if len > varint::MAX as usize {
            self.fail(EncodeError::PacketTooLarge(len));
        }
        self.len += varint::len(len);
    }

    fn fail(&mut self, error: EncodeError) {
        self.error.get_or_insert(error);
    }
}

/// Writes into the caller's buffer, which the codec has already reserved
/// to the exact size, so none of these calls reallocates.
impl Sink for BytesMut {
    const VALIDATES: bool = false;

    #[inline]
    fn u8(&mut self, value: u8) {
        self.put_u8(value);
    }

    #[inline]
    fn u16(&mut self, value: u16) {
        self.put_u16(value);
    }

    #[inline]
    fn u32(&mut self, value: u32) {
        self.put_u32(value);
    }

    #[inline]
    fn varint(&mut self, value: u32) {
        varint::put(self, value);
    }

    #[inline]
    fn raw(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    #[inline]
    fn binary(&mut self, bytes: &[u8]) {
        // The counter pass rejected anything longer than u16::MAX.
        self.put_u16(bytes.len() as u16);
        self.extend_from_slice(bytes);
    }

    #[inline]
    fn properties<P: WriteProperties>(&mut self, properties: &P) {
        if properties.is_empty() {
            self.put_u8(0);
            return;
        }
        let mut counter = Counter::default();
        properties.write_to(&mut counter);
        varint::put(self, counter.len as u32);
        properties.write_to(self);
    }

    fn fail(&mut self, _: EncodeError) {}
}
