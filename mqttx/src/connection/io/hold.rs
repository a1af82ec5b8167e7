//! When a publisher held by its in-flight window reads its
//! acknowledgements: as each one lands, or after a hold of a few hundred
//! microseconds that lets them pile up.
//!
//! A broker acknowledges one message at a time (mosquitto writes one
//! PUBACK per turn of its event loop), so a publisher that reads each as it
//! lands wakes once per message, and every wake costs a system call to
//! wait, one to read and, since the freed slot is refilled at once, one to
//! write. When every slot of the window is taken and more publishes wait
//! behind it, nothing is lost by reading later, as long as the broker still
//! has unacknowledged messages to work on when we do: holding each read
//! back by a fraction of the time the broker needs for the whole window
//! turns a wake per message into a wake per few dozen.
//!
//! The hold adapts to the broker's pace: a hold that brought most of the
//! window's acknowledgements nearly let the broker run dry, so the next one
//! is halved; one that brought a quarter or less is doubled, up to
//! [`MAX_HOLD`]. The decision is made here, without sockets or timers.
//!
//! Only a window of at least [`MIN_WINDOW`] is held. The benchmark's
//! configuration matrix (BENCHMARKS.md) measured the hold at windows of
//! 20, 100 and 1,000: at 1,000 it halved the client's CPU per message at
//! the same rate or better; at 100 it still halved the CPU but cost up to
//! a third of the rate, and at 20 against a broker with Nagle's algorithm
//! on it cut the rate to a fifth: the broker, out of work, holds its next
//! acknowledgement back for our TCP ACK while we hold our read for it.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use crate::packet::Packet;

/// The longest hold: the added wait of a message's acknowledgement.
pub(super) const MAX_HOLD: Duration = Duration::from_micros(500);
/// The shortest hold: below it a hold saves no wake-ups.
const MIN_HOLD: Duration = Duration::from_micros(50);
/// The smallest window that is held: a broker acknowledging 100,000
/// messages a second needs 5 ms for it, ten times [`MAX_HOLD`], so a hold
/// never leaves it without work.
pub(super) const MIN_WINDOW: u32 = 500;

/// The in-flight window while it is full with publishes waiting behind it,
/// set by the connection after each turn; zero otherwise.
#[derive(Debug, Clone, Default)]
pub(in crate::connection) struct WindowBound(Rc<Cell<u32>>);

impl WindowBound {
    /// Records the window after a turn: bound while every slot is taken
    /// and publishes wait behind it.
    pub(in crate::connection) fn update(&self, inflight: usize, window: usize, queued: usize) {
        self.set((queued > 0 && inflight >= window).then_some(window));
    }

    fn set(&self, window: Option<usize>) {
        let window = window.map_or(0, |w| u32::try_from(w).unwrap_or(u32::MAX));
        self.0.set(window);
    }

    fn window(&self) -> Option<u32> {
        Some(self.0.get()).filter(|&w| w > 0)
    }
}

/// The acknowledgement hold of one connection.
#[derive(Debug)]
pub(super) struct AckHold {
    enabled: bool,
    bound: WindowBound,
    hold: Duration,
    /// Whether the reads since the last drain followed a hold.
    held: bool,
    /// Acknowledgements (PUBACK, PUBREC, PUBCOMP) decoded since then.
    acks: u32,
}

impl AckHold {
    pub(super) fn new(enabled: bool, bound: WindowBound) -> Self {
        AckHold {
            enabled,
            bound,
            hold: MAX_HOLD,
            held: false,
            acks: 0,
        }
    }

    /// Notes a packet the reader decoded.
    #[inline]
    pub(super) fn packet(&mut self, packet: &Packet) {
        if matches!(packet, Packet::PubAck(_) | Packet::PubRec(_) | Packet::PubComp(_)) {
            self.acks = self.acks.saturating_add(1);
        }
    }

    /// The socket was found empty after reading. Returns how long to hold
    /// the next read back, if at all.
    pub(super) fn drained(&mut self) -> Option<Duration> {
        let acks = std::mem::take(&mut self.acks);
        let held = std::mem::take(&mut self.held);
        let window = self.bound.window().filter(|&w| self.enabled && w >= MIN_WINDOW)?;
        if held {
            self.adapt(acks, window);
        }
        self.held = true;
        Some(self.hold)
    }

    /// The hold the next drain asks for, as adapted so far.
    #[cfg(test)]
    pub(super) fn current(&self) -> Duration {
        self.hold
    }

    fn adapt(&mut self, acks: u32, window: u32) {
        if u64::from(acks) * 4 >= u64::from(window) * 3 {
            self.hold = (self.hold / 2).max(MIN_HOLD);
        } else if u64::from(acks) * 4 <= u64::from(window) {
            self.hold = (self.hold * 2).min(MAX_HOLD);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU16;

    use bytes::Bytes;

    use super::*;
    use crate::packet::{PubAck, PubComp, PubRec, Publish};

    fn puback() -> Packet {
        Packet::PubAck(PubAck::new(NonZeroU16::MIN))
    }

    fn hold(window: Option<usize>) -> (AckHold, WindowBound) {
        let bound = WindowBound::default();
        bound.set(window);
        (AckHold::new(true, bound.clone()), bound)
    }

    /// Reads that brought `n` of `packet`, then the drain.
    fn drain_after(h: &mut AckHold, n: u32, packet: fn() -> Packet) -> Option<Duration> {
        for _ in 0..n {
            h.packet(&packet());
        }
        h.drained()
    }

    #[test]
    fn a_window_bound_publisher_holds_its_reads() {
        let (mut h, _) = hold(Some(1000));
        assert_eq!(drain_after(&mut h, 1, puback), Some(MAX_HOLD));
        assert_eq!(drain_after(&mut h, 40, puback), Some(MAX_HOLD));
    }

    #[test]
    fn a_publisher_with_room_in_its_window_reads_at_once() {
        let (mut h, bound) = hold(None);
        assert_eq!(drain_after(&mut h, 1, puback), None);
        bound.set(Some(1000));
        assert!(drain_after(&mut h, 1, puback).is_some());
        bound.set(None);
        assert_eq!(drain_after(&mut h, 100, puback), None);
    }

    #[test]
    fn the_window_is_bound_while_full_with_publishes_waiting() {
        let bound = WindowBound::default();
        bound.update(100, 100, 1);
        assert_eq!(bound.window(), Some(100));
        bound.update(99, 100, 500);
        assert_eq!(bound.window(), None, "a free slot");
        bound.update(100, 100, 0);
        assert_eq!(bound.window(), None, "nothing waiting");
        // A server's smaller Receive Maximum counts as the window.
        bound.update(120, 20, 5);
        assert_eq!(bound.window(), Some(20));
    }

    #[test]
    fn a_window_below_the_minimum_is_never_held() {
        let (mut h, bound) = hold(Some(MIN_WINDOW as usize - 1));
        assert_eq!(drain_after(&mut h, 1, puback), None);
        assert_eq!(drain_after(&mut h, 20, puback), None);
        bound.set(Some(MIN_WINDOW as usize));
        assert_eq!(drain_after(&mut h, 1, puback), Some(MAX_HOLD));
    }

    #[test]
    fn turned_off_it_never_holds() {
        let bound = WindowBound::default();
        bound.set(Some(1000));
        let mut h = AckHold::new(false, bound);
        assert_eq!(drain_after(&mut h, 50, puback), None);
    }

    #[test]
    fn a_hold_that_nearly_drained_the_window_is_halved_down_to_the_floor() {
        let (mut h, _) = hold(Some(1000));
        assert_eq!(drain_after(&mut h, 1, puback), Some(MAX_HOLD));
        assert_eq!(drain_after(&mut h, 800, puback), Some(MAX_HOLD / 2));
        assert_eq!(drain_after(&mut h, 750, puback), Some(MAX_HOLD / 4));
        let mut last = None;
        for _ in 0..10 {
            last = drain_after(&mut h, 1000, puback);
        }
        assert_eq!(last, Some(MIN_HOLD));
    }

    #[test]
    fn a_hold_that_brought_little_is_doubled_up_to_the_ceiling() {
        let (mut h, _) = hold(Some(1000));
        drain_after(&mut h, 1, puback);
        drain_after(&mut h, 900, puback);
        assert_eq!(drain_after(&mut h, 900, puback), Some(MAX_HOLD / 4));
        assert_eq!(
            drain_after(&mut h, 500, puback),
            Some(MAX_HOLD / 4),
            "in between: kept"
        );
        assert_eq!(drain_after(&mut h, 250, puback), Some(MAX_HOLD / 2));
        assert_eq!(drain_after(&mut h, 30, puback), Some(MAX_HOLD));
        assert_eq!(drain_after(&mut h, 0, puback), Some(MAX_HOLD));
    }

    #[test]
    fn only_acknowledgements_count() {
        let (mut h, _) = hold(Some(800));
        drain_after(&mut h, 1, puback);
        let publish = || Packet::Publish(Publish::new("t", Bytes::from_static(b"x")));
        assert_eq!(
            drain_after(&mut h, 800, publish),
            Some(MAX_HOLD),
            "publishes are no acks"
        );
        let pubrec = || Packet::PubRec(PubRec::new(NonZeroU16::MIN));
        let pubcomp = || Packet::PubComp(PubComp::new(NonZeroU16::MIN));
        drain_after(&mut h, 300, pubrec);
        assert_eq!(drain_after(&mut h, 600, pubcomp), Some(MAX_HOLD / 2));
    }
}
