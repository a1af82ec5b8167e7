//! The message streams a connection feeds (see `Client::stream`): which
//! filter each has, and who shares a message's acknowledgement.

use std::sync::atomic::Ordering;

use bytestring::ByteString;

use crate::client::{Delivery, OpenStream};
use crate::packet::{topic, Publish, QoS};
use crate::protocol::Ack;

/// The open streams, few per connection: a list is the right map.
#[derive(Debug, Default)]
pub(super) struct Streams {
    open: Vec<OpenStream>,
    /// The filters the handler subscribed to: a stream closing never
    /// unsubscribes them.
    handler_filters: Vec<ByteString>,
}

impl Streams {
    pub(super) fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    pub(super) fn open(&mut self, stream: OpenStream) {
        self.open.push(stream);
    }

    pub(super) fn handler_subscribed(&mut self, filter: ByteString) {
        self.handler_filters.push(filter);
    }

    /// Whether a stream holds as many messages as it may: the reader then
    /// waits for its consumer.
    pub(super) fn is_full(&self) -> bool {
        self.open
            .iter()
            .any(|stream| stream.buffered.load(Ordering::Relaxed) >= stream.capacity)
    }

    /// Forgets stream `id`; its filter, when nothing else uses it any more.
    pub(super) fn close(&mut self, id: u64) -> Option<ByteString> {
        let at = self.open.iter().position(|stream| stream.id == id)?;
        let closed = self.open.swap_remove(at);
        let in_use = self.open.iter().any(|stream| stream.filter == closed.filter)
            || self.handler_filters.contains(&closed.filter);
        (!in_use).then_some(closed.filter)
    }

    /// Hands `publish` to every stream whose filter matches; how many took
    /// it with a share of its acknowledgement. A QoS 0 message finds a
    /// full stream dropped; a QoS 1/2 message waits unacknowledged in any
    /// (the connection stops reading while a stream is full, so at most
    /// one more arrives).
    pub(super) fn offer(&mut self, publish: &Publish, ack: Option<Ack>) -> u16 {
        let mut taken = 0u16;
        for stream in &self.open {
            if !topic::matches(&stream.filter, &publish.topic) {
                continue;
            }
            let buffered = stream.buffered.load(Ordering::Relaxed);
            if publish.qos == QoS::AtMostOnce && buffered >= stream.capacity {
                tracing::warn!(filter = %stream.filter, buffered, "message stream is full; QoS 0 message dropped");
                continue;
            }
            stream.buffered.fetch_add(1, Ordering::Relaxed);
            let delivery = Delivery {
                publish: publish.clone(),
                ack,
            };
            if stream.tx.send(delivery).is_err() {
                // Dropped, and its CloseStream is on the way.
                stream.buffered.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            if ack.is_some() {
                taken = taken.saturating_add(1);
            }
        }
        taken
    }
}
