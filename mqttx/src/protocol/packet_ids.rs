//! Packet identifiers: which are in use, the cyclic allocator, and a map
//! keyed by them.
//!
//! A 65,536-bit bitmap (8 KiB) answers "in use?" in O(1) for any window
//! size and finds the next free id a 64-bit word at a time, so even a full
//! 65,535-id window never scans id by id. It is allocated on the first
//! insert: an idle connection holds three of these sets, and 24 KiB of
//! zeros would be most of what it costs.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::packet::PacketId;

const WORDS: usize = 65_536 / 64;

/// A set of packet identifiers.
#[derive(Debug, Clone, Default)]
pub(super) struct IdSet {
    /// Empty until the first insert, then `WORDS` long.
    bits: Box<[u64]>,
    len: usize,
}

fn locate(id: PacketId) -> (usize, u64) {
    let id = id.get();
    (usize::from(id / 64), 1 << (id % 64))
}

impl IdSet {
    pub(super) fn contains(&self, id: PacketId) -> bool {
        let (word, mask) = locate(id);
        self.bits.get(word).is_some_and(|bits| bits & mask != 0)
    }

    /// Returns false when `id` was already in the set.
    pub(super) fn insert(&mut self, id: PacketId) -> bool {
        if self.bits.is_empty() {
            self.bits = vec![0; WORDS].into_boxed_slice();
        }
        let (word, mask) = locate(id);
        match self.bits.get_mut(word) {
            Some(bits) if *bits & mask == 0 => {
                *bits |= mask;
                self.len += 1;
                true
            }
            _ => false,
        }
    }

    /// Returns false when `id` was not in the set.
    pub(super) fn remove(&mut self, id: PacketId) -> bool {
        let (word, mask) = locate(id);
        match self.bits.get_mut(word) {
            Some(bits) if *bits & mask != 0 => {
                *bits &= !mask;
                self.len -= 1;
                true
            }
            _ => false,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn clear(&mut self) {
        if self.len > 0 {
            self.bits.fill(0);
            self.len = 0;
        }
    }

    /// The first id not in the set at or after `from`, wrapping past 65,535 to 1.
    fn next_free(&self, from: PacketId) -> Option<PacketId> {
        if self.len >= usize::from(u16::MAX) {
            return None;
        }
        let start = usize::from(from.get());
        let mut word = start / 64;
        let mut mask = u64::MAX << (start % 64);
        // One extra turn revisits the starting word's low bits after wrapping.
        for _ in 0..=WORDS {
            // Bit 0 stands for id 0, which MQTT forbids: never free.
            let zero = u64::from(word == 0);
            // A word not allocated yet holds no id.
            let used = self.bits.get(word).copied().unwrap_or(0) | zero;
            let free = !used & mask;
            if free != 0 {
                let id = word * 64 + free.trailing_zeros() as usize;
                return u16::try_from(id).ok().and_then(PacketId::new);
            }
            word = (word + 1) % WORDS;
            mask = u64::MAX;
        }
        None
    }
}

/// Hands out packet identifiers cyclically (1, 2, ..., 65535, 1, ...),
/// skipping those still in use.
///
/// Cycling rather than reusing the lowest free id keeps a just-released id
/// out of circulation as long as possible, so a late duplicate
/// acknowledgement (a 3.1.1 retry crossing a PUBACK) rarely finds it reused.
#[derive(Debug, Clone)]
pub(super) struct PacketIds {
    used: IdSet,
    next: PacketId,
}

impl Default for PacketIds {
    fn default() -> Self {
        PacketIds {
            used: IdSet::default(),
            next: PacketId::MIN,
        }
    }
}

impl PacketIds {
    /// A free id, now marked in use; `None` when all 65,535 are taken.
    pub(super) fn alloc(&mut self) -> Option<PacketId> {
        let id = self.used.next_free(self.next)?;
        self.used.insert(id);
        self.next = PacketId::new(id.get().wrapping_add(1)).unwrap_or(PacketId::MIN);
        Some(id)
    }

    /// Marks `id` in use (a session restored from a store); `false` when
    /// it already was. Allocation carries on after the highest reserved id.
    pub(super) fn reserve(&mut self, id: PacketId) -> bool {
        if id >= self.next {
            self.next = PacketId::new(id.get().wrapping_add(1)).unwrap_or(PacketId::MIN);
        }
        self.used.insert(id)
    }

    pub(super) fn release(&mut self, id: PacketId) {
        self.used.remove(id);
    }

    #[cfg(test)]
    pub(super) fn in_use(&self) -> usize {
        self.used.len()
    }

    #[cfg(test)]
    pub(super) fn is_used(&self, id: PacketId) -> bool {
        self.used.contains(id)
    }
}

/// Hashes a packet id with one multiplication (Fibonacci hashing): ids are
/// small consecutive integers from our own allocator, so SipHash's
/// flood resistance buys nothing, and the multiply spreads them over the
/// high bits the table uses for its control bytes.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct IdHasher(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*byte)).wrapping_mul(GOLDEN);
        }
    }

    fn write_u16(&mut self, n: u16) {
        self.0 = u64::from(n).wrapping_mul(GOLDEN);
    }
}

/// A map keyed by packet id: O(1) acknowledgement lookup whatever the
/// window size, memory proportional to what is in flight.
pub(super) type IdMap<V> = HashMap<PacketId, V, BuildHasherDefault<IdHasher>>;
