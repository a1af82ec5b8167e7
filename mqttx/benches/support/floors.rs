//! What no PUBLISH codec that meets issue 2's rules can avoid, measured
//! beside the codecs so their ratios can be read against it.
//!
//! Shared by the criterion bench and the callgrind harness
//! (`examples/codec_ops.rs`).

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Zero-copy decode with no parsing or checking at all: copy the frame into
/// the read buffer, take it off, hand out the topic and the payload as two
/// slices of it. Every decoder whose topic and payload share the read
/// buffer pays at least this (two reference counts up, two down).
#[inline(never)]
pub fn zero_copy_decode(buf: &mut BytesMut, frame: &[u8], topic: std::ops::Range<usize>) -> (Bytes, Bytes) {
    buf.extend_from_slice(frame);
    let mut frame = buf.split_to(frame.len()).freeze();
    let topic_bytes = frame.slice(topic.clone());
    // Packet id after the topic (QoS 1, MQTT 3.1.1 layout).
    frame.advance(topic.end + 2);
    (topic_bytes, frame)
}

/// A QoS 1 PUBLISH written with nothing checked: the fixed header, the
/// topic, the packet id and the payload, each appended once.
#[inline(never)]
pub fn unchecked_encode(buf: &mut BytesMut, topic: &[u8], packet_id: u16, payload: &[u8]) {
    let body = 2 + topic.len() + 2 + payload.len();
    buf.reserve(5 + body);
    buf.put_u8(0x32);
    let mut rest = body as u32;
    while rest >= 0x80 {
        buf.put_u8((rest as u8) | 0x80);
        rest >>= 7;
    }
    buf.put_u8(rest as u8);
    buf.put_u16(topic.len() as u16);
    buf.put_slice(topic);
    buf.put_u16(packet_id);
    buf.put_slice(payload);
}
