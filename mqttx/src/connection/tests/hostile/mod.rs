//! Hostile servers: each test plays a server that breaks the protocol, or
//! tries the client's patience, and checks all of the client's answer: on
//! MQTT 5 a DISCONNECT with the reason code the specification names, on
//! 3.1.1 a bare close (a 3.1.1 client has no way to say why); a
//! `Disconnected` event that names the reason and promises a reconnect; a
//! new dial no sooner than the backoff; no panic (a panic would reach the
//! handler as `Crashed`, not as the reason checked); and, where a server
//! could make the client hold more and more, a measured bound on what the
//! test's thread (the actor's too) holds.
//!
//! | case | client's answer | test |
//! |---|---|---|
//! | Remaining Length above our Maximum Packet Size | DISCONNECT 0x95 from the header alone | `framing::a_remaining_length_above_our_maximum_is_refused_from_the_header_alone` |
//! | Remaining Length of five bytes | DISCONNECT 0x81 | the same test |
//! | a packet one byte at a time | decoded whole, holding about the packet | `framing::packets_trickled_a_byte_at_a_time_are_decoded_whole_in_bounded_memory` |
//! | an unknown packet type (0), one only clients send | DISCONNECT 0x81, 0x82 | `framing::a_packet_type_a_server_may_not_send_is_refused` |
//! | type 15 on 3.1.1 (AUTH does not exist there) | close | `framing::a_packet_type_that_does_not_exist_in_3_1_1_closes_the_link` |
//! | PUBLISH with an alias never set, or over our maximum | DISCONNECT 0x94 | `flow::topic_aliases_never_set_or_above_our_maximum_are_topic_alias_invalid` |
//! | PUBACK for an id we never used | ignored: the connection stays | `flow::a_puback_for_an_id_never_used_is_ignored_and_the_connection_stays` |
//! | a second CONNACK | DISCONNECT 0x82; close on 3.1.1 | `flow::a_second_connack_is_a_protocol_error` |
//! | QoS 2 beyond our Receive Maximum | DISCONNECT 0x93, memory bounded | `flow::a_qos2_flood_beyond_our_receive_maximum_is_cut_off_in_bounded_memory` |
//! | SUBACK with the wrong count of codes | DISCONNECT 0x82; the SUBSCRIBE goes again | `flow::a_suback_with_the_wrong_count_of_codes_is_a_protocol_error` |
//! | never answers CONNECT | dropped at the CONNACK deadline | `silence::a_server_that_never_answers_connect_is_left_at_the_connack_deadline` |
//! | answers a byte at a time | the deadline holds, however often bytes come | `silence::a_connack_trickled_slower_than_the_deadline_does_not_stretch_it` |
//! | accepts, then says nothing | keep-alive: PINGREQ unanswered, dropped | `silence::a_server_that_goes_silent_is_dropped_when_pingresp_is_overdue` |
//! | the same, while we publish QoS 0 | pinged all the same, dropped | `silence::a_silent_server_is_found_out_while_the_client_keeps_publishing` |
//!
//! The first connect's CONNACK deadline, where `Client::connect` fails
//! rather than retrying, is `connect_timeout.rs`'s.

mod flow;
mod framing;
mod silence;

use super::*;
use crate::packet::{Disconnect, ProtocolVersion};
use server::Peer;

/// The backoff of [`options`]: the least time from a close to the next dial.
const BACKOFF: Duration = Duration::from_millis(100);

/// How much sooner than the backoff the next dial may seem to come: the
/// server's end sees the close a little after the client made it.
const SEEN_LATE: Duration = Duration::from_millis(10);

/// Options pinned to `version`: a close before CONNACK must not be taken
/// for a server without MQTT 5.
fn pinned(version: ProtocolVersion) -> ConnectOptions<()> {
    options("c1").protocol_version(version)
}

/// A client on `opts`, connected to a server speaking `version`.
async fn connected(opts: ConnectOptions<()>, version: ProtocolVersion) -> (Rig, Peer) {
    let (mut rig, _gate) = start(opts, vec![], false);
    let mut peer = rig.network.accept().await;
    peer.speak(version);
    peer.handshake().await;
    rig.first_outcome().await.expect("accepted");
    assert!(matches!(rig.lifecycle_event().await, HandlerEvent::Connected(_)));
    (rig, peer)
}

/// The client's answer to a violation on the wire: DISCONNECT with `code`
/// on MQTT 5, nothing on 3.1.1; then the close. Returns when the server's
/// end saw the close.
async fn refused(peer: &mut Peer, version: ProtocolVersion, code: ReasonCode) -> Instant {
    if version == ProtocolVersion::V5 {
        match peer.expect().await {
            Packet::Disconnect(Disconnect { reason_code, .. }) => assert_eq!(reason_code, code),
            other => panic!("expected DISCONNECT {code:?}, got {other:?}"),
        }
    }
    closed(peer).await
}

/// The client closes the link without another word; when that was seen.
async fn closed(peer: &mut Peer) -> Instant {
    if let Some(packet) = peer.read().await {
        panic!("expected the link closed, got {packet:?}");
    }
    Instant::now()
}

/// The handler's next `Disconnected`, which must promise a reconnect.
async fn disconnected(rig: &mut Rig) -> DisconnectReason {
    loop {
        if let HandlerEvent::Disconnected(reason) = rig.lifecycle_event().await {
            assert!(reason.will_reconnect(), "{reason}");
            return reason;
        }
    }
}

/// The reason names a protocol violation with `code`.
fn assert_violation(reason: &DisconnectReason, code: ReasonCode) {
    match reason {
        DisconnectReason::Protocol(Error::Protocol(violation)) => {
            assert_eq!(violation.reason, code, "{reason}")
        }
        other => panic!("expected a protocol violation {code:?}, got {other}"),
    }
}

/// The reason names a packet that could not be decoded, with `code`.
fn assert_undecodable(reason: &DisconnectReason, code: ReasonCode) {
    match reason {
        DisconnectReason::Protocol(Error::Decode(err)) => assert_eq!(err.reason_code(), code, "{reason}"),
        other => panic!("expected a decode error {code:?}, got {other}"),
    }
}

/// The client dials again, the backoff after `closed`, and connects to a
/// server speaking `version`.
async fn reconnected(rig: &mut Rig, closed: Instant, version: ProtocolVersion) -> Peer {
    let mut peer = rig.network.accept().await;
    let dialled = rig.network.dials().last().copied().expect("a dial");
    let waited = dialled.saturating_duration_since(closed);
    assert!(waited >= BACKOFF - SEEN_LATE, "redialled after {waited:?}");
    peer.speak(version);
    peer.handshake().await;
    assert!(matches!(rig.lifecycle_event().await, HandlerEvent::Connected(_)));
    peer
}

/// `packet` as the codec writes it in `version`.
fn wire(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    crate::packet::encode(packet, version, &mut out).expect("a packet the codec can encode");
    out.to_vec()
}
