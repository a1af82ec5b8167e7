//! What follows from the options: the servers and ports in use, the
//! protocol configuration, and whether the options make sense together.

use super::{ConnectOptions, Proxy, TlsOptions, Transport, DEFAULT_MAX_INFLIGHT, DEFAULT_MAX_INFLIGHT_V311};
use crate::error::Error;
use crate::packet::ProtocolVersion;
use crate::protocol::{Config, Fallback};

/// Session Expiry Interval 0xFFFFFFFF: the session does not expire.
const KEEP_SESSION: u32 = u32::MAX;

impl<H> ConnectOptions<H> {
    /// The broker host.
    pub fn host_name(&self) -> &str {
        &self.host
    }

    /// The port that will be used: the one set, or the transport's default.
    pub fn port_number(&self) -> u16 {
        self.port.unwrap_or_else(|| self.transport.default_port())
    }

    /// The transport that will be used.
    pub fn transport_kind(&self) -> Transport {
        self.transport
    }

    /// Every server in failover order, with the port each will use.
    pub fn server_list(&self) -> Vec<(&str, u16)> {
        std::iter::once((self.host.as_str(), self.port))
            .chain(
                self.more_servers
                    .iter()
                    .map(|(host, port)| (host.as_str(), *port)),
            )
            .map(|(host, port)| (host, port.unwrap_or_else(|| self.transport.default_port())))
            .collect()
    }

    /// The TLS settings.
    pub fn tls_options(&self) -> &TlsOptions {
        &self.tls
    }

    /// The HTTP proxy, if one is set.
    pub fn proxy_settings(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    /// The client identifier as configured.
    pub fn client_identifier(&self) -> &str {
        &self.client_id
    }

    /// The protocol version of the first CONNECT.
    pub(crate) fn version(&self) -> ProtocolVersion {
        self.protocol_version.unwrap_or(ProtocolVersion::V5)
    }

    /// Falling back to 3.1.1, unless the version is pinned or these options
    /// would not make a valid 3.1.1 CONNECT.
    fn fallback(&self) -> Option<Fallback> {
        // 3.1.1 has no enhanced authentication: falling back would connect without it.
        let enhanced_auth =
            self.authenticator.is_some() || self.connect_properties.authentication_method.is_some();
        let valid_v311 = self.check_v311().is_ok() && !enhanced_auth;
        (self.protocol_version.is_none() && valid_v311).then(|| Fallback {
            max_inflight: self.max_inflight.unwrap_or(DEFAULT_MAX_INFLIGHT_V311),
        })
    }

    /// The sans-IO protocol configuration these options describe.
    pub(crate) fn protocol_config(&self) -> Config {
        let mut properties = self.connect_properties.clone();
        let version = self.version();
        if version == ProtocolVersion::V5 {
            if properties.maximum_packet_size.is_none() {
                properties.maximum_packet_size = Some(self.max_packet_size);
            }
            if properties.request_response_information.is_none() {
                // Ask for the server's Response Information: the base of
                // the default response topic of requests and calls.
                properties.request_response_information = Some(true);
            }
            if !self.clean_session && properties.session_expiry_interval.is_none() {
                // MQTT 5's reading of 3.1.1's Clean Session 0: Clean Start 0
                // with a session that never expires. Without it the broker
                // ends the session with the network connection, and nothing
                // published meanwhile is kept.
                properties.session_expiry_interval = Some(KEEP_SESSION);
            }
        }
        Config {
            version,
            fallback: self.fallback(),
            client_id: self.client_id.clone(),
            clean_start: self.clean_session,
            keep_alive: u16::try_from(self.keepalive.as_secs()).unwrap_or(u16::MAX),
            username: self.username.clone(),
            password: self.password.clone(),
            will: self.will.clone(),
            connect_properties: properties,
            max_inflight: self.max_inflight.unwrap_or(match version {
                ProtocolVersion::V5 => DEFAULT_MAX_INFLIGHT,
                ProtocolVersion::V311 => DEFAULT_MAX_INFLIGHT_V311,
            }),
            max_queued: self.max_queued,
            retry_interval: self.retry_interval,
            connect_timeout: self.connect_timeout,
            ping_timeout: None,
            authenticator: self.authenticator.clone(),
        }
    }

    /// Rejects combinations that cannot work, before anything is started.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.server_list().iter().any(|(host, _)| host.is_empty()) {
            return Err(Error::InvalidOptions("a server's host is empty".into()));
        }
        if self.session_store.is_some() && self.client_id.is_empty() {
            return Err(Error::InvalidOptions(
                "a session store needs a client id: the session is kept under it".into(),
            ));
        }
        if matches!(self.transport, Transport::Ws | Transport::Wss) && !self.ws_path.starts_with('/') {
            return Err(Error::InvalidOptions(format!(
                "ws_path {:?} must start with '/'",
                self.ws_path
            )));
        }
        if self.keepalive.as_secs() > u64::from(u16::MAX) {
            return Err(Error::InvalidOptions("keepalive is above 65,535 seconds".into()));
        }
        // A CONNECT that cannot be encoded (U+0000 in the client id, a
        // will topic with a wildcard, ...) would never be written: refuse it
        // here rather than time out on every attempt.
        self.protocol_config()
            .check_connect()
            .map_err(|err| Error::InvalidOptions(format!("the CONNECT cannot be sent: {err}")))?;
        if self.protocol_version == Some(ProtocolVersion::V311) {
            self.check_v311()?;
            if self.authenticator.is_some() {
                return Err(Error::InvalidOptions(
                    "an authenticator needs MQTT 5: 3.1.1 has no enhanced authentication".into(),
                ));
            }
        }
        Ok(())
    }

    /// What a 3.1.1 CONNECT cannot carry.
    fn check_v311(&self) -> Result<(), Error> {
        if self.client_id.is_empty() && !self.clean_session {
            return Err(Error::InvalidOptions(
                "MQTT 3.1.1 needs a client id when clean_session is false".into(),
            ));
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(Error::InvalidOptions(
                "MQTT 3.1.1 needs a user name with a password".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiry(opts: ConnectOptions) -> Option<u32> {
        opts.protocol_config().connect_properties.session_expiry_interval
    }

    #[test]
    fn clean_session_false_keeps_the_session_unless_an_expiry_is_given() {
        let opts = || ConnectOptions::new("localhost", "c1");
        assert_eq!(expiry(opts().clean_session(false)), Some(u32::MAX));
        assert_eq!(
            expiry(opts().clean_session(false).session_expiry_interval(60)),
            Some(60),
            "an explicit value wins"
        );
        assert_eq!(
            expiry(opts().clean_session(false).session_expiry_interval(0)),
            Some(0),
            "even zero"
        );
        assert_eq!(expiry(opts()), None, "a clean session asks for nothing");
        assert_eq!(
            expiry(
                opts()
                    .clean_session(false)
                    .protocol_version(ProtocolVersion::V311)
            ),
            None,
            "3.1.1 has no properties; Clean Session 0 says it all"
        );
    }
}

#[cfg(test)]
mod validate_tests {
    use super::*;

    #[test]
    fn a_connect_that_cannot_be_encoded_is_refused_before_anything_starts() {
        let err = ConnectOptions::new("localhost", "bad\u{0}id")
            .validate()
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidOptions(why) if why.contains("U+0000")),
            "{err}"
        );
        assert!(ConnectOptions::new("localhost", "good-id").validate().is_ok());
    }
}
