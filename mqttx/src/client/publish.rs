use std::future::IntoFuture;

use bytes::Bytes;
use bytestring::ByteString;

use super::{Client, PublishRequest, Response};
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
}

impl IntoFuture for PublishBuilder<'_> {
    type Output = Result<(), Error>;
    type IntoFuture = Response<()>;

    /// Hands the PUBLISH to the connection; the future resolves with its outcome.
    fn into_future(self) -> Response<()> {
        self.client.send_request(PublishRequest(self.publish))
    }
}
