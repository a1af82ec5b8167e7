//! A stream of decoded packets over a transport's read half.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use futures_core::Stream;
use tokio::io::{AsyncRead, ReadBuf};

use super::fine_timer::FineTimer;
use super::gate::ReadGate;
use super::hold::AckHold;
use super::pacing::{ReadPacing, PAUSE};
use crate::error::Error;
use crate::packet::{decode, has_frame, Packet, ProtocolVersion};
use crate::transport::ReadHalf;

/// The first read after the buffer was let go goes into this much stack.
const PROBE_SIZE: usize = 512;

/// Raised by the reader while the packet it just handed out has another
/// whole one behind it in the buffer.
///
/// actix hands a stream's items to the actor sixteen at a time, so one read
/// of fifty packets spans four turns. The connection writes what a read
/// makes ready only once the backlog is gone: one write for the read, not
/// one per sixteen packets.
#[derive(Debug, Clone, Default)]
pub(super) struct Backlog(Rc<Cell<bool>>);

impl Backlog {
    pub(super) fn is_raised(&self) -> bool {
        self.0.get()
    }

    pub(super) fn set(&self, raised: bool) {
        self.0.set(raised);
    }
}

/// When the last read that brought bytes was: the arrival time of every
/// packet it brought. One clock reading per read, not one per packet.
#[derive(Debug, Clone, Default)]
pub(super) struct ReadAt(Rc<Cell<Option<Instant>>>);

impl ReadAt {
    pub(super) fn get(&self) -> Option<Instant> {
        self.0.get()
    }

    fn set(&self, at: Instant) {
        self.0.set(Some(at));
    }
}

/// When the reader reads: [`ReadPacing`] for a stream of messages coming
/// in, [`AckHold`] for acknowledgements of a full window going out.
#[derive(Debug)]
pub(super) struct Pacing {
    pub(super) reads: ReadPacing,
    pub(super) acks: AckHold,
    pub(super) gate: ReadGate,
}

/// Decoded packets from the wire, read into one reusable buffer. The last
/// item of a connection is always an `Err`: end of stream, a read error or
/// a malformed packet.
///
/// The buffer is held only while there is something to read: made for a
/// read and freed when a read finds the socket empty with no partial
/// packet left, so an idle connection holds no read buffer.
///
/// Reads happen as soon as the socket has bytes, except in a dense stream
/// of messages, where [`ReadPacing`] has the stream pause between reads,
/// and on a publisher whose window is full, where [`AckHold`] holds the
/// next read back by up to half a millisecond.
pub(in crate::connection) struct PacketStream {
    io: ReadHalf,
    buf: BytesMut,
    version: ProtocolVersion,
    max_packet_size: u32,
    /// Room made in the buffer before each read.
    read_reserve: usize,
    done: bool,
    pacing: Pacing,
    /// Whether a read returned bytes since the socket was last found empty.
    read_any: bool,
    /// The pause under way, if any; kept to be re-armed.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    pausing: bool,
    backlog: Backlog,
    read_at: ReadAt,
    /// The hold of the next read, taken on the first hold and kept; `None`
    /// also where none can be had.
    hold: Option<FineTimer>,
    no_hold_timer: bool,
}

impl PacketStream {
    pub(super) fn new(
        io: ReadHalf,
        version: ProtocolVersion,
        max_packet_size: u32,
        read_reserve: usize,
        pacing: Pacing,
        backlog: Backlog,
        read_at: ReadAt,
    ) -> Self {
        PacketStream {
            io,
            buf: BytesMut::new(),
            version,
            max_packet_size,
            read_reserve,
            done: false,
            pacing,
            read_any: false,
            pause: None,
            pausing: false,
            backlog,
            read_at,
            hold: None,
            no_hold_timer: false,
        }
    }

    /// Holds the next read back for `hold`; a read is then due at its end
    /// whether or not the socket has become readable meanwhile.
    fn start_hold(&mut self, hold: std::time::Duration, cx: &mut Context<'_>) {
        if self.hold.is_none() && !self.no_hold_timer {
            self.hold = FineTimer::new();
            self.no_hold_timer = self.hold.is_none();
        }
        if let Some(timer) = self.hold.as_mut() {
            timer.arm(hold);
            // Registers the waker; a hold cannot be over already.
            let _ = timer.poll_expired(cx);
        }
    }

    /// Whether a hold is still under way (its waker then registered).
    fn held(&mut self, cx: &mut Context<'_>) -> bool {
        self.hold
            .as_mut()
            .is_some_and(|timer| timer.is_armed() && timer.poll_expired(cx).is_pending())
    }

    /// Starts a pause, registering for its end; the socket's readiness is
    /// not waited on meanwhile, which is the point.
    fn start_pause(&mut self, cx: &mut Context<'_>) {
        let deadline = tokio::time::Instant::now() + PAUSE;
        let pause = self
            .pause
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        pause.as_mut().reset(deadline);
        // Registers the waker; a pause cannot be over already.
        let _ = pause.as_mut().poll(cx);
        self.pausing = true;
    }

    /// Whether a pause is still under way (its waker then registered).
    fn paused(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.pausing {
            return false;
        }
        let over = self
            .pause
            .as_mut()
            .is_none_or(|pause| pause.as_mut().poll(cx).is_ready());
        if over {
            self.pausing = false;
        }
        !over
    }
}

impl PacketStream {
    /// A read with no buffer: into a small one on the stack, and a buffer
    /// is made only once bytes came. Every wake of the actor polls the
    /// reader, so an idle link (or one that only sends) would otherwise
    /// make and free a buffer each time.
    fn probe(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        let mut probe = [0u8; PROBE_SIZE];
        let mut read = ReadBuf::new(&mut probe);
        if let Err(err) = ready!(Pin::new(&mut self.io).poll_read(cx, &mut read)) {
            return Poll::Ready(Err(err));
        }
        let filled = read.filled();
        if !filled.is_empty() {
            self.buf = BytesMut::with_capacity(self.read_reserve);
            self.buf.extend_from_slice(filled);
        }
        Poll::Ready(Ok(filled.len()))
    }
}

impl Stream for PacketStream {
    type Item = Result<Packet, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            // Not even what is buffered: each packet decoded may be one
            // more message for the full stream.
            if this.pacing.gate.must_wait(cx) {
                return Poll::Pending;
            }
            match decode(&mut this.buf, this.version, this.max_packet_size) {
                Ok(Some(packet)) => {
                    this.pacing.reads.packet(&packet);
                    this.pacing.acks.packet(&packet);
                    this.backlog.set(has_frame(&this.buf));
                    return Poll::Ready(Some(Ok(packet)));
                }
                Ok(None) => {}
                Err(err) => {
                    this.backlog.set(false);
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::Decode(err))));
                }
            }
            if this.paused(cx) || this.held(cx) {
                return Poll::Pending;
            }
            let read = if this.buf.capacity() == 0 {
                this.probe(cx)
            } else {
                if this.buf.capacity() - this.buf.len() < this.read_reserve / 2 {
                    this.buf.reserve(this.read_reserve);
                }
                tokio_util::io::poll_read_buf(Pin::new(&mut this.io), cx, &mut this.buf)
            };
            match read {
                Poll::Pending => {
                    let read_any = std::mem::take(&mut this.read_any);
                    let drained = read_any || this.pacing.reads.is_pausing();
                    // tokio's clock, so that tests can stop it.
                    let now = || tokio::time::Instant::now().into_std();
                    if drained && this.pacing.reads.drained(now) {
                        this.start_pause(cx);
                    }
                    if let Some(hold) = read_any.then(|| this.pacing.acks.drained()).flatten() {
                        this.start_hold(hold, cx);
                    }
                    if this.buf.is_empty() {
                        // Decoded payloads may still point into the storage;
                        // they keep it alive, this connection lets go.
                        this.buf = BytesMut::new();
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Ok(0)) => {
                    this.done = true;
                    let eof = std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    );
                    return Poll::Ready(Some(Err(eof.into())));
                }
                Poll::Ready(Ok(_)) => {
                    this.read_any = true;
                    this.read_at.set(Instant::now());
                }
                Poll::Ready(Err(err)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(err.into())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
