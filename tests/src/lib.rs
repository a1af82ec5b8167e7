//! The harness that starts real brokers for the integration tests.
//!
//! [`Broker`] runs a mosquitto made for one test: its own free loopback
//! port, config file, log, password file and persistence directory, and
//! controls to stop, kill, restart on the same port, pause and resume it.
//! Tests never use the machine's own broker on port 1883.
//!
//! mosquitto must be installed (`sudo apt-get install -y mosquitto
//! mosquitto-clients`; `.ci/run` installs it when missing).
#![cfg(unix)]
#![warn(missing_docs)]

mod broker;
pub mod certs;
pub mod chaos;
pub mod events;
pub mod interop;
pub mod nats;
pub mod net;
mod passwd;
pub mod process;
pub mod proxy;
pub mod rabbitmq;
pub mod redis_server;
pub mod rumqttd;
pub mod scram_server;
pub mod support;
pub mod tap;
pub mod wirelog;

pub use broker::{find_mosquitto, Broker, BrokerBuilder, HarnessError, PasswordHashing};

/// The guide's chapters, compiled as doc-tests so that every Rust sample in
/// the book builds.
#[cfg(doctest)]
pub mod book {
    #[doc = include_str!("../../book/src/introduction.md")]
    pub struct Introduction;

    #[doc = include_str!("../../book/src/getting-started.md")]
    pub struct GettingStarted;

    #[doc = include_str!("../../book/src/connecting.md")]
    pub struct Connecting;

    #[doc = include_str!("../../book/src/handlers.md")]
    pub struct Handlers;

    #[doc = include_str!("../../book/src/supervision.md")]
    pub struct Supervision;

    #[doc = include_str!("../../book/src/sessions.md")]
    pub struct Sessions;

    #[doc = include_str!("../../book/src/transports.md")]
    pub struct Transports;

    #[doc = include_str!("../../book/src/performance.md")]
    pub struct Performance;

    #[doc = include_str!("../../book/src/mqtt5.md")]
    pub struct Mqtt5;

    #[doc = include_str!("../../book/src/streams.md")]
    pub struct Streams;

    #[doc = include_str!("../../book/src/actix-web.md")]
    pub struct ActixWeb;

    #[doc = include_str!("../../book/src/reliability.md")]
    pub struct Reliability;

    #[doc = include_str!("../../book/src/publishing.md")]
    pub struct Publishing;

    #[doc = include_str!("../../book/src/coming-from.md")]
    pub struct ComingFrom;
}
