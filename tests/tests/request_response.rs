//! MQTT 5 request/response against mosquitto: `Client::request` paired with
//! a `#[mqtt_handler]` responder that answers through `Responder`.

use bytes::Bytes;
use mqttx::client::RequestMessage;
use mqttx::{mqtt_handler, Client, ConnectOptions, Error, ProtocolVersion, Publish, QoS, Responder};
use mqttx_tests::chaos::Chaos;
use mqttx_tests::events::{recorder, Events};
use mqttx_tests::support::WAIT;
use mqttx_tests::Broker;

/// Answers `service/echo` with the request's payload in upper case.
struct Echo;

#[mqtt_handler]
impl Echo {
    #[subscribe("service/echo", qos = 1)]
    async fn echo(&mut self, text: String, responder: Responder) {
        if let Err(err) = responder.respond(text.to_uppercase()).await {
            panic!("the response was not sent: {err}");
        }
    }
}

fn options(port: u16, client_id: &str) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", client_id).port(port)
}

async fn responder(port: u16) -> Client {
    let client = Client::connect(options(port, "echo-service").handler(Echo))
        .await
        .unwrap();
    // A round trip: the handler's subscription, made on connect, is in place.
    client.subscribe("service/ready", QoS::AtLeastOnce).await.unwrap();
    client
}

/// The next message on `topic` the handler saw.
async fn response(events: &mut Events, topic: &str) -> Publish {
    loop {
        let msg = events.message(WAIT).await;
        if msg.topic == topic {
            return msg;
        }
    }
}

#[actix::test]
async fn a_request_gets_its_response_at_the_handler_matched_by_correlation_data() {
    let broker = Broker::start().unwrap();
    let service = responder(broker.port()).await;
    let chaos = Chaos::start(broker.port()).unwrap();
    let (handler, mut events) = recorder();
    let client = Client::connect(options(chaos.port(), "requester").handler(handler))
        .await
        .unwrap();

    let first = client
        .request("service/echo", "ping")
        .response_topic("reply/requester")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    let answer = response(&mut events, "reply/requester").await;
    assert_eq!(&answer.payload[..], b"PING");
    assert_eq!(answer.properties.correlation_data.as_ref(), Some(&first));

    let second = client
        .request("service/echo", "again")
        .response_topic("reply/requester")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_ne!(first, second, "fresh Correlation Data for each request");
    assert_eq!(second.len(), 16);
    let answer = response(&mut events, "reply/requester").await;
    assert_eq!(&answer.payload[..], b"AGAIN");
    assert_eq!(answer.properties.correlation_data.as_ref(), Some(&second));

    let subscribes = chaos
        .wire_log()
        .of_client("requester", |entry| entry.kind == "SUBSCRIBE");
    assert_eq!(
        subscribes.len(),
        1,
        "the response topic is subscribed to once per client"
    );
    client.disconnect().await.unwrap();
    service.disconnect().await.unwrap();
}

#[actix::test]
async fn without_a_response_topic_the_client_uses_its_own_and_the_actix_message_works_too() {
    let broker = Broker::start().unwrap();
    let service = responder(broker.port()).await;
    let (handler, mut events) = recorder();
    let client = Client::connect(options(broker.port(), "plain").handler(handler))
        .await
        .unwrap();
    let correlation = client
        .request("service/echo", "x")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    let answer = response(&mut events, "plain/responses").await;
    assert_eq!(answer.properties.correlation_data.as_ref(), Some(&correlation));

    let mut request = Publish::new("service/echo", "by message").qos(QoS::AtLeastOnce);
    request.properties.response_topic = Some("plain/by-message".into());
    request.properties.correlation_data = Some(Bytes::from_static(b"replaced"));
    let sent = client
        .recipient::<RequestMessage>()
        .send(RequestMessage(request))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        &sent[..],
        b"replaced",
        "the connection makes the Correlation Data"
    );
    let answer = response(&mut events, "plain/by-message").await;
    assert_eq!(&answer.payload[..], b"BY MESSAGE");
    assert_eq!(answer.properties.correlation_data.as_ref(), Some(&sent));
    client.disconnect().await.unwrap();
    service.disconnect().await.unwrap();
}

#[actix::test]
async fn a_request_needs_mqtt_5_and_a_topic_name() {
    let broker = Broker::start().unwrap();
    let old = Client::connect(options(broker.port(), "old").protocol_version(ProtocolVersion::V311))
        .await
        .unwrap();
    let refused = old.request("service/echo", "x").await;
    assert!(matches!(refused, Err(Error::InvalidOptions(_))), "{refused:?}");
    old.disconnect().await.unwrap();

    let client = Client::connect(options(broker.port(), "wild")).await.unwrap();
    let refused = client
        .request("service/echo", "x")
        .response_topic("reply/+")
        .await;
    assert!(matches!(refused, Err(Error::InvalidTopic)), "{refused:?}");
    client.disconnect().await.unwrap();
}
