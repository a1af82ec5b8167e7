//! The sans-IO MQTT session state machine.
//!
//! [`Protocol`] holds everything about a session except the socket, in the
//! style of quinn-proto and rustls: the I/O shell feeds it decoded packets
//! ([`Protocol::handle_packet`]), commands ([`Protocol::publish`], ...) and
//! the time, and takes back packets to write ([`Protocol::poll_transmit`]),
//! events ([`Protocol::poll_event`]) and the next deadline
//! ([`Protocol::poll_timeout`]). Time is always an [`Instant`](std::time::Instant)
//! passed in, so every flow is testable without sockets or sleeping.
//!
//! ```
//! use std::time::Instant;
//! use mqttx::packet::{ConnAck, Packet, Publish, QoS};
//! use mqttx::protocol::{Config, Event, Protocol};
//!
//! let now = Instant::now();
//! let mut protocol: Protocol<&str> = Protocol::new(Config::new("sensor-1"));
//! protocol.connect(now);
//! assert!(matches!(protocol.poll_transmit(now), Some(Packet::Connect(_))));
//! protocol.handle_packet(Packet::ConnAck(ConnAck::default()), now).unwrap();
//! assert!(matches!(protocol.poll_event(), Some(Event::Connected { .. })));
//!
//! protocol.publish(Publish::new("sensors/temp", "25.5").qos(QoS::AtLeastOnce), "reading", now);
//! let Some(Packet::Publish(sent)) = protocol.poll_transmit(now) else { panic!() };
//! assert_eq!(protocol.inflight(), 1);
//! # let _ = sent;
//! ```

mod alias;
mod auth;
mod config;
mod delivery;
mod event;
mod fallback;
mod fit;
mod handshake;
mod incoming;
mod journal;
mod keepalive;
mod limits;
mod outgoing;
mod packet_ids;
#[allow(clippy::module_inception)] // the state machine is the module's subject
mod protocol;
mod publish;
mod queued;
pub(crate) mod session;
mod subscribe;
mod subscriptions;
mod transmit;

#[cfg(test)]
mod tests;

pub use crate::error::ProtocolError;
pub use config::{Config, Fallback};
pub use delivery::Ack;
pub use event::{Event, TimeoutKind};
pub use protocol::Protocol;
pub(crate) use session::SessionChange;
