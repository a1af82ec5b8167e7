//! Topic aliases both ways.

use std::num::NonZeroU16;
use std::time::Instant;

use super::*;

fn aliased(topic: &'static str, alias: u16) -> Packet {
    let mut publish = Publish::new(topic, "m");
    publish.properties.topic_alias = NonZeroU16::new(alias);
    Packet::Publish(publish)
}

fn connect_accepting_aliases(max: u16, now: Instant) -> P {
    let mut config = config_v5();
    config.connect_properties.topic_alias_maximum = Some(max);
    connect_with(config, connack(), now)
}

fn message_topics(events: Vec<Event<u32>>) -> Vec<String> {
    events
        .into_iter()
        .map(|event| match event {
            Event::Message(publish) => publish.topic.to_string(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn incoming_alias_is_set_then_resolved() {
    let now = Instant::now();
    let mut p = connect_accepting_aliases(10, now);
    p.handle_packet(aliased("a/b", 10), now).unwrap();
    p.handle_packet(aliased("", 10), now).unwrap();
    p.handle_packet(aliased("c", 10), now).unwrap(); // remapped
    p.handle_packet(aliased("", 10), now).unwrap();
    assert_eq!(message_topics(events(&mut p)), ["a/b", "a/b", "c", "c"]);
}

#[test]
fn incoming_alias_above_our_maximum_is_topic_alias_invalid() {
    let now = Instant::now();
    let mut p = connect_accepting_aliases(10, now);
    let error = p.handle_packet(aliased("a", 11), now).unwrap_err();
    assert_eq!(error.reason, ReasonCode::TopicAliasInvalid);
    assert!(matches!(drain(&mut p, now).as_slice(),
        [Packet::Disconnect(d)] if d.reason_code == ReasonCode::TopicAliasInvalid));

    // Without our Topic Alias Maximum, any alias is too high.
    let mut p = connect_v5(now);
    assert!(p.handle_packet(aliased("a", 1), now).is_err());
}

#[test]
fn unknown_incoming_alias_with_empty_topic_is_topic_alias_invalid() {
    let now = Instant::now();
    let mut p = connect_accepting_aliases(10, now);
    let error = p.handle_packet(aliased("", 3), now).unwrap_err();
    assert_eq!(error.reason, ReasonCode::TopicAliasInvalid);
}

#[test]
fn incoming_aliases_do_not_survive_the_connection() {
    let now = Instant::now();
    let mut p = connect_accepting_aliases(10, now);
    p.handle_packet(aliased("a", 1), now).unwrap();
    reconnect(&mut p, connack(), now);
    assert!(p.handle_packet(aliased("", 1), now).is_err());
}

fn sent_topics_and_aliases(packets: &[Packet]) -> Vec<(String, Option<u16>)> {
    packets
        .iter()
        .filter_map(|packet| match packet {
            Packet::Publish(p) => Some((p.topic.to_string(), p.properties.topic_alias.map(NonZeroU16::get))),
            _ => None,
        })
        .collect()
}

#[test]
fn outgoing_aliases_are_assigned_up_to_the_servers_maximum() {
    let now = Instant::now();
    let mut p = connect_with(
        config_v5(),
        connack_with(|c| c.topic_alias_maximum = Some(2)),
        now,
    );
    for topic in ["a", "a", "b", "c", "b", "c"] {
        publish(&mut p, topic, QoS::AtMostOnce, 0, now);
    }
    assert_eq!(
        sent_topics_and_aliases(&drain(&mut p, now)),
        [
            ("a".into(), Some(1)),
            ("".into(), Some(1)),
            ("b".into(), Some(2)),
            ("c".into(), None),
            ("".into(), Some(2)),
            ("c".into(), None),
        ]
    );
}

#[test]
fn no_outgoing_aliases_without_a_server_maximum() {
    let now = Instant::now();
    let mut p = connect_v5(now);
    let mut message = Publish::new("a", "m");
    message.properties.topic_alias = NonZeroU16::new(5);
    p.publish(message, 0, now);
    publish(&mut p, "a", QoS::AtMostOnce, 0, now);
    assert_eq!(
        sent_topics_and_aliases(&drain(&mut p, now)),
        [("a".into(), None), ("a".into(), None)]
    );
}

#[test]
fn a_publish_resent_after_reconnect_carries_its_full_topic_again() {
    let now = Instant::now();
    let mut config = config_v5();
    config.clean_start = false;
    config.connect_properties.session_expiry_interval = Some(60);
    let with_aliases = || connack_with(|c| c.topic_alias_maximum = Some(5));
    let mut p = connect_with(config, with_aliases(), now);
    publish(&mut p, "a", QoS::AtLeastOnce, 1, now);
    publish(&mut p, "a", QoS::AtLeastOnce, 2, now);
    assert_eq!(
        sent_topics_and_aliases(&drain(&mut p, now)),
        [("a".into(), Some(1)), ("".into(), Some(1))]
    );
    let resent = reconnect(
        &mut p,
        ConnAck {
            session_present: true,
            ..with_aliases()
        },
        now,
    );
    assert_eq!(
        sent_topics_and_aliases(&resent),
        [("a".into(), Some(1)), ("".into(), Some(1))]
    );

    // And with aliases off on the new connection, both carry the topic.
    let resent = reconnect(
        &mut p,
        ConnAck {
            session_present: true,
            ..connack()
        },
        now,
    );
    assert_eq!(
        sent_topics_and_aliases(&resent),
        [("a".into(), None), ("a".into(), None)]
    );
}
