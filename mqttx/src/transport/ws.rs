//! MQTT over WebSocket: the handshake (subprotocol `mqtt`), and an adapter
//! that turns the message stream back into bytes for the connection.
//!
//! MQTT packets travel in binary frames only [MQTT-6.0.0-1]; a frame may
//! hold part of a packet or several of them [MQTT-6.0.0-2], so reads just
//! concatenate frame payloads and the packet decoder finds the boundaries.
//! Each write — the connection writes everything that is ready at once —
//! goes out as one binary frame on the following flush.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use crate::error::Error;

/// The subprotocol MQTT 5 (and 3.1.1) registers for WebSocket [MQTT-6.0.0-3].
const SUBPROTOCOL: &str = "mqtt";

/// Where to open the WebSocket.
pub(super) struct Target<'a> {
    pub(super) secure: bool,
    pub(super) host: &'a str,
    pub(super) port: u16,
    pub(super) path: &'a str,
    /// The largest message accepted from the server.
    pub(super) max_message: usize,
}

/// The WebSocket handshake over `stream` (already TLS for `wss`).
pub(super) async fn connect<S>(stream: S, target: Target<'_>) -> Result<WsStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let scheme = if target.secure { "wss" } else { "ws" };
    let url = format!(
        "{scheme}://{}{}",
        super::authority(target.host, target.port),
        target.path
    );
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|err| Error::InvalidOptions(format!("WebSocket URL {url:?}: {err}")))?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
    let config = WebSocketConfig::default()
        .max_message_size(Some(target.max_message))
        .max_frame_size(Some(target.max_message));
    let (inner, _response) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(|err| handshake_error(err, &url))?;
    Ok(WsStream {
        inner,
        pending: Bytes::new(),
    })
}

fn handshake_error(err: tungstenite::Error, url: &str) -> Error {
    match err {
        tungstenite::Error::Io(io) => Error::from(io),
        tungstenite::Error::Http(response) => Error::WebSocket(format!(
            "{url} answered HTTP {} instead of switching to WebSocket",
            response.status()
        )),
        tungstenite::Error::Protocol(tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(_)) => {
            Error::WebSocket(format!("{url} did not accept the \"mqtt\" subprotocol"))
        }
        other => Error::WebSocket(format!("{url}: {other}")),
    }
}

/// A WebSocket as a byte stream.
pub(super) struct WsStream<S> {
    inner: WebSocketStream<S>,
    /// What is left of the last binary message, not read yet.
    pending: Bytes,
}

fn io_error(err: tungstenite::Error) -> io::Error {
    match err {
        // Keeps a TLS failure inside visible to `Error::from`.
        tungstenite::Error::Io(io) => io,
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            io::Error::new(io::ErrorKind::BrokenPipe, "the WebSocket is closed")
        }
        other => io::Error::new(io::ErrorKind::InvalidData, format!("WebSocket: {other}")),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.pending.is_empty() {
                let n = self.pending.len().min(buf.remaining());
                let chunk = self.pending.split_to(n);
                buf.put_slice(&chunk);
                return Poll::Ready(Ok(()));
            }
            match ready!(Pin::new(&mut self.inner).poll_next(cx)) {
                Some(Ok(Message::Binary(data))) => self.pending = data,
                // tungstenite answers pings itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Text(_))) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the server sent a text WebSocket frame; MQTT uses binary frames only [MQTT-6.0.0-1]",
                    )));
                }
                // A close frame, or the end of the stream: end of file.
                Some(Ok(Message::Close(_))) | None => return Poll::Ready(Ok(())),
                Some(Err(err)) => return Poll::Ready(Err(io_error(err))),
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for WsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(Pin::new(&mut self.inner).poll_ready(cx)).map_err(io_error)?;
        let frame = Message::Binary(Bytes::copy_from_slice(buf));
        Pin::new(&mut self.inner).start_send(frame).map_err(io_error)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx).map_err(io_error)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx).map_err(io_error)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // the handshake callback's type is tungstenite's
mod tests {
    use std::time::Duration;

    use bytes::BytesMut;
    use poll::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

    use super::*;
    use crate::packet::{decode, encode, ConnAck, Packet, ProtocolVersion, Publish};

    /// Minimal `SinkExt::send` / `StreamExt::next`, to keep futures-util out
    /// of the dependencies for two calls.
    mod poll {
        use std::future::poll_fn;
        use std::pin::Pin;

        use futures_core::Stream;
        use futures_sink::Sink;

        pub(super) async fn send<S: Sink<M> + Unpin, M>(sink: &mut S, item: M) -> Result<(), S::Error> {
            poll_fn(|cx| Pin::new(&mut *sink).poll_ready(cx)).await?;
            Pin::new(&mut *sink).start_send(item)?;
            poll_fn(|cx| Pin::new(&mut *sink).poll_flush(cx)).await
        }

        pub(super) async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
            poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
        }
    }

    fn bytes_of(packet: &Packet) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(packet, ProtocolVersion::V5, &mut out).unwrap();
        out.to_vec()
    }

    fn publish(topic: &str, payload: &'static [u8]) -> Packet {
        Packet::Publish(Publish::new(topic, Bytes::from_static(payload)))
    }

    /// A WebSocket server on one end of a pipe that accepts the `mqtt`
    /// subprotocol; the client adapter on the other end.
    async fn pair() -> (
        WsStream<tokio::io::DuplexStream>,
        WebSocketStream<tokio::io::DuplexStream>,
    ) {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move {
            tokio_tungstenite::accept_hdr_async(server_io, |req: &Request, mut resp: Response| {
                let offered = req.headers().get("Sec-WebSocket-Protocol").cloned();
                assert_eq!(offered.as_ref().and_then(|v| v.to_str().ok()), Some("mqtt"));
                resp.headers_mut()
                    .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
                Ok(resp)
            })
            .await
            .unwrap()
        });
        let target = Target {
            secure: false,
            host: "broker.test",
            port: 8083,
            path: "/mqtt",
            max_message: 1 << 20,
        };
        let client = connect(client_io, target).await.unwrap();
        (client, server.await.unwrap())
    }

    #[tokio::test]
    async fn packets_split_across_frames_and_packed_into_one_are_read() {
        let (mut client, mut server) = pair().await;
        let mut wire = bytes_of(&Packet::ConnAck(ConnAck::default()));
        wire.extend(bytes_of(&publish("a/b", b"first")));
        wire.extend(bytes_of(&publish("a/c", b"second")));
        // Frame 1: half of CONNACK. Frame 2: the rest of it and both PUBLISHes.
        let (head, tail) = wire.split_at(2);
        send(&mut server, Message::Binary(Bytes::copy_from_slice(head)))
            .await
            .unwrap();
        send(&mut server, Message::Ping(Bytes::from_static(b"hi")))
            .await
            .unwrap();
        send(&mut server, Message::Binary(Bytes::copy_from_slice(tail)))
            .await
            .unwrap();

        let mut buf = BytesMut::new();
        let mut packets = Vec::new();
        while packets.len() < 3 {
            let n = tokio::time::timeout(Duration::from_secs(5), client.read_buf(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "end of stream before three packets");
            while let Some(packet) = decode(&mut buf, ProtocolVersion::V5, 1 << 20).unwrap() {
                packets.push(packet);
            }
        }
        assert!(matches!(packets[0], Packet::ConnAck(_)));
        assert!(matches!(&packets[1], Packet::Publish(p) if &*p.topic == "a/b"));
        assert!(matches!(&packets[2], Packet::Publish(p) if p.payload == "second"));
    }

    #[tokio::test]
    async fn each_flushed_write_is_one_binary_frame() {
        let (mut client, mut server) = pair().await;
        let batch = [bytes_of(&publish("x", b"1")), bytes_of(&publish("y", b"2"))].concat();
        client.write_all(&batch).await.unwrap();
        client.flush().await.unwrap();
        match next(&mut server).await {
            Some(Ok(Message::Binary(frame))) => assert_eq!(&frame[..], &batch[..]),
            other => panic!("expected one binary frame, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_text_frame_is_an_error_and_close_is_end_of_stream() {
        let (mut client, mut server) = pair().await;
        send(&mut server, Message::Text("hello".into())).await.unwrap();
        let err = client.read_buf(&mut BytesMut::new()).await.unwrap_err();
        assert!(err.to_string().contains("binary frames only"), "{err}");

        let (mut client, mut server) = pair().await;
        send(&mut server, Message::Close(None)).await.unwrap();
        assert_eq!(client.read_buf(&mut BytesMut::new()).await.unwrap(), 0);
    }

    /// Both directions at once through `tokio::io::split`, as the
    /// connection uses it: nothing may wait for a wake-up that never comes.
    #[tokio::test]
    async fn split_halves_stream_both_ways_without_stalling() {
        let (client, mut server) = pair().await;
        let (mut read, mut write) = tokio::io::split(client);
        const FRAMES: usize = 200;
        let chunk = vec![0xa5u8; 40_000];
        let echo = tokio::spawn(async move {
            for _ in 0..FRAMES {
                match next(&mut server).await {
                    Some(Ok(frame @ Message::Binary(_))) => send(&mut server, frame).await.unwrap(),
                    other => panic!("expected a binary frame, got {other:?}"),
                }
            }
        });
        let writer = tokio::spawn(async move {
            for _ in 0..FRAMES {
                write.write_all(&chunk).await.unwrap();
                write.flush().await.unwrap();
            }
            write
        });
        let mut total = 0;
        let mut buf = vec![0u8; 16 * 1024];
        let reading = async {
            while total < FRAMES * 40_000 {
                let n = read.read(&mut buf).await.unwrap();
                assert!(n > 0);
                total += n;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), reading)
            .await
            .unwrap();
        echo.await.unwrap();
        writer.await.unwrap();
    }
}
