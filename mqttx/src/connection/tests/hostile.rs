//! A server that sends what cannot be decoded: the client says why, closes
//! the link, and reconnects.

use super::*;
use crate::packet::Disconnect;

#[actix::test]
async fn bytes_that_are_no_packet_get_a_disconnect_saying_so_and_a_reconnect() {
    let (mut rig, _gate) = start(options("c1"), vec![], false);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");

    // Packet type 0 is reserved: a malformed packet.
    peer.write_raw(&[0x00, 0x00]).await;
    match peer.expect().await {
        Packet::Disconnect(Disconnect { reason_code, .. }) => {
            assert_eq!(reason_code, ReasonCode::MalformedPacket)
        }
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
    assert!(peer.read().await.is_none(), "then the link is closed");
    loop {
        if let HandlerEvent::Disconnected(reason) = rig.lifecycle_event().await {
            assert!(
                matches!(reason, DisconnectReason::Protocol(Error::Decode(_))),
                "{reason}"
            );
            assert!(reason.will_reconnect());
            break;
        }
    }
    let mut again = rig.network.accept().await;
    again.handshake().await;
}
