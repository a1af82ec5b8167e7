//! Proptest strategies producing valid packets of every kind, for either
//! protocol version (MQTT 5 ones carry every property they allow).

use std::num::NonZeroU16;

use bytes::Bytes;
use bytestring::ByteString;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use super::reason::ReasonSet;
use super::*;

pub(crate) fn string() -> impl Strategy<Value = ByteString> {
    "[a-zA-Z0-9 é€😀]{0,10}".prop_map(ByteString::from)
}

pub(crate) fn binary() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..12).prop_map(Bytes::from)
}

pub(crate) fn topic_name() -> impl Strategy<Value = ByteString> {
    "[a-z0-9$é]{1,6}(/[a-z0-9-]{0,6}){0,3}".prop_map(ByteString::from)
}

pub(crate) fn topic_filter() -> impl Strategy<Value = ByteString> {
    prop_oneof![
        topic_name(),
        "[a-z]{1,5}/\\+/[a-z]{1,5}".prop_map(ByteString::from),
        "[a-z]{1,5}(/[a-z]{1,5})?/#".prop_map(ByteString::from),
        Just(ByteString::from("#")),
        Just(ByteString::from("+")),
    ]
}

fn shared_filter() -> impl Strategy<Value = ByteString> {
    ("[a-z]{1,4}", topic_filter()).prop_map(|(g, f)| ByteString::from(format!("$share/{g}/{f}")))
}

pub(crate) fn packet_id() -> impl Strategy<Value = PacketId> {
    (1u16..=u16::MAX).prop_map(|id| NonZeroU16::new(id).unwrap())
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn user_properties() -> impl Strategy<Value = UserProperties> {
    vec((string(), string()), 0..3)
}

fn reason(set: ReasonSet) -> impl Strategy<Value = ReasonCode> {
    let codes: Vec<ReasonCode> = (0..=255u8)
        .filter(|&c| set.allows(c))
        .filter_map(ReasonCode::from_u8)
        .collect();
    select(codes)
}

fn ack_properties(version: ProtocolVersion) -> BoxedStrategy<AckProperties> {
    match version {
        ProtocolVersion::V311 => Just(AckProperties::default()).boxed(),
        ProtocolVersion::V5 => (option::of(string()), user_properties())
            .prop_map(|(reason_string, user_properties)| AckProperties {
                reason_string,
                user_properties,
            })
            .boxed(),
    }
}

fn ack_reason(version: ProtocolVersion, set: ReasonSet) -> BoxedStrategy<ReasonCode> {
    match version {
        ProtocolVersion::V311 => Just(ReasonCode::Success).boxed(),
        ProtocolVersion::V5 => reason(set).boxed(),
    }
}

fn publish_properties() -> impl Strategy<Value = PublishProperties> {
    (
        option::of(any::<bool>()),
        option::of(any::<u32>()),
        option::of((1u16..).prop_map(|a| NonZeroU16::new(a).unwrap())),
        option::of(topic_name()),
        option::of(binary()),
        user_properties(),
        vec(1u32..=268_435_455, 0..3),
        option::of(string()),
    )
        .prop_map(|(pfi, mei, alias, rt, cd, up, subs, ct)| PublishProperties {
            payload_format_indicator: pfi,
            message_expiry_interval: mei,
            topic_alias: alias,
            response_topic: rt,
            correlation_data: cd,
            user_properties: up,
            subscription_identifiers: subs,
            content_type: ct,
        })
}

pub(crate) fn publish(version: ProtocolVersion) -> impl Strategy<Value = Publish> {
    let properties = match version {
        ProtocolVersion::V311 => Just(PublishProperties::default()).boxed(),
        ProtocolVersion::V5 => publish_properties().boxed(),
    };
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        topic_name(),
        packet_id(),
        properties,
        binary(),
        any::<bool>(),
    )
        .prop_map(
            move |(qos, dup, retain, topic, id, properties, payload, drop_topic)| {
                let aliased = properties.topic_alias.is_some() && drop_topic;
                Publish {
                    dup: dup && qos != QoS::AtMostOnce,
                    qos,
                    retain,
                    topic: if aliased { ByteString::new() } else { topic },
                    packet_id: (qos != QoS::AtMostOnce).then_some(id),
                    properties: properties.into(),
                    payload,
                }
            },
        )
}

fn will(version: ProtocolVersion) -> impl Strategy<Value = LastWill> {
    let properties = match version {
        ProtocolVersion::V311 => Just(WillProperties::default()).boxed(),
        ProtocolVersion::V5 => (
            option::of(any::<u32>()),
            option::of(any::<bool>()),
            option::of(any::<u32>()),
            option::of(string()),
            option::of(topic_name()),
            option::of(binary()),
            user_properties(),
        )
            .prop_map(|(wdi, pfi, mei, ct, rt, cd, up)| WillProperties {
                will_delay_interval: wdi,
                payload_format_indicator: pfi,
                message_expiry_interval: mei,
                content_type: ct,
                response_topic: rt,
                correlation_data: cd,
                user_properties: up,
            })
            .boxed(),
    };
    (topic_name(), binary(), qos(), any::<bool>(), properties).prop_map(
        |(topic, payload, qos, retain, properties)| LastWill {
            topic,
            payload,
            qos,
            retain,
            properties,
        },
    )
}

fn connect(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let properties = match version {
        ProtocolVersion::V311 => Just(ConnectProperties::default()).boxed(),
        ProtocolVersion::V5 => (
            option::of(any::<u32>()),
            option::of(1u16..),
            option::of(1u32..),
            option::of(any::<u16>()),
            option::of(any::<bool>()),
            option::of(any::<bool>()),
            user_properties(),
            option::of((string(), option::of(binary()))),
        )
            .prop_map(|(sei, rm, mps, tam, rri, rpi, up, auth)| ConnectProperties {
                session_expiry_interval: sei,
                receive_maximum: rm,
                maximum_packet_size: mps,
                topic_alias_maximum: tam,
                request_response_information: rri,
                request_problem_information: rpi,
                user_properties: up,
                authentication_method: auth.as_ref().map(|a| a.0.clone()),
                authentication_data: auth.and_then(|a| a.1),
            })
            .boxed(),
    };
    (
        any::<bool>(),
        any::<u16>(),
        string(),
        option::of(will(version)),
        option::of(string()),
        option::of(binary()),
        properties,
    )
        .prop_map(
            move |(clean_start, keep_alive, client_id, will, username, password, properties)| {
                // 3.1.1 forbids a password without a user name.
                let password = if version == ProtocolVersion::V311 && username.is_none() {
                    None
                } else {
                    password
                };
                Packet::Connect(Box::new(Connect {
                    protocol: version,
                    clean_start,
                    keep_alive,
                    client_id,
                    will,
                    username,
                    password,
                    properties,
                }))
            },
        )
}

fn connack(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let reason = match version {
        ProtocolVersion::V311 => select(
            (0..=5)
                .filter_map(ReasonCode::from_v311_connack)
                .collect::<Vec<_>>(),
        )
        .boxed(),
        ProtocolVersion::V5 => reason(ReasonSet::ConnAck).boxed(),
    };
    let properties = match version {
        ProtocolVersion::V311 => Just(ConnAckProperties::default()).boxed(),
        ProtocolVersion::V5 => (
            (
                option::of(any::<u32>()),
                option::of(1u16..),
                option::of(prop_oneof![Just(QoS::AtMostOnce), Just(QoS::AtLeastOnce)]),
                option::of(any::<bool>()),
                option::of(1u32..),
                option::of(string()),
                option::of(any::<u16>()),
                option::of(string()),
            ),
            (
                user_properties(),
                option::of(any::<bool>()),
                option::of(any::<bool>()),
                option::of(any::<bool>()),
                option::of(any::<u16>()),
                option::of(string()),
                option::of(string()),
                option::of((string(), option::of(binary()))),
            ),
        )
            .prop_map(
                |((sei, rm, mq, ra, mps, aci, tam, rs), (up, wsa, sia, ssa, ska, ri, sr, auth))| {
                    ConnAckProperties {
                        session_expiry_interval: sei,
                        receive_maximum: rm,
                        maximum_qos: mq,
                        retain_available: ra,
                        maximum_packet_size: mps,
                        assigned_client_identifier: aci,
                        topic_alias_maximum: tam,
                        reason_string: rs,
                        user_properties: up,
                        wildcard_subscription_available: wsa,
                        subscription_identifiers_available: sia,
                        shared_subscription_available: ssa,
                        server_keep_alive: ska,
                        response_information: ri,
                        server_reference: sr,
                        authentication_method: auth.as_ref().map(|a| a.0.clone()),
                        authentication_data: auth.and_then(|a| a.1),
                    }
                },
            )
            .boxed(),
    };
    (any::<bool>(), reason, properties).prop_map(|(session_present, reason_code, properties)| {
        Packet::ConnAck(ConnAck {
            session_present,
            reason_code,
            properties: properties.into(),
        })
    })
}

fn subscription_options(version: ProtocolVersion) -> BoxedStrategy<SubscriptionOptions> {
    match version {
        ProtocolVersion::V311 => qos().prop_map(SubscriptionOptions::new).boxed(),
        ProtocolVersion::V5 => (
            qos(),
            any::<bool>(),
            any::<bool>(),
            prop_oneof![
                Just(RetainHandling::SendAtSubscribe),
                Just(RetainHandling::SendAtSubscribeIfNew),
                Just(RetainHandling::DoNotSend)
            ],
        )
            .prop_map(
                |(qos, no_local, retain_as_published, retain_handling)| SubscriptionOptions {
                    qos,
                    no_local,
                    retain_as_published,
                    retain_handling,
                },
            )
            .boxed(),
    }
}

fn subscribe(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let filter = prop_oneof![
        (topic_filter(), subscription_options(version)),
        // No Local is a Protocol Error on shared subscriptions.
        (shared_filter(), subscription_options(version))
            .prop_map(|(f, o)| (f, SubscriptionOptions { no_local: false, ..o })),
    ];
    let properties = match version {
        ProtocolVersion::V311 => Just(SubscribeProperties::default()).boxed(),
        ProtocolVersion::V5 => (option::of(1u32..=268_435_455), user_properties())
            .prop_map(|(subscription_identifier, user_properties)| SubscribeProperties {
                subscription_identifier,
                user_properties,
            })
            .boxed(),
    };
    (packet_id(), vec(filter, 1..4), properties).prop_map(|(packet_id, filters, properties)| {
        Packet::Subscribe(Subscribe {
            packet_id,
            filters,
            properties,
        })
    })
}

fn suback(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = match version {
        ProtocolVersion::V311 => select(vec![
            ReasonCode::Success,
            ReasonCode::GrantedQoS1,
            ReasonCode::GrantedQoS2,
            ReasonCode::UnspecifiedError,
        ])
        .boxed(),
        ProtocolVersion::V5 => reason(ReasonSet::SubAck).boxed(),
    };
    (packet_id(), vec(code, 1..4), ack_properties(version)).prop_map(
        |(packet_id, reason_codes, properties)| {
            Packet::SubAck(SubAck {
                packet_id,
                reason_codes,
                properties: properties.into(),
            })
        },
    )
}

fn unsubscribe(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let properties = match version {
        ProtocolVersion::V311 => Just(UnsubscribeProperties::default()).boxed(),
        ProtocolVersion::V5 => user_properties()
            .prop_map(|user_properties| UnsubscribeProperties { user_properties })
            .boxed(),
    };
    (
        packet_id(),
        vec(prop_oneof![topic_filter(), shared_filter()], 1..4),
        properties,
    )
        .prop_map(|(packet_id, filters, properties)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                filters,
                properties,
            })
        })
}

fn unsuback(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let codes = match version {
        ProtocolVersion::V311 => Just(Vec::new()).boxed(),
        ProtocolVersion::V5 => vec(reason(ReasonSet::UnsubAck), 1..4).boxed(),
    };
    (packet_id(), codes, ack_properties(version)).prop_map(|(packet_id, reason_codes, properties)| {
        Packet::UnsubAck(UnsubAck {
            packet_id,
            reason_codes,
            properties: properties.into(),
        })
    })
}

fn disconnect(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    match version {
        ProtocolVersion::V311 => Just(Packet::Disconnect(Disconnect::default())).boxed(),
        ProtocolVersion::V5 => (
            reason(ReasonSet::Disconnect),
            option::of(any::<u32>()),
            option::of(string()),
            user_properties(),
            option::of(string()),
        )
            .prop_map(|(reason_code, sei, rs, up, sr)| {
                Packet::Disconnect(Disconnect {
                    reason_code,
                    properties: DisconnectProperties {
                        session_expiry_interval: sei,
                        reason_string: rs,
                        user_properties: up,
                        server_reference: sr,
                    }
                    .into(),
                })
            })
            .boxed(),
    }
}

fn auth() -> impl Strategy<Value = Packet> {
    (
        reason(ReasonSet::Auth),
        option::of((string(), option::of(binary()))),
        option::of(string()),
        user_properties(),
    )
        .prop_map(|(reason_code, auth, rs, up)| {
            Packet::Auth(Auth {
                reason_code,
                properties: AuthProperties {
                    authentication_method: auth.as_ref().map(|a| a.0.clone()),
                    authentication_data: auth.and_then(|a| a.1),
                    reason_string: rs,
                    user_properties: up,
                }
                .into(),
            })
        })
}

macro_rules! ack {
    ($variant:ident, $ty:ident, $set:expr, $version:expr) => {
        (packet_id(), ack_reason($version, $set), ack_properties($version)).prop_map(
            |(packet_id, reason_code, properties)| {
                Packet::$variant($ty {
                    packet_id,
                    reason_code,
                    properties: properties.into(),
                })
            },
        )
    };
}

/// Any valid packet that exists in `version`.
pub(crate) fn packet(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    let common = prop_oneof![
        connect(version),
        connack(version),
        publish(version).prop_map(Packet::Publish),
        ack!(PubAck, PubAck, ReasonSet::PubAck, version),
        ack!(PubRec, PubRec, ReasonSet::PubAck, version),
        ack!(PubRel, PubRel, ReasonSet::PubRel, version),
        ack!(PubComp, PubComp, ReasonSet::PubRel, version),
        subscribe(version),
        suback(version),
        unsubscribe(version),
        unsuback(version),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        disconnect(version),
    ];
    match version {
        ProtocolVersion::V311 => common.boxed(),
        ProtocolVersion::V5 => prop_oneof![14 => common, 1 => auth()].boxed(),
    }
}

/// A version and a packet valid in it.
pub(crate) fn versioned_packet() -> impl Strategy<Value = (ProtocolVersion, Packet)> {
    prop_oneof![
        packet(ProtocolVersion::V311).prop_map(|p| (ProtocolVersion::V311, p)),
        packet(ProtocolVersion::V5).prop_map(|p| (ProtocolVersion::V5, p)),
    ]
}
