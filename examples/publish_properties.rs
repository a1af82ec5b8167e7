//! Publishing with MQTT 5 properties, as the reference client's
//! "Publishing with Properties" section shows it: a `#[mqtt_handler]`
//! subscriber sees each property as the publisher set it.
//!
//! ```text
//! cargo run --example publish_properties                             # embedded broker
//! MQTT_URL=mqtt://localhost:1883 cargo run --example publish_properties
//! ```

use std::time::Duration;

use mqttx::{mqtt_handler, Client, ConnectOptions, Publish, QoS};
use tokio::sync::mpsc;

/// Prints the properties of every event it gets, and hands the message on.
struct Events(mpsc::UnboundedSender<Publish>);

#[mqtt_handler]
impl Events {
    #[subscribe("events/{kind}", qos = 1)]
    fn on_event(&mut self, kind: &str, msg: &Publish) {
        let props = &msg.properties;
        println!("{kind}: {:?}", msg.payload_str());
        println!("  content type:    {:?}", props.content_type);
        println!("  UTF-8 payload:   {:?}", props.payload_format_indicator);
        println!("  expires in:      {:?} s", props.message_expiry_interval);
        println!("  user properties: {:?}", props.user_properties);
        let _ = self.0.send(msg.clone());
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = mqttx_examples::broker_url();
    println!("broker: {url}");

    let (tx, mut seen) = mpsc::unbounded_channel();
    let subscriber = Client::connect(
        ConnectOptions::from_url(&url)?
            .client_id("props-sub")
            .handler(Events(tx)),
    )
    .await?;
    // One round trip: the handler's subscription, made on connect, is in place.
    subscriber.subscribe("events/ready", QoS::AtLeastOnce).await?;

    let client = Client::connect(ConnectOptions::from_url(&url)?.client_id("props-pub")).await?;
    client
        .publish("events/alert", r#"{"level":"high"}"#)
        .qos(QoS::AtLeastOnce)
        .content_type("application/json")
        .utf8_payload(true)
        .message_expiry_interval(3600)
        .user_property("source", "sensor-7")
        .user_property("site", "north")
        .await?;

    let msg = tokio::time::timeout(Duration::from_secs(10), seen.recv())
        .await?
        .ok_or("the handler is gone")?;
    assert_eq!(msg.properties.content_type.as_deref(), Some("application/json"));
    let users: Vec<(&str, &str)> = msg
        .properties
        .user_properties
        .iter()
        .map(|(k, v)| (&k[..], &v[..]))
        .collect();
    assert_eq!(users, [("source", "sensor-7"), ("site", "north")]);

    client.disconnect().await?;
    subscriber.disconnect().await?;
    Ok(())
}
