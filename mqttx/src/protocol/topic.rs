//! Local validation of topic names and filters, so that a bad one fails its
//! command with `InvalidTopic` instead of making the server drop the
//! connection.

/// A PUBLISH topic name: non-empty, no wildcards, no U+0000 [MQTT-3.3.2-2].
pub(crate) fn is_valid_name(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= usize::from(u16::MAX) && !topic.contains(['+', '#', '\0'])
}

/// A topic filter: `#` only as a whole last level, `+` only as a whole level.
pub(crate) fn is_valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.len() > usize::from(u16::MAX) || filter.contains('\0') {
        return false;
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != "#" || levels.peek().is_some()) {
            return false;
        }
        if level.contains('+') && level != "+" {
            return false;
        }
    }
    true
}
