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

/// A server that takes packets of up to 256 bytes and up to 10 aliases.
fn connect_limited(now: Instant) -> P {
    connect_with(
        config_v5(),
        connack_with(|c| {
            c.maximum_packet_size = Some(256);
            c.topic_alias_maximum = Some(10);
        }),
        now,
    )
}

/// A publish on `topic` whose PUBLISH, written with its topic and no
/// alias, is `size` bytes.
fn sized(topic: &'static str, qos: QoS, size: usize) -> Publish {
    padded(Publish::new(topic, Vec::new()).qos(qos), size)
}

/// `publish` with the payload that makes it `size` bytes as queued.
fn padded(mut publish: Publish, size: usize) -> Publish {
    let measured = |publish: &Publish| {
        let mut publish = publish.clone();
        if publish.qos != QoS::AtMostOnce {
            publish.packet_id = Some(id(1));
        }
        encoded_len(&Packet::Publish(publish), ProtocolVersion::V5).unwrap()
    };
    while measured(&publish) < size {
        publish.payload = vec![b'x'; publish.payload.len() + 1].into();
    }
    assert_eq!(measured(&publish), size, "no payload makes {size} bytes");
    publish
}

/// Each PUBLISH written: its topic, its alias, its encoded size.
fn written(packets: &[Packet]) -> Vec<(String, Option<u16>, usize)> {
    packets
        .iter()
        .filter_map(|packet| match packet {
            Packet::Publish(p) => Some((
                p.topic.to_string(),
                p.properties.topic_alias.map(NonZeroU16::get),
                encoded_len(packet, ProtocolVersion::V5).unwrap(),
            )),
            _ => None,
        })
        .collect()
}

fn refusals(events: Vec<Event<u32>>) -> Vec<(u32, Error)> {
    events
        .into_iter()
        .filter_map(|event| match event {
            Event::PublishDone {
                tag,
                result: Err(error),
            } => Some((tag, error)),
            _ => None,
        })
        .collect()
}

#[test]
fn publishes_that_fit_without_an_alias_are_sent_without_one_when_an_alias_would_not_fit() {
    let now = Instant::now();
    let mut p = connect_limited(now);
    // The first publish on a topic carries topic and alias: 3 bytes more,
    // which these have no room for.
    for (tag, size) in [(1, 254), (2, 255), (3, 256)] {
        p.publish(sized("t/limits", QoS::AtMostOnce, size), tag, now);
    }
    p.publish(sized("t/limits/1", QoS::AtLeastOnce, 256), 4, now);
    assert_eq!(refusals(events(&mut p)), []);
    assert_eq!(
        written(&drain(&mut p, now)),
        [
            ("t/limits".into(), None, 254),
            ("t/limits".into(), None, 255),
            ("t/limits".into(), None, 256),
            ("t/limits/1".into(), None, 256),
        ]
    );

    // One byte more does not fit even bare: refused, nothing written.
    p.publish(sized("t/limits", QoS::AtMostOnce, 257), 5, now);
    p.publish(sized("t/limits/2", QoS::AtLeastOnce, 257), 6, now);
    assert!(matches!(
        refusals(events(&mut p)).as_slice(),
        [
            (5, Error::PacketTooLarge { size: 257, max: 256 }),
            (6, Error::PacketTooLarge { size: 257, max: 256 }),
        ]
    ));
    assert_eq!(written(&drain(&mut p, now)), []);
}

#[test]
fn an_alias_is_assigned_by_the_first_publish_it_fits_and_then_replaces_the_topic() {
    let now = Instant::now();
    let mut p = connect_limited(now);
    p.publish(sized("t/limits", QoS::AtMostOnce, 256), 1, now);
    p.publish(sized("t/limits", QoS::AtMostOnce, 253), 2, now);
    // The alias now stands for 8 bytes of topic: the packet shrinks by 5.
    p.publish(sized("t/limits", QoS::AtMostOnce, 256), 3, now);
    p.publish(sized("t/limits", QoS::AtLeastOnce, 256), 4, now);
    assert_eq!(refusals(events(&mut p)), []);
    assert_eq!(
        written(&drain(&mut p, now)),
        [
            ("t/limits".into(), None, 256),
            ("t/limits".into(), Some(1), 256),
            ("".into(), Some(1), 251),
            ("".into(), Some(1), 251),
        ]
    );
}

#[test]
fn a_topic_shorter_than_its_alias_is_sent_in_full_when_the_alias_would_not_fit() {
    let now = Instant::now();
    let mut p = connect_limited(now);
    p.publish(Publish::new("t", "small"), 1, now);
    // Alias for a 1-byte topic: 2 bytes more than the topic, no room here.
    p.publish(sized("t", QoS::AtMostOnce, 255), 2, now);
    p.publish(sized("t", QoS::AtMostOnce, 254), 3, now);
    assert_eq!(refusals(events(&mut p)), []);
    let sent = written(&drain(&mut p, now));
    assert_eq!(sent[1..], [("t".into(), None, 255), ("".into(), Some(1), 256)]);
    assert_eq!(sent[0].1, Some(1));
}

#[test]
fn a_publish_with_properties_is_measured_as_written_too() {
    let now = Instant::now();
    let mut p = connect_limited(now);
    let with_properties = |size| {
        let mut publish = Publish::new("t/limits", Vec::new());
        publish.properties.content_type = Some("text/plain".into());
        padded(publish, size)
    };
    p.publish(with_properties(256), 1, now);
    p.publish(with_properties(250), 2, now);
    p.publish(with_properties(256), 3, now);
    assert_eq!(refusals(events(&mut p)), []);
    assert_eq!(
        written(&drain(&mut p, now)),
        [
            ("t/limits".into(), None, 256),
            ("t/limits".into(), Some(1), 253),
            ("".into(), Some(1), 251),
        ]
    );
}
