//! STUB for compiling the connection against the contract; replaced by the protocol branch.
#![allow(missing_docs, dead_code, unused_variables)]
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use bytes::Bytes;
use bytestring::ByteString;

use crate::packet::*;

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub version: ProtocolVersion,
    pub client_id: ByteString,
    pub clean_start: bool,
    pub keep_alive: u16,
    pub username: Option<ByteString>,
    pub password: Option<Bytes>,
    pub will: Option<LastWill>,
    pub connect_properties: ConnectProperties,
    pub max_inflight: u16,
    pub max_queued: usize,
    pub retry_interval: Duration,
    pub connect_timeout: Duration,
    pub ping_timeout: Option<Duration>,
}

#[derive(Debug)]
pub enum Event<T> {
    Connected {
        connack: ConnAck,
        session_present: bool,
    },
    ConnectRejected(ConnAck),
    Message(Publish),
    PublishDone {
        tag: T,
        result: Result<ReasonCode, CommandError>,
    },
    SubscribeDone {
        tag: T,
        result: Result<SubAck, CommandError>,
    },
    UnsubscribeDone {
        tag: T,
        result: Result<UnsubAck, CommandError>,
    },
    PublishFailed {
        packet_id: PacketId,
        reason_code: ReasonCode,
        properties: AckProperties,
    },
    ServerDisconnect(Disconnect),
    AuthChallenge(Auth),
    Timeout(TimeoutKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    ConnAck,
    PingResp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("too large")]
    PacketTooLarge { size: usize, max: usize },
    #[error("queue full")]
    QueueFull,
    #[error("not connected")]
    NotConnected,
    #[error("rejected")]
    Rejected(ReasonCode),
    #[error("qos")]
    QoSNotSupported { requested: QoS, maximum: QoS },
    #[error("retain")]
    RetainNotSupported,
    #[error("topic")]
    InvalidTopic,
    #[error("encode")]
    Encode(EncodeError),
    #[error("closed")]
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protocol error ({reason}): {message}")]
pub struct ProtocolError {
    pub reason: ReasonCode,
    pub message: &'static str,
}

pub struct Protocol<T> {
    config: Config,
    _t: PhantomData<T>,
}
impl<T> Protocol<T> {
    pub fn new(config: Config) -> Self {
        Protocol {
            config,
            _t: PhantomData,
        }
    }
    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn is_connected(&self) -> bool {
        false
    }
    pub fn connect(&mut self, now: Instant) {}
    pub fn connection_lost(&mut self, now: Instant) {}
    pub fn handle_packet(&mut self, packet: Packet, now: Instant) -> Result<(), ProtocolError> {
        Ok(())
    }
    pub fn publish(&mut self, publish: Publish, tag: T, now: Instant) {}
    pub fn subscribe(
        &mut self,
        filters: Vec<(ByteString, SubscriptionOptions)>,
        properties: SubscribeProperties,
        tag: T,
        now: Instant,
    ) {
    }
    pub fn unsubscribe(
        &mut self,
        filters: Vec<ByteString>,
        properties: UnsubscribeProperties,
        tag: T,
        now: Instant,
    ) {
    }
    pub fn disconnect(&mut self, disconnect: Disconnect, now: Instant) {}
    pub fn auth(&mut self, auth: Auth, now: Instant) {}
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Packet> {
        None
    }
    pub fn poll_event(&mut self) -> Option<Event<T>> {
        None
    }
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    pub fn handle_timeout(&mut self, now: Instant) {}
    pub fn inflight(&self) -> usize {
        0
    }
    pub fn queued(&self) -> usize {
        0
    }
}
