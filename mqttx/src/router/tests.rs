use proptest::prelude::*;

use super::Router;
use crate::packet::topic::{matches as codec_matches, valid_topic_filter};
use crate::packet::Publish;

/// The codec's matching, for valid filters only.
fn matches(filter: &str, topic: &str) -> bool {
    valid_topic_filter(filter) && codec_matches(filter, topic)
}

/// The obvious first match: every filter in order, with the codec's rules.
fn linear(filters: &[&str], topic: &str) -> Option<usize> {
    filters.iter().position(|filter| matches(filter, topic))
}

#[test]
fn first_match_wins() {
    let filters = [
        "a/b/c",
        "a/+/c",
        "a/#",
        "+/b/#",
        "#",
        "$SYS/#",
        "$share/g/x/+",
        "a/b/c", // a duplicate: never chosen
        "bad/#/filter",
        "a/b",
        "+",
    ];
    let router = Router::new(filters);
    for topic in [
        "a/b/c",
        "a/x/c",
        "a/b",
        "a",
        "x/b/y",
        "x/b",
        "q",
        "$SYS/uptime",
        "$SYS",
        "x/1",
        "x/1/2",
        "a/",
        "/",
        "",
        "a//c",
        "$x",
    ] {
        assert_eq!(router.find(topic), linear(&filters, topic), "{topic}");
    }
    assert_eq!(router.len(), filters.len());
    assert!(
        !router.matches(8, "bad/x/filter"),
        "an invalid filter matches nothing"
    );
}

#[test]
fn subscription_identifiers_pick_the_route_they_name() {
    let router = Router::new(["a/+", "$share/g/a/b", "other/#"]);
    let mut msg = Publish::new("a/b", "x");
    assert_eq!(router.route(&msg), Some(0), "no identifier: first match");
    msg.properties.subscription_identifiers = vec![2];
    assert_eq!(
        router.route(&msg),
        Some(1),
        "delivered for the shared subscription"
    );
    msg.properties.subscription_identifiers = vec![2, 1];
    assert_eq!(router.route(&msg), Some(0), "several: the first route among them");
    msg.properties.subscription_identifiers = vec![3, 99, 0];
    assert_eq!(
        router.route(&msg),
        Some(0),
        "identifiers naming no matching route are ignored"
    );
}

fn level() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("".to_string()),
        Just("$x".to_string()),
    ]
}

fn filter_level() -> impl Strategy<Value = String> {
    prop_oneof![level(), Just("+".to_string())]
}

fn filter() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(filter_level(), 1..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(levels, hash, shared)| {
            let mut filter = levels.join("/");
            if hash {
                filter.push_str("/#");
            }
            if shared {
                filter.insert_str(0, "$share/g/");
            }
            filter
        })
}

fn topic() -> impl Strategy<Value = String> {
    prop::collection::vec(level(), 1..5).prop_map(|levels| levels.join("/"))
}

proptest! {
    #[test]
    fn agrees_with_matching_each_filter_in_turn(
        filters in prop::collection::vec(prop_oneof![filter(), Just("#".to_string())], 1..12),
        topics in prop::collection::vec(topic(), 1..8),
    ) {
        let router = Router::new(&filters);
        let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
        for topic in &topics {
            prop_assert_eq!(router.find(topic), linear(&filters, topic), "{}", topic);
            for (index, filter) in filters.iter().enumerate() {
                prop_assert_eq!(router.matches(index, topic), matches(filter, topic));
            }
        }
    }
}

#[test]
fn len_counts_every_filter_given_and_is_empty_only_without_any() {
    // An invalid filter keeps its number, so it counts.
    let router = Router::new(["a/#", "bad/#/filter"]);
    assert_eq!((router.len(), router.is_empty()), (2, false));
    let none = Router::new(Vec::<&str>::new());
    assert_eq!((none.len(), none.is_empty()), (0, true));
}
