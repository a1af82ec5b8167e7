//! The soak's samples of the test process: RSS, the bytes its heap holds
//! live, and open file descriptors, every 10 s, written to `MQTTX_SOAK_CSV`
//! when it is set. RSS alone cannot tell a leak from an allocator that
//! keeps freed pages: the live heap can.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, counting the bytes allocated and not yet freed.
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is passed to the system allocator unchanged; the
// counter is only arithmetic beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

const EVERY: Duration = Duration::from_secs(10);

/// One sample.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Since the soak started.
    pub at: Duration,
    /// Resident set size.
    pub rss_kib: u64,
    /// Bytes allocated on the heap and not freed.
    pub heap_kib: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Connections the proxy had cut by then.
    pub cuts: u64,
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>6.0} s  RSS {:>7} KiB  heap {:>7} KiB  fds {:>4}  cuts {:>5}",
            self.at.as_secs_f64(),
            self.rss_kib,
            self.heap_kib,
            self.fds,
            self.cuts
        )
    }
}

pub struct Sampler {
    start: Instant,
    next: Instant,
    samples: Vec<Sample>,
}

impl Sampler {
    pub fn new(start: Instant) -> Self {
        Sampler {
            start,
            next: start,
            samples: Vec::new(),
        }
    }

    pub fn next_due(&self) -> Instant {
        self.next
    }

    pub fn sample_if_due(&mut self, cuts: u64) {
        if Instant::now() >= self.next {
            self.sample(cuts);
            self.next += EVERY;
        }
    }

    pub fn sample(&mut self, cuts: u64) {
        self.samples.push(Sample {
            at: self.start.elapsed(),
            rss_kib: rss_kib(),
            heap_kib: (LIVE.load(Ordering::Relaxed).max(0) / 1024) as u64,
            fds: open_fds(),
            cuts,
        });
    }

    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// `seconds,rss_kib,heap_kib,fds,cuts` per line, for `tests/soak/plot.py`.
    pub fn write_csv(&self) {
        let Ok(path) = std::env::var("MQTTX_SOAK_CSV") else {
            return;
        };
        let mut csv = String::from("seconds,rss_kib,fds,cuts\n");
        for s in &self.samples {
            csv.push_str(&format!(
                "{:.1},{},{},{}\n",
                s.at.as_secs_f64(),
                s.rss_kib,
                s.fds,
                s.cuts
            ));
        }
        if let Err(err) = std::fs::write(&path, csv) {
            eprintln!("could not write {path}: {err}");
        }
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count() as u64)
}
