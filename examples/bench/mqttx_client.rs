//! The mqttx side of every scenario.

use std::collections::VecDeque;
use std::future::IntoFuture;
use std::time::{Duration, Instant};

use mqttx::{Client, ConnectOptions, HandlerContext, IoHints, MqttHandler, ProtocolVersion, Publish, QoS};
use tokio::sync::mpsc;

use crate::measure::{percentile, rss_bytes};
use crate::report::Row;
use crate::tally::{payload, settle, share, SharedTally, Tally};
use crate::{pipeline, window, PIPELINE};

const TOPIC: &str = "bench/mqttx";

fn options(port: u16, id: String, version: ProtocolVersion) -> ConnectOptions {
    let opts = ConnectOptions::new("127.0.0.1", id)
        .port(port)
        .protocol_version(version)
        .max_inflight(window())
        .io_hints(io_hints());
    match read_buffer() {
        Some(bytes) => opts.read_buffer(bytes),
        None => opts,
    }
}

/// The I/O tuning under test (`MQTTX_IO_HINTS`): `off`, or the default
/// with the listed switches off (`-read_pacing,-ack_batching`); a
/// `read_buffer=BYTES` in the list sets the read buffer instead.
fn io_hints() -> IoHints {
    let spec = std::env::var("MQTTX_IO_HINTS").unwrap_or_default();
    if spec.is_empty() {
        return IoHints::default();
    }
    if spec == "off" {
        return IoHints::OFF;
    }
    spec.split(',')
        .filter(|switch| !switch.starts_with("read_buffer="))
        .fold(IoHints::default(), |hints, switch| match switch {
            "-read_pacing" => hints.read_pacing(false),
            "-ack_batching" => hints.ack_batching(false),
            "-quick_ack" => hints.quick_ack(false),
            "-write_per_read" => hints.write_per_read(false),
            "-write_per_burst" => hints.write_per_burst(false),
            other => panic!("MQTTX_IO_HINTS: unknown switch {other:?}"),
        })
}

/// The read buffer under test: `read_buffer=BYTES` in `MQTTX_IO_HINTS`;
/// `None` keeps the library's default.
fn read_buffer() -> Option<usize> {
    std::env::var("MQTTX_IO_HINTS")
        .unwrap_or_default()
        .split(',')
        .find_map(|switch| switch.strip_prefix("read_buffer=")?.parse().ok())
}

/// Counts sequence numbers as they arrive.
struct Counter(SharedTally);

impl MqttHandler for Counter {
    fn message(&mut self, msg: &Publish, _ctx: &mut HandlerContext<'_>) {
        self.0.borrow_mut().record(&msg.payload);
    }
}

/// Publishes `seqs` keeping up to PIPELINE requests outstanding, the way an
/// application that does not wait for each acknowledgement would.
async fn publish_all(client: &Client, topic: &str, qos: QoS, seqs: impl Iterator<Item = u32>) {
    let mut pending = VecDeque::with_capacity(pipeline());
    for n in seqs {
        pending.push_back(
            client
                .publish(topic.to_owned(), payload(n))
                .qos(qos)
                .into_future(),
        );
        if pending.len() >= pipeline() {
            if let Some(oldest) = pending.pop_front() {
                let _ = oldest.await;
            }
        }
    }
    for rest in pending {
        let _ = rest.await;
    }
}

pub async fn throughput(port: u16, version: ProtocolVersion, qos: QoS, count: u32) -> Row {
    let publisher = options(port, format!("mqttx-pub-{version:?}"), version);
    publish_through(
        port,
        version,
        qos,
        count,
        format!("mqttx-sub-{version:?}"),
        publisher,
    )
    .await
}

/// `count` publishes from a client with `publisher` options to a
/// subscriber `sub_id`, counted as they arrive.
async fn publish_through(
    port: u16,
    version: ProtocolVersion,
    qos: QoS,
    count: u32,
    sub_id: String,
    publisher: ConnectOptions,
) -> Row {
    let tally = Tally::shared(count);
    let sub_opts = options(port, sub_id, version).handler(Counter(tally.clone()));
    let sub = Client::connect(sub_opts).await.expect("subscriber connects");
    sub.subscribe(TOPIC, qos).await.expect("subscribed");
    let publisher = Client::connect(publisher).await.expect("connects");

    let start = Instant::now();
    publish_all(&publisher, TOPIC, qos, 0..count).await;
    let outcome = settle(&tally, start).await;
    let _ = publisher.disconnect().await;
    let _ = sub.disconnect().await;
    Row {
        messages: u64::from(count),
        elapsed: outcome.elapsed,
        lost: outcome.lost,
        duplicates: outcome.duplicates,
        ..Row::default()
    }
}

/// Broker-less, row (h): receives `count` messages that the stand-in
/// writes as fast as the client reads them, timed from the subscribe.
pub async fn firehose(port: u16, version: ProtocolVersion, qos: QoS, count: u32) -> Row {
    let tally = Tally::shared(count);
    let opts = options(port, format!("mqttx-firehose-{version:?}"), version).handler(Counter(tally.clone()));
    let client = Client::connect(opts).await.expect("connects to the stand-in");
    let start = Instant::now();
    client
        .subscribe(crate::standin::TOPIC, qos)
        .await
        .expect("subscribed");
    let outcome = settle(&tally, start).await;
    let _ = client.disconnect().await;
    Row {
        messages: u64::from(count),
        elapsed: outcome.elapsed,
        lost: outcome.lost,
        duplicates: outcome.duplicates,
        ..Row::default()
    }
}

/// Broker-less, row (i): publishes `count` messages to a stand-in that
/// takes them at once, timed until the DISCONNECT is written after them
/// (so every message has left the client; QoS 1/2 ones are acknowledged).
pub async fn sink(port: u16, version: ProtocolVersion, qos: QoS, count: u32) -> Row {
    let opts = options(port, format!("mqttx-sink-{version:?}"), version);
    let client = Client::connect(opts).await.expect("connects to the stand-in");
    let start = Instant::now();
    publish_all(&client, TOPIC, qos, 0..count).await;
    let _ = client.disconnect().await;
    Row {
        messages: u64::from(count),
        elapsed: start.elapsed(),
        ..Row::default()
    }
}

/// Row (i), detached: as [`sink`], publishing with
/// [`detach`](mqttx::client::PublishBuilder::detach) — no reply channel —
/// and awaiting one publish in each [`PIPELINE`], which keeps the queue
/// as short as the awaited form's.
pub async fn sink_detached(port: u16, version: ProtocolVersion, qos: QoS, count: u32) -> Row {
    let opts = options(port, format!("mqttx-sink-detached-{version:?}"), version);
    let client = Client::connect(opts).await.expect("connects to the stand-in");
    let topic = mqttx::ByteString::from_static(TOPIC);
    let start = Instant::now();
    for n in 0..count {
        let publish = client.publish(topic.clone(), payload(n)).qos(qos);
        if (n as usize + 1).is_multiple_of(PIPELINE) || n + 1 == count {
            let _ = publish.await;
        } else if publish.detach().is_err() {
            break;
        }
    }
    let _ = client.disconnect().await;
    Row {
        messages: u64::from(count),
        elapsed: start.elapsed(),
        ..Row::default()
    }
}

/// Row (g): QoS 1/2 publish throughput with a session store (`none`,
/// `memory`, `file`, or `redis` at `redis_url`), MQTT 5, everything else as
/// row (a). Each batch is recorded before its packets go out.
pub async fn store_throughput(port: u16, qos: QoS, count: u32, kind: &str, redis_url: &str) -> Row {
    let version = ProtocolVersion::V5;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let opts = options(port, format!("mqttx-store-pub-{kind}"), version).clean_session(false);
    let publisher = match kind {
        "memory" => opts.session_store(mqttx::store::MemoryStore::new()),
        "file" => opts.session_store(mqttx::store::FileStore::open(dir.path()).expect("a file store")),
        "redis" => opts.session_store(mqttx::store::RedisStore::connect(redis_url).await.expect("redis")),
        _ => opts,
    };
    let sub_id = format!("mqttx-store-sub-{kind}");
    publish_through(port, version, qos, count, sub_id, publisher).await
}

/// Answers every ping with a pong carrying the same payload.
struct Echo(QoS);

impl MqttHandler for Echo {
    fn message(&mut self, msg: &Publish, ctx: &mut HandlerContext<'_>) {
        ctx.publish(Publish::new("bench/mqttx/pong", msg.payload.clone()).qos(self.0));
    }
}

/// Answers each request with its own payload (MQTT 5 request/response).
struct Responder;

impl MqttHandler for Responder {
    fn message(&mut self, msg: &Publish, ctx: &mut HandlerContext<'_>) {
        ctx.respond(msg, msg.payload.clone());
    }
}

/// Round trips of `Client::call` against a responder, each awaited before
/// the next, as the QoS 1 round trip row measures publish and pong.
pub async fn call_latency(port: u16, n: u32) -> Row {
    let version = ProtocolVersion::V5;
    let responder = Client::connect(options(port, "mqttx-responder".into(), version).handler(Responder))
        .await
        .expect("responder connects");
    responder
        .subscribe("bench/mqttx/rpc", QoS::AtLeastOnce)
        .await
        .expect("subscribed");
    let caller = Client::connect(options(port, "mqttx-caller".into(), version))
        .await
        .expect("caller connects");
    let row = round_trips(n, async |i| {
        caller
            .call("bench/mqttx/rpc", payload(i))
            .qos(QoS::AtLeastOnce)
            .timeout(Duration::from_secs(5))
            .await
            .is_ok()
    })
    .await;
    let _ = caller.disconnect().await;
    let _ = responder.disconnect().await;
    row
}

/// Times `n` round trips, one after the other, each `trip(i)` resolving
/// to whether it came back; stops at the first lost one or the budget.
pub async fn round_trips(n: u32, mut trip: impl AsyncFnMut(u32) -> bool) -> Row {
    let mut samples = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for i in 0..n {
        if start.elapsed() > crate::LATENCY_BUDGET {
            break;
        }
        let sent = Instant::now();
        if !trip(i).await {
            break;
        }
        samples.push(sent.elapsed());
    }
    latency_row(samples, n, start.elapsed())
}

/// Hands pongs to the measuring loop.
struct Forward(mpsc::UnboundedSender<()>);

impl MqttHandler for Forward {
    fn message(&mut self, _msg: &Publish, _ctx: &mut HandlerContext<'_>) {
        let _ = self.0.send(());
    }
}

pub async fn latency(port: u16, version: ProtocolVersion, qos: QoS, n: u32) -> Row {
    let echo = Client::connect(options(port, format!("mqttx-echo-{version:?}"), version).handler(Echo(qos)))
        .await
        .expect("echo connects");
    echo.subscribe("bench/mqttx/ping", qos).await.expect("subscribed");
    let (tx, rx) = mpsc::unbounded_channel();
    let pinger =
        Client::connect(options(port, format!("mqttx-ping-{version:?}"), version).handler(Forward(tx)))
            .await
            .expect("pinger connects");
    pinger
        .subscribe("bench/mqttx/pong", qos)
        .await
        .expect("subscribed");

    // Uncontended: the trips run one after the other.
    let rx = tokio::sync::Mutex::new(rx);
    let row = round_trips(n, |i| {
        // The request goes out now; its PUBACK is not what we wait for.
        let publish = pinger
            .publish("bench/mqttx/ping", payload(i))
            .qos(qos)
            .into_future();
        actix::spawn(async move {
            let _ = publish.await;
        });
        let rx = &rx;
        async move {
            let mut rx = rx.lock().await;
            tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .is_ok()
        }
    })
    .await;
    let _ = pinger.disconnect().await;
    let _ = echo.disconnect().await;
    row
}

pub fn latency_row(mut samples: Vec<Duration>, n: u32, elapsed: Duration) -> Row {
    samples.sort();
    let note = if (samples.len() as u32) < n && elapsed >= crate::LATENCY_BUDGET {
        format!(
            "stopped after {} round trips ({:?} budget)",
            samples.len(),
            crate::LATENCY_BUDGET
        )
    } else {
        String::new()
    };
    let lost = if note.is_empty() {
        n - samples.len() as u32
    } else {
        0
    };
    Row {
        note,
        messages: 2 * samples.len() as u64,
        elapsed,
        lost,
        p50: Some(percentile(&samples, 0.5)),
        p99: Some(percentile(&samples, 0.99)),
        max: samples.last().copied(),
        ..Row::default()
    }
}

pub async fn fan_in(port: u16, version: ProtocolVersion, connections: u32, count: u32) -> Row {
    let tally = Tally::shared(count);
    let sub_opts =
        options(port, format!("mqttx-fanin-sub-{version:?}"), version).handler(Counter(tally.clone()));
    let sub = Client::connect(sub_opts).await.expect("subscriber connects");
    sub.subscribe("bench/mqttx/fanin/+", QoS::AtLeastOnce)
        .await
        .expect("subscribed");
    let rss_before = rss_bytes();
    let mut publishers = Vec::new();
    for c in 0..connections {
        let id = format!("mqttx-fanin-{version:?}-{c}");
        publishers.push(
            Client::connect(options(port, id, version))
                .await
                .expect("publisher connects"),
        );
    }
    let start = Instant::now();
    let tasks: Vec<_> = publishers
        .iter()
        .enumerate()
        .map(|(c, client)| {
            let client = client.clone();
            let c = c as u32;
            let seqs = share(c, connections, count);
            actix::spawn(async move {
                let topic = format!("bench/mqttx/fanin/{c}");
                publish_all(&client, &topic, QoS::AtLeastOnce, seqs).await;
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let outcome = settle(&tally, start).await;
    let rss = rss_bytes().saturating_sub(rss_before);
    for client in &publishers {
        let _ = client.disconnect().await;
    }
    let _ = sub.disconnect().await;
    Row {
        messages: u64::from(count),
        elapsed: outcome.elapsed,
        lost: outcome.lost,
        duplicates: outcome.duplicates,
        note: format!("{:.1} MB resident for {connections} publishers", rss as f64 / 1e6),
        ..Row::default()
    }
}

pub async fn scale(port: u16, version: ProtocolVersion, n: u32) -> Row {
    let rss_before = rss_bytes();
    let start = Instant::now();
    // At most 256 handshakes in flight, each slot refilled as soon as its
    // handshake ends. Batches of 256 awaited one after another made every
    // batch wait out its slowest handshake (a SYN-ACK that the broker's
    // full accept queue retransmits a second later): 20-30 s for 10,000.
    // All 10,000 at once put their handshake buffers in use together, and
    // the heap's high-water mark then shows in the resident figure.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(256));
    let (done, mut results) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..n {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let opts = options(port, format!("mqttx-idle-{version:?}-{i}"), version);
        let done = done.clone();
        actix::spawn(async move {
            let _ = done.send(Client::connect(opts).await);
            drop(slot);
        });
    }
    drop(done);
    let mut clients = Vec::with_capacity(n as usize);
    while let Some(result) = results.recv().await {
        if let Ok(client) = result {
            clients.push(client);
        }
    }
    let elapsed = start.elapsed();
    let connected = clients.len() as u32;
    let rss = rss_bytes().saturating_sub(rss_before);
    let row = Row {
        elapsed,
        lost: n - connected,
        rss_per_connection: Some(rss as f64 / f64::from(connected.max(1))),
        note: format!("{connected} connections"),
        ..Row::default()
    };
    for client in &clients {
        let _ = client.disconnect().await;
    }
    row
}
