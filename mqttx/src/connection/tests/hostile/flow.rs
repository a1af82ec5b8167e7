//! What a server can do with well-formed packets: topic aliases it never
//! set, acknowledgements of what we never sent, a second CONNACK, more
//! QoS 2 flows than our Receive Maximum, a SUBACK that does not match its
//! SUBSCRIBE.

use super::*;
use crate::packet::{ConnectProperties, PacketId, PubComp, PubRec, SubAck};
use crate::test_alloc::Usage;

fn aliased(topic: &str, alias: u16) -> Packet {
    let mut publish = Publish::new(topic, "x");
    publish.properties.topic_alias = PacketId::new(alias);
    Packet::Publish(publish)
}

#[actix::test]
async fn topic_aliases_never_set_or_above_our_maximum_are_topic_alias_invalid() {
    let version = ProtocolVersion::V5;
    let opts = pinned(version).connect_properties(ConnectProperties {
        topic_alias_maximum: Some(2),
        ..ConnectProperties::default()
    });
    let (mut rig, mut peer) = connected(opts, version).await;
    // Alias 1 set, then used alone: the proof that aliases work at all.
    peer.write(aliased("a/b", 1)).await;
    peer.write(aliased("", 1)).await;
    for _ in 0..2 {
        let HandlerEvent::Message(message) = rig.event().await else {
            panic!("a message");
        };
        assert_eq!(message.topic, "a/b");
    }
    // Alias 2 is within our maximum, but was never set.
    peer.write(aliased("", 2)).await;
    let closed_at = refused(&mut peer, version, ReasonCode::TopicAliasInvalid).await;
    assert_violation(&disconnected(&mut rig).await, ReasonCode::TopicAliasInvalid);

    // Alias 3 is above the maximum of 2 we advertised, topic or not.
    let mut peer = reconnected(&mut rig, closed_at, version).await;
    peer.write(aliased("a/b", 3)).await;
    let closed_at = refused(&mut peer, version, ReasonCode::TopicAliasInvalid).await;
    assert_violation(&disconnected(&mut rig).await, ReasonCode::TopicAliasInvalid);
    reconnected(&mut rig, closed_at, version).await;
}

/// No rule of MQTT 5 makes an acknowledgement for an unknown id a reason
/// to close: PUBREC and PUBREL for one get their answer with Packet
/// Identifier not found (0x92), PUBACK and PUBCOMP complete nothing. The
/// connection, and what is really in flight on it, go on.
#[actix::test]
async fn acknowledgements_for_ids_never_used_change_nothing_and_the_connection_stays() {
    let version = ProtocolVersion::V5;
    let (mut rig, mut peer) = connected(pinned(version), version).await;
    let waiting = rig
        .client
        .publish("t", "in flight")
        .qos(QoS::AtLeastOnce)
        .into_future();
    let Packet::Publish(publish) = peer.expect().await else {
        panic!("the publish");
    };
    let id = publish.packet_id.expect("QoS 1 has an id");
    let never_used = PacketId::new(id.get().wrapping_add(100)).expect("not 0");
    peer.write(Packet::PubAck(PubAck::new(never_used))).await;
    peer.write(Packet::PubComp(PubComp::new(never_used))).await;
    peer.write(Packet::PubRec(PubRec::new(never_used))).await;
    match peer.expect().await {
        Packet::PubRel(rel) => assert_eq!(
            (rel.packet_id, rel.reason_code),
            (never_used, ReasonCode::PacketIdentifierNotFound)
        ),
        other => panic!("expected PUBREL 0x92, got {other:?}"),
    }
    peer.write(Packet::PubAck(PubAck::new(id))).await;
    within(waiting)
        .await
        .expect("the real PUBACK completes the publish");

    // The next thing written is the next publish, not a DISCONNECT.
    within(rig.client.publish("t", "after")).await.expect("sent");
    let Packet::Publish(next) = peer.expect().await else {
        panic!("the next publish");
    };
    assert_eq!(&next.payload[..], b"after");
    let_the_actor_run().await;
    assert!(rig.events.try_recv().is_err(), "the handler was told nothing");
    assert_eq!(rig.network.dials().len(), 1, "no reconnect");
}

#[actix::test]
async fn a_second_connack_is_a_protocol_error() {
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let (mut rig, mut peer) = connected(pinned(version), version).await;
        peer.write(Packet::ConnAck(ConnAck::default())).await;
        let closed_at = refused(&mut peer, version, ReasonCode::ProtocolError).await;
        assert_violation(&disconnected(&mut rig).await, ReasonCode::ProtocolError);
        reconnected(&mut rig, closed_at, version).await;
    }
}

/// Our Receive Maximum in the flood.
const RECEIVE_MAXIMUM: u16 = 10;
/// The QoS 2 PUBLISHes the server tries to send, none ever released.
const FLOOD: u16 = 10_000;
const FLOOD_PAYLOAD: usize = 4096;

#[actix::test]
async fn a_qos2_flood_beyond_our_receive_maximum_is_cut_off_in_bounded_memory() {
    let version = ProtocolVersion::V5;
    let opts = pinned(version).connect_properties(ConnectProperties {
        receive_maximum: Some(RECEIVE_MAXIMUM),
        ..ConnectProperties::default()
    });
    let (mut rig, mut peer) = connected(opts, version).await;
    let publish = Publish::new("flood", vec![0x5a; FLOOD_PAYLOAD])
        .qos(QoS::ExactlyOnce)
        .packet_id(1);
    let mut packet = wire(&Packet::Publish(publish), version);
    // Before the payload: the packet id, then a property length of 0.
    let id_at = packet.len() - FLOOD_PAYLOAD - 1 - 2;

    let usage = Usage::start();
    let mut written = 0;
    for id in 1..=FLOOD {
        packet[id_at..id_at + 2].copy_from_slice(&id.to_be_bytes());
        if !peer.try_write_raw(&packet).await {
            break;
        }
        written += 1;
    }
    let mut pubrecs = 0;
    loop {
        match peer.expect().await {
            Packet::PubRec(_) => pubrecs += 1,
            Packet::Disconnect(disconnect) => {
                assert_eq!(disconnect.reason_code, ReasonCode::ReceiveMaximumExceeded);
                break;
            }
            other => panic!("expected PUBREC or DISCONNECT, got {other:?}"),
        }
    }
    let closed_at = closed(&mut peer).await;
    let mut delivered = 0;
    let reason = loop {
        match rig.event().await {
            HandlerEvent::Message(_) => delivered += 1,
            HandlerEvent::Disconnected(reason) => break reason,
            other => panic!("expected messages, then Disconnected, got {other:?}"),
        }
    };
    eprintln!(
        "a QoS 2 flood of {FLOOD} x {} B, Receive Maximum {RECEIVE_MAXIMUM}: {written} written, {usage}",
        packet.len()
    );
    assert_eq!((delivered, pubrecs), (RECEIVE_MAXIMUM, RECEIVE_MAXIMUM));
    assert!(reason.will_reconnect(), "{reason}");
    assert_violation(&reason, ReasonCode::ReceiveMaximumExceeded);
    // Receive Maximum's worth of messages (each may pin the read buffer it
    // came in), and the pipe's 64 KiB; a client that took the whole flood
    // in would hold 40 MB.
    let bound = (8 * usize::from(RECEIVE_MAXIMUM) * packet.len()) as isize;
    assert!(usage.peak() < bound, "{usage}, bound {bound} B");
    reconnected(&mut rig, closed_at, version).await;
}

#[actix::test]
async fn a_suback_with_the_wrong_count_of_codes_is_a_protocol_error() {
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let (mut rig, mut peer) = connected(pinned(version), version).await;
        let granted = rig.client.subscribe("a/+", QoS::AtLeastOnce).into_future();
        let Packet::Subscribe(subscribe) = peer.expect().await else {
            panic!("SUBSCRIBE");
        };
        assert_eq!(subscribe.filters.len(), 1);
        let suback = |packet_id, codes: usize| {
            Packet::SubAck(SubAck {
                packet_id,
                reason_codes: vec![ReasonCode::GrantedQoS1; codes],
                properties: Default::default(),
            })
        };
        peer.write(suback(subscribe.packet_id, 2)).await;
        let closed_at = refused(&mut peer, version, ReasonCode::ProtocolError).await;
        assert_violation(&disconnected(&mut rig).await, ReasonCode::ProtocolError);

        // Never answered right, the SUBSCRIBE goes out again.
        let mut peer = reconnected(&mut rig, closed_at, version).await;
        let Packet::Subscribe(again) = peer.expect().await else {
            panic!("the SUBSCRIBE again");
        };
        peer.write(suback(again.packet_id, 1)).await;
        assert_eq!(within(granted).await.expect("granted"), QoS::AtLeastOnce);
    }
}
