//! `disconnect` while a large write is still going out: the DISCONNECT
//! follows it, and only then does the stream end.

use bytes::Bytes;

use super::{let_the_actor_run, options, start, within};
use crate::packet::Packet;

#[actix::test]
async fn a_disconnect_behind_a_write_in_flight_still_goes_out_after_it() {
    let (mut rig, _gate) = start(options("c1"), vec![], false);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");
    // Four times what the pipe holds: the write stays in flight until the
    // server reads.
    let size = 256 * 1024;
    let big = Bytes::from(vec![7u8; size]);
    rig.client
        .publish("big", big)
        .detach()
        .expect("the connection is up");
    let_the_actor_run().await;
    let disconnected = rig.client.disconnect();
    let_the_actor_run().await;

    let Packet::Publish(publish) = peer.expect().await else {
        panic!("the publish comes first");
    };
    assert_eq!(publish.payload.len(), size);
    assert!(
        matches!(peer.expect().await, Packet::Disconnect(_)),
        "then DISCONNECT"
    );
    assert!(peer.read().await.is_none(), "then the stream ends");
    within(disconnected).await.expect("disconnected");
}
