//! PUBLISH encode and decode, mqttx against rumqttc, side by side.
//!
//! Same message for everyone: QoS 1, topic `sensors/room-42/temperature`,
//! 64-byte payload. Decoding copies one frame into a reused read buffer and
//! takes it off again, as a connection does after each socket read; the
//! copy is the same for every codec.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion};
use mqttx::packet::{decode, encode, Packet, ProtocolVersion, Publish, QoS};
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;

#[path = "support/floors.rs"]
mod floors;

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

fn encode_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("publish_encode");
    let mut buf = BytesMut::with_capacity(4096);
    for (name, version) in [
        ("mqttx_v5", ProtocolVersion::V5),
        ("mqttx_v311", ProtocolVersion::V311),
    ] {
        let packet = mqttx_publish();
        g.bench_function(name, |b| {
            b.iter(|| {
                buf.clear();
                encode(black_box(&packet), version, &mut buf).unwrap();
                black_box(&buf);
            })
        });
    }
    let packet = rumqttc_v4_publish();
    g.bench_function("rumqttc_v4", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&packet).write(&mut buf, MAX as usize).unwrap();
            black_box(&buf);
        })
    });
    let packet = rumqttc_v5_publish();
    g.bench_function("rumqttc_v5", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&packet).write(&mut buf, Some(MAX)).unwrap();
            black_box(&buf);
        })
    });
    // The appends alone, nothing checked: below any encoder that
    // validates what it sends.
    let payload = payload();
    g.bench_function("floor_unchecked_writes", |b| {
        b.iter(|| {
            buf.clear();
            floors::unchecked_encode(&mut buf, black_box(TOPIC.as_bytes()), 42, black_box(&payload));
            black_box(&buf);
        })
    });
    // The topic check every mqttx encode and decode makes (no wildcard,
    // no U+0000, valid UTF-8).
    g.bench_function("topic_check_alone", |b| {
        b.iter(|| mqttx::packet::topic::valid_topic_name(black_box(TOPIC)))
    });
    g.finish();
}

fn frame(version: ProtocolVersion) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode(&mqttx_publish(), version, &mut buf).unwrap();
    buf.to_vec()
}

fn decode_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("publish_decode");
    let mut buf = BytesMut::with_capacity(4096);
    for (name, version) in [
        ("mqttx_v5", ProtocolVersion::V5),
        ("mqttx_v311", ProtocolVersion::V311),
    ] {
        let bytes = frame(version);
        g.bench_function(name, |b| {
            b.iter(|| {
                buf.extend_from_slice(&bytes);
                black_box(decode(&mut buf, version, MAX).unwrap())
            })
        });
    }
    let v4_bytes = frame(ProtocolVersion::V311);
    g.bench_function("rumqttc_v4", |b| {
        b.iter(|| {
            buf.extend_from_slice(&v4_bytes);
            black_box(v4::Packet::read(&mut buf, MAX as usize).unwrap())
        })
    });
    // What every decoder above pays before parsing: the copy into the read
    // buffer, taking the frame off, and dropping it.
    g.bench_function("baseline_copy_and_split", |b| {
        b.iter(|| {
            buf.extend_from_slice(&v4_bytes);
            black_box(buf.split_to(v4_bytes.len()).freeze())
        })
    });
    let v5_bytes = frame(ProtocolVersion::V5);
    g.bench_function("rumqttc_v5", |b| {
        b.iter(|| {
            buf.extend_from_slice(&v5_bytes);
            black_box(v5::Packet::read(&mut buf, Some(MAX)).unwrap())
        })
    });
    // The baseline plus the topic and payload handed out as two slices:
    // the least a zero-copy decoder pays, before it parses anything.
    let topic = 4..4 + TOPIC.len();
    g.bench_function("floor_zero_copy", |b| {
        b.iter(|| black_box(floors::zero_copy_decode(&mut buf, &v4_bytes, topic.clone())))
    });
    g.finish();
}

criterion_group!(benches, encode_group, decode_group);
criterion_main!(benches);
