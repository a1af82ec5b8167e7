//! MQTT 5 request/response against mosquitto: `Client::request` paired with
//! a `#[mqtt_handler]` responder that answers through `Responder`.

use std::future::IntoFuture;

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

/// Answers `service/slow` in upper case once the test opens its gate.
struct Slow {
    gate: Option<tokio::sync::oneshot::Receiver<()>>,
}

#[mqtt_handler]
impl Slow {
    #[subscribe("service/slow", qos = 1)]
    async fn slow(&mut self, text: String, responder: Responder) {
        if let Some(gate) = self.gate.take() {
            let _ = gate.await;
        }
        if let Err(err) = responder.respond(text.to_uppercase()).await {
            panic!("the response was not sent: {err}");
        }
    }
}

async fn slow_service(port: u16) -> (Client, tokio::sync::oneshot::Sender<()>) {
    let (open, gate) = tokio::sync::oneshot::channel();
    let client = Client::connect(options(port, "slow-service").handler(Slow { gate: Some(gate) }))
        .await
        .unwrap();
    client.subscribe("service/ready", QoS::AtLeastOnce).await.unwrap();
    (client, open)
}

#[actix::test]
async fn a_call_resolves_to_its_response_which_never_reaches_the_handler() {
    let broker = Broker::start().unwrap();
    let service = responder(broker.port()).await;
    let (handler, mut events) = recorder();
    let client = Client::connect(options(broker.port(), "caller").handler(handler))
        .await
        .unwrap();

    // Many at once, each answered by its own response.
    let calls: Vec<_> = (0..50)
        .map(|n| {
            client
                .call("service/echo", format!("call-{n}"))
                .qos(QoS::AtLeastOnce)
                .into_future()
        })
        .collect();
    for (n, call) in calls.into_iter().enumerate() {
        let response = tokio::time::timeout(WAIT, call).await.expect("in time").unwrap();
        assert_eq!(response.payload_str(), Some(format!("CALL-{n}").as_str()));
        assert_eq!(
            response.topic, "caller/responses",
            "the client's own response topic"
        );
    }
    // The first message the handler sees is one published after them all.
    client
        .publish("caller/responses", "marker")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    let first = events.message(WAIT).await;
    assert_eq!(&first.payload[..], b"marker", "no response went to the handler");
    client.disconnect().await.unwrap();
    service.disconnect().await.unwrap();
}

#[actix::test]
async fn a_call_times_out_clearly_and_its_late_response_goes_to_the_handler() {
    let broker = Broker::start().unwrap();
    let (service, open) = slow_service(broker.port()).await;
    let (handler, mut events) = recorder();
    let client = Client::connect(options(broker.port(), "impatient").handler(handler))
        .await
        .unwrap();
    let timeout = std::time::Duration::from_millis(300);
    let call = client
        .call("service/slow", "late")
        .qos(QoS::AtLeastOnce)
        .timeout(timeout);
    let outcome = tokio::time::timeout(WAIT, call)
        .await
        .expect("the call ends by itself");
    assert!(
        matches!(outcome, Err(Error::Timeout { after }) if after == timeout),
        "{outcome:?}"
    );
    open.send(()).unwrap();
    let late = response(&mut events, "impatient/responses").await;
    assert_eq!(&late.payload[..], b"LATE");
    assert!(late.properties.correlation_data.is_some());
    client.disconnect().await.unwrap();
    service.disconnect().await.unwrap();
}

#[actix::test]
async fn a_call_survives_a_reconnect_that_lost_the_session() {
    let broker = Broker::start().unwrap();
    let (service, open) = slow_service(broker.port()).await;
    let chaos = Chaos::start(broker.port()).unwrap();
    let (handler, mut events) = recorder();
    let client = Client::connect(options(chaos.port(), "steady").handler(handler))
        .await
        .unwrap();
    events.connected(WAIT).await;
    let call = client
        .call("service/slow", "through")
        .qos(QoS::AtLeastOnce)
        .into_future();
    // The request reached the service (it waits at its gate); the caller's
    // connection is cut, and comes back with a new session.
    let requests = || {
        chaos
            .wire_log()
            .of_client("steady", |entry| entry.kind == "PUBLISH")
            .len()
    };
    let deadline = std::time::Instant::now() + WAIT;
    while requests() == 0 {
        assert!(std::time::Instant::now() < deadline, "the request went out");
        tokio::task::yield_now().await;
    }
    chaos.cut_now();
    let connack = events.connected(WAIT).await;
    assert!(!connack.session_present);
    // A round trip on the new connection: the restored subscriptions are in place.
    client.subscribe("steady/other", QoS::AtLeastOnce).await.unwrap();
    open.send(()).unwrap();
    let response = tokio::time::timeout(WAIT, call).await.expect("in time").unwrap();
    assert_eq!(&response.payload[..], b"THROUGH");
    client.disconnect().await.unwrap();
    service.disconnect().await.unwrap();
}
