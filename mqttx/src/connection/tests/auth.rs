//! Enhanced authentication through the actor: a server whose last word
//! does not verify fails the connect for good; re-authentication resolves
//! on the server's verified Success.

use bytes::Bytes;

use super::server::Peer;
use super::*;
use crate::auth::{AuthError, Authenticator};
use crate::packet::{Auth, AuthProperties, ConnAckProperties};

/// Accepts only the server data "good".
struct Toy;

impl Authenticator for Toy {
    fn method(&self) -> &str {
        "TOY"
    }
    fn start(&self) -> Option<Bytes> {
        Some(Bytes::from_static(b"hello"))
    }
    fn finish(&self, data: Option<&[u8]>) -> Result<(), AuthError> {
        match data {
            Some(b"good") => Ok(()),
            _ => Err(AuthError::new("not good")),
        }
    }
}

fn connack_saying(data: &'static [u8]) -> Packet {
    let properties = ConnAckProperties {
        authentication_method: Some("TOY".into()),
        authentication_data: Some(Bytes::from_static(data)),
        ..ConnAckProperties::default()
    };
    Packet::ConnAck(ConnAck {
        properties: properties.into(),
        ..ConnAck::default()
    })
}

async fn expect_connect(peer: &mut Peer) {
    match peer.expect().await {
        Packet::Connect(connect) => {
            assert_eq!(connect.properties.authentication_method.as_deref(), Some("TOY"));
            assert_eq!(
                connect.properties.authentication_data.as_deref(),
                Some(&b"hello"[..])
            );
        }
        other => panic!("expected CONNECT, got {other:?}"),
    }
}

#[actix::test]
async fn a_server_whose_last_word_does_not_verify_fails_the_connect_for_good() {
    let (mut rig, _gate) = start(options("c1").authenticator(Toy), Vec::<Answer>::new(), false);
    let mut peer = rig.network.accept().await;
    expect_connect(&mut peer).await;
    peer.write(connack_saying(b"forged")).await;
    match peer.expect().await {
        Packet::Disconnect(d) => assert_eq!(d.reason_code, ReasonCode::ImplementationSpecificError),
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
    let err = rig.first_outcome().await.expect_err("refused the server");
    assert_eq!(err, Error::Auth(AuthError::new("not good")));
    assert!(!err.is_retryable());
    match rig.lifecycle_event().await {
        HandlerEvent::Disconnected(reason) => assert!(reason.to_string().contains("not good"), "{reason}"),
        other => panic!("never Connected, got {other:?}"),
    }
    assert_eq!(rig.network.dials().len(), 1, "not retried");
}

#[actix::test]
async fn reauthenticate_resolves_on_the_servers_verified_success() {
    let (mut rig, _gate) = start(options("c1").authenticator(Toy), Vec::<Answer>::new(), false);
    let mut peer = rig.network.accept().await;
    expect_connect(&mut peer).await;
    peer.write(connack_saying(b"good")).await;
    rig.first_outcome().await.expect("connected");

    let reauth = actix::spawn(rig.client.reauthenticate());
    match peer.expect().await {
        Packet::Auth(auth) => {
            assert_eq!(auth.reason_code, ReasonCode::ReAuthenticate);
            assert_eq!(
                auth.properties.authentication_data.as_deref(),
                Some(&b"hello"[..])
            );
        }
        other => panic!("expected AUTH, got {other:?}"),
    }
    let success = Auth {
        reason_code: ReasonCode::Success,
        properties: AuthProperties {
            authentication_method: Some("TOY".into()),
            authentication_data: Some(Bytes::from_static(b"good")),
            ..AuthProperties::default()
        }
        .into(),
    };
    peer.write(Packet::Auth(success)).await;
    within(reauth).await.expect("joined").expect("re-authenticated");
}
