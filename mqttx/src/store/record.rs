//! The on-disk form of session changes: length-prefixed, checksummed
//! frames, so a frame torn by a crash mid-write is recognised and dropped.
//!
//! ```text
//! file   = MAGIC frame*
//! frame  = len:u32le crc32(body):u32le body        (len = body length)
//! body   = 1 seq:u64le released:u8 PUBLISH         (MQTT 5 encoding, packet id set)
//!        | 2 seq:u64le                             (released)
//!        | 3 seq:u64le                             (completed)
//!        | 4 id:u16le | 5 id:u16le                 (incoming received / released)
//!        | 6                                       (incoming cleared)
//! ```

use bytes::{Buf, BufMut, BytesMut};

use crate::packet::{decode, encode, Packet, PacketId, ProtocolVersion};

use super::{SessionChange, StoredPublish};

/// The first bytes of every session file: format and version.
pub(crate) const MAGIC: &[u8; 8] = b"MQTTXS1\n";

const HEADER: usize = 8;

/// Appends one change as a frame.
pub(crate) fn write(change: &SessionChange, out: &mut BytesMut) -> Result<(), String> {
    let start = out.len();
    out.put_u64_le(0); // header, filled in below
    match change {
        SessionChange::Publish(stored) => {
            out.put_u8(1);
            out.put_u64_le(stored.seq);
            out.put_u8(u8::from(stored.released));
            let packet = Packet::Publish(stored.publish.clone());
            if let Err(err) = encode(&packet, ProtocolVersion::V5, out) {
                out.truncate(start);
                return Err(format!("cannot encode the publish: {err}"));
            }
        }
        SessionChange::Released { seq } => {
            out.put_u8(2);
            out.put_u64_le(*seq);
        }
        SessionChange::Completed { seq } => {
            out.put_u8(3);
            out.put_u64_le(*seq);
        }
        SessionChange::IncomingReceived(id) => {
            out.put_u8(4);
            out.put_u16_le(id.get());
        }
        SessionChange::IncomingReleased(id) => {
            out.put_u8(5);
            out.put_u16_le(id.get());
        }
        SessionChange::IncomingCleared => out.put_u8(6),
    }
    let body = out.get(start + HEADER..).unwrap_or_default();
    let len = u32::try_from(body.len()).map_err(|_| "record over 4 GiB".to_owned())?;
    let crc = crc32(body);
    if let Some(header) = out.get_mut(start..start + 4) {
        header.copy_from_slice(&len.to_le_bytes());
    }
    if let Some(header) = out.get_mut(start + 4..start + HEADER) {
        header.copy_from_slice(&crc.to_le_bytes());
    }
    Ok(())
}

/// What reading frames from a buffer found.
#[derive(Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // short-lived, never stored
pub(crate) enum Read {
    /// A whole, valid frame of this many bytes.
    Change(SessionChange, usize),
    /// The end of the buffer, exactly.
    End,
    /// A frame cut short or failing its checksum: a crash mid-write. It
    /// and everything after it are to be dropped.
    Torn,
}

/// Reads the frame at the start of `buf`.
pub(crate) fn read(buf: &[u8]) -> Read {
    if buf.is_empty() {
        return Read::End;
    }
    let Some((header, rest)) = buf.split_first_chunk::<HEADER>() else {
        return Read::Torn;
    };
    let (len, crc) = header.split_at(4);
    let len = u32::from_le_bytes(len.try_into().unwrap_or_default()) as usize;
    let crc = u32::from_le_bytes(crc.try_into().unwrap_or_default());
    let Some(body) = rest.get(..len) else {
        return Read::Torn;
    };
    if crc32(body) != crc {
        return Read::Torn;
    }
    match parse(body) {
        Some(change) => Read::Change(change, HEADER + len),
        None => Read::Torn,
    }
}

fn parse(mut body: &[u8]) -> Option<SessionChange> {
    let kind = *body.first()?;
    body.advance(1);
    let id = |body: &[u8]| -> Option<PacketId> {
        let bytes: [u8; 2] = body.get(..2)?.try_into().ok()?;
        PacketId::new(u16::from_le_bytes(bytes))
    };
    let seq = |body: &[u8]| -> Option<u64> { Some(u64::from_le_bytes(body.get(..8)?.try_into().ok()?)) };
    Some(match kind {
        1 => {
            let seq = seq(body)?;
            let released = *body.get(8)? != 0;
            let mut packet = BytesMut::from(body.get(9..)?);
            let Ok(Some(Packet::Publish(publish))) = decode(&mut packet, ProtocolVersion::V5, u32::MAX)
            else {
                return None;
            };
            SessionChange::Publish(StoredPublish {
                seq,
                publish,
                released,
            })
        }
        2 => SessionChange::Released { seq: seq(body)? },
        3 => SessionChange::Completed { seq: seq(body)? },
        4 => SessionChange::IncomingReceived(id(body)?),
        5 => SessionChange::IncomingReleased(id(body)?),
        6 => SessionChange::IncomingCleared,
        _ => return None,
    })
}

/// CRC-32 (IEEE 802.3, as in zlib and PNG), from `crc32fast` (SIMD where
/// the processor has it).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Publish, QoS};

    fn changes() -> Vec<SessionChange> {
        let mut publish = Publish::new("a/b", "payload").qos(QoS::ExactlyOnce);
        publish.packet_id = PacketId::new(42);
        publish.properties.user_properties.push(("k".into(), "v".into()));
        vec![
            SessionChange::Publish(StoredPublish {
                seq: 7,
                publish,
                released: false,
            }),
            SessionChange::Released { seq: 7 },
            SessionChange::Completed { seq: u64::MAX },
            SessionChange::IncomingReceived(PacketId::MIN),
            SessionChange::IncomingReleased(PacketId::MAX),
            SessionChange::IncomingCleared,
        ]
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn every_change_round_trips() {
        let mut buf = BytesMut::new();
        for change in changes() {
            write(&change, &mut buf).unwrap();
        }
        let mut at = 0;
        let mut read_back = Vec::new();
        loop {
            match read(&buf[at..]) {
                Read::Change(change, len) => {
                    read_back.push(change);
                    at += len;
                }
                Read::End => break,
                Read::Torn => panic!("torn at {at}"),
            }
        }
        assert_eq!(read_back, changes());
    }

    #[test]
    fn a_frame_cut_anywhere_or_corrupted_is_torn_never_misread() {
        let mut buf = BytesMut::new();
        write(&changes()[0], &mut buf).unwrap();
        for cut in 1..buf.len() {
            assert_eq!(read(&buf[..cut]), Read::Torn, "cut at {cut}");
        }
        for flip in 0..buf.len() {
            let mut bad = buf.to_vec();
            bad[flip] ^= 0x40;
            assert!(
                !matches!(read(&bad), Read::Change(c, _) if c == changes()[0]),
                "flip at {flip}"
            );
        }
    }
}
