//! Decoding a PUBLISH allocates nothing: topic and payload are reference-
//! counted slices of the read buffer. A counting global allocator proves it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::BytesMut;
use mqttx::packet::{decode, encode, Packet, ProtocolVersion, Publish, QoS};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn publish() -> Packet {
    Packet::Publish(
        Publish::new("sensors/room-42/temperature", vec![0x42u8; 64])
            .qos(QoS::AtLeastOnce)
            .packet_id(7),
    )
}

#[test]
fn decode_and_encode_publish_do_not_allocate() {
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        const N: usize = 100;
        let packet = publish();
        let mut buf = BytesMut::with_capacity(128 * (N + 1));
        for _ in 0..=N {
            encode(&packet, version, &mut buf).unwrap();
        }
        // The first split of a freshly allocated BytesMut turns its storage
        // into a shared one (one allocation per buffer, not per packet);
        // after that every packet is a reference-count bump.
        let first = decode(&mut buf, version, 1 << 20).unwrap();
        assert_eq!(first.as_ref(), Some(&packet));

        let before = ALLOCATIONS.load(Ordering::SeqCst);
        let mut decoded = 0;
        while let Some(p) = decode(&mut buf, version, 1 << 20).unwrap() {
            if let Packet::Publish(p) = &p {
                std::hint::black_box(&p.payload);
            }
            decoded += 1;
        }
        let after = ALLOCATIONS.load(Ordering::SeqCst);
        assert_eq!(decoded, N);
        assert_eq!(
            after - before,
            0,
            "{version:?}: {} allocations for {N} PUBLISH decodes",
            after - before
        );

        // Encoding into a buffer that already has room allocates nothing either.
        let mut out = BytesMut::with_capacity(4096);
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for _ in 0..N {
            out.clear();
            encode(&packet, version, &mut out).unwrap();
        }
        let after = ALLOCATIONS.load(Ordering::SeqCst);
        assert_eq!(after - before, 0, "{version:?}: encoding allocated");
    }
}
