//! MQTT 5 request/response, as the reference client's "Request/Response"
//! section shows it: a `#[mqtt_handler]` service answers through a
//! `Responder`; a client sends a `request` (the response reaches its
//! handler, matched by Correlation Data) and a `call` (the response is
//! the future's value).
//!
//! ```text
//! cargo run --example request_response                             # embedded broker
//! MQTT_URL=mqtt://localhost:1883 cargo run --example request_response
//! ```

use std::time::Duration;

use mqttx::{mqtt_handler, Client, ConnectOptions, Publish, QoS, Responder};
use tokio::sync::mpsc;

/// The service: answers `service/rpc` with the request's text in capitals.
struct Service;

#[mqtt_handler]
impl Service {
    #[subscribe("service/rpc", qos = 1)]
    async fn rpc(&mut self, text: String, responder: Responder) {
        if let Err(err) = responder.respond(text.to_uppercase()).await {
            eprintln!("no answer sent: {err}");
        }
    }
}

/// The requester's handler: responses to `request` come here.
struct Replies(mpsc::UnboundedSender<Publish>);

#[mqtt_handler]
impl Replies {
    #[subscribe("reply/my_client", qos = 1)]
    fn on_reply(&mut self, msg: &Publish) {
        let _ = self.0.send(msg.clone());
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = mqttx_examples::broker_url();
    println!("broker: {url}");

    let service = Client::connect(
        ConnectOptions::from_url(&url)?
            .client_id("rpc-service")
            .handler(Service),
    )
    .await?;
    // One round trip: the service's subscription, made on connect, is in place.
    service.subscribe("service/ready", QoS::AtLeastOnce).await?;

    let (tx, mut replies) = mpsc::unbounded_channel();
    let client = Client::connect(
        ConnectOptions::from_url(&url)?
            .client_id("my_client")
            .handler(Replies(tx)),
    )
    .await?;

    // request: resolves to the Correlation Data; the response goes to the handler.
    let correlation = client
        .request("service/rpc", "ping")
        .response_topic("reply/my_client")
        .qos(QoS::AtLeastOnce)
        .await?;
    let reply = tokio::time::timeout(Duration::from_secs(10), replies.recv())
        .await?
        .ok_or("the handler is gone")?;
    assert_eq!(reply.properties.correlation_data.as_ref(), Some(&correlation));
    println!("request {correlation:?} answered {:?}", reply.payload_str());

    // call: resolves to the response itself.
    let response = client
        .call("service/rpc", "hello")
        .qos(QoS::AtLeastOnce)
        .timeout(Duration::from_secs(10))
        .await?;
    println!("call answered {:?}", response.payload_str());
    assert_eq!(response.payload_str(), Some("HELLO"));

    client.disconnect().await?;
    service.disconnect().await?;
    Ok(())
}
