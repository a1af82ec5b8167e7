//! Ending the session (DISCONNECT) and answering authentication (AUTH).

use std::time::Instant;

use crate::packet::{Auth, Disconnect, Packet};

use super::protocol::State;
use super::{CommandError, Protocol};

impl<T> Protocol<T> {
    /// Queues DISCONNECT (when a transport is up) and shuts the session
    /// down: every pending command fails with [`CommandError::Closed`].
    /// On MQTT 3.1.1 the DISCONNECT carries no reason or properties.
    pub fn disconnect(&mut self, disconnect: Disconnect, now: Instant) {
        let _ = now;
        if self.transport_up() {
            let disconnect = if self.is_v5() {
                disconnect
            } else {
                Disconnect::default()
            };
            self.transmit.send(Packet::Disconnect(disconnect));
        }
        for tag in self.outgoing.close(&mut self.ids) {
            self.publish_done(tag, Err(CommandError::Closed));
        }
        for control in self.subscriptions.close(&mut self.ids) {
            self.events.extend(control.fail(CommandError::Closed));
        }
        self.incoming.clear();
        self.state = State::Closed;
        self.connack_deadline = None;
        self.retry_at = None;
        self.keep_alive.stop();
    }

    /// Queues an AUTH: the answer to an [`Event::AuthChallenge`](super::Event::AuthChallenge), or a
    /// client-initiated re-authentication (Re-authenticate). MQTT 5 only:
    /// ignored on 3.1.1 or without a transport.
    pub fn auth(&mut self, auth: Auth, now: Instant) {
        let _ = now;
        if self.is_v5() && self.transport_up() {
            self.transmit.send(Packet::Auth(auth));
        } else {
            tracing::debug!("AUTH dropped: MQTT 3.1.1 or no connection");
        }
    }
}
