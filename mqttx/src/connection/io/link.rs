//! One live transport: its write half with a double buffer, its reader,
//! and the client command queue's stream adapter.

use std::future::Future;

use actix::SpawnHandle;
use bytes::BytesMut;
use tokio::io::AsyncWriteExt;

use super::hold::WindowBound;
use super::Signals;
use crate::options::IoHints;
use crate::packet::{encode, Packet, ProtocolVersion};
use crate::transport::{AckHint, WriteHalf};

/// Room made in an empty write buffer before the first packet goes in, so
/// a burst does not grow it packet by packet.
const WRITE_RESERVE: usize = 8 * 1024;

/// How much a write may be put off for input still to be handled.
const DEFER_LIMIT: usize = 64 * 1024;

/// A connected transport. Packets are encoded into `out`; a write takes
/// all of `out` at once while the next packets fill the spare buffer, so
/// a busy link reuses two buffers and every write carries everything that
/// was ready.
///
/// Both buffers are made on first use and freed when a write finishes
/// with nothing queued behind it: an idle connection holds no write buffer.
pub(in crate::connection) struct Link {
    id: u64,
    /// `None` while a write is in flight (the write future owns it).
    io: Option<WriteHalf>,
    out: BytesMut,
    spare: BytesMut,
    reader: SpawnHandle,
    ack_hint: AckHint,
    signals: Signals,
    hints: IoHints,
    /// A DISCONNECT is queued: the write that carries it closes the stream.
    closing: bool,
}

/// What a finished write hands back: the write half, the emptied buffer, the outcome.
pub(in crate::connection) type Written = (WriteHalf, BytesMut, std::io::Result<()>);

impl Link {
    pub(super) fn new(
        id: u64,
        io: WriteHalf,
        reader: SpawnHandle,
        ack_hint: AckHint,
        signals: Signals,
        hints: IoHints,
    ) -> Self {
        Link {
            id,
            io: Some(io),
            out: BytesMut::new(),
            spare: BytesMut::new(),
            reader,
            ack_hint,
            signals,
            hints,
            closing: false,
        }
    }

    /// After reading `packet`: when it ends a flow of ours (an
    /// acknowledgement, PINGRESP, CONNACK) and nothing of ours is about to
    /// carry our TCP ACK (`will_write` says whether the turn made packets
    /// ready), send the ACK at once. A broker with Nagle on holds its next
    /// packet — the response to a request — until that ACK arrives, which
    /// Linux otherwise delays by up to 40 ms. It must be asked before the
    /// reader's next read, which is what carries the request to the socket.
    pub(in crate::connection) fn ack_now_if_idle(&self, packet_ended_a_flow: bool, will_write: bool) {
        if packet_ended_a_flow && self.hints.quick_ack && !will_write && !self.has_pending() {
            self.ack_hint.request();
        }
    }

    pub(in crate::connection) fn id(&self) -> u64 {
        self.id
    }

    pub(in crate::connection) fn reader(&self) -> SpawnHandle {
        self.reader
    }

    /// Encodes a packet behind whatever is already queued.
    pub(in crate::connection) fn queue(&mut self, packet: &Packet, version: ProtocolVersion) {
        if self.out.capacity() == 0 {
            self.out = BytesMut::with_capacity(WRITE_RESERVE);
        }
        match packet {
            Packet::Publish(_) => self.signals.publishing.mark(),
            Packet::Disconnect(_) => self.closing = true,
            _ => {}
        }
        if let Err(err) = encode(packet, version, &mut self.out) {
            // The state machine validates what it emits; reaching this is a bug, not bad input.
            tracing::error!(packet = packet.name(), %err, "cannot encode an outgoing packet; dropped");
        }
    }

    /// Whether the reader holds another whole packet for the next turn, and
    /// the queue is still small enough to wait for it.
    pub(in crate::connection) fn more_input_buffered(&self) -> bool {
        self.hints.write_per_read && self.signals.backlog.is_raised() && self.has_room_to_wait()
    }

    /// Whether the queue is small enough to wait for more before writing.
    fn has_room_to_wait(&self) -> bool {
        self.out.len() < DEFER_LIMIT
    }

    /// Where the connection says whether its window is full.
    pub(in crate::connection) fn window_bound(&self) -> &WindowBound {
        &self.signals.window_bound
    }

    /// Whether bytes are queued or being written.
    pub(in crate::connection) fn has_pending(&self) -> bool {
        !self.out.is_empty() || self.io.is_none()
    }

    /// Whether a write is in flight.
    pub(in crate::connection) fn is_writing(&self) -> bool {
        self.io.is_none()
    }

    /// Takes everything queued into one write, unless a write is in flight.
    pub(in crate::connection) fn start_write(&mut self) -> Option<impl Future<Output = Written> + 'static> {
        if self.out.is_empty() {
            return None;
        }
        let mut io = self.io.take()?;
        let buf = std::mem::replace(&mut self.out, std::mem::take(&mut self.spare));
        let closing = self.closing;
        Some(async move {
            // TLS and WebSocket hold bytes until flushed (one frame per batch).
            let mut result = match io.write_all(&buf).await {
                Ok(()) => io.flush().await,
                Err(err) => Err(err),
            };
            if closing && result.is_ok() {
                // After our DISCONNECT: TLS close_notify, a WebSocket Close
                // frame, then FIN, rather than a bare socket close the
                // server reports as a truncated stream.
                result = io.shutdown().await;
            }
            (io, buf, result)
        })
    }

    /// A write finished: take the write half back, and the buffer too
    /// unless the burst is over.
    pub(in crate::connection) fn write_done(&mut self, io: WriteHalf, mut buf: BytesMut) {
        self.io = Some(io);
        if self.out.is_empty() {
            // Nothing queued meanwhile: idle until the next packet.
            self.out = BytesMut::new();
            self.spare = BytesMut::new();
            return;
        }
        buf.clear();
        self.spare = buf;
    }
}

/// Packets that end a flow of ours: nothing of ours answers them.
pub(in crate::connection) fn ends_a_flow(packet: &Packet) -> bool {
    matches!(
        packet,
        Packet::PubAck(_)
            | Packet::PubComp(_)
            | Packet::SubAck(_)
            | Packet::UnsubAck(_)
            | Packet::PingResp
            | Packet::ConnAck(_)
    )
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::connection::io::pacing::Publishing;
    use crate::connection::io::reader::Backlog;
    use crate::packet::{Disconnect, PubAck, Publish};

    /// A link over one end of a pipe, sharing `signals` with nobody else.
    fn link(signals: Signals) -> (Link, tokio::io::DuplexStream) {
        let (writer, peer) = tokio::io::duplex(1024);
        let link = Link::new(
            1,
            Box::new(writer),
            SpawnHandle::default(),
            AckHint::default(),
            signals,
            IoHints::default(),
        );
        (link, peer)
    }

    /// The reader's pacing learns from here that the connection publishes.
    #[test]
    fn queueing_a_publish_marks_the_connection_as_publishing() {
        let publishing = Publishing::default();
        let (mut link, _peer) = link(Signals {
            publishing: publishing.clone(),
            ..Signals::default()
        });
        let id = std::num::NonZeroU16::MIN;
        link.queue(&Packet::PubAck(PubAck::new(id)), ProtocolVersion::V5);
        assert!(!publishing.is_marked(), "an acknowledgement is not a publish");
        let publish = Publish::new("t", Bytes::from_static(b"x"));
        link.queue(&Packet::Publish(publish), ProtocolVersion::V5);
        assert!(publishing.is_marked());
    }

    /// The write that carries our DISCONNECT closes the stream after it:
    /// the peer reads the packet, then the end of the stream, while the
    /// write half is still held.
    #[tokio::test]
    async fn the_write_carrying_a_disconnect_closes_the_stream() {
        use tokio::io::AsyncReadExt;

        let (mut link, mut peer) = link(Signals::default());
        let ack = Packet::PubAck(PubAck::new(std::num::NonZeroU16::MIN));
        link.queue(&ack, ProtocolVersion::V5);
        let (io, buf, result) = link.start_write().expect("a write").await;
        result.unwrap();
        link.write_done(io, buf);
        let mut first = [0u8; 4];
        peer.read_exact(&mut first).await.unwrap();

        link.queue(&Packet::Disconnect(Disconnect::default()), ProtocolVersion::V5);
        let (_io, _buf, result) = link.start_write().expect("a write").await;
        result.unwrap();
        let mut rest = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), peer.read_to_end(&mut rest));
        read.await.expect("the stream ends").unwrap();
        assert_eq!(rest, [0xE0, 0x00], "a DISCONNECT, then the end");
    }

    /// What a read made ready waits for the rest of the read's packets,
    /// but never beyond the deferral limit.
    #[test]
    fn a_write_waits_for_buffered_input_only_while_the_queue_is_small() {
        let backlog = Backlog::default();
        let (mut link, _peer) = link(Signals {
            backlog: backlog.clone(),
            ..Signals::default()
        });
        let ack = Packet::PubAck(PubAck::new(std::num::NonZeroU16::MIN));
        link.queue(&ack, ProtocolVersion::V5);
        assert!(!link.more_input_buffered(), "nothing buffered: write now");
        backlog.set(true);
        assert!(link.more_input_buffered());
        let payload = Bytes::from(vec![0u8; DEFER_LIMIT]);
        link.queue(&Packet::Publish(Publish::new("t", payload)), ProtocolVersion::V5);
        assert!(!link.more_input_buffered(), "a full queue is written anyway");
        assert!(!link.has_room_to_wait());
    }
}
