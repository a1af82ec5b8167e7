//! [`RequestBuilder`]: an MQTT 5 request, published with a Response Topic
//! and fresh Correlation Data.

use std::future::IntoFuture;

use bytes::Bytes;
use bytestring::ByteString;

use super::{Client, RequestMessage, Response};
use crate::error::Error;
use crate::packet::{Publish, PublishProperties};

/// A request being built; `.await` it for the Correlation Data it was sent
/// with. See [`Client::request`].
///
/// The connection subscribes to the Response Topic the first time a
/// request names it (once per client, restored after a reconnect that lost
/// the session), so the response reaches the handler, which can match it
/// by its Correlation Data.
///
/// ```no_run
/// # async fn demo(client: mqttx::Client) -> Result<(), mqttx::Error> {
/// use mqttx::QoS;
/// let correlation = client
///     .request("service/rpc", "ping")
///     .response_topic("reply/my_client")
///     .qos(QoS::AtLeastOnce)
///     .await?;
/// println!("sent request {correlation:?}");
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is awaited"]
#[derive(Debug)]
pub struct RequestBuilder<'a> {
    client: &'a Client,
    message: RequestMessage,
}

impl<'a> RequestBuilder<'a> {
    super::setters::publish_setters!();

    fn publish_mut(&mut self) -> &mut Publish {
        &mut self.message.0
    }

    pub(super) fn new(client: &'a Client, topic: ByteString, payload: Bytes) -> Self {
        RequestBuilder {
            client,
            message: RequestMessage(Publish::new(topic, payload)),
        }
    }

    /// Where the response is to be published. Unset, it is
    /// `{client id}/responses`.
    pub fn response_topic(mut self, topic: impl Into<ByteString>) -> Self {
        self.message.0.properties.response_topic = Some(topic.into());
        self
    }

    /// All MQTT 5 PUBLISH properties at once; the Response Topic and
    /// Correlation Data are the request's own and are kept.
    pub fn properties(mut self, properties: PublishProperties) -> Self {
        let response_topic = self.message.0.properties.response_topic.take();
        self.message.0.properties = properties.into();
        self.message.0.properties.response_topic = response_topic;
        self
    }
}

impl IntoFuture for RequestBuilder<'_> {
    type Output = Result<Bytes, Error>;
    type IntoFuture = Response<Bytes>;

    /// Sends the request; the future resolves with its Correlation Data
    /// once the publish completes (as [`Client::publish`] does).
    fn into_future(self) -> Response<Bytes> {
        self.client.send_request(self.message)
    }
}
