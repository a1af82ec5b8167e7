use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::Error;

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
    state: Result<oneshot::Receiver<Result<T, Error>>, Option<Error>>,
}

impl<T> Response<T> {
    pub(crate) fn new(sent: Result<(), Error>, rx: oneshot::Receiver<Result<T, Error>>) -> Self {
        Response {
            state: sent.map(|()| rx).map_err(Some),
        }
    }
}

impl<T> Future for Response<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().state {
            Ok(rx) => Pin::new(rx)
                .poll(cx)
                .map(|outcome| outcome.unwrap_or(Err(Error::Closed))),
            Err(error) => Poll::Ready(Err(error.take().unwrap_or(Error::Closed))),
        }
    }
}
