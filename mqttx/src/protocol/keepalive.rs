//! Keep-alive deadlines: PINGREQ after a keep-alive interval in which we
//! sent nothing [MQTT-3.1.2-20] or the server sent nothing, and the
//! connection declared dead when PINGRESP is late.
//!
//! Pinging only when we have been quiet would never find out a server that
//! stopped answering while we keep sending (QoS 0 publishes, say): nothing
//! we send asks for an answer. So a server quiet for an interval is pinged
//! too, as the specification allows at any time (section 3.1.2.10).

use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub(super) struct KeepAlive {
    /// `None` when keep-alive is off (0 seconds).
    interval: Option<Duration>,
    ping_timeout: Duration,
    last_sent: Option<Instant>,
    last_received: Option<Instant>,
    ping_sent: Option<Instant>,
}

impl KeepAlive {
    /// Starts over with `seconds` (ours or the server's Server Keep Alive),
    /// at the CONNACK just received. `now` stands in for the last send if
    /// CONNECT was never taken.
    pub(super) fn reset(&mut self, seconds: u16, ping_timeout: Option<Duration>, now: Instant) {
        self.last_sent.get_or_insert(now);
        self.last_received = Some(now);
        self.interval = (seconds > 0).then(|| Duration::from_secs(u64::from(seconds)));
        self.ping_timeout = ping_timeout.or(self.interval).unwrap_or_default();
        self.ping_sent = None;
    }

    pub(super) fn stop(&mut self) {
        self.interval = None;
        self.ping_sent = None;
        self.last_sent = None;
        self.last_received = None;
    }

    /// Any packet taken for writing counts as activity.
    pub(super) fn on_sent(&mut self, now: Instant) {
        self.last_sent = Some(now);
    }

    /// Any packet from the server shows it is there.
    pub(super) fn on_received(&mut self, now: Instant) {
        self.last_received = Some(now);
    }

    /// When the server last sent a packet on this connection; `None`
    /// before CONNACK, and once stopped (a server DISCONNECT stops it, so
    /// what was written before the DISCONNECT stays unanswered).
    pub(super) fn last_received(&self) -> Option<Instant> {
        self.last_received
    }

    pub(super) fn on_ping_sent(&mut self, now: Instant) {
        self.ping_sent = Some(now);
    }

    pub(super) fn on_pingresp(&mut self) {
        self.ping_sent = None;
    }

    /// When PINGRESP becomes overdue, if a PINGREQ is out.
    pub(super) fn pingresp_deadline(&self) -> Option<Instant> {
        self.interval?;
        Some(self.ping_sent? + self.ping_timeout)
    }

    /// When a PINGREQ is due, if none is out: an interval after the side
    /// that has been quiet longer last spoke.
    pub(super) fn ping_due(&self) -> Option<Instant> {
        if self.ping_sent.is_some() {
            return None;
        }
        let quiet_since = match (self.last_sent, self.last_received) {
            (Some(sent), Some(received)) => sent.min(received),
            (sent, received) => sent.or(received)?,
        };
        Some(quiet_since + self.interval?)
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.pingresp_deadline().or_else(|| self.ping_due())
    }
}
