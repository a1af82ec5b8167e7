use std::future::IntoFuture;

use bytestring::ByteString;

use super::{Client, Response, SubscribeRequest, UnsubscribeRequest};
use crate::packet::{QoS, RetainHandling, SubscribeProperties, SubscriptionOptions, UnsubscribeProperties};

/// A SUBSCRIBE being built; `.await` it for the granted QoS. See
/// [`Client::subscribe`].
///
/// ```no_run
/// # async fn demo(client: mqttx::Client) -> Result<(), mqttx::Error> {
/// use mqttx::{QoS, RetainHandling};
/// let granted = client
///     .subscribe("sensors/+/temp", QoS::ExactlyOnce)
///     .no_local(true)
///     .retain_handling(RetainHandling::DoNotSend)
///     .await?;
/// println!("granted {granted:?}");
/// # Ok(()) }
/// ```
#[must_use = "a subscribe does nothing until it is awaited"]
#[derive(Debug)]
pub struct SubscribeBuilder<'a> {
    client: &'a Client,
    filter: ByteString,
    options: SubscriptionOptions,
    properties: SubscribeProperties,
}

impl<'a> SubscribeBuilder<'a> {
    pub(super) fn new(client: &'a Client, filter: ByteString, qos: QoS) -> Self {
        SubscribeBuilder {
            client,
            filter,
            options: SubscriptionOptions::new(qos),
            properties: SubscribeProperties::default(),
        }
    }

    /// No Local (MQTT 5): don't deliver this client's own publishes back to it.
    pub fn no_local(mut self, no_local: bool) -> Self {
        self.options.no_local = no_local;
        self
    }

    /// Retain As Published (MQTT 5): keep the RETAIN flag as the publisher set it.
    pub fn retain_as_published(mut self, keep: bool) -> Self {
        self.options.retain_as_published = keep;
        self
    }

    /// Retain Handling (MQTT 5): when the broker sends retained messages.
    pub fn retain_handling(mut self, handling: RetainHandling) -> Self {
        self.options.retain_handling = handling;
        self
    }

    /// Subscription Identifier (MQTT 5, 1 to 268,435,455): the broker tags
    /// every message delivered for this subscription with it.
    pub fn subscription_identifier(mut self, id: u32) -> Self {
        self.properties.subscription_identifier = Some(id);
        self
    }

    /// Adds a User Property to the SUBSCRIBE.
    pub fn user_property(mut self, key: impl Into<ByteString>, value: impl Into<ByteString>) -> Self {
        self.properties.user_properties.push((key.into(), value.into()));
        self
    }

    pub(super) fn into_parts(self) -> (&'a Client, ByteString, SubscriptionOptions, SubscribeProperties) {
        (self.client, self.filter, self.options, self.properties)
    }
}

impl IntoFuture for SubscribeBuilder<'_> {
    type Output = Result<QoS, crate::error::Error>;
    type IntoFuture = Response<QoS>;

    /// Sends the SUBSCRIBE; the future resolves with the granted QoS.
    fn into_future(self) -> Response<QoS> {
        self.client.send_request(SubscribeRequest {
            filter: self.filter,
            options: self.options,
            properties: self.properties,
        })
    }
}

/// An UNSUBSCRIBE being built; `.await` it. See [`Client::unsubscribe`].
#[must_use = "an unsubscribe does nothing until it is awaited"]
#[derive(Debug)]
pub struct UnsubscribeBuilder<'a> {
    client: &'a Client,
    filter: ByteString,
    properties: UnsubscribeProperties,
}

impl<'a> UnsubscribeBuilder<'a> {
    pub(super) fn new(client: &'a Client, filter: ByteString) -> Self {
        UnsubscribeBuilder {
            client,
            filter,
            properties: UnsubscribeProperties::default(),
        }
    }

    /// Adds a User Property to the UNSUBSCRIBE.
    pub fn user_property(mut self, key: impl Into<ByteString>, value: impl Into<ByteString>) -> Self {
        self.properties.user_properties.push((key.into(), value.into()));
        self
    }
}

impl IntoFuture for UnsubscribeBuilder<'_> {
    type Output = Result<(), crate::error::Error>;
    type IntoFuture = Response<()>;

    /// Sends the UNSUBSCRIBE; the future resolves once UNSUBACK arrives.
    fn into_future(self) -> Response<()> {
        self.client.send_request(UnsubscribeRequest {
            filter: self.filter,
            properties: self.properties,
        })
    }
}
