//! SCRAM-SHA-256 (RFC 5802, RFC 7677) for MQTT 5 enhanced authentication,
//! client side, sans-IO.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{AuthError, AuthResponse, Authenticator};
use crate::packet::{Auth, ReasonCode};

/// The Authentication Method this mechanism sends.
const METHOD: &str = "SCRAM-SHA-256";

/// The GS2 header: no channel binding, no authorization identity.
const GS2_HEADER: &str = "n,,";

/// `c=` of the client-final-message: the GS2 header, base64 (`"n,,"`).
const CHANNEL_BINDING: &str = "biws";

/// Random bytes in a client nonce (32 printable characters once base64).
const NONCE_BYTES: usize = 24;

/// The most PBKDF2 iterations a server may ask for: each costs two HMACs
/// on the connection's thread, which a hostile server asking for millions
/// would hold for seconds. A million is well above what servers use (RFC
/// 7677's minimum is 4,096; OWASP's advice 600,000) and costs about 0.3 s.
const MAX_ITERATIONS: u32 = 1_000_000;

type HmacSha256 = Hmac<Sha256>;

/// A SCRAM-SHA-256 client (RFC 5802, RFC 7677): the
/// [`Authenticator`] for MQTT 5 enhanced authentication with the
/// Authentication Method `"SCRAM-SHA-256"`, and the answer to the server's
/// challenge for the handler's `#[auth]` method.
///
/// Clones share one exchange: put one in the connect options as the
/// authenticator and keep a clone in the handler, whose `#[auth]` method
/// calls [`answer`](Self::answer). The client opens every exchange in
/// [`start`](Authenticator::start) with a fresh random nonce, answers the
/// server-first-message with its proof in [`answer`](Self::answer), and
/// checks the server's signature in [`finish`](Authenticator::finish), so
/// the server proves it knows the password too. A server's request to
/// re-authenticate (AUTH Re-authenticate) is answered by
/// [`answer`](Self::answer) with a new exchange.
///
/// No channel binding (the GS2 header is `n,,`) and no authorization
/// identity. The user name is sent with `=` and `,` escaped as the RFC
/// asks; neither it nor the password goes through SASLprep (RFC 4013): both
/// are used as their UTF-8 bytes. For ASCII passwords without control
/// characters that is exactly what SASLprep gives; a non-ASCII password
/// that SASLprep would change (other spaces, characters mapped to nothing,
/// NFKC) fails against a server that applies it.
///
/// ```
/// use mqttx::auth::{Authenticator, ScramSha256};
///
/// let scram = ScramSha256::new("alice", "s3cret");
/// let handler_copy = scram.clone(); // for the handler; shares the exchange
///
/// // What goes in CONNECT as the Authentication Data:
/// let client_first = scram.start().unwrap();
/// assert_eq!(scram.method(), "SCRAM-SHA-256");
/// assert!(client_first.starts_with(b"n,,n=alice,r="));
///
/// // In the handler (#[mqtt_handler]), the server's challenge is answered with:
/// // #[auth] fn auth(&mut self, auth: &Auth) -> AuthResponse { self.scram.answer(auth) }
/// # let _ = handler_copy;
/// ```
#[derive(Clone)]
pub struct ScramSha256 {
    shared: Arc<Shared>,
}

struct Shared {
    /// The user name, already escaped as a saslname.
    saslname: String,
    password: String,
    exchange: Mutex<Exchange>,
}

/// Where the exchange in progress stands.
enum Exchange {
    /// None in progress.
    Idle,
    /// The client-first-message is out; the server's challenge is next.
    AwaitServerFirst {
        nonce: String,
        client_first_bare: String,
    },
    /// The proof is out; the server's signature is next.
    AwaitServerFinal(ServerFinal),
}

impl Exchange {
    fn name(&self) -> &'static str {
        match self {
            Exchange::Idle => "idle",
            Exchange::AwaitServerFirst { .. } => "waiting for the server-first-message",
            Exchange::AwaitServerFinal { .. } => "waiting for the server-final-message",
        }
    }
}

impl fmt::Debug for ScramSha256 {
    /// Shows the user name and the exchange's state, never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramSha256")
            .field("saslname", &self.shared.saslname)
            .field("exchange", &self.lock().name())
            .finish_non_exhaustive()
    }
}

impl ScramSha256 {
    /// A client for this user name and password; no exchange yet.
    ///
    /// Neither goes through SASLprep: see the [type's notes](Self).
    ///
    /// ```
    /// use mqttx::auth::{Authenticator, ScramSha256};
    ///
    /// let scram = ScramSha256::new("a=b,c", "pencil");
    /// let client_first = scram.start().unwrap();
    /// assert!(client_first.starts_with(b"n,,n=a=3Db=2Cc,r="));
    /// ```
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        ScramSha256 {
            shared: Arc::new(Shared {
                saslname: escape_saslname(&username.into()),
                password: password.into(),
                exchange: Mutex::new(Exchange::Idle),
            }),
        }
    }

    /// The answer to an AUTH packet from the server, for the handler's
    /// `#[auth]` method.
    ///
    /// - Continue authentication carrying the server-first-message, while
    ///   this client waits for one: the client-final-message with the
    ///   proof ([`AuthResponse::Continue`]).
    /// - Re-authenticate (the server asks for a new exchange): a fresh
    ///   client-first-message ([`AuthResponse::Continue`]).
    /// - Anything else, or anything malformed (a server nonce that does not
    ///   extend ours, a bad salt, an iteration count of 0 or over
    ///   10,000,000): a warning in the log and [`AuthResponse::Done`]; the
    ///   exchange is dropped, so the server's success is refused by
    ///   [`finish`](Authenticator::finish).
    ///
    /// ```
    /// use mqttx::auth::ScramSha256;
    /// use mqttx::packet::Auth;
    /// use mqttx::AuthResponse;
    ///
    /// let scram = ScramSha256::new("alice", "s3cret");
    /// // A challenge without an exchange in progress is not answered.
    /// assert_eq!(scram.answer(&Auth::default()), AuthResponse::Done);
    /// ```
    pub fn answer(&self, auth: &Auth) -> AuthResponse {
        if let Some(method) = auth.properties.authentication_method.as_deref() {
            if method != METHOD {
                tracing::warn!(method, "SCRAM-SHA-256: AUTH for another authentication method");
                return AuthResponse::Done;
            }
        }
        match auth.reason_code {
            ReasonCode::ContinueAuthentication => {
                self.answer_challenge(auth.properties.authentication_data.as_deref())
            }
            ReasonCode::ReAuthenticate => match self.begin() {
                Some(client_first) => AuthResponse::Continue(client_first),
                None => AuthResponse::Done,
            },
            other => {
                tracing::warn!(reason = ?other, "SCRAM-SHA-256: unexpected AUTH from the server");
                AuthResponse::Done
            }
        }
    }

    fn answer_challenge(&self, data: Option<&[u8]>) -> AuthResponse {
        let mut exchange = self.lock();
        let (nonce, client_first_bare) = match std::mem::replace(&mut *exchange, Exchange::Idle) {
            Exchange::AwaitServerFirst {
                nonce,
                client_first_bare,
            } => (nonce, client_first_bare),
            other => {
                tracing::warn!(
                    state = other.name(),
                    "SCRAM-SHA-256: a challenge from the server while no server-first-message is awaited"
                );
                *exchange = other;
                return AuthResponse::Done;
            }
        };
        let Some(data) = data else {
            tracing::warn!("SCRAM-SHA-256: the server's challenge carries no data");
            return AuthResponse::Done;
        };
        match client_final(&self.shared.password, &nonce, &client_first_bare, data) {
            Ok((message, expected)) => {
                *exchange = Exchange::AwaitServerFinal(expected);
                AuthResponse::Continue(Bytes::from(message))
            }
            Err(why) => {
                tracing::warn!("SCRAM-SHA-256: refusing the server-first-message: {why}");
                AuthResponse::Done
            }
        }
    }

    /// Starts a fresh exchange with a new random nonce.
    fn begin(&self) -> Option<Bytes> {
        let mut random = [0u8; NONCE_BYTES];
        if let Err(error) = getrandom::fill(&mut random) {
            tracing::warn!(%error, "SCRAM-SHA-256: no random nonce; not starting an exchange");
            *self.lock() = Exchange::Idle;
            return None;
        }
        Some(self.begin_with_nonce(BASE64.encode(random)))
    }

    /// Starts a fresh exchange with this nonce (printable, no `,`).
    fn begin_with_nonce(&self, nonce: String) -> Bytes {
        let client_first_bare = format!("n={},r={nonce}", self.shared.saslname);
        let message = format!("{GS2_HEADER}{client_first_bare}");
        *self.lock() = Exchange::AwaitServerFirst {
            nonce,
            client_first_bare,
        };
        Bytes::from(message)
    }

    fn lock(&self) -> MutexGuard<'_, Exchange> {
        self.shared
            .exchange
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Authenticator for ScramSha256 {
    /// `"SCRAM-SHA-256"`.
    fn method(&self) -> &str {
        METHOD
    }

    /// A fresh exchange: the client-first-message `n,,n=<user>,r=<nonce>`
    /// with a new random nonce. `None` only if the system has no random
    /// numbers to give.
    ///
    /// ```
    /// use mqttx::auth::{Authenticator, ScramSha256};
    ///
    /// let scram = ScramSha256::new("user", "pencil");
    /// let first = scram.start().unwrap();
    /// let second = scram.start().unwrap(); // a new exchange, a new nonce
    /// assert_ne!(first, second);
    /// ```
    fn start(&self) -> Option<Bytes> {
        self.begin()
    }

    /// Checks the server-final-message `v=<ServerSignature>` (from CONNACK
    /// Success or AUTH Success) against the exchange in progress, and ends
    /// it. A server error (`e=..`), no data, no exchange waiting for it, or
    /// a signature that does not match is an [`AuthError`].
    ///
    /// ```
    /// use mqttx::auth::{Authenticator, ScramSha256};
    ///
    /// let scram = ScramSha256::new("user", "pencil");
    /// scram.start();
    /// // A server that never sent its challenge cannot have proved anything.
    /// assert!(scram.finish(Some(b"v=AAAA")).is_err());
    /// ```
    fn finish(&self, data: Option<&[u8]>) -> Result<(), AuthError> {
        let exchange = std::mem::replace(&mut *self.lock(), Exchange::Idle);
        let expected = match exchange {
            Exchange::AwaitServerFinal(expected) => expected,
            Exchange::AwaitServerFirst { .. } => {
                return Err(AuthError::new(
                    "SCRAM-SHA-256: the server ended the exchange before it sent its challenge",
                ))
            }
            Exchange::Idle => {
                return Err(AuthError::new(
                    "SCRAM-SHA-256: no exchange in progress (the server's challenge was not answered)",
                ))
            }
        };
        let Some(data) = data else {
            return Err(AuthError::new(
                "SCRAM-SHA-256: the server sent no server-final-message",
            ));
        };
        let text = std::str::from_utf8(data)
            .map_err(|_| AuthError::new("SCRAM-SHA-256: the server-final-message is not UTF-8"))?;
        let first = text.split(',').next().unwrap_or_default();
        if let Some(error) = first.strip_prefix("e=") {
            return Err(AuthError::new(format!(
                "SCRAM-SHA-256: the server refused the exchange: {error}"
            )));
        }
        let Some(signature) = first.strip_prefix("v=") else {
            return Err(AuthError::new(
                "SCRAM-SHA-256: malformed server-final-message (no v=)",
            ));
        };
        let signature = BASE64
            .decode(signature)
            .map_err(|_| AuthError::new("SCRAM-SHA-256: the server signature is not base64"))?;
        if expected.verify(&signature) {
            Ok(())
        } else {
            Err(AuthError::new(
                "SCRAM-SHA-256: wrong server signature (the server does not know the password)",
            ))
        }
    }
}

/// Escapes a user name as a saslname: `=` as `=3D`, `,` as `=2C`.
fn escape_saslname(username: &str) -> String {
    let mut out = String::with_capacity(username.len());
    for c in username.chars() {
        match c {
            '=' => out.push_str("=3D"),
            ',' => out.push_str("=2C"),
            c => out.push(c),
        }
    }
    out
}

/// What the server-final-message must prove: ServerSignature is
/// HMAC(ServerKey, AuthMessage). Kept as its inputs so that the check is
/// HMAC's own constant-time comparison.
struct ServerFinal {
    server_key: [u8; 32],
    auth_message: String,
}

impl ServerFinal {
    /// Whether `signature` is the ServerSignature, compared in constant time.
    fn verify(&self, signature: &[u8]) -> bool {
        match HmacSha256::new_from_slice(&self.server_key) {
            Ok(mut mac) => {
                mac.update(self.auth_message.as_bytes());
                mac.verify_slice(signature).is_ok()
            }
            Err(_) => false,
        }
    }
}

/// The client-final-message for this server-first-message, and what the
/// server-final-message must prove; `Err` says why the server-first-message
/// is refused.
fn client_final(
    password: &str,
    nonce: &str,
    client_first_bare: &str,
    server_first: &[u8],
) -> Result<(String, ServerFinal), String> {
    let server_first =
        std::str::from_utf8(server_first).map_err(|_| "the server-first-message is not UTF-8".to_string())?;
    let mut attributes = server_first.split(',');
    let mut attribute = |name: &str| -> Result<&str, String> {
        let attribute = attributes.next().unwrap_or_default();
        if attribute.starts_with("m=") {
            return Err("the server asks for an extension this client does not know (m=)".into());
        }
        attribute
            .strip_prefix(name)
            .ok_or_else(|| format!("malformed server-first-message (expected {name}..)"))
    };
    let combined_nonce = attribute("r=")?;
    let salt = attribute("s=")?;
    let iterations = attribute("i=")?;

    if combined_nonce.len() <= nonce.len() || !combined_nonce.starts_with(nonce) {
        return Err("the server nonce does not extend the client nonce".into());
    }
    if !combined_nonce.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
        return Err("the server nonce is not printable ASCII".into());
    }
    let salt = BASE64
        .decode(salt)
        .map_err(|_| "the salt is not base64".to_string())?;
    if salt.is_empty() {
        return Err("the salt is empty".into());
    }
    let iterations: u32 = iterations
        .parse()
        .map_err(|_| format!("the iteration count {iterations:?} is not a number"))?;
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(format!(
            "the iteration count {iterations} is outside 1..={MAX_ITERATIONS}"
        ));
    }

    let mut salted_password = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, iterations, &mut salted_password);
    let client_key = hmac(&salted_password, b"Client Key")?;
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    let server_key = hmac(&salted_password, b"Server Key")?;

    let without_proof = format!("c={CHANNEL_BINDING},r={combined_nonce}");
    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    let client_signature = hmac(&stored_key, auth_message.as_bytes())?;
    let mut proof = client_key;
    for (p, s) in proof.iter_mut().zip(client_signature) {
        *p ^= s;
    }
    let message = format!("{without_proof},p={}", BASE64.encode(proof));
    Ok((
        message,
        ServerFinal {
            server_key,
            auth_message,
        },
    ))
}

/// HMAC-SHA-256.
fn hmac(key: &[u8], data: &[u8]) -> Result<[u8; 32], String> {
    // HMAC takes keys of any length; the error cannot happen.
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| "HMAC refused its key".to_string())?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

#[cfg(test)]
mod tests;
