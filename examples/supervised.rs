//! Supervised connections and the registry: start two, find them by
//! client id, watch one restart after a crash, stop them for good.
//!
//! ```text
//! cargo run --example supervised                          # embedded broker
//! MQTT_URL=mqtt://localhost:1883 cargo run --example supervised
//! ```

use std::time::Duration;

use mqttx::{Client, ConnAck, ConnectOptions, DisconnectReason, Error, HandlerContext, MqttHandler};
use tokio::sync::mpsc;

/// Counts its connects; the count lives in the handler, so it survives a
/// supervised restart.
struct Worker {
    name: &'static str,
    connects: u32,
    events: mpsc::UnboundedSender<String>,
}

impl MqttHandler for Worker {
    fn connected(&mut self, connack: &ConnAck, _ctx: &mut HandlerContext<'_>) {
        self.connects += 1;
        let _ = self.events.send(format!(
            "{}: connected (#{}, session present: {})",
            self.name, self.connects, connack.session_present
        ));
    }

    fn disconnected(&mut self, reason: &DisconnectReason, _ctx: &mut HandlerContext<'_>) {
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
    if let Some((client, _meta)) = Client::whereis("alerts").await {
        client.publish("alerts/demo", "found via whereis").await?;
    }

    // One client id, one supervised connection.
    match Client::connect_supervised(opts("ingest")?).await {
        Err(Error::ClientIdInUse { client_id }) => println!("refused a second {client_id:?}, as it should"),
        other => println!("unexpected: {other:?}"),
    }

    // A bug that panics inside the connection actor. `inject_panic` is a
    // test hook standing in for one here: the supervisor restarts the
    // actor, which keeps its handler (see the connect count) and session.
    ingest.inject_panic()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
        println!("{event}");
        if event.starts_with("ingest: connected (#2") {
            break;
        }
    }
    println!("alerts is still running: {}", alerts.is_running());

    // disconnect() stops a supervised connection for good and unregisters it.
    ingest.disconnect().await?;
    alerts.disconnect().await?;
    println!("registered after disconnect: {}", Client::list().await.len());
    Ok(())
}
