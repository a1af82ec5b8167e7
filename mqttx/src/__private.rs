//! What the code `#[mqtt_handler]` writes calls into. Not a public API:
//! it changes with the macro.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};

pub use std::sync::LazyLock;

use crate::client::Client;
use crate::client::Recipients;
use crate::extract::Responder;
use crate::extract::{ExtractError, ExtractErrorKind};
use crate::handler::Subscription;
use crate::handler::{panic_message, Discard, HandlerContext};
use crate::packet::{Publish, QoS, RetainHandling, SubscriptionOptions};

/// A handler subscription, from the attribute's literals.
pub fn subscription(
    filter: &'static str,
    qos: u8,
    no_local: bool,
    retain_as_published: bool,
    retain_handling: u8,
    identifier: u32,
) -> Subscription {
    let qos = match qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    };
    let retain_handling = match retain_handling {
        0 => RetainHandling::SendAtSubscribe,
        1 => RetainHandling::SendAtSubscribeIfNew,
        _ => RetainHandling::DoNotSend,
    };
    Subscription::new(
        filter,
        SubscriptionOptions {
            qos,
            no_local,
            retain_as_published,
            retain_handling,
        },
    )
    .identifier(identifier)
}

/// Level `index` of a topic (empty if the topic is shorter).
#[inline]
pub fn level(topic: &str, index: usize) -> &str {
    let rest = tail(topic, index);
    match rest.bytes().position(|b| b == b'/') {
        Some(end) => rest.get(..end).unwrap_or_default(),
        None => rest,
    }
}

/// The topic from level `index` on, for a named tail (`{*rest}`); empty
/// when the `#` it stands for matched the parent level.
#[inline]
pub fn tail(topic: &str, index: usize) -> &str {
    let mut rest = topic;
    for _ in 0..index {
        match rest.bytes().position(|b| b == b'/') {
            Some(at) => rest = rest.get(at + 1..).unwrap_or_default(),
            None => return "",
        }
    }
    rest
}

/// A named segment parsed with `FromStr`.
pub fn parse<T>(value: &str, route: &'static str, parameter: &'static str) -> Result<T, ExtractError>
where
    T: FromStr,
    T::Err: Display,
{
    value.parse().map_err(|err: T::Err| {
        let kind = ExtractErrorKind::Segment {
            value: value.to_owned(),
            reason: err.to_string(),
        };
        ExtractError::new(route, parameter, kind)
    })
}

/// The payload as text.
pub fn payload_str<'a>(
    msg: &'a Publish,
    route: &'static str,
    parameter: &'static str,
) -> Result<&'a str, ExtractError> {
    std::str::from_utf8(&msg.payload)
        .map_err(|e| ExtractError::new(route, parameter, ExtractErrorKind::Utf8(e)))
}

/// The payload deserialized from JSON.
#[cfg(feature = "json")]
pub fn json<T: serde::de::DeserializeOwned>(
    msg: &Publish,
    route: &'static str,
    parameter: &'static str,
) -> Result<crate::extract::Json<T>, ExtractError> {
    serde_json::from_slice(&msg.payload)
        .map(crate::extract::Json)
        .map_err(|e| ExtractError::new(route, parameter, ExtractErrorKind::Json(e)))
}

/// The way back to a request's sender, if there is one.
pub fn responder(
    client: &Client,
    msg: &Publish,
    route: &'static str,
    parameter: &'static str,
) -> Result<Responder, ExtractError> {
    Responder::new(client.clone(), msg)
        .ok_or_else(|| ExtractError::new(route, parameter, ExtractErrorKind::NoResponseTopic))
}

/// The error path of a handler without an `#[extract_error]` method.
pub fn extract_failed(handler: &'static str, error: &ExtractError) {
    tracing::warn!(handler, %error, "MQTT message dropped: it does not fit its route");
}

/// What a handler method may return: nothing, or a `Result` whose error
/// is logged.
pub trait Outcome {
    /// Logs a failure.
    fn report(self, route: &'static str);
}

impl Outcome for () {
    #[inline]
    fn report(self, _route: &'static str) {}
}

impl<E: Display> Outcome for Result<(), E> {
    fn report(self, route: &'static str) {
        if let Err(error) = self {
            tracing::warn!(route, %error, "MQTT handler method failed");
        }
    }
}

/// Polls an async handler method with its panics contained: a panic ends
/// the method (`None`), and the handler it borrowed is free again.
pub fn catch_unwind<'a, F: Future>(future: Pin<&'a mut F>, route: &'static str) -> CatchUnwind<'a, F> {
    CatchUnwind { future, route }
}

/// See [`catch_unwind`].
pub struct CatchUnwind<'a, F> {
    future: Pin<&'a mut F>,
    route: &'static str,
}

impl<F: Future> Future for CatchUnwind<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let route = this.route;
        let future = this.future.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Some(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                tracing::error!(route, %message, "async MQTT handler method panicked; the handler carries on");
                Poll::Ready(None)
            }
        }
    }
}

/// For benchmarks of generated handlers: runs `f` with the context of a
/// connection that never runs (what it publishes goes nowhere).
pub fn detached_context<R>(f: impl FnOnce(&mut HandlerContext<'_>) -> R) -> R {
    let client = detached_client();
    let mut cx = HandlerContext {
        client: &client,
        outbox: &mut Discard,
    };
    f(&mut cx)
}

/// A client of a connection actor that never runs.
pub(crate) fn detached_client() -> Client {
    let (commands, _receiver) = crate::client::queue();
    Client::new(commands, Recipients::closed(), "detached".into())
}

#[cfg(test)]
mod tests {
    use super::{level, tail};

    #[test]
    fn levels_and_tails() {
        assert_eq!(level("a/b/c", 0), "a");
        assert_eq!(level("a/b/c", 1), "b");
        assert_eq!(level("a/b/c", 2), "c");
        assert_eq!(level("a/b/c", 3), "");
        assert_eq!(level("a//c", 1), "");
        assert_eq!(tail("a/b/c", 1), "b/c");
        assert_eq!(tail("a/b/c", 0), "a/b/c");
        assert_eq!(tail("a", 1), "");
        assert_eq!(tail("a/", 1), "");
    }
}
