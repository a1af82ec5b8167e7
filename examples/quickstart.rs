//! Connect, subscribe, publish, receive, disconnect.
//!
//! ```text
//! cargo run --example quickstart                          # embedded broker
//! MQTT_URL=mqtt://localhost:1883 cargo run --example quickstart
//! ```

use std::time::Duration;

use mqttx::{Client, ConnAck, ConnectOptions, HandlerContext, MqttHandler, Publish, QoS};
use tokio::sync::mpsc;

/// Prints what the connection reports and passes messages on to `main`.
struct Printer(mpsc::UnboundedSender<Publish>);

impl MqttHandler for Printer {
    fn connected(&mut self, connack: &ConnAck, _ctx: &mut HandlerContext<'_>) {
        println!("connected (session present: {})", connack.session_present);
    }

    fn message(&mut self, msg: &Publish, _ctx: &mut HandlerContext<'_>) {
        println!(
            "received {:?} on {} (QoS {:?})",
            msg.payload_str().unwrap_or("<binary>"),
            msg.topic,
            msg.qos
        );
        let _ = self.0.send(msg.clone());
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = mqttx_examples::broker_url();
    println!("broker: {url}");

    let (tx, mut rx) = mpsc::unbounded_channel();
    let opts = ConnectOptions::from_url(&url)?
        .client_id("mqttx-quickstart")
        .handler(Printer(tx));
    let client = Client::connect(opts).await?;

    let granted = client.subscribe("sensors/+/temp", QoS::AtLeastOnce).await?;
    println!("subscribed to sensors/+/temp (granted {granted:?})");

    client
        .publish("sensors/kitchen/temp", "21.5")
        .qos(QoS::AtLeastOnce)
        .await?;
    println!("published 21.5 to sensors/kitchen/temp");

    let msg = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await?
        .ok_or("the handler stopped")?;
    assert_eq!(msg.payload_str(), Some("21.5"));

    client.disconnect().await?;
    println!("round trip complete; disconnected");
    Ok(())
}
