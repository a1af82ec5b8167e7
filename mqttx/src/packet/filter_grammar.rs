//! The grammar of an MQTT Topic Filter (MQTT 5 section 4.7, 4.8.2): the one
//! statement of what a broker accepts in a SUBSCRIBE.
//!
//! The codec checks filters with it at run time, and `#[mqtt_handler]`
//! checks route patterns with it at compile time: the macro compiles this
//! same file (`mqttx-derive/src/filter_grammar.rs` is a link to it), so the
//! two cannot drift apart. It therefore uses nothing outside `std`.
//!
//! The checks come level by level, in the order a reader meets the faults,
//! so that a caller with its own kinds of level (the macro's `{name}`
//! segments) can run them in step and report the first fault the same way.

/// The longest string MQTT can carry.
pub const MAX_LEN: usize = 65_535;

/// The prefix of a Shared Subscription's filter.
pub const SHARE_PREFIX: &str = "$share/";

/// What makes a filter invalid. The variants carry nothing: the caller has
/// the filter, or the level, it checked, for any message it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterError {
    Empty,
    TooLong,
    /// U+0000, which MQTT forbids in every string.
    Null,
    /// `$share/` with no `/` after the share name.
    UnfinishedShare,
    /// An empty share name, or one holding `+` or `#`.
    BadShareName,
    /// Nothing after `$share/{name}/`.
    EmptySharedFilter,
    /// `#` before the last level.
    HashNotLast,
    /// `+` or `#` as part of a level rather than the whole of it.
    PartialWildcard,
}

/// The rules every MQTT string follows, as they apply to a filter.
pub fn check_string(filter: &str) -> Result<(), FilterError> {
    if filter.is_empty() {
        return Err(FilterError::Empty);
    }
    if filter.len() > MAX_LEN {
        return Err(FilterError::TooLong);
    }
    if filter.contains('\0') {
        return Err(FilterError::Null);
    }
    Ok(())
}

/// `None` for an ordinary filter; for a `$share/` one, the share name and
/// the filter it shares, split but not yet checked by [`check_shared`].
pub fn split_shared(filter: &str) -> Option<Result<(&str, &str), FilterError>> {
    let rest = filter.strip_prefix(SHARE_PREFIX)?;
    Some(rest.split_once('/').ok_or(FilterError::UnfinishedShare))
}

/// The rules for the two parts [`split_shared`] found.
pub fn check_shared(name: &str, inner: &str) -> Result<(), FilterError> {
    if name.is_empty() || name.contains(['+', '#']) {
        return Err(FilterError::BadShareName);
    }
    if inner.is_empty() {
        return Err(FilterError::EmptySharedFilter);
    }
    Ok(())
}

/// The levels of `filter`: what follows a valid `$share/{name}/` prefix, or
/// the whole filter when it has none.
pub fn levels_of(filter: &str) -> Result<&str, FilterError> {
    match split_shared(filter) {
        Some(parts) => {
            let (name, inner) = parts?;
            check_shared(name, inner)?;
            Ok(inner)
        }
        None => Ok(filter),
    }
}

/// The rules for one level: `+` fills a whole level, `#` the whole of the
/// last one.
pub fn check_level(level: &str, last: bool) -> Result<(), FilterError> {
    match level {
        "+" => Ok(()),
        "#" if last => Ok(()),
        "#" => Err(FilterError::HashNotLast),
        _ if level.contains(['+', '#']) => Err(FilterError::PartialWildcard),
        _ => Ok(()),
    }
}

/// Checks a whole filter, as it would be sent in a SUBSCRIBE.
pub fn check_filter(filter: &str) -> Result<(), FilterError> {
    check_string(filter)?;
    let mut levels = levels_of(filter)?.split('/').peekable();
    while let Some(level) = levels.next() {
        check_level(level, levels.peek().is_none())?;
    }
    Ok(())
}

/// Filters every checker must accept, shared by the tests of both crates.
#[cfg(test)]
pub const GOOD_FILTERS: &[&str] = &[
    "#",
    "+",
    "a/+/b",
    "a/#",
    "+/+",
    "+/#",
    "/",
    "a//b",
    "$share/g/a/#",
    "$share/g//",
    "$share/g/#",
    "$SYS/#",
];

/// Filters every checker must reject, with the fault each shows.
#[cfg(test)]
pub const BAD_FILTERS: &[(&str, FilterError)] = &[
    ("", FilterError::Empty),
    ("a\0", FilterError::Null),
    ("a#", FilterError::PartialWildcard),
    ("a/b#", FilterError::PartialWildcard),
    ("a/#/b", FilterError::HashNotLast),
    ("#/", FilterError::HashNotLast),
    ("a+", FilterError::PartialWildcard),
    ("a+/b", FilterError::PartialWildcard),
    ("a/b+/c", FilterError::PartialWildcard),
    ("##", FilterError::PartialWildcard),
    ("$share/", FilterError::UnfinishedShare),
    ("$share/g", FilterError::UnfinishedShare),
    ("$share/g/", FilterError::EmptySharedFilter),
    ("$share//a", FilterError::BadShareName),
    ("$share/g+/a", FilterError::BadShareName),
    ("$share/g#/a", FilterError::BadShareName),
    ("$share/g/a/#/b", FilterError::HashNotLast),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_good_filters() {
        for filter in GOOD_FILTERS {
            assert_eq!(check_filter(filter), Ok(()), "{filter:?}");
        }
        assert_eq!(check_filter(&"a".repeat(MAX_LEN)), Ok(()));
    }

    #[test]
    fn rejects_bad_filters_for_the_right_reason() {
        for &(filter, fault) in BAD_FILTERS {
            assert_eq!(check_filter(filter), Err(fault), "{filter:?}");
        }
        assert_eq!(check_filter(&"a".repeat(MAX_LEN + 1)), Err(FilterError::TooLong));
    }
}
