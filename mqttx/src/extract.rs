//! What `#[mqtt_handler]` methods take besides the message itself: typed
//! payloads, the way back to a request's sender, and the error a message
//! meets when it does not fit its route's parameters.

use std::fmt;
use std::future::IntoFuture;

use bytes::Bytes;
use bytestring::ByteString;

use crate::client::Client;
use crate::client::Response;
use crate::packet::Publish;
use crate::packet::QoS;

/// A payload deserialized from JSON, as a handler parameter.
///
/// ```
/// use mqttx::{mqtt_handler, Json};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Reading { celsius: f64 }
///
/// #[derive(Default)]
/// struct Thermostat { last: f64 }
///
/// #[mqtt_handler]
/// impl Thermostat {
///     #[subscribe("sensors/{room}/temp", qos = 1)]
///     fn on_temp(&mut self, room: &str, Json(reading): Json<Reading>) {
///         self.last = reading.celsius;
///         println!("{room}: {} °C", reading.celsius);
///     }
/// }
/// ```
///
/// A payload that is not valid JSON for `T` never reaches the method: it
/// goes to the handler's `#[extract_error]` method, or is logged and
/// dropped (see [`ExtractError`]).
#[cfg(feature = "json")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

#[cfg(feature = "json")]
impl<T> Json<T> {
    /// The value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

#[cfg(feature = "json")]
impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(feature = "json")]
impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A message matched a route, but one of the route's parameters could not
/// be taken from it, so the route's method was not called.
///
/// Where it goes: to the handler's `#[extract_error]` method if it has one
/// (the message is handled: it is not offered to another route nor to the
/// `#[message]` catch-all); otherwise it is logged at `warn` level with the
/// route, the parameter and the reason, and dropped. Either way nothing
/// panics and the connection carries on.
#[derive(Debug)]
pub struct ExtractError {
    route: &'static str,
    parameter: &'static str,
    kind: ExtractErrorKind,
}

/// Why a parameter could not be taken from a message.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExtractErrorKind {
    /// A named topic segment did not parse as the parameter's type.
    Segment {
        /// The segment as it was in the topic.
        value: String,
        /// The `FromStr` error, as text.
        reason: String,
    },
    /// The payload is not UTF-8, and the parameter is text.
    Utf8(std::str::Utf8Error),
    /// The payload is not JSON for the parameter's type.
    #[cfg(feature = "json")]
    Json(serde_json::Error),
    /// The parameter is a [`Responder`], and the message has no Response
    /// Topic (take `Option<Responder>` to accept both).
    NoResponseTopic,
}

impl ExtractError {
    pub(crate) fn new(route: &'static str, parameter: &'static str, kind: ExtractErrorKind) -> Self {
        ExtractError {
            route,
            parameter,
            kind,
        }
    }

    /// The name of the method the message was routed to.
    pub fn route(&self) -> &'static str {
        self.route
    }

    /// The name of the parameter that could not be taken.
    pub fn parameter(&self) -> &'static str {
        self.parameter
    }

    /// Why.
    pub fn kind(&self) -> &ExtractErrorKind {
        &self.kind
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`, parameter `{}`: ", self.route, self.parameter)?;
        match &self.kind {
            ExtractErrorKind::Segment { value, reason } => {
                write!(f, "topic segment {value:?} does not parse: {reason}")
            }
            ExtractErrorKind::Utf8(e) => write!(f, "the payload is not UTF-8: {e}"),
            #[cfg(feature = "json")]
            ExtractErrorKind::Json(e) => write!(f, "the payload is not the expected JSON: {e}"),
            ExtractErrorKind::NoResponseTopic => f.write_str("the message has no Response Topic"),
        }
    }
}

impl std::error::Error for ExtractError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ExtractErrorKind::Utf8(e) => Some(e),
            #[cfg(feature = "json")]
            ExtractErrorKind::Json(e) => Some(e),
            _ => None,
        }
    }
}

/// The way back to the sender of a request (MQTT 5 request/response): the
/// message's Response Topic and Correlation Data, and a client to publish
/// with. It owns what it needs, so it works in `async fn` handler methods.
///
/// As a parameter, `Responder` takes only requests (a message without a
/// Response Topic goes to the [`ExtractError`] path); `Option<Responder>`
/// takes every message.
///
/// ```
/// use mqttx::{mqtt_handler, Responder};
///
/// struct Clock;
///
/// #[mqtt_handler]
/// impl Clock {
///     #[subscribe("clock/now", qos = 1)]
///     async fn now(&mut self, responder: Responder) {
///         if let Err(err) = responder.respond("12:00").await {
///             eprintln!("no answer sent: {err}");
///         }
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Responder {
    client: Client,
    topic: ByteString,
    correlation_data: Option<Bytes>,
}

impl Responder {
    /// The responder for `request`, if it has a Response Topic.
    pub fn new(client: Client, request: &Publish) -> Option<Responder> {
        let topic = request.properties.response_topic.clone()?;
        Some(Responder {
            client,
            topic,
            correlation_data: request.properties.correlation_data.clone(),
        })
    }

    /// The Response Topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The request's Correlation Data, which the response carries back.
    pub fn correlation_data(&self) -> Option<&Bytes> {
        self.correlation_data.as_ref()
    }

    /// Publishes `payload` (QoS 1) to the Response Topic with the
    /// Correlation Data; resolves like [`Client::publish`].
    pub fn respond(&self, payload: impl Into<Bytes>) -> Response<()> {
        let mut publish = self
            .client
            .publish(self.topic.clone(), payload)
            .qos(QoS::AtLeastOnce);
        if let Some(data) = &self.correlation_data {
            publish = publish.correlation_data(data.clone());
        }
        publish.into_future()
    }
}
