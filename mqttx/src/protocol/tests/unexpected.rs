//! Packets the client refuses, told apart from those it takes: what a
//! server that asked for no problem information may still send, and the
//! message that names a packet out of place.

use std::time::Instant;

use super::*;

/// After Request Problem Information 0, acknowledgements and an AUTH
/// challenge without a Reason String or User Property are taken as usual
/// [MQTT-3.1.2-29] forbids only those two properties.
#[test]
fn without_problem_information_plain_acknowledgements_and_challenges_are_taken() {
    let now = Instant::now();
    let mut config = config_v5();
    config.connect_properties.request_problem_information = Some(false);
    config.connect_properties.authentication_method = Some("TOKEN".into());
    let mut p = connect_with(config, connack(), now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    drain(&mut p, now);
    p.handle_packet(puback(1), now).expect("a plain PUBACK");
    let challenge = token_challenge();
    p.handle_packet(Packet::Auth(challenge), now)
        .expect("a challenge without a Reason String");
    assert!(events(&mut p)
        .iter()
        .any(|event| matches!(event, Event::AuthChallenge(_))));
}

/// Each packet out of place is named in the error the server is refused
/// with (and so in the DISCONNECT's log and the handler's event).
#[test]
fn a_packet_out_of_place_is_named() {
    let now = Instant::now();
    let cases = [
        (Packet::Connect(Box::default()), "CONNECT from the server"),
        (Packet::PingReq, "PINGREQ from the server"),
        (Packet::ConnAck(connack()), "CONNACK when none was expected"),
    ];
    for (packet, named) in cases {
        let mut p = connect_v5(now);
        let refused = p.handle_packet(packet, now);
        assert!(
            matches!(&refused, Err(e) if e.message == named),
            "{named}: {refused:?}"
        );
    }
}

/// MQTT 3.1.1 has no AUTH packet: one handed to a 3.1.1 protocol is
/// refused as such, even with an Authentication Method configured.
#[test]
fn auth_on_mqtt_311_is_refused_as_such() {
    let now = Instant::now();
    let mut config = config_v311();
    config.connect_properties.authentication_method = Some("TOKEN".into());
    let mut p = connect_with(config, connack(), now);
    let auth = token_challenge();
    let refused = p.handle_packet(Packet::Auth(auth), now);
    assert!(
        matches!(&refused, Err(e) if e.message == "AUTH on MQTT 3.1.1"),
        "{refused:?}"
    );
}
