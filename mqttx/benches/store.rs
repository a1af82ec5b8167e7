//! FileStore cost per batch: the time `apply` takes for a batch of
//! publish records (plus the completions of the batch before), with and
//! without fsync. A connection makes one batch per actor turn.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use mqttx::packet::{PacketId, Publish, QoS};
use mqttx::store::{FileStore, SessionChange, SessionStore, StoredPublish};

fn batch(start: u64, size: u64) -> Vec<SessionChange> {
    let mut changes = Vec::new();
    for seq in start..start + size {
        let mut publish = Publish::new("sensors/room-42/temperature", vec![0x5Au8; 64]).qos(QoS::ExactlyOnce);
        publish.packet_id = PacketId::new(1 + (seq % 60_000) as u16);
        changes.push(SessionChange::Publish(StoredPublish {
            seq,
            publish,
            released: false,
        }));
        if seq >= size {
            changes.push(SessionChange::Completed { seq: seq - size });
        }
    }
    changes
}

fn store_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("file_store_apply");
    for fsync in [true, false] {
        for size in [1u64, 64] {
            let dir =
                std::env::temp_dir().join(format!("mqttx-bench-store-{}-{fsync}-{size}", std::process::id()));
            let store = FileStore::open(&dir).unwrap().fsync(fsync);
            let mut next = 0u64;
            let name = format!("batch_{size}_{}", if fsync { "fsync" } else { "no_fsync" });
            g.bench_function(name, |b| {
                b.iter_batched(
                    || {
                        let changes = batch(next, size);
                        next += size;
                        changes
                    },
                    |changes| store.apply("bench", black_box(&changes)).now().unwrap().unwrap(),
                    BatchSize::SmallInput,
                )
            });
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    g.finish();
}

criterion_group!(benches, store_group);
criterion_main!(benches);
