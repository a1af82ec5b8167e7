//! Flow tests: every flow driven through the public API, with time passed
//! in as `base + Duration` (no sleeping, no sockets).

use std::time::Instant;

use super::*;
use crate::error::Error;
use crate::packet::*;
use crate::store::SessionState;

mod ack;
mod ack_store;
mod aliases;
mod auth;
mod conformance;
mod fallback;
mod held_back;
mod ids;
mod incoming;
mod keepalive;
mod negotiated;
mod outgoing;
mod persist;
mod restore;
mod session;
mod strikes;
mod unexpected;
mod v311;
mod window;

pub(super) type P = Protocol<u32>;

pub(super) fn id(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

pub(super) fn config_v5() -> Config {
    Config {
        keep_alive: 0,
        ..Config::new("test-client")
    }
}

pub(super) fn config_v311() -> Config {
    Config {
        version: ProtocolVersion::V311,
        ..config_v5()
    }
}

/// MQTT 5 with a session that outlives the connection.
pub(super) fn config_persistent() -> Config {
    let mut config = config_v5();
    config.clean_start = false;
    config.connect_properties.session_expiry_interval = Some(3600);
    config
}

pub(super) fn connack() -> ConnAck {
    ConnAck::default()
}

pub(super) fn connack_with(set: impl FnOnce(&mut ConnAckProperties)) -> ConnAck {
    let mut connack = ConnAck::default();
    set(&mut connack.properties);
    connack
}

/// A protocol that has sent CONNECT and received `connack`, with its
/// transmit queue and events drained.
pub(super) fn connect_with(config: Config, connack: ConnAck, now: Instant) -> P {
    let mut protocol = Protocol::new(config);
    protocol.connect(now);
    let sent = drain(&mut protocol, now);
    assert!(matches!(sent.as_slice(), [Packet::Connect(_)]), "{sent:?}");
    protocol.handle_packet(Packet::ConnAck(connack), now).unwrap();
    assert!(matches!(
        events(&mut protocol).first(),
        Some(Event::Connected { .. })
    ));
    drain(&mut protocol, now);
    protocol
}

pub(super) fn connect_v5(now: Instant) -> P {
    connect_with(config_v5(), connack(), now)
}

/// Reconnects an existing protocol; returns what was written after CONNACK.
pub(super) fn reconnect(protocol: &mut P, connack: ConnAck, now: Instant) -> Vec<Packet> {
    protocol.connection_lost(now);
    protocol.connect(now);
    let sent = drain(protocol, now);
    assert!(matches!(sent.as_slice(), [Packet::Connect(_)]), "{sent:?}");
    protocol.handle_packet(Packet::ConnAck(connack), now).unwrap();
    drain(protocol, now)
}

pub(super) fn drain(protocol: &mut P, now: Instant) -> Vec<Packet> {
    std::iter::from_fn(|| protocol.poll_transmit(now)).collect()
}

pub(super) fn events(protocol: &mut P) -> Vec<Event<u32>> {
    std::iter::from_fn(|| protocol.poll_event()).collect()
}

pub(super) fn publish(protocol: &mut P, topic: &'static str, qos: QoS, tag: u32, now: Instant) {
    protocol.publish(Publish::new(topic, "payload").qos(qos), tag, now);
}

/// The PUBLISHes among `packets`, as (packet id, dup).
pub(super) fn publishes(packets: &[Packet]) -> Vec<(u16, bool)> {
    packets
        .iter()
        .filter_map(|packet| match packet {
            Packet::Publish(publish) => Some((publish.packet_id.map_or(0, PacketId::get), publish.dup)),
            _ => None,
        })
        .collect()
}

pub(super) fn done(tag: u32, result: Result<ReasonCode, Error>) -> Event<u32> {
    Event::PublishDone { tag, result }
}

pub(super) fn puback(n: u16) -> Packet {
    Packet::PubAck(PubAck::new(id(n)))
}

pub(super) fn subscribe_filters(filters: &[&'static str]) -> Vec<(ByteString, SubscriptionOptions)> {
    filters
        .iter()
        .map(|filter| {
            (
                ByteString::from_static(filter),
                SubscriptionOptions::new(QoS::AtLeastOnce),
            )
        })
        .collect()
}

pub(super) fn suback(n: u16, codes: Vec<ReasonCode>) -> Packet {
    Packet::SubAck(SubAck {
        packet_id: id(n),
        reason_codes: codes,
        properties: AckProperties::default().into(),
    })
}

/// An AUTH challenge (Continue Authentication) for the method "TOKEN".
pub(super) fn token_challenge() -> Auth {
    Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        properties: AuthProperties {
            authentication_method: Some("TOKEN".into()),
            ..AuthProperties::default()
        }
        .into(),
    }
}
