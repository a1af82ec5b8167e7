//! A stream of decoded packets over a transport's read half.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use futures_core::Stream;

use super::pacing::{ReadPacing, PAUSE};
use super::pool;
use crate::packet::{decode, Packet, ProtocolVersion};
use crate::transport::ReadHalf;
use crate::Error;

/// Room made in the read buffer before each read.
const READ_RESERVE: usize = 8 * 1024;

/// Decoded packets from the wire, read into one reusable buffer. The last
/// item of a connection is always an `Err`: end of stream, a read error or
/// a malformed packet.
///
/// The buffer is held only while there is something to read: taken from
/// the thread's [`pool`] for a read and given back when a read finds the
/// socket empty with no partial packet left, so an idle connection holds
/// no read buffer.
///
/// Reads happen as soon as the socket has bytes, except in a dense QoS 0
/// stream, where [`ReadPacing`] has the stream pause between reads.
pub(crate) struct PacketStream {
    io: ReadHalf,
    buf: BytesMut,
    version: ProtocolVersion,
    max_packet_size: u32,
    done: bool,
    pacing: ReadPacing,
    /// Whether a read returned bytes since the socket was last found empty.
    read_any: bool,
    /// The pause under way, if any; kept to be re-armed.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    pausing: bool,
}

impl PacketStream {
    pub(crate) fn new(
        io: ReadHalf,
        version: ProtocolVersion,
        max_packet_size: u32,
        pacing: ReadPacing,
    ) -> Self {
        PacketStream {
            io,
            buf: BytesMut::new(),
            version,
            max_packet_size,
            done: false,
            pacing,
            read_any: false,
            pause: None,
            pausing: false,
        }
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

impl Stream for PacketStream {
    type Item = Result<Packet, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match decode(&mut this.buf, this.version, this.max_packet_size) {
                Ok(Some(packet)) => {
                    this.pacing.packet(&packet);
                    return Poll::Ready(Some(Ok(packet)));
                }
                Ok(None) => {}
                Err(err) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::Decode(err))));
                }
            }
            if this.paused(cx) {
                return Poll::Pending;
            }
            if this.buf.capacity() == 0 {
                this.buf = pool::take(READ_RESERVE);
            } else if this.buf.capacity() - this.buf.len() < READ_RESERVE / 2 {
                this.buf.reserve(READ_RESERVE);
            }
            match tokio_util::io::poll_read_buf(Pin::new(&mut this.io), cx, &mut this.buf) {
                Poll::Pending => {
                    let drained = std::mem::take(&mut this.read_any) || this.pacing.is_pausing();
                    if drained && this.pacing.drained(Instant::now) {
                        this.start_pause(cx);
                    }
                    if this.buf.is_empty() {
                        // Decoded payloads may still point into the storage:
                        // the pool keeps only this buffer's spare room.
                        pool::give(std::mem::take(&mut this.buf));
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
                Poll::Ready(Ok(_)) => this.read_any = true,
                Poll::Ready(Err(err)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(err.into())));
                }
            }
        }
    }
}
