//! Enhanced authentication: fresh data in every CONNECT, challenges to
//! the handler, the server's last word checked, re-authentication.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::*;
use crate::auth::{AuthError, Authenticator};

/// Opens with "start-N" and accepts only the server data "good".
#[derive(Default)]
struct Toy {
    starts: AtomicU32,
}

impl Authenticator for Toy {
    fn method(&self) -> &str {
        "TOY"
    }
    fn start(&self) -> Option<Bytes> {
        let n = self.starts.fetch_add(1, Ordering::Relaxed) + 1;
        Some(Bytes::from(format!("start-{n}")))
    }
    fn finish(&self, data: Option<&[u8]>) -> Result<(), AuthError> {
        match data {
            Some(b"good") => Ok(()),
            _ => Err(AuthError::new("the server did not say good")),
        }
    }
}

fn config_toy() -> Config {
    Config {
        authenticator: Some(Arc::new(Toy::default())),
        ..config_v5()
    }
}

fn connack_saying(data: &'static [u8]) -> ConnAck {
    connack_with(|c| {
        c.authentication_method = Some("TOY".into());
        c.authentication_data = Some(Bytes::from_static(data));
    })
}

fn auth(reason_code: ReasonCode, data: &'static [u8]) -> Auth {
    Auth {
        reason_code,
        properties: AuthProperties {
            authentication_method: Some("TOY".into()),
            authentication_data: Some(Bytes::from_static(data)),
            ..AuthProperties::default()
        }
        .into(),
    }
}

fn connect_data(p: &mut P, now: Instant) -> Option<Bytes> {
    p.connect(now);
    match drain(p, now).as_slice() {
        [Packet::Connect(connect)] => {
            assert_eq!(connect.properties.authentication_method.as_deref(), Some("TOY"));
            connect.properties.authentication_data.clone()
        }
        other => panic!("expected CONNECT, got {other:?}"),
    }
}

#[test]
fn every_connect_opens_a_fresh_exchange_and_challenges_reach_the_handler() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_toy());
    assert_eq!(connect_data(&mut p, now).as_deref(), Some(&b"start-1"[..]));
    let challenge = auth(ReasonCode::ContinueAuthentication, b"prove it");
    p.handle_packet(Packet::Auth(challenge.clone()), now).unwrap();
    assert_eq!(events(&mut p), [Event::AuthChallenge(challenge)]);
    p.connection_lost(now);
    assert_eq!(connect_data(&mut p, now).as_deref(), Some(&b"start-2"[..]));
}

#[test]
fn a_connack_whose_data_verifies_connects() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_toy());
    connect_data(&mut p, now);
    p.handle_packet(Packet::ConnAck(connack_saying(b"good")), now)
        .unwrap();
    assert!(matches!(events(&mut p).as_slice(), [Event::Connected { .. }]));
    assert!(p.is_connected());
}

#[test]
fn a_connack_whose_data_does_not_verify_is_refused_with_disconnect() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_toy());
    connect_data(&mut p, now);
    p.handle_packet(Packet::ConnAck(connack_saying(b"forged")), now)
        .unwrap();
    assert_eq!(
        events(&mut p),
        [Event::AuthFailed(AuthError::new("the server did not say good"))],
        "never Connected"
    );
    assert!(!p.is_connected());
    assert!(matches!(
        drain(&mut p, now).as_slice(),
        [Packet::Disconnect(d)] if d.reason_code == ReasonCode::ImplementationSpecificError
    ));
}

#[test]
fn reauthenticate_sends_fresh_data_and_ends_on_a_verified_success() {
    let now = Instant::now();
    let mut p = connect_with(config_toy(), connack_saying(b"good"), now);
    p.reauthenticate(None, 7, now);
    assert!(matches!(
        drain(&mut p, now).as_slice(),
        [Packet::Auth(a)] if a.reason_code == ReasonCode::ReAuthenticate
            && a.properties.authentication_data.as_deref() == Some(&b"start-2"[..])
    ));
    p.handle_packet(
        Packet::Auth(auth(ReasonCode::ContinueAuthentication, b"again")),
        now,
    )
    .unwrap();
    assert!(matches!(events(&mut p).as_slice(), [Event::AuthChallenge(_)]));
    let success = auth(ReasonCode::Success, b"good");
    p.handle_packet(Packet::Auth(success.clone()), now).unwrap();
    assert_eq!(
        events(&mut p),
        [
            Event::ReauthenticateDone {
                tag: 7,
                result: Ok(())
            },
            Event::AuthChallenge(success)
        ]
    );
    assert!(p.is_connected());
}

#[test]
fn a_reauthentication_success_that_does_not_verify_ends_the_connection() {
    let now = Instant::now();
    let mut p = connect_with(config_toy(), connack_saying(b"good"), now);
    p.reauthenticate(None, 7, now);
    drain(&mut p, now);
    p.handle_packet(Packet::Auth(auth(ReasonCode::Success, b"forged")), now)
        .unwrap();
    let err = AuthError::new("the server did not say good");
    assert_eq!(
        events(&mut p),
        [
            Event::ReauthenticateDone {
                tag: 7,
                result: Err(Error::Auth(err.clone()))
            },
            Event::AuthFailed(err)
        ]
    );
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Disconnect(_)]));
}

#[test]
fn a_server_started_reauthentication_reaches_the_handler_and_may_end_in_success() {
    let now = Instant::now();
    let mut p = connect_with(config_toy(), connack_saying(b"good"), now);
    let ask = auth(ReasonCode::ReAuthenticate, b"");
    p.handle_packet(Packet::Auth(ask.clone()), now).unwrap();
    assert_eq!(events(&mut p), [Event::AuthChallenge(ask)]);
    let success = auth(ReasonCode::Success, b"good");
    p.handle_packet(Packet::Auth(success.clone()), now).unwrap();
    assert_eq!(events(&mut p), [Event::AuthChallenge(success)]);
}

#[test]
fn auth_success_out_of_turn_is_a_protocol_error() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_toy());
    connect_data(&mut p, now);
    assert!(p
        .handle_packet(Packet::Auth(auth(ReasonCode::Success, b"good")), now)
        .is_err());

    let mut p = connect_with(config_toy(), connack_saying(b"good"), now);
    assert!(p
        .handle_packet(Packet::Auth(auth(ReasonCode::Success, b"good")), now)
        .is_err());
}

#[test]
fn reauthenticate_fails_at_once_when_it_cannot_start() {
    let now = Instant::now();
    let mut offline: P = Protocol::new(config_toy());
    offline.reauthenticate(None, 1, now);
    assert_eq!(
        events(&mut offline),
        [Event::ReauthenticateDone {
            tag: 1,
            result: Err(Error::NotConnected)
        }]
    );
    let mut no_method = connect_v5(now);
    no_method.reauthenticate(None, 2, now);
    assert!(matches!(
        events(&mut no_method).as_slice(),
        [Event::ReauthenticateDone {
            tag: 2,
            result: Err(Error::InvalidOptions(_))
        }]
    ));
    assert!(drain(&mut no_method, now).is_empty());
}

#[test]
fn a_reauthentication_cut_short_by_the_connection_fails() {
    let now = Instant::now();
    let mut p = connect_with(config_toy(), connack_saying(b"good"), now);
    p.reauthenticate(None, 3, now);
    drain(&mut p, now);
    p.connection_lost(now);
    assert_eq!(
        events(&mut p),
        [Event::ReauthenticateDone {
            tag: 3,
            result: Err(Error::NotConnected)
        }]
    );
}

#[test]
fn an_answer_names_the_method_of_the_connect_whatever_it_was_given() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_toy());
    connect_data(&mut p, now);
    p.handle_packet(
        Packet::Auth(auth(ReasonCode::ContinueAuthentication, b"prove it")),
        now,
    )
    .unwrap();
    events(&mut p);
    for method in [None, Some("OTHER")] {
        let mut answer = auth(ReasonCode::ContinueAuthentication, b"proof");
        answer.properties.authentication_method = method.map(ByteString::from);
        p.auth(answer, now);
        assert!(matches!(
            drain(&mut p, now).as_slice(),
            [Packet::Auth(a)] if a.properties.authentication_method.as_deref() == Some("TOY")
                && a.properties.authentication_data.as_deref() == Some(&b"proof"[..])
        ));
    }
}

#[test]
fn an_auth_success_may_come_without_properties() {
    let now = Instant::now();
    let mut config = config_v5();
    config.connect_properties.authentication_method = Some("PLAIN".into());
    let mut p = connect_with(config, connack(), now);
    p.reauthenticate(Some(Bytes::from_static(b"again")), 1, now);
    drain(&mut p, now);
    p.handle_packet(Packet::Auth(Auth::default()), now).unwrap();
    assert!(matches!(
        events(&mut p).as_slice(),
        [
            Event::ReauthenticateDone {
                tag: 1,
                result: Ok(())
            },
            Event::AuthChallenge(_)
        ]
    ));
}

#[test]
fn a_reauthentication_too_large_for_the_server_fails_and_is_not_written() {
    let now = Instant::now();
    let mut config = config_v5();
    config.connect_properties.authentication_method = Some("PLAIN".into());
    let mut p = connect_with(config, connack_with(|c| c.maximum_packet_size = Some(32)), now);
    p.reauthenticate(Some(Bytes::from(vec![b'x'; 64])), 1, now);
    assert!(drain(&mut p, now).is_empty());
    assert!(matches!(
        events(&mut p).as_slice(),
        [Event::ReauthenticateDone {
            tag: 1,
            result: Err(Error::PacketTooLarge { max: 32, .. })
        }]
    ));
    // Nothing is under way: the next one can start.
    p.reauthenticate(Some(Bytes::from_static(b"short")), 2, now);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Auth(_)]));
}

/// Out of turn is told apart: AUTH Success before the CONNACK, and after
/// it with no re-authentication under way, each with its own message.
#[test]
fn an_auth_success_out_of_turn_says_which_turn() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_toy());
    connect_data(&mut p, now);
    let early = p.handle_packet(Packet::Auth(auth(ReasonCode::Success, b"good")), now);
    assert!(
        matches!(&early, Err(e) if e.message.contains("before CONNACK")),
        "{early:?}"
    );

    let mut p = connect_with(config_toy(), connack_saying(b"good"), now);
    let unasked = p.handle_packet(Packet::Auth(auth(ReasonCode::Success, b"good")), now);
    assert!(
        matches!(&unasked, Err(e) if e.message.contains("no re-authentication")),
        "{unasked:?}"
    );
}

/// Only a Success may leave the Authentication Method out: a challenge
/// without one is a Protocol Error, not a challenge for the handler.
#[test]
fn a_challenge_without_a_method_is_a_protocol_error() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_toy());
    connect_data(&mut p, now);
    let mut bare = auth(ReasonCode::ContinueAuthentication, b"prove it");
    bare.properties.authentication_method = None;
    let refused = p.handle_packet(Packet::Auth(bare), now);
    assert!(
        matches!(&refused, Err(e) if e.message.contains("without an Authentication Method")),
        "{refused:?}"
    );
    assert!(events(&mut p).is_empty(), "nothing reaches the handler");
}

/// MQTT 3.1.1 has no AUTH packet: with an Authentication Method
/// configured, a re-authentication on a 3.1.1 connection fails at once
/// and writes nothing.
#[test]
fn reauthentication_on_mqtt_311_fails_and_writes_nothing() {
    let now = Instant::now();
    let mut config = config_v311();
    config.connect_properties.authentication_method = Some("PLAIN".into());
    let mut p = connect_with(config, connack(), now);
    p.reauthenticate(None, 4, now);
    assert!(matches!(
        events(&mut p).as_slice(),
        [Event::ReauthenticateDone {
            tag: 4,
            result: Err(Error::InvalidOptions(why))
        }] if why.contains("MQTT 5")
    ));
    assert!(drain(&mut p, now).is_empty());
}
