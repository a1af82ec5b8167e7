//! The MQTT 3.1.1 and 5.0 codec: every control packet, property and reason
//! code, encoded into a [`BytesMut`](bytes::BytesMut) and decoded from one without copying.
//!
//! The codec is sans-IO: it never touches a socket. [`decode`] returns
//! `Ok(None)` while a frame is incomplete and consumes nothing then, so the
//! caller can keep reading into the same buffer. Topics, strings and payloads
//! of decoded packets are [`Bytes`](bytes::Bytes) slices of the read buffer.
//!
//! ```
//! use bytes::BytesMut;
//! use mqttx::packet::{decode, encode, Packet, ProtocolVersion, Publish, QoS};
//!
//! let publish = Publish::new("sensors/temp", "25.5").qos(QoS::AtLeastOnce).packet_id(7);
//! let mut buf = BytesMut::new();
//! encode(&Packet::Publish(publish.clone()), ProtocolVersion::V5, &mut buf).unwrap();
//! let decoded = decode(&mut buf, ProtocolVersion::V5, 1024 * 1024).unwrap();
//! assert_eq!(decoded, Some(Packet::Publish(publish)));
//! assert!(buf.is_empty());
//! ```

mod auth;
mod connack;
mod connect;
mod disconnect;
mod error;
mod puback;
mod publish;
mod qos;
mod reason;
mod subscribe;
mod unsubscribe;
mod version;

mod codec;
mod filter_grammar;
mod lazy_box;
pub(crate) use redacted::Redacted;
pub mod property;
mod reader;
mod redacted;
pub mod topic;
mod varint;
mod writer;

pub use auth::{Auth, AuthProperties};
pub use connack::{ConnAck, ConnAckProperties};
pub use connect::{Connect, ConnectProperties, LastWill, WillProperties};
pub use disconnect::{Disconnect, DisconnectProperties};
pub use error::{DecodeError, EncodeError};
pub use lazy_box::{LazyBox, StaticDefault};
pub use property::UserProperties;
pub use puback::{AckProperties, PubAck, PubComp, PubRec, PubRel};
pub use publish::{Publish, PublishProperties};
pub use qos::QoS;
pub use reason::ReasonCode;
pub use subscribe::{RetainHandling, SubAck, Subscribe, SubscribeProperties, SubscriptionOptions};
pub use unsubscribe::{UnsubAck, Unsubscribe, UnsubscribeProperties};
pub use version::ProtocolVersion;

pub use bytestring::ByteString;
pub use codec::{decode, encode, encoded_len};
pub(crate) use codec::{has_frame, publish_len};

use std::num::NonZeroU16;

/// A packet identifier: MQTT forbids 0, so the type does too.
pub type PacketId = NonZeroU16;

/// PINGREQ: "are you there?" from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PingReq;

/// PINGRESP: the server's answer to [`PingReq`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PingResp;

/// One MQTT control packet of either protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT (client to server).
    Connect(Box<Connect>),
    /// CONNACK (server to client).
    ConnAck(ConnAck),
    /// PUBLISH (both ways).
    Publish(Publish),
    /// PUBACK: QoS 1 acknowledgement.
    PubAck(PubAck),
    /// PUBREC: QoS 2, part 1.
    PubRec(PubRec),
    /// PUBREL: QoS 2, part 2.
    PubRel(PubRel),
    /// PUBCOMP: QoS 2, part 3.
    PubComp(PubComp),
    /// SUBSCRIBE (client to server).
    Subscribe(Subscribe),
    /// SUBACK (server to client).
    SubAck(SubAck),
    /// UNSUBSCRIBE (client to server).
    Unsubscribe(Unsubscribe),
    /// UNSUBACK (server to client).
    UnsubAck(UnsubAck),
    /// PINGREQ (client to server).
    PingReq,
    /// PINGRESP (server to client).
    PingResp,
    /// DISCONNECT (both ways in MQTT 5, client to server in 3.1.1).
    Disconnect(Disconnect),
    /// AUTH (MQTT 5 only, both ways).
    Auth(Auth),
}

impl Packet {
    /// The packet's name as the specification spells it, for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Packet::Connect(_) => "CONNECT",
            Packet::ConnAck(_) => "CONNACK",
            Packet::Publish(_) => "PUBLISH",
            Packet::PubAck(_) => "PUBACK",
            Packet::PubRec(_) => "PUBREC",
            Packet::PubRel(_) => "PUBREL",
            Packet::PubComp(_) => "PUBCOMP",
            Packet::Subscribe(_) => "SUBSCRIBE",
            Packet::SubAck(_) => "SUBACK",
            Packet::Unsubscribe(_) => "UNSUBSCRIBE",
            Packet::UnsubAck(_) => "UNSUBACK",
            Packet::PingReq => "PINGREQ",
            Packet::PingResp => "PINGRESP",
            Packet::Disconnect(_) => "DISCONNECT",
            Packet::Auth(_) => "AUTH",
        }
    }
}

#[cfg(test)]
mod arbitrary;
#[cfg(test)]
mod tests;
