//! MQTT over TLS, verifying the broker against a private certificate
//! authority — the reference client's "TLS/SSL" section. A
//! `#[mqtt_handler]` route subscribes on connect and receives the
//! client's own message back over the encrypted connection.
//!
//! ```text
//! cargo run --example tls        # embedded broker with a CA made at start-up
//! MQTT_URL=mqtts://broker.example.com:8883 cargo run --example tls
//! ```
//!
//! With `MQTT_URL`, the broker is verified against Mozilla's root
//! certificates (compiled in); set `MQTT_CA=/path/to/ca.pem` to trust a
//! private CA instead.

use std::time::Duration;

use mqttx::{mqtt_handler, Client, ConnectOptions, Publish, QoS, TlsOptions, Transport};
use tokio::sync::mpsc;

/// Passes what arrives on `secure/greeting` on to `main`.
struct Forward(mpsc::UnboundedSender<Publish>);

#[mqtt_handler]
impl Forward {
    #[subscribe("secure/greeting", qos = 1)]
    fn on_greeting(&mut self, msg: &Publish) {
        let _ = self.0.send(msg.clone());
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Holds the embedded broker's certificate files while it runs.
    let mut embedded = None;
    let opts = match std::env::var("MQTT_URL") {
        Ok(url) if !url.trim().is_empty() => {
            let mut tls = TlsOptions::new();
            if let Ok(ca) = std::env::var("MQTT_CA") {
                tls = tls.ca_pem_file(ca);
            }
            println!("broker: {url}");
            ConnectOptions::from_url(url.trim())?.tls(tls)
        }
        _ => {
            let broker = embedded.insert(mqttx_examples::secure_broker::start()?);
            println!("broker: embedded, mqtts://localhost:{}", broker.tls_port);
            ConnectOptions::new("localhost", "")
                .transport(Transport::Tls)
                .port(broker.tls_port)
                // Trust only the embedded broker's CA. The certificate is
                // for "localhost", the name dialled; if you dial an address
                // instead, name the certificate with `.server_name(..)`.
                .tls(TlsOptions::new().ca_pem(broker.ca_pem.clone()))
        }
    };
    let client = Client::connect(opts.client_id("mqttx-tls-example").handler(Forward(tx))).await?;
    println!("connected over TLS; subscribed to secure/greeting (the handler's route)");

    // Sent after the route's SUBSCRIBE on the same connection.
    client
        .publish("secure/greeting", "hello over TLS")
        .qos(QoS::AtLeastOnce)
        .await?;
    let msg = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await?
        .ok_or("the handler stopped")?;
    println!(
        "received {:?} on {}",
        msg.payload_str().unwrap_or("<binary>"),
        msg.topic
    );
    assert_eq!(msg.payload_str(), Some("hello over TLS"));

    client.disconnect().await?;
    Ok(())
}
