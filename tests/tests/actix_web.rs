//! The actix-web example, driven over real HTTP against mosquitto: every
//! route, a Server-Sent Events client that receives live messages, and the
//! HTTP service staying up while the broker restarts. The example's own
//! source is compiled here, so what is tested is what users read.

#[path = "../../examples/actix_web.rs"]
#[allow(dead_code)]
mod example;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use awc::error::PayloadError;
use bytes::Bytes;
use example::{Connections, RoomReading};
use futures_util::{Stream, StreamExt};
use mqttx::client::ConnectionState;
use mqttx_tests::support::WAIT;
use mqttx_tests::Broker;

/// The example's whole service on a free port, over `broker`.
struct Service {
    base: String,
    handle: ServerHandle,
    connections: Connections,
}

impl Service {
    async fn start(broker: &Broker) -> Service {
        let connections = Connections::start(&broker.url()).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server =
            example::http_server(connections.client.clone(), connections.readings.clone(), listener).unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Service {
            base,
            handle,
            connections,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// HTTP first, then the clients: the example's shutdown order.
    async fn stop(self) {
        self.handle.stop(true).await;
        self.connections.stop().await.unwrap();
    }
}

fn http() -> awc::Client {
    awc::Client::builder().timeout(Duration::from_secs(30)).finish()
}

/// Opens `/events/{filter}` and waits for its first line: subscribed.
async fn events(service: &Service, filter: &str) -> impl Stream<Item = Result<Bytes, PayloadError>> + Unpin {
    let mut events = http()
        .get(service.url(&format!("/events/{filter}")))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers().get("content-type").unwrap(), "text/event-stream");
    let first = next_chunk(&mut events).await;
    assert!(first.starts_with(b": subscribed"), "{first:?}");
    events
}

async fn next_chunk(events: &mut (impl Stream<Item = Result<Bytes, PayloadError>> + Unpin)) -> Bytes {
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("an event within the deadline")
        .expect("the stream is open")
        .expect("readable")
}

/// The next Server-Sent Event's data, as JSON.
async fn next_event(
    events: &mut (impl Stream<Item = Result<Bytes, PayloadError>> + Unpin),
) -> serde_json::Value {
    let chunk = next_chunk(events).await;
    let text = String::from_utf8(chunk.to_vec()).unwrap();
    let data = text
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap_or_else(|| panic!("no data line in {text:?}"));
    serde_json::from_str(data).unwrap()
}

async fn publish(service: &Service, topic: &str, body: &'static str) -> u16 {
    http()
        .post(service.url(&format!("/publish/{topic}")))
        .send_body(body)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[actix_web::test]
async fn every_route_answers_over_http() {
    let broker = Broker::start().unwrap();
    let service = Service::start(&broker).await;

    let mut page = http().get(service.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.body().await.unwrap();
    assert!(String::from_utf8_lossy(&html).contains("new EventSource(\"/events/sensors/%23\")"));

    let mut events = events(&service, "sensors/%23").await;
    assert_eq!(
        publish(&service, "sensors/kitchen/temp", r#"{"celsius": 21.5}"#).await,
        200
    );
    assert_eq!(
        publish(&service, "sensors/hall/temp", r#"{"celsius": 19}"#).await,
        200
    );
    // Not JSON: the handler's route cannot take it; the stream still can.
    assert_eq!(publish(&service, "sensors/attic/temp", "warm").await, 200);
    for (topic, payload) in [
        ("sensors/kitchen/temp", r#"{"celsius": 21.5}"#),
        ("sensors/hall/temp", r#"{"celsius": 19}"#),
        ("sensors/attic/temp", "warm"),
    ] {
        let event = next_event(&mut events).await;
        assert_eq!(event["topic"], topic);
        assert_eq!(event["payload"], payload);
    }

    let readings: Vec<RoomReading> = http()
        .get(service.url("/readings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        readings,
        [
            RoomReading {
                room: "kitchen".into(),
                celsius: 21.5
            },
            RoomReading {
                room: "hall".into(),
                celsius: 19.0
            },
        ]
    );

    let mut time = http().get(service.url("/rpc/time")).send().await.unwrap();
    assert_eq!(time.status(), 200);
    let body = time.body().await.unwrap();
    let seconds: u64 = String::from_utf8_lossy(&body)
        .parse()
        .expect("seconds since the epoch");
    assert!(seconds > 1_700_000_000);

    assert_eq!(
        publish(&service, "bad/+/topic", "x").await,
        400,
        "a wildcard in a topic name"
    );
    drop(events);
    service.stop().await;
}

#[actix_web::test]
async fn an_sse_client_receives_live_messages_in_order() {
    let broker = Broker::start().unwrap();
    let service = Service::start(&broker).await;
    let mut kitchen = events(&service, "sensors/kitchen/%23").await;
    let mut everything = events(&service, "%23").await;
    for n in 0..20 {
        let status = http()
            .post(service.url("/publish/sensors/kitchen/count"))
            .send_body(n.to_string())
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    for n in 0..20 {
        assert_eq!(next_event(&mut kitchen).await["payload"], n.to_string());
        assert_eq!(next_event(&mut everything).await["payload"], n.to_string());
    }
    drop((kitchen, everything));
    service.stop().await;
}

#[actix_web::test]
async fn the_http_service_stays_up_while_the_broker_restarts() {
    let mut broker = Broker::builder().persistence(true).start().unwrap();
    let service = Service::start(&broker).await;
    let mut events = events(&service, "sensors/%23").await;
    let health = |service: &Service| {
        let url = service.url("/health");
        async move {
            let mut response = http().get(url).send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        }
    };
    let (status, body) = health(&service).await;
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("connected")),
        "{body}"
    );

    let mut state = service.connections.client.watch_state();
    broker.stop().unwrap();
    let lost = state.wait_for(|s| matches!(s, ConnectionState::Reconnecting { .. }));
    tokio::time::timeout(WAIT, lost)
        .await
        .expect("the client notices")
        .unwrap();
    // The health endpoint says so until the connection is back.
    let (status, body) = health(&service).await;
    assert_eq!(
        (status, body["state"].as_str()),
        (503, Some("reconnecting")),
        "{body}"
    );
    let readings = http().get(service.url("/readings")).send().await.unwrap();
    assert_eq!(readings.status(), 200, "HTTP answers without the broker");
    let page = http().get(service.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);

    // A publish while the broker is away waits for it, then goes out.
    let waiting = actix_web::rt::spawn(async move {
        http()
            .post(format!("{}/publish/sensors/porch/temp", service.base))
            .send_body(r#"{"celsius": 7}"#)
            .await
            .map(|response| response.status().as_u16())
            .map(|status| (status, service))
    });
    broker.start_again().unwrap();
    let (status, service) = tokio::time::timeout(WAIT * 2, waiting)
        .await
        .expect("answered once the broker is back")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    // The event stream's subscription came back with the connection.
    let event = next_event(&mut events).await;
    assert_eq!(event["topic"], "sensors/porch/temp");
    let (status, body) = health(&service).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reconnects"], 1, "{body}");
    assert_eq!(
        body["messages_in"][0], 1,
        "the porch reading, at QoS 0 on the event stream: {body}"
    );
    drop(events);
    service.stop().await;
}
