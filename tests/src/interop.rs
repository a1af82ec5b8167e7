//! The brokers the basic interop suite (`tests/tests/interop.rs`) runs
//! against, behind one face, each with what it does not support stated,
//! so that the suite checks the documented behaviour instead of skipping.

use mqttx::ProtocolVersion;

use crate::nats::NatsServer;
use crate::rabbitmq::RabbitMq;
use crate::rumqttd::Rumqttd;
use crate::{Broker, HarnessError};

/// What a broker does with a QoS 2 PUBLISH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QoS2 {
    /// Exactly once, as MQTT says.
    Supported,
    /// It closes the connection ("not supported"): NATS.
    ClosesTheConnection,
    /// It answers with a PUBACK, as if it were QoS 1: RabbitMQ 3.10.
    AcknowledgesAsQoS1,
}

/// A broker made for one test.
pub trait InteropBroker {
    /// Its name, for messages.
    fn name(&self) -> &'static str;
    /// The MQTT port on 127.0.0.1.
    fn port(&self) -> u16;
    /// The version to pin, or `None` for the client's default (MQTT 5,
    /// falling back to 3.1.1 when the broker refuses it).
    fn version(&self) -> Option<ProtocolVersion>;
    /// Stops it and starts it again on the same port.
    fn restart(&mut self) -> Result<(), HarnessError>;
    /// Whether a session kept with `clean_session(false)` survives a restart.
    fn sessions_survive_restart(&self) -> bool;
    /// What it does with QoS 2.
    fn qos2(&self) -> QoS2;
    /// What it logged, for failure messages.
    fn log(&self) -> String;
}

impl InteropBroker for Broker {
    fn name(&self) -> &'static str {
        "mosquitto"
    }
    fn port(&self) -> u16 {
        Broker::port(self)
    }
    fn version(&self) -> Option<ProtocolVersion> {
        None
    }
    fn restart(&mut self) -> Result<(), HarnessError> {
        self.stop()?;
        self.start_again()
    }
    fn sessions_survive_restart(&self) -> bool {
        self.persistence_dir().is_some()
    }
    fn qos2(&self) -> QoS2 {
        QoS2::Supported
    }
    fn log(&self) -> String {
        Broker::log(self)
    }
}

impl InteropBroker for NatsServer {
    fn name(&self) -> &'static str {
        "NATS"
    }
    fn port(&self) -> u16 {
        self.mqtt_port()
    }
    fn version(&self) -> Option<ProtocolVersion> {
        None
    }
    fn restart(&mut self) -> Result<(), HarnessError> {
        NatsServer::restart(self)
    }
    fn sessions_survive_restart(&self) -> bool {
        // JetStream keeps them on disk.
        true
    }
    fn qos2(&self) -> QoS2 {
        QoS2::ClosesTheConnection
    }
    fn log(&self) -> String {
        NatsServer::log(self)
    }
}

impl InteropBroker for RabbitMq {
    fn name(&self) -> &'static str {
        "RabbitMQ"
    }
    fn port(&self) -> u16 {
        self.mqtt_port()
    }
    fn version(&self) -> Option<ProtocolVersion> {
        None
    }
    fn restart(&mut self) -> Result<(), HarnessError> {
        RabbitMq::restart(self)
    }
    fn sessions_survive_restart(&self) -> bool {
        // Durable queues, after a clean shutdown.
        true
    }
    fn qos2(&self) -> QoS2 {
        QoS2::AcknowledgesAsQoS1
    }
    fn log(&self) -> String {
        RabbitMq::log(self)
    }
}

impl InteropBroker for Rumqttd {
    fn name(&self) -> &'static str {
        "rumqttd"
    }
    fn port(&self) -> u16 {
        self.v4_port()
    }
    fn version(&self) -> Option<ProtocolVersion> {
        // Its MQTT 5 listener is incomplete (no Session Expiry, for one);
        // the 3.1.1 one is what its users run.
        Some(ProtocolVersion::V311)
    }
    fn restart(&mut self) -> Result<(), HarnessError> {
        Rumqttd::restart(self)
    }
    fn sessions_survive_restart(&self) -> bool {
        // It keeps everything in memory.
        false
    }
    fn qos2(&self) -> QoS2 {
        QoS2::Supported
    }
    fn log(&self) -> String {
        Rumqttd::log(self)
    }
}
