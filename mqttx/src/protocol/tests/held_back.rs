//! Flights a resumed session holds back for a smaller window: one the
//! server acknowledges before its resend came up leaves the line, and
//! the rest still go out. A PUBREC for a QoS 1 PUBLISH is refused.

use std::time::Instant;

use super::*;

/// Three flights of `qos` (ids 1, 2, 3) resumed on a server whose window
/// is 1: PUBLISH 1 is resent, 2 and 3 wait.
fn resumed_with_window_of_one(qos: QoS, now: Instant) -> P {
    let mut p = connect_with(config_persistent(), connack(), now);
    for tag in 1..=3 {
        publish(&mut p, "t", qos, tag, now);
    }
    assert_eq!(
        publishes(&drain(&mut p, now)),
        [(1, false), (2, false), (3, false)]
    );
    let resumed = ConnAck {
        session_present: true,
        ..connack_with(|c| c.receive_maximum = Some(1))
    };
    assert_eq!(publishes(&reconnect(&mut p, resumed, now)), [(1, true)]);
    p
}

#[test]
fn a_held_back_qos1_flight_acknowledged_early_leaves_the_line_and_the_rest_go_out() {
    let now = Instant::now();
    let mut p = resumed_with_window_of_one(QoS::AtLeastOnce, now);
    // The server acknowledges 2, whose resend has not come up.
    p.handle_packet(puback(2), now).unwrap();
    assert!(drain(&mut p, now).is_empty(), "the window is still full");
    p.handle_packet(puback(1), now).unwrap();
    assert_eq!(
        publishes(&drain(&mut p, now)),
        [(3, true)],
        "3 comes up, 2 does not"
    );
    p.handle_packet(puback(3), now).unwrap();
    assert!(drain(&mut p, now).is_empty());
    let completed: Vec<u32> = events(&mut p)
        .into_iter()
        .filter_map(|event| match event {
            Event::PublishDone { tag, result: Ok(_) } => Some(tag),
            _ => None,
        })
        .collect();
    assert_eq!(completed, [2, 1, 3]);
}

#[test]
fn a_held_back_qos2_flight_received_early_is_released_and_the_rest_go_out() {
    let now = Instant::now();
    let mut p = resumed_with_window_of_one(QoS::ExactlyOnce, now);
    // The server received 2 before the connection was lost.
    p.handle_packet(Packet::PubRec(PubRec::new(id(2))), now).unwrap();
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::PubRel(rel)] if rel.packet_id == id(2)));
    p.handle_packet(Packet::PubComp(PubComp::new(id(2))), now)
        .unwrap();
    p.handle_packet(Packet::PubRec(PubRec::new(id(1))), now).unwrap();
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::PubRel(rel)] if rel.packet_id == id(1)));
    p.handle_packet(Packet::PubComp(PubComp::new(id(1))), now)
        .unwrap();
    let sent = drain(&mut p, now);
    assert_eq!(
        publishes(&sent),
        [(3, true)],
        "3 comes up, and nothing else: {sent:?}"
    );
}

#[test]
fn a_pubrec_for_a_qos1_publish_is_a_protocol_error() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    drain(&mut p, now);
    let refused = p.handle_packet(Packet::PubRec(PubRec::new(id(1))), now);
    assert!(
        matches!(&refused, Err(e) if e.message.contains("QoS 1")),
        "{refused:?}"
    );
}

/// A PUBREC that refuses a packet id we have no flight for ends there: no
/// PUBREL answers it (only a PUBREC that accepts gets PUBREL 0x92).
#[test]
fn a_refusing_pubrec_for_an_unknown_id_gets_no_answer() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    let mut refusal = PubRec::new(id(42));
    refusal.reason_code = ReasonCode::UnspecifiedError;
    p.handle_packet(Packet::PubRec(refusal), now).unwrap();
    assert!(drain(&mut p, now).is_empty());
    p.handle_packet(Packet::PubRec(PubRec::new(id(43))), now).unwrap();
    assert!(matches!(drain(&mut p, now).as_slice(),
        [Packet::PubRel(rel)] if rel.packet_id == id(43) && rel.reason_code == ReasonCode::PacketIdentifierNotFound));
}
