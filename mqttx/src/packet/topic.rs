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

/// The longest string MQTT can carry.
const MAX_LEN: usize = 65_535;

/// The prefix of a Shared Subscription's filter.
const SHARE_PREFIX: &str = "$share/";

/// Whether `topic` may be sent as the Topic Name of a PUBLISH: at least one
/// byte, at most 65,535, no wildcard and no U+0000.
pub fn valid_topic_name(topic: &str) -> bool {
    let bytes = topic.as_bytes();
    !topic.is_empty() && topic.len() <= MAX_LEN && (is_plain(bytes) || scan(bytes) == (false, false))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero exactly when some byte of `x` is zero (the classic bit trick).
#[inline(always)]
fn zero_byte(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Non-zero in some byte's high bit when that byte of `x` is non-ASCII,
/// U+0000, `+` or `#`; only the high bits (`& HIGHS`) mean anything.
///
/// A non-ASCII byte has its high bit set already. For ASCII bytes, `b - 1`
/// sets the high bit exactly when `b` is 0 (only a zero byte borrows), and
/// `+` (0x2B) and `#` (0x23) differ in bit 3 alone, so `(b | 0x08) ^ 0x2B`
/// is 0 exactly for those two. A non-ASCII byte may make the other bytes'
/// answers wrong, but the answer "look closer" is already right then.
#[inline(always)]
fn unusual(x: u64) -> u64 {
    let wild = (x | (ONES * 0x08)) ^ (ONES * u64::from(b'+'));
    x | x.wrapping_sub(ONES) | wild.wrapping_sub(ONES)
}

/// Whether `bytes` are all ASCII with no U+0000 and no wildcard: a valid
/// UTF-8 Topic Name body, established in one pass.
///
/// This is the common case on every PUBLISH sent and received, so it looks
/// at sixteen bytes per step (eight for shorter topics); `false` only means
/// "look closer" (with [`scan`] and a UTF-8 check), which tells the reason
/// apart.
#[inline(always)]
pub(crate) fn is_plain(bytes: &[u8]) -> bool {
    if let (Some(first), Some(last), true) = (
        bytes.first_chunk::<16>(),
        bytes.last_chunk::<16>(),
        bytes.len() <= 32,
    ) {
        // 16 to 32 bytes, most topics: two steps, overlapping unless 32.
        let mut seen = [0u8; 16];
        mark16(&mut seen, first);
        mark16(&mut seen, last);
        return seen.iter().fold(0, |all, &lane| all | lane) == 0;
    }
    if let Some(last) = bytes.last_chunk::<16>() {
        let mut seen = [0u8; 16];
        let mut chunks = bytes.chunks_exact(16);
        for chunk in &mut chunks {
            if let Ok(chunk) = <&[u8; 16]>::try_from(chunk) {
                mark16(&mut seen, chunk);
            }
        }
        // The tail, as the last sixteen bytes (overlapping ones already seen).
        if !chunks.remainder().is_empty() {
            mark16(&mut seen, last);
        }
        return seen.iter().fold(0, |all, &lane| all | lane) == 0;
    }
    if let (Some(&first), Some(&last)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        // 8 to 15 bytes: two words, overlapping unless there are exactly 16.
        let seen = unusual(u64::from_le_bytes(first)) | unusual(u64::from_le_bytes(last));
        return seen & HIGHS == 0;
    }
    bytes.iter().all(|&b| !unusual_byte(b))
}

/// Marks the lanes of `seen` whose byte in `chunk` is unusual; lane by lane,
/// so that the compiler makes vector compares of it.
#[inline(always)]
fn mark16(seen: &mut [u8; 16], chunk: &[u8; 16]) {
    for (seen, &b) in seen.iter_mut().zip(chunk) {
        *seen |= u8::from(unusual_byte(b));
    }
}

/// Non-ASCII, U+0000, `+` or `#`. As a signed byte, 0 and everything from
/// 0x80 up is below 1; `+` (0x2B) and `#` (0x23) differ in bit 3 alone.
#[inline(always)]
fn unusual_byte(b: u8) -> bool {
    ((b as i8) < 1) | (b | 0x08 == b'+')
}

/// Whether `bytes` hold U+0000, and whether they hold `+` or `#`.
///
/// This runs on every PUBLISH sent and received, so it looks at eight bytes
/// per step (the classic "has a zero byte" bit trick) instead of one.
#[inline]
pub(crate) fn scan(bytes: &[u8]) -> (bool, bool) {
    let mut null = 0;
    let mut wildcard = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        null |= zero_byte(x);
        wildcard |= zero_byte(x ^ (ONES * u64::from(b'+'))) | zero_byte(x ^ (ONES * u64::from(b'#')));
    }
    let (tail_null, tail_wildcard) = chunks.remainder().iter().fold((false, false), |(n, w), &b| {
        (n | (b == 0), w | (b == b'+') | (b == b'#'))
    });
    (null != 0 || tail_null, wildcard != 0 || tail_wildcard)
}

/// Whether `filter` may be subscribed to: `+` fills a whole level, `#` is
/// the whole last level, and a `$share/{name}/` prefix has a non-empty share
/// name without `/`, `+` or `#` and a valid filter after it.
pub fn valid_topic_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.len() > MAX_LEN || filter.contains('\0') {
        return false;
    }
    match split_shared(filter) {
        Some(Some((_, inner))) => valid_levels(inner),
        Some(None) => false,
        None => valid_levels(filter),
    }
}

/// Whether a filter names a Shared Subscription (it begins with `$share/`).
pub fn is_shared(filter: &str) -> bool {
    filter.starts_with(SHARE_PREFIX)
}

/// `None` for an ordinary filter; `Some(None)` for a malformed shared one;
/// otherwise the share name and the filter it shares.
fn split_shared(filter: &str) -> Option<Option<(&str, &str)>> {
    let rest = filter.strip_prefix(SHARE_PREFIX)?;
    let parsed = rest
        .split_once('/')
        .filter(|(name, inner)| !name.is_empty() && !name.contains(['+', '#']) && !inner.is_empty());
    Some(parsed)
}

fn valid_levels(filter: &str) -> bool {
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        let ok = match level {
            "+" => true,
            "#" => last,
            _ => !level.contains(['+', '#']),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether the Topic Name `topic` matches the Topic Filter `filter`.
///
/// A `$share/{name}/` prefix is looked through, so the filter of a Shared
/// Subscription matches what its inner filter matches. Topics beginning with
/// `$` are not matched by a filter beginning with a wildcard (MQTT 5
/// section 4.7.2). Invalid filters match nothing.
pub fn matches(filter: &str, topic: &str) -> bool {
    let filter = match split_shared(filter) {
        Some(Some((_, inner))) => inner,
        Some(None) => return false,
        None => filter,
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

    #[test]
    fn plain_means_ascii_without_null_or_wildcard() {
        assert!(is_plain(b""));
        assert!(is_plain(b"sensors/room-42/temperature"));
        assert!(is_plain(b"\x7f$/ *!"));
        // Every length up to three words, every position, every kind of byte
        // that must be looked at closer.
        for len in 1..=24 {
            let base = vec![b'a'; len];
            assert!(is_plain(&base));
            for i in 0..len {
                for bad in [0x00, b'+', b'#', 0x80, 0xC3, 0xFF] {
                    let mut bytes = base.clone();
                    bytes[i] = bad;
                    assert!(!is_plain(&bytes), "{bytes:02X?}");
                }
            }
        }
        // Bytes next to the ones it looks for are fine.
        assert!(is_plain(b"*,\"$\x01\x7f*,\"$\x01\x7f"));
    }

    #[test]
    fn filters() {
        for ok in [
            "#",
            "+",
            "a/+/b",
            "a/#",
            "+/+",
            "/",
            "a//b",
            "$share/g/a/#",
            "$share/g//",
            "$SYS/#",
        ] {
            assert!(valid_topic_filter(ok), "{ok}");
        }
        for bad in [
            "",
            "a#",
            "a/#/b",
            "a+",
            "a/b+/c",
            "##",
            "$share/",
            "$share/g",
            "$share/g/",
            "$share//a",
            "$share/g+/a",
            "a\0",
        ] {
            assert!(!valid_topic_filter(bad), "{bad}");
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
