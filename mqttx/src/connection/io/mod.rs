//! A link's two halves — [`PacketStream`] reads, [`Link`] writes — and the
//! I/O tuning that decides when they do, each piece behind one of the
//! [`IoHints`] switches.
//!
//! The pieces signal each other through small shared cells. This is the
//! whole wiring:
//!
//! | cell | raised by | read by | for |
//! |---|---|---|---|
//! | [`Backlog`] | the reader, while another whole packet waits in its buffer | the turn's end | `write_per_read`: one write per read |
//! | [`Publishing`] | the link, when it queues a PUBLISH | read pacing | `read_pacing`: never pause a connection that publishes |
//! | [`WindowBound`] | the turn's end, from the state machine's window | the acknowledgement hold | `ack_batching`: hold reads only while a window of 500 or more is full |
//! | [`AckHint`](crate::transport::AckHint) | the link, after a read that ends a flow of ours | the transport's next read | `quick_ack`: TCP_QUICKACK |
//! | [`ReadGate`] | the connection, while a message stream is full | the reader | bounded streams: no read until the consumer catches up |

mod fine_timer;
mod gate;
mod hold;
mod link;
mod pacing;
mod reader;

pub(super) use gate::ReadGate;
pub(super) use link::{ends_a_flow, Link};
pub(super) use reader::PacketStream;

use hold::{AckHold, WindowBound};
use pacing::{Publishing, ReadPacing};
use reader::{Backlog, ReadAt};

use crate::options::IoHints;
use crate::packet::ProtocolVersion;
use crate::transport::{AckHint, ReadHalf, WriteHalf};

/// The cells one link's halves share.
#[derive(Debug, Clone, Default)]
struct Signals {
    publishing: Publishing,
    backlog: Backlog,
    window_bound: WindowBound,
    read_at: ReadAt,
}

/// How each link of a connection reads and writes.
#[derive(Debug, Clone)]
pub(super) struct IoSettings {
    pub(super) max_packet_size: u32,
    /// The room made in the read buffer before each read.
    pub(super) read_buffer: usize,
    pub(super) hints: IoHints,
    /// Shut while a message stream is full; the same for every link.
    pub(super) gate: ReadGate,
}

impl IoSettings {
    /// The two halves of a new link over an opened transport, speaking
    /// `version`; `reader` turns the read half into the actor's stream and
    /// gives its handle.
    pub(super) fn link(
        &self,
        version: ProtocolVersion,
        read: ReadHalf,
        write: WriteHalf,
        ack_hint: AckHint,
        reader: impl FnOnce(PacketStream) -> actix::SpawnHandle,
    ) -> Link {
        let signals = Signals::default();
        let hints = self.hints;
        let stream = PacketStream::new(
            read,
            version,
            self.max_packet_size,
            self.read_buffer,
            reader::Pacing {
                reads: ReadPacing::new(hints.read_pacing, signals.publishing.clone()),
                acks: AckHold::new(hints.ack_batching, signals.window_bound.clone()),
                gate: self.gate.clone(),
            },
            signals.backlog.clone(),
            signals.read_at.clone(),
        );
        let reader = reader(stream);
        Link::new(write, reader, ack_hint, signals, hints)
    }
}
