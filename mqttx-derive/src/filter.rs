//! Route patterns: MQTT topic filters with named segments, checked here at
//! compile time and turned into the plain filter the broker sees.

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

const SHARE: &str = "$share/";

/// Checks `pattern`; the error says what is wrong, for a message at the
/// literal's span.
pub fn parse(pattern: &str) -> Result<Pattern, String> {
    if pattern.is_empty() {
        return Err("a topic filter cannot be empty".into());
    }
    if pattern.len() > 65_535 {
        return Err("a topic filter is at most 65,535 bytes".into());
    }
    if pattern.contains('\0') {
        return Err("a topic filter cannot contain U+0000".into());
    }
    let (prefix, levels) = match pattern.strip_prefix(SHARE) {
        Some(rest) => {
            let Some((group, inner)) = rest.split_once('/') else {
                return Err("a shared subscription is `$share/{group}/{filter}`".into());
            };
            if group.is_empty() || group.contains(['+', '#', '{', '}']) {
                return Err(format!(
                    "`{group}` is not a share name: it must be non-empty, without `+`, `#` or braces"
                ));
            }
            if inner.is_empty() {
                return Err("a shared subscription needs a filter after `$share/{group}/`".into());
            }
            (format!("{SHARE}{group}/"), inner)
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
            "+" => "+",
            "#" if last => "#",
            "#" => return Err("`#` must be the last level of a filter".into()),
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
            other if other.contains(['+', '#']) => {
                return Err(format!(
                    "`{other}`: `+` and `#` stand for whole levels (`a/+/b`, `a/#`), not part of one"
                ));
            }
            other if other.contains(['{', '}']) => {
                return Err(format!(
                    "`{other}`: a named segment is a whole level, `{{name}}` (or `{{*name}}` last)"
                ));
            }
            literal => literal,
        };
        filter.push_str(translated);
    }
    Ok(Pattern { filter, segments })
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
    fn rejects_bad_filters() {
        for bad in [
            "",
            "a/#/b",
            "a+/b",
            "a/b#",
            "{*rest}/a",
            "a/{room",
            "a/x{room}",
            "a/{}",
            "a/{1x}",
            "{a}/{a}",
            "$share/",
            "$share/g",
            "$share/g/",
            "$share//a",
            "$share/g+/a",
            "a\0",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
