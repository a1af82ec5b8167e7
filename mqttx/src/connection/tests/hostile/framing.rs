//! What a server can do to the framing: a Remaining Length too large or
//! too long, a packet split into single bytes, a packet type the client
//! cannot take.

use super::*;
use crate::packet::ConnAckProperties;
use crate::test_alloc::Usage;

/// A PUBLISH announcing the largest Remaining Length there is, 268,435,455 bytes.
const HUGE_HEADER: [u8; 5] = [0x30, 0xFF, 0xFF, 0xFF, 0x7F];

/// A Remaining Length whose fourth byte still says "more follows".
const FIVE_BYTE_LENGTH: [u8; 6] = [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];

/// What the client may hold while refusing a huge packet: a read buffer
/// or two and the pipe's own buffer (64 KiB), far below the megabyte of
/// body the server sends.
const REFUSING_HOLDS: isize = 256 * 1024;

#[actix::test]
async fn a_remaining_length_above_our_maximum_is_refused_from_the_header_alone() {
    // A megabyte of the body the header announces, made before measuring:
    // a client that waited for the whole packet would take all of it in.
    let body = vec![0u8; 1 << 20];
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let (mut rig, mut peer) = connected(pinned(version), version).await;
        let usage = Usage::start();
        peer.write_raw(&HUGE_HEADER).await;
        // Blocks on the full pipe until the client closes it, unless the
        // client reads on.
        let _ = peer.try_write_raw(&body).await;
        let closed_at = refused(&mut peer, version, ReasonCode::PacketTooLarge).await;
        eprintln!("{version:?}, refusing a 268 MB PUBLISH: {usage}");
        assert!(usage.peak() < REFUSING_HOLDS, "{version:?}: {usage}");
        assert_undecodable(&disconnected(&mut rig).await, ReasonCode::PacketTooLarge);

        let mut peer = reconnected(&mut rig, closed_at, version).await;
        peer.write_raw(&FIVE_BYTE_LENGTH).await;
        let closed_at = refused(&mut peer, version, ReasonCode::MalformedPacket).await;
        assert_undecodable(&disconnected(&mut rig).await, ReasonCode::MalformedPacket);
        reconnected(&mut rig, closed_at, version).await;
    }
}

/// Writes `bytes` one at a time, letting the client read each on its own.
async fn dribble(peer: &mut Peer, bytes: &[u8]) {
    for &byte in bytes {
        peer.write_raw(&[byte]).await;
        let_the_actor_run().await;
    }
}

#[actix::test]
async fn packets_trickled_a_byte_at_a_time_are_decoded_whole_in_bounded_memory() {
    let version = ProtocolVersion::V5;
    let (mut rig, _gate) = start(pinned(version), vec![], false);
    let mut peer = rig.network.accept().await;
    assert!(matches!(peer.expect().await, Packet::Connect(_)));
    let connack = ConnAck {
        properties: ConnAckProperties {
            receive_maximum: Some(50),
            server_keep_alive: Some(60),
            ..ConnAckProperties::default()
        }
        .into(),
        ..ConnAck::default()
    };
    dribble(&mut peer, &wire(&Packet::ConnAck(connack), version)).await;
    let accepted = rig.first_outcome().await.expect("accepted");
    assert_eq!(accepted.properties.receive_maximum, Some(50));
    assert!(matches!(rig.lifecycle_event().await, HandlerEvent::Connected(_)));

    let payload: Vec<u8> = (0..16 * 1024u32).map(|n| n as u8).collect();
    let publish = Publish::new("slowly/one/byte/at/a/time", payload.clone())
        .qos(QoS::AtLeastOnce)
        .packet_id(9);
    let bytes = wire(&Packet::Publish(publish), version);
    let usage = Usage::start();
    dribble(&mut peer, &bytes).await;
    let HandlerEvent::Message(message) = rig.event().await else {
        panic!("the message, whole");
    };
    assert_eq!(&message.payload[..], &payload[..]);
    drop(message);
    let Packet::PubAck(ack) = peer.expect().await else {
        panic!("then its PUBACK");
    };
    assert_eq!(ack.packet_id.get(), 9);
    eprintln!("a {} B PUBLISH a byte at a time: {usage}", bytes.len());
    // The packet, a read buffer around it, and the pipe: a buffer per read
    // kept, or grown per byte, would be many times that.
    let bound = 4 * bytes.len() as isize + 64 * 1024;
    assert!(usage.peak() < bound, "{usage}, bound {bound} B");
    assert_eq!(rig.network.dials().len(), 1, "no reconnect");
}

#[actix::test]
async fn a_packet_type_a_server_may_not_send_is_refused() {
    let version = ProtocolVersion::V5;
    let (mut rig, mut peer) = connected(pinned(version), version).await;
    // Type 0 is reserved: a malformed packet.
    peer.write_raw(&[0x00, 0x00]).await;
    let closed_at = refused(&mut peer, version, ReasonCode::MalformedPacket).await;
    assert_undecodable(&disconnected(&mut rig).await, ReasonCode::MalformedPacket);

    // PINGREQ is well formed, but only a client sends it.
    let mut peer = reconnected(&mut rig, closed_at, version).await;
    peer.write(Packet::PingReq).await;
    let closed_at = refused(&mut peer, version, ReasonCode::ProtocolError).await;
    assert_violation(&disconnected(&mut rig).await, ReasonCode::ProtocolError);
    reconnected(&mut rig, closed_at, version).await;
}

#[actix::test]
async fn a_packet_type_that_does_not_exist_in_3_1_1_closes_the_link() {
    let version = ProtocolVersion::V311;
    let (mut rig, mut peer) = connected(pinned(version), version).await;
    // Type 15 is AUTH in MQTT 5 and reserved in 3.1.1.
    peer.write_raw(&[0xF0, 0x00]).await;
    let closed_at = refused(&mut peer, version, ReasonCode::MalformedPacket).await;
    assert_undecodable(&disconnected(&mut rig).await, ReasonCode::MalformedPacket);
    reconnected(&mut rig, closed_at, version).await;
}
