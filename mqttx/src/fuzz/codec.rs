//! The decoder targets: bytes from a server, decoded until they run out.

use bytes::BytesMut;

use crate::packet::{decode, encode, encoded_len, has_frame, Packet, ProtocolVersion};

/// Large enough for anything libFuzzer makes (4 KiB by default), small
/// enough that a declared size past it is refused as the client would.
const MAX_PACKET_SIZE: u32 = 1 << 20;

/// Decodes packets off the front of `data` until it is empty, incomplete
/// or malformed, checking each step against `has_frame` and each packet
/// against its own encoding.
pub(super) fn decode_all(data: &[u8], version: ProtocolVersion) {
    let mut buf = BytesMut::from(data);
    loop {
        let framed = has_frame(&buf);
        let before = buf.len();
        match decode(&mut buf, version, MAX_PACKET_SIZE) {
            Ok(Some(packet)) => {
                // The connection reads until has_frame says a packet is there.
                assert!(framed, "decoded a packet that has_frame did not see");
                round_trip(&packet, version);
            }
            Ok(None) => {
                assert!(!framed, "has_frame saw a frame that decode found incomplete");
                assert_eq!(buf.len(), before, "an incomplete frame was consumed");
                return;
            }
            Err(_) => return,
        }
    }
}

/// What the client writes, it reads back unchanged: a decoded packet
/// that encodes must decode to itself, at the length `encoded_len` said.
/// Encoding may refuse what decoding accepted (a client never re-sends a
/// server's packet), but never panic.
fn round_trip(packet: &Packet, version: ProtocolVersion) {
    // A CONNECT is written for the protocol level it names.
    let version = match packet {
        Packet::Connect(connect) => connect.protocol,
        _ => version,
    };
    let mut bytes = BytesMut::new();
    let written = encode(packet, version, &mut bytes);
    let measured = encoded_len(packet, version);
    match (written, measured) {
        (Ok(()), Ok(len)) => assert_eq!(len, bytes.len(), "encoded_len disagrees with encode"),
        (Err(_), Err(_)) => return,
        (written, measured) => panic!("encode {written:?} but encoded_len {measured:?} for {packet:?}"),
    }
    let again = decode(&mut bytes, version, u32::MAX);
    assert_eq!(
        again.as_ref().ok().and_then(Option::as_ref),
        Some(packet),
        "re-encoded packet decodes differently: {again:?}"
    );
    assert!(bytes.is_empty(), "re-encoded packet left {} bytes", bytes.len());
}
