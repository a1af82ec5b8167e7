//! Enhanced authentication with SCRAM-SHA-256, against the scripted SCRAM
//! server of the harness (no broker here speaks it): the exchange, a wrong
//! password, a server that does not know the password, and
//! re-authentication started by either side.

use std::time::Duration;

use mqttx::auth::ScramSha256;
use mqttx::{mqtt_handler, Auth, AuthResponse, Client, ConnectOptions, Error, Publish, QoS, ReasonCode};
use mqttx_tests::scram_server::{Fault, ScramConfig, ScramServer};
use mqttx_tests::support::{fast_backoff, WAIT};
use tokio::sync::mpsc;

/// The handler: SCRAM answers the server's challenges; messages are reported.
struct Authenticated {
    scram: ScramSha256,
    messages: mpsc::UnboundedSender<Publish>,
    challenges: mpsc::UnboundedSender<ReasonCode>,
}

#[mqtt_handler]
impl Authenticated {
    #[auth]
    fn auth(&mut self, auth: &Auth) -> AuthResponse {
        let _ = self.challenges.send(auth.reason_code);
        self.scram.answer(auth)
    }

    #[subscribe("scram/#", qos = 1)]
    fn on_message(&mut self, msg: &Publish) {
        let _ = self.messages.send(msg.clone());
    }
}

struct Rig {
    messages: mpsc::UnboundedReceiver<Publish>,
    challenges: mpsc::UnboundedReceiver<ReasonCode>,
}

fn options(server: &ScramServer, user: &str, password: &str) -> (ConnectOptions<Authenticated>, Rig) {
    let scram = ScramSha256::new(user, password);
    let (messages_tx, messages) = mpsc::unbounded_channel();
    let (challenges_tx, challenges) = mpsc::unbounded_channel();
    let handler = Authenticated {
        scram: scram.clone(),
        messages: messages_tx,
        challenges: challenges_tx,
    };
    let opts = ConnectOptions::new("127.0.0.1", "scram-client")
        .port(server.port())
        .backoff(fast_backoff())
        .authenticator(scram)
        .handler(handler);
    (opts, Rig { messages, challenges })
}

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(item)) => item,
        _ => panic!("nothing within {WAIT:?}"),
    }
}

#[actix::test]
async fn the_exchange_succeeds_and_the_connection_works() {
    let server = ScramServer::start(ScramConfig::new("alice", "s3cret")).unwrap();
    let (opts, mut rig) = options(&server, "alice", "s3cret");
    let client = Client::connect(opts).await.unwrap();
    assert_eq!(
        next(&mut rig.challenges).await,
        ReasonCode::ContinueAuthentication
    );
    assert_eq!(server.stats().authenticated, 1);
    client
        .publish("scram/t", "hello")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_eq!(next(&mut rig.messages).await.payload, "hello".as_bytes());
    client.disconnect().await.unwrap();
}

#[actix::test]
async fn a_wrong_password_fails_connect_with_the_servers_reason_and_is_not_retried() {
    let server = ScramServer::start(ScramConfig::new("alice", "s3cret")).unwrap();
    let (opts, _rig) = options(&server, "alice", "guess");
    let err = Client::connect(opts).await.expect_err("wrong password");
    assert!(
        matches!(
            err,
            Error::ConnectRejected {
                reason_code: ReasonCode::NotAuthorized,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(server.stats().connects, 1, "not retried");
}

#[actix::test]
async fn a_server_signature_that_does_not_verify_fails_connect() {
    let config = ScramConfig::new("alice", "s3cret").fault(Fault::BadServerSignature);
    let server = ScramServer::start(config).unwrap();
    let (opts, _rig) = options(&server, "alice", "s3cret");
    let err = Client::connect(opts).await.expect_err("an impostor");
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    assert!(err.to_string().contains("signature"), "{err}");
    // The client told the server why, and did not try again.
    let stats = server
        .wait_for(WAIT, |s| s.disconnects == 1)
        .await
        .expect("DISCONNECT from the client");
    assert_eq!(stats.connects, 1);
}

#[actix::test]
async fn reauthenticate_runs_a_fresh_exchange_through_the_handler() {
    let server = ScramServer::start(ScramConfig::new("alice", "s3cret")).unwrap();
    let (opts, mut rig) = options(&server, "alice", "s3cret");
    let client = Client::connect(opts).await.unwrap();
    next(&mut rig.challenges).await;
    client.reauthenticate().await.unwrap();
    assert_eq!(
        next(&mut rig.challenges).await,
        ReasonCode::ContinueAuthentication
    );
    assert_eq!(next(&mut rig.challenges).await, ReasonCode::Success);
    let stats = server.stats();
    assert_eq!((stats.authenticated, stats.reauthenticated), (2, 1));
    // Still the same connection, and it works.
    assert_eq!(stats.connects, 1);
    client
        .publish("scram/after", "x")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_eq!(next(&mut rig.messages).await.topic, "scram/after");
    client.disconnect().await.unwrap();
}

#[actix::test]
async fn a_server_started_reauthentication_reaches_the_handler() {
    let server = ScramServer::start(ScramConfig::new("alice", "s3cret")).unwrap();
    let (opts, mut rig) = options(&server, "alice", "s3cret");
    let client = Client::connect(opts).await.unwrap();
    next(&mut rig.challenges).await;
    server.request_reauthentication();
    assert_eq!(next(&mut rig.challenges).await, ReasonCode::ReAuthenticate);
    assert_eq!(
        next(&mut rig.challenges).await,
        ReasonCode::ContinueAuthentication
    );
    server
        .wait_for(WAIT, |s| s.reauthenticated == 1)
        .await
        .expect("re-authenticated");
    assert_eq!(next(&mut rig.challenges).await, ReasonCode::Success);
    client.disconnect().await.unwrap();
}

#[actix::test]
async fn a_reauthentication_cut_short_by_a_lost_connection_fails() {
    let server = ScramServer::start(ScramConfig::new("alice", "s3cret")).unwrap();
    let (opts, mut rig) = options(&server, "alice", "s3cret");
    let client = Client::connect(opts).await.unwrap();
    next(&mut rig.challenges).await;
    drop(server);
    let err = tokio::time::timeout(Duration::from_secs(10), client.reauthenticate())
        .await
        .expect("an answer")
        .expect_err("the server is gone");
    assert!(matches!(err, Error::NotConnected), "{err:?}");
}
