//! Topic aliases, both ways. Aliases live for one network connection
//! [MQTT-3.3.2-7], so both tables are reset on every `connect()`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroU16;

use crate::packet::{ByteString, Publish, ReasonCode};

use super::ProtocolError;

/// The aliases the server has set up for its PUBLISHes to us.
#[derive(Debug, Default)]
pub(super) struct InboundAliases {
    /// Index `alias - 1`; grown only as far as the highest alias used.
    topics: Vec<Option<ByteString>>,
    /// What we advertised as Topic Alias Maximum.
    max: u16,
}

impl InboundAliases {
    pub(super) fn reset(&mut self, max: u16) {
        self.topics.clear();
        self.max = max;
    }

    /// Records or resolves the alias of an incoming PUBLISH, leaving its
    /// topic filled in.
    pub(super) fn resolve(&mut self, publish: &mut Publish) -> Result<(), ProtocolError> {
        let Some(alias) = publish.properties.topic_alias else {
            if publish.topic.is_empty() {
                return Err(ProtocolError::violation(
                    "PUBLISH without a topic name or topic alias",
                ));
            }
            return Ok(());
        };
        if alias.get() > self.max {
            return Err(ProtocolError::new(
                ReasonCode::TopicAliasInvalid,
                "topic alias above our Topic Alias Maximum",
            ));
        }
        let index = usize::from(alias.get() - 1);
        if publish.topic.is_empty() {
            match self.topics.get(index).and_then(Option::as_ref) {
                Some(topic) => publish.topic = topic.clone(),
                None => {
                    return Err(ProtocolError::new(
                        ReasonCode::TopicAliasInvalid,
                        "PUBLISH with an unknown topic alias and no topic name",
                    ))
                }
            }
        } else {
            if self.topics.len() <= index {
                self.topics.resize(index + 1, None);
            }
            if let Some(slot) = self.topics.get_mut(index) {
                *slot = Some(publish.topic.clone());
            }
        }
        Ok(())
    }
}

/// The aliases we assign to our PUBLISHes, up to the server's Topic Alias
/// Maximum. Once all are taken, further topics go out in full: evicting
/// would cost a topic+alias resend for little gain on typical topic sets.
#[derive(Debug, Default)]
pub(super) struct OutboundAliases {
    assigned: HashMap<ByteString, NonZeroU16, BuildHasherDefault<TopicHasher>>,
    max: u16,
    /// u32 so that handing out alias 65,535 cannot wrap.
    next: u32,
}

impl OutboundAliases {
    pub(super) fn reset(&mut self, max: u16) {
        self.assigned.clear();
        self.max = max;
        self.next = 1;
    }

    /// Rewrites a PUBLISH about to be written: the first one on a topic
    /// carries topic and a new alias, later ones the alias and an empty topic.
    ///
    /// `fits` says whether a form is within the server's Maximum Packet
    /// Size. The publish was checked without an alias, so it goes out as it
    /// came whenever an alias would push it over: the first on a topic then
    /// assigns none (a later, smaller one will), and a topic shorter than
    /// the alias property keeps its topic.
    pub(super) fn apply(&mut self, publish: &mut Publish, fits: impl Fn(&Publish) -> bool) {
        if let Some(properties) = publish.properties.get_mut() {
            properties.topic_alias = None;
        }
        if self.max == 0 {
            return;
        }
        if let Some(&alias) = self.assigned.get(&publish.topic) {
            let topic = std::mem::take(&mut publish.topic);
            publish.properties.topic_alias = Some(alias);
            if !fits(publish) {
                publish.topic = topic;
                publish.properties.topic_alias = None;
            }
        } else if self.next <= u32::from(self.max) {
            if let Some(alias) = u16::try_from(self.next).ok().and_then(NonZeroU16::new) {
                publish.properties.topic_alias = Some(alias);
                if fits(publish) {
                    self.assigned.insert(publish.topic.clone(), alias);
                    self.next += 1;
                } else {
                    publish.properties.topic_alias = None;
                }
            }
        }
    }
}

/// Hashes our own topics eight bytes per step (multiply-rotate, as in
/// rustc's FxHash). The lookup runs for every PUBLISH sent; the topics are
/// the application's, so SipHash's resistance to chosen keys buys nothing.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct TopicHasher(u64);

const SEED: u64 = 0x51_7C_C1_B7_27_22_0A_95;

impl TopicHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for TopicHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some((word, tail)) = rest.split_first_chunk::<8>() {
            self.add(u64::from_le_bytes(*word));
            rest = tail;
        }
        let mut last = [0u8; 8];
        last.iter_mut().zip(rest).for_each(|(l, &b)| *l = b);
        self.add(u64::from_le_bytes(last));
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}
