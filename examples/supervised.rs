//! Supervised connections and the registry, as the reference client's
//! "Supervised Connections" section shows them: start two, find them by
//! client id, watch one restart after a crash (one-for-one: the other
//! carries on), stop them for good.
//!
//! The handler is a `#[mqtt_handler]` struct with `#[connected]` and
//! `#[disconnected]` methods; it lives in the connection actor, so its
//! state survives the supervised restart.
//!
//! ```text
//! cargo run --example supervised                          # embedded broker
//! MQTT_URL=mqtt://localhost:1883 cargo run --example supervised
//! ```

use std::time::Duration;

use mqttx::{mqtt_handler, Client, ConnAck, ConnectOptions, DisconnectReason, Error};
use tokio::sync::mpsc;

/// Counts its connects; the count lives in the handler, so it survives a
/// supervised restart.
struct Worker {
    name: &'static str,
    connects: u32,
    events: mpsc::UnboundedSender<String>,
}

#[mqtt_handler]
impl Worker {
    #[connected]
    fn on_connected(&mut self, connack: &ConnAck) {
        self.connects += 1;
        let _ = self.events.send(format!(
            "{}: connected (#{}, session present: {})",
            self.name, self.connects, connack.session_present
        ));
    }

    #[disconnected]
    fn on_disconnected(&mut self, reason: &DisconnectReason) {
        let _ = self.events.send(format!("{}: disconnected: {reason}", self.name));
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = mqttx_examples::broker_url();
    println!("broker: {url}");
    let (tx, mut events) = mpsc::unbounded_channel();
    let worker = |name| Worker {
        name,
        connects: 0,
        events: tx.clone(),
    };

    let opts = |id: &str| -> Result<ConnectOptions, Error> {
        Ok(ConnectOptions::from_url(&url)?
            .client_id(id)
            .clean_session(false)
            .session_expiry_interval(300))
    };
    let ingest = Client::connect_supervised(opts("ingest")?.handler(worker("ingest"))).await?;
    let alerts = Client::connect_supervised(opts("alerts")?.handler(worker("alerts"))).await?;

    for (id, _client, meta) in Client::list().await {
        println!(
            "registered: {id} -> {}:{} over {:?}",
            meta.host, meta.port, meta.transport
        );
    }

    // Anyone in the System can find a connection by its client id.
    let (client, meta) = Client::whereis("alerts")
        .await
        .ok_or("alerts is not registered")?;
    println!("whereis(\"alerts\") -> {}:{}", meta.host, meta.port);
    client.publish("alerts/demo", "found via whereis").await?;

    // One client id, one supervised connection.
    match Client::connect_supervised(opts("ingest")?).await {
        Err(Error::ClientIdInUse { client_id }) => println!("refused a second {client_id:?}, as it should"),
        other => return Err(format!("a second \"ingest\" should be refused, got {other:?}").into()),
    }

    // A bug that panics inside the connection actor. `inject_panic` is a
    // test hook standing in for one here: the supervisor restarts the
    // actor, which keeps its handler (see the connect count) and session.
    ingest.inject_panic()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .map_err(|_| "ingest was not restarted within 10 s")?
            .ok_or("the handlers are gone")?;
        println!("{event}");
        if event.starts_with("ingest: connected (#2") {
            break;
        }
    }
    // One-for-one: the other connection was not touched.
    println!("alerts is still running: {}", alerts.is_running());
    assert!(alerts.is_running());
    assert!(
        Client::whereis("ingest").await.is_some(),
        "the restarted connection is still registered"
    );

    // disconnect() stops a supervised connection for good and unregisters it.
    ingest.disconnect().await?;
    alerts.disconnect().await?;
    let left = Client::list().await.len();
    println!("registered after disconnect: {left}");
    assert_eq!(left, 0);
    Ok(())
}
