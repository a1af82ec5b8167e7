//! CONNECT out, CONNACK in: which session we ask for, what the server
//! negotiated, and what happens to the session state either way.

use std::time::Instant;

use crate::packet::{
    encoded_len, ByteString, ConnAck, Connect, ConnectProperties, EncodeError, Packet, ProtocolVersion,
    ReasonCode, WillProperties,
};

use super::limits::ServerLimits;
use super::protocol::State;
use super::session::SessionChange;
use super::{Config, Event, Protocol, ProtocolError};

impl Config {
    /// Whether the CONNECT this configuration makes can be written: `Err`
    /// names what cannot (a Client Identifier, User Name, will or CONNECT
    /// property holding U+0000 [MQTT-1.5.4-2], a will topic that is no
    /// topic name, ...). Check it before connecting: the state machine
    /// queues its CONNECT as configured, and an I/O shell that cannot
    /// encode it has nothing to send.
    pub fn check_connect(&self) -> Result<(), EncodeError> {
        let mut config = self.clone();
        // The method as every CONNECT names it, without starting an exchange.
        if let Some(authenticator) = config.authenticator.take() {
            let properties = &mut config.connect_properties;
            properties.authentication_method = Some(ByteString::from(authenticator.method()));
            properties.authentication_data = None;
        }
        let connect = Protocol::<()>::new(config).build_connect();
        encoded_len(&Packet::Connect(Box::new(connect)), self.version).map(drop)
    }
}

impl<T> Protocol<T> {
    pub(super) fn build_connect(&self) -> Connect {
        let config = &self.config;
        let v5 = config.version == ProtocolVersion::V5;
        let mut will = config.will.clone();
        if let (Some(will), false) = (&mut will, v5) {
            will.properties = WillProperties::default();
        }
        Connect {
            protocol: config.version,
            clean_start: self.clean_start(),
            keep_alive: self.requested_keep_alive,
            client_id: config.client_id.clone(),
            will,
            username: config.username.clone(),
            password: config.password.clone(),
            properties: if v5 {
                let mut properties = config.connect_properties.clone();
                self.authentication(&mut properties);
                properties
            } else {
                ConnectProperties::default()
            },
        }
    }

    /// The configured flag for the first connect; afterwards, resume the
    /// session whenever the server can still have one.
    fn clean_start(&self) -> bool {
        if !self.connected_once {
            return self.config.clean_start;
        }
        match self.config.version {
            ProtocolVersion::V5 => self.session_expiry == 0 && self.config.clean_start,
            ProtocolVersion::V311 => self.config.clean_start,
        }
    }

    pub(super) fn on_connack(&mut self, connack: ConnAck, now: Instant) -> Result<(), ProtocolError> {
        if self.state != State::AwaitingConnAck {
            return Err(ProtocolError::violation("CONNACK when none was expected"));
        }
        self.connack_deadline = None;
        if connack.reason_code != ReasonCode::Success {
            self.state = State::Offline;
            if !self.fall_back_on_refusal(&connack) {
                self.events.push_back(Event::ConnectRejected(connack));
            }
            return Ok(());
        }
        if connack.session_present && self.clean_start_sent {
            // We hold no session the server could be resuming [MQTT-3.2.2-4].
            return Err(ProtocolError::violation("Session Present after a Clean Start"));
        }
        if let Err(err) = self.check_connack_auth(connack.properties.authentication_data.as_ref()) {
            self.state = State::Offline;
            self.events.push_back(Event::AuthFailed(err));
            return Ok(());
        }
        self.apply_negotiated(&connack, now);
        self.state = State::Connected;
        self.connected_once = true;
        self.generation += 1;
        let session_present = connack.session_present;
        self.events.push_back(Event::Connected {
            connack,
            session_present,
        });
        if session_present {
            self.resume_session(now);
        } else {
            self.fresh_session();
        }
        self.send_waiting(now);
        Ok(())
    }

    fn apply_negotiated(&mut self, connack: &ConnAck, now: Instant) {
        let properties = &connack.properties;
        self.limits = ServerLimits::from_connack(properties);
        self.aliases_out.reset(self.limits.topic_alias_maximum());
        if let Some(id) = &properties.assigned_client_identifier {
            self.config.client_id = id.clone();
        }
        if let Some(expiry) = properties.session_expiry_interval {
            self.session_expiry = expiry;
        }
        // Server Keep Alive replaces ours [MQTT-3.1.2-21].
        self.config.keep_alive = properties.server_keep_alive.unwrap_or(self.requested_keep_alive);
        self.keep_alive
            .reset(self.config.keep_alive, self.config.ping_timeout, now);
    }

    /// The server kept the session: everything in flight is written
    /// again, as far as the new window allows.
    fn resume_session(&mut self, now: Instant) {
        let window = self.window();
        self.outgoing.session_resumed(window, now, &mut self.transmit);
        // Acknowledgements of messages handled while off-line.
        self.send_acknowledgements();
        self.arm_retry(now);
    }

    /// The server has no session [MQTT-3.2.2-5]: incoming QoS 2 state is
    /// forgotten, in-flight publishes are sent again as new messages or,
    /// once PUBREC'd, complete, and every held subscription is subscribed
    /// again.
    fn fresh_session(&mut self) {
        self.incoming.clear();
        self.journal.record(|| SessionChange::IncomingCleared);
        for (seq, tag, pubrec) in self.outgoing.session_lost(&mut self.ids) {
            self.journal.record(|| SessionChange::Completed { seq });
            self.publish_done(tag, Ok(pubrec));
        }
        self.subscriptions.session_lost();
    }
}
