//! One live transport: its write half with a double buffer, its reader,
//! and the client command queue's stream adapter.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};
use std::time::{Duration, Instant};

use actix::SpawnHandle;
use bytes::BytesMut;
use tokio::io::AsyncWrite;

use super::hold::WindowBound;
use super::Signals;
use crate::options::IoHints;
use crate::packet::{encode, Packet, ProtocolVersion};
use crate::transport::{AckHint, WriteHalf};

/// Room made in an empty write buffer before the first packet goes in, so
/// a burst does not grow it packet by packet.
const WRITE_RESERVE: usize = 8 * 1024;

/// How soon after the last one a write must come for the link to count
/// as streaming and keep its buffers.
const KEEP_BUFFERS: Duration = Duration::from_secs(1);

/// How much a write may be put off for input still to be handled.
const DEFER_LIMIT: usize = 64 * 1024;

/// A connected transport. Packets are encoded into `out`; a write takes
/// all of `out` at once while the next packets fill the spare buffer, so
/// a busy link reuses two buffers and every write carries everything that
/// was ready.
///
/// Both buffers are made on first use and freed once the link goes quiet
/// (see [`Link::write_done`]): an idle connection holds no write buffer.
pub(in crate::connection) struct Link {
    io: WriteHalf,
    out: BytesMut,
    spare: BytesMut,
    /// The write in flight, driven by [`Link::poll_write`].
    writing: Option<Writing>,
    /// The link's writer, while it waits for a write to start.
    writer: Option<Waker>,
    reader: SpawnHandle,
    ack_hint: AckHint,
    signals: Signals,
    hints: IoHints,
    /// A DISCONNECT is queued: the write that carries it closes the stream.
    closing: bool,
    /// When the last write finished.
    last_write_done: Option<Instant>,
}

/// A write in flight: everything that was queued when it started.
struct Writing {
    buf: BytesMut,
    /// How much of `buf` the transport took.
    written: usize,
    /// It carries our DISCONNECT: the stream is shut down after it.
    closing: bool,
}

impl Link {
    pub(super) fn new(
        io: WriteHalf,
        reader: SpawnHandle,
        ack_hint: AckHint,
        signals: Signals,
        hints: IoHints,
    ) -> Self {
        Link {
            io,
            out: BytesMut::new(),
            spare: BytesMut::new(),
            writing: None,
            writer: None,
            reader,
            ack_hint,
            signals,
            hints,
            closing: false,
            last_write_done: None,
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

    /// When the last read that brought bytes was: when the packets it
    /// brought arrived.
    pub(in crate::connection) fn read_at(&self) -> Option<Instant> {
        self.signals.read_at.get()
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

    /// Whether a write may wait for the client's queued commands: the
    /// queue is still small enough.
    pub(in crate::connection) fn may_gather(&self) -> bool {
        self.hints.write_per_burst && self.has_room_to_wait()
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
        !self.out.is_empty() || self.writing.is_some()
    }

    /// Whether a write is in flight.
    pub(in crate::connection) fn is_writing(&self) -> bool {
        self.writing.is_some()
    }

    /// Starts one write of everything queued, unless one is in flight (its
    /// end starts the next): the link's writer, woken, drives it.
    pub(in crate::connection) fn start_write(&mut self) {
        if self.out.is_empty() || self.writing.is_some() {
            return;
        }
        let buf = std::mem::replace(&mut self.out, std::mem::take(&mut self.spare));
        self.writing = Some(Writing {
            buf,
            written: 0,
            closing: self.closing,
        });
        if let Some(writer) = self.writer.take() {
            writer.wake();
        }
    }

    /// Drives the write in flight to its end: `Ready` once it is written
    /// and flushed (and, after our DISCONNECT, the stream shut down), or
    /// failed. `Pending` while there is none, until [`start_write`] wakes
    /// the caller. No future is made per write, so a busy link writes
    /// without allocating.
    ///
    /// [`start_write`]: Self::start_write
    pub(in crate::connection) fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let Some(writing) = &mut self.writing else {
            if !self.writer.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                self.writer = Some(cx.waker().clone());
            }
            return Poll::Pending;
        };
        ready!(writing.poll_to_end(&mut self.io, cx))?;
        if let Some(done) = self.writing.take() {
            self.write_done(done.buf, Instant::now());
        }
        Poll::Ready(Ok(()))
    }

    /// The link is let go: a write in flight (a DISCONNECT telling the
    /// server why) still goes out, and the stream closes after it.
    pub(in crate::connection) fn finish_in_background(self) -> Option<impl Future<Output = ()> + 'static> {
        let Link { mut io, writing, .. } = self;
        let mut writing = writing?;
        Some(async move {
            let _ = std::future::poll_fn(|cx| writing.poll_to_end(&mut io, cx)).await;
        })
    }

    /// A write finished: keep the buffer for the next one unless the link
    /// has gone quiet.
    ///
    /// Quiet is a write with nothing queued behind it that came
    /// [`KEEP_BUFFERS`] or more after the one before: a steady stream of
    /// small writes keeps its two buffers rather than making one per
    /// write, and a link that stopped writing lets them go at its next
    /// write (at the latest the keep-alive's PINGREQ).
    fn write_done(&mut self, mut buf: BytesMut, now: Instant) {
        let streaming = self
            .last_write_done
            .is_some_and(|last| now.saturating_duration_since(last) < KEEP_BUFFERS);
        self.last_write_done = Some(now);
        if self.out.is_empty() && !streaming {
            self.out = BytesMut::new();
            self.spare = BytesMut::new();
            return;
        }
        buf.clear();
        if self.out.capacity() == 0 {
            self.out = buf;
        } else {
            self.spare = buf;
        }
    }
}

impl Writing {
    /// All of the buffer to the transport, then a flush — TLS and
    /// WebSocket hold bytes until flushed (one frame per batch) — and
    /// after our DISCONNECT a shutdown: TLS close_notify, a WebSocket
    /// Close frame, then FIN, rather than a bare close the server reports
    /// as a truncated stream.
    fn poll_to_end(&mut self, io: &mut WriteHalf, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let mut io = Pin::new(io);
        while let Some(rest) = self.buf.get(self.written..).filter(|rest| !rest.is_empty()) {
            match ready!(io.as_mut().poll_write(cx, rest))? {
                0 => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                n => self.written += n,
            }
        }
        ready!(io.as_mut().poll_flush(cx))?;
        if self.closing {
            ready!(io.as_mut().poll_shutdown(cx))?;
        }
        Poll::Ready(Ok(()))
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
        link.start_write();
        std::future::poll_fn(|cx| link.poll_write(cx)).await.unwrap();
        let mut first = [0u8; 4];
        peer.read_exact(&mut first).await.unwrap();

        link.queue(&Packet::Disconnect(Disconnect::default()), ProtocolVersion::V5);
        link.start_write();
        std::future::poll_fn(|cx| link.poll_write(cx)).await.unwrap();
        let mut rest = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), peer.read_to_end(&mut rest));
        read.await.expect("the stream ends").unwrap();
        assert_eq!(rest, [0xE0, 0x00], "a DISCONNECT, then the end");
    }

    /// A stream of writes keeps its two buffers; a write that comes after
    /// a quiet spell, with nothing behind it, lets them go.
    #[test]
    fn buffers_are_kept_while_writes_stream_and_let_go_once_the_link_is_quiet() {
        let (mut link, _peer) = link(Signals::default());
        let held = |link: &Link| link.out.capacity() + link.spare.capacity();
        let start = Instant::now();
        link.write_done(BytesMut::with_capacity(64), start);
        assert_eq!(held(&link), 0, "a first write has nothing before it: quiet");
        link.write_done(BytesMut::with_capacity(64), start + Duration::from_millis(5));
        assert!(held(&link) >= 64, "streaming: the buffer is kept");
        link.write_done(BytesMut::with_capacity(64), start + Duration::from_millis(10));
        assert!(held(&link) >= 128, "both buffers kept");
        link.write_done(BytesMut::with_capacity(64), start + KEEP_BUFFERS * 2);
        assert_eq!(held(&link), 0, "after a quiet spell both are let go");
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
