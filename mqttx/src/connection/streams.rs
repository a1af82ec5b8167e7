//! The message streams a connection feeds (see `Client::stream`): which
//! subscription each has, who gets each copy of a message, and who shares
//! its acknowledgement.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use bytestring::ByteString;

use crate::client::{Delivery, OpenStream, STREAM_IDENTIFIERS};
use crate::packet::{topic, Publish, QoS};
use crate::protocol::Ack;

/// The open streams, few per connection: a list is the right map.
#[derive(Debug, Default)]
pub(super) struct Streams {
    open: Vec<OpenStream>,
    /// The filters the handler subscribed to: a stream closing never
    /// unsubscribes them.
    handler_filters: Vec<ByteString>,
    /// The filter of every Subscription Identifier subscribed with. A
    /// server keeps one subscription per filter, named by the identifier
    /// of its latest SUBSCRIBE, so a copy naming any of a filter's
    /// identifiers is for everyone subscribed to that filter.
    names: HashMap<u32, ByteString>,
    /// Whether copies of messages name their subscriptions (MQTT 5 and a
    /// server with Subscription Identifiers). Without, a stream takes every
    /// copy whose topic its filter matches, and the handler every copy.
    identified: bool,
}

/// Who took a copy of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Offer {
    /// Streams that took it, each holding a share of its acknowledgement.
    pub(super) streams: u16,
    /// Whether the copy is the handler's too.
    pub(super) handler: bool,
    /// Full streams that dropped it (QoS 0 only).
    pub(super) dropped: u32,
}

impl Streams {
    pub(super) fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    pub(super) fn open(&mut self, stream: OpenStream) {
        self.names.insert(stream.identifier, stream.filter.clone());
        self.open.push(stream);
    }

    pub(super) fn handler_subscribed(&mut self, filter: ByteString, identifier: Option<u32>) {
        if let Some(identifier) = identifier {
            self.names.insert(identifier, filter.clone());
        }
        self.handler_filters.push(filter);
    }

    /// After each CONNACK: whether this connection's copies name their
    /// subscriptions.
    pub(super) fn identified(&mut self, identified: bool) {
        self.identified = identified;
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
        if in_use {
            return None;
        }
        self.names.retain(|_, filter| *filter != closed.filter);
        Some(closed.filter)
    }

    /// Hands a copy of a message to the streams it is for: those whose
    /// subscription it names, or, where copies name none, those whose
    /// filter matches. A QoS 0 message finds a full stream dropped; a QoS
    /// 1/2 message waits unacknowledged in any (the connection stops
    /// reading while a stream is full, so at most one more arrives).
    pub(super) fn offer(&mut self, publish: &Publish, ack: Option<Ack>) -> Offer {
        let named = &publish.properties.subscription_identifiers;
        let by_name = self.identified && !named.is_empty();
        let named_filters: Vec<&ByteString> = named.iter().filter_map(|id| self.names.get(id)).collect();
        let mut taken = 0u16;
        let mut dropped = 0u32;
        for stream in &self.open {
            let for_stream = if by_name {
                named_filters.contains(&&stream.filter)
            } else {
                !self.identified && topic::matches(&stream.filter, &publish.topic)
            };
            if !for_stream {
                continue;
            }
            let buffered = stream.buffered.load(Ordering::Relaxed);
            if publish.qos == QoS::AtMostOnce && buffered >= stream.capacity {
                tracing::warn!(filter = %stream.filter, buffered, "message stream is full; QoS 0 message dropped");
                dropped += 1;
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
        // The handler's: a copy naming one of its filters, or a
        // subscription made by hand (an identifier we did not make). One
        // naming only streams' subscriptions (open ones, or ones just closed
        // whose copies are still arriving) is not.
        let handler = !by_name
            || named.iter().any(|id| match self.names.get(id) {
                Some(filter) => self.handler_filters.contains(filter),
                None => *id < STREAM_IDENTIFIERS,
            });
        Offer {
            streams: taken,
            handler,
            dropped,
        }
    }
}
