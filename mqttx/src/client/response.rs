use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::Error;

/// What travels back over a request's channel. The error is boxed: an
/// [`Error`] is 72 bytes, and a pipelining publisher keeps thousands of
/// requests (each a channel and a `Response`) in flight, almost all of
/// which end in `Ok`.
pub(crate) type Outcome<T> = Result<T, Box<Error>>;

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
    state: Result<oneshot::Receiver<Outcome<T>>, Option<Box<Error>>>,
}

impl<T> Response<T> {
    pub(crate) fn new(sent: Result<(), Error>, rx: oneshot::Receiver<Outcome<T>>) -> Self {
        Response {
            state: sent.map(|()| rx).map_err(|err| Some(Box::new(err))),
        }
    }
}

impl<T> Future for Response<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().state {
            Ok(rx) => Pin::new(rx).poll(cx).map(|outcome| match outcome {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(err)) => Err(*err),
                Err(_) => Err(Error::Closed),
            }),
            Err(error) => Poll::Ready(Err(error.take().map_or(Error::Closed, |err| *err))),
        }
    }
}
