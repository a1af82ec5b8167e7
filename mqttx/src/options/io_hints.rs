//! [`IoHints`]: when a connection reads and writes, beyond "as soon as it can".

/// The read and write tuning of a connection, one switch per decision.
///
/// Each one trades a little latency on a busy connection for fewer system
/// calls and TCP segments per message; none changes what is delivered.
/// [`IoHints::default`] turns on every switch, each kept by the
/// benchmark's configuration matrix (BENCHMARKS.md, "The configuration
/// matrix"); [`IoHints::OFF`] reads and writes everything the moment it
/// can.
///
/// ```
/// use mqttx::{ConnectOptions, IoHints};
///
/// let plain = ConnectOptions::new("localhost", "ticker").io_hints(IoHints::OFF);
/// let no_pacing = ConnectOptions::new("localhost", "feed").io_hints(IoHints::default().read_pacing(false));
/// # let _ = (plain, no_pacing);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct IoHints {
    /// Pause about a millisecond between reads of a dense stream of
    /// incoming messages, so that they arrive a few hundred to a TCP
    /// segment instead of one each. A connection that publishes, or whose
    /// stream the broker's in-flight window holds back, never pauses.
    pub read_pacing: bool,
    /// A publisher whose in-flight window of 500 or more is full, with
    /// publishes waiting behind it, reads its acknowledgements after a
    /// hold of 50–500 µs, so they are read in batches instead of one
    /// wake-up each (Linux only: it needs `timerfd`). Smaller windows are
    /// never held: the benchmark's configuration matrix measured a hold
    /// at a window of 20 cutting QoS 1 and 2 throughput to a fifth against
    /// a broker with Nagle's algorithm on (mosquitto's default), and at
    /// 100 costing up to a third; at 1,000 it halves the client's CPU per
    /// message at the same rate (BENCHMARKS.md, "The configuration
    /// matrix").
    pub ack_batching: bool,
    /// After reading an acknowledgement that nothing of ours answers, ask
    /// the kernel to send our TCP ACK at once: a broker with Nagle's
    /// algorithm on (mosquitto's default) otherwise holds a request's
    /// response back until the delayed ACK, up to 40 ms (Linux only).
    pub quick_ack: bool,
    /// What a read makes ready is written once the read's last buffered
    /// packet is handled: one write per read, not one per few packets.
    pub write_per_read: bool,
    /// What client commands make ready is written once the commands queued
    /// behind them are handled too (for at most sixteen turns of sixteen
    /// commands): one write per burst of publishes, not one per sixteen.
    pub write_per_burst: bool,
}

impl IoHints {
    /// Everything off: every read and write happens as soon as it can.
    pub const OFF: IoHints = IoHints {
        read_pacing: false,
        ack_batching: false,
        quick_ack: false,
        write_per_read: false,
        write_per_burst: false,
    };
}

impl IoHints {
    /// Sets [`read_pacing`](Self::read_pacing).
    pub fn read_pacing(mut self, on: bool) -> Self {
        self.read_pacing = on;
        self
    }

    /// Sets [`ack_batching`](Self::ack_batching).
    pub fn ack_batching(mut self, on: bool) -> Self {
        self.ack_batching = on;
        self
    }

    /// Sets [`quick_ack`](Self::quick_ack).
    pub fn quick_ack(mut self, on: bool) -> Self {
        self.quick_ack = on;
        self
    }

    /// Sets [`write_per_read`](Self::write_per_read).
    pub fn write_per_read(mut self, on: bool) -> Self {
        self.write_per_read = on;
        self
    }

    /// Sets [`write_per_burst`](Self::write_per_burst).
    pub fn write_per_burst(mut self, on: bool) -> Self {
        self.write_per_burst = on;
        self
    }
}

impl Default for IoHints {
    fn default() -> Self {
        IoHints {
            read_pacing: true,
            ack_batching: true,
            quick_ack: true,
            write_per_read: true,
            write_per_burst: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IoHints;
    use crate::ConnectOptions;

    /// The defaults the configuration matrix chose (BENCHMARKS.md, runs
    /// 3–5): every switch on; `ack_batching` limits itself to large windows.
    #[test]
    fn the_default_turns_every_switch_on() {
        let hints = IoHints::default();
        assert!(hints.read_pacing && hints.ack_batching && hints.quick_ack);
        assert!(hints.write_per_read && hints.write_per_burst);
        assert_eq!(ConnectOptions::new("h", "c").io_hints, hints);
    }

    #[test]
    fn coalesce_reads_turns_pacing_and_the_hold_together() {
        let off = ConnectOptions::new("h", "c").coalesce_reads(false).io_hints;
        assert!(!off.read_pacing && !off.ack_batching);
        assert!(off.quick_ack && off.write_per_read && off.write_per_burst);
        let on = ConnectOptions::new("h", "c")
            .io_hints(IoHints::OFF)
            .coalesce_reads(true)
            .io_hints;
        assert!(on.read_pacing && on.ack_batching);
    }
}
