//! Enhanced authentication (MQTT 5): the exchange's first data out, AUTH
//! in both directions, and the check of the server's last word by the
//! configured [`Authenticator`](crate::auth::Authenticator).

use std::time::Instant;

use bytes::Bytes;

use crate::auth::AuthError;
use crate::error::Error;
use crate::packet::{Auth, AuthProperties, ByteString, ConnectProperties, Disconnect, Packet, ReasonCode};

use super::protocol::{Reauth, State};
use super::{Event, Protocol, ProtocolError};

impl<T> Protocol<T> {
    /// CONNECT's Authentication Method and Data: the authenticator's, fresh
    /// for every CONNECT, or the configured properties as they are.
    pub(super) fn authentication(&self, properties: &mut ConnectProperties) {
        if let Some(authenticator) = &self.config.authenticator {
            properties.authentication_method = Some(ByteString::from(authenticator.method()));
            properties.authentication_data = authenticator.start();
        }
    }

    /// The Authentication Method of this connection (the one its CONNECT
    /// names), if it uses one.
    fn auth_method(&self) -> Option<&str> {
        match &self.config.authenticator {
            Some(authenticator) => Some(authenticator.method()),
            None => self.config.connect_properties.authentication_method.as_deref(),
        }
    }

    /// Checks CONNACK Success's Authentication Data. `Err` has queued the
    /// DISCONNECT that refuses the server.
    pub(super) fn check_connack_auth(&mut self, data: Option<&Bytes>) -> Result<(), AuthError> {
        let Some(authenticator) = &self.config.authenticator else {
            return Ok(());
        };
        let checked = authenticator.finish(data.map(|data| &data[..]));
        if let Err(err) = &checked {
            self.refuse_server(err);
        }
        checked
    }

    /// Queues an AUTH: the answer to an [`Event::AuthChallenge`], or a
    /// re-authentication of the application's own. MQTT 5 only: ignored on
    /// 3.1.1, without a transport, or when the CONNECT named no
    /// Authentication Method [MQTT-4.12.0-7].
    ///
    /// It names the CONNECT's Authentication Method, whatever `auth` says
    /// [MQTT-4.12.0-5], and goes without its Reason String, then User
    /// Properties, as far as the server's Maximum Packet Size requires
    /// [MQTT-3.15.2-2, MQTT-3.15.2-3]; one too large even so is dropped.
    pub fn auth(&mut self, mut auth: Auth, now: Instant) {
        let _ = now;
        if !self.is_v5() || !self.transport_up() {
            tracing::debug!("AUTH dropped: MQTT 3.1.1 or no connection");
            return;
        }
        let Some(method) = self.auth_method() else {
            tracing::debug!("AUTH dropped: the CONNECT named no Authentication Method");
            return;
        };
        if auth.properties.authentication_method.as_deref() != Some(method) {
            let method = ByteString::from(method);
            auth.properties.authentication_method = Some(method);
        }
        match self.fit_auth(auth) {
            Ok(packet) => self.transmit.send(packet),
            Err(error) => tracing::warn!(%error, "AUTH dropped: it cannot be written"),
        }
    }

    /// Starts a re-authentication (AUTH, Re-authenticate) with the
    /// authenticator's fresh data, or `data` when there is no
    /// authenticator; the handler answers the challenges. `tag` comes back
    /// in [`Event::ReauthenticateDone`] once the server's AUTH Success has
    /// been checked, or the exchange failed.
    pub fn reauthenticate(&mut self, data: Option<Bytes>, tag: T, now: Instant) {
        let _ = now;
        let method = match self.auth_method() {
            _ if !self.is_v5() => Err(Error::InvalidOptions("re-authentication needs MQTT 5".into())),
            _ if self.state != State::Connected => Err(Error::NotConnected),
            _ if self.reauth.is_some() => Err(Error::InvalidOptions(
                "a re-authentication is already under way".into(),
            )),
            None => Err(Error::InvalidOptions(
                "re-authentication needs an Authentication Method: set an authenticator".into(),
            )),
            Some(method) => Ok(ByteString::from(method)),
        };
        let method = match method {
            Ok(method) => method,
            Err(err) => return self.reauthenticate_done(tag, Err(err)),
        };
        let data = match &self.config.authenticator {
            Some(authenticator) => authenticator.start(),
            None => data,
        };
        let auth = Auth {
            reason_code: ReasonCode::ReAuthenticate,
            properties: AuthProperties {
                authentication_method: Some(method),
                authentication_data: data,
                ..AuthProperties::default()
            }
            .into(),
        };
        // Too large for the server: refused here, not written [MQTT-3.2.2-15].
        match self.fit_auth(auth) {
            Ok(packet) => {
                self.reauth = Some(Reauth { tag: Some(tag) });
                self.transmit.send(packet);
            }
            Err(err) => self.reauthenticate_done(tag, Err(err)),
        }
    }

    /// AUTH from the server. A challenge goes to the handler; Success ends
    /// a re-authentication, once the authenticator accepts it.
    pub(super) fn on_auth(&mut self, auth: Auth) -> Result<(), ProtocolError> {
        // A server may send AUTH only in the exchange the CONNECT opened
        // [MQTT-4.12.0-6]; without one the client must never answer it
        // [MQTT-4.12.0-7].
        let Some(method) = self.auth_method() else {
            return Err(ProtocolError::violation(
                "AUTH when the CONNECT named no Authentication Method",
            ));
        };
        match auth.properties.authentication_method.as_deref() {
            // Only a Success may come without properties at all.
            None if auth.reason_code != ReasonCode::Success => {
                return Err(ProtocolError::violation("AUTH without an Authentication Method"));
            }
            // Every AUTH of the exchange names the CONNECT's method
            // [MQTT-4.12.0-5]; the handler's answer echoes it.
            Some(theirs) if theirs != method => {
                return Err(ProtocolError::violation(
                    "AUTH naming another Authentication Method than the CONNECT",
                ));
            }
            _ => {}
        }
        let connected = self.state == State::Connected;
        match auth.reason_code {
            ReasonCode::Success if !connected => {
                return Err(ProtocolError::violation("AUTH Success before CONNACK"));
            }
            ReasonCode::Success => {
                let Some(reauth) = self.reauth.take() else {
                    return Err(ProtocolError::violation(
                        "AUTH Success with no re-authentication under way",
                    ));
                };
                let checked = match &self.config.authenticator {
                    Some(authenticator) => {
                        authenticator.finish(auth.properties.authentication_data.as_deref())
                    }
                    None => Ok(()),
                };
                if let Err(err) = checked {
                    self.refuse_server(&err);
                    self.state = State::Offline;
                    if let Some(tag) = reauth.tag {
                        self.reauthenticate_done(tag, Err(Error::Auth(err.clone())));
                    }
                    self.events.push_back(Event::AuthFailed(err));
                    return Ok(());
                }
                if let Some(tag) = reauth.tag {
                    self.reauthenticate_done(tag, Ok(()));
                }
            }
            // The server asks for a re-authentication: not in the
            // specification, which leaves that to the client, but some
            // servers do; the handler answers.
            _ if connected && self.reauth.is_none() => self.reauth = Some(Reauth { tag: None }),
            _ => {}
        }
        self.events.push_back(Event::AuthChallenge(auth));
        Ok(())
    }

    /// Queues the DISCONNECT that refuses a server whose end of the
    /// exchange did not verify.
    fn refuse_server(&mut self, err: &AuthError) {
        tracing::error!(%err, "the server's authentication did not verify; disconnecting");
        if self.transport_up() {
            self.transmit.send(Packet::Disconnect(Disconnect {
                reason_code: ReasonCode::ImplementationSpecificError,
                ..Disconnect::default()
            }));
        }
    }

    fn reauthenticate_done(&mut self, tag: T, result: Result<(), Error>) {
        self.events.push_back(Event::ReauthenticateDone { tag, result });
    }

    /// A re-authentication cut short by the end of its connection.
    pub(super) fn reauth_lost(&mut self, error: Error) {
        if let Some(Reauth { tag: Some(tag) }) = self.reauth.take() {
            self.reauthenticate_done(tag, Err(error));
        }
    }
}
