//! Servers that try the client's patience: one that never answers
//! CONNECT, one that answers a byte at a time, one that goes quiet. Each
//! runs on a reconnect: there a failed attempt is followed by another,
//! where the first connect's deadline ends the client (`connect_timeout.rs`).
//! The handler heard of the lost connection once; the attempts that fail
//! after it show in `Client::state`, as its attempt count.

use super::*;
use crate::client::ConnectionState;
use crate::packet::ConnAckProperties;

/// The CONNACK deadline of these tests: short, and well above a turn.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// How late after its deadline the client may give up.
const SLACK: Duration = Duration::from_millis(400);

/// A connected client whose server then went away: the handler has been
/// told, and the client dials again. The new dial's server end, and when
/// it was dialled.
async fn reconnecting(opts: ConnectOptions<()>) -> (Rig, Peer, Instant) {
    let version = ProtocolVersion::V5;
    let (mut rig, peer) = connected(opts, version).await;
    drop(peer);
    let lost = disconnected(&mut rig).await;
    assert!(matches!(lost, DisconnectReason::Transport(_)), "{lost}");
    let mut peer = rig.network.accept().await;
    let dialled = rig.network.dials().last().copied().expect("a dial");
    assert!(matches!(peer.expect().await, Packet::Connect(_)));
    (rig, peer, dialled)
}

fn assert_gave_up_at(deadline: Duration, waited: Duration) {
    assert!(
        waited >= deadline && waited < deadline + SLACK,
        "gave up after {waited:?}, the deadline being {deadline:?}"
    );
}

#[actix::test]
async fn a_server_that_never_answers_connect_is_left_at_the_connack_deadline() {
    let opts = pinned(ProtocolVersion::V5).connect_timeout(CONNECT_TIMEOUT);
    let (mut rig, mut silent, dialled) = reconnecting(opts).await;
    let closed_at = closed(&mut silent).await;
    assert_gave_up_at(CONNECT_TIMEOUT, closed_at.saturating_duration_since(dialled));
    assert_eq!(rig.client.state(), ConnectionState::Reconnecting { attempt: 2 });
    reconnected(&mut rig, closed_at, ProtocolVersion::V5).await;
}

#[actix::test]
async fn a_connack_trickled_slower_than_the_deadline_does_not_stretch_it() {
    let deadline = Duration::from_secs(1);
    let opts = pinned(ProtocolVersion::V5).connect_timeout(deadline);
    let (mut rig, mut slow, dialled) = reconnecting(opts).await;
    // Some 45 bytes, one each 200 ms: a byte comes well inside every
    // second, and the whole CONNACK would take nine.
    let connack = ConnAck {
        properties: ConnAckProperties {
            reason_string: Some("from the end of a very slow link".into()),
            ..ConnAckProperties::default()
        }
        .into(),
        ..ConnAck::default()
    };
    let bytes = wire(&Packet::ConnAck(connack), ProtocolVersion::V5);
    let closed_at = slow
        .trickle(&bytes, Duration::from_millis(200))
        .await
        .expect("the client closes before the CONNACK is whole");
    assert_gave_up_at(deadline, closed_at.saturating_duration_since(dialled));
    assert_eq!(rig.client.state(), ConnectionState::Reconnecting { attempt: 2 });
    reconnected(&mut rig, closed_at, ProtocolVersion::V5).await;
}

#[actix::test]
async fn a_server_that_goes_silent_is_dropped_when_pingresp_is_overdue() {
    let version = ProtocolVersion::V5;
    let keep_alive = Duration::from_secs(1);
    let (mut rig, mut peer) = connected(pinned(version).keepalive(keep_alive), version).await;
    assert!(matches!(peer.expect().await, Packet::PingReq));
    let pinged = Instant::now();
    // Unanswered: the PINGRESP is overdue one keep-alive interval on.
    let closed_at = closed(&mut peer).await;
    assert_gave_up_at(
        keep_alive - SEEN_LATE,
        closed_at.saturating_duration_since(pinged),
    );
    let reason = disconnected(&mut rig).await;
    assert!(matches!(reason, DisconnectReason::Timeout), "{reason}");
    reconnected(&mut rig, closed_at, version).await;
}

/// A server that takes everything and answers nothing, while the client
/// publishes QoS 0 all along: the client is never quiet, so pinging only
/// after a quiet interval of its own would never find the server out.
#[actix::test]
async fn a_silent_server_is_found_out_while_the_client_keeps_publishing() {
    let version = ProtocolVersion::V5;
    let keep_alive = Duration::from_secs(1);
    let (mut rig, mut peer) = connected(pinned(version).keepalive(keep_alive), version).await;
    let accepted = Instant::now();
    let client = rig.client.clone();
    let publishing = actix::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_millis(100));
        loop {
            ticks.tick().await;
            let _ = client.publish("ticks", "tick").await;
        }
    });
    let pinged = within(async {
        loop {
            match peer.expect().await {
                Packet::Publish(_) => {}
                Packet::PingReq => return Instant::now(),
                other => panic!("expected PUBLISH or PINGREQ, got {other:?}"),
            }
        }
    })
    .await;
    assert!(
        pinged.saturating_duration_since(accepted) < keep_alive + SLACK,
        "pinged {:?} after a CONNACK and nothing since",
        pinged.saturating_duration_since(accepted)
    );
    let closed_at = within(async {
        while let Some(packet) = peer.read().await {
            assert!(matches!(packet, Packet::Publish(_)), "{packet:?}");
        }
        Instant::now()
    })
    .await;
    assert_gave_up_at(
        keep_alive - SEEN_LATE,
        closed_at.saturating_duration_since(pinged),
    );
    let reason = disconnected(&mut rig).await;
    assert!(matches!(reason, DisconnectReason::Timeout), "{reason}");
    reconnected(&mut rig, closed_at, version).await;
    publishing.abort();
}
