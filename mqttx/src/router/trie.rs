//! A tree of filter levels, searched for the lowest-numbered match.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::packet::topic::valid_topic_filter;

/// One level of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Level {
    Exact(Box<str>),
    /// `+`
    One,
    /// `#`
    Rest,
}

/// The levels of a valid filter, with a `$share/{group}/` prefix removed;
/// `None` for an invalid one.
pub(super) fn levels(filter: &str) -> Option<Box<[Level]>> {
    if !valid_topic_filter(filter) {
        return None;
    }
    let inner = match filter.strip_prefix("$share/") {
        Some(rest) => rest.split_once('/')?.1,
        None => filter,
    };
    let levels = inner
        .split('/')
        .map(|level| match level {
            "+" => Level::One,
            "#" => Level::Rest,
            exact => Level::Exact(exact.into()),
        })
        .collect();
    Some(levels)
}

/// Whether one filter's levels match `topic`.
pub(super) fn matches(levels: &[Level], topic: &str) -> bool {
    if topic.starts_with('$') && matches!(levels.first(), Some(Level::One | Level::Rest)) {
        return false;
    }
    let mut rest = Some(topic);
    for level in levels {
        let Some(left) = rest else {
            // Past the topic's end only `#` matches (its parent level).
            return *level == Level::Rest;
        };
        let (current, after) = split_level(left);
        match level {
            Level::Rest => return true,
            Level::One => {}
            Level::Exact(exact) if **exact == *current => {}
            Level::Exact(_) => return false,
        }
        rest = after;
    }
    rest.is_none()
}

const NONE: usize = usize::MAX;

#[derive(Debug, Clone)]
struct Node {
    /// Children by exact level.
    exact: HashMap<Box<str>, usize, BuildHasherDefault<Fnv>>,
    /// The child for `+`.
    one: Option<usize>,
    /// The route whose filter ends in `#` here.
    rest: usize,
    /// The route whose filter ends exactly here.
    end: usize,
    /// The lowest route anywhere below (and at) this node: a search that
    /// already found a lower one skips the whole subtree.
    lowest: usize,
}

impl Default for Node {
    fn default() -> Self {
        Node {
            exact: HashMap::default(),
            one: None,
            rest: NONE,
            end: NONE,
            lowest: NONE,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Trie {
    nodes: Vec<Node>,
}

impl Default for Trie {
    fn default() -> Self {
        Trie {
            nodes: vec![Node::default()],
        }
    }
}

impl Trie {
    /// Adds route `route`; an earlier route with the same filter keeps it.
    pub(super) fn insert(&mut self, levels: &[Level], route: usize) {
        let mut node = 0;
        for level in levels {
            self.lower(node, route);
            node = match level {
                Level::Rest => {
                    if let Some(n) = self.nodes.get_mut(node) {
                        n.rest = n.rest.min(route);
                    }
                    return;
                }
                Level::One => match self.nodes.get(node).and_then(|n| n.one) {
                    Some(child) => child,
                    None => {
                        let child = self.push();
                        if let Some(n) = self.nodes.get_mut(node) {
                            n.one = Some(child);
                        }
                        child
                    }
                },
                Level::Exact(exact) => self.exact_child(node, exact),
            };
        }
        self.lower(node, route);
        if let Some(n) = self.nodes.get_mut(node) {
            n.end = n.end.min(route);
        }
    }

    fn lower(&mut self, node: usize, route: usize) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.lowest = n.lowest.min(route);
        }
    }

    fn push(&mut self) -> usize {
        self.nodes.push(Node::default());
        self.nodes.len() - 1
    }

    fn exact_child(&mut self, node: usize, exact: &str) -> usize {
        if let Some(&child) = self.nodes.get(node).and_then(|n| n.exact.get(exact)) {
            return child;
        }
        let child = self.push();
        if let Some(n) = self.nodes.get_mut(node) {
            n.exact.insert(exact.into(), child);
        }
        child
    }

    /// The lowest route matching `topic`.
    pub(super) fn find(&self, topic: &str) -> Option<usize> {
        let mut best = NONE;
        // A `$` topic is not matched by a wildcard in the first level.
        let wildcards = !topic.starts_with('$');
        self.walk(0, Some(topic), wildcards, &mut best);
        (best != NONE).then_some(best)
    }

    /// Depth-first, pruning subtrees that cannot beat `best`. The depth is
    /// bounded by the longest filter, not by the topic. `rest` is what is
    /// left of the topic, `None` past its last level.
    fn walk(&self, node: usize, rest: Option<&str>, wildcards: bool, best: &mut usize) {
        let Some(n) = self.nodes.get(node) else { return };
        if n.lowest >= *best {
            return;
        }
        if wildcards {
            *best = (*best).min(n.rest);
        }
        let Some(rest) = rest else {
            *best = (*best).min(n.end);
            return;
        };
        let (level, after) = split_level(rest);
        if let Some(&child) = n.exact.get(level) {
            self.walk(child, after, true, best);
        }
        if let (Some(child), true) = (n.one, wildcards) {
            self.walk(child, after, true, best);
        }
    }
}

/// The first level of `rest` and what follows its `/`, if anything. A
/// byte loop: levels are short, and this beats a general substring search.
#[inline]
fn split_level(rest: &str) -> (&str, Option<&str>) {
    match rest.bytes().position(|b| b == b'/') {
        Some(at) => (rest.get(..at).unwrap_or_default(), rest.get(at + 1..)),
        None => (rest, None),
    }
}

/// FNV-1a: levels are short strings from the filters we built the tree
/// from and from topics; a keyed hash buys nothing here (a topic can only
/// pick which bucket it probes) and costs more than the lookup.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = hash;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
