//! State-machine checks for MQTT 5.0 normative statements (see
//! CONFORMANCE.md at the repository root). Each test names the statements
//! it checks; an ignored one is a statement the client does not keep yet,
//! with what is wrong in its `ignore` reason.

use std::collections::BTreeSet;
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::auth::{AuthError, Authenticator};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn session_present(connack: ConnAck) -> ConnAck {
    ConnAck {
        session_present: true,
        ..connack
    }
}

fn unsuback(n: u16, codes: Vec<ReasonCode>) -> Packet {
    Packet::UnsubAck(UnsubAck {
        packet_id: id(n),
        reason_codes: codes,
        properties: AckProperties::default().into(),
    })
}

fn incoming(topic: &'static str, qos: QoS, n: u16) -> Packet {
    Packet::Publish(Publish::new(topic, "m").qos(qos).packet_id(n))
}

fn messages(events: &[Event<u32>]) -> usize {
    events
        .iter()
        .filter(|event| matches!(event, Event::Message(_)))
        .count()
}

/// Opens every exchange with "hello" and accepts any last word.
struct Token;

impl Authenticator for Token {
    fn method(&self) -> &str {
        "TOKEN"
    }
    fn start(&self) -> Option<Bytes> {
        Some(Bytes::from_static(b"hello"))
    }
    fn finish(&self, _data: Option<&[u8]>) -> Result<(), AuthError> {
        Ok(())
    }
}

fn auth(reason_code: ReasonCode, method: &'static str) -> Auth {
    Auth {
        reason_code,
        properties: AuthProperties {
            authentication_method: Some(method.into()),
            authentication_data: Some(Bytes::from_static(b"data")),
            ..AuthProperties::default()
        }
        .into(),
    }
}

/// [MQTT-2.2.1-2], [MQTT-3.3.1-2], [MQTT-4.3.1-1]: a QoS 0 PUBLISH goes
/// out with DUP 0 and no Packet Identifier, whatever the caller set.
#[test]
fn a_qos0_publish_goes_out_without_packet_id_or_dup() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    let mut message = Publish::new("t", "x").packet_id(9);
    message.dup = true;
    p.publish(message, 1, now);
    let sent = drain(&mut p, now);
    let [Packet::Publish(sent)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(
        (sent.qos, sent.packet_id, sent.dup),
        (QoS::AtMostOnce, None, false)
    );
    assert_eq!(events(&mut p), [done(1, Ok(ReasonCode::Success))]);
}

/// [MQTT-2.2.1-6], [MQTT-3.8.4-2], [MQTT-3.10.4-4], [MQTT-3.10.4-5]: a
/// SUBACK or UNSUBACK completes the command that used its Packet
/// Identifier and no other; an UNSUBSCRIBE waits for its UNSUBACK.
#[test]
fn acks_complete_the_command_that_used_their_packet_id() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 1, now);
    p.subscribe(subscribe_filters(&["b"]), SubscribeProperties::default(), 2, now);
    p.unsubscribe(vec!["a".into()], UnsubscribeProperties::default(), 3, now);
    assert_eq!(drain(&mut p, now).len(), 3);

    // Acknowledgements for ids never used complete nothing.
    p.handle_packet(suback(9, vec![ReasonCode::GrantedQoS1]), now)
        .unwrap();
    p.handle_packet(unsuback(8, vec![ReasonCode::Success]), now)
        .unwrap();
    assert!(events(&mut p).is_empty());

    p.handle_packet(suback(2, vec![ReasonCode::GrantedQoS1]), now)
        .unwrap();
    assert!(matches!(
        events(&mut p).as_slice(),
        [Event::SubscribeDone { tag: 2, result: Ok(s) }] if s.packet_id == id(2)
    ));
    assert!(
        events(&mut p).is_empty(),
        "the UNSUBSCRIBE waits for its UNSUBACK"
    );
    p.handle_packet(unsuback(3, vec![ReasonCode::Success]), now)
        .unwrap();
    p.handle_packet(suback(1, vec![ReasonCode::GrantedQoS1]), now)
        .unwrap();
    assert!(matches!(
        events(&mut p).as_slice(),
        [
            Event::UnsubscribeDone { tag: 3, result: Ok(u) },
            Event::SubscribeDone { tag: 1, result: Ok(s) },
        ] if u.packet_id == id(3) && s.packet_id == id(1)
    ));

    // The wrong kind of acknowledgement for an id is a protocol error.
    let mut p = connect_v5(now);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 1, now);
    drain(&mut p, now);
    assert!(p
        .handle_packet(unsuback(1, vec![ReasonCode::Success]), now)
        .is_err());
    let mut p = connect_v5(now);
    p.unsubscribe(vec!["a".into()], UnsubscribeProperties::default(), 1, now);
    drain(&mut p, now);
    assert!(p
        .handle_packet(suback(1, vec![ReasonCode::GrantedQoS1]), now)
        .is_err());
}

/// [MQTT-3.1.0-1]: whatever waits — publishes, PUBRELs, subscriptions, a
/// keep-alive ping — the first packet on every network connection is
/// CONNECT, and nothing follows it before CONNACK.
#[test]
fn the_first_packet_on_every_connection_is_connect() {
    let t0 = Instant::now();
    let config = Config {
        keep_alive: 5,
        ..config_persistent()
    };
    let mut p = connect_with(config, connack(), t0);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, t0);
    publish(&mut p, "t", QoS::ExactlyOnce, 2, t0);
    drain(&mut p, t0);
    p.handle_packet(Packet::PubRec(PubRec::new(id(2))), t0).unwrap();
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 3, t0);
    p.handle_packet(incoming("in", QoS::ExactlyOnce, 7), t0).unwrap();
    drain(&mut p, t0);
    p.connection_lost(t0);
    publish(&mut p, "t", QoS::AtLeastOnce, 4, t0);
    p.subscribe(subscribe_filters(&["b"]), SubscribeProperties::default(), 5, t0);
    p.unsubscribe(vec!["a".into()], UnsubscribeProperties::default(), 6, t0);

    // The first attempt is lost before CONNACK; the second gets one.
    for attempt in 0..2 {
        p.connect(t0);
        p.handle_timeout(t0 + secs(6));
        publish(&mut p, "t", QoS::AtMostOnce, 7, t0 + secs(6));
        let sent = drain(&mut p, t0 + secs(6));
        assert!(matches!(sent.as_slice(), [Packet::Connect(_)]), "{sent:?}");
        if attempt == 0 {
            p.connection_lost(t0 + secs(6));
        }
    }
    p.handle_packet(Packet::ConnAck(session_present(connack())), t0 + secs(6))
        .unwrap();
    let sent = drain(&mut p, t0 + secs(6));
    assert!(sent.len() >= 5, "what waited goes now: {sent:?}");
    assert!(!sent.iter().any(|packet| matches!(packet, Packet::Connect(_))));
}

/// [MQTT-3.1.0-2]: the client never sends a second CONNECT on a network
/// connection: before and after CONNACK, pings, publishes, acknowledgements
/// and a stray second CONNACK produce no CONNECT; only `connect()`, which
/// the shell calls for each new transport, does.
#[test]
fn a_network_connection_carries_one_connect() {
    let t0 = Instant::now();
    let config = Config {
        keep_alive: 5,
        ..config_v5()
    };
    let mut p: P = Protocol::new(config);
    p.connect(t0);
    let mut sent = drain(&mut p, t0);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, t0);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 2, t0);
    p.handle_timeout(t0 + secs(1));
    sent.extend(drain(&mut p, t0 + secs(1)));
    p.handle_packet(Packet::ConnAck(connack()), t0 + secs(1)).unwrap();
    sent.extend(drain(&mut p, t0 + secs(1)));
    // The SUBSCRIBE went first (id 1), then the publish (id 2).
    p.handle_packet(suback(1, vec![ReasonCode::GrantedQoS1]), t0 + secs(2))
        .unwrap();
    p.handle_packet(puback(2), t0 + secs(2)).unwrap();
    for s in 2..40 {
        let now = t0 + secs(s);
        p.handle_timeout(now);
        if s % 10 == 0 {
            p.handle_packet(incoming("in", QoS::AtLeastOnce, 9), now).unwrap();
        }
        let out = drain(&mut p, now);
        if out.contains(&Packet::PingReq) {
            p.handle_packet(Packet::PingResp, now).unwrap();
        }
        sent.extend(out);
    }
    assert!(p
        .handle_packet(Packet::ConnAck(connack()), t0 + secs(40))
        .is_err());
    sent.extend(drain(&mut p, t0 + secs(40)));
    assert!(matches!(sent.first(), Some(Packet::Connect(_))));
    let connects = sent
        .iter()
        .filter(|packet| matches!(packet, Packet::Connect(_)))
        .count();
    assert_eq!(connects, 1, "{sent:?}");
    assert!(sent.contains(&Packet::PingReq), "keep-alive ran meanwhile");
}

/// [MQTT-3.1.2-4]: with Clean Start 1 the client discards the Session
/// State it had (here, one restored from a store): the incoming QoS 2
/// packet ids it remembered are forgotten, a PUBREL it still owed is
/// dropped, and no PUBLISH goes out again under its old packet id with DUP:
/// a message the server never acknowledged is published again as a new
/// message.
#[test]
fn clean_start_discards_the_session_state_it_had() {
    let now = Instant::now();
    let mut old = connect_with(config_persistent(), connack(), now);
    publish(&mut old, "t", QoS::AtLeastOnce, 1, now);
    publish(&mut old, "t", QoS::ExactlyOnce, 2, now);
    drain(&mut old, now);
    old.handle_packet(Packet::PubRec(PubRec::new(id(2))), now)
        .unwrap();
    old.handle_packet(incoming("in", QoS::ExactlyOnce, 9), now)
        .unwrap();
    let state = old.session_state();
    assert_eq!((state.outgoing.len(), state.incoming.len()), (2, 1));

    let config = Config {
        clean_start: true,
        ..config_persistent()
    };
    let mut p: P = Protocol::new(config);
    assert!(p.restore_session(state, |stored| 100 + stored.seq as u32));
    p.connect(now);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Connect(c)] if c.clean_start));
    p.handle_packet(Packet::ConnAck(connack()), now).unwrap();
    let sent = drain(&mut p, now);
    assert!(
        !sent.iter().any(|packet| matches!(packet, Packet::PubRel(_))),
        "no PUBREL for the old session: {sent:?}"
    );
    assert_eq!(publishes(&sent).len(), 1);
    assert!(
        publishes(&sent).iter().all(|&(_, dup)| !dup),
        "a new message: {sent:?}"
    );
    assert!(p.session_state().incoming.is_empty());
    p.handle_packet(incoming("in", QoS::ExactlyOnce, 9), now).unwrap();
    assert_eq!(messages(&events(&mut p)), 1, "id 9 starts a new message");
}

/// [MQTT-3.1.2-30], [MQTT-3.1.4-6]: with an Authentication Method in
/// CONNECT, nothing but AUTH (and DISCONNECT) goes out before CONNACK:
/// publishes, subscriptions and pings wait.
#[test]
fn with_an_authentication_method_only_auth_goes_out_before_connack() {
    let t0 = Instant::now();
    let mut config = Config {
        keep_alive: 5,
        ..config_v5()
    };
    config.connect_properties.authentication_method = Some("TOKEN".into());
    let mut p: P = Protocol::new(config);
    p.connect(t0);
    publish(&mut p, "t", QoS::AtMostOnce, 1, t0);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, t0);
    publish(&mut p, "t", QoS::ExactlyOnce, 3, t0);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 4, t0);
    p.unsubscribe(vec!["b".into()], UnsubscribeProperties::default(), 5, t0);
    p.reauthenticate(None, 6, t0);
    p.handle_packet(
        Packet::Auth(auth(ReasonCode::ContinueAuthentication, "TOKEN")),
        t0,
    )
    .unwrap();
    p.auth(auth(ReasonCode::ContinueAuthentication, "TOKEN"), t0);
    p.handle_timeout(t0 + secs(6));
    let sent = drain(&mut p, t0 + secs(6));
    assert!(
        matches!(sent.as_slice(), [Packet::Connect(_), Packet::Auth(_)]),
        "{sent:?}"
    );
    let mut connack = connack();
    connack.properties.authentication_method = Some("TOKEN".into());
    p.handle_packet(Packet::ConnAck(connack), t0 + secs(6)).unwrap();
    let sent = drain(&mut p, t0 + secs(6));
    assert_eq!(publishes(&sent).len(), 2, "QoS 1 and 2 waited: {sent:?}");
    assert!(sent.iter().any(|packet| matches!(packet, Packet::Subscribe(_))));
    assert!(sent.iter().any(|packet| matches!(packet, Packet::Unsubscribe(_))));
}

/// [MQTT-3.1.3-8], [MQTT-3.1.4-2], [MQTT-4.12.0-4], [MQTT-4.13.2-1]: a
/// CONNACK with a failure code ends the attempt: nothing more is written
/// on that connection (the shell closes it), no deadline is left, and a
/// refusal that only new settings can fix (Client Identifier not valid,
/// bad credentials, Bad authentication method, ...) is not retried.
#[test]
fn a_connack_refusal_ends_the_connection_and_final_ones_are_not_retried() {
    let now = Instant::now();
    for (code, retryable) in [
        (ReasonCode::ClientIdentifierNotValid, false),
        (ReasonCode::BadUserNameOrPassword, false),
        (ReasonCode::NotAuthorized, false),
        (ReasonCode::BadAuthenticationMethod, false),
        (ReasonCode::Banned, false),
        (ReasonCode::UnsupportedProtocolVersion, false),
        (ReasonCode::ServerUnavailable, true),
        (ReasonCode::ServerBusy, true),
        (ReasonCode::QuotaExceeded, true),
    ] {
        let mut p: P = Protocol::new(config_v5());
        publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
        p.connect(now);
        drain(&mut p, now);
        let refusal = ConnAck {
            reason_code: code,
            ..connack()
        };
        p.handle_packet(Packet::ConnAck(refusal.clone()), now).unwrap();
        let events = events(&mut p);
        assert_eq!(events, [Event::ConnectRejected(refusal)]);
        assert_eq!(events[0].retryable(), Some(retryable), "{code}");
        assert!(!p.is_connected());
        assert_eq!(p.poll_timeout(), None);
        p.handle_timeout(now + secs(3600));
        assert!(
            drain(&mut p, now).is_empty(),
            "{code}: nothing more on this connection"
        );
        assert_eq!(p.queued(), 1, "the publish waits for a connection that takes it");
    }
}

/// [MQTT-3.14.2-2]: a server may not send a Session Expiry Interval on
/// DISCONNECT; when one does, the client does not act on it: the session
/// expiry in force (from CONNECT) still decides the next Clean Start.
#[test]
fn a_session_expiry_on_a_server_disconnect_changes_nothing() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    let mut disconnect = Disconnect {
        reason_code: ReasonCode::ServerShuttingDown,
        ..Disconnect::default()
    };
    disconnect.properties.session_expiry_interval = Some(0);
    p.handle_packet(Packet::Disconnect(disconnect.clone()), now)
        .unwrap();
    assert_eq!(events(&mut p), [Event::ServerDisconnect(disconnect)]);
    assert!(drain(&mut p, now).is_empty());
    p.connection_lost(now);
    p.connect(now);
    let sent = drain(&mut p, now);
    assert!(
        matches!(sent.as_slice(), [Packet::Connect(c)]
            if !c.clean_start && c.properties.session_expiry_interval == Some(3600)),
        "{sent:?}"
    );
}

/// [MQTT-3.1.2-29]: after Request Problem Information 0, a Reason String
/// or User Property on anything but PUBLISH, CONNACK or DISCONNECT is the
/// server's protocol error (section 3.1.2.11.7: the client answers with
/// DISCONNECT 0x82).
#[test]
fn problem_information_refused_in_connect_is_a_protocol_error_when_sent() {
    let now = Instant::now();
    let refused = || {
        let mut config = config_v5();
        config.connect_properties.request_problem_information = Some(false);
        config
    };
    let mut p = connect_with(refused(), connack(), now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    drain(&mut p, now);
    let mut ack = PubAck::new(id(1));
    ack.properties.reason_string = Some("you asked for none".into());
    let error = p.handle_packet(Packet::PubAck(ack), now).unwrap_err();
    assert_eq!(error.reason, ReasonCode::ProtocolError);
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Disconnect(d)]
        if d.reason_code == ReasonCode::ProtocolError));

    // Every other packet but PUBLISH, CONNACK and DISCONNECT, with a User
    // Property or a Reason String.
    let mut properties = AckProperties::default();
    properties.user_properties.push(("k".into(), "v".into()));
    let mut auth_properties = AuthProperties {
        authentication_method: Some("TOKEN".into()),
        ..AuthProperties::default()
    };
    auth_properties.reason_string = Some("why".into());
    let packets = [
        Packet::PubRec(PubRec {
            properties: properties.clone().into(),
            ..PubRec::new(id(1))
        }),
        Packet::PubRel(PubRel {
            properties: properties.clone().into(),
            ..PubRel::new(id(1))
        }),
        Packet::PubComp(PubComp {
            properties: properties.clone().into(),
            ..PubComp::new(id(1))
        }),
        Packet::SubAck(SubAck {
            packet_id: id(1),
            reason_codes: vec![ReasonCode::Success],
            properties: properties.clone().into(),
        }),
        Packet::UnsubAck(UnsubAck {
            packet_id: id(1),
            reason_codes: vec![ReasonCode::Success],
            properties: properties.clone().into(),
        }),
        Packet::Auth(Auth {
            reason_code: ReasonCode::ReAuthenticate,
            properties: auth_properties.into(),
        }),
    ];
    for packet in packets {
        let mut config = refused();
        config.connect_properties.authentication_method = Some("TOKEN".into());
        let mut p = connect_with(config, connack(), now);
        let name = packet.name();
        let error = p.handle_packet(packet, now).unwrap_err();
        assert_eq!(error.reason, ReasonCode::ProtocolError, "{name}");
    }

    // PUBLISH and DISCONNECT may carry them; and without Request Problem
    // Information 0 every packet may.
    let mut p = connect_with(refused(), connack(), now);
    let mut message = Publish::new("t", "m");
    message.properties.user_properties.push(("k".into(), "v".into()));
    p.handle_packet(Packet::Publish(message), now).unwrap();
    let mut disconnect = Disconnect::default();
    disconnect.properties.reason_string = Some("bye".into());
    p.handle_packet(Packet::Disconnect(disconnect), now).unwrap();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    drain(&mut p, now);
    let mut ack = PubAck::new(id(1));
    ack.properties.reason_string = Some("fine".into());
    p.handle_packet(Packet::PubAck(ack), now).unwrap();
}

/// [MQTT-1.5.4-2], [MQTT-3.1.3-4], [MQTT-3.1.3-12]: a configuration
/// whose CONNECT would carry U+0000 is found out before connecting.
#[test]
fn a_connect_that_cannot_be_written_is_found_out_before_connecting() {
    assert_eq!(config_v5().check_connect(), Ok(()));
    let with_token = Config {
        authenticator: Some(Arc::new(Token)),
        ..config_v5()
    };
    assert_eq!(with_token.check_connect(), Ok(()));
    let cases: [(&str, Config); 3] = [
        ("Client Identifier", Config::new("a\0b")),
        (
            "User Name",
            Config {
                username: Some("\0".into()),
                ..config_v5()
            },
        ),
        ("User Property", {
            let mut config = config_v5();
            config
                .connect_properties
                .user_properties
                .push(("k".into(), "\0".into()));
            config
        }),
    ];
    for (field, config) in cases {
        assert_eq!(config.check_connect(), Err(EncodeError::NullCharacter(field)));
    }
}

/// [MQTT-3.2.2-15]: a SUBSCRIBE or UNSUBSCRIBE larger than the server's
/// Maximum Packet Size is refused locally and never written.
#[test]
fn a_subscribe_or_unsubscribe_above_the_servers_maximum_packet_size_is_refused() {
    let now = Instant::now();
    let mut p = connect_with(
        config_v5(),
        connack_with(|c| c.maximum_packet_size = Some(32)),
        now,
    );
    let long: &'static str = "a/very/long/topic/filter/over/the/limit";
    p.subscribe(subscribe_filters(&[long]), SubscribeProperties::default(), 1, now);
    p.unsubscribe(vec![long.into()], UnsubscribeProperties::default(), 2, now);
    assert!(drain(&mut p, now).is_empty());
    assert!(matches!(
        events(&mut p).as_slice(),
        [
            Event::SubscribeDone {
                tag: 1,
                result: Err(Error::PacketTooLarge { max: 32, .. })
            },
            Event::UnsubscribeDone {
                tag: 2,
                result: Err(Error::PacketTooLarge { max: 32, .. })
            },
        ]
    ));
    assert!(
        !p.ids.is_used(id(1)) && !p.ids.is_used(id(2)),
        "no packet id kept"
    );
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 3, now);
    let sent = drain(&mut p, now);
    assert!(matches!(sent.as_slice(), [Packet::Subscribe(_)]), "{sent:?}");
    assert!(encoded_len(&sent[0], ProtocolVersion::V5).unwrap() <= 32);
}

/// [MQTT-3.2.2-15]: nothing the client writes is larger than the server's
/// Maximum Packet Size, not even a DISCONNECT the application gave a long
/// Reason String (which must then go without it, as [MQTT-3.14.2-3] says).
#[test]
fn a_disconnect_is_kept_within_the_servers_maximum_packet_size() {
    let now = Instant::now();
    let mut p = connect_with(
        config_v5(),
        connack_with(|c| c.maximum_packet_size = Some(32)),
        now,
    );
    let mut disconnect = Disconnect::default();
    disconnect.properties.reason_string = Some("x".repeat(100).into());
    p.disconnect(disconnect, now);
    let sent = drain(&mut p, now);
    assert!(matches!(sent.as_slice(), [Packet::Disconnect(_)]), "{sent:?}");
    assert!(encoded_len(&sent[0], ProtocolVersion::V5).unwrap() <= 32);

    // The Reason String goes first, then User Properties, last first; what
    // fits stays.
    let mut p = connect_with(
        config_v5(),
        connack_with(|c| c.maximum_packet_size = Some(32)),
        now,
    );
    let mut disconnect = Disconnect {
        reason_code: ReasonCode::DisconnectWithWillMessage,
        ..Disconnect::default()
    };
    disconnect.properties.session_expiry_interval = Some(0);
    disconnect.properties.reason_string = Some("r".into());
    disconnect.properties.user_properties = vec![
        ("a".into(), "1".into()),
        ("b".into(), "2".into()),
        ("c".into(), "x".repeat(20).into()),
    ];
    p.disconnect(disconnect, now);
    let sent = drain(&mut p, now);
    let [Packet::Disconnect(d)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(d.reason_code, ReasonCode::DisconnectWithWillMessage);
    assert_eq!(d.properties.session_expiry_interval, Some(0));
    assert_eq!(d.properties.reason_string, None);
    assert_eq!(
        d.properties.user_properties,
        [("a".into(), "1".into()), ("b".into(), "2".into())]
    );
    assert!(encoded_len(&sent[0], ProtocolVersion::V5).unwrap() <= 32);

    // Without a maximum, one that cannot be written at all (U+0000) goes
    // without what it may leave out, rather than not at all.
    let mut p = connect_v5(now);
    let mut disconnect = Disconnect::default();
    disconnect.properties.reason_string = Some("a\0b".into());
    p.disconnect(disconnect, now);
    let sent = drain(&mut p, now);
    assert!(matches!(sent.as_slice(), [Packet::Disconnect(d)] if d.properties.reason_string.is_none()));
}

/// [MQTT-3.3.2-10]: every Topic Alias from 1 to the Topic Alias Maximum
/// we sent is accepted, set and then used.
#[test]
fn every_topic_alias_up_to_our_maximum_is_accepted() {
    let now = Instant::now();
    let max = 500u16;
    let mut config = config_v5();
    config.connect_properties.topic_alias_maximum = Some(max);
    let mut p = connect_with(config, connack(), now);
    for alias in 1..=max {
        let topic = format!("t/{alias}");
        for sent_topic in [topic.clone(), String::new()] {
            let mut publish = Publish::new(sent_topic, "m");
            publish.properties.topic_alias = NonZeroU16::new(alias);
            p.handle_packet(Packet::Publish(publish), now).unwrap();
            assert!(
                matches!(events(&mut p).as_slice(), [Event::Message(m)] if m.topic == topic.as_str()),
                "alias {alias}"
            );
        }
    }
}

/// [MQTT-3.3.4-7], [MQTT-4.9.0-2]: a PUBACK or PUBREC with a failure code
/// ends the flow, and its slot in the server's Receive Maximum goes to
/// the next publish waiting.
#[test]
fn a_refused_publish_frees_its_place_in_the_window() {
    let now = Instant::now();
    let mut p = connect_with(config_v5(), connack_with(|c| c.receive_maximum = Some(1)), now);
    publish(&mut p, "t", QoS::ExactlyOnce, 1, now);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, now);
    publish(&mut p, "t", QoS::AtLeastOnce, 3, now);
    assert_eq!(publishes(&drain(&mut p, now)), [(1, false)]);
    let mut rec = PubRec::new(id(1));
    rec.reason_code = ReasonCode::QuotaExceeded;
    p.handle_packet(Packet::PubRec(rec), now).unwrap();
    assert_eq!(publishes(&drain(&mut p, now)), [(2, false)]);
    let mut ack = PubAck::new(id(2));
    ack.reason_code = ReasonCode::UnspecifiedError;
    p.handle_packet(Packet::PubAck(ack), now).unwrap();
    assert_eq!(publishes(&drain(&mut p, now)), [(3, false)]);
    assert_eq!((p.inflight(), p.queued()), (1, 0));
}

/// [MQTT-3.3.4-8], [MQTT-4.9.0-3]: with the send quota used up, every
/// other packet still goes out at once: acknowledgements of the server's
/// messages, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, QoS 0 PUBLISH, DISCONNECT.
#[test]
fn other_packets_are_not_held_back_by_a_full_window() {
    let t0 = Instant::now();
    let config = Config {
        keep_alive: 5,
        ..config_v5()
    };
    let mut p = connect_with(config, connack_with(|c| c.receive_maximum = Some(1)), t0);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, t0);
    publish(&mut p, "t", QoS::AtLeastOnce, 2, t0);
    assert_eq!(publishes(&drain(&mut p, t0)), [(1, false)]);
    p.handle_packet(incoming("in", QoS::AtLeastOnce, 7), t0).unwrap();
    p.handle_packet(incoming("in", QoS::ExactlyOnce, 8), t0).unwrap();
    p.handle_packet(Packet::PubRel(PubRel::new(id(8))), t0).unwrap();
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 3, t0);
    p.unsubscribe(vec!["b".into()], UnsubscribeProperties::default(), 4, t0);
    publish(&mut p, "t", QoS::AtMostOnce, 5, t0);
    let sent = drain(&mut p, t0);
    assert!(
        matches!(
            sent.as_slice(),
            [
                Packet::PubAck(_),
                Packet::PubRec(_),
                Packet::PubComp(_),
                Packet::Subscribe(_),
                Packet::Unsubscribe(_),
                Packet::Publish(q0),
            ] if q0.qos == QoS::AtMostOnce
        ),
        "{sent:?}"
    );
    p.handle_timeout(t0 + secs(5));
    assert_eq!(drain(&mut p, t0 + secs(5)), [Packet::PingReq]);
    p.disconnect(Disconnect::default(), t0 + secs(5));
    assert!(matches!(
        drain(&mut p, t0 + secs(5)).as_slice(),
        [Packet::Disconnect(_)]
    ));
}

/// [MQTT-4.9.0-1]: the send quota starts above zero and at most at the
/// server's Receive Maximum.
#[test]
fn the_send_quota_starts_above_zero_and_within_receive_maximum() {
    let now = Instant::now();
    for (max_inflight, receive_maximum, expected) in [
        (0, None, 1),
        (100, Some(3), 3),
        (2, Some(3), 2),
        (100, Some(0), 1),
        (100, None, 100),
    ] {
        let config = Config {
            max_inflight,
            ..config_v5()
        };
        let mut p = connect_with(config, connack_with(|c| c.receive_maximum = receive_maximum), now);
        for tag in 0..120 {
            publish(&mut p, "t", QoS::AtLeastOnce, tag, now);
        }
        assert_eq!(
            publishes(&drain(&mut p, now)).len(),
            expected,
            "max_inflight {max_inflight}, Receive Maximum {receive_maximum:?}"
        );
    }
}

/// [MQTT-3.4.2-1..3], [MQTT-3.5.2-1..3], [MQTT-3.6.2-1..3],
/// [MQTT-3.7.2-1..3], [MQTT-4.3.3-9]: every PUBACK, PUBREC, PUBREL and
/// PUBCOMP the client writes uses a code of its own (PUBACK and PUBREC
/// always Success, so never a PUBREC of 0x80 or more) and carries no
/// Reason String or User Property, so none can be pushed over the
/// server's Maximum Packet Size by them.
#[test]
fn acknowledgements_the_client_sends_carry_no_properties() {
    let now = Instant::now();
    let mut sent = Vec::new();
    for manual in [false, true] {
        let mut config = config_v5();
        config.connect_properties.receive_maximum = Some(2);
        let mut p: P = Protocol::new(config);
        p.manual_acks(manual);
        p.connect(now);
        drain(&mut p, now);
        p.handle_packet(
            Packet::ConnAck(connack_with(|c| c.maximum_packet_size = Some(64))),
            now,
        )
        .unwrap();
        p.handle_packet(incoming("in", QoS::AtLeastOnce, 1), now).unwrap();
        p.handle_packet(incoming("in", QoS::ExactlyOnce, 2), now).unwrap();
        let mut again = Publish::new("in", "m").qos(QoS::ExactlyOnce).packet_id(2);
        again.dup = true;
        p.handle_packet(Packet::Publish(again), now).unwrap();
        for event in events(&mut p) {
            if let Event::Message(message) = event {
                if let Some(ack) = Ack::of(&message) {
                    p.acknowledge(ack);
                }
            }
        }
        p.handle_packet(Packet::PubRel(PubRel::new(id(2))), now).unwrap();
        p.handle_packet(Packet::PubRel(PubRel::new(id(99))), now).unwrap();
        publish(&mut p, "t", QoS::ExactlyOnce, 1, now);
        let mut rec = PubRec::new(id(1));
        rec.properties.reason_string = Some("the server may say why".into());
        rec.properties.user_properties.push(("k".into(), "v".into()));
        p.handle_packet(Packet::PubRec(rec), now).unwrap();
        p.handle_packet(Packet::PubRec(PubRec::new(id(50))), now).unwrap();
        sent.extend(drain(&mut p, now));
    }
    let mut kinds = BTreeSet::new();
    for packet in &sent {
        let (code, properties) = match packet {
            Packet::PubAck(a) => (a.reason_code, &a.properties),
            Packet::PubRec(a) => (a.reason_code, &a.properties),
            Packet::PubRel(a) => (a.reason_code, &a.properties),
            Packet::PubComp(a) => (a.reason_code, &a.properties),
            _ => continue,
        };
        kinds.insert(packet.name());
        if matches!(packet, Packet::PubAck(_) | Packet::PubRec(_)) {
            assert_eq!(code, ReasonCode::Success, "{packet:?}");
        }
        assert!(
            matches!(code, ReasonCode::Success | ReasonCode::PacketIdentifierNotFound),
            "{packet:?}"
        );
        assert_eq!(**properties, AckProperties::default(), "{packet:?}");
    }
    assert_eq!(kinds.len(), 4, "all four were written: {sent:?}");
}

/// [MQTT-4.3.2-5]: once a PUBACK is sent, a PUBLISH with the same Packet
/// Identifier is a new message, DUP or not, with automatic and with
/// manual acknowledgement.
#[test]
fn after_a_puback_the_same_packet_id_is_a_new_message() {
    let now = Instant::now();
    for manual in [false, true] {
        let mut p: P = Protocol::new(config_v5());
        p.manual_acks(manual);
        p.connect(now);
        drain(&mut p, now);
        p.handle_packet(Packet::ConnAck(connack()), now).unwrap();
        events(&mut p);
        for dup in [false, true, true] {
            let mut message = Publish::new("t", "m").qos(QoS::AtLeastOnce).packet_id(3);
            message.dup = dup;
            p.handle_packet(Packet::Publish(message), now).unwrap();
            let delivered = events(&mut p);
            assert_eq!(messages(&delivered), 1, "manual {manual}, dup {dup}");
            if let [Event::Message(message)] = delivered.as_slice() {
                p.acknowledge(Ack::of(message).unwrap());
            }
            assert_eq!(drain(&mut p, now), [puback(3)]);
        }
    }
}

/// [MQTT-4.3.3-1], [MQTT-4.3.2-1]: every QoS 1 and QoS 2 PUBLISH takes a
/// non-zero Packet Identifier that no flow in progress (PUBLISH,
/// SUBSCRIBE or UNSUBSCRIBE) is using.
#[test]
fn new_publishes_take_a_packet_id_no_flow_is_using() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    let mut in_use: BTreeSet<u16> = BTreeSet::new();
    let mut order: Vec<(u16, QoS)> = Vec::new();
    for n in 0..600u32 {
        match n % 5 {
            0 => p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), n, now),
            1 => publish(&mut p, "t", QoS::AtLeastOnce, n, now),
            _ => publish(&mut p, "t", QoS::ExactlyOnce, n, now),
        }
        for packet in drain(&mut p, now) {
            let (packet_id, qos) = match &packet {
                Packet::Publish(publish) => (publish.packet_id.unwrap().get(), publish.qos),
                Packet::Subscribe(subscribe) => (subscribe.packet_id.get(), QoS::AtMostOnce),
                Packet::PubRel(_) => continue,
                other => panic!("{other:?}"),
            };
            assert_ne!(packet_id, 0);
            assert!(in_use.insert(packet_id), "{packet_id} is still in use");
            order.push((packet_id, qos));
        }
        // Keep about ten flows open, finishing the oldest.
        while order.len() > 10 {
            let (oldest, qos) = order.remove(0);
            match qos {
                QoS::AtMostOnce => p
                    .handle_packet(suback(oldest, vec![ReasonCode::GrantedQoS1]), now)
                    .unwrap(),
                QoS::AtLeastOnce => p.handle_packet(puback(oldest), now).unwrap(),
                QoS::ExactlyOnce => {
                    p.handle_packet(Packet::PubRec(PubRec::new(id(oldest))), now)
                        .unwrap();
                    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::PubRel(_)]));
                    assert!(p.ids.is_used(id(oldest)), "in use until PUBCOMP");
                    p.handle_packet(Packet::PubComp(PubComp::new(id(oldest))), now)
                        .unwrap();
                }
            }
            in_use.remove(&oldest);
        }
        events(&mut p);
    }
}

/// [MQTT-4.3.3-13]: a QoS 2 flow is finished whatever its Message Expiry
/// Interval: long after it passed, the receiver still answers a resend
/// with PUBREC and PUBREL with PUBCOMP, and the sender still sends PUBREL,
/// after a reconnect too.
#[test]
fn qos2_flows_finish_whatever_the_message_expiry() {
    let t0 = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), t0);
    let mut message = Publish::new("in", "m").qos(QoS::ExactlyOnce).packet_id(4);
    message.properties.message_expiry_interval = Some(1);
    p.handle_packet(Packet::Publish(message.clone()), t0).unwrap();
    assert_eq!(messages(&events(&mut p)), 1);
    assert_eq!(drain(&mut p, t0), [Packet::PubRec(PubRec::new(id(4)))]);
    let later = t0 + secs(60);
    p.handle_timeout(later);
    message.dup = true;
    p.handle_packet(Packet::Publish(message), later).unwrap();
    assert_eq!(messages(&events(&mut p)), 0);
    assert_eq!(drain(&mut p, later), [Packet::PubRec(PubRec::new(id(4)))]);
    p.handle_packet(Packet::PubRel(PubRel::new(id(4))), later)
        .unwrap();
    assert_eq!(drain(&mut p, later), [Packet::PubComp(PubComp::new(id(4)))]);

    let mut ours = Publish::new("t", "x").qos(QoS::ExactlyOnce);
    ours.properties.message_expiry_interval = Some(1);
    p.publish(ours, 1, later);
    assert_eq!(publishes(&drain(&mut p, later)), [(1, false)]);
    let much_later = later + secs(60);
    p.handle_timeout(much_later);
    p.handle_packet(Packet::PubRec(PubRec::new(id(1))), much_later)
        .unwrap();
    assert_eq!(drain(&mut p, much_later), [Packet::PubRel(PubRel::new(id(1)))]);
    let resent = reconnect(&mut p, session_present(connack()), much_later + secs(60));
    assert_eq!(resent, [Packet::PubRel(PubRel::new(id(1)))]);
    p.handle_packet(Packet::PubComp(PubComp::new(id(1))), much_later + secs(60))
        .unwrap();
    assert!(events(&mut p).contains(&done(1, Ok(ReasonCode::Success))));
}

/// [MQTT-4.4.0-2]: a PUBLISH answered by PUBACK or PUBREC with a failure
/// code is acknowledged: never sent again, whether the next connection
/// resumes the session or not.
#[test]
fn a_refused_publish_is_never_sent_again() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    publish(&mut p, "t", QoS::ExactlyOnce, 2, now);
    drain(&mut p, now);
    let mut ack = PubAck::new(id(1));
    ack.reason_code = ReasonCode::NotAuthorized;
    p.handle_packet(Packet::PubAck(ack), now).unwrap();
    let mut rec = PubRec::new(id(2));
    rec.reason_code = ReasonCode::PayloadFormatInvalid;
    p.handle_packet(Packet::PubRec(rec), now).unwrap();
    assert!(drain(&mut p, now).is_empty(), "no PUBREL either");
    assert_eq!(p.inflight(), 0);
    assert!(reconnect(&mut p, session_present(connack()), now).is_empty());
    assert!(reconnect(&mut p, connack(), now).is_empty());
}

/// [MQTT-4.5.0-2]: every PUBLISH is acknowledged by its QoS, whatever it
/// is for: a topic never subscribed to, a `$` topic, unknown Subscription
/// Identifiers, properties the client does not act on.
#[test]
fn every_publish_is_acknowledged_whatever_it_is_for() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    let mut odd = Publish::new("never/subscribed", "m")
        .qos(QoS::AtLeastOnce)
        .packet_id(3)
        .retain(true);
    odd.properties.subscription_identifiers = vec![77, 78];
    odd.properties.message_expiry_interval = Some(0);
    odd.properties.payload_format_indicator = Some(true);
    odd.properties.user_properties.push(("k".into(), "v".into()));
    p.handle_packet(Packet::Publish(odd), now).unwrap();
    p.handle_packet(incoming("$SYS/x", QoS::ExactlyOnce, 4), now)
        .unwrap();
    p.handle_packet(incoming("other", QoS::AtLeastOnce, 5), now)
        .unwrap();
    assert_eq!(
        drain(&mut p, now),
        [puback(3), Packet::PubRec(PubRec::new(id(4))), puback(5)]
    );
}

/// Three QoS 2 publishes in flight (ids 1, 2, 3) PUBREC'd in the order
/// 3, 1, 2; returns the PUBRELs written, in order.
fn pubrecs_out_of_order(p: &mut P, now: Instant) -> Vec<Packet> {
    for tag in 1..=3 {
        publish(p, "t", QoS::ExactlyOnce, tag, now);
    }
    drain(p, now);
    for n in [3, 1, 2] {
        p.handle_packet(Packet::PubRec(PubRec::new(id(n))), now).unwrap();
    }
    drain(p, now)
}

fn pubrel(n: u16) -> Packet {
    Packet::PubRel(PubRel::new(id(n)))
}

/// [MQTT-4.6.0-2], [MQTT-4.6.0-3]: PUBACKs and PUBRECs go out in the
/// order their PUBLISHes arrived, QoS 1 and 2 interleaved.
#[test]
fn acknowledgements_follow_the_order_of_their_publishes() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    for (n, qos) in [
        (9, QoS::ExactlyOnce),
        (4, QoS::AtLeastOnce),
        (7, QoS::ExactlyOnce),
        (1, QoS::AtLeastOnce),
    ] {
        p.handle_packet(incoming("t", qos, n), now).unwrap();
    }
    assert_eq!(
        drain(&mut p, now),
        [
            Packet::PubRec(PubRec::new(id(9))),
            puback(4),
            Packet::PubRec(PubRec::new(id(7))),
            puback(1)
        ]
    );
}

/// [MQTT-4.6.0-4]: PUBRELs go out in the order their PUBRECs arrived.
#[test]
fn pubrels_follow_the_order_of_their_pubrecs() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    assert_eq!(
        pubrecs_out_of_order(&mut p, now),
        [pubrel(3), pubrel(1), pubrel(2)]
    );
}

/// [MQTT-4.6.0-4]: PUBRELs sent again after a reconnect keep the order
/// their PUBRECs arrived in.
#[test]
fn resent_pubrels_follow_the_order_of_their_pubrecs() {
    let now = Instant::now();
    let mut p = connect_with(config_persistent(), connack(), now);
    pubrecs_out_of_order(&mut p, now);
    let resent = reconnect(&mut p, session_present(connack()), now);
    assert_eq!(resent, [pubrel(3), pubrel(1), pubrel(2)]);

    // PUBLISHes still unacknowledged keep their places and their order
    // among them; the PUBRELs take theirs in PUBREC order.
    let mut p = connect_with(config_persistent(), connack(), now);
    for tag in 1..=5 {
        publish(&mut p, "t", QoS::ExactlyOnce, tag, now);
    }
    drain(&mut p, now);
    for n in [4, 2] {
        p.handle_packet(Packet::PubRec(PubRec::new(id(n))), now).unwrap();
    }
    let resent = reconnect(&mut p, session_present(connack()), now);
    let order: Vec<(&str, u16)> = resent
        .iter()
        .map(|packet| match packet {
            Packet::Publish(p) => ("PUBLISH", p.packet_id.unwrap().get()),
            Packet::PubRel(r) => ("PUBREL", r.packet_id.get()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        order,
        [
            ("PUBLISH", 1),
            ("PUBREL", 4),
            ("PUBLISH", 3),
            ("PUBREL", 2),
            ("PUBLISH", 5)
        ]
    );
}

/// [MQTT-4.6.0-2], [MQTT-4.6.0-3]: PUBACKs and PUBRECs go out in the order
/// their PUBLISHes arrived, even when the messages are handled out of
/// order (manual acknowledgement, as the connection uses it: a call's
/// response is acknowledged at once, while an earlier message may still
/// wait on an async handler or a message stream).
#[test]
fn acknowledgements_keep_arrival_order_when_handled_out_of_order() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_v5());
    p.manual_acks(true);
    p.connect(now);
    drain(&mut p, now);
    p.handle_packet(Packet::ConnAck(connack()), now).unwrap();
    events(&mut p);
    for (n, qos) in [
        (1, QoS::AtLeastOnce),
        (2, QoS::AtLeastOnce),
        (3, QoS::ExactlyOnce),
        (4, QoS::ExactlyOnce),
    ] {
        p.handle_packet(incoming("t", qos, n), now).unwrap();
    }
    let acks: Vec<Ack> = events(&mut p)
        .iter()
        .filter_map(|event| match event {
            Event::Message(message) => Ack::of(message),
            _ => None,
        })
        .collect();
    // Handled last first.
    let mut sent = Vec::new();
    for ack in acks.iter().rev() {
        p.acknowledge(*ack);
        sent.extend(drain(&mut p, now));
    }
    assert_eq!(
        sent,
        [
            puback(1),
            puback(2),
            Packet::PubRec(PubRec::new(id(3))),
            Packet::PubRec(PubRec::new(id(4)))
        ]
    );
}

/// [MQTT-3.14.4-1]: after our DISCONNECT nothing more is written on the
/// connection: no ping, publish, subscription, acknowledgement or AUTH.
#[test]
fn nothing_follows_our_disconnect() {
    let t0 = Instant::now();
    let config = Config {
        keep_alive: 5,
        ..config_v5()
    };
    let mut p = connect_with(config, connack(), t0);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, t0);
    drain(&mut p, t0);
    p.handle_packet(incoming("in", QoS::ExactlyOnce, 7), t0).unwrap();
    p.disconnect(Disconnect::default(), t0);
    let sent = drain(&mut p, t0);
    assert_eq!(sent.last(), Some(&Packet::Disconnect(Disconnect::default())));
    let later = t0 + secs(30);
    p.handle_timeout(later);
    publish(&mut p, "t", QoS::AtMostOnce, 2, later);
    publish(&mut p, "t", QoS::AtLeastOnce, 3, later);
    p.subscribe(
        subscribe_filters(&["a"]),
        SubscribeProperties::default(),
        4,
        later,
    );
    p.unsubscribe(vec!["a".into()], UnsubscribeProperties::default(), 5, later);
    p.reauthenticate(None, 6, later);
    p.auth(auth(ReasonCode::ReAuthenticate, "TOKEN"), later);
    p.handle_packet(incoming("in", QoS::AtLeastOnce, 8), later)
        .unwrap();
    p.handle_packet(Packet::PubRel(PubRel::new(id(7))), later)
        .unwrap();
    p.handle_packet(puback(1), later).unwrap();
    p.disconnect(Disconnect::default(), later);
    assert!(drain(&mut p, later).is_empty());
}

/// [MQTT-4.1.0-1]: while the connection is open, the Session State is
/// kept whatever else happens on it: pings, subscriptions, messages,
/// acknowledgements for ids not in use, refused commands.
#[test]
fn the_session_state_is_kept_while_the_connection_is_open() {
    let t0 = Instant::now();
    let config = Config {
        keep_alive: 5,
        ..config_persistent()
    };
    let mut p = connect_with(config, connack(), t0);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, t0);
    publish(&mut p, "t", QoS::ExactlyOnce, 2, t0);
    publish(&mut p, "t", QoS::ExactlyOnce, 3, t0);
    drain(&mut p, t0);
    p.handle_packet(Packet::PubRec(PubRec::new(id(2))), t0).unwrap();
    p.handle_packet(incoming("in", QoS::ExactlyOnce, 9), t0).unwrap();
    drain(&mut p, t0);
    events(&mut p);
    let state = p.session_state();
    assert_eq!((state.outgoing.len(), state.incoming.len()), (3, 1));

    for s in 1..30 {
        let now = t0 + secs(s);
        p.handle_timeout(now);
        if drain(&mut p, now).contains(&Packet::PingReq) {
            p.handle_packet(Packet::PingResp, now).unwrap();
        }
    }
    let now = t0 + secs(30);
    p.subscribe(subscribe_filters(&["a"]), SubscribeProperties::default(), 4, now);
    p.subscribe(
        subscribe_filters(&["a/#/b"]),
        SubscribeProperties::default(),
        5,
        now,
    );
    publish(&mut p, "a/+", QoS::AtLeastOnce, 6, now);
    drain(&mut p, now);
    p.handle_packet(suback(4, vec![ReasonCode::NotAuthorized]), now)
        .unwrap();
    p.handle_packet(incoming("in", QoS::AtMostOnce, 0), now).unwrap();
    p.handle_packet(incoming("in", QoS::AtLeastOnce, 10), now)
        .unwrap();
    p.handle_packet(puback(40), now).unwrap();
    p.handle_packet(Packet::PubComp(PubComp::new(id(41))), now)
        .unwrap();
    p.handle_packet(Packet::PubRel(PubRel::new(id(42))), now).unwrap();
    drain(&mut p, now);
    events(&mut p);
    assert_eq!(p.session_state(), state);

    // And the flows still finish.
    p.handle_packet(puback(1), now).unwrap();
    p.handle_packet(Packet::PubComp(PubComp::new(id(2))), now)
        .unwrap();
    p.handle_packet(Packet::PubRec(PubRec::new(id(3))), now).unwrap();
    p.handle_packet(Packet::PubComp(PubComp::new(id(3))), now)
        .unwrap();
    p.handle_packet(Packet::PubRel(PubRel::new(id(9))), now).unwrap();
    let done_tags: Vec<u32> = events(&mut p)
        .into_iter()
        .filter_map(|event| match event {
            Event::PublishDone { tag, result: Ok(_) } => Some(tag),
            _ => None,
        })
        .collect();
    assert_eq!(done_tags, [1, 2, 3]);
    assert!(p.session_state().is_empty());
}

/// [MQTT-4.12.1-1], [MQTT-4.12.0-5]: a re-authentication is AUTH with
/// Re-authenticate (0x19) and the Authentication Method of the CONNECT,
/// whether it comes from an authenticator or from the CONNECT properties,
/// and only once CONNACK has arrived.
#[test]
fn reauthentication_names_the_method_of_the_connect() {
    let now = Instant::now();
    let mut configured = config_v5();
    configured.connect_properties.authentication_method = Some("CONFIGURED".into());
    let with_authenticator = Config {
        authenticator: Some(Arc::new(Token)),
        ..config_v5()
    };
    for (config, method) in [(configured, "CONFIGURED"), (with_authenticator, "TOKEN")] {
        let mut p: P = Protocol::new(config);
        p.connect(now);
        let sent = drain(&mut p, now);
        assert!(matches!(sent.as_slice(), [Packet::Connect(c)]
            if c.properties.authentication_method.as_deref() == Some(method)));
        p.reauthenticate(Some(Bytes::from_static(b"again")), 1, now);
        assert!(matches!(
            events(&mut p).as_slice(),
            [Event::ReauthenticateDone {
                tag: 1,
                result: Err(Error::NotConnected)
            }]
        ));
        assert!(drain(&mut p, now).is_empty(), "not before CONNACK");
        let mut accepted = connack();
        accepted.properties.authentication_method = Some(method.into());
        p.handle_packet(Packet::ConnAck(accepted), now).unwrap();
        events(&mut p);
        p.reauthenticate(Some(Bytes::from_static(b"again")), 2, now);
        let sent = drain(&mut p, now);
        assert!(
            matches!(sent.as_slice(), [Packet::Auth(a)]
                if a.reason_code == ReasonCode::ReAuthenticate
                    && a.properties.authentication_method.as_deref() == Some(method)),
            "{sent:?}"
        );
    }
}

/// [MQTT-3.15.2-2], [MQTT-3.15.2-3]: the AUTH packets the client builds
/// itself (re-authentication) carry the method and data only: no Reason
/// String or User Property that could push them over the server's
/// Maximum Packet Size.
#[test]
fn auth_packets_the_client_builds_carry_no_reason_string_or_user_property() {
    let now = Instant::now();
    let config = Config {
        authenticator: Some(Arc::new(Token)),
        ..config_v5()
    };
    let mut p: P = Protocol::new(config);
    p.connect(now);
    drain(&mut p, now);
    let mut accepted = connack_with(|c| c.maximum_packet_size = Some(64));
    accepted.properties.authentication_method = Some("TOKEN".into());
    p.handle_packet(Packet::ConnAck(accepted), now).unwrap();
    p.reauthenticate(None, 1, now);
    let sent = drain(&mut p, now);
    let [Packet::Auth(a)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(a.properties.reason_string, None);
    assert!(a.properties.user_properties.is_empty());
    assert!(encoded_len(&sent[0], ProtocolVersion::V5).unwrap() <= 64);
}

/// [MQTT-3.15.2-2], [MQTT-3.15.2-3]: an AUTH handed to the state machine
/// (the sans-IO `Protocol::auth`) with a Reason String or User Property
/// that would make it larger than the server's Maximum Packet Size goes
/// without them.
#[test]
fn an_auth_given_to_the_state_machine_is_kept_within_the_servers_maximum_packet_size() {
    let now = Instant::now();
    let config = Config {
        authenticator: Some(Arc::new(Token)),
        ..config_v5()
    };
    let mut p: P = Protocol::new(config);
    p.connect(now);
    drain(&mut p, now);
    let mut accepted = connack_with(|c| c.maximum_packet_size = Some(64));
    accepted.properties.authentication_method = Some("TOKEN".into());
    p.handle_packet(Packet::ConnAck(accepted), now).unwrap();
    let mut answer = auth(ReasonCode::ContinueAuthentication, "TOKEN");
    answer.properties.reason_string = Some("r".repeat(100).into());
    answer
        .properties
        .user_properties
        .push(("k".into(), "v".repeat(100).into()));
    p.handle_packet(Packet::Auth(auth(ReasonCode::ReAuthenticate, "TOKEN")), now)
        .unwrap();
    p.auth(answer, now);
    let sent = drain(&mut p, now);
    assert!(matches!(sent.as_slice(), [Packet::Auth(_)]), "{sent:?}");
    assert!(encoded_len(&sent[0], ProtocolVersion::V5).unwrap() <= 64);
}

/// [MQTT-4.12.0-7]: without an Authentication Method in CONNECT the
/// client never sends AUTH: a server's AUTH is a protocol error rather
/// than a challenge for the handler to answer, and an AUTH handed to the
/// state machine is not written.
#[test]
fn without_an_authentication_method_the_client_never_sends_auth() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_v5());
    p.connect(now);
    drain(&mut p, now);
    assert!(p
        .handle_packet(
            Packet::Auth(auth(ReasonCode::ContinueAuthentication, "TOKEN")),
            now
        )
        .is_err());
    let mut p = connect_v5(now);
    p.auth(auth(ReasonCode::ContinueAuthentication, "TOKEN"), now);
    assert!(drain(&mut p, now).is_empty());
}

/// [MQTT-4.12.0-5]: every AUTH in an exchange names the method of the
/// CONNECT; the client answers a challenge with the method it receives,
/// so a server AUTH naming another method must be refused (protocol
/// error), or the client's answer would name it too.
#[test]
fn an_auth_naming_another_method_is_a_protocol_error() {
    let now = Instant::now();
    let config = Config {
        authenticator: Some(Arc::new(Token)),
        ..config_v5()
    };
    let mut p: P = Protocol::new(config);
    p.connect(now);
    drain(&mut p, now);
    let error = p
        .handle_packet(
            Packet::Auth(auth(ReasonCode::ContinueAuthentication, "OTHER")),
            now,
        )
        .unwrap_err();
    assert_eq!(error.reason, ReasonCode::ProtocolError);
}

/// [MQTT-3.8.3-4]: No Local on a Shared Subscription is refused locally
/// and never written.
#[test]
fn no_local_on_a_shared_subscription_is_refused_locally() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    let mut options = SubscriptionOptions::new(QoS::AtLeastOnce);
    options.no_local = true;
    p.subscribe(
        vec![("$share/g/a".into(), options)],
        SubscribeProperties::default(),
        1,
        now,
    );
    assert!(drain(&mut p, now).is_empty());
    assert!(matches!(
        events(&mut p).as_slice(),
        [Event::SubscribeDone {
            tag: 1,
            result: Err(_)
        }]
    ));
    assert!(!p.ids.is_used(id(1)), "no packet id spent");
    p.subscribe(
        vec![("a".into(), options)],
        SubscribeProperties::default(),
        2,
        now,
    );
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Subscribe(_)]));
}

/// [MQTT-3.10.3-2]: an UNSUBSCRIBE without a filter is refused locally.
#[test]
fn an_unsubscribe_without_filters_is_refused_locally() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.unsubscribe(Vec::new(), UnsubscribeProperties::default(), 1, now);
    assert!(drain(&mut p, now).is_empty());
    assert_eq!(
        events(&mut p),
        [Event::UnsubscribeDone {
            tag: 1,
            result: Err(Error::InvalidTopic)
        }]
    );
}

/// [MQTT-3.11.3-1]: the UNSUBACK's reason codes are taken in the order of
/// the UNSUBSCRIBE's filters (a refused one stays subscribed), and there
/// must be one per filter.
#[test]
fn unsuback_codes_apply_to_the_filters_in_order() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.subscribe(
        subscribe_filters(&["a", "b", "c"]),
        SubscribeProperties::default(),
        1,
        now,
    );
    p.handle_packet(suback(1, vec![ReasonCode::GrantedQoS1; 3]), now)
        .unwrap();
    p.unsubscribe(
        vec!["a".into(), "b".into(), "c".into()],
        UnsubscribeProperties::default(),
        2,
        now,
    );
    drain(&mut p, now);
    p.handle_packet(
        unsuback(
            2,
            vec![
                ReasonCode::Success,
                ReasonCode::NotAuthorized,
                ReasonCode::NoSubscriptionExisted,
            ],
        ),
        now,
    )
    .unwrap();
    let held: Vec<&str> = p.subscriptions().map(|(filter, _)| &**filter).collect();
    assert_eq!(held, ["b"]);

    p.unsubscribe(vec!["b".into()], UnsubscribeProperties::default(), 3, now);
    let sent = drain(&mut p, now);
    let [Packet::Unsubscribe(u)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    let error = p
        .handle_packet(unsuback(u.packet_id.get(), vec![ReasonCode::Success; 2]), now)
        .unwrap_err();
    assert_eq!(error.reason, ReasonCode::ProtocolError);
}
