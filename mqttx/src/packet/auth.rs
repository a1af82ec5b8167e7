use bytes::Bytes;
use bytestring::ByteString;

use super::lazy_box::empty_properties;
use super::{LazyBox, ReasonCode, UserProperties};

/// AUTH: a step of MQTT 5 enhanced authentication.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Auth {
    /// Success, Continue authentication or Re-authenticate.
    pub reason_code: ReasonCode,
    /// AUTH properties; allocated only when one is set.
    pub properties: LazyBox<AuthProperties>,
}

/// AUTH properties (MQTT 5, section 3.15.2.2). `Debug` shows the
/// authentication data's length, not its bytes.
#[derive(Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct AuthProperties {
    pub authentication_method: Option<ByteString>,
    pub authentication_data: Option<Bytes>,
    pub reason_string: Option<ByteString>,
    pub user_properties: UserProperties,
}

impl std::fmt::Debug for AuthProperties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthProperties")
            .field("authentication_method", &self.authentication_method)
            .field(
                "authentication_data",
                &super::Redacted(self.authentication_data.as_ref()),
            )
            .field("reason_string", &self.reason_string)
            .field("user_properties", &self.user_properties)
            .finish()
    }
}

empty_properties! {
    AuthProperties {
        authentication_method: None,
        authentication_data: None,
        reason_string: None,
        user_properties: Vec::new(),
    }
}

mod codec {
    use super::{Auth, AuthProperties};
    use crate::packet::property::{decode as de, encode as en, id};
    use crate::packet::reader::Reader;
    use crate::packet::reason::ReasonSet;
    use crate::packet::writer::{Sink, WriteProperties};
    use crate::packet::{DecodeError, ReasonCode};

    const NAME: &str = "AUTH";

    impl Auth {
        /// An empty body means Success without properties.
        pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
            let mut auth = Auth::default();
            if r.is_empty() {
                return Ok(auth);
            }
            auth.reason_code = ReasonSet::Auth.decode(r.u8()?, NAME)?;
            if r.is_empty() {
                return Ok(auth);
            }
            let p: &mut AuthProperties = &mut auth.properties;
            de::properties(r, |property, r| match property {
                id::AUTHENTICATION_METHOD => de::once(&mut p.authentication_method, property, r.string()?),
                id::AUTHENTICATION_DATA => de::once(&mut p.authentication_data, property, r.binary()?),
                id::REASON_STRING => de::once(&mut p.reason_string, property, r.string()?),
                id::USER_PROPERTY => de::user_property(&mut p.user_properties, r),
                _ => Ok(false),
            })?;
            de::check_auth(&p.authentication_method, &p.authentication_data)?;
            Ok(auth)
        }

        /// MQTT 5 only; the codec refuses AUTH in 3.1.1 before calling this.
        pub(crate) fn write<S: Sink>(&self, s: &mut S) {
            if S::VALIDATES {
                ReasonSet::Auth.check(s, self.reason_code, NAME);
            }
            let empty = *self.properties == AuthProperties::default();
            if !empty || self.reason_code != ReasonCode::Success {
                s.u8(self.reason_code.as_u8());
            }
            if !empty {
                s.properties(&self.properties);
            }
        }
    }

    impl WriteProperties for AuthProperties {
        fn write_to<S: Sink>(&self, s: &mut S) {
            en::check_auth(s, NAME, &self.authentication_method, &self.authentication_data);
            en::string(s, id::AUTHENTICATION_METHOD, self.authentication_method.as_ref());
            en::binary(s, id::AUTHENTICATION_DATA, self.authentication_data.as_ref());
            en::string(s, id::REASON_STRING, self.reason_string.as_ref());
            en::user_properties(s, &self.user_properties);
        }
    }
}
