//! When to read the socket: at once, or after a pause that lets a dense
//! stream of messages arrive in large TCP segments (see
//! [`ConnectOptions::coalesce_reads`](crate::ConnectOptions::coalesce_reads)).
//!
//! A broker that leaves Nagle's algorithm on (mosquitto does) sends its
//! next message as soon as our ACK of the last one arrives, and Linux sends
//! that ACK as soon as we drain the socket. A client that reads everything
//! the moment it lands therefore gets one TCP segment per message, and
//! both processes pay the kernel's per-segment cost for every message.
//! Pausing between reads lets the broker's writes pile up behind the
//! unacknowledged segment and arrive a few hundred at a time.
//!
//! A pause must not throttle a QoS 1 or 2 stream: a broker sends at most
//! its in-flight window of unacknowledged messages (mosquitto's default is
//! 20), and a paused reader acknowledges nothing new until it reads. A
//! window-bound stream gives itself away by bringing exactly the same
//! number of messages pause after pause; such a connection goes back to
//! reading at once for good.
//!
//! A QoS 2 message is delivered when its PUBLISH is read, so a pause
//! delays its delivery no more than a QoS 0 one's; what it stretches is the
//! rest of the flow (PUBREC, PUBREL, PUBCOMP), by up to two pauses, during
//! which the broker keeps the message's state.
//!
//! The decision is made here, without sockets or timers: the reader
//! reports the packets it decodes and each time it finds the socket empty,
//! and asks whether to pause before the next read.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::packet::{Packet, QoS};

/// How long the reader pauses between reads of a dense stream.
pub(super) const PAUSE: Duration = Duration::from_millis(1);

/// Pausing starts once the socket has been drained this many times...
const DENSE_DRAINS: u32 = 16;
/// ...within this long: about 16,000 messages a second or more.
const DENSE_WINDOW: Duration = Duration::from_millis(1);
/// A pause that collected fewer messages than this ends pausing: the
/// stream has thinned out and each message may as well come at once.
const STILL_DENSE: u32 = 8;
/// Pauses in a row that brought the same number of QoS 1/2 messages
/// before the stream counts as held back by the broker's in-flight window.
/// A free stream's counts vary by a few dozen around their mean, so three
/// equal ones in a row turn up by chance within a few thousand pauses
/// (seconds of a dense stream); eight do not.
const WINDOW_BOUND_PAUSES: u32 = 8;

/// Raised by the link whenever it writes a PUBLISH. A connection that
/// publishes may be answering what it reads (request/response), where a
/// pause would add to every round trip, so it always reads at once.
#[derive(Debug, Clone, Default)]
pub(super) struct Publishing(Rc<Cell<bool>>);

impl Publishing {
    pub(super) fn mark(&self) {
        self.0.set(true);
    }

    fn take(&self) -> bool {
        self.0.replace(false)
    }

    #[cfg(test)]
    pub(super) fn is_marked(&self) -> bool {
        self.0.get()
    }
}

/// The read pacing of one connection.
#[derive(Debug)]
pub(super) struct ReadPacing {
    enabled: bool,
    publishing: Publishing,
    paused: bool,
    /// When the current count of drains began, while reading at once.
    window_start: Option<Instant>,
    drains: u32,
    /// Messages decoded since the socket was last found empty, and how
    /// many of them await our acknowledgement (QoS 1 and 2).
    messages: u32,
    acked: u32,
    /// Whether a control packet was decoded since then (PUBREL, part of a
    /// QoS 2 stream, does not count).
    other: bool,
    /// The acknowledged count of the last pause, and how many pauses in a
    /// row brought exactly that many.
    last_acked: u32,
    same_acked: u32,
    /// Set once a stream looked bound by the broker's window.
    window_bound: bool,
}

impl ReadPacing {
    pub(super) fn new(enabled: bool, publishing: Publishing) -> Self {
        ReadPacing {
            enabled,
            publishing,
            paused: false,
            window_start: None,
            drains: 0,
            messages: 0,
            acked: 0,
            other: false,
            last_acked: 0,
            same_acked: 0,
            window_bound: false,
        }
    }

    /// Notes a packet the reader decoded.
    #[inline]
    pub(super) fn packet(&mut self, packet: &Packet) {
        // Saturating: a server that never lets the socket empty keeps one
        // drain going for as long as it likes.
        match packet {
            Packet::Publish(p) if p.qos == QoS::AtMostOnce => self.messages = self.messages.saturating_add(1),
            Packet::Publish(_) => {
                self.messages = self.messages.saturating_add(1);
                self.acked = self.acked.saturating_add(1);
            }
            Packet::PubRel(_) => {}
            _ => self.other = true,
        }
    }

    /// Whether the reader should be told when the socket is found empty
    /// without having read anything: only after a pause, which then ends.
    pub(super) fn is_pausing(&self) -> bool {
        self.paused
    }

    /// The socket was found empty. Returns whether to pause for [`PAUSE`]
    /// before reading again. `now` is read only while counting drains.
    pub(super) fn drained(&mut self, now: impl FnOnce() -> Instant) -> bool {
        let messages = std::mem::take(&mut self.messages);
        let acked = std::mem::take(&mut self.acked);
        let other = std::mem::take(&mut self.other);
        let published = self.publishing.take();
        if !self.enabled || self.window_bound || other || published {
            self.read_at_once();
            return false;
        }
        if self.paused {
            if self.looks_window_bound(acked) {
                self.window_bound = true;
                self.read_at_once();
                return false;
            }
            if messages >= STILL_DENSE {
                return true;
            }
            self.read_at_once();
            return false;
        }
        let now = now();
        match self.window_start {
            Some(start) if now.saturating_duration_since(start) <= DENSE_WINDOW => {
                self.drains += 1;
                if self.drains >= DENSE_DRAINS {
                    self.paused = true;
                    self.window_start = None;
                }
            }
            _ => {
                self.window_start = Some(now);
                self.drains = 1;
            }
        }
        self.paused
    }

    /// Whether this pause brought as many acknowledged messages as each of
    /// the pauses just before it.
    fn looks_window_bound(&mut self, acked: u32) -> bool {
        if acked > 0 && acked == self.last_acked {
            self.same_acked += 1;
        } else {
            self.same_acked = 1;
        }
        self.last_acked = acked;
        self.same_acked >= WINDOW_BOUND_PAUSES
    }

    fn read_at_once(&mut self) {
        self.paused = false;
        self.window_start = None;
        self.drains = 0;
        self.last_acked = 0;
        self.same_acked = 0;
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::packet::{PacketId, PubRel, Publish};

    fn publish(qos: QoS) -> Packet {
        let p = Publish::new("t", Bytes::from_static(b"x")).qos(qos);
        Packet::Publish(if qos == QoS::AtMostOnce { p } else { p.packet_id(1) })
    }

    fn qos0() -> Packet {
        publish(QoS::AtMostOnce)
    }

    fn qos1() -> Packet {
        publish(QoS::AtLeastOnce)
    }

    fn qos2() -> Packet {
        publish(QoS::ExactlyOnce)
    }

    /// Drains `n` times, one packet each, `gap` apart from `start`;
    /// returns whether the last drain asked for a pause.
    fn stream(p: &mut ReadPacing, start: Instant, n: u32, gap: Duration, packet: fn() -> Packet) -> bool {
        let mut pause = false;
        for i in 0..n {
            p.packet(&packet());
            pause = p.drained(|| start + gap * i);
        }
        pause
    }

    /// One pause that brought `n` of `packet`; returns whether pausing goes on.
    fn pause_bringing(p: &mut ReadPacing, n: u32, packet: fn() -> Packet) -> bool {
        for _ in 0..n {
            p.packet(&packet());
        }
        p.drained(|| unreachable!("no clock is read while pausing"))
    }

    fn pacing() -> (ReadPacing, Publishing) {
        let publishing = Publishing::default();
        (ReadPacing::new(true, publishing.clone()), publishing)
    }

    #[test]
    fn a_dense_qos0_stream_pauses_after_sixteen_drains_in_a_millisecond() {
        let (mut p, _) = pacing();
        let start = Instant::now();
        assert!(!stream(
            &mut p,
            start,
            DENSE_DRAINS - 1,
            Duration::from_micros(10),
            qos0
        ));
        assert!(!p.is_pausing());
        p.packet(&qos0());
        assert!(p.drained(|| start + Duration::from_micros(200)));
        assert!(p.is_pausing());
    }

    #[test]
    fn a_sparse_stream_is_read_at_once() {
        let (mut p, _) = pacing();
        // 1,000 messages a second: one drain per millisecond window.
        assert!(!stream(
            &mut p,
            Instant::now(),
            100,
            Duration::from_millis(1),
            qos0
        ));
        // 10,000 a second: 10 drains per window, under the threshold.
        assert!(!stream(
            &mut p,
            Instant::now(),
            100,
            Duration::from_micros(101),
            qos0
        ));
    }

    #[test]
    fn pausing_goes_on_while_each_pause_collects_enough_and_ends_when_it_does_not() {
        let (mut p, _) = pacing();
        assert!(stream(&mut p, Instant::now(), DENSE_DRAINS, Duration::ZERO, qos0));
        assert!(pause_bringing(&mut p, STILL_DENSE, qos0));
        for _ in 0..STILL_DENSE - 1 {
            p.packet(&qos0());
        }
        assert!(!p.drained(Instant::now));
        assert!(!p.is_pausing());
        // And counting starts again from nothing.
        assert!(!stream(
            &mut p,
            Instant::now(),
            DENSE_DRAINS - 1,
            Duration::ZERO,
            qos0
        ));
    }

    #[test]
    fn a_pause_that_found_nothing_ends_pausing() {
        let (mut p, _) = pacing();
        assert!(stream(&mut p, Instant::now(), DENSE_DRAINS, Duration::ZERO, qos0));
        assert!(!p.drained(Instant::now));
        assert!(!p.is_pausing());
    }

    #[test]
    fn a_dense_qos1_stream_pauses_while_its_counts_vary() {
        let (mut p, _) = pacing();
        assert!(stream(&mut p, Instant::now(), DENSE_DRAINS, Duration::ZERO, qos1));
        for n in [120, 131, 131, 118, 140, 140, 125] {
            assert!(pause_bringing(&mut p, n, qos1), "{n}");
        }
    }

    #[test]
    fn a_qos1_stream_held_by_the_brokers_window_is_read_at_once_for_good() {
        let (mut p, _) = pacing();
        assert!(stream(&mut p, Instant::now(), DENSE_DRAINS, Duration::ZERO, qos1));
        // mosquitto's default window: 20 unacknowledged messages, every pause.
        for _ in 1..WINDOW_BOUND_PAUSES {
            assert!(pause_bringing(&mut p, 20, qos1));
        }
        assert!(!pause_bringing(&mut p, 20, qos1));
        assert!(!p.is_pausing());
        // However dense the stream gets from now on.
        assert!(!stream(&mut p, Instant::now(), 1_000, Duration::ZERO, qos1));
        assert!(!stream(&mut p, Instant::now(), 1_000, Duration::ZERO, qos0));
    }

    #[test]
    fn equal_qos0_counts_are_no_sign_of_a_window() {
        let (mut p, _) = pacing();
        assert!(stream(&mut p, Instant::now(), DENSE_DRAINS, Duration::ZERO, qos0));
        for _ in 0..10 {
            assert!(pause_bringing(&mut p, 20, qos0));
        }
    }

    fn pubrel() -> Packet {
        Packet::PubRel(PubRel::new(PacketId::MIN))
    }

    #[test]
    fn a_dense_qos2_stream_with_its_pubrels_pauses() {
        let (mut p, _) = pacing();
        assert!(stream(&mut p, Instant::now(), DENSE_DRAINS, Duration::ZERO, qos2));
        for n in [60, 71, 58] {
            for _ in 0..n {
                p.packet(&qos2());
                p.packet(&pubrel());
            }
            assert!(
                p.drained(|| unreachable!("no clock is read while pausing")),
                "{n}"
            );
        }
        // PUBRELs alone are no stream of messages.
        assert!(!pause_bringing(&mut p, 100, pubrel));
    }

    #[test]
    fn a_qos2_stream_held_by_the_brokers_window_is_read_at_once_for_good() {
        let (mut p, _) = pacing();
        assert!(stream(&mut p, Instant::now(), DENSE_DRAINS, Duration::ZERO, qos2));
        for _ in 1..WINDOW_BOUND_PAUSES {
            assert!(pause_bringing(&mut p, 20, qos2));
        }
        assert!(!pause_bringing(&mut p, 20, qos2));
        assert!(!stream(&mut p, Instant::now(), 1_000, Duration::ZERO, qos2));
    }

    /// Counts that happen to repeat a few times are not a window: in two
    /// benchmark runs of 200,000 messages, three equal counts in a row
    /// (134 and 144) turned up within the first thousand pauses.
    #[test]
    fn a_few_equal_counts_by_chance_do_not_end_pausing() {
        let (mut p, _) = pacing();
        assert!(stream(&mut p, Instant::now(), DENSE_DRAINS, Duration::ZERO, qos1));
        for n in [120, 134, 134, 134, 134, 134, 134, 134, 131, 144, 144, 144] {
            assert!(pause_bringing(&mut p, n, qos1), "{n}");
        }
    }

    #[test]
    fn control_packets_are_read_at_once() {
        let (mut p, _) = pacing();
        assert!(stream(&mut p, Instant::now(), DENSE_DRAINS, Duration::ZERO, qos0));
        p.packet(&qos0());
        p.packet(&Packet::PingResp);
        assert!(!p.drained(Instant::now));
        assert!(!p.is_pausing());
    }

    #[test]
    fn a_connection_that_publishes_reads_at_once() {
        let (mut p, publishing) = pacing();
        let start = Instant::now();
        for i in 0..100 {
            p.packet(&qos0());
            publishing.mark();
            assert!(!p.drained(|| start + Duration::from_micros(i)));
        }
        // One PUBLISH of ours also ends a pause under way.
        assert!(stream(&mut p, start, DENSE_DRAINS, Duration::ZERO, qos0));
        for _ in 0..STILL_DENSE {
            p.packet(&qos0());
        }
        publishing.mark();
        assert!(!p.drained(Instant::now));
    }

    #[test]
    fn turned_off_it_never_pauses() {
        let mut p = ReadPacing::new(false, Publishing::default());
        assert!(!stream(&mut p, Instant::now(), 1_000, Duration::ZERO, qos0));
    }
}
