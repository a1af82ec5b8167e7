//! The one way from a handler to its connection: publish, acknowledge a
//! message, answer an AUTH challenge.
//!
//! A handler never sees the connection actor or its state machine; the
//! connection lends it an [`Outbox`] for the length of one call. What goes
//! in is queued in call order and written with the turn's other packets.

use crate::packet::{Auth, Publish};
use crate::protocol::Ack;

/// Where a handler's packets go.
pub(crate) trait Outbox {
    /// A publish nobody waits for; a failure is logged by the connection.
    fn publish(&mut self, publish: Publish);

    /// The PUBACK or PUBREC of a message the handler is done with.
    fn acknowledge(&mut self, ack: Ack);

    /// An AUTH packet answering the server's challenge.
    fn auth(&mut self, auth: Auth);
}

/// An outbox that drops everything: for a handler run outside any
/// connection (benchmarks of generated handlers, unit tests).
#[derive(Debug, Default)]
pub(crate) struct Discard;

impl Outbox for Discard {
    fn publish(&mut self, _publish: Publish) {}

    fn acknowledge(&mut self, _ack: Ack) {}

    fn auth(&mut self, _auth: Auth) {}
}
