//! A refusal that names another server: followed when the code says the
//! server moved, and named in the error and the handler's event when the
//! refusal is final; and a server that does not speak MQTT 5.

use super::server::{Answer, Peer};
use super::*;
use crate::packet::{ConnAckProperties, ProtocolVersion};

fn refusal(code: ReasonCode, reference: &str) -> Packet {
    let properties = ConnAckProperties {
        server_reference: Some(reference.into()),
        ..ConnAckProperties::default()
    };
    Packet::ConnAck(ConnAck {
        reason_code: code,
        properties: properties.into(),
        ..ConnAck::default()
    })
}

#[actix::test]
async fn a_final_refusal_names_the_server_reference_in_the_error_and_the_event() {
    let (mut rig, _gate) = start(options("c1"), Vec::<Answer>::new(), false);
    let mut peer = rig.network.accept().await;
    assert!(matches!(peer.expect().await, Packet::Connect(_)));
    peer.write(refusal(ReasonCode::ServerMoved, "elsewhere:1883"))
        .await;

    // Moved: the next attempt goes to the named server at once.
    let mut moved = rig.network.accept().await;
    assert!(matches!(moved.expect().await, Packet::Connect(_)));
    moved
        .write(refusal(ReasonCode::NotAuthorized, "third:1883"))
        .await;

    let err = rig.first_outcome().await.expect_err("refused for good");
    assert!(
        matches!(
            &err,
            Error::ConnectRejected {
                reason_code: ReasonCode::NotAuthorized,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("use server third:1883"), "{err}");
    match rig.lifecycle_event().await {
        HandlerEvent::Disconnected(reason) => {
            assert_eq!(reason.server_reference(), Some("third:1883"));
            assert!(reason.to_string().contains("third:1883"), "{reason}");
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    let dials = rig.network.dials();
    assert_eq!(dials.len(), 2, "one refusal followed, one final");
}

#[actix::test]
async fn a_server_that_speaks_only_3_1_1_refuses_a_pinned_5_at_once_and_is_not_retried() {
    let pinned = options("c1").protocol_version(ProtocolVersion::V5);
    let (mut rig, _gate) = start(pinned, Vec::<Answer>::new(), false);
    let mut peer = rig.network.accept().await;
    assert!(matches!(peer.expect().await, Packet::Connect(_)));
    // What NATS answers an MQTT 5 CONNECT with: the 3.1.1 refusal.
    peer.write_raw(&[0x20, 0x02, 0x00, 0x01]).await;
    let err = rig.first_outcome().await.expect_err("refused");
    assert!(
        matches!(
            err,
            Error::ConnectRejected {
                reason_code: ReasonCode::UnsupportedProtocolVersion,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(rig.network.dials().len(), 1, "a version refusal is final");
}

/// Options whose backoff outlasts the test: a second attempt within the
/// test's deadline was not backed off.
fn no_time_to_back_off(client_id: &str) -> ConnectOptions<()> {
    ConnectOptions::new("scripted", client_id)
        .backoff(Backoff::default().initial(Duration::from_secs(60)).jitter(0.0))
}

/// Reads a CONNECT and says which version it speaks.
async fn connect_version(peer: &mut Peer) -> ProtocolVersion {
    match peer.expect().await {
        Packet::Connect(connect) => connect.protocol,
        other => panic!("expected CONNECT, got {other:?}"),
    }
}

#[actix::test]
async fn by_default_the_3_1_1_refusal_gets_a_3_1_1_connect_at_once() {
    let (mut rig, _gate) = start(no_time_to_back_off("c1"), Vec::<Answer>::new(), false);
    let mut first = rig.network.accept().await;
    assert_eq!(connect_version(&mut first).await, ProtocolVersion::V5);
    first.write_raw(&[0x20, 0x02, 0x00, 0x01]).await;
    let mut second = rig.network.accept().await;
    assert_eq!(connect_version(&mut second).await, ProtocolVersion::V311);
    second.write_raw(&[0x20, 0x02, 0x00, 0x00]).await;
    rig.first_outcome().await.expect("connected on 3.1.1");
    assert_eq!(rig.network.dials().len(), 2);
}

#[actix::test]
async fn by_default_a_close_before_connack_gets_a_3_1_1_connect_at_once() {
    let (mut rig, _gate) = start(no_time_to_back_off("c1"), Vec::<Answer>::new(), false);
    let mut first = rig.network.accept().await;
    assert_eq!(connect_version(&mut first).await, ProtocolVersion::V5);
    drop(first); // What RabbitMQ 3.x does with an MQTT 5 CONNECT.
    let mut second = rig.network.accept().await;
    assert_eq!(connect_version(&mut second).await, ProtocolVersion::V311);
    second.write_raw(&[0x20, 0x02, 0x00, 0x00]).await;
    rig.first_outcome().await.expect("connected on 3.1.1");
}
