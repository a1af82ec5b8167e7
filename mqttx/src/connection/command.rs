//! What travels from a `Client` to its connection, and back.

use bytestring::ByteString;
use tokio::sync::oneshot;

use crate::client::Outcome;
use crate::packet::{
    Disconnect, Publish, QoS, SubscribeProperties, SubscriptionOptions, UnsubscribeProperties,
};
use crate::Error;

/// A request on the client-to-connection channel.
pub(crate) enum Command {
    Publish(Publish, Reply),
    Subscribe(Vec<(ByteString, SubscriptionOptions)>, SubscribeProperties, Reply),
    Unsubscribe(Vec<ByteString>, UnsubscribeProperties, Reply),
    Disconnect(Disconnect, oneshot::Sender<Result<(), Error>>),
    /// Test-only fault injection: the actor panics on it.
    Panic,
}

/// Who waits for a command's outcome: the tag the protocol state machine
/// hands back in the command's completion event.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Nobody: a handler's fire-and-forget publish, or a handler's subscription.
    Detached,
    Publish(oneshot::Sender<Outcome<()>>),
    /// The filter names the refusal in the error.
    Subscribe(ByteString, oneshot::Sender<Outcome<QoS>>),
    Unsubscribe(ByteString, oneshot::Sender<Outcome<()>>),
}
