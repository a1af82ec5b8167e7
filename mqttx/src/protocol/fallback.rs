//! Speaking MQTT 3.1.1 to a server that does not speak MQTT 5, when the
//! configuration allows it (see [`Fallback`](super::Fallback)).

use crate::packet::{ConnAck, ProtocolVersion, ReasonCode};

use super::{Event, Protocol};

impl<T> Protocol<T> {
    /// CONNACK refused the connection: 3.1.1's "unacceptable protocol
    /// version" to an MQTT 5 CONNECT makes the next attempt speak 3.1.1.
    /// `true` if it will.
    pub(super) fn fall_back_on_refusal(&mut self, connack: &ConnAck) -> bool {
        if connack.reason_code != ReasonCode::UnsupportedProtocolVersion || !self.may_fall_back() {
            return false;
        }
        self.switch_version(ProtocolVersion::V311);
        true
    }

    /// The transport closed before any CONNACK. Some servers close on a
    /// CONNECT they cannot read rather than refuse it: the next attempt
    /// speaks 3.1.1. When that attempt fails the same way too, the server
    /// was not the problem, and the one after speaks MQTT 5 again.
    pub(super) fn fall_back_on_close(&mut self) {
        if self.may_fall_back() {
            self.switch_version(ProtocolVersion::V311);
        } else if self.falling_back && !self.connected_once {
            self.switch_version(ProtocolVersion::V5);
        }
    }

    /// Only before the first connection: once connected, the version that
    /// worked is the server's, for every reconnect.
    fn may_fall_back(&self) -> bool {
        self.config.version == ProtocolVersion::V5 && self.config.fallback.is_some() && !self.connected_once
    }

    fn switch_version(&mut self, version: ProtocolVersion) {
        let Some(fallback) = &mut self.config.fallback else {
            return;
        };
        tracing::info!(
            ?version,
            "the server did not take MQTT 5; the next CONNECT speaks {version:?}"
        );
        // The fallback keeps the window of the version not spoken.
        std::mem::swap(&mut self.config.max_inflight, &mut fallback.max_inflight);
        self.config.version = version;
        self.falling_back = version == ProtocolVersion::V311;
        if self.falling_back {
            self.events.push_back(Event::VersionFallback);
        }
    }
}
