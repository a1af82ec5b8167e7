//! Variable Byte Integers (MQTT 5 section 1.5.5, 3.1.1 section 2.2.3).

use bytes::BufMut;

use super::DecodeError;

/// The largest value four bytes can carry.
pub(crate) const MAX: u32 = 268_435_455;

/// Bytes needed to encode `value` (values above [`MAX`] are rejected before
/// anything is written, so the answer for them does not matter).
#[inline]
pub(crate) fn len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Appends `value`, which the caller has checked against [`MAX`].
#[inline]
pub(crate) fn put(buf: &mut impl BufMut, mut value: u32) {
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            buf.put_u8(byte);
            return;
        }
        buf.put_u8(byte | 0x80);
    }
}

/// Parses a Variable Byte Integer at the start of `bytes`.
///
/// `Ok(None)` means more bytes are needed; the value comes with the number
/// of bytes it took. A fourth byte with the continuation bit, or an encoding
/// longer than needed (a last byte of 0 after a continuation), is malformed:
/// accepting either would let two byte strings mean the same packet.
#[inline]
pub(crate) fn parse(bytes: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    let mut value = 0u32;
    for (i, &byte) in bytes.iter().take(4).enumerate() {
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            if i > 0 && byte == 0 {
                return Err(DecodeError::MalformedVarInt);
            }
            return Ok(Some((value, i + 1)));
        }
    }
    if bytes.len() >= 4 {
        Err(DecodeError::MalformedVarInt)
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_round_trip() {
        for (value, bytes) in [
            (0u32, &[0x00][..]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xFF, 0xFF, 0x7F]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (MAX, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ] {
            let mut out = Vec::new();
            put(&mut out, value);
            assert_eq!(out, bytes, "encoding {value}");
            assert_eq!(len(value as usize), bytes.len());
            assert_eq!(parse(bytes), Ok(Some((value, bytes.len()))));
        }
    }

    #[test]
    fn rejects_overlong_and_non_minimal() {
        assert_eq!(
            parse(&[0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(DecodeError::MalformedVarInt)
        );
        assert_eq!(
            parse(&[0xFF, 0xFF, 0xFF, 0xFF]),
            Err(DecodeError::MalformedVarInt)
        );
        assert_eq!(parse(&[0x80, 0x00]), Err(DecodeError::MalformedVarInt));
        assert_eq!(parse(&[0xFF, 0x80, 0x00]), Err(DecodeError::MalformedVarInt));
    }

    #[test]
    fn partial_is_none() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&[0x80]), Ok(None));
        assert_eq!(parse(&[0x80, 0x80, 0x80]), Ok(None));
    }
}
