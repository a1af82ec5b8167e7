//! MQTT over WebSocket and secure WebSocket — the reference client's
//! "WebSocket Transport" section: `Transport::Ws`/`Wss` and `ws_path`. A
//! `#[mqtt_handler]` route subscribes on connect and receives the client's
//! own message back through the WebSocket.
//!
//! ```text
//! cargo run --example websocket                 # embedded broker
//! MQTT_URL=ws://localhost:8083/mqtt cargo run --example websocket
//! ```

use std::time::Duration;

use mqttx::{mqtt_handler, Client, ConnectOptions, ProtocolVersion, Publish, QoS, TlsOptions, Transport};
use tokio::sync::mpsc;

/// Passes what arrives on `web/greeting` on to `main`.
struct Forward(mpsc::UnboundedSender<Publish>);

#[mqtt_handler]
impl Forward {
    #[subscribe("web/greeting", qos = 1)]
    fn on_greeting(&mut self, msg: &Publish) {
        let _ = self.0.send(msg.clone());
    }
}

/// Connects, publishes to itself, and waits for the message to come back.
async fn round_trip(opts: ConnectOptions, label: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Connecting subscribes to the handler's route; the publish follows
    // that SUBSCRIBE on the same connection.
    let client = Client::connect(opts.handler(Forward(tx))).await?;
    let greeting = format!("hello over {label}");
    client
        .publish("web/greeting", greeting.clone())
        .qos(QoS::AtLeastOnce)
        .await?;
    let msg = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await?
        .ok_or("the handler stopped")?;
    println!("{label}: received {:?}", msg.payload_str().unwrap_or("<binary>"));
    assert_eq!(msg.payload_str(), Some(greeting.as_str()));
    client.disconnect().await?;
    Ok(())
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(url) = std::env::var("MQTT_URL") {
        if !url.trim().is_empty() {
            println!("broker: {url}");
            let opts = ConnectOptions::from_url(url.trim())?.client_id("mqttx-ws-example");
            return round_trip(opts, "the given URL").await;
        }
    }

    let broker = mqttx_examples::secure_broker::start()?;
    // rumqttd's WebSocket listeners speak MQTT 3.1.1.
    let base = |transport: Transport, port: u16| {
        ConnectOptions::new("localhost", "mqttx-ws-example")
            .transport(transport)
            .port(port)
            .ws_path("/mqtt") // the default, shown for clarity
            .protocol_version(ProtocolVersion::V311)
    };
    println!("broker: embedded, ws://localhost:{}/mqtt", broker.ws_port);
    round_trip(base(Transport::Ws, broker.ws_port), "ws").await?;

    println!("broker: embedded, wss://localhost:{}/mqtt", broker.wss_port);
    let wss = base(Transport::Wss, broker.wss_port).tls(TlsOptions::new().ca_pem(broker.ca_pem.clone()));
    round_trip(wss, "wss").await?;
    Ok(())
}
