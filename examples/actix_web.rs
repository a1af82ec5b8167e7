//! mqttx inside an actix-web service: one `Client`, started in `main` and
//! shared with every worker as `web::Data`, a `#[mqtt_handler]` that keeps
//! the last readings, and HTTP routes over it.
//!
//! | route | does |
//! |---|---|
//! | `GET /` | a small page showing live messages (EventSource on `/events/sensors/#`) |
//! | `POST /publish/{topic..}` | publishes the body to the topic (QoS 1) |
//! | `GET /readings` | the last readings the handler kept, as JSON |
//! | `GET /rpc/{service}` | MQTT 5 request/response: `call()` to `services/{service}` |
//! | `GET /events/{filter..}` | Server-Sent Events from a message stream |
//! | `GET /health` | the connection's state and counters; 503 unless connected |
//!
//! ```text
//! cargo run --example actix_web                 # starts, checks every route over HTTP, stops
//! cargo run --example actix_web -- --serve      # keeps serving on http://127.0.0.1:8080
//! MQTT_URL=mqtt://localhost:1883 cargo run --example actix_web -- --serve
//! ```
//!
//! Shutting down, HTTP stops first (no request is left without the
//! client), then the client disconnects.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{dev::Server, get, post, web, App, HttpResponse, HttpServer, Responder as HttpResponder};
use futures_util::StreamExt;
use mqttx::client::ConnectionState;
use mqttx::{mqtt_handler, Bytes, Client, ConnectOptions, Error, Json, QoS, Responder};
use serde::{Deserialize, Serialize};

/// How many readings `/readings` keeps.
pub const KEPT_READINGS: usize = 100;

/// What a sensor publishes on `sensors/{room}/temp`: `{"celsius": 21.5}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Reading {
    pub celsius: f64,
}

/// A reading and the room it came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RoomReading {
    pub room: String,
    pub celsius: f64,
}

/// The last readings, shared by the MQTT handler (writes) and the HTTP
/// workers (read).
#[derive(Debug, Clone, Default)]
pub struct Readings(Arc<Mutex<VecDeque<RoomReading>>>);

impl Readings {
    fn push(&self, reading: RoomReading) {
        let mut kept = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.len() == KEPT_READINGS {
            kept.pop_front();
        }
        kept.push_back(reading);
    }

    fn all(&self) -> Vec<RoomReading> {
        let kept = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.iter().cloned().collect()
    }
}

/// The service's MQTT handler: every room's temperature, kept.
struct Sensors {
    readings: Readings,
}

#[mqtt_handler]
impl Sensors {
    #[subscribe("sensors/{room}/temp", qos = 1)]
    fn temperature(&mut self, room: &str, Json(reading): Json<Reading>) {
        self.readings.push(RoomReading {
            room: room.to_owned(),
            celsius: reading.celsius,
        });
    }
}

/// A service on the other end of `/rpc`: answers `services/time` requests.
struct TimeService;

#[mqtt_handler]
impl TimeService {
    #[subscribe("services/time", qos = 1)]
    async fn time(&mut self, responder: Responder) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        if let Err(err) = responder.respond(now.to_string()).await {
            eprintln!("time service: no answer sent: {err}");
        }
    }
}

/// The application's connections: the one the HTTP routes use, and the
/// time service `/rpc/time` reaches.
pub struct Connections {
    pub client: Client,
    pub readings: Readings,
    pub time_service: Client,
}

impl Connections {
    /// Connects both clients to the broker at `url`.
    pub async fn start(url: &str) -> Result<Connections, Error> {
        let readings = Readings::default();
        let client = Client::connect(ConnectOptions::from_url(url)?.client_id("web-service").handler(
            Sensors {
                readings: readings.clone(),
            },
        ))
        .await?;
        let time_service = Client::connect(
            ConnectOptions::from_url(url)?
                .client_id("time-service")
                .handler(TimeService),
        )
        .await?;
        // One round trip each: the handlers' subscriptions are in place.
        client.subscribe("web-service/ready", QoS::AtLeastOnce).await?;
        time_service
            .subscribe("time-service/ready", QoS::AtLeastOnce)
            .await?;
        Ok(Connections {
            client,
            readings,
            time_service,
        })
    }

    /// Disconnects both; after the HTTP server has stopped.
    pub async fn stop(self) -> Result<(), Error> {
        self.client.disconnect().await?;
        self.time_service.disconnect().await
    }
}

/// The HTTP service on `listener`, every route over `client`.
pub fn http_server(client: Client, readings: Readings, listener: TcpListener) -> std::io::Result<Server> {
    let client = web::Data::new(client);
    let readings = web::Data::new(readings);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(client.clone())
            .app_data(readings.clone())
            .service(index_page)
            .service(publish_body)
            .service(list_readings)
            .service(rpc_call)
            .service(event_stream)
            .service(health_report)
    })
    .workers(2)
    // Event streams never finish by themselves: on shutdown they get 2 s.
    .shutdown_timeout(2)
    .listen(listener)?
    .run();
    Ok(server)
}

/// MQTT's failures as HTTP answers: the broker's refusals are the
/// caller's fault (400), an unreachable broker is ours (503).
fn failed(err: Error) -> HttpResponse {
    match err {
        Error::InvalidTopic | Error::PacketTooLarge { .. } | Error::PublishRejected(_) => {
            HttpResponse::BadRequest().body(err.to_string())
        }
        Error::Timeout { .. } => HttpResponse::GatewayTimeout().body(err.to_string()),
        _ => HttpResponse::ServiceUnavailable().body(err.to_string()),
    }
}

#[get("/")]
async fn index_page() -> impl HttpResponder {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(PAGE)
}

#[post("/publish/{topic:.*}")]
async fn publish_body(client: web::Data<Client>, topic: web::Path<String>, body: Bytes) -> HttpResponse {
    let topic = topic.into_inner();
    match client.publish(topic.clone(), body).qos(QoS::AtLeastOnce).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "published": topic })),
        Err(err) => failed(err),
    }
}

#[get("/readings")]
async fn list_readings(readings: web::Data<Readings>) -> HttpResponse {
    HttpResponse::Ok().json(readings.all())
}

#[get("/rpc/{service}")]
async fn rpc_call(client: web::Data<Client>, service: web::Path<String>) -> HttpResponse {
    let call = client
        .call(format!("services/{service}"), Bytes::new())
        .qos(QoS::AtLeastOnce)
        .timeout(Duration::from_secs(5));
    match call.await {
        Ok(response) => HttpResponse::Ok().body(response.payload),
        Err(err) => failed(err),
    }
}

/// One message as a Server-Sent Event: its topic and its payload as text.
fn sse_event(msg: &mqttx::Publish) -> Bytes {
    let data = serde_json::json!({
        "topic": &*msg.topic,
        "payload": String::from_utf8_lossy(&msg.payload),
    });
    Bytes::from(format!("event: message\ndata: {data}\n\n"))
}

#[get("/events/{filter:.*}")]
async fn event_stream(client: web::Data<Client>, filter: web::Path<String>) -> HttpResponse {
    // Dropped with the response when the browser goes away: unsubscribes.
    // QoS 0: a browser that falls behind misses messages rather than
    // holding back the connection every route shares.
    let stream = match client
        .stream(filter.into_inner(), QoS::AtMostOnce)
        .buffer(256)
        .await
    {
        Ok(stream) => stream,
        Err(err) => return failed(err),
    };
    // A first comment line tells the browser (and tests) the stream is live.
    let opened = futures_util::stream::once(async {
        Ok::<_, actix_web::Error>(Bytes::from_static(b": subscribed\n\n"))
    });
    let messages = stream.map(|msg| Ok::<_, actix_web::Error>(sse_event(&msg)));
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(opened.chain(messages))
}

/// The connection's state and counters, for a load balancer or a scraper:
/// 200 while connected, 503 otherwise.
#[get("/health")]
async fn health_report(client: web::Data<Client>) -> HttpResponse {
    let state = client.state();
    let (name, attempt) = match state {
        ConnectionState::Connecting => ("connecting", None),
        ConnectionState::Connected => ("connected", None),
        ConnectionState::Reconnecting { attempt } => ("reconnecting", Some(attempt)),
        _ => ("stopped", None),
    };
    let stats = client.stats();
    let body = serde_json::json!({
        "state": name,
        "attempt": attempt,
        "messages_in": stats.messages_in,
        "messages_out": stats.messages_out,
        "reconnects": stats.reconnects,
        "in_flight": stats.in_flight,
        "queued": stats.queued,
        "dropped_qos0": stats.dropped_qos0,
    });
    if state == ConnectionState::Connected {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

const PAGE: &str = r#"<!doctype html>
<html>
<head><meta charset="utf-8"><title>mqttx live</title></head>
<body>
<h1>Live messages</h1>
<p id="status">connecting</p>
<ul id="messages"></ul>
<script>
  const events = new EventSource("/events/sensors/%23");
  events.onopen = () => { document.getElementById("status").textContent = "live"; };
  events.addEventListener("message", (event) => {
    const msg = JSON.parse(event.data);
    const item = document.createElement("li");
    item.textContent = msg.topic + ": " + msg.payload;
    document.getElementById("messages").appendChild(item);
  });
</script>
</body>
</html>
"#;

/// Starts everything and either serves until Ctrl-C (`--serve`) or goes
/// through every route once over HTTP and stops.
#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = mqttx_examples::broker_url();
    println!("broker: {url}");
    let serve = std::env::args().any(|arg| arg == "--serve");
    let connections = Connections::start(&url).await?;
    let listener = TcpListener::bind(if serve { "127.0.0.1:8080" } else { "127.0.0.1:0" })?;
    let address = listener.local_addr()?;
    let server = http_server(connections.client.clone(), connections.readings.clone(), listener)?;
    let handle = server.handle();
    let running = actix_web::rt::spawn(server);
    println!("HTTP on http://{address}");

    if serve {
        actix_web::rt::signal::ctrl_c().await?;
    } else {
        self_check(&format!("http://{address}")).await?;
    }

    // HTTP first: no request is left holding a client that is gone.
    handle.stop(true).await;
    running.await??;
    connections.stop().await?;
    println!("stopped");
    Ok(())
}

/// Every route once, as a user would call them.
async fn self_check(base: &str) -> Result<(), Box<dyn std::error::Error>> {
    let http = awc::Client::default();

    let mut events = http.get(format!("{base}/events/sensors/%23")).send().await?;
    // Wait for the stream's first line: subscribed, so nothing is missed.
    let first = events.next().await.ok_or("no event stream")??;
    assert!(first.starts_with(b": subscribed"));

    let published = http
        .post(format!("{base}/publish/sensors/kitchen/temp"))
        .send_body(r#"{"celsius": 21.5}"#)
        .await?;
    assert!(published.status().is_success(), "{}", published.status());

    let event = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await?
        .ok_or("the event stream ended")??;
    println!("SSE: {}", String::from_utf8_lossy(&event).trim());
    assert!(String::from_utf8_lossy(&event).contains("sensors/kitchen/temp"));

    // The connection hands a message to the streams and the handler in
    // the same turn: once the event is out, the reading is kept.
    let readings: Vec<RoomReading> = http.get(format!("{base}/readings")).send().await?.json().await?;
    println!("readings: {readings:?}");
    assert_eq!(
        readings,
        vec![RoomReading {
            room: "kitchen".into(),
            celsius: 21.5
        }]
    );

    let mut time = http.get(format!("{base}/rpc/time")).send().await?;
    assert!(time.status().is_success(), "{}", time.status());
    println!("rpc time: {}", String::from_utf8_lossy(&time.body().await?));

    let mut health = http.get(format!("{base}/health")).send().await?;
    assert!(health.status().is_success(), "{}", health.status());
    println!("health: {}", String::from_utf8_lossy(&health.body().await?));

    let page = http.get(format!("{base}/")).send().await?.body().await?;
    assert!(String::from_utf8_lossy(&page).contains("EventSource"));
    Ok(())
}
