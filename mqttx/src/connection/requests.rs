//! MQTT 5 requests: fresh Correlation Data for each, the subscription to
//! each Response Topic (made the first time a request names it), and the
//! calls waiting for their response.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;
use tokio::sync::oneshot;

use crate::client::{Answer, CallCommand, Reply, RequestReply};
use crate::error::Error;
use crate::packet::topic::valid_topic_name;
use crate::packet::{ConnAck, ProtocolVersion, Publish, QoS, SubscribeProperties, SubscriptionOptions};
use crate::protocol::{Ack, Protocol};

/// The requests of one connection.
#[derive(Debug, Default)]
pub(super) struct Requests {
    /// Keys the hash half of Correlation Data; made for this connection.
    keys: RandomState,
    sent: u64,
    /// Response Topics subscribed to; the state machine restores them after
    /// a reconnect that lost the session.
    response_topics: Vec<ByteString>,
    /// The server's Response Information, from the last CONNACK.
    response_information: Option<ByteString>,
    /// Calls waiting for their response, by Correlation Data.
    calls: HashMap<Bytes, Waiting>,
    /// The same calls by deadline, so one timer serves them all: a timer
    /// per call would be a future on the actor's context each, and actix
    /// polls all of them on every wake.
    deadlines: BTreeSet<(Instant, Bytes)>,
}

/// A call waiting for its response.
#[derive(Debug)]
struct Waiting {
    tx: oneshot::Sender<Answer<Publish>>,
    deadline: Instant,
    timeout: Duration,
}

impl Requests {
    /// Queues `request` for a caller that waits for its publish only.
    pub(super) fn send(
        &mut self,
        mut request: Publish,
        tx: oneshot::Sender<Answer<Bytes>>,
        protocol: &mut Protocol<Reply>,
        client_id: &str,
        now: Instant,
    ) {
        match self.prepare(&mut request, protocol, client_id, now) {
            Ok(correlation) => {
                let reply = Reply::Request(Box::new(RequestReply { correlation, tx }));
                protocol.publish(request, reply, now);
            }
            Err(err) => {
                let _ = tx.send(Err(Box::new(err)));
            }
        }
    }

    /// Queues a call's request, its caller waiting for the response from
    /// now on (a response may come before the request's last
    /// acknowledgement).
    pub(super) fn call(
        &mut self,
        call: CallCommand,
        protocol: &mut Protocol<Reply>,
        client_id: &str,
        now: Instant,
    ) {
        let CallCommand {
            mut request,
            timeout,
            tx,
        } = call;
        match self.prepare(&mut request, protocol, client_id, now) {
            Ok(correlation) => {
                let deadline = now + timeout;
                self.deadlines.insert((deadline, correlation.clone()));
                let waiting = Waiting {
                    tx,
                    deadline,
                    timeout,
                };
                self.calls.insert(correlation.clone(), waiting);
                protocol.publish(request, Reply::Call(Box::new(correlation)), now);
            }
            Err(err) => {
                let _ = tx.send(Err(Box::new(err)));
            }
        }
    }

    /// Gives `publish` to the call waiting for it, if it is one's response:
    /// `Ok` with the acknowledgement to send for it, else the message back.
    #[inline]
    pub(super) fn answer(&mut self, publish: Publish) -> Result<Option<Ack>, Publish> {
        if self.calls.is_empty() {
            return Err(publish);
        }
        let Some(waiting) = publish
            .properties
            .correlation_data
            .as_ref()
            .and_then(|correlation| self.take(correlation))
        else {
            return Err(publish);
        };
        let ack = Ack::of(&publish);
        match waiting.tx.send(Ok(publish)) {
            Ok(()) => Ok(ack),
            // The caller stopped waiting: the handler gets it, as a late one.
            Err(unanswered) => match unanswered {
                Ok(publish) => Err(publish),
                Err(_) => Ok(ack),
            },
        }
    }

    /// The request of the call with `correlation` could not be published.
    pub(super) fn fail(&mut self, correlation: &Bytes, err: Error) {
        if let Some(waiting) = self.take(correlation) {
            let _ = waiting.tx.send(Err(Box::new(err)));
        }
    }

    /// Fails every call whose deadline has passed.
    pub(super) fn expire(&mut self, now: Instant) {
        while self
            .deadlines
            .first()
            .is_some_and(|(deadline, _)| *deadline <= now)
        {
            let Some((_, correlation)) = self.deadlines.pop_first() else {
                return;
            };
            if let Some(waiting) = self.calls.remove(&correlation) {
                let after = waiting.timeout;
                let _ = waiting.tx.send(Err(Box::new(Error::Timeout { after })));
            }
        }
    }

    /// When the next call's time is up, if any waits.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(deadline, _)| *deadline)
    }

    fn take(&mut self, correlation: &Bytes) -> Option<Waiting> {
        let waiting = self.calls.remove(correlation)?;
        self.deadlines.remove(&(waiting.deadline, correlation.clone()));
        Some(waiting)
    }

    /// The connection stopped for good: every call fails.
    pub(super) fn close(&mut self) {
        self.deadlines.clear();
        for (_, waiting) in self.calls.drain() {
            let _ = waiting.tx.send(Err(Box::new(Error::Closed)));
        }
    }

    /// A CONNACK: the server's Response Information, if it gave one.
    pub(super) fn connected(&mut self, connack: &ConnAck) {
        self.response_information = connack.properties.response_information.clone();
    }

    /// Checks `request`, gives it its Response Topic (subscribing first if
    /// the topic is new, so the response cannot come before the
    /// subscription) and fresh Correlation Data, which it returns.
    fn prepare(
        &mut self,
        request: &mut Publish,
        protocol: &mut Protocol<Reply>,
        client_id: &str,
        now: Instant,
    ) -> Result<Bytes, Error> {
        if protocol.config().version != ProtocolVersion::V5 {
            return Err(Error::InvalidOptions("request/response needs MQTT 5".into()));
        }
        let default_topic = || match &self.response_information {
            Some(base) => format!("{}/responses", base.trim_end_matches('/')).into(),
            None => format!("{client_id}/responses").into(),
        };
        let topic = request
            .properties
            .response_topic
            .get_or_insert_with(default_topic)
            .clone();
        // A Response Topic is a topic name: no wildcards [MQTT-3.3.2-14].
        if !valid_topic_name(&topic) {
            return Err(Error::InvalidTopic);
        }
        if !self.response_topics.contains(&topic) {
            let filter = vec![(topic.clone(), SubscriptionOptions::new(QoS::AtLeastOnce))];
            protocol.subscribe(filter, SubscribeProperties::default(), Reply::Detached, now);
            self.response_topics.push(topic);
        }
        let correlation = self.next_correlation();
        request.properties.correlation_data = Some(correlation.clone());
        Ok(correlation)
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
