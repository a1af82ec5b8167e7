//! The limits the server announced in CONNACK, and the checks that keep
//! our PUBLISHes within them [MQTT-3.2.2-11, -14, -15].

use std::num::NonZeroU16;

use crate::packet::{publish_len, ConnAckProperties, ProtocolVersion, Publish, QoS};

use crate::error::Error;

#[derive(Debug, Clone, Copy)]
pub(super) struct ServerLimits {
    maximum_packet_size: Option<u32>,
    receive_maximum: u16,
    topic_alias_maximum: u16,
    maximum_qos: QoS,
    retain_available: bool,
    subscription_identifiers: bool,
}

impl Default for ServerLimits {
    /// What an absent property means: no limit.
    fn default() -> Self {
        ServerLimits {
            maximum_packet_size: None,
            receive_maximum: u16::MAX,
            topic_alias_maximum: 0,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            subscription_identifiers: true,
        }
    }
}

impl ServerLimits {
    pub(super) fn from_connack(properties: &ConnAckProperties) -> Self {
        let absent = ServerLimits::default();
        ServerLimits {
            maximum_packet_size: properties.maximum_packet_size,
            // 0 is a protocol error the codec rejects; never let it stall the window.
            receive_maximum: properties
                .receive_maximum
                .unwrap_or(absent.receive_maximum)
                .max(1),
            topic_alias_maximum: properties.topic_alias_maximum.unwrap_or(0),
            maximum_qos: properties.maximum_qos.unwrap_or(absent.maximum_qos),
            retain_available: properties.retain_available.unwrap_or(true),
            subscription_identifiers: properties.subscription_identifiers_available.unwrap_or(true),
        }
    }

    /// Whether the server takes Subscription Identifiers.
    pub(super) fn subscription_identifiers(&self) -> bool {
        self.subscription_identifiers
    }

    /// How many QoS 1/2 publishes the server takes in flight at once.
    pub(super) fn receive_maximum(&self) -> u16 {
        self.receive_maximum
    }

    /// The highest topic alias the server accepts; 0 for none.
    pub(super) fn topic_alias_maximum(&self) -> u16 {
        self.topic_alias_maximum
    }

    /// Whether `publish` may be sent. It is measured as queued: with its
    /// topic and without a Topic Alias, a form every connection can send.
    /// An alias is attached later, at `poll_transmit`, only where the
    /// packet still [fits](Self::fits) with it, so a publish within the
    /// limit is never refused for an alias it need not carry.
    pub(super) fn check_publish(&self, publish: &mut Publish, version: ProtocolVersion) -> Result<(), Error> {
        if publish.qos > self.maximum_qos {
            return Err(Error::QoSNotSupported {
                requested: publish.qos,
                maximum: self.maximum_qos,
            });
        }
        if publish.retain && !self.retain_available {
            return Err(Error::RetainNotSupported);
        }
        // Most publishes carry no properties: their size is arithmetic.
        if let Some(size) = publish.plain_len(version, false) {
            return self.check_size(size.map_err(Error::Encode)?);
        }
        // Measure with the two bytes the packet id will take.
        let placeholder_id = publish.qos != QoS::AtMostOnce && publish.packet_id.is_none();
        if placeholder_id {
            publish.packet_id = Some(NonZeroU16::MIN);
        }
        let size = publish_len(publish, version).map_err(Error::Encode);
        if placeholder_id {
            publish.packet_id = None;
        }
        self.check_size(size?)
    }

    /// Whether `publish`, exactly as it would be written, is within the
    /// server's Maximum Packet Size [MQTT-3.1.2-24]: what decides whether a
    /// Topic Alias may be attached.
    pub(super) fn fits(&self, publish: &Publish, version: ProtocolVersion) -> bool {
        let Some(max) = self.maximum_packet_size else {
            return true;
        };
        let size = publish.wire_len(version);
        size.is_ok_and(|size| size <= max as usize)
    }

    pub(super) fn check_size(&self, size: usize) -> Result<(), Error> {
        match self.maximum_packet_size {
            Some(max) if size > max as usize => Err(Error::PacketTooLarge {
                size,
                max: max as usize,
            }),
            _ => Ok(()),
        }
    }
}
