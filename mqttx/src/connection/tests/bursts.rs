//! Bursts go out in a few large writes, not one per turn of the actor:
//! the application's publishes (`IoHints::write_per_burst`) and the
//! acknowledgements of a read full of messages (`IoHints::write_per_read`).

use bytes::Bytes;
use bytestring::ByteString;

use super::{options, start};
use crate::handler::HandlerEvent;
use crate::options::IoHints;
use crate::packet::{encode, Packet, ProtocolVersion, Publish, QoS};

/// Publishes in the burst: 1,000 of 64 bytes, about 80 KB on the wire.
const BURST: usize = 1000;

/// The writes a burst of QoS 0 publishes took, with `hints`.
async fn writes_for_a_burst(hints: IoHints) -> usize {
    writes_for(hints, BURST, Bytes::from_static(&[7; 64])).await
}

/// The writes `count` QoS 0 publishes of `payload`, handed over at once,
/// took.
async fn writes_for(hints: IoHints, count: usize, payload: Bytes) -> usize {
    let (mut rig, _gate) = start(options("burst").io_hints(hints), vec![], false);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");
    assert!(matches!(rig.lifecycle_event().await, HandlerEvent::Connected(_)));
    let reader = actix::spawn(async move {
        let mut scratch = vec![0; 64 * 1024];
        peer.discard(&mut scratch).await
    });
    let topic = ByteString::from_static("metrics/cpu");
    let before = rig.network.writes();
    for _ in 1..count {
        let publish = rig.client.publish(topic.clone(), payload.clone());
        publish
            .qos(QoS::AtMostOnce)
            .detach()
            .expect("the connection is up");
    }
    let payload_len = payload.len();
    rig.client.publish(topic, payload).await.expect("sent");
    let writes = rig.network.writes() - before;
    let _ = rig.client.disconnect().await;
    let bytes = reader.await.expect("the reader ends with the link");
    assert!(bytes > count * payload_len, "only {bytes} bytes arrived");
    writes
}

#[actix::test]
async fn a_burst_of_publishes_goes_out_in_a_few_writes() {
    let gathered = writes_for_a_burst(IoHints::default()).await;
    let per_turn = writes_for_a_burst(IoHints::default().write_per_burst(false)).await;
    // Sixteen turns of sixteen commands a write: four or five for 1,000.
    assert!(gathered <= 6, "{gathered} writes for a burst of {BURST}");
    // Without it, a write every turn or so: the contrast shows what the
    // count above measures.
    assert!(per_turn >= BURST / 32, "{per_turn} writes one turn at a time");
}

/// A burst far below the 64 KB write limit still goes out every sixteen
/// turns (of sixteen commands each): an application that keeps the queue
/// full does not hold every write back.
#[actix::test]
async fn a_burst_goes_out_at_least_every_sixteen_turns() {
    let count = 4000;
    // About 16 bytes a message: 64 KB only after 4,000 of them.
    let writes = writes_for(IoHints::default(), count, Bytes::from_static(b"x")).await;
    assert!(
        writes >= count / 256,
        "{writes} writes for {count} small publishes"
    );
}

/// QoS 1 messages the server writes at once.
const READ: u16 = 100;

/// The writes the client took to acknowledge `READ` QoS 1 messages that
/// arrived in one read, with `hints`.
async fn writes_for_a_read(hints: IoHints) -> usize {
    let (mut rig, _gate) = start(options("read").io_hints(hints), vec![], false);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");
    assert!(matches!(rig.lifecycle_event().await, HandlerEvent::Connected(_)));
    let mut burst = bytes::BytesMut::new();
    for id in 1..=READ {
        let publish = Publish::new("t", "m").qos(QoS::AtLeastOnce).packet_id(id);
        encode(&Packet::Publish(publish), ProtocolVersion::V5, &mut burst).expect("encodes");
    }
    let before = rig.network.writes();
    peer.write_raw(&burst).await;
    for _ in 0..READ {
        assert!(matches!(peer.expect().await, Packet::PubAck(_)));
    }
    rig.network.writes() - before
}

#[actix::test]
async fn the_acknowledgements_of_one_read_go_out_in_one_write() {
    let per_read = writes_for_a_read(IoHints::default().read_pacing(false)).await;
    let per_turn = writes_for_a_read(IoHints::default().read_pacing(false).write_per_read(false)).await;
    // actix hands the actor sixteen packets a turn: 100 take seven turns.
    assert!(per_read <= 2, "{per_read} writes for the PUBACKs of one read");
    assert!(per_turn >= 4, "{per_turn} writes one turn at a time");
}
