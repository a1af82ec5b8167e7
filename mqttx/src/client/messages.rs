//! Every request a [`Client`] makes, as an actix [`Message`], for actors
//! that talk to a connection through a [`Recipient`].

use actix::{Message, Recipient};
use bytestring::ByteString;

use super::Client;
use crate::packet::{
    Disconnect, Publish, QoS, SubscribeProperties, SubscriptionOptions, UnsubscribeProperties,
};
use crate::Error;

/// Publish a packet (its packet identifier is assigned by the connection).
/// Resolves like awaiting [`Client::publish`].
///
/// ```no_run
/// # async fn demo(client: mqttx::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use mqttx::{client::PublishRequest, Publish, QoS};
/// let recipient = client.recipient::<PublishRequest>();
/// recipient.send(PublishRequest(Publish::new("a/b", "hello").qos(QoS::AtLeastOnce))).await??;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), Error>")]
pub struct PublishRequest(pub Publish);

/// Subscribe to one filter; resolves to the granted QoS.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<QoS, Error>")]
pub struct SubscribeRequest {
    /// The topic filter.
    pub filter: ByteString,
    /// QoS and subscription options.
    pub options: SubscriptionOptions,
    /// MQTT 5 SUBSCRIBE properties.
    pub properties: SubscribeProperties,
}

/// Remove the subscription to one filter.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), Error>")]
pub struct UnsubscribeRequest {
    /// The topic filter.
    pub filter: ByteString,
    /// MQTT 5 UNSUBSCRIBE properties.
    pub properties: UnsubscribeProperties,
}

/// Disconnect for good, sending this DISCONNECT.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), Error>")]
pub struct DisconnectRequest(pub Disconnect);

/// A request message a [`Client`] can hand out a [`Recipient`] for.
pub trait ClientRequest: Message + Send + Sized + sealed::Sealed + 'static
where
    Self::Result: Send,
{
    /// The connection's recipient for this message.
    fn recipient(client: &Client) -> Recipient<Self>;
}

mod sealed {
    pub trait Sealed {}
}

/// The type-erased mailboxes of one connection actor.
#[derive(Clone)]
pub(crate) struct Recipients {
    pub(crate) publish: Recipient<PublishRequest>,
    pub(crate) subscribe: Recipient<SubscribeRequest>,
    pub(crate) unsubscribe: Recipient<UnsubscribeRequest>,
    pub(crate) disconnect: Recipient<DisconnectRequest>,
}

macro_rules! client_request {
    ($message:ty, $field:ident) => {
        impl sealed::Sealed for $message {}
        impl ClientRequest for $message {
            fn recipient(client: &Client) -> Recipient<Self> {
                client.recipients.$field.clone()
            }
        }
    };
}

client_request!(PublishRequest, publish);
client_request!(SubscribeRequest, subscribe);
client_request!(UnsubscribeRequest, unsubscribe);
client_request!(DisconnectRequest, disconnect);
