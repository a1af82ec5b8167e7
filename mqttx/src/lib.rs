//! mqttx: an MQTT 3.1.1 and 5.0 client for actix.
//!
//! The crate is built in layers, each usable and testable alone:
//! [`packet`] (the codec) and [`protocol`] (the sans-IO session state
//! machine) hold no sockets; the connection actor drives them over a
//! transport, and [`Client`] is the handle applications hold.
//!
//! ```no_run
//! use mqttx::{Client, ConnectOptions, QoS};
//!
//! #[actix::main]
//! async fn main() -> Result<(), mqttx::Error> {
//!     let client = Client::connect(ConnectOptions::new("localhost", "my_client").port(1883)).await?;
//!     client.subscribe("sensors/#", QoS::AtLeastOnce).await?;
//!     client.publish("sensors/temp", "25.5").await?;
//!     client.disconnect().await?;
//!     Ok(())
//! }
//! ```
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
mod transport;

#[doc(hidden)]
pub mod __private;

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
