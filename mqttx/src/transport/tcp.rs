use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;

use super::{ReadHalf, WriteHalf};
use crate::Error;

/// Plain TCP with Nagle's algorithm off: MQTT packets are small and a
/// delayed acknowledgement would cost a round trip.
pub(super) async fn open(host: &str, port: u16) -> Result<(ReadHalf, WriteHalf), Error> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    let (read, write) = stream.into_split();
    Ok((Box::new(QuickAck(read)), Box::new(write)))
}

/// Acknowledges every segment at once instead of delaying the ACK.
///
/// Brokers commonly leave Nagle's algorithm on (mosquitto does by
/// default): a broker that has one small packet unacknowledged on our
/// socket holds the next one back until our ACK comes. Linux delays that
/// ACK by up to 40 ms when we have nothing to send, which is what a QoS 1
/// request/response round trip then costs. Quick-ack mode is not sticky on
/// Linux, so it is re-armed after every read.
struct QuickAck(OwnedReadHalf);

impl AsyncRead for QuickAck {
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
                let _ = socket2::SockRef::from(self.0.as_ref()).set_tcp_quickack(true);
            }
        }
        poll
    }
}
