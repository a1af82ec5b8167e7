//! Connect, subscribe, publish, receive, disconnect — the reference
//! client's "Basic Connection" and "Receiving Messages" in one round trip.
//!
//! The handler is a `#[mqtt_handler]` struct: its `#[subscribe]` route is
//! the subscription (made when the client connects) and the method that
//! receives what matches it; `#[connected]` and `#[disconnected]` report
//! the connection's life.
//!
//! ```text
//! cargo run --example quickstart                          # embedded broker
//! MQTT_URL=mqtt://localhost:1883 cargo run --example quickstart
//! ```

use std::time::Duration;

use mqttx::{mqtt_handler, Client, ConnAck, ConnectOptions, DisconnectReason, Publish, QoS};
use tokio::sync::mpsc;

/// Prints what the connection reports and passes messages on to `main`.
struct Printer(mpsc::UnboundedSender<Publish>);

#[mqtt_handler]
impl Printer {
    #[connected]
    fn on_connected(&mut self, connack: &ConnAck) {
        println!("connected (session present: {})", connack.session_present);
    }

    /// Subscribes to `sensors/+/temp`; `{room}` binds the middle level.
    #[subscribe("sensors/{room}/temp", qos = 1)]
    fn on_temp(&mut self, room: &str, msg: &Publish) {
        println!(
            "received {:?} for room {room} on {} (QoS {:?})",
            msg.payload_str().unwrap_or("<binary>"),
            msg.topic,
            msg.qos
        );
        let _ = self.0.send(msg.clone());
    }

    #[disconnected]
    fn on_disconnected(&mut self, reason: &DisconnectReason) {
        println!("disconnected: {reason}");
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
    // Connecting also subscribes to the handler's route, sensors/+/temp.
    let client = Client::connect(opts).await?;
    println!("subscribed to sensors/+/temp (the handler's route)");

    // Sent after the route's SUBSCRIBE on the same connection, so the
    // broker has the subscription when the message arrives.
    println!("publishing 21.5 to sensors/kitchen/temp");
    client
        .publish("sensors/kitchen/temp", "21.5")
        .qos(QoS::AtLeastOnce)
        .await?;

    let msg = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await?
        .ok_or("the handler stopped")?;
    assert_eq!(msg.topic, "sensors/kitchen/temp");
    assert_eq!(msg.payload_str(), Some("21.5"));

    client.disconnect().await?;
    println!("round trip complete; disconnected");
    Ok(())
}
