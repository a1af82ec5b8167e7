//! [`Router`]: which of several topic filters an incoming message belongs to.
//!
//! `#[mqtt_handler]` builds one `Router` per handler type, once, from the
//! filters of its `#[subscribe]` routes, and asks it for the route of every
//! PUBLISH. It can be used by hand too:
//!
//! ```
//! use mqttx::router::Router;
//!
//! let router = Router::new(["sensors/+/temp", "sensors/#", "$share/workers/jobs/+"]);
//! assert_eq!(router.find("sensors/kitchen/temp"), Some(0)); // the first match wins
//! assert_eq!(router.find("sensors/kitchen/humidity"), Some(1));
//! assert_eq!(router.find("jobs/42"), Some(2)); // a shared filter matches what it shares
//! assert_eq!(router.find("lights/on"), None);
//! ```

mod trie;

use crate::packet::Publish;
use trie::{Level, Trie};

/// A first-match matcher over topic filters, built once.
///
/// Filters are numbered in the order given. [`find`](Self::find) returns
/// the lowest-numbered filter that matches a topic, walking a tree of
/// levels: the cost depends on the topic's depth and on the wildcards
/// along its path, not on the number of filters. Nothing is allocated per
/// lookup.
///
/// Matching follows MQTT: `+` is one level, `#` the rest (its parent level
/// included), a `$share/{group}/` prefix is looked through, and a topic
/// beginning with `$` is not matched by a filter beginning with a wildcard.
/// An invalid filter matches nothing.
#[derive(Debug, Clone)]
pub struct Router {
    trie: Trie,
    /// Each filter's levels, to check a Subscription Identifier's claim.
    routes: Vec<Option<Box<[Level]>>>,
}

impl Router {
    /// A router over `filters`, numbered from 0 in order.
    pub fn new<I, S>(filters: I) -> Router
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut trie = Trie::default();
        let mut routes = Vec::new();
        for (index, filter) in filters.into_iter().enumerate() {
            let levels = trie::levels(filter.as_ref());
            if let Some(levels) = &levels {
                trie.insert(levels, index);
            }
            routes.push(levels);
        }
        Router { trie, routes }
    }

    /// How many filters the router was built from.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the router has no filters.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The number of the first filter matching `topic`.
    pub fn find(&self, topic: &str) -> Option<usize> {
        self.trie.find(topic)
    }

    /// Whether filter number `index` matches `topic`.
    pub fn matches(&self, index: usize, topic: &str) -> bool {
        match self.routes.get(index) {
            Some(Some(levels)) => trie::matches(levels, topic),
            _ => false,
        }
    }

    /// The route of an incoming message.
    ///
    /// On MQTT 5 a message names the subscriptions it came through by their
    /// Subscription Identifiers; `#[mqtt_handler]` gives filter number `n`
    /// the identifier `n + 1`. When one of them names a filter that matches
    /// the topic, the lowest such filter is the route, without a tree walk;
    /// an identifier that names no filter, or one that does not match (a
    /// subscription made by hand with a clashing identifier), is ignored.
    /// Otherwise it is [`find`](Self::find) on the topic.
    pub fn route(&self, msg: &Publish) -> Option<usize> {
        let topic: &str = &msg.topic;
        let by_identifier = msg
            .properties
            .subscription_identifiers
            .iter()
            .filter_map(|&id| usize::try_from(id).ok()?.checked_sub(1))
            .filter(|&index| self.matches(index, topic))
            .min();
        by_identifier.or_else(|| self.find(topic))
    }
}

#[cfg(test)]
mod tests;
