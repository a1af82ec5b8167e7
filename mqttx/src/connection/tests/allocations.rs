//! What the send path allocates once a connection is warm: a detached
//! QoS 0 publish, nothing. Counted by the per-thread allocator; the client,
//! its connection actor and the scripted server all run on the test's
//! thread, and the server only reads into a fixed buffer.

use bytes::Bytes;
use bytestring::ByteString;

use super::{options, start, Client};
use crate::handler::HandlerEvent;
use crate::packet::{ProtocolVersion, QoS};
use crate::test_alloc::Usage;

/// Publishes in a round; the last is awaited, which keeps the queue short.
const PER_ROUND: usize = 100;
const ROUNDS: usize = 50;

/// `ROUNDS` rounds of QoS 0 publishes (detached, or each awaited) and the
/// allocations they made on this thread.
async fn allocations_of_rounds(client: &Client, detached: bool) -> u64 {
    let topic = ByteString::from_static("metrics/cpu");
    let payload = Bytes::from_static(&[7; 64]);
    let usage = Usage::start();
    for _ in 0..ROUNDS {
        for _ in 1..PER_ROUND {
            let publish = client
                .publish(topic.clone(), payload.clone())
                .qos(QoS::AtMostOnce);
            if detached {
                publish.detach().expect("the connection is up");
            } else {
                publish.await.expect("sent");
            }
        }
        client
            .publish(topic.clone(), payload.clone())
            .await
            .expect("sent");
    }
    usage.allocations()
}

#[actix::test]
async fn a_detached_qos0_publish_allocates_nothing_once_the_connection_is_warm() {
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let (mut rig, _gate) = start(options("alloc").protocol_version(version), vec![], false);
        let mut peer = rig.network.accept().await;
        peer.speak(version);
        peer.handshake().await;
        rig.first_outcome().await.expect("accepted");
        assert!(matches!(rig.lifecycle_event().await, HandlerEvent::Connected(_)));
        let reader = actix::spawn(async move {
            let mut scratch = vec![0; 64 * 1024];
            peer.discard(&mut scratch).await
        });

        // Warm: the link's buffers and the queue's blocks at their working size.
        allocations_of_rounds(&rig.client, true).await;
        let detached = allocations_of_rounds(&rig.client, true).await;
        let awaited = allocations_of_rounds(&rig.client, false).await;

        // One per round is the awaited publish's reply channel; the command
        // queue (tokio's, in blocks of 32 commands, which it mostly reuses)
        // now and then makes a block: a few in 5,000 publishes.
        let messages = (ROUNDS * PER_ROUND) as u64;
        assert!(
            detached <= ROUNDS as u64 + messages / 200,
            "{version:?}: {detached} allocations for {messages} detached publishes in {ROUNDS} rounds"
        );
        // The awaited form carries its outcome back: the contrast shows the
        // count above is the send path's, not a quiet allocator.
        assert!(
            awaited >= messages,
            "{version:?}: {awaited} allocations for {messages} awaited publishes"
        );
        let _ = rig.client.disconnect().await;
        let bytes = reader.await.expect("the reader ends with the link");
        assert!(
            bytes > 3 * ROUNDS * PER_ROUND * 64,
            "{version:?}: only {bytes} bytes arrived"
        );
    }
}
