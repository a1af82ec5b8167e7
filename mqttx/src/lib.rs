//! mqttx: an MQTT 3.1.1 and 5.0 client for actix.
//!
//! An actix-web service adds one connection, started in `main` and shared
//! with every worker; a handler declared with [`macro@mqtt_handler`]
//! receives what it subscribes to; HTTP routes publish through the same
//! handle. The connection reconnects by itself, keeps every QoS 1/2
//! message through cuts (and, with a session store, through restarts),
//! and acknowledges a message only once it is handled.
//!
//! ```no_run
//! use actix_web::{post, web, App, HttpResponse, HttpServer};
//! use mqttx::{mqtt_handler, Bytes, Client, ConnectOptions, Publish, QoS};
//!
//! struct Sensors;
//!
//! #[mqtt_handler]
//! impl Sensors {
//!     #[subscribe("sensors/{room}/temp", qos = 1)]
//!     fn temperature(&mut self, room: &str, msg: &Publish) {
//!         println!("{room}: {:?}", msg.payload_str());
//!     }
//! }
//!
//! #[post("/publish/{topic:.*}")]
//! async fn publish(client: web::Data<Client>, topic: web::Path<String>, body: Bytes) -> HttpResponse {
//!     match client.publish(topic.into_inner(), body).qos(QoS::AtLeastOnce).await {
//!         Ok(()) => HttpResponse::Ok().finish(),
//!         Err(err) => HttpResponse::ServiceUnavailable().body(err.to_string()),
//!     }
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let client = Client::connect(ConnectOptions::new("localhost", "web-service").handler(Sensors)).await?;
//!     let data = web::Data::new(client.clone());
//!     HttpServer::new(move || App::new().app_data(data.clone()).service(publish))
//!         .bind("127.0.0.1:8080")?
//!         .run()
//!         .await?;
//!     client.disconnect().await?;
//!     Ok(())
//! }
//! ```
//!
//! The crate is built in layers, each usable and testable alone:
//! [`packet`] (the codec) and [`protocol`] (the sans-IO session state
//! machine) hold no sockets; the connection actor drives them over a
//! transport, and [`Client`] is the handle applications hold. The guide
//! (`book/` in the repository) covers every capability, with the
//! `examples/` to run.
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod auth;
pub mod client;
mod connect;
mod connection;
mod error;
mod extract;
mod handler;
mod options;
pub mod packet;
pub mod protocol;
mod registry;
pub mod router;
pub mod store;
#[cfg(test)]
mod test_alloc;
mod transport;

#[doc(hidden)]
pub mod __private;

// The fuzz targets' entry points: built for the `fuzz/` crate (feature
// `fuzzing`) and for the unit tests, which replay the kept corpus.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
#[path = "fuzz/mod.rs"]
pub mod __fuzz;

pub use bytes::Bytes;
pub use client::Client;
pub use error::Error;
pub use error::TlsError;
#[cfg(feature = "json")]
pub use extract::Json;
pub use extract::{ExtractError, ExtractErrorKind, Responder};
pub use handler::{
    AuthResponse, DisconnectReason, Handled, HandlerContext, HandlerEvent, HandlerTask, MqttHandler,
    PublishError, Subscription, MAX_HANDLER_BACKLOG,
};
#[doc = include_str!("handler/mqtt_handler.md")]
pub use mqttx_derive::mqtt_handler;
pub use options::{
    Backoff, ConnectOptions, IoHints, Proxy, TlsOptions, Transport, DEFAULT_MAX_INFLIGHT,
    DEFAULT_MAX_INFLIGHT_V311, DEFAULT_MAX_PACKET_SIZE,
};
pub use packet::{
    Auth, ByteString, ConnAck, ConnectProperties, Disconnect, LastWill, Packet, ProtocolVersion, Publish,
    PublishProperties, QoS, ReasonCode, RetainHandling, SubscriptionOptions,
};
pub use registry::{ClientMeta, ClientRegistry, ListClients, WhereIs};
