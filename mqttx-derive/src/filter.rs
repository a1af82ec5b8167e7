//! Route patterns: MQTT topic filters with named segments, checked here at
//! compile time and turned into the plain filter the broker sees.

use crate::filter_grammar::{self as grammar, FilterError, SHARE_PREFIX};

/// A named segment: `{name}` stands for `+`, a trailing `{*name}` for `#`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Segment {
    pub name: String,
    /// Its level in the topic (after any `$share/{group}/` prefix).
    pub level: usize,
    /// `{*name}`: the rest of the topic from `level` on.
    pub tail: bool,
}

/// A checked pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The MQTT filter to subscribe to and match with.
    pub filter: String,
    pub segments: Vec<Segment>,
}

/// Checks `pattern`; the error says what is wrong, for a message at the
/// literal's span. The plain-filter rules are `filter_grammar`'s, run level
/// by level alongside the named segments so the first fault is reported.
pub fn parse(pattern: &str) -> Result<Pattern, String> {
    grammar::check_string(pattern).map_err(message)?;
    let (prefix, levels) = match grammar::split_shared(pattern) {
        Some(parts) => {
            let (group, inner) = parts.map_err(message)?;
            // Braces are fine in a share name on the wire, but in a route
            // they would read as a named segment, which a group cannot be.
            let checked = if group.contains(['{', '}']) {
                Err(FilterError::BadShareName)
            } else {
                grammar::check_shared(group, inner)
            };
            checked.map_err(|fault| match fault {
                FilterError::BadShareName => {
                    format!("`{group}` is not a share name: it must be non-empty, without `+`, `#` or braces")
                }
                other => message(other),
            })?;
            (format!("{SHARE_PREFIX}{group}/"), inner)
        }
        None => (String::new(), pattern),
    };
    let mut filter = prefix;
    let mut segments: Vec<Segment> = Vec::new();
    let all: Vec<&str> = levels.split('/').collect();
    for (index, level) in all.iter().enumerate() {
        let last = index + 1 == all.len();
        if index > 0 {
            filter.push('/');
        }
        let translated = match *level {
            named if named.starts_with('{') && named.ends_with('}') && named.len() >= 2 => {
                let inner = &named[1..named.len() - 1];
                let (name, tail) = match inner.strip_prefix('*') {
                    Some(name) => (name, true),
                    None => (inner, false),
                };
                if tail && !last {
                    return Err(format!("the named tail `{{*{name}}}` must be the last level"));
                }
                if syn::parse_str::<syn::Ident>(name).is_err() || name == "_" {
                    return Err(format!(
                        "`{named}` is not a named segment: the name between the braces must be a parameter name"
                    ));
                }
                if segments.iter().any(|s| s.name == name) {
                    return Err(format!("the named segment `{name}` appears twice"));
                }
                segments.push(Segment {
                    name: name.to_owned(),
                    level: index,
                    tail,
                });
                if tail {
                    "#"
                } else {
                    "+"
                }
            }
            literal => {
                grammar::check_level(literal, last).map_err(|fault| match fault {
                    FilterError::PartialWildcard => format!(
                        "`{literal}`: `+` and `#` stand for whole levels (`a/+/b`, `a/#`), not part of one"
                    ),
                    other => message(other),
                })?;
                if literal.contains(['{', '}']) {
                    return Err(format!(
                        "`{literal}`: a named segment is a whole level, `{{name}}` (or `{{*name}}` last)"
                    ));
                }
                literal
            }
        };
        filter.push_str(translated);
    }
    Ok(Pattern { filter, segments })
}

/// The message for a fault that needs no part of the pattern to explain.
fn message(fault: FilterError) -> String {
    match fault {
        FilterError::Empty => "a topic filter cannot be empty",
        FilterError::TooLong => "a topic filter is at most 65,535 bytes",
        FilterError::Null => "a topic filter cannot contain U+0000",
        FilterError::UnfinishedShare => "a shared subscription is `$share/{group}/{filter}`",
        FilterError::BadShareName => "a share name must be non-empty, without `+`, `#` or braces",
        FilterError::EmptySharedFilter => "a shared subscription needs a filter after `$share/{group}/`",
        FilterError::HashNotLast => "`#` must be the last level of a filter",
        FilterError::PartialWildcard => {
            "`+` and `#` stand for whole levels (`a/+/b`, `a/#`), not part of one"
        }
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_named_segments() {
        let p = parse("sensors/{room}/temp").unwrap();
        assert_eq!(p.filter, "sensors/+/temp");
        assert_eq!(
            p.segments,
            vec![Segment {
                name: "room".into(),
                level: 1,
                tail: false
            }]
        );
        let p = parse("$share/g/logs/{app}/{*path}").unwrap();
        assert_eq!(p.filter, "$share/g/logs/+/#");
        assert_eq!(p.segments[1].level, 2);
        assert!(p.segments[1].tail);
        assert_eq!(parse("a/+/#").unwrap().filter, "a/+/#");
        assert_eq!(parse("#").unwrap().filter, "#");
    }

    #[test]
    fn plain_filters_pass_through_unchanged() {
        for filter in grammar::GOOD_FILTERS {
            let p = parse(filter).unwrap_or_else(|e| panic!("{filter:?}: {e}"));
            assert_eq!(p.filter, *filter);
            assert!(p.segments.is_empty());
        }
    }

    #[test]
    fn rejects_bad_filters() {
        let plain = grammar::BAD_FILTERS.iter().map(|(filter, _)| *filter);
        let routes = [
            "{*rest}/a",
            "a/{room",
            "a/x{room}",
            "a/{}",
            "a/{1x}",
            "{a}/{a}",
            "$share/{g}/a",
            "$share/{g}/",
        ];
        for bad in plain.chain(routes) {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&"a".repeat(grammar::MAX_LEN + 1)).is_err());
    }

    /// The first fault met is the one reported, whichever side checks it.
    #[test]
    fn reports_the_first_fault() {
        assert!(parse("$share/{g}/").unwrap_err().contains("not a share name"));
        assert!(parse("a+/{1x}").unwrap_err().contains("whole levels"));
        assert!(parse("{1x}/a+").unwrap_err().contains("not a named segment"));
        assert!(parse("a/#/{x}").unwrap_err().contains("must be the last level"));
    }
}
