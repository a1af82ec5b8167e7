//! mqttx: an MQTT 3.1.1 and 5.0 client for actix.
//!
//! The crate is built in layers, each usable and testable alone:
//! [`packet`] (the codec) and [`protocol`] (the sans-IO session state
//! machine) hold no sockets; the connection actor and the `Client` handle
//! drive them over a transport.
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod packet;
pub mod protocol;

pub use packet::{
    ConnAck, Disconnect, LastWill, Packet, ProtocolVersion, Publish, PublishProperties, QoS, ReasonCode,
};
