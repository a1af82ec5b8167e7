//! Publishes a server answers by closing the connection.
//!
//! A server that cannot take a message (NATS and a QoS 2 PUBLISH, a 3.1.1
//! broker and a packet over its size limit) may have no way to say so but
//! to close the connection. Resending the message on every reconnect would
//! then repeat forever, with the queue stuck behind it. So each close by
//! the server counts against the publish that most likely caused it, and a
//! publish that has caused [`STRIKES_TO_ABANDON`] closes is given up.

use std::time::{Duration, Instant};

use super::super::packet_ids::PacketIds;
use super::{Outgoing, Stage};

/// Closes by the server, each right after the publish was written, that
/// make a publish be given up. One could be a broker restart at the wrong
/// moment; three in a row, with nothing heard between, are the message.
pub(in crate::protocol) const STRIKES_TO_ABANDON: u8 = 3;

/// How soon after the publish was written a close must come to count: a
/// server refusing a message closes as soon as it reads it, while one that
/// is struggling (a cluster electing a new leader) closes when its own
/// timeout runs out, seconds later, and takes the message once it recovers.
pub(in crate::protocol) const PROMPT_CLOSE: Duration = Duration::from_secs(1);

impl<T> Outgoing<T> {
    /// The server closed the connection at `now`, having sent nothing
    /// since `last_heard` (`None`: nothing at all on it). The oldest
    /// publish written since then, still unacknowledged, gets a strike if
    /// it was written less than [`PROMPT_CLOSE`] before: the server read it
    /// and answered with the close. One that reaches
    /// [`STRIKES_TO_ABANDON`] is ended and its id freed; returns its
    /// `seq` and tag. Call before [`connection_lost`](Outgoing::connection_lost),
    /// which forgets what was written on the connection.
    pub(in crate::protocol) fn server_closed(
        &mut self,
        last_heard: Option<Instant>,
        now: Instant,
        ids: &mut PacketIds,
    ) -> Option<(u64, T)> {
        let suspect = self
            .inflight
            .iter_mut()
            .filter(|(_, flight)| matches!(flight.stage, Stage::Unacked(_)))
            .filter(|(_, flight)| match (flight.sent_at, last_heard) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(sent), Some(heard)) => sent >= heard,
            })
            .min_by_key(|(_, flight)| flight.seq)?;
        let (&id, flight) = suspect;
        let sent = flight.sent_at?;
        if now.saturating_duration_since(sent) > PROMPT_CLOSE {
            return None;
        }
        flight.strikes = flight.strikes.saturating_add(1);
        if flight.strikes < STRIKES_TO_ABANDON {
            return None;
        }
        let flight = self.remove(id, ids)?;
        Some((flight.seq, flight.tag))
    }
}
