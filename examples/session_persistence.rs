//! Session persistence, the reference client's recipe as written: a
//! client id, `clean_session(false)` and a session store, nothing else.
//! Messages published while the subscriber was away arrive when it comes
//! back (on MQTT 5 the session is kept with no expiry unless told).
//!
//! ```text
//! cargo run --example session_persistence                             # embedded broker
//! MQTT_URL=mqtt://localhost:1883 cargo run --example session_persistence
//! ```

use std::time::Duration;

use mqttx::store::MemoryStore;
use mqttx::{mqtt_handler, Client, ConnectOptions, Publish, QoS};
use tokio::sync::mpsc;

/// Counts what arrives on `orders/#`.
struct Orders(mpsc::UnboundedSender<Publish>);

#[mqtt_handler]
impl Orders {
    #[subscribe("orders/{id}", qos = 1)]
    fn on_order(&mut self, id: &str, msg: &Publish) {
        println!("order {id}: {:?}", msg.payload_str());
        let _ = self.0.send(msg.clone());
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = mqttx_examples::broker_url();
    println!("broker: {url}");
    let store = MemoryStore::new();
    let recipe = |tx| -> Result<_, mqttx::Error> {
        Ok(ConnectOptions::from_url(&url)?
            .client_id("persistent_client")
            .clean_session(false)
            .session_store(store.clone())
            .handler(Orders(tx)))
    };

    // The first visit subscribes (the handler's route), then leaves.
    let (tx, _first) = mpsc::unbounded_channel();
    let client = Client::connect(recipe(tx)?).await?;
    client.subscribe("orders/ready", QoS::AtLeastOnce).await?;
    client.disconnect().await?;

    // Orders come in while it is away.
    let shop = Client::connect(ConnectOptions::from_url(&url)?.client_id("shop")).await?;
    for id in 1..=3 {
        shop.publish(format!("orders/{id}"), format!("order number {id}"))
            .qos(QoS::AtLeastOnce)
            .await?;
    }
    shop.disconnect().await?;

    // Back again: the broker kept the session and delivers what it queued.
    let (tx, mut orders) = mpsc::unbounded_channel();
    let client = Client::connect(recipe(tx)?).await?;
    for _ in 1..=3 {
        tokio::time::timeout(Duration::from_secs(10), orders.recv())
            .await?
            .ok_or("the handler is gone")?;
    }
    println!("all 3 orders published while away arrived");
    client.disconnect().await?;
    Ok(())
}
