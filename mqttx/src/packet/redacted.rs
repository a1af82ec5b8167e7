//! Secrets in `Debug` output: passwords and authentication data are shown
//! as their length, never their bytes, so a logged packet or a logged set
//! of options gives nothing away (as rustls and reqwest do).

use std::fmt;

use bytes::Bytes;

/// Shows `Some(<redacted, N bytes>)` for a secret that is set.
pub(crate) struct Redacted<'a>(pub(crate) Option<&'a Bytes>);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(secret) => write!(f, "Some(<redacted, {} bytes>)", secret.len()),
            None => f.write_str("None"),
        }
    }
}
