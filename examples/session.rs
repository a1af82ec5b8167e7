//! Session persistence: a `FileStore` keeps the client side of the session
//! (QoS 1/2 publishes until acknowledged, incoming QoS 2 ids until PUBREL)
//! on disk, so a restarted process finishes what the last one left.
//!
//! ```text
//! cargo run --example session                             # embedded broker
//! MQTT_URL=mqtt://localhost:1883 cargo run --example session
//! ```

use mqttx::store::FileStore;
use mqttx::{Client, ConnectOptions, QoS};

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

    let opts = ConnectOptions::from_url(&url)?
        .client_id("mqttx-session-example")
        .clean_session(false) // resume the broker's session, and the store's
        .session_expiry_interval(3600) // MQTT 5: keep the session for an hour
        .session_store(store.clone());
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
    client.disconnect().await?;
    Ok(())
}
