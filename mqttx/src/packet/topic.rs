//! Topic Names, Topic Filters and matching (MQTT 5 section 4.7, 4.8.2).
//!
//! ```
//! use mqttx::packet::topic::{matches, valid_topic_filter, valid_topic_name};
//!
//! assert!(valid_topic_name("sensors/room-42/temperature"));
//! assert!(!valid_topic_name("sensors/+/temperature"));
//! assert!(valid_topic_filter("sensors/+/temperature"));
//! assert!(valid_topic_filter("$share/workers/jobs/#"));
//! assert!(!valid_topic_filter("sensors/#/temperature"));
//! assert!(matches("sensors/+/temperature", "sensors/room-42/temperature"));
//! assert!(matches("sensors/#", "sensors"));
//! assert!(!matches("#", "$SYS/broker/uptime"));
//! ```

use bytes::Bytes;
use bytestring::ByteString;

use super::filter_grammar::{self, MAX_LEN, SHARE_PREFIX};

/// Whether `topic` may be sent as the Topic Name of a PUBLISH: at least one
/// byte, at most 65,535, no wildcard and no U+0000.
pub fn valid_topic_name(topic: &str) -> bool {
    let bytes = topic.as_bytes();
    let clean = plain(bytes) || {
        let found = scan(bytes);
        !found.null && !found.wildcard
    };
    !topic.is_empty() && topic.len() <= MAX_LEN && clean
}

/// What one pass over a topic's bytes found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    /// A zero byte: U+0000, which MQTT forbids in every string.
    pub(crate) null: bool,
    /// `+` or `#`, which a Topic Name may not hold.
    pub(crate) wildcard: bool,
    /// A byte above 0x7F: the bytes still need a UTF-8 check. Without one
    /// they are ASCII, which is valid UTF-8 as it stands.
    pub(crate) non_ascii: bool,
}

/// Whether `bytes` are ASCII without U+0000 or a wildcard: the common
/// topic, recognised with one accumulator so the hot paths (every PUBLISH
/// sent and received) do the least work; anything else goes to [`scan`].
#[inline]
pub(crate) fn plain(bytes: &[u8]) -> bool {
    // `v - ONES` sets a byte's top bit where `v`'s byte is zero or above
    // 0x80: a zero in `x` is U+0000, a zero in the probe a wildcard. A
    // non-ASCII byte is above 0x80 in `x` or in the probe (which keeps the
    // top bit and turns only 0xA3 and 0xAB into 0x80). Borrows start only
    // at a zero byte, which is flagged already, so the usual `& !v` of the
    // zero-byte test is not needed.
    let mut suspect = 0;
    each_word(bytes, |x| {
        suspect |= x.wrapping_sub(ONES) | wildcard_probe(x).wrapping_sub(ONES);
    });
    suspect & HIGHS == 0
}

/// Looks for U+0000, wildcards and non-ASCII bytes, telling them apart.
/// Off the hot path: only a topic that is not [`plain`] gets here.
#[inline(never)]
pub(crate) fn scan(bytes: &[u8]) -> Scan {
    let (mut null, mut wildcard, mut high) = (0, 0, 0);
    each_word(bytes, |x| {
        null |= zero_bytes(x);
        wildcard |= zero_bytes(wildcard_probe(x));
        high |= x;
    });
    Scan {
        null: null & HIGHS != 0,
        wildcard: wildcard & HIGHS != 0,
        non_ascii: high & HIGHS != 0,
    }
}

/// Bytes that [`plain`] or [`scan`] saw to hold nothing above 0x7F, kept
/// together with them: the field is private, so only the checks here can
/// vouch for a value, and turning it into a string needs no second look.
pub(crate) struct AsciiBytes(Bytes);

impl AsciiBytes {
    #[inline]
    pub(crate) fn into_string(self) -> ByteString {
        // SAFETY: every constructor saw no byte above 0x7F in these bytes,
        // and ASCII is valid UTF-8.
        unsafe { ByteString::from_bytes_unchecked(self.0) }
    }
}

/// `bytes` as [`AsciiBytes`] if they are [`plain`]; otherwise handed back.
#[inline]
pub(crate) fn plain_ascii(bytes: Bytes) -> Result<AsciiBytes, Bytes> {
    if plain(&bytes) {
        Ok(AsciiBytes(bytes))
    } else {
        Err(bytes)
    }
}

/// What [`scan`] found in owned bytes, with the bytes: as [`AsciiBytes`]
/// when the scan found no byte above 0x7F.
pub(crate) struct Scanned {
    pub(crate) null: bool,
    pub(crate) wildcard: bool,
    pub(crate) text: Result<AsciiBytes, Bytes>,
}

/// [`scan`] for bytes that may become a string.
#[inline]
pub(crate) fn scan_owned(bytes: Bytes) -> Scanned {
    let found = scan(&bytes);
    Scanned {
        null: found.null,
        wildcard: found.wildcard,
        text: if found.non_ascii {
            Err(bytes)
        } else {
            Ok(AsciiBytes(bytes))
        },
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Calls `f` with `bytes` eight at a time, as little-endian words. The last
/// step re-reads an overlapping word rather than looping over a tail; a
/// slice shorter than a word is padded with `a`, which no check looks for.
#[inline(always)]
fn each_word(bytes: &[u8], mut f: impl FnMut(u64)) {
    let mut rest = bytes;
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        f(u64::from_le_bytes(*word));
        rest = tail;
    }
    if !rest.is_empty() {
        let mut word = [b'a'; 8];
        match bytes.last_chunk::<8>() {
            Some(last) => word = *last,
            None => word.iter_mut().zip(bytes).for_each(|(w, &b)| *w = b),
        }
        f(u64::from_le_bytes(word));
    }
}

/// The top bit of each byte of the result is set where `x` has a zero byte
/// (the classic "has a zero byte" test, left unmasked: callers mask once
/// with `HIGHS` at the end). Exact for "is there one".
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x
}

/// Maps '#' (0x23) and '+' (0x2B), and nothing else, to zero bytes: they
/// differ only in bit 3, and no other byte becomes 0x2B when it is set.
#[inline(always)]
fn wildcard_probe(x: u64) -> u64 {
    (x | (ONES * 0x08)) ^ (ONES * u64::from(b'+'))
}

/// Whether `filter` may be subscribed to: `+` fills a whole level, `#` is
/// the whole last level, and a `$share/{name}/` prefix has a non-empty share
/// name without `/`, `+` or `#` and a valid filter after it.
pub fn valid_topic_filter(filter: &str) -> bool {
    filter_grammar::check_filter(filter).is_ok()
}

/// Whether a filter names a Shared Subscription (it begins with `$share/`).
pub fn is_shared(filter: &str) -> bool {
    filter.starts_with(SHARE_PREFIX)
}

/// Whether the Topic Name `topic` matches the Topic Filter `filter`.
///
/// A `$share/{name}/` prefix is looked through, so the filter of a Shared
/// Subscription matches what its inner filter matches. Topics beginning with
/// `$` are not matched by a filter beginning with a wildcard (MQTT 5
/// section 4.7.2). Invalid filters match nothing.
pub fn matches(filter: &str, topic: &str) -> bool {
    let Ok(filter) = filter_grammar::levels_of(filter) else {
        return false;
    };
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    let mut filter_levels = filter.split('/').peekable();
    while let Some(wanted) = filter_levels.next() {
        if wanted == "#" {
            // `#` must be last; it also matches the parent level itself.
            return filter_levels.peek().is_none();
        }
        match topic_levels.next() {
            Some(level) if wanted == "+" || wanted == level => {}
            _ => return false,
        }
    }
    topic_levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word checks rest on where borrows can start; every value at
    /// every position of a word, and every pair of values one or two
    /// positions apart (where a borrow would carry), against the
    /// definition.
    #[test]
    fn plain_agrees_with_the_definition_for_every_byte_and_neighbour() {
        let expected = |w: &[u8]| w.is_ascii() && !w.iter().any(|&b| b == 0 || b == b'+' || b == b'#');
        const LEN: usize = 9;
        let mut word = [b'a'; LEN];
        for i in 0..LEN {
            for b in 0..=255u8 {
                word[i] = b;
                assert_eq!(plain(&word), expected(&word), "{word:?}");
                for j in (i + 1..=i + 2).filter(|&j| j < LEN) {
                    for c in 0..=255u8 {
                        word[j] = c;
                        assert_eq!(plain(&word), expected(&word), "{word:?}");
                    }
                    word[j] = b'a';
                }
            }
            word[i] = b'a';
        }
    }

    #[test]
    fn names() {
        assert!(valid_topic_name("a"));
        assert!(valid_topic_name("/"));
        assert!(valid_topic_name("$SYS/x"));
        assert!(!valid_topic_name(""));
        assert!(!valid_topic_name("a/#"));
        assert!(!valid_topic_name("a\0b"));
        assert!(!valid_topic_name(&"a".repeat(65_536)));
        // Every position of the eight-byte steps and the tail.
        for i in 0..20 {
            for bad in ['+', '#', '\0'] {
                let mut topic = "abcdefghijklmnopqrst".to_string();
                topic.replace_range(i..=i, &bad.to_string());
                assert!(!valid_topic_name(&topic), "{topic:?}");
            }
        }
        assert!(valid_topic_name("abcdefghijklmnopqrst*!\u{7f}\u{ff}"));
    }

    /// The grammar's own tests give the reasons; this is the public entry.
    #[test]
    fn filters() {
        for filter in filter_grammar::GOOD_FILTERS {
            assert!(valid_topic_filter(filter), "{filter:?}");
        }
        for (filter, _) in filter_grammar::BAD_FILTERS {
            assert!(!valid_topic_filter(filter), "{filter:?}");
        }
    }

    #[test]
    fn matching() {
        let cases = [
            ("a/b", "a/b", true),
            ("a/+", "a/b", true),
            ("a/+", "a/b/c", false),
            ("a/+", "a/", true),
            ("a/#", "a", true),
            ("a/#", "a/b/c", true),
            ("#", "a/b", true),
            ("+/+", "/a", true),
            ("+", "/a", false),
            ("#", "$SYS/a", false),
            ("+/a", "$SYS/a", false),
            ("$SYS/#", "$SYS/a", true),
            ("$share/g/a/+", "a/b", true),
            ("$share/g/a/+", "b/b", false),
            ("a/b", "a/b/c", false),
            ("a/b/c", "a/b", false),
        ];
        for (filter, topic, expected) in cases {
            assert_eq!(matches(filter, topic), expected, "{filter} vs {topic}");
        }
    }
}
