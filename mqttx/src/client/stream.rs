//! [`Client::stream`]: a subscription whose messages are consumed as a
//! [`Stream`](futures_core::Stream), with QoS 1/2 back-pressure.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytestring::ByteString;
use tokio::sync::mpsc;

use super::{Client, Command, IntoCommand, SubscribeBuilder, SubscribeRequest};
use crate::error::Error;
use crate::packet::{Publish, QoS};
use crate::protocol::Ack;

/// How many QoS 0 messages a stream holds for a consumer that lags
/// behind, unless [`StreamBuilder::buffer`] says otherwise.
pub const DEFAULT_STREAM_BUFFER: usize = 1024;

/// A message on its way to a stream, with the acknowledgement it holds.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) publish: Publish,
    pub(crate) ack: Option<Ack>,
}

/// What the connection needs to feed a new stream.
#[derive(Debug)]
pub(crate) struct OpenStream {
    pub(crate) id: u64,
    pub(crate) filter: ByteString,
    pub(crate) tx: mpsc::UnboundedSender<Delivery>,
    /// Messages sent and not yet taken, shared with the stream.
    pub(crate) buffered: Arc<AtomicUsize>,
    pub(crate) capacity: usize,
    /// The Subscription Identifier that names the stream's own copies
    /// (MQTT 5, when the server has them).
    pub(crate) identifier: u32,
}

/// Where the Subscription Identifiers of streams start, unless one is set:
/// far above those of `#[mqtt_handler]` routes (1, 2, ...).
pub(crate) const STREAM_IDENTIFIERS: u32 = 0x0800_0000;

/// The largest Subscription Identifier (268,435,455).
const MAX_IDENTIFIER: u32 = 0x0FFF_FFFF;

/// A stream subscription being built; `.await` it for the
/// [`MessageStream`]. See [`Client::stream`].
#[must_use = "a stream subscribes only when awaited"]
#[derive(Debug)]
pub struct StreamBuilder<'a> {
    subscribe: SubscribeBuilder<'a>,
    capacity: usize,
}

impl<'a> StreamBuilder<'a> {
    pub(super) fn new(client: &'a Client, filter: ByteString, qos: QoS) -> Self {
        StreamBuilder {
            subscribe: SubscribeBuilder::new(client, filter, qos),
            capacity: DEFAULT_STREAM_BUFFER,
        }
    }

    /// How many QoS 0 messages wait for a slow consumer before newer ones
    /// are dropped (default [`DEFAULT_STREAM_BUFFER`]). QoS 1/2 messages
    /// are never dropped: they wait unacknowledged, and the server's flow
    /// control (our Receive Maximum on MQTT 5) bounds how many.
    pub fn buffer(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// The subscription's MQTT 5 options, as on [`Client::subscribe`].
    ///
    /// ```no_run
    /// # async fn demo(client: mqttx::Client) -> Result<(), mqttx::Error> {
    /// use mqttx::QoS;
    /// let mine_excluded = client
    ///     .stream("chat/room1", QoS::AtLeastOnce)
    ///     .subscription(|s| s.no_local(true))
    ///     .await?;
    /// # drop(mine_excluded);
    /// # Ok(()) }
    /// ```
    pub fn subscription(mut self, set: impl FnOnce(SubscribeBuilder<'a>) -> SubscribeBuilder<'a>) -> Self {
        self.subscribe = set(self.subscribe);
        self
    }
}

impl IntoFuture for StreamBuilder<'_> {
    type Output = Result<MessageStream, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<MessageStream, Error>> + Send + 'static>>;

    /// Registers the stream with the connection, then subscribes: no
    /// message of the subscription can arrive before the stream is there.
    fn into_future(self) -> Self::IntoFuture {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let (client, mut request) = self.subscribe.into_request();
        // Each stream's own copies of a message carry its identifier: a
        // message is then handed to the streams (and the handler) whose
        // subscription it came through, once each, even where
        // subscriptions overlap.
        let identifier = *request.properties.subscription_identifier.get_or_insert_with(|| {
            let span = u64::from(MAX_IDENTIFIER - STREAM_IDENTIFIERS);
            STREAM_IDENTIFIERS + u32::try_from(id % span).unwrap_or(0)
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let buffered = Arc::new(AtomicUsize::new(0));
        let open = OpenStream {
            id,
            filter: request.filter.clone(),
            tx,
            buffered: Arc::clone(&buffered),
            capacity: self.capacity,
            identifier,
        };
        let opened = client.send(Command::OpenStream(Box::new(open)));
        let mut stream = MessageStream {
            id,
            rx,
            buffered,
            client: client.clone(),
            subscribed: false,
        };
        let (command, granted) = IntoCommand::into_command(request);
        let sent = opened.and_then(|()| client.send(command));
        Box::pin(async move {
            sent?;
            granted.await?;
            stream.subscribed = true;
            Ok(stream)
        })
    }
}

/// The messages of one subscription, as a [`Stream`](futures_core::Stream)
/// of [`Publish`]es; made by [`Client::stream`].
///
/// A QoS 1/2 message is acknowledged when the stream hands it out, so a
/// slow consumer slows the server down instead of filling a queue. The
/// stream ends when the connection stops for good. Dropping it
/// unsubscribes, unless another stream or the handler's own routes use the
/// same filter; messages it still held are acknowledged, not delivered.
#[derive(Debug)]
pub struct MessageStream {
    id: u64,
    rx: mpsc::UnboundedReceiver<Delivery>,
    buffered: Arc<AtomicUsize>,
    client: Client,
    subscribed: bool,
}

impl futures_core::Stream for MessageStream {
    type Item = Publish;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Publish>> {
        let this = self.get_mut();
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(delivery)) => Poll::Ready(Some(this.take(delivery))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl MessageStream {
    /// The next message; `None` once the connection has stopped for good.
    /// The same as `StreamExt::next`, without needing the trait.
    pub async fn recv(&mut self) -> Option<Publish> {
        let delivery = self.rx.recv().await?;
        Some(self.take(delivery))
    }

    /// How many messages wait in the stream, not yet taken. For QoS 1/2
    /// this is bounded by the server's flow control: none of them is
    /// acknowledged yet.
    pub fn len(&self) -> usize {
        self.buffered.load(Ordering::Relaxed)
    }

    /// Whether no message waits in the stream.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands a message out: from now on it is the consumer's, so its
    /// acknowledgement goes to the server.
    fn take(&mut self, delivery: Delivery) -> Publish {
        self.buffered.fetch_sub(1, Ordering::Relaxed);
        if let Some(ack) = delivery.ack {
            let _ = self.client.send(Command::Acknowledge(ack));
        }
        delivery.publish
    }
}

impl Drop for MessageStream {
    fn drop(&mut self) {
        self.rx.close();
        while let Ok(delivery) = self.rx.try_recv() {
            if let Some(ack) = delivery.ack {
                let _ = self.client.send(Command::Acknowledge(ack));
            }
        }
        let _ = self.client.send(Command::CloseStream {
            id: self.id,
            unsubscribe: self.subscribed,
        });
    }
}

impl SubscribeBuilder<'_> {
    /// The request this builder describes, and the client to send it on.
    pub(super) fn into_request(self) -> (Client, SubscribeRequest) {
        let (client, filter, options, properties) = self.into_parts();
        (
            client.clone(),
            SubscribeRequest {
                filter,
                options,
                properties,
            },
        )
    }
}
