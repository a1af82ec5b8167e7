/// An MQTT 5 reason code, also used for MQTT 3.1.1 return codes.
///
/// Several codes share a byte with a different name per packet (0x00 is
/// Success, Normal disconnection and Granted QoS 0); those names are
/// associated constants. MQTT 3.1.1 CONNACK return codes map to their MQTT 5
/// equivalents (1 → [`UnsupportedProtocolVersion`](Self::UnsupportedProtocolVersion),
/// 2 → [`ClientIdentifierNotValid`](Self::ClientIdentifierNotValid),
/// 3 → [`ServerUnavailable`](Self::ServerUnavailable),
/// 4 → [`BadUserNameOrPassword`](Self::BadUserNameOrPassword),
/// 5 → [`NotAuthorized`](Self::NotAuthorized)), and the 3.1.1 SUBACK failure
/// 0x80 is [`UnspecifiedError`](Self::UnspecifiedError).
///
/// ```
/// use mqttx::packet::ReasonCode;
/// assert!(ReasonCode::NotAuthorized.is_error());
/// assert_eq!(ReasonCode::from_u8(0x87), Some(ReasonCode::NotAuthorized));
/// assert_eq!(ReasonCode::NORMAL_DISCONNECTION, ReasonCode::Success);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
#[allow(missing_docs)] // the variant names are the specification's names
pub enum ReasonCode {
    #[default]
    Success = 0x00,
    GrantedQoS1 = 0x01,
    GrantedQoS2 = 0x02,
    DisconnectWithWillMessage = 0x04,
    NoMatchingSubscribers = 0x10,
    NoSubscriptionExisted = 0x11,
    ContinueAuthentication = 0x18,
    ReAuthenticate = 0x19,
    UnspecifiedError = 0x80,
    MalformedPacket = 0x81,
    ProtocolError = 0x82,
    ImplementationSpecificError = 0x83,
    UnsupportedProtocolVersion = 0x84,
    ClientIdentifierNotValid = 0x85,
    BadUserNameOrPassword = 0x86,
    NotAuthorized = 0x87,
    ServerUnavailable = 0x88,
    ServerBusy = 0x89,
    Banned = 0x8A,
    ServerShuttingDown = 0x8B,
    BadAuthenticationMethod = 0x8C,
    KeepAliveTimeout = 0x8D,
    SessionTakenOver = 0x8E,
    TopicFilterInvalid = 0x8F,
    TopicNameInvalid = 0x90,
    PacketIdentifierInUse = 0x91,
    PacketIdentifierNotFound = 0x92,
    ReceiveMaximumExceeded = 0x93,
    TopicAliasInvalid = 0x94,
    PacketTooLarge = 0x95,
    MessageRateTooHigh = 0x96,
    QuotaExceeded = 0x97,
    AdministrativeAction = 0x98,
    PayloadFormatInvalid = 0x99,
    RetainNotSupported = 0x9A,
    QoSNotSupported = 0x9B,
    UseAnotherServer = 0x9C,
    ServerMoved = 0x9D,
    SharedSubscriptionsNotSupported = 0x9E,
    ConnectionRateExceeded = 0x9F,
    MaximumConnectTime = 0xA0,
    SubscriptionIdentifiersNotSupported = 0xA1,
    WildcardSubscriptionsNotSupported = 0xA2,
}

impl ReasonCode {
    /// 0x00 in DISCONNECT.
    pub const NORMAL_DISCONNECTION: ReasonCode = ReasonCode::Success;
    /// 0x00 in SUBACK.
    pub const GRANTED_QOS0: ReasonCode = ReasonCode::Success;

    /// The reason code for a byte, if MQTT 5 defines one.
    pub fn from_u8(value: u8) -> Option<Self> {
        use ReasonCode::*;
        Some(match value {
            0x00 => Success,
            0x01 => GrantedQoS1,
            0x02 => GrantedQoS2,
            0x04 => DisconnectWithWillMessage,
            0x10 => NoMatchingSubscribers,
            0x11 => NoSubscriptionExisted,
            0x18 => ContinueAuthentication,
            0x19 => ReAuthenticate,
            0x80 => UnspecifiedError,
            0x81 => MalformedPacket,
            0x82 => ProtocolError,
            0x83 => ImplementationSpecificError,
            0x84 => UnsupportedProtocolVersion,
            0x85 => ClientIdentifierNotValid,
            0x86 => BadUserNameOrPassword,
            0x87 => NotAuthorized,
            0x88 => ServerUnavailable,
            0x89 => ServerBusy,
            0x8A => Banned,
            0x8B => ServerShuttingDown,
            0x8C => BadAuthenticationMethod,
            0x8D => KeepAliveTimeout,
            0x8E => SessionTakenOver,
            0x8F => TopicFilterInvalid,
            0x90 => TopicNameInvalid,
            0x91 => PacketIdentifierInUse,
            0x92 => PacketIdentifierNotFound,
            0x93 => ReceiveMaximumExceeded,
            0x94 => TopicAliasInvalid,
            0x95 => PacketTooLarge,
            0x96 => MessageRateTooHigh,
            0x97 => QuotaExceeded,
            0x98 => AdministrativeAction,
            0x99 => PayloadFormatInvalid,
            0x9A => RetainNotSupported,
            0x9B => QoSNotSupported,
            0x9C => UseAnotherServer,
            0x9D => ServerMoved,
            0x9E => SharedSubscriptionsNotSupported,
            0x9F => ConnectionRateExceeded,
            0xA0 => MaximumConnectTime,
            0xA1 => SubscriptionIdentifiersNotSupported,
            0xA2 => WildcardSubscriptionsNotSupported,
            _ => return None,
        })
    }

    /// The wire byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Codes of 0x80 and above report a failure.
    pub fn is_error(self) -> bool {
        self.as_u8() >= 0x80
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} (0x{:02X})", self, self.as_u8())
    }
}

/// Which reason codes each packet may carry (MQTT 5 sections 3.2.2.2, 3.4.2.1,
/// 3.5.2.1, 3.6.2.1, 3.7.2.1, 3.9.3, 3.11.3, 3.14.2.1, 3.15.2.1). A code valid
/// elsewhere is still malformed in the wrong packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReasonSet {
    ConnAck,
    /// PUBACK and PUBREC.
    PubAck,
    /// PUBREL and PUBCOMP.
    PubRel,
    SubAck,
    UnsubAck,
    Disconnect,
    Auth,
}

impl ReasonSet {
    pub(crate) fn allows(self, code: u8) -> bool {
        match self {
            ReasonSet::ConnAck => {
                matches!(code, 0x00 | 0x80..=0x8A | 0x8C | 0x90 | 0x95 | 0x97 | 0x99..=0x9D | 0x9F)
            }
            ReasonSet::PubAck => matches!(code, 0x00 | 0x10 | 0x80 | 0x83 | 0x87 | 0x90 | 0x91 | 0x97 | 0x99),
            ReasonSet::PubRel => matches!(code, 0x00 | 0x92),
            ReasonSet::SubAck => matches!(
                code,
                0x00..=0x02 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91 | 0x97 | 0x9E | 0xA1 | 0xA2
            ),
            ReasonSet::UnsubAck => matches!(code, 0x00 | 0x11 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91),
            ReasonSet::Disconnect => {
                matches!(code, 0x00 | 0x04 | 0x80..=0x83 | 0x87 | 0x89 | 0x8B | 0x8D..=0xA2)
            }
            ReasonSet::Auth => matches!(code, 0x00 | 0x18 | 0x19),
        }
    }

    /// Parses a reason code byte for a packet of this kind.
    pub(crate) fn decode(self, code: u8, packet: &'static str) -> Result<ReasonCode, super::DecodeError> {
        match ReasonCode::from_u8(code) {
            Some(reason) if self.allows(code) => Ok(reason),
            _ => Err(super::DecodeError::InvalidReasonCode { code, packet }),
        }
    }

    /// Rejects, at encode time, a code the receiver would call malformed.
    pub(crate) fn check<S: super::writer::Sink>(self, s: &mut S, code: ReasonCode, packet: &'static str) {
        if !self.allows(code.as_u8()) {
            s.fail(super::EncodeError::Invalid {
                packet,
                reason: "reason code not defined for this packet",
            });
        }
    }
}

impl ReasonCode {
    /// The reason code for an MQTT 3.1.1 CONNACK return code.
    pub(crate) fn from_v311_connack(code: u8) -> Option<Self> {
        Some(match code {
            0 => ReasonCode::Success,
            1 => ReasonCode::UnsupportedProtocolVersion,
            2 => ReasonCode::ClientIdentifierNotValid,
            3 => ReasonCode::ServerUnavailable,
            4 => ReasonCode::BadUserNameOrPassword,
            5 => ReasonCode::NotAuthorized,
            _ => return None,
        })
    }

    /// The MQTT 3.1.1 CONNACK return code, if 3.1.1 has one for this reason.
    pub(crate) fn to_v311_connack(self) -> Option<u8> {
        Some(match self {
            ReasonCode::Success => 0,
            ReasonCode::UnsupportedProtocolVersion => 1,
            ReasonCode::ClientIdentifierNotValid => 2,
            ReasonCode::ServerUnavailable => 3,
            ReasonCode::BadUserNameOrPassword => 4,
            ReasonCode::NotAuthorized => 5,
            _ => return None,
        })
    }

    /// Whether a CONNACK with this code is worth retrying: every failure is,
    /// except those that only a change of configuration can fix (bad
    /// credentials, not authorized, invalid client id, bad authentication
    /// method, banned, unsupported protocol version).
    pub fn retryable(self) -> bool {
        !matches!(
            self,
            ReasonCode::BadUserNameOrPassword
                | ReasonCode::NotAuthorized
                | ReasonCode::ClientIdentifierNotValid
                | ReasonCode::BadAuthenticationMethod
                | ReasonCode::Banned
                | ReasonCode::UnsupportedProtocolVersion
        )
    }
}
