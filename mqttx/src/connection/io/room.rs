//! How much room the reader makes in its buffer before a read: little
//! for a connection that reads a few packets at a time, more for a dense
//! stream, so that one system call takes in what a pause let pile up.
//!
//! A fixed 8 KiB cost a dense QoS 0 stream against a broker with
//! TCP_NODELAY up to half again the client's CPU per message next to
//! 64 KiB (BENCHMARKS.md, the configuration matrix, run 4). A fixed
//! 64 KiB would make every sparse connection allocate 64 KiB per wake, and
//! a payload kept by the application pins the buffer it was read into.
//! So the room starts at [`START`], doubles while reads fill all the room
//! they are offered, and halves when a burst of reads (until the socket is
//! found empty) brought less than a quarter of it. The decision is made
//! here, without sockets.

/// The room a connection starts with, and never shrinks below.
pub(super) const START: usize = 8 * 1024;

#[derive(Debug)]
pub(super) struct ReadRoom {
    room: usize,
    /// The most room made (`ConnectOptions::read_buffer`).
    max: usize,
    /// Bytes read since the socket was last found empty.
    burst: usize,
}

impl ReadRoom {
    pub(super) fn new(max: usize) -> Self {
        ReadRoom {
            room: START.min(max),
            max,
            burst: 0,
        }
    }

    /// The room to make before the next read.
    pub(super) fn get(&self) -> usize {
        self.room
    }

    /// A read brought `got` bytes; `filled` when that was all the room it
    /// was offered (so more may have been waiting).
    pub(super) fn read(&mut self, got: usize, filled: bool) {
        self.burst = self.burst.saturating_add(got);
        if filled {
            self.room = self.room.saturating_mul(2).min(self.max);
        }
    }

    /// The socket was found empty: the burst is over.
    pub(super) fn drained(&mut self) {
        if self.burst.saturating_mul(4) < self.room {
            self.room = (self.room / 2).max(START.min(self.max));
        }
        self.burst = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 64 * 1024;

    #[test]
    fn reads_that_fill_their_room_double_it_up_to_the_most() {
        let mut room = ReadRoom::new(MAX);
        assert_eq!(room.get(), START);
        room.read(START, true);
        assert_eq!(room.get(), 2 * START);
        room.read(2 * START, false);
        assert_eq!(room.get(), 2 * START, "a read with room to spare");
        for _ in 0..10 {
            room.read(room.get(), true);
        }
        assert_eq!(room.get(), MAX);
    }

    #[test]
    fn a_burst_that_brought_under_a_quarter_halves_it_down_to_the_start() {
        let mut room = ReadRoom::new(MAX);
        for _ in 0..3 {
            room.read(room.get(), true);
        }
        assert_eq!(room.get(), MAX);
        room.drained();
        assert_eq!(room.get(), MAX, "the burst that grew it");
        room.read(MAX / 4, false);
        room.drained();
        assert_eq!(room.get(), MAX, "a quarter keeps it");
        room.read(MAX / 8, false);
        room.read(MAX / 8 - 1, false);
        room.drained();
        assert_eq!(room.get(), MAX / 2, "a burst of reads counts as a whole");
        for _ in 0..10 {
            room.read(4, false);
            room.drained();
        }
        assert_eq!(room.get(), START);
    }

    #[test]
    fn a_most_below_the_start_is_the_room_throughout() {
        let mut room = ReadRoom::new(2048);
        assert_eq!(room.get(), 2048);
        room.read(2048, true);
        assert_eq!(room.get(), 2048);
        room.drained();
        room.drained();
        assert_eq!(room.get(), 2048);
    }
}
