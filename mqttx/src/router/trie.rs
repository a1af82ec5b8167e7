//! A tree of filter levels, searched for the lowest-numbered match.

use std::str::Split;

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
    let mut topic_levels = topic.split('/');
    for level in levels {
        match level {
            Level::Rest => return true,
            Level::One => {
                if topic_levels.next().is_none() {
                    return false;
                }
            }
            Level::Exact(exact) => {
                if topic_levels.next() != Some(exact) {
                    return false;
                }
            }
        }
    }
    topic_levels.next().is_none()
}

const NONE: usize = usize::MAX;

#[derive(Debug, Clone)]
struct Node {
    /// Children by exact level, sorted for binary search.
    exact: Vec<(Box<str>, usize)>,
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
            exact: Vec::new(),
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
        let found = self
            .nodes
            .get(node)
            .map(|n| n.exact.binary_search_by(|(key, _)| (**key).cmp(exact)));
        match found {
            Some(Ok(at)) => self
                .nodes
                .get(node)
                .and_then(|n| n.exact.get(at))
                .map_or(0, |&(_, child)| child),
            Some(Err(at)) => {
                let child = self.push();
                if let Some(n) = self.nodes.get_mut(node) {
                    n.exact.insert(at, (exact.into(), child));
                }
                child
            }
            None => 0,
        }
    }

    /// The lowest route matching `topic`.
    pub(super) fn find(&self, topic: &str) -> Option<usize> {
        let mut best = NONE;
        // A `$` topic is not matched by a wildcard in the first level.
        let wildcards = !topic.starts_with('$');
        self.walk(0, topic.split('/'), wildcards, &mut best);
        (best != NONE).then_some(best)
    }

    /// Depth-first, pruning subtrees that cannot beat `best`. The depth is
    /// bounded by the longest filter, not by the topic.
    fn walk(&self, node: usize, mut levels: Split<'_, char>, wildcards: bool, best: &mut usize) {
        let Some(n) = self.nodes.get(node) else { return };
        if n.lowest >= *best {
            return;
        }
        if wildcards {
            *best = (*best).min(n.rest);
        }
        match levels.next() {
            None => *best = (*best).min(n.end),
            Some(level) => {
                if let Ok(at) = n.exact.binary_search_by(|(key, _)| (**key).cmp(level)) {
                    if let Some(&(_, child)) = n.exact.get(at) {
                        self.walk(child, levels.clone(), true, best);
                    }
                }
                if let (Some(child), true) = (n.one, wildcards) {
                    self.walk(child, levels, true, best);
                }
            }
        }
    }
}
