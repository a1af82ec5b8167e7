//! Topic-routed handlers, as the reference client's "Receiving Messages"
//! section shows them, written with `#[mqtt_handler]`:
//!
//! - `#[connected]` / `#[disconnected]`: the connection's lifecycle;
//! - a named segment: `#[subscribe("sensors/{room}/temp")]` subscribes to
//!   `sensors/+/temp` and hands the method the room as `room: &str`;
//! - a typed payload: `Json<Reading>` decodes JSON into a serde struct, and
//!   a payload that does not decode goes to `#[extract_error]`;
//! - a shared subscription: two workers in the group `workers`
//!   (`$share/workers/jobs/#`), each job handled by exactly one of them, in
//!   an `async fn`.
//!
//! ```text
//! cargo run --example handlers                            # embedded broker
//! MQTT_URL=mqtt://localhost:1883 cargo run --example handlers
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use mqttx::{
    mqtt_handler, Client, ConnAck, ConnectOptions, DisconnectReason, ExtractError, Json, Publish, QoS,
};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::time::{timeout, timeout_at, Instant};

/// How long any step may take before the example fails.
const STEP: Duration = Duration::from_secs(10);
/// How many jobs the dispatcher hands out.
const JOBS: usize = 10;

/// The JSON payload of `sensors/{room}/reading`.
#[derive(Debug, Deserialize)]
struct Reading {
    celsius: f64,
    humidity: u8,
}

/// What the climate handler saw, for `main` to check.
#[derive(Debug, PartialEq)]
enum Seen {
    Connected,
    Temp {
        room: String,
        celsius: String,
    },
    Reading {
        room: String,
        celsius: f64,
        humidity: u8,
    },
    Rejected {
        topic: String,
    },
    Disconnected,
}

/// Room climate: one route per kind of sensor message.
struct Climate(mpsc::UnboundedSender<Seen>);

#[mqtt_handler]
impl Climate {
    #[connected]
    fn on_connected(&mut self, connack: &ConnAck) {
        println!(
            "climate: connected (session present: {})",
            connack.session_present
        );
        let _ = self.0.send(Seen::Connected);
    }

    /// `sensors/+/temp`: `room` is the named segment, `celsius` (not a
    /// segment's name) is the payload as UTF-8.
    #[subscribe("sensors/{room}/temp", qos = 1)]
    fn temp(&mut self, room: &str, celsius: &str) {
        println!("climate: {room} is at {celsius} °C");
        let _ = self.0.send(Seen::Temp {
            room: room.to_owned(),
            celsius: celsius.to_owned(),
        });
    }

    /// `sensors/+/reading` with a JSON payload.
    #[subscribe("sensors/{room}/reading", qos = 1)]
    fn reading(&mut self, room: String, Json(reading): Json<Reading>) {
        println!("climate: {room} reads {reading:?}");
        let _ = self.0.send(Seen::Reading {
            room,
            celsius: reading.celsius,
            humidity: reading.humidity,
        });
    }

    /// A message whose route's parameters it does not fit (here: a reading
    /// that is not the expected JSON). Without this method it would be
    /// logged and dropped.
    #[extract_error]
    fn rejected(&mut self, error: &ExtractError, msg: &Publish) {
        println!("climate: rejected {}: {error}", msg.topic);
        let _ = self.0.send(Seen::Rejected {
            topic: msg.topic.to_string(),
        });
    }

    #[disconnected]
    fn on_disconnected(&mut self, reason: &DisconnectReason) {
        println!("climate: disconnected ({reason})");
        let _ = self.0.send(Seen::Disconnected);
    }
}

/// A member of the shared subscription group `workers`.
struct Worker {
    name: &'static str,
    done: mpsc::UnboundedSender<(&'static str, String)>,
}

#[mqtt_handler]
impl Worker {
    /// Subscribes to `$share/workers/jobs/#`: the broker gives each message
    /// to one member of the group. `{*job}` binds the rest of the topic.
    #[subscribe("$share/workers/jobs/{*job}", qos = 1)]
    async fn job(&mut self, job: String, payload: String) {
        // Some work; later messages wait for it, in order, and the job is
        // acknowledged once this returns.
        tokio::time::sleep(Duration::from_millis(5)).await;
        println!("{}: did {job} ({payload})", self.name);
        let _ = self.done.send((self.name, job));
    }
}

/// One round trip on `client`'s connection. The handler's routes are
/// subscribed right after connecting; once this SUBACK is back, the broker
/// has processed that SUBSCRIBE too, so other clients' messages reach them.
async fn routes_ready(client: &Client) -> Result<(), mqttx::Error> {
    client
        .subscribe("handlers-example/ready", QoS::AtLeastOnce)
        .await?;
    Ok(())
}

/// Waits for the next item, failing after [`STEP`].
async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>, what: &str) -> Result<T, String> {
    timeout(STEP, rx.recv())
        .await
        .map_err(|_| format!("no {what} within {STEP:?}"))?
        .ok_or_else(|| format!("the {what} handler is gone"))
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = mqttx_examples::broker_url();
    println!("broker: {url}");
    let opts = |id: &str| ConnectOptions::from_url(&url).map(|opts| opts.client_id(id));

    // --- Routes with named segments and typed payloads.
    let (tx, mut seen) = mpsc::unbounded_channel();
    let climate = Client::connect(opts("handlers-climate")?.handler(Climate(tx))).await?;
    assert_eq!(next(&mut seen, "climate event").await?, Seen::Connected);
    routes_ready(&climate).await?;

    let sensors = Client::connect(opts("handlers-sensors")?).await?;
    sensors
        .publish("sensors/kitchen/temp", "21.5")
        .qos(QoS::AtLeastOnce)
        .await?;
    sensors
        .publish("sensors/hall/temp", "19.0")
        .qos(QoS::AtLeastOnce)
        .await?;
    sensors
        .publish("sensors/kitchen/reading", r#"{"celsius": 21.5, "humidity": 40}"#)
        .qos(QoS::AtLeastOnce)
        .await?;
    sensors
        .publish("sensors/attic/reading", "not json")
        .qos(QoS::AtLeastOnce)
        .await?;

    // A broker keeps each subscription's order, not necessarily the order
    // across subscriptions: compare as a set.
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(next(&mut seen, "climate event").await?);
    }
    let expected = [
        Seen::Temp {
            room: "kitchen".into(),
            celsius: "21.5".into(),
        },
        Seen::Temp {
            room: "hall".into(),
            celsius: "19.0".into(),
        },
        Seen::Reading {
            room: "kitchen".into(),
            celsius: 21.5,
            humidity: 40,
        },
        Seen::Rejected {
            topic: "sensors/attic/reading".into(),
        },
    ];
    for event in &expected {
        assert!(got.contains(event), "{event:?} missing from {got:?}");
    }
    println!("climate: every message reached its route");

    // --- A shared subscription: two workers, one group.
    let (done, mut finished) = mpsc::unbounded_channel();
    let mut workers = Vec::new();
    for name in ["worker-a", "worker-b"] {
        let handler = Worker {
            name,
            done: done.clone(),
        };
        let worker = Client::connect(opts(&format!("handlers-{name}"))?.handler(handler)).await?;
        routes_ready(&worker).await?;
        workers.push(worker);
    }

    for n in 1..=JOBS {
        sensors
            .publish(format!("jobs/resize/{n}"), format!("photo-{n}.jpg"))
            .qos(QoS::AtLeastOnce)
            .await?;
    }
    let mut handled_by: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for _ in 0..JOBS {
        let (worker, job) = next(&mut finished, "finished job").await?;
        handled_by.entry(job).or_default().push(worker);
    }
    // Anything more would be a job handled twice: give it a moment to show.
    let quiet = Instant::now() + Duration::from_millis(300);
    if let Ok(Some((worker, job))) = timeout_at(quiet, finished.recv()).await {
        return Err(format!("{job} was handled again, by {worker}").into());
    }
    assert_eq!(handled_by.len(), JOBS, "every job handled: {handled_by:?}");
    for (job, by) in &handled_by {
        assert_eq!(by.len(), 1, "{job} handled by exactly one worker, not {by:?}");
    }
    let count = |name| handled_by.values().filter(|by| by[0] == name).count();
    let (a, b) = (count("worker-a"), count("worker-b"));
    println!("workers: {JOBS} jobs, each handled once: worker-a did {a}, worker-b did {b}");
    let embedded = std::env::var("MQTT_URL").map_or(true, |url| url.trim().is_empty());
    if embedded {
        // The embedded broker (rumqttd) hands a group's messages out in turn.
        assert!(a > 0 && b > 0, "both workers got work");
    }

    // --- Stopping: `#[disconnected]` runs last.
    climate.disconnect().await?;
    assert_eq!(next(&mut seen, "climate event").await?, Seen::Disconnected);
    for worker in workers {
        worker.disconnect().await?;
    }
    sensors.disconnect().await?;
    Ok(())
}
