use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::error::Error;

/// What travels back over a request's channel. The error is boxed: an
/// [`Error`] is 72 bytes, and a pipelining publisher keeps thousands of
/// requests (each a channel and a `Response`) in flight, almost all of
/// which end in `Ok`.
pub(crate) type Answer<T> = Result<T, Box<Error>>;

/// The outcome of a request to the connection, as a future.
///
/// It is what awaiting a [`PublishBuilder`](super::PublishBuilder),
/// [`SubscribeBuilder`](super::SubscribeBuilder) or
/// [`UnsubscribeBuilder`](super::UnsubscribeBuilder) gives; the request is
/// already on its way when this exists. Dropping it does not cancel the
/// request, it only stops listening for the outcome.
#[derive(Debug)]
#[must_use = "dropping the response discards the outcome of the request"]
pub struct Response<T> {
    rx: oneshot::Receiver<Answer<T>>,
    /// What a connection gone before answering means: `Closed`, or for a
    /// disconnect, done.
    gone: fn() -> Result<T, Error>,
}

impl<T> Response<T> {
    /// The outcome the connection sends over `rx`. A request that never
    /// reached it (the queue closed, the reply dropped unanswered) is
    /// [`Error::Closed`].
    pub(crate) fn new(rx: oneshot::Receiver<Answer<T>>) -> Self {
        Response {
            rx,
            gone: || Err(Error::Closed),
        }
    }
}

impl Response<()> {
    /// For a disconnect: a connection gone before answering has stopped,
    /// which is what was asked.
    pub(crate) fn or_ok_when_gone(rx: oneshot::Receiver<Answer<()>>) -> Self {
        Response { rx, gone: || Ok(()) }
    }
}

impl<T> Future for Response<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut this.rx).poll(cx).map(|outcome| match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(*err),
            Err(_) => (this.gone)(),
        })
    }
}
