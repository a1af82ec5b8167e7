//! Secrets never reach a log: the `Debug` output of the options and of the
//! packets that carry credentials holds none of them.

use mqttx::packet::{AuthProperties, Connect, ConnectProperties};
use mqttx::{Bytes, ConnectOptions, Proxy, TlsOptions};

const SECRETS: [&str; 5] = [
    "hunter2-password",
    "proxy-password",
    "-----BEGIN PRIVATE KEY----- key-bytes",
    "auth-token-bytes",
    "scram-password",
];

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
    }
}

#[test]
fn options_show_no_password_key_or_token() {
    let properties = ConnectProperties {
        authentication_method: Some("TOKEN".into()),
        authentication_data: Some(Bytes::from_static(b"auth-token-bytes")),
        ..ConnectProperties::default()
    };
    let opts = ConnectOptions::new("broker.example.com", "c1")
        .credentials("alice", "hunter2-password")
        .proxy(Proxy::http("proxy.corp", 3128).credentials("bob", "proxy-password"))
        .tls(TlsOptions::new().client_cert_pem("CERT", "-----BEGIN PRIVATE KEY----- key-bytes"))
        .connect_properties(properties)
        .authenticator(mqttx::auth::ScramSha256::new("carol", "scram-password"));
    let text = format!("{opts:?}");
    assert_no_secret("ConnectOptions", &text);
    // What is shown is still useful.
    for shown in [
        "broker.example.com",
        "alice",
        "bob",
        "TOKEN",
        "redacted, 16 bytes",
    ] {
        assert!(text.contains(shown), "{shown:?} missing from {text}");
    }
    assert_no_secret("ConnectOptions, pretty", &format!("{opts:#?}"));
}

#[test]
fn packets_show_no_password_or_authentication_data() {
    let connect = Connect {
        username: Some("alice".into()),
        password: Some(Bytes::from_static(b"hunter2-password")),
        properties: ConnectProperties {
            authentication_data: Some(Bytes::from_static(b"auth-token-bytes")),
            ..ConnectProperties::default()
        },
        ..Connect::default()
    };
    assert_no_secret("Connect", &format!("{connect:?}"));
    let auth = AuthProperties {
        authentication_method: Some("TOKEN".into()),
        authentication_data: Some(Bytes::from_static(b"auth-token-bytes")),
        ..AuthProperties::default()
    };
    assert_no_secret("AuthProperties", &format!("{auth:?}"));
}
