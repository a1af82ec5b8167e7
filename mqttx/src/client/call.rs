//! [`CallBuilder`]: an MQTT 5 request whose future is its response.

use std::future::IntoFuture;
use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;

use super::{CallMessage, Client, Response};
use crate::error::Error;
use crate::packet::{Publish, PublishProperties};

/// How long a call waits for its response unless told otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A call being built; `.await` it for the response. See [`Client::call`].
///
/// ```no_run
/// # async fn demo(client: mqttx::Client) -> Result<(), mqttx::Error> {
/// use std::time::Duration;
/// use mqttx::QoS;
///
/// let response = client
///     .call("service/rpc", "ping")
///     .qos(QoS::AtLeastOnce)
///     .timeout(Duration::from_secs(5))
///     .await?;
/// println!("answered {:?}", response.payload);
/// # Ok(()) }
/// ```
#[must_use = "a call does nothing until it is awaited"]
#[derive(Debug)]
pub struct CallBuilder<'a> {
    client: &'a Client,
    message: CallMessage,
}

impl<'a> CallBuilder<'a> {
    super::setters::publish_setters!();

    fn publish_mut(&mut self) -> &mut Publish {
        &mut self.message.request
    }

    pub(super) fn new(client: &'a Client, topic: ByteString, payload: Bytes) -> Self {
        CallBuilder {
            client,
            message: CallMessage {
                request: Publish::new(topic, payload),
                timeout: DEFAULT_CALL_TIMEOUT,
            },
        }
    }

    /// How long to wait for the response (default 30 s); then the call
    /// fails with [`Error::Timeout`] and a late response goes to the
    /// handler.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.message.timeout = timeout;
        self
    }

    /// Where the response is to be published. Unset, it is derived from
    /// the server's Response Information when the server gives one, else
    /// `{client id}/responses`.
    pub fn response_topic(mut self, topic: impl Into<ByteString>) -> Self {
        self.message.request.properties.response_topic = Some(topic.into());
        self
    }

    /// All MQTT 5 PUBLISH properties at once; the Response Topic and
    /// Correlation Data are the call's own and are kept.
    pub fn properties(mut self, properties: PublishProperties) -> Self {
        let response_topic = self.message.request.properties.response_topic.take();
        self.message.request.properties = properties.into();
        self.message.request.properties.response_topic = response_topic;
        self
    }
}

impl IntoFuture for CallBuilder<'_> {
    type Output = Result<Publish, Error>;
    type IntoFuture = Response<Publish>;

    /// Sends the request; the future resolves with the response.
    fn into_future(self) -> Response<Publish> {
        self.client.send_request(self.message)
    }
}
