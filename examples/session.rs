//! Session persistence: a `FileStore` keeps the client side of the session
//! (QoS 1/2 publishes until acknowledged, incoming QoS 2 ids until PUBREL)
//! on disk, so a restarted process finishes what the last one left.
//!
//! The client subscribes to its own counter with a `#[mqtt_handler]` route
//! (`plant/{plant}/counter`, QoS 2), so both directions of the QoS 2 flow go
//! through the store.
//!
//! ```text
//! cargo run --example session                             # embedded broker
//! MQTT_URL=mqtt://localhost:1883 cargo run --example session
//! ```

use std::collections::BTreeSet;
use std::time::Duration;

use mqttx::store::FileStore;
use mqttx::{mqtt_handler, Client, ConnectOptions, QoS};
use tokio::sync::mpsc;

/// Passes the counter values it receives on to `main`.
struct Counter(mpsc::UnboundedSender<(u32, String)>);

#[mqtt_handler]
impl Counter {
    /// `{plant}` parses as a number; the payload arrives as text.
    #[subscribe("plant/{plant}/counter", qos = 2)]
    fn on_count(&mut self, plant: u32, value: &str) {
        let _ = self.0.send((plant, value.to_owned()));
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = mqttx_examples::broker_url();
    println!("broker: {url}");
    let dir = std::env::temp_dir().join("mqttx-session-example");
    let store = FileStore::open(&dir)?;

    // What an earlier run left in flight is resumed by the first connect.
    let left = store.session("mqttx-session-example")?;
    println!(
        "store in {}: {} publishes left from an earlier run",
        dir.display(),
        left.outgoing.len()
    );

    let (tx, mut counts) = mpsc::unbounded_channel();
    let opts = ConnectOptions::from_url(&url)?
        .client_id("mqttx-session-example")
        .clean_session(false) // resume the broker's session, and the store's
        .session_expiry_interval(3600) // MQTT 5: keep the session for an hour
        .session_store(store.clone())
        .handler(Counter(tx));
    let client = Client::connect(opts).await?;

    // Each QoS 1/2 publish is on disk (fsynced) before it is sent, and
    // removed once acknowledged: kill this process at any moment and the
    // next run sends what was in flight.
    for n in 0..10 {
        client
            .publish("plant/7/counter", format!("{n}"))
            .qos(QoS::ExactlyOnce)
            .await?;
    }
    println!(
        "published 10 messages; still in the store: {}",
        store.session("mqttx-session-example")?.outgoing.len()
    );

    // They come back through the handler's route. (An earlier run's
    // leftovers may arrive too; every value of this run must.)
    let mut missing: BTreeSet<String> = (0..10).map(|n| n.to_string()).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !missing.is_empty() {
        let (plant, value) = tokio::time::timeout_at(deadline, counts.recv())
            .await
            .map_err(|_| format!("counter values {missing:?} did not come back within 10 s"))?
            .ok_or("the handler stopped")?;
        assert_eq!(plant, 7);
        missing.remove(&value);
    }
    println!("received all 10 back on plant/7/counter (QoS 2)");

    client.disconnect().await?;
    Ok(())
}
