use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;

use crate::Error;

/// Plain TCP with Nagle's algorithm off: MQTT packets are small and a
/// delayed acknowledgement would cost a round trip.
pub(super) async fn connect(host: &str, port: u16) -> Result<TcpStream, Error> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Acknowledges every segment at once instead of delaying the ACK.
///
/// Brokers commonly leave Nagle's algorithm on (mosquitto does by
/// default): a broker that has one small packet unacknowledged on our
/// socket holds the next one back until our ACK comes. Linux delays that
/// ACK by up to 40 ms when we have nothing to send, which is what a QoS 1
/// request/response round trip then costs. Quick-ack mode is not sticky on
/// Linux, so it is re-armed after every read.
///
/// It wraps the read half of a plain TCP connection, or the whole socket
/// under TLS and WebSocket (whose reads are reads of this socket).
pub(super) struct QuickAck<S>(pub(super) S);

/// What [`QuickAck`] can wrap: something that reads from a TCP socket.
pub(super) trait TcpSocket {
    fn socket(&self) -> &TcpStream;
}

impl TcpSocket for TcpStream {
    fn socket(&self) -> &TcpStream {
        self
    }
}

impl TcpSocket for OwnedReadHalf {
    fn socket(&self) -> &TcpStream {
        self.as_ref()
    }
}

impl<S: AsyncRead + TcpSocket + Unpin> AsyncRead for QuickAck<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.0).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                // Best effort: a failure only costs latency.
                let _ = socket2::SockRef::from(self.0.socket()).set_tcp_quickack(true);
            }
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for QuickAck<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}
