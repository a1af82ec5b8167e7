//! Enhanced authentication (MQTT 5), as the reference client's "Enhanced
//! Authentication" section shows it: the connect options open a
//! SCRAM-SHA-256 exchange, the handler's `#[auth]` method answers the
//! server's challenge, and the client checks the server's signature before
//! it counts as connected. Then a re-authentication on the live connection.
//!
//! No broker at hand speaks SCRAM, so the example starts the test
//! harness's scripted SCRAM server (user `alice`, password `s3cret`).
//!
//! ```text
//! cargo run --example enhanced_auth
//! ```

use std::time::Duration;

use mqttx::auth::ScramSha256;
use mqttx::{mqtt_handler, Auth, AuthResponse, Client, ConnectOptions, Publish, QoS};
use mqttx_tests::scram_server::{ScramConfig, ScramServer};
use tokio::sync::mpsc;

/// The handler: SCRAM answers the challenges, messages are passed on.
struct Secured {
    scram: ScramSha256,
    inbox: mpsc::UnboundedSender<Publish>,
}

#[mqtt_handler]
impl Secured {
    #[auth]
    fn auth(&mut self, auth: &Auth) -> AuthResponse {
        self.scram.answer(auth)
    }

    #[subscribe("secure/#", qos = 1)]
    fn on_message(&mut self, msg: &Publish) {
        let _ = self.inbox.send(msg.clone());
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ScramServer::start(ScramConfig::new("alice", "s3cret"))?;
    println!("SCRAM server on 127.0.0.1:{}", server.port());

    let scram = ScramSha256::new("alice", "s3cret");
    let (inbox, mut messages) = mpsc::unbounded_channel();
    let client = Client::connect(
        ConnectOptions::new("127.0.0.1", "my_client")
            .port(server.port())
            .authenticator(scram.clone())
            .handler(Secured { scram, inbox }),
    )
    .await?;
    println!("authenticated; the server proved it knows the password too");

    client.publish("secure/hello", "hi").qos(QoS::AtLeastOnce).await?;
    let echoed = tokio::time::timeout(Duration::from_secs(10), messages.recv())
        .await?
        .ok_or("the handler is gone")?;
    println!("received {:?} on {}", echoed.payload_str(), echoed.topic);

    client.reauthenticate().await?;
    println!("re-authenticated on the same connection");

    client.disconnect().await?;
    assert_eq!(server.stats().authenticated, 2);
    Ok(())
}
