//! A scripted server at the other end of an in-memory pipe, built on our
//! own codec: it reads what the actor writes and answers as a test says.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::{
    AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf, ReadHalf as PipeReadHalf,
    WriteHalf as PipeWriteHalf,
};
use tokio::sync::mpsc;

use crate::connection::reconnect::Dialer;
use crate::error::Error;
use crate::packet::{decode, encode, ConnAck, Packet, ProtocolVersion, ReasonCode};
use crate::transport::{AckHint, ReadHalf, WriteHalf};

/// How long a test waits for anything before it fails.
pub(super) const DEADLINE: Duration = Duration::from_secs(5);

/// What the next dial gets.
pub(super) enum Answer {
    /// A pipe; the server end goes to the test.
    Accept,
    /// The transport cannot be opened.
    Refuse,
    /// The dial never completes, as a SYN that nothing answers.
    Hang,
}

/// Hands out pipes to the actor's dials and their server ends to the test.
pub(super) struct Network {
    answers: Rc<RefCell<VecDeque<Answer>>>,
    dials: Rc<RefCell<Vec<Instant>>>,
    /// For each read that followed one that brought bytes: whether the
    /// connection had asked for its TCP ACK at once by then.
    quick_acks: Rc<RefCell<Vec<bool>>>,
    /// Writes the client made that took bytes, on every link.
    writes: Rc<Cell<usize>>,
    accepted: mpsc::UnboundedReceiver<Peer>,
}

impl Network {
    /// A network whose dials are answered by `answers` in turn, then accepted.
    pub(super) fn new(answers: impl IntoIterator<Item = Answer>) -> (Network, Dialer) {
        let answers = Rc::new(RefCell::new(answers.into_iter().collect::<VecDeque<_>>()));
        let dials = Rc::new(RefCell::new(Vec::new()));
        let quick_acks = Rc::new(RefCell::new(Vec::new()));
        let writes = Rc::new(Cell::new(0));
        let (tx, accepted) = mpsc::unbounded_channel();
        let script = {
            let answers = Rc::clone(&answers);
            let dials = Rc::clone(&dials);
            let quick_acks = Rc::clone(&quick_acks);
            let writes = Rc::clone(&writes);
            move |hint: AckHint| -> Option<Result<(ReadHalf, WriteHalf), Error>> {
                dials.borrow_mut().push(Instant::now());
                let answer = answers.borrow_mut().pop_front().unwrap_or(Answer::Accept);
                Some(match answer {
                    Answer::Hang => return None,
                    Answer::Refuse => Err(Error::Io(std::sync::Arc::new(std::io::Error::new(
                        std::io::ErrorKind::ConnectionRefused,
                        "scripted refusal",
                    )))),
                    Answer::Accept => {
                        let (client, server) = tokio::io::duplex(64 * 1024);
                        let _ = tx.send(Peer::new(server));
                        let (read, write) = tokio::io::split(client);
                        let probe = HintProbe {
                            read,
                            hint,
                            after_data: false,
                            quick_acks: Rc::clone(&quick_acks),
                        };
                        let write = WriteCount {
                            write,
                            writes: Rc::clone(&writes),
                        };
                        Ok((Box::new(probe), Box::new(write)))
                    }
                })
            }
        };
        let network = Network {
            answers,
            dials,
            quick_acks,
            writes,
            accepted,
        };
        (network, Dialer::Script(Rc::new(script)))
    }

    /// When the actor dialled, in order.
    pub(super) fn dials(&self) -> Vec<Instant> {
        self.dials.borrow().clone()
    }

    /// For each read that followed one that brought bytes, in order:
    /// whether a quick ACK had been asked for by then (the TCP transport
    /// sets TCP_QUICKACK at that read).
    pub(super) fn quick_acks(&self) -> Vec<bool> {
        self.quick_acks.borrow().clone()
    }

    /// How many writes the client made that took bytes, so far.
    pub(super) fn writes(&self) -> usize {
        self.writes.get()
    }

    /// The server end of the next accepted dial.
    pub(super) async fn accept(&mut self) -> Peer {
        match tokio::time::timeout(DEADLINE, self.accepted.recv()).await {
            Ok(Some(peer)) => peer,
            _ => panic!("the client did not dial within {DEADLINE:?}"),
        }
    }

    /// Whether a dial comes within `within`.
    pub(super) async fn dialled_within(&mut self, within: Duration) -> Option<Peer> {
        tokio::time::timeout(within, self.accepted.recv())
            .await
            .ok()
            .flatten()
    }

    /// Answers later dials with `answer` first.
    pub(super) fn then(&self, answer: Answer) {
        self.answers.borrow_mut().push_back(answer);
    }
}

/// The server's end of one connection.
pub(super) struct Peer {
    stream: DuplexStream,
    buf: BytesMut,
    version: ProtocolVersion,
}

impl Peer {
    fn new(stream: DuplexStream) -> Self {
        Peer {
            stream,
            buf: BytesMut::new(),
            version: ProtocolVersion::V5,
        }
    }

    /// Reads and writes `version` from now on (MQTT 5 until told).
    pub(super) fn speak(&mut self, version: ProtocolVersion) {
        self.version = version;
    }

    /// The next packet the client wrote; `None` once it closed the stream.
    pub(super) async fn read(&mut self) -> Option<Packet> {
        let read = async {
            loop {
                match decode(&mut self.buf, self.version, 1 << 20) {
                    Ok(Some(packet)) => return Some(packet),
                    Ok(None) => {}
                    Err(err) => panic!("the client wrote a malformed packet: {err}"),
                }
                match self.stream.read_buf(&mut self.buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        };
        match tokio::time::timeout(DEADLINE, read).await {
            Ok(packet) => packet,
            Err(_) => panic!("the client wrote nothing within {DEADLINE:?}"),
        }
    }

    /// The next packet, which must be there.
    pub(super) async fn expect(&mut self) -> Packet {
        match self.read().await {
            Some(packet) => packet,
            None => panic!("the client closed the stream"),
        }
    }

    pub(super) async fn write(&mut self, packet: Packet) {
        let mut out = BytesMut::new();
        encode(&packet, self.version, &mut out).expect("a packet the codec can encode");
        self.stream.write_all(&out).await.expect("the client end is open");
    }

    /// Reads and drops what the client writes, into `scratch` (so the
    /// reading allocates nothing), until it closes; how many bytes came.
    pub(super) async fn discard(&mut self, scratch: &mut [u8]) -> usize {
        let mut total = self.buf.len();
        self.buf.clear();
        while let Ok(n @ 1..) = self.stream.read(scratch).await {
            total += n;
        }
        total
    }

    /// Bytes as they are, for what our codec would not write.
    pub(super) async fn write_raw(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .await
            .expect("the client end is open");
    }

    /// Bytes as they are, to a client that may close its end meanwhile
    /// (a flood it stops reading): `false` once it has.
    pub(super) async fn try_write_raw(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok()
    }

    /// Writes `bytes` one at a time, `every` apart, as a server at the end
    /// of a very slow link would, and watches for the client closing the
    /// link meanwhile: when it did, if it did before the last byte.
    pub(super) async fn trickle(&mut self, bytes: &[u8], every: Duration) -> Option<Instant> {
        let (mut reader, mut writer) = tokio::io::split(&mut self.stream);
        let buf = &mut self.buf;
        let trickling = async {
            let mut ticks = tokio::time::interval(every);
            let mut next = bytes.iter();
            loop {
                tokio::select! {
                    _ = ticks.tick() => {
                        let &byte = next.next()?;
                        if writer.write_all(&[byte]).await.is_err() {
                            return Some(Instant::now());
                        }
                    }
                    read = reader.read_buf(buf) => {
                        if matches!(read, Ok(0) | Err(_)) {
                            return Some(Instant::now());
                        }
                    }
                }
            }
        };
        match tokio::time::timeout(DEADLINE, trickling).await {
            Ok(closed) => closed,
            Err(_) => panic!("still trickling after {DEADLINE:?}"),
        }
    }

    /// Reads CONNECT and accepts it.
    pub(super) async fn handshake(&mut self) {
        let connect = self.expect().await;
        assert!(
            matches!(connect, Packet::Connect(_)),
            "first comes CONNECT: {connect:?}"
        );
        self.write(Packet::ConnAck(ConnAck::default())).await;
    }

    /// Reads CONNECT and refuses it with `code`.
    pub(super) async fn refuse(&mut self, code: ReasonCode) {
        let connect = self.expect().await;
        assert!(
            matches!(connect, Packet::Connect(_)),
            "first comes CONNECT: {connect:?}"
        );
        let refusal = ConnAck {
            reason_code: code,
            ..ConnAck::default()
        };
        self.write(Packet::ConnAck(refusal)).await;
    }
}

/// The client's read half. The TCP transport sets TCP_QUICKACK at the
/// read where it finds a quick ACK asked for; this notes, at the read after
/// each one that brought bytes, whether one was asked for by then.
struct HintProbe {
    read: PipeReadHalf<DuplexStream>,
    hint: AckHint,
    after_data: bool,
    quick_acks: Rc<RefCell<Vec<bool>>>,
}

impl AsyncRead for HintProbe {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let asked = self.hint.take();
        if std::mem::take(&mut self.after_data) {
            self.quick_acks.borrow_mut().push(asked);
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.read).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.after_data = true;
        }
        polled
    }
}

/// The client's write half, counting the writes that took bytes.
struct WriteCount {
    write: PipeWriteHalf<DuplexStream>,
    writes: Rc<Cell<usize>>,
}

impl AsyncWrite for WriteCount {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.write).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(1..))) {
            self.writes.set(self.writes.get() + 1);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.write).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.write).poll_shutdown(cx)
    }
}
