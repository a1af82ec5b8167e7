//! The codec benchmark's operations, one kind per run, for counting
//! instructions: `valgrind --tool=callgrind` gives the same count however
//! busy the machine is, where criterion's nanoseconds do not.
//!
//! ```text
//! cargo build --release -p mqttx --example codec_ops
//! valgrind --tool=callgrind target/release/examples/codec_ops decode-v311 100000
//! ```
//!
//! Operations: `{encode,decode}-{v5,v311}`, `rumqttc-{encode,decode}-{v4,v5}`,
//! `baseline` (copy a frame in and split it off), `floor-decode` and
//! `floor-encode` (see `benches/support/floors.rs`), `topic-check`.
//! Divide the total by the count.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use mqttx::packet::{decode, encode, Packet, ProtocolVersion, Publish, QoS};
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;

#[path = "../benches/support/floors.rs"]
mod floors;

const TOPIC: &str = "sensors/room-42/temperature";
const MAX: u32 = 1 << 20;

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_default();
    let n: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let payload = Bytes::from(vec![0x5Au8; 64]);
    let raw_payload = payload.clone();
    let publish = Packet::Publish(
        Publish::new(TOPIC, payload.clone())
            .qos(QoS::AtLeastOnce)
            .packet_id(42),
    );
    let mut v4p = v4::Publish::from_bytes(TOPIC, rumqttc::mqttbytes::QoS::AtLeastOnce, payload.clone());
    v4p.pkid = 42;
    let v4p = v4::Packet::Publish(v4p);
    let mut v5p = v5::Publish::new(TOPIC, rumqttc::v5::mqttbytes::QoS::AtLeastOnce, payload, None);
    v5p.pkid = 42;
    let v5p = v5::Packet::Publish(v5p);
    let frame = |version| {
        let mut b = BytesMut::new();
        encode(&publish, version, &mut b).unwrap();
        b.to_vec()
    };
    let (f5, f4) = (frame(ProtocolVersion::V5), frame(ProtocolVersion::V311));
    let mut buf = BytesMut::with_capacity(4096);
    let buf = &mut buf;
    let encode_version = if op.ends_with("v5") {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V311
    };
    // The operation is chosen once, so the loop costs the same for each.
    let mut step: Box<dyn FnMut()> = match op.as_str() {
        "encode-v5" | "encode-v311" => Box::new(|| {
            buf.clear();
            encode(black_box(&publish), encode_version, buf).unwrap();
            black_box(&buf);
        }),
        "decode-v5" => Box::new(|| {
            buf.extend_from_slice(&f5);
            black_box(decode(buf, ProtocolVersion::V5, MAX).unwrap());
        }),
        "decode-v311" => Box::new(|| {
            buf.extend_from_slice(&f4);
            black_box(decode(buf, ProtocolVersion::V311, MAX).unwrap());
        }),
        "rumqttc-encode-v4" => Box::new(|| {
            buf.clear();
            black_box(&v4p).write(buf, MAX as usize).unwrap();
            black_box(&buf);
        }),
        "rumqttc-encode-v5" => Box::new(|| {
            buf.clear();
            black_box(&v5p).write(buf, Some(MAX)).unwrap();
            black_box(&buf);
        }),
        "rumqttc-decode-v4" => Box::new(|| {
            buf.extend_from_slice(&f4);
            black_box(v4::Packet::read(buf, MAX as usize).unwrap());
        }),
        "rumqttc-decode-v5" => Box::new(|| {
            buf.extend_from_slice(&f5);
            black_box(v5::Packet::read(buf, Some(MAX)).unwrap());
        }),
        "floor-decode" => Box::new(|| {
            black_box(floors::zero_copy_decode(buf, &f4, 4..4 + TOPIC.len()));
        }),
        "floor-encode" => Box::new(|| {
            buf.clear();
            floors::unchecked_encode(buf, black_box(TOPIC.as_bytes()), 42, black_box(&raw_payload));
            black_box(&buf);
        }),
        "topic-check" => Box::new(|| {
            black_box(mqttx::packet::topic::valid_topic_name(black_box(TOPIC)));
        }),
        "baseline" => Box::new(|| {
            buf.extend_from_slice(&f4);
            black_box(buf.split_to(f4.len()).freeze());
        }),
        other => panic!("unknown operation {other:?}"),
    };
    for _ in 0..n {
        step();
    }
}
