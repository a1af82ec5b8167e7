//! A stream of decoded packets over a transport's read half.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use futures_core::Stream;

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
pub(crate) struct PacketStream {
    io: ReadHalf,
    buf: BytesMut,
    version: ProtocolVersion,
    max_packet_size: u32,
    done: bool,
}

impl PacketStream {
    pub(crate) fn new(io: ReadHalf, version: ProtocolVersion, max_packet_size: u32) -> Self {
        PacketStream {
            io,
            buf: BytesMut::new(),
            version,
            max_packet_size,
            done: false,
        }
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
                Ok(Some(packet)) => return Poll::Ready(Some(Ok(packet))),
                Ok(None) => {}
                Err(err) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::Decode(err))));
                }
            }
            if this.buf.capacity() == 0 {
                this.buf = pool::take(READ_RESERVE);
            } else if this.buf.capacity() - this.buf.len() < READ_RESERVE / 2 {
                this.buf.reserve(READ_RESERVE);
            }
            match tokio_util::io::poll_read_buf(Pin::new(&mut this.io), cx, &mut this.buf) {
                Poll::Pending => {
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
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(err)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(err.into())));
                }
            }
        }
    }
}
