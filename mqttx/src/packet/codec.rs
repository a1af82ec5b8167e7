//! Encoding and decoding of whole packets.
//!
//! PLACEHOLDER: the codec is being written on the `codec` branch; this file
//! only fixes the signatures the rest of the crate builds against.

use bytes::BytesMut;

use super::{DecodeError, EncodeError, Packet, ProtocolVersion};

/// Appends `packet`, encoded for `version`, to `buf`.
///
/// On error nothing is appended.
pub fn encode(packet: &Packet, version: ProtocolVersion, buf: &mut BytesMut) -> Result<(), EncodeError> {
    let _ = (packet, version, buf);
    Err(EncodeError::Invalid {
        packet: "any",
        reason: "codec not built yet",
    })
}

/// The number of bytes [`encode`] would append, fixed header included.
pub fn encoded_len(packet: &Packet, version: ProtocolVersion) -> Result<usize, EncodeError> {
    let _ = (packet, version);
    Ok(0)
}

/// Takes one whole packet off the front of `buf`.
///
/// Returns `Ok(None)` and consumes nothing while the frame is incomplete. A
/// declared size above `max_packet_size` (fixed header included) is an error
/// as soon as the fixed header is read, before the body is buffered.
pub fn decode(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    max_packet_size: u32,
) -> Result<Option<Packet>, DecodeError> {
    let _ = (buf, version, max_packet_size);
    Ok(None)
}
