//! Every request a [`Client`] makes, as an actix [`Message`], for actors
//! that talk to a connection through a [`Recipient`].

use std::future::Future;

use actix::{Actor, Addr, Context, Handler, Message, Recipient, ResponseFuture};
use bytes::Bytes;
use bytestring::ByteString;
use tokio::sync::oneshot;

use super::{CallCommand, Client, Command, Reply, Response};
use crate::error::Error;
use crate::packet::{
    Disconnect, Publish, QoS, SubscribeProperties, SubscriptionOptions, UnsubscribeProperties,
};

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

/// Publish a request (MQTT 5 request/response); resolves to the
/// Correlation Data it was sent with, like awaiting [`Client::request`].
/// Any Correlation Data the packet holds is replaced; without a Response
/// Topic it gets `{client id}/responses`.
///
/// ```no_run
/// # async fn demo(client: mqttx::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use mqttx::{client::RequestMessage, Publish, QoS};
/// let mut request = Publish::new("service/rpc", "ping").qos(QoS::AtLeastOnce);
/// request.properties.response_topic = Some("reply/my_client".into());
/// let correlation = client.recipient::<RequestMessage>().send(RequestMessage(request)).await??;
/// # let _ = correlation;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Bytes, Error>")]
pub struct RequestMessage(pub Publish);

/// Publish a request and wait for its response (MQTT 5), like awaiting
/// [`Client::call`]: the request's Correlation Data is made by the
/// connection, and its Response Topic, when unset, is the client's own.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Publish, Error>")]
pub struct CallMessage {
    /// The request.
    pub request: Publish,
    /// How long to wait for the response.
    pub timeout: std::time::Duration,
}

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

/// Start an MQTT 5 re-authentication, like awaiting
/// [`Client::reauthenticate`] (`None`) or
/// [`Client::reauthenticate_with`] (`Some(data)`).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), Error>")]
pub struct ReauthenticateRequest(pub Option<Bytes>);

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

/// A request as the command the connection takes, and the future of its
/// outcome. Every way into the connection — a `Client` method, an actix
/// message — becomes a [`Command`] here and enters through the one queue.
pub(crate) trait IntoCommand: Message {
    /// What resolves to the request's outcome.
    type Pending: Future<Output = Self::Result> + 'static;

    fn into_command(self) -> (Command, Self::Pending);
}

impl IntoCommand for PublishRequest {
    type Pending = Response<()>;

    fn into_command(self) -> (Command, Response<()>) {
        let (tx, rx) = oneshot::channel();
        (Command::Publish(self.0, Reply::Publish(tx)), Response::new(rx))
    }
}

impl IntoCommand for RequestMessage {
    type Pending = Response<Bytes>;

    fn into_command(self) -> (Command, Response<Bytes>) {
        let (tx, rx) = oneshot::channel();
        (Command::Request(self.0, tx), Response::new(rx))
    }
}

impl IntoCommand for CallMessage {
    type Pending = Response<Publish>;

    fn into_command(self) -> (Command, Response<Publish>) {
        let (tx, rx) = oneshot::channel();
        let call = CallCommand {
            request: self.request,
            timeout: self.timeout,
            tx,
        };
        (Command::Call(Box::new(call)), Response::new(rx))
    }
}

impl IntoCommand for SubscribeRequest {
    type Pending = Response<QoS>;

    fn into_command(self) -> (Command, Response<QoS>) {
        let (tx, rx) = oneshot::channel();
        let reply = Reply::subscribe(self.filter.clone(), tx);
        let filters = vec![(self.filter, self.options)];
        (
            Command::Subscribe(filters, self.properties, reply),
            Response::new(rx),
        )
    }
}

impl IntoCommand for UnsubscribeRequest {
    type Pending = Response<()>;

    fn into_command(self) -> (Command, Response<()>) {
        let (tx, rx) = oneshot::channel();
        let reply = Reply::unsubscribe(self.filter.clone(), tx);
        (
            Command::Unsubscribe(vec![self.filter], self.properties, reply),
            Response::new(rx),
        )
    }
}

impl IntoCommand for ReauthenticateRequest {
    type Pending = Response<()>;

    fn into_command(self) -> (Command, Response<()>) {
        let (tx, rx) = oneshot::channel();
        (
            Command::Reauthenticate(self.0, Reply::Reauthenticate(tx)),
            Response::new(rx),
        )
    }
}

impl IntoCommand for DisconnectRequest {
    type Pending = Response<()>;

    /// Resolves to `Ok` when the connection is gone before answering: it
    /// stopped, which is what was asked.
    fn into_command(self) -> (Command, Response<()>) {
        let (tx, rx) = oneshot::channel();
        (Command::Disconnect(self.0, tx), Response::or_ok_when_gone(rx))
    }
}

/// The type-erased mailboxes of one connection actor.
#[derive(Clone)]
pub(crate) struct Recipients {
    publish: Recipient<PublishRequest>,
    request: Recipient<RequestMessage>,
    call: Recipient<CallMessage>,
    subscribe: Recipient<SubscribeRequest>,
    unsubscribe: Recipient<UnsubscribeRequest>,
    disconnect: Recipient<DisconnectRequest>,
    reauthenticate: Recipient<ReauthenticateRequest>,
}

impl Recipients {
    /// The mailboxes of the actor at `addr`.
    pub(crate) fn of<A>(addr: &Addr<A>) -> Self
    where
        A: Actor<Context = Context<A>>
            + Handler<PublishRequest>
            + Handler<RequestMessage>
            + Handler<CallMessage>
            + Handler<SubscribeRequest>
            + Handler<UnsubscribeRequest>
            + Handler<DisconnectRequest>
            + Handler<ReauthenticateRequest>,
    {
        Recipients {
            publish: addr.clone().recipient(),
            request: addr.clone().recipient(),
            call: addr.clone().recipient(),
            subscribe: addr.clone().recipient(),
            unsubscribe: addr.clone().recipient(),
            disconnect: addr.clone().recipient(),
            reauthenticate: addr.clone().recipient(),
        }
    }

    /// Mailboxes that no actor reads: every request through them fails
    /// with a mailbox error. For a connection that stopped for good (its
    /// own handle must not keep its address alive) and for handles of no
    /// connection at all.
    pub(crate) fn closed() -> Self {
        let (nowhere, _closed) = actix::dev::channel::channel::<Closed>(1);
        Recipients::of(&Addr::new(nowhere))
    }
}

/// The actor behind [`Recipients::closed`]; it never runs.
struct Closed;

impl Actor for Closed {
    type Context = Context<Self>;
}

impl<M> Handler<M> for Closed
where
    M: IntoCommand + 'static,
{
    type Result = ResponseFuture<M::Result>;

    /// Never called (nothing reads the mailbox); were it, dropping the
    /// command answers the request with [`Error::Closed`].
    fn handle(&mut self, request: M, _ctx: &mut Context<Self>) -> Self::Result {
        let (_command, pending) = request.into_command();
        Box::pin(pending)
    }
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
client_request!(RequestMessage, request);
client_request!(CallMessage, call);
client_request!(SubscribeRequest, subscribe);
client_request!(UnsubscribeRequest, unsubscribe);
client_request!(DisconnectRequest, disconnect);
client_request!(ReauthenticateRequest, reauthenticate);
