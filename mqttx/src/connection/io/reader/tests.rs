//! The reader against in-memory pipes: framing, buffers, read stamps.

use std::future::poll_fn;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::*;
use crate::connection::io::hold::{WindowBound, MAX_HOLD, MIN_WINDOW};
use crate::connection::io::pacing::Publishing;
use crate::packet::{encode, PubAck, Publish};

fn frame(n: u8) -> BytesMut {
    let mut buf = BytesMut::new();
    let packet = Packet::Publish(Publish::new("t", Bytes::from(vec![n])));
    encode(&packet, ProtocolVersion::V5, &mut buf).unwrap();
    buf
}

/// A stream over an in-memory pipe, and the pipe's other end.
fn over_a_pipe(pacing: bool) -> (PacketStream, tokio::io::DuplexStream) {
    let pipe = pipe(pacing);
    (pipe.stream, pipe.peer)
}

struct Pipe {
    stream: PacketStream,
    peer: tokio::io::DuplexStream,
    backlog: Backlog,
    window_bound: WindowBound,
    read_at: ReadAt,
}

fn pipe(pacing: bool) -> Pipe {
    pipe_reading(pacing, 8 * 1024)
}

/// [`pipe`], making `read_reserve` bytes of room before each read.
fn pipe_reading(pacing: bool, read_reserve: usize) -> Pipe {
    let (reader, peer) = tokio::io::duplex(256 * 1024);
    let window_bound = WindowBound::default();
    let pacing = Pacing {
        reads: ReadPacing::new(pacing, Publishing::default()),
        acks: AckHold::new(pacing, window_bound.clone()),
        gate: ReadGate::default(),
    };
    let backlog = Backlog::default();
    let read_at = ReadAt::default();
    let stream = PacketStream::new(
        Box::new(reader),
        ProtocolVersion::V5,
        1 << 20,
        read_reserve,
        pacing,
        backlog.clone(),
        read_at.clone(),
    );
    Pipe {
        stream,
        peer,
        backlog,
        window_bound,
        read_at,
    }
}

/// The stream's next packet, waited for in real time (a hold is a
/// timerfd, which tokio's paused clock does not move).
async fn next_within_seconds(stream: &mut PacketStream) -> Packet {
    let next = poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx));
    match tokio::time::timeout(std::time::Duration::from_secs(5), next).await {
        Ok(Some(Ok(packet))) => packet,
        other => panic!("no packet within 5 s: {other:?}"),
    }
}

fn puback() -> BytesMut {
    let mut buf = BytesMut::new();
    let ack = Packet::PubAck(PubAck::new(std::num::NonZeroU16::MIN));
    encode(&ack, ProtocolVersion::V5, &mut buf).unwrap();
    buf
}

/// A publisher whose window is full reads its next acknowledgements
/// only once the hold is over, however soon they arrive; one with room
/// reads them at once.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[tokio::test]
async fn a_full_window_holds_the_next_read_back() {
    let Pipe {
        mut stream,
        mut peer,
        window_bound,
        ..
    } = pipe(true);
    window_bound.update(1000, 1000, 1);
    peer.write_all(&puback()).await.unwrap();
    assert!(
        poll_once(&mut stream).await.is_some(),
        "the first is read at once"
    );
    let drained = std::time::Instant::now();
    assert!(poll_once(&mut stream).await.is_none(), "drained: the hold starts");
    peer.write_all(&puback()).await.unwrap();
    assert!(poll_once(&mut stream).await.is_none(), "held, though readable");
    let next = next_within_seconds(&mut stream).await;
    assert!(matches!(next, Packet::PubAck(_)), "{next:?}");
    assert!(drained.elapsed() >= MAX_HOLD);

    // A hold that brought most of the window's acknowledgements is halved.
    let window = MIN_WINDOW as usize;
    window_bound.update(window, window, 1);
    assert!(poll_once(&mut stream).await.is_none());
    peer.write_all(&puback().repeat(window * 3 / 4)).await.unwrap();
    next_within_seconds(&mut stream).await;
    while poll_once(&mut stream).await.is_some() {}
    assert_eq!(stream.pacing.acks.current(), MAX_HOLD / 2);

    // Room in the window: once the hold under way is over, read at once.
    window_bound.update(0, 1000, 0);
    peer.write_all(&puback()).await.unwrap();
    next_within_seconds(&mut stream).await;
    assert!(poll_once(&mut stream).await.is_none(), "drained; no hold now");
    peer.write_all(&puback()).await.unwrap();
    assert!(poll_once(&mut stream).await.is_some(), "read at once");
}

/// Packets arrive when the read that brought them did: one clock
/// reading per read, which the connection uses for every packet of it.
#[tokio::test]
async fn each_read_that_brings_bytes_is_stamped_for_the_packets_it_brought() {
    let Pipe {
        mut stream,
        mut peer,
        read_at,
        ..
    } = pipe(false);
    assert_eq!(read_at.get(), None, "nothing read yet");
    let mut two = frame(1);
    two.extend_from_slice(&frame(2));
    let before = Instant::now();
    peer.write_all(&two).await.unwrap();
    assert!(poll_once(&mut stream).await.is_some());
    let stamp = read_at.get().expect("the read was stamped");
    assert!(stamp >= before && stamp <= Instant::now());
    assert!(poll_once(&mut stream).await.is_some());
    assert_eq!(
        read_at.get(),
        Some(stamp),
        "the second packet came in the same read"
    );
}

/// The backlog stays raised while the read buffer holds another whole
/// packet, and is lowered with the last one, even when part of the next
/// is already buffered: waiting for the rest could take any time.
#[tokio::test]
async fn the_backlog_is_raised_while_a_whole_packet_waits_in_the_buffer() {
    let Pipe {
        mut stream,
        mut peer,
        backlog,
        ..
    } = pipe(false);
    let mut burst = BytesMut::new();
    for n in 0..3 {
        burst.extend_from_slice(&frame(n));
    }
    let next = frame(3);
    burst.extend_from_slice(&next[..next.len() - 1]);
    peer.write_all(&burst).await.unwrap();
    for n in 0..3u8 {
        let packet = poll_once(&mut stream).await.expect("a packet");
        assert!(matches!(&packet, Packet::Publish(p) if p.payload[..] == [n]));
        assert_eq!(backlog.is_raised(), n < 2, "after packet {n}");
    }
    assert!(poll_once(&mut stream).await.is_none(), "the fourth is incomplete");
    peer.write_all(&next[next.len() - 1..]).await.unwrap();
    assert!(poll_once(&mut stream).await.is_some());
    assert!(!backlog.is_raised());
}

/// Polls once: `Some` with what the stream had ready, `None` if pending.
async fn poll_once(stream: &mut PacketStream) -> Option<Packet> {
    poll_fn(|cx| {
        Poll::Ready(match Pin::new(&mut *stream).poll_next(cx) {
            Poll::Ready(Some(Ok(packet))) => Some(packet),
            Poll::Ready(other) => panic!("stream ended: {other:?}"),
            Poll::Pending => None,
        })
    })
    .await
}

/// Sixteen messages, each drained on its own within a millisecond, put
/// the stream into pausing; a message arriving then waits for the end
/// of the pause, and is read as soon as it ends.
#[tokio::test(start_paused = true)]
async fn a_dense_stream_pauses_between_reads_and_reads_again_after_the_pause() {
    let (mut stream, mut peer) = over_a_pipe(true);
    for n in 0..16 {
        peer.write_all(&frame(n)).await.unwrap();
        assert!(
            poll_once(&mut stream).await.is_some(),
            "message {n} is read at once"
        );
        assert!(poll_once(&mut stream).await.is_none(), "then the socket is empty");
    }
    peer.write_all(&frame(16)).await.unwrap();
    assert!(
        poll_once(&mut stream).await.is_none(),
        "the pause holds the read back"
    );
    tokio::time::advance(PAUSE / 2).await;
    assert!(poll_once(&mut stream).await.is_none(), "still pausing");
    tokio::time::advance(PAUSE).await;
    assert!(
        poll_once(&mut stream).await.is_some(),
        "read once the pause is over"
    );
}

/// With pacing off the same stream is read as it arrives.
#[tokio::test(start_paused = true)]
async fn with_pacing_off_every_message_is_read_at_once() {
    let (mut stream, mut peer) = over_a_pipe(false);
    for n in 0..40 {
        peer.write_all(&frame(n)).await.unwrap();
        assert!(poll_once(&mut stream).await.is_some(), "message {n}");
        assert!(poll_once(&mut stream).await.is_none());
    }
}

/// The most bytes the stream held at once while it read `total` bytes of
/// small PUBLISHes written before the first read.
async fn most_buffered(read_reserve: usize, total: usize) -> usize {
    let Pipe {
        mut stream, mut peer, ..
    } = pipe_reading(false, read_reserve);
    let one = frame(7);
    let count = total / one.len();
    peer.write_all(&one.repeat(count)).await.unwrap();
    let mut most = 0;
    for _ in 0..count {
        next_within_seconds(&mut stream).await;
        most = most.max(stream.buf.len());
    }
    most
}

/// `ConnectOptions::read_buffer`: the room made before each read bounds
/// what one read takes in.
#[tokio::test]
async fn the_read_buffer_bounds_what_one_read_takes_in() {
    let small = most_buffered(2 * 1024, 128 * 1024).await;
    let large = most_buffered(64 * 1024, 128 * 1024).await;
    assert!(small < 8 * 1024, "2 KiB of room: {small} bytes at once");
    assert!(large > 32 * 1024, "64 KiB of room: {large} bytes at once");
}
