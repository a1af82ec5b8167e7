//! A counting global allocator for the crate's own tests: how many bytes
//! the current thread holds, the most it held, and how many allocations it
//! made, so a test can show that memory stays bounded (or that a path
//! allocates nothing) rather than assume it.
//!
//! Counts are per thread because tests run in parallel in one process
//! under `cargo test`: another test's allocations must not show up in this
//! one's figures. An actix test runs its actors on the test's own thread,
//! so what the connection allocates is counted too. A block freed on
//! another thread than the one that made it lowers that other thread's
//! count, which is why the figures are signed.
//!
//! ```ignore
//! let usage = test_alloc::Usage::start();
//! // ... work ...
//! assert!(usage.peak() < 64 * 1024, "{usage}");
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting.
pub(crate) struct Counting;

#[global_allocator]
static COUNTING: Counting = Counting;

thread_local! {
    // `const` initialisers: no lazy initialisation, hence no allocation and
    // no destructor registration inside the allocator itself.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Adds `bytes` (negative when freed) to the thread's live count; counts an
/// allocation when `allocation` is set. Silent once the thread's locals are
/// gone (at thread exit), where counting no longer matters.
fn record(bytes: isize, allocation: bool) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(bytes);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
    if allocation {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
    }
}

fn signed(size: usize) -> isize {
    isize::try_from(size).unwrap_or(isize::MAX)
}

// SAFETY: every call is passed unchanged to the system allocator; the
// bookkeeping around it touches only const-initialised thread-locals, which
// neither allocate nor run destructors.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            record(signed(layout.size()), true);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(signed(layout.size()), true);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) };
        record(-signed(layout.size()), false);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record(signed(new_size) - signed(layout.size()), true);
        }
        new
    }
}

/// What the current thread allocated from [`Usage::start`] on.
#[derive(Debug)]
pub(crate) struct Usage {
    live_at_start: isize,
    allocations_at_start: u64,
}

impl Usage {
    /// Starts measuring on the current thread: the peak starts over from
    /// what the thread holds now.
    pub(crate) fn start() -> Usage {
        let live = LIVE.with(Cell::get);
        PEAK.with(|peak| peak.set(live));
        Usage {
            live_at_start: live,
            allocations_at_start: ALLOCATIONS.with(Cell::get),
        }
    }

    /// Bytes held now beyond what was held at the start.
    pub(crate) fn live(&self) -> isize {
        LIVE.with(Cell::get) - self.live_at_start
    }

    /// The most bytes held at once since the start, beyond what was held
    /// at the start.
    pub(crate) fn peak(&self) -> isize {
        PEAK.with(Cell::get) - self.live_at_start
    }

    /// Allocations (and reallocations) made since the start.
    pub(crate) fn allocations(&self) -> u64 {
        ALLOCATIONS.with(Cell::get) - self.allocations_at_start
    }
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "peak {} B, live {} B, {} allocations",
            self.peak(),
            self.live(),
            self.allocations()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Usage;

    #[test]
    fn counts_what_this_thread_holds_and_its_peak() {
        let usage = Usage::start();
        let block = vec![0u8; 100_000];
        assert!(usage.live() >= 100_000, "{usage}");
        drop(block);
        assert!(usage.live() < 1_000, "freed: {usage}");
        assert!(usage.peak() >= 100_000, "the peak stays: {usage}");
        assert!(usage.allocations() >= 1, "{usage}");
    }

    #[test]
    fn another_threads_allocations_are_not_counted() {
        let usage = Usage::start();
        let held = std::thread::spawn(|| vec![0u8; 1_000_000].len())
            .join()
            .unwrap_or_default();
        assert_eq!(held, 1_000_000);
        assert!(usage.peak() < 100_000, "{usage}");
    }
}
