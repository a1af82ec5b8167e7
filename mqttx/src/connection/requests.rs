//! MQTT 5 requests: fresh Correlation Data for each, and the subscription
//! to each Response Topic, made the first time a request names it.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;
use tokio::sync::oneshot;

use crate::client::{Answer, Reply, RequestReply};
use crate::error::Error;
use crate::packet::topic::valid_topic_name;
use crate::packet::{ProtocolVersion, Publish, QoS, SubscribeProperties, SubscriptionOptions};
use crate::protocol::Protocol;

/// The requests of one connection.
#[derive(Debug, Default)]
pub(super) struct Requests {
    /// Keys the hash half of Correlation Data; made for this connection.
    keys: RandomState,
    sent: u64,
    /// Response Topics subscribed to; the state machine restores them after
    /// a reconnect that lost the session.
    response_topics: Vec<ByteString>,
}

impl Requests {
    /// Queues `request`: its subscription first if the topic is new, so the
    /// response cannot arrive before it, then the publish.
    pub(super) fn send(
        &mut self,
        mut request: Publish,
        tx: oneshot::Sender<Answer<Bytes>>,
        protocol: &mut Protocol<Reply>,
        client_id: &str,
        now: Instant,
    ) {
        if protocol.config().version != ProtocolVersion::V5 {
            let refusal = Error::InvalidOptions("request/response needs MQTT 5".into());
            let _ = tx.send(Err(Box::new(refusal)));
            return;
        }
        let topic = request
            .properties
            .response_topic
            .get_or_insert_with(|| format!("{client_id}/responses").into())
            .clone();
        // A Response Topic is a topic name: no wildcards [MQTT-3.3.2-14].
        if !valid_topic_name(&topic) {
            let _ = tx.send(Err(Box::new(Error::InvalidTopic)));
            return;
        }
        if !self.response_topics.contains(&topic) {
            let filter = vec![(topic.clone(), SubscriptionOptions::new(QoS::AtLeastOnce))];
            protocol.subscribe(filter, SubscribeProperties::default(), Reply::Detached, now);
            self.response_topics.push(topic);
        }
        let correlation = self.next_correlation();
        request.properties.correlation_data = Some(correlation.clone());
        let reply = Reply::Request(Box::new(RequestReply { correlation, tx }));
        protocol.publish(request, reply, now);
    }

    /// 16 bytes: the request's number, unique for the connection's life,
    /// and a keyed hash of it that nobody else can predict.
    fn next_correlation(&mut self) -> Bytes {
        self.sent += 1;
        let mut data = BytesMut::with_capacity(16);
        data.put_u64(self.sent);
        data.put_u64(self.keys.hash_one(self.sent));
        data.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_data_is_unique_and_differs_between_connections() {
        let mut one = Requests::default();
        let mut two = Requests::default();
        let a: Vec<Bytes> = (0..1000).map(|_| one.next_correlation()).collect();
        let unique: std::collections::HashSet<&Bytes> = a.iter().collect();
        assert_eq!(unique.len(), a.len());
        let b = two.next_correlation();
        assert_eq!(b.len(), 16);
        assert_ne!(a[0], b, "same number, different keys");
    }
}
