//! What travels from a `Client` to its connection, and back.

use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;
use tokio::sync::oneshot;

use super::stream::OpenStream;
use super::Answer;
use crate::packet::{
    Disconnect, Publish, QoS, SubscribeProperties, SubscriptionOptions, UnsubscribeProperties,
};
use crate::protocol::Ack;

/// A request on the client-to-connection channel.
pub(crate) enum Command {
    Publish(Publish, Reply),
    /// A publish that is a request: the connection gives it Correlation
    /// Data and makes sure of the subscription to its Response Topic.
    Request(Publish, oneshot::Sender<Answer<Bytes>>),
    /// A request whose caller waits for the response. Boxed: calls are
    /// rare next to publishes, which should not pay for their size.
    Call(Box<CallCommand>),
    Subscribe(Vec<(ByteString, SubscriptionOptions)>, SubscribeProperties, Reply),
    Unsubscribe(Vec<ByteString>, UnsubscribeProperties, Reply),
    Disconnect(Disconnect, oneshot::Sender<Answer<()>>),
    /// Re-authenticate, with this Authentication Data when no authenticator makes it.
    Reauthenticate(Option<Bytes>, Reply),
    /// A message stream to feed from now on.
    OpenStream(Box<OpenStream>),
    /// A message stream was dropped: forget it, and unsubscribe its filter
    /// when nothing else uses it.
    CloseStream {
        id: u64,
        unsubscribe: bool,
    },
    /// A message stream handed out a QoS 1/2 message.
    Acknowledge(Ack),
    /// Test-only fault injection: the actor panics on it.
    Panic,
}

/// Who waits for a command's outcome: the tag the protocol state machine
/// hands back in the command's completion event.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Nobody: a handler's fire-and-forget publish, or a handler's subscription.
    Detached,
    Publish(oneshot::Sender<Answer<()>>),
    /// A request's publish: answered with its Correlation Data.
    Request(Box<RequestReply>),
    /// A call's publish, by its Correlation Data: a failure fails the call.
    Call(Box<Bytes>),
    /// Boxed, as is `Unsubscribe`: every queued publish carries a `Reply`,
    /// and this keeps it at 16 bytes rather than 48.
    Subscribe(Box<FilterReply<QoS>>),
    Unsubscribe(Box<FilterReply<()>>),
    Reauthenticate(oneshot::Sender<Answer<()>>),
}

/// A call: the request, how long to wait, who waits.
#[derive(Debug)]
pub(crate) struct CallCommand {
    pub(crate) request: Publish,
    pub(crate) timeout: Duration,
    pub(crate) tx: oneshot::Sender<Answer<Publish>>,
}

/// The caller of a request and the Correlation Data it was sent with.
#[derive(Debug)]
pub(crate) struct RequestReply {
    pub(crate) correlation: Bytes,
    pub(crate) tx: oneshot::Sender<Answer<Bytes>>,
}

/// A subscribe or unsubscribe caller; the filter names a refusal in the error.
#[derive(Debug)]
pub(crate) struct FilterReply<T> {
    pub(crate) filter: ByteString,
    pub(crate) tx: oneshot::Sender<Answer<T>>,
}

impl Reply {
    pub(crate) fn subscribe(filter: ByteString, tx: oneshot::Sender<Answer<QoS>>) -> Self {
        Reply::Subscribe(Box::new(FilterReply { filter, tx }))
    }

    pub(crate) fn unsubscribe(filter: ByteString, tx: oneshot::Sender<Answer<()>>) -> Self {
        Reply::Unsubscribe(Box::new(FilterReply { filter, tx }))
    }
}

impl Reply {
    /// Answers the caller of a publish; with nobody waiting (a handler's
    /// publish, one restored from a store), a failure is logged.
    pub(crate) fn answer_publish(self, result: Result<(), crate::error::Error>) {
        match self {
            Reply::Publish(tx) => {
                let _ = tx.send(result.map_err(Box::new));
            }
            Reply::Request(request) => {
                let RequestReply { correlation, tx } = *request;
                let _ = tx.send(result.map(|()| correlation).map_err(Box::new));
            }
            Reply::Detached => {
                if let Err(err) = result {
                    tracing::warn!(%err, "a publish from a handler or a restored session failed");
                }
            }
            // A call's waiter lives with the connection, which answers it.
            Reply::Call(_) | Reply::Subscribe(..) | Reply::Unsubscribe(..) | Reply::Reauthenticate(_) => {}
        }
    }

    /// Answers the caller of a re-authentication.
    pub(crate) fn answer_reauthenticate(self, result: Result<(), crate::error::Error>) {
        if let Reply::Reauthenticate(tx) = self {
            let _ = tx.send(result.map_err(Box::new));
        }
    }
}
