//! Outgoing QoS 0/1/2 flows.

use std::time::{Duration, Instant};

use super::*;

#[test]
fn qos0_completes_when_handed_to_the_transport() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::AtMostOnce, 7, now);
    assert!(events(&mut p).is_empty(), "not before poll_transmit");
    assert_eq!(publishes(&drain(&mut p, now)), [(0, false)]);
    assert_eq!(events(&mut p), [done(7, Ok(ReasonCode::Success))]);
    assert_eq!(p.inflight(), 0);
}

#[test]
fn qos0_while_offline_is_not_connected() {
    let now = Instant::now();
    let mut p: P = Protocol::new(config_v5());
    publish(&mut p, "t", QoS::AtMostOnce, 7, now);
    assert_eq!(events(&mut p), [done(7, Err(Error::NotConnected))]);
}

#[test]
fn qos0_dropped_with_its_connection_reports_not_connected() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::AtMostOnce, 7, now);
    p.connection_lost(now);
    assert_eq!(events(&mut p), [done(7, Err(Error::NotConnected))]);
    assert!(drain(&mut p, now).is_empty());
}

#[test]
fn qos1_completes_on_puback() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 7, now);
    let sent = drain(&mut p, now);
    let [Packet::Publish(sent)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(
        (sent.qos, sent.packet_id, sent.dup),
        (QoS::AtLeastOnce, Some(id(1)), false)
    );
    assert!(events(&mut p).is_empty());
    assert_eq!(p.inflight(), 1);

    p.handle_packet(puback(1), now).unwrap();
    assert_eq!(events(&mut p), [done(7, Ok(ReasonCode::Success))]);
    assert_eq!(p.inflight(), 0);
    assert!(!p.ids.is_used(id(1)));
}

#[test]
fn qos2_sends_pubrel_on_pubrec_and_completes_on_pubcomp() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::ExactlyOnce, 7, now);
    assert_eq!(publishes(&drain(&mut p, now)), [(1, false)]);

    let mut rec = PubRec::new(id(1));
    rec.reason_code = ReasonCode::NoMatchingSubscribers;
    p.handle_packet(Packet::PubRec(rec), now).unwrap();
    assert_eq!(drain(&mut p, now), [Packet::PubRel(PubRel::new(id(1)))]);
    assert!(events(&mut p).is_empty(), "not done before PUBCOMP");
    assert_eq!(p.inflight(), 1);

    p.handle_packet(Packet::PubComp(PubComp::new(id(1))), now)
        .unwrap();
    assert_eq!(events(&mut p), [done(7, Ok(ReasonCode::NoMatchingSubscribers))]);
    assert_eq!(p.inflight(), 0);
    assert!(!p.ids.is_used(id(1)));
}

#[test]
fn duplicate_pubrec_is_answered_with_pubrel_again() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::ExactlyOnce, 7, now);
    drain(&mut p, now);
    p.handle_packet(Packet::PubRec(PubRec::new(id(1))), now).unwrap();
    p.handle_packet(Packet::PubRec(PubRec::new(id(1))), now).unwrap();
    assert_eq!(
        drain(&mut p, now),
        [
            Packet::PubRel(PubRel::new(id(1))),
            Packet::PubRel(PubRel::new(id(1)))
        ]
    );
}

#[test]
fn puback_failure_is_rejected_and_reported_as_publish_failed() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 7, now);
    drain(&mut p, now);
    let mut ack = PubAck::new(id(1));
    ack.reason_code = ReasonCode::NotAuthorized;
    ack.properties.reason_string = Some("no".into());
    p.handle_packet(Packet::PubAck(ack), now).unwrap();
    assert_eq!(
        events(&mut p),
        [
            Event::PublishFailed {
                packet_id: id(1),
                reason_code: ReasonCode::NotAuthorized,
                properties: AckProperties {
                    reason_string: Some("no".into()),
                    ..AckProperties::default()
                },
            },
            done(7, Err(Error::PublishRejected(ReasonCode::NotAuthorized))),
        ]
    );
    assert_eq!(p.inflight(), 0);
}

#[test]
fn pubrec_failure_ends_the_flow_without_pubrel() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::ExactlyOnce, 7, now);
    drain(&mut p, now);
    let mut rec = PubRec::new(id(1));
    rec.reason_code = ReasonCode::QuotaExceeded;
    p.handle_packet(Packet::PubRec(rec), now).unwrap();
    assert!(drain(&mut p, now).is_empty());
    let events = events(&mut p);
    assert!(matches!(
        events.first(),
        Some(Event::PublishFailed {
            reason_code: ReasonCode::QuotaExceeded,
            ..
        })
    ));
    assert_eq!(
        events.get(1),
        Some(&done(7, Err(Error::PublishRejected(ReasonCode::QuotaExceeded))))
    );
    assert_eq!(p.inflight(), 0);
}

#[test]
fn late_duplicate_puback_is_ignored() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 7, now);
    drain(&mut p, now);
    p.handle_packet(puback(1), now).unwrap();
    p.handle_packet(puback(1), now).unwrap();
    assert_eq!(events(&mut p), [done(7, Ok(ReasonCode::Success))]);
}

#[test]
fn puback_for_a_qos2_publish_is_a_protocol_error_with_disconnect() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::ExactlyOnce, 7, now);
    drain(&mut p, now);
    let error = p.handle_packet(puback(1), now).unwrap_err();
    assert_eq!(error.reason, ReasonCode::ProtocolError);
    assert_eq!(
        drain(&mut p, now),
        [Packet::Disconnect(Disconnect {
            reason_code: ReasonCode::ProtocolError,
            ..Disconnect::default()
        })]
    );
    // The server took it at QoS 1, and would again: it fails, and is not
    // resent on the next connection.
    let downgraded = Error::QoSNotSupported {
        requested: QoS::ExactlyOnce,
        maximum: QoS::AtLeastOnce,
    };
    assert_eq!(events(&mut p), [done(7, Err(downgraded))]);
    publish(&mut p, "next", QoS::AtLeastOnce, 8, now);
    let resent = reconnect(&mut p, connack(), now);
    match resent.as_slice() {
        [Packet::Publish(next)] => assert_eq!(next.topic, "next"),
        other => panic!("only the next one goes out: {other:?}"),
    }
}

#[test]
fn pubcomp_before_pubrec_is_a_protocol_error() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::ExactlyOnce, 7, now);
    drain(&mut p, now);
    assert!(p
        .handle_packet(Packet::PubComp(PubComp::new(id(1))), now)
        .is_err());
}

#[test]
fn invalid_topic_names_are_refused_locally() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    for (tag, topic) in ["", "a/+", "a/#", "a\0b"].into_iter().enumerate() {
        publish(&mut p, topic, QoS::AtLeastOnce, tag as u32, now);
    }
    assert!(drain(&mut p, now).is_empty());
    let events = events(&mut p);
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|event| matches!(
        event,
        Event::PublishDone {
            result: Err(Error::InvalidTopic),
            ..
        }
    )));
}

/// [MQTT-1.5.4-2]: a publish whose properties hold U+0000 fails to its
/// caller with an error naming the field, connected or not, and nothing
/// of it is queued or written.
#[test]
fn strings_with_u0000_in_a_publish_are_refused_locally() {
    let now = Instant::now();
    let with = |set: fn(&mut PublishProperties)| {
        let mut publish = Publish::new("t", "x").qos(QoS::AtLeastOnce);
        set(&mut publish.properties);
        publish
    };
    type Set = fn(&mut PublishProperties);
    let cases: [(&str, Set); 4] = [
        ("Content Type", |p| p.content_type = Some("a\0b".into())),
        ("Response Topic", |p| p.response_topic = Some("r/\0".into())),
        ("User Property", |p| {
            p.user_properties.push(("\0".into(), "v".into()))
        }),
        ("User Property", |p| {
            p.user_properties.push(("k".into(), "\0".into()))
        }),
    ];
    let mut connected = connect_v5(now);
    let mut offline: P = Protocol::new(config_v5());
    for p in [&mut connected, &mut offline] {
        for (tag, (field, set)) in cases.iter().enumerate() {
            p.publish(with(*set), tag as u32, now);
            assert_eq!(
                events(p),
                [done(
                    tag as u32,
                    Err(Error::Encode(EncodeError::NullCharacter(field)))
                )]
            );
        }
        assert_eq!(p.queued(), 0);
        assert_eq!(p.inflight(), 0);
        assert!(drain(p, now).is_empty());
    }
}

#[test]
fn invalid_filters_are_refused_locally() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    p.subscribe(
        subscribe_filters(&["a/#/b"]),
        SubscribeProperties::default(),
        1,
        now,
    );
    p.subscribe(Vec::new(), SubscribeProperties::default(), 2, now);
    p.unsubscribe(vec!["a+".into()], UnsubscribeProperties::default(), 3, now);
    p.subscribe(
        subscribe_filters(&["a/+/b", "#", "$share/g/x/#"]),
        SubscribeProperties::default(),
        4,
        now,
    );
    assert_eq!(
        events(&mut p),
        [
            Event::SubscribeDone {
                tag: 1,
                result: Err(Error::InvalidTopic)
            },
            Event::SubscribeDone {
                tag: 2,
                result: Err(Error::InvalidTopic)
            },
            Event::UnsubscribeDone {
                tag: 3,
                result: Err(Error::InvalidTopic)
            },
        ]
    );
    assert!(matches!(drain(&mut p, now).as_slice(), [Packet::Subscribe(_)]));
}

#[test]
fn caller_set_packet_id_dup_and_alias_are_replaced() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    let mut message = Publish::new("t", "x").qos(QoS::AtLeastOnce).packet_id(999);
    message.dup = true;
    message.properties.subscription_identifiers.push(4);
    p.publish(message, 1, now);
    let sent = drain(&mut p, now);
    let [Packet::Publish(sent)] = sent.as_slice() else {
        panic!()
    };
    assert_eq!((sent.packet_id, sent.dup), (Some(id(1)), false));
    assert!(sent.properties.subscription_identifiers.is_empty());
}

#[test]
fn mqtt5_never_resends_a_publish_while_connected() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    publish(&mut p, "t", QoS::AtLeastOnce, 1, now);
    publish(&mut p, "t", QoS::ExactlyOnce, 2, now);
    drain(&mut p, now);
    assert_eq!(p.poll_timeout(), None, "no retry timer on MQTT 5");
    for secs in [5, 60, 3600] {
        p.handle_timeout(now + Duration::from_secs(secs));
        assert!(drain(&mut p, now + Duration::from_secs(secs)).is_empty());
    }
}
