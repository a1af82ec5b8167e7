//! A burst of publishes from the application goes out in a few large
//! writes (`IoHints::write_per_burst`), not one per turn of the actor.

use bytes::Bytes;
use bytestring::ByteString;

use super::{options, start};
use crate::handler::HandlerEvent;
use crate::options::IoHints;
use crate::packet::QoS;

/// Publishes in the burst: 1,000 of 64 bytes, about 80 KB on the wire.
const BURST: usize = 1000;

/// The writes a burst of QoS 0 publishes took, with `hints`.
async fn writes_for_a_burst(hints: IoHints) -> usize {
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
    let payload = Bytes::from_static(&[7; 64]);
    let before = rig.network.writes();
    for _ in 1..BURST {
        let publish = rig.client.publish(topic.clone(), payload.clone());
        publish
            .qos(QoS::AtMostOnce)
            .detach()
            .expect("the connection is up");
    }
    rig.client.publish(topic, payload).await.expect("sent");
    let writes = rig.network.writes() - before;
    let _ = rig.client.disconnect().await;
    let bytes = reader.await.expect("the reader ends with the link");
    assert!(bytes > BURST * 64, "only {bytes} bytes arrived");
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
