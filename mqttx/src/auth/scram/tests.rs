//! The client against RFC 7677's test vector and against malformed servers.

use super::*;
use crate::packet::{AuthProperties, LazyBox};

const NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const SERVER_FIRST: &str =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const CLIENT_FINAL: &str =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

fn challenge(reason_code: ReasonCode, data: Option<&str>) -> Auth {
    Auth {
        reason_code,
        properties: LazyBox::new(AuthProperties {
            authentication_method: Some(METHOD.into()),
            authentication_data: data.map(|d| Bytes::copy_from_slice(d.as_bytes())),
            ..AuthProperties::default()
        }),
    }
}

fn continue_with(data: &str) -> Auth {
    challenge(ReasonCode::ContinueAuthentication, Some(data))
}

/// The RFC 7677 example, started with its nonce.
fn rfc_client() -> ScramSha256 {
    let scram = ScramSha256::new("user", "pencil");
    let first = scram.begin_with_nonce(NONCE.into());
    assert_eq!(first, Bytes::from_static(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
    scram
}

#[test]
fn rfc7677_test_vector() {
    let scram = rfc_client();
    let answer = scram.answer(&continue_with(SERVER_FIRST));
    assert_eq!(
        answer,
        AuthResponse::Continue(Bytes::from_static(CLIENT_FINAL.as_bytes()))
    );
    assert_eq!(scram.finish(Some(SERVER_FINAL.as_bytes())), Ok(()));
    // The exchange is over: the same message again is refused.
    assert!(scram.finish(Some(SERVER_FINAL.as_bytes())).is_err());
}

#[test]
fn clones_share_the_exchange() {
    let scram = rfc_client();
    let handler_copy = scram.clone();
    assert!(matches!(
        handler_copy.answer(&continue_with(SERVER_FIRST)),
        AuthResponse::Continue(_)
    ));
    assert_eq!(scram.finish(Some(SERVER_FINAL.as_bytes())), Ok(()));
}

#[test]
fn wrong_server_signature_fails() {
    let scram = rfc_client();
    assert!(matches!(
        scram.answer(&continue_with(SERVER_FIRST)),
        AuthResponse::Continue(_)
    ));
    let error = scram
        .finish(Some(b"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
        .unwrap_err();
    assert!(error.0.contains("wrong server signature"), "{error}");
}

#[test]
fn finish_refuses_what_is_not_a_signature() {
    for (data, needle) in [
        (None, "no server-final-message"),
        (Some(&b"e=invalid-proof"[..]), "invalid-proof"),
        (Some(&b"x=1"[..]), "no v="),
        (Some(&b"v=***"[..]), "not base64"),
        (Some(&b"v="[..]), "wrong server signature"),
        (Some(&[0xff, 0xfe][..]), "not UTF-8"),
    ] {
        let scram = rfc_client();
        assert!(matches!(
            scram.answer(&continue_with(SERVER_FIRST)),
            AuthResponse::Continue(_)
        ));
        let error = scram.finish(data).unwrap_err();
        assert!(error.0.contains(needle), "{data:?}: {error}");
    }
}

#[test]
fn finish_without_an_exchange_fails() {
    let scram = ScramSha256::new("user", "pencil");
    assert!(scram
        .finish(Some(SERVER_FINAL.as_bytes()))
        .unwrap_err()
        .0
        .contains("no exchange"));
    let scram = rfc_client();
    assert!(scram
        .finish(Some(SERVER_FINAL.as_bytes()))
        .unwrap_err()
        .0
        .contains("before it sent its challenge"));
}

#[test]
fn server_nonce_must_extend_ours() {
    for server_first in [
        "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeR,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    ] {
        let scram = rfc_client();
        assert_eq!(
            scram.answer(&continue_with(server_first)),
            AuthResponse::Done,
            "{server_first}"
        );
        // The exchange was dropped: the server's success is refused.
        assert!(scram.finish(Some(SERVER_FINAL.as_bytes())).is_err());
    }
}

#[test]
fn malformed_server_first_is_done_not_a_panic() {
    let nonce = "r=rOprNGfwEbeRWgbNEkqO%x";
    for server_first in [
        String::new(),
        ",".into(),
        ",,,".into(),
        "r=".into(),
        nonce.into(),
        format!("{nonce},s="),
        format!("{nonce},s=***,i=4096"),
        format!("{nonce},s=,i=4096"),
        format!("{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ=="),
        format!("{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i="),
        format!("{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0"),
        format!("{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1"),
        format!("{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001"),
        format!("{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999"),
        format!("{nonce},i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ=="),
        format!("m=ext,{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
        "r=rOprNGfwEbeRWgbNEkqO\u{e9},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".into(),
    ] {
        let scram = rfc_client();
        assert_eq!(
            scram.answer(&continue_with(&server_first)),
            AuthResponse::Done,
            "{server_first:?}"
        );
    }
    let scram = rfc_client();
    let not_utf8 = Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        properties: LazyBox::new(AuthProperties {
            authentication_method: Some(METHOD.into()),
            authentication_data: Some(Bytes::from_static(&[0xff, 0x00, 0x80])),
            ..AuthProperties::default()
        }),
    };
    assert_eq!(scram.answer(&not_utf8), AuthResponse::Done);
    let scram = rfc_client();
    assert_eq!(
        scram.answer(&challenge(ReasonCode::ContinueAuthentication, None)),
        AuthResponse::Done
    );
}

#[test]
fn unexpected_challenges_are_done() {
    // No exchange started.
    let scram = ScramSha256::new("user", "pencil");
    assert_eq!(scram.answer(&continue_with(SERVER_FIRST)), AuthResponse::Done);
    // A second challenge once the proof is out; the exchange goes on.
    let scram = rfc_client();
    assert!(matches!(
        scram.answer(&continue_with(SERVER_FIRST)),
        AuthResponse::Continue(_)
    ));
    assert_eq!(scram.answer(&continue_with(SERVER_FIRST)), AuthResponse::Done);
    assert_eq!(
        scram.answer(&challenge(ReasonCode::Success, None)),
        AuthResponse::Done
    );
    assert_eq!(scram.finish(Some(SERVER_FINAL.as_bytes())), Ok(()));
    // Another method.
    let scram = rfc_client();
    let mut other = continue_with(SERVER_FIRST);
    other.properties.authentication_method = Some("PLAIN".into());
    assert_eq!(scram.answer(&other), AuthResponse::Done);
}

#[test]
fn re_authenticate_starts_a_fresh_exchange() {
    let scram = rfc_client();
    assert!(matches!(
        scram.answer(&continue_with(SERVER_FIRST)),
        AuthResponse::Continue(_)
    ));
    assert_eq!(scram.finish(Some(SERVER_FINAL.as_bytes())), Ok(()));

    let AuthResponse::Continue(first) = scram.answer(&challenge(ReasonCode::ReAuthenticate, None)) else {
        panic!("no client-first-message");
    };
    let first = std::str::from_utf8(&first).unwrap();
    let nonce = first.strip_prefix("n,,n=user,r=").unwrap();
    assert!(nonce.len() >= 24, "{first}");
    // The old server-first no longer fits: its nonce is not ours.
    assert_eq!(scram.answer(&continue_with(SERVER_FIRST)), AuthResponse::Done);
}

#[test]
fn start_makes_a_new_nonce_each_time() {
    let scram = ScramSha256::new("user", "pencil");
    assert_eq!(scram.method(), "SCRAM-SHA-256");
    let nonce = |message: Bytes| {
        let message = String::from_utf8(message.to_vec()).unwrap();
        message.strip_prefix("n,,n=user,r=").unwrap().to_string()
    };
    let first = nonce(scram.start().unwrap());
    let second = nonce(scram.start().unwrap());
    assert_ne!(first, second);
    for nonce in [first, second] {
        // 24 random bytes, base64: printable, no ',' and no padding.
        assert_eq!(nonce.len(), 32, "{nonce}");
        assert!(
            nonce.bytes().all(|b| (0x21..=0x7E).contains(&b) && b != b','),
            "{nonce}"
        );
        assert_eq!(BASE64.decode(&nonce).unwrap().len(), NONCE_BYTES);
    }
}

#[test]
fn user_names_are_escaped() {
    assert_eq!(escape_saslname("user"), "user");
    assert_eq!(escape_saslname("a=b,c"), "a=3Db=2Cc");
    assert_eq!(escape_saslname("=,=,"), "=3D=2C=3D=2C");
    assert_eq!(escape_saslname("ünï"), "ünï");
    let scram = ScramSha256::new("x,y=z", "pencil");
    let first = scram.begin_with_nonce(NONCE.into());
    assert_eq!(
        first,
        Bytes::from_static(b"n,,n=x=2Cy=3Dz,r=rOprNGfwEbeRWgbNEkqO")
    );
}

#[test]
fn debug_hides_the_password() {
    let scram = ScramSha256::new("user", "pencil");
    let shown = format!("{scram:?}");
    assert!(shown.contains("user") && !shown.contains("pencil"), "{shown}");
}
