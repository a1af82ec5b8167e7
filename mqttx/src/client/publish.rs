use std::future::IntoFuture;

use bytes::Bytes;
use bytestring::ByteString;

use super::{Client, Command, PublishRequest, Reply, Response};
use crate::error::Error;
use crate::packet::{Publish, PublishProperties};

/// A PUBLISH being built; `.await` it to send. See [`Client::publish`].
///
/// ```no_run
/// # async fn demo(client: mqttx::Client) -> Result<(), mqttx::Error> {
/// use mqttx::QoS;
/// client
///     .publish("events/alert", r#"{"level":"high"}"#)
///     .qos(QoS::AtLeastOnce)
///     .retain(true)
///     .content_type("application/json")
///     .message_expiry_interval(3600)
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a publish does nothing until it is awaited"]
#[derive(Debug)]
pub struct PublishBuilder<'a> {
    client: &'a Client,
    publish: Publish,
}

impl<'a> PublishBuilder<'a> {
    super::setters::publish_setters!();

    fn publish_mut(&mut self) -> &mut Publish {
        &mut self.publish
    }

    pub(super) fn new(client: &'a Client, topic: ByteString, payload: Bytes) -> Self {
        PublishBuilder {
            client,
            publish: Publish {
                topic,
                payload,
                ..Publish::default()
            },
        }
    }

    /// The retain flag (default false).
    pub fn retain(mut self, retain: bool) -> Self {
        self.publish.retain = retain;
        self
    }

    /// All MQTT 5 PUBLISH properties at once.
    pub fn properties(mut self, properties: PublishProperties) -> Self {
        self.publish.properties = properties.into();
        self
    }

    /// Response Topic, for request/response.
    pub fn response_topic(mut self, topic: impl Into<ByteString>) -> Self {
        self.publish.properties.response_topic = Some(topic.into());
        self
    }

    /// Correlation Data, for request/response.
    pub fn correlation_data(mut self, data: impl Into<Bytes>) -> Self {
        self.publish.properties.correlation_data = Some(data.into());
        self
    }

    /// The packet as it will be sent (the packet identifier is assigned later).
    pub fn packet(&self) -> &Publish {
        &self.publish
    }

    /// Hands the PUBLISH to the connection and returns at once, with no
    /// way to learn its outcome: nothing is allocated to carry one, so a
    /// warm connection sends a QoS 0 message without allocating at all.
    /// A failure (not connected at QoS 0, too large, refused) is logged,
    /// as for a handler's publish. QoS 1/2 keep every guarantee: they wait
    /// for a reconnect and are resent until acknowledged.
    ///
    /// Nothing holds a detached publisher back, so a loop of them should
    /// await one publish now and then: messages go out in order, so when
    /// an awaited one resolves, everything detached before it has gone too.
    ///
    /// Returns [`Error::Closed`] when the connection has stopped.
    ///
    /// ```no_run
    /// # async fn demo(client: mqttx::Client) -> Result<(), mqttx::Error> {
    /// use mqttx::{ByteString, Bytes};
    /// let topic = ByteString::from_static("metrics/cpu");
    /// for batch in 0..100u32 {
    ///     for i in 0..999u32 {
    ///         let sample = Bytes::from((batch * 1000 + i).to_be_bytes().to_vec());
    ///         client.publish(topic.clone(), sample).detach()?;
    ///     }
    ///     // The 1000th is awaited: the queue never holds more than a batch.
    ///     client.publish(topic.clone(), Bytes::from_static(b"end of batch")).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn detach(self) -> Result<(), Error> {
        self.client.send(Command::Publish(self.publish, Reply::Detached))
    }
}

impl IntoFuture for PublishBuilder<'_> {
    type Output = Result<(), Error>;
    type IntoFuture = Response<()>;

    /// Hands the PUBLISH to the connection; the future resolves with its outcome.
    fn into_future(self) -> Response<()> {
        self.client.send_request(PublishRequest(self.publish))
    }
}
