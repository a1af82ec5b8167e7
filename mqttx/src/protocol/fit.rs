//! Keeping the DISCONNECT and AUTH the application hands over within what
//! the server takes: their Reason String and User Properties are the
//! properties a sender may leave out, and must leave out rather than
//! exceed the server's Maximum Packet Size [MQTT-3.2.2-15, MQTT-3.14.2-3,
//! MQTT-3.14.2-4, MQTT-3.15.2-2, MQTT-3.15.2-3].

use crate::error::Error;
use crate::packet::{encoded_len, Auth, Disconnect, Packet, UserProperties};

use super::Protocol;

/// What may go: the Reason String first, then User Properties, last first.
/// `false` once neither is left.
fn shed(reason_string: &mut Option<impl Sized>, user_properties: &mut UserProperties) -> bool {
    if reason_string.take().is_some() {
        return true;
    }
    user_properties.pop().is_some()
}

impl<T> Protocol<T> {
    /// `Ok` when `packet` can be written on this connection: it encodes,
    /// within the server's Maximum Packet Size.
    fn writable(&self, packet: &Packet) -> Result<(), Error> {
        let size = encoded_len(packet, self.config.version)?;
        self.limits.check_size(size)
    }

    /// Drops from `packet` what `shed` takes, one piece at a time, until
    /// it is [writable](Self::writable) or nothing more can go; returns
    /// whether it is writable then, and if not why.
    fn shed_until_writable(
        &self,
        packet: &mut Packet,
        mut shed: impl FnMut(&mut Packet) -> bool,
    ) -> Result<(), Error> {
        loop {
            let writable = self.writable(packet);
            if writable.is_ok() || !shed(packet) {
                return writable;
            }
        }
    }

    /// The application's DISCONNECT (MQTT 5) as it can be written: without
    /// its Reason String, then User Properties, then Server Reference, as
    /// far as it must; at worst its Reason Code and Session Expiry
    /// Interval alone.
    pub(super) fn fit_disconnect(&self, disconnect: Disconnect) -> Disconnect {
        let mut packet = Packet::Disconnect(disconnect);
        let fitted = self.shed_until_writable(&mut packet, |packet| {
            let Packet::Disconnect(disconnect) = packet else {
                return false;
            };
            let Some(properties) = disconnect.properties.get_mut() else {
                return false;
            };
            shed(&mut properties.reason_string, &mut properties.user_properties)
                || properties.server_reference.take().is_some()
        });
        let Packet::Disconnect(mut disconnect) = packet else {
            unreachable!("a DISCONNECT stays one")
        };
        if let Err(error) = fitted {
            tracing::warn!(%error, "DISCONNECT sent with its reason code only");
            let expiry = disconnect
                .properties
                .get()
                .and_then(|properties| properties.session_expiry_interval);
            disconnect.properties = Default::default();
            if let Some(expiry) = expiry {
                disconnect.properties.session_expiry_interval = Some(expiry);
            }
        }
        disconnect
    }

    /// `auth` as it can be written: without its Reason String, then User
    /// Properties, as far as it must. `Err` when it cannot be written even
    /// so (its Authentication Data alone is too large).
    pub(super) fn fit_auth(&self, auth: Auth) -> Result<Packet, Error> {
        let mut packet = Packet::Auth(auth);
        self.shed_until_writable(&mut packet, |packet| {
            let Packet::Auth(auth) = packet else {
                return false;
            };
            let Some(properties) = auth.properties.get_mut() else {
                return false;
            };
            shed(&mut properties.reason_string, &mut properties.user_properties)
        })?;
        Ok(packet)
    }
}
