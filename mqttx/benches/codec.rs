//! PUBLISH encode and decode, mqttx against rumqttc, side by side.
//!
//! Same message for everyone: QoS 1, topic `sensors/room-42/temperature`,
//! 64-byte payload, packet id 42. Every workload is one closure used both by
//! criterion and by the instruction-count mode, so both measure the same
//! work:
//!
//! - encode: `buf.clear()`, then encode `black_box(&packet)` into a reused
//!   `BytesMut` that has room, then `black_box(&buf)`.
//! - decode: copy one frame into a reused read buffer, take one packet off
//!   it and `black_box` the decoded value (a `Result` holding the packet),
//!   which is then dropped, as a connection does after each socket read.
//!   The copy is the same for every codec.
//!
//! Instruction counts (load-independent, unlike wall-clock time):
//!
//! ```text
//! CODEC_COUNT=decode/mqttx_v311 CODEC_ITERS=100000 \
//!     valgrind --tool=callgrind target/release/deps/codec-<hash>
//! ```
//!
//! runs one workload `CODEC_ITERS` times and exits, without criterion.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput};
use mqttx::packet::{decode, encode, Packet, ProtocolVersion, Publish, QoS};
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;

const TOPIC: &str = "sensors/room-42/temperature";
const MAX: u32 = 1 << 20;

fn payload() -> Bytes {
    Bytes::from(vec![0x5Au8; 64])
}

fn mqttx_publish() -> Packet {
    Packet::Publish(Publish::new(TOPIC, payload()).qos(QoS::AtLeastOnce).packet_id(42))
}

fn rumqttc_v4_publish() -> v4::Packet {
    let mut p = v4::Publish::from_bytes(TOPIC, rumqttc::mqttbytes::QoS::AtLeastOnce, payload());
    p.pkid = 42;
    v4::Packet::Publish(p)
}

fn rumqttc_v5_publish() -> v5::Packet {
    let mut p = v5::Publish::new(TOPIC, rumqttc::v5::mqttbytes::QoS::AtLeastOnce, payload(), None);
    p.pkid = 42;
    v5::Packet::Publish(p)
}

fn frame(version: ProtocolVersion) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode(&mqttx_publish(), version, &mut buf).unwrap();
    buf.to_vec()
}

fn mqttx_encode(version: ProtocolVersion) -> impl FnMut() {
    let packet = mqttx_publish();
    let mut buf = BytesMut::with_capacity(4096);
    move || {
        buf.clear();
        encode(black_box(&packet), version, &mut buf).unwrap();
        black_box(&buf);
    }
}

fn rumqttc_v4_encode() -> impl FnMut() {
    let packet = rumqttc_v4_publish();
    let mut buf = BytesMut::with_capacity(4096);
    move || {
        buf.clear();
        black_box(&packet).write(&mut buf, MAX as usize).unwrap();
        black_box(&buf);
    }
}

fn rumqttc_v5_encode() -> impl FnMut() {
    let packet = rumqttc_v5_publish();
    let mut buf = BytesMut::with_capacity(4096);
    move || {
        buf.clear();
        black_box(&packet).write(&mut buf, Some(MAX)).unwrap();
        black_box(&buf);
    }
}

fn mqttx_decode(version: ProtocolVersion) -> impl FnMut() {
    let bytes = frame(version);
    let mut buf = BytesMut::with_capacity(4096);
    move || {
        buf.extend_from_slice(&bytes);
        black_box(decode(&mut buf, version, MAX).unwrap());
    }
}

fn rumqttc_v4_decode() -> impl FnMut() {
    let bytes = frame(ProtocolVersion::V311);
    let mut buf = BytesMut::with_capacity(4096);
    move || {
        buf.extend_from_slice(&bytes);
        black_box(v4::Packet::read(&mut buf, MAX as usize).unwrap());
    }
}

fn rumqttc_v5_decode() -> impl FnMut() {
    let bytes = frame(ProtocolVersion::V5);
    let mut buf = BytesMut::with_capacity(4096);
    move || {
        buf.extend_from_slice(&bytes);
        black_box(v5::Packet::read(&mut buf, Some(MAX)).unwrap());
    }
}

/// What every decoder above pays before parsing: the copy into the read
/// buffer, taking the frame off, and dropping it.
fn baseline_decode() -> impl FnMut() {
    let bytes = frame(ProtocolVersion::V311);
    let mut buf = BytesMut::with_capacity(4096);
    move || {
        buf.extend_from_slice(&bytes);
        black_box(buf.split_to(bytes.len()).freeze());
    }
}

/// Expands `$body` once per workload with `$group`, `$name` and `$work`
/// bound, so each closure is called directly (no dynamic dispatch).
macro_rules! for_each_workload {
    (|$group:ident, $name:ident, $work:ident| $body:block) => {
        for_each_workload!(@one $group $name $work $body;
            "encode" "mqttx_v5" mqttx_encode(ProtocolVersion::V5),
            "encode" "mqttx_v311" mqttx_encode(ProtocolVersion::V311),
            "encode" "rumqttc_v4" rumqttc_v4_encode(),
            "encode" "rumqttc_v5" rumqttc_v5_encode(),
            "decode" "mqttx_v5" mqttx_decode(ProtocolVersion::V5),
            "decode" "mqttx_v311" mqttx_decode(ProtocolVersion::V311),
            "decode" "rumqttc_v4" rumqttc_v4_decode(),
            "decode" "rumqttc_v5" rumqttc_v5_decode(),
            "decode" "baseline_copy_and_split" baseline_decode(),
        )
    };
    (@one $group:ident $name:ident $work:ident $body:block; $($g:literal $n:literal $w:expr,)*) => {
        $({
            let $group: &str = $g;
            let $name: &str = $n;
            #[allow(unused_mut)]
            let mut $work = $w;
            $body
        })*
    };
}

/// Runs one workload `CODEC_ITERS` times, for callgrind.
fn count_mode(wanted: &str) {
    let iters: u64 = std::env::var("CODEC_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let mut found = false;
    for_each_workload!(|group, name, work| {
        if format!("{group}/{name}") == wanted {
            found = true;
            run_n(iters, &mut work);
        }
    });
    assert!(found, "no workload {wanted}");
}

/// Out of line, so callgrind shows the loop as one function.
#[inline(never)]
fn run_n(iters: u64, work: &mut impl FnMut()) {
    for _ in 0..iters {
        work();
    }
}

fn main() {
    if let Ok(wanted) = std::env::var("CODEC_COUNT") {
        count_mode(&wanted);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    for_each_workload!(|group, name, work| {
        let mut g = c.benchmark_group(format!("publish_{group}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function(name, |b| b.iter(&mut work));
        g.finish();
    });
    c.final_summary();
}
