//! Read and write buffers kept per thread for the connections running on
//! it.
//!
//! A connection holds a buffer only while it has bytes to move: going idle
//! it hands the buffer here instead of freeing it, and its next read or
//! write takes one back. Freeing and making an 8 KiB buffer at every idle
//! moment costs more than it looks: glibc serves such a request outside its
//! per-thread cache and first consolidates its small-chunk bins, which then
//! slows the small allocations around it (measured in BENCHMARKS.md). A few buffers per thread are enough for the
//! connections that are busy at once; the rest are freed, so 10,000 idle
//! connections hold none.

use std::cell::Cell;

use bytes::BytesMut;

/// Buffers kept per thread.
const KEPT: usize = 8;

/// A buffer larger than this is freed, not kept: one burst's big buffer
/// does not stay.
const MAX_KEPT_CAPACITY: usize = 64 * 1024;

thread_local! {
    static FREE: Cell<Vec<BytesMut>> = const { Cell::new(Vec::new()) };
}

/// An empty buffer with room for at least `room` bytes.
pub(super) fn take(room: usize) -> BytesMut {
    let kept = FREE
        .try_with(|free| {
            let mut list = free.take();
            let buf = list.pop();
            free.set(list);
            buf
        })
        .ok()
        .flatten();
    let mut buf = kept.unwrap_or_default();
    buf.reserve(room);
    buf
}

/// Takes back a buffer its holder no longer needs; its contents are dropped.
pub(super) fn give(mut buf: BytesMut) {
    buf.clear();
    if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_CAPACITY {
        return;
    }
    // During thread teardown the list may be gone: the buffer is just freed.
    let _ = FREE.try_with(move |free| {
        let mut list = free.take();
        if list.len() < KEPT {
            list.push(buf);
        }
        free.set(list);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many buffers this thread keeps (each test runs on its own thread).
    fn kept() -> usize {
        FREE.with(|free| {
            let list = free.take();
            let n = list.len();
            free.set(list);
            n
        })
    }

    #[test]
    fn a_given_buffer_is_taken_again() {
        let mut buf = take(8 * 1024);
        buf.extend_from_slice(b"stale");
        let ptr = buf.as_ptr();
        give(buf);
        let again = take(8 * 1024);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.is_empty());
        assert!(again.capacity() >= 8 * 1024);
    }

    #[test]
    fn a_big_buffer_is_freed() {
        give(BytesMut::with_capacity(MAX_KEPT_CAPACITY + 1));
        assert_eq!(kept(), 0);
    }

    #[test]
    fn at_most_kept_buffers_stay() {
        for _ in 0..KEPT + 4 {
            give(BytesMut::with_capacity(1024));
        }
        assert_eq!(kept(), KEPT);
    }
}

/// The pool as a link uses it: switched off, each buffer is made anew
/// and freed when idle.
#[derive(Debug, Clone, Copy)]
pub(super) struct Buffers {
    pub(super) pooled: bool,
}

impl Buffers {
    /// An empty buffer with room for at least `room` bytes.
    pub(super) fn take(self, room: usize) -> BytesMut {
        if self.pooled {
            take(room)
        } else {
            BytesMut::with_capacity(room)
        }
    }

    /// Done with `buf` for now.
    pub(super) fn give(self, buf: BytesMut) {
        if self.pooled {
            give(buf);
        }
    }
}
