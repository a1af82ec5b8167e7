//! `#[mqtt_handler]` against a real mosquitto: routing, extractors, async
//! methods, lifecycle methods.

use std::time::Duration;

use bytes::Bytes;
use mqttx::{
    mqtt_handler, Client, ConnAck, DisconnectReason, ExtractError, ExtractErrorKind, HandlerContext, Json,
    ProtocolVersion, Publish, QoS, Responder,
};
use mqttx_tests::support::{options, VERSIONS, WAIT};
use mqttx_tests::tap::Tap;
use mqttx_tests::Broker;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};

/// What a test handler saw, as text, in order.
#[derive(Clone)]
struct Report(mpsc::UnboundedSender<String>);

struct Seen(mpsc::UnboundedReceiver<String>);

fn report() -> (Report, Seen) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Report(tx), Seen(rx))
}

impl Report {
    fn say(&self, line: impl Into<String>) {
        let _ = self.0.send(line.into());
    }
}

impl Seen {
    async fn next(&mut self) -> String {
        match tokio::time::timeout(WAIT, self.0.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => panic!("the handler is gone"),
            Err(_) => panic!("nothing reported within {WAIT:?}"),
        }
    }

    /// Waits for `line`, returning what came before it.
    async fn until(&mut self, line: &str) -> Vec<String> {
        let mut before = Vec::new();
        loop {
            let next = self.next().await;
            if next == line {
                return before;
            }
            before.push(next);
        }
    }

    /// Nothing more within `window` (for asserting something did not happen).
    async fn quiet(&mut self, window: Duration) -> Vec<String> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(line)) = tokio::time::timeout_at(deadline, self.0.recv()).await {
            seen.push(line);
        }
        seen
    }
}

// The handler of DESIGN.md, with a report so the test sees what it does.
struct Sensors {
    readings: u64,
    report: Report,
}

#[mqtt_handler]
impl Sensors {
    #[subscribe("sensors/{room}/temp", qos = 1)]
    fn on_temp(&mut self, room: &str, msg: &Publish) {
        self.readings += 1;
        let payload = msg.payload_str().unwrap_or("?");
        self.report.say(format!("{room}={payload} #{}", self.readings));
    }

    #[connected]
    fn on_connected(&mut self, connack: &ConnAck) {
        self.report
            .say(format!("connected session_present={}", connack.session_present));
    }

    #[disconnected]
    fn on_disconnected(&mut self, reason: &DisconnectReason) {
        self.report
            .say(format!("disconnected will_reconnect={}", reason.will_reconnect()));
    }
}

#[actix_rt::test]
async fn the_design_sample_routes_named_segments_and_keeps_state() {
    let mut broker = Broker::builder().persistence(true).start().unwrap();
    for version in VERSIONS {
        let (report, mut seen) = report();
        let handler = Sensors { readings: 0, report };
        let client = Client::connect(options(broker.port(), "sensors", version).handler(handler))
            .await
            .unwrap();
        assert_eq!(seen.next().await, "connected session_present=false");
        let publisher = Client::connect(options(broker.port(), "pub", version))
            .await
            .unwrap();
        // The subscription is made by the connection itself, after CONNACK:
        // publish until the first reading arrives.
        let first = tokio::time::timeout(WAIT, async {
            loop {
                publisher
                    .publish("sensors/kitchen/temp", "21")
                    .qos(QoS::AtLeastOnce)
                    .await
                    .unwrap();
                if let Ok(Some(line)) = tokio::time::timeout(Duration::from_millis(200), seen.0.recv()).await
                {
                    break line;
                }
            }
        })
        .await
        .expect("the handler's subscription is made on connect");
        assert_eq!(first, "kitchen=21 #1");
        // Drain readings of retries that crossed the first one.
        let mut count = 1;
        for line in seen.quiet(Duration::from_millis(300)).await {
            assert!(line.starts_with("kitchen=21"), "{line}");
            count += 1;
        }
        publisher
            .publish("sensors/hall/temp", "19")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        publisher
            .publish("sensors/hall/humidity", "40")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        publisher
            .publish("sensors/a/b/temp", "0")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        publisher
            .publish("sensors/cellar/temp", "12")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        assert_eq!(seen.next().await, format!("hall=19 #{}", count + 1));
        assert_eq!(
            seen.next().await,
            format!("cellar=12 #{}", count + 2),
            "topics the filter does not match are not delivered"
        );

        // A broker restart: lifecycle methods run, the state is kept and
        // the subscription is still there.
        broker.stop().unwrap();
        assert_eq!(seen.next().await, "disconnected will_reconnect=true");
        broker.start_again().unwrap();
        assert!(seen.next().await.starts_with("connected"));
        let publisher = Client::connect(options(broker.port(), "pub2", version))
            .await
            .unwrap();
        publisher
            .publish("sensors/attic/temp", "30")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        assert_eq!(seen.next().await, format!("attic=30 #{}", count + 3));

        client.disconnect().await.unwrap();
        assert_eq!(seen.next().await, "disconnected will_reconnect=false");
        publisher.disconnect().await.unwrap();
    }
}

struct Overlapping {
    report: Report,
}

#[mqtt_handler]
impl Overlapping {
    #[subscribe("routes/a/b", qos = 1)]
    fn exact(&mut self, msg: &Publish) {
        self.report.say(format!("exact {}", msg.topic));
    }

    #[subscribe("routes/+/b", qos = 1)]
    fn one_level(&mut self, msg: &Publish) {
        self.report.say(format!("one_level {}", msg.topic));
    }

    #[subscribe("routes/#", qos = 1)]
    fn rest(&mut self, msg: &Publish) {
        self.report.say(format!("rest {}", msg.topic));
    }

    #[subscribe("routes/x/{*tail}", qos = 1)]
    fn tail(&mut self, tail: &str) {
        self.report.say(format!("tail {tail}"));
    }

    #[message]
    fn other(&mut self, msg: &Publish) {
        self.report.say(format!("catch-all {}", msg.topic));
    }
}

#[actix_rt::test]
async fn the_first_matching_route_wins_and_the_rest_goes_to_the_catch_all() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (report, mut seen) = report();
        let client =
            Client::connect(options(broker.port(), "routes", version).handler(Overlapping { report }))
                .await
                .unwrap();
        // A subscription made by hand: no route matches its messages.
        client.subscribe("elsewhere/#", QoS::AtLeastOnce).await.unwrap();
        let publisher = Client::connect(options(broker.port(), "pub", version))
            .await
            .unwrap();
        wait_for_route(&publisher, &mut seen, "routes/ready", "rest routes/ready").await;

        for topic in [
            "routes/a/b",
            "routes/z/b",
            "routes/a/c",
            "routes",
            "routes/x/1/2",
            "elsewhere/q",
        ] {
            publisher.publish(topic, "").qos(QoS::AtLeastOnce).await.unwrap();
        }
        publisher
            .publish("routes/end", "")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        let mut lines = seen.until("rest routes/end").await;
        match version {
            // One copy per message: it goes to the first route that matches.
            ProtocolVersion::V311 => assert_eq!(
                lines,
                [
                    "exact routes/a/b",
                    "one_level routes/z/b",
                    "rest routes/a/c",
                    "rest routes",
                    "rest routes/x/1/2",
                    "catch-all elsewhere/q",
                ]
            ),
            // mosquitto sends one copy per matching subscription, each
            // naming its subscription: every matching route gets it once.
            ProtocolVersion::V5 => {
                lines.sort();
                assert_eq!(
                    lines,
                    [
                        "catch-all elsewhere/q",
                        "exact routes/a/b",
                        "one_level routes/a/b",
                        "one_level routes/z/b",
                        "rest routes",
                        "rest routes/a/b",
                        "rest routes/a/c",
                        "rest routes/x/1/2",
                        "rest routes/z/b",
                        "tail 1/2",
                    ]
                );
            }
        }
        publisher.disconnect().await.unwrap();
        client.disconnect().await.unwrap();
    }
}

/// Publishes `topic` until the handler reports `line`: the handler's
/// subscriptions are made after CONNACK, asynchronously.
async fn wait_for_route(publisher: &Client, seen: &mut Seen, topic: &str, line: &str) {
    tokio::time::timeout(WAIT, async {
        loop {
            publisher.publish(topic, "").qos(QoS::AtLeastOnce).await.unwrap();
            if let Ok(Some(got)) = tokio::time::timeout(Duration::from_millis(200), seen.0.recv()).await {
                if got == line {
                    break;
                }
            }
        }
    })
    .await
    .expect("the handler's routes are subscribed");
    // Copies of the probe that crossed the first one.
    seen.quiet(Duration::from_millis(300)).await;
}

#[derive(Deserialize)]
struct Reading {
    celsius: f64,
}

struct Extractors {
    report: Report,
}

#[mqtt_handler]
impl Extractors {
    #[subscribe("ex/json/{room}")]
    fn json(&mut self, room: String, Json(reading): Json<Reading>) {
        self.report.say(format!("json {room} {}", reading.celsius));
    }

    #[subscribe("ex/floor/{level}/{*rest}")]
    fn parsed(&mut self, level: i32, rest: &str, raw: &[u8], bytes: Bytes) {
        assert_eq!(raw, &bytes[..]);
        self.report.say(format!("parsed {level} [{rest}] {}", raw.len()));
    }

    #[subscribe("ex/text")]
    fn text(&mut self, text: &str) {
        self.report.say(format!("text {text}"));
    }

    #[subscribe("$share/workers/ex/shared/{id}")]
    fn shared(&mut self, id: u64, msg: &Publish) {
        self.report.say(format!("shared {id} {}", msg.topic));
    }

    #[extract_error]
    fn rejected(&mut self, error: &ExtractError, msg: &Publish) {
        let kind = match error.kind() {
            ExtractErrorKind::Segment { value, .. } => format!("segment {value:?}"),
            ExtractErrorKind::Utf8(_) => "utf8".to_owned(),
            ExtractErrorKind::Json(_) => "json".to_owned(),
            other => format!("{other:?}"),
        };
        self.report.say(format!(
            "rejected {} {} {kind} on {}",
            error.route(),
            error.parameter(),
            msg.topic
        ));
    }
}

#[actix_rt::test]
async fn extractors_take_segments_payloads_and_json_and_reject_what_does_not_fit() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (report, mut seen) = report();
        let client = Client::connect(options(broker.port(), "ex", version).handler(Extractors { report }))
            .await
            .unwrap();
        let publisher = Client::connect(options(broker.port(), "pub", version))
            .await
            .unwrap();
        wait_for_route(&publisher, &mut seen, "ex/text", "text ").await;

        let sends: [(&str, &[u8]); 11] = [
            ("ex/json/kitchen", br#"{"celsius": 21.5}"#),
            ("ex/json/kitchen", b"not json"),
            ("ex/json/hall", br#"{"kelvin": 1}"#),
            ("ex/floor/-2/a/b/c", b"xyz"),
            ("ex/floor/3", b""),
            ("ex/floor/three/a", b"1"),
            ("ex/text", "héllo".as_bytes()),
            ("ex/text", &[0xff, 0xfe]),
            ("ex/shared/42", b""),
            ("ex/shared/x", b""),
            ("ex/text", b"end"),
        ];
        for (topic, payload) in sends {
            publisher
                .publish(topic, payload.to_vec())
                .qos(QoS::AtLeastOnce)
                .await
                .unwrap();
        }
        let lines = seen.until("text end").await;
        assert_eq!(
            lines,
            [
                "json kitchen 21.5",
                "rejected json reading json on ex/json/kitchen",
                "rejected json reading json on ex/json/hall",
                "parsed -2 [a/b/c] 3",
                "parsed 3 [] 0",
                "rejected parsed level segment \"three\" on ex/floor/three/a",
                "text héllo",
                "rejected text text utf8 on ex/text",
                "shared 42 ex/shared/42",
                "rejected shared id segment \"x\" on ex/shared/x",
            ],
            "{version:?}"
        );
        publisher.disconnect().await.unwrap();
        client.disconnect().await.unwrap();
    }
}

/// Async methods that take varying time, and sync ones in between.
struct Ordered {
    report: Report,
}

#[mqtt_handler]
impl Ordered {
    #[subscribe("order/slow", qos = 1)]
    async fn slow(&mut self, n: &str) {
        // Later messages must wait for this one, however long it takes.
        let delay = n.parse::<u64>().unwrap_or(0) % 4;
        tokio::time::sleep(Duration::from_millis(delay * 15)).await;
        self.report.say(format!("slow {n}"));
    }

    #[subscribe("order/fast", qos = 1)]
    fn fast(&mut self, n: &str) {
        self.report.say(format!("fast {n}"));
    }

    #[subscribe("order/fail", qos = 1)]
    async fn fail(&mut self, n: &str) -> Result<(), String> {
        self.report.say(format!("fail {n}"));
        Err(format!("{n} failed"))
    }

    #[subscribe("order/panic", qos = 1)]
    async fn explode(&mut self, n: &str) {
        self.report.say(format!("panic {n}"));
        tokio::task::yield_now().await;
        panic!("handler panic {n}");
    }
}

#[actix_rt::test]
async fn async_methods_see_messages_in_arrival_order() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (report, mut seen) = report();
        let client = Client::connect(options(broker.port(), "order", version).handler(Ordered { report }))
            .await
            .unwrap();
        let publisher = Client::connect(options(broker.port(), "pub", version))
            .await
            .unwrap();
        wait_for_route(&publisher, &mut seen, "order/fast", "fast ").await;

        let mut expected = Vec::new();
        for n in 0..40 {
            let route = ["slow", "fast", "slow", "fail", "slow", "panic"][n % 6];
            publisher
                .publish(format!("order/{route}"), n.to_string())
                .qos(QoS::AtLeastOnce)
                .await
                .unwrap();
            expected.push(format!("{route} {n}"));
        }
        publisher
            .publish("order/fast", "end")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        assert_eq!(
            seen.until("fast end").await,
            expected,
            "{version:?}: in order, past errors and panics"
        );
        publisher.disconnect().await.unwrap();
        client.disconnect().await.unwrap();
    }
}

/// An async method that holds its first message until the test opens a gate.
struct Gated {
    report: Report,
    gate: Option<oneshot::Receiver<()>>,
}

#[mqtt_handler]
impl Gated {
    #[subscribe("gated/+", qos = 1)]
    async fn wait(&mut self, msg: &Publish) {
        self.report.say(format!("start {}", msg.topic));
        if let Some(gate) = self.gate.take() {
            let _ = gate.await;
        }
        self.report.say(format!("done {}", msg.topic));
    }
}

#[actix_rt::test]
async fn a_busy_async_method_does_not_stall_the_connection() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let tap = Tap::start(broker.port(), version).await.unwrap();
        let (report, mut seen) = report();
        let (open, gate) = oneshot::channel();
        let handler = Gated {
            report,
            gate: Some(gate),
        };
        let opts = options(tap.port(), "gated", version)
            .keepalive(Duration::from_secs(1))
            .handler(handler);
        let client = Client::connect(opts).await.unwrap();
        let publisher = Client::connect(options(broker.port(), "pub", version))
            .await
            .unwrap();
        // The first message holds the handler until the gate opens.
        tokio::time::timeout(WAIT, async {
            loop {
                publisher
                    .publish("gated/1", "")
                    .qos(QoS::AtLeastOnce)
                    .await
                    .unwrap();
                if let Ok(Some(line)) = tokio::time::timeout(Duration::from_millis(200), seen.0.recv()).await
                {
                    assert_eq!(line, "start gated/1");
                    break;
                }
            }
        })
        .await
        .expect("the route is subscribed");
        let acks_then = tap.stats().client_acks;
        let pings_then = tap.stats().client_pings;
        let publishes_then = tap.stats().broker_publishes;
        publisher
            .publish("gated/2", "")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();

        // Meanwhile the connection keeps reading and keeps itself alive:
        // gated/2 arrives, three keep-alive intervals pass with PINGREQs out,
        // and nothing is acknowledged before the handler is done with it.
        let deadline = tokio::time::Instant::now() + WAIT;
        while tap.stats().client_pings < pings_then + 3 || tap.stats().broker_publishes < publishes_then + 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{version:?}: no PINGREQs or gated/2 not read while the handler is busy: {:?}",
                tap.stats()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            tap.stats().client_acks,
            acks_then,
            "acknowledged before being handled"
        );
        assert!(
            seen.quiet(Duration::from_millis(100)).await.is_empty(),
            "gated/2 waits behind gated/1"
        );

        open.send(()).unwrap();
        let lines = seen.until("done gated/2").await;
        assert_eq!(
            lines.first().map(String::as_str),
            Some("done gated/1"),
            "{lines:?}"
        );
        // Both are acknowledged once handled.
        let deadline = tokio::time::Instant::now() + WAIT;
        while tap.stats().client_acks < acks_then + 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{version:?}: {:?}",
                tap.stats()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            lines.last().map(String::as_str),
            Some("start gated/2"),
            "{lines:?}"
        );
        publisher.disconnect().await.unwrap();
        client.disconnect().await.unwrap();
    }
}

struct Answers;

#[mqtt_handler]
impl Answers {
    #[subscribe("rpc/sync/double", qos = 1)]
    fn double(&mut self, msg: &Publish, ctx: &mut HandlerContext<'_>) {
        let value: i64 = msg.payload_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        ctx.respond(msg, (value * 2).to_string());
    }

    #[subscribe("rpc/async/upper", qos = 1)]
    async fn upper(&mut self, text: String, responder: Responder) {
        tokio::task::yield_now().await;
        responder.respond(text.to_uppercase()).await.unwrap();
    }
}

#[actix_rt::test]
async fn handlers_answer_requests() {
    let broker = Broker::start().unwrap();
    let version = ProtocolVersion::V5;
    let _service = Client::connect(options(broker.port(), "service", version).handler(Answers))
        .await
        .unwrap();
    let (report, mut seen) = report();
    let requester = Client::connect(options(broker.port(), "requester", version).handler(Replies { report }))
        .await
        .unwrap();
    requester.subscribe("replies/#", QoS::AtLeastOnce).await.unwrap();
    let ask = |topic: &'static str, payload: &'static str, id: &'static str| {
        requester
            .publish(topic, payload)
            .qos(QoS::AtLeastOnce)
            .response_topic("replies/me")
            .correlation_data(id)
            .into_future()
    };
    use std::future::IntoFuture;
    let answered = tokio::time::timeout(WAIT, async {
        loop {
            ask("rpc/sync/double", "21", "a").await.unwrap();
            if let Ok(Some(line)) = tokio::time::timeout(Duration::from_millis(200), seen.0.recv()).await {
                break line;
            }
        }
    })
    .await
    .expect("the service answers");
    assert_eq!(answered, "a=42");
    seen.quiet(Duration::from_millis(300)).await;
    ask("rpc/async/upper", "shout", "b").await.unwrap();
    assert_eq!(seen.next().await, "b=SHOUT");
}

struct Replies {
    report: Report,
}

#[mqtt_handler]
impl Replies {
    #[message]
    fn reply(&mut self, msg: &Publish, body: &str) {
        let id = msg
            .properties
            .correlation_data
            .as_ref()
            .map(|d| String::from_utf8_lossy(d).into_owned())
            .unwrap_or_default();
        self.report.say(format!("{id}={body}"));
    }
}

struct SharedAndPlain {
    report: Report,
}

#[mqtt_handler]
impl SharedAndPlain {
    #[subscribe("ids/#", qos = 1)]
    fn plain(&mut self, msg: &Publish) {
        self.report.say(format!("plain {}", msg.topic));
    }

    #[subscribe("$share/g/ids/+", qos = 1)]
    fn shared(&mut self, msg: &Publish) {
        self.report.say(format!("shared {}", msg.topic));
    }
}

/// A shared and a plain subscription that both match: the broker sends a
/// copy for each. On MQTT 5 each copy names its subscription, and goes to
/// that route; on 3.1.1 both go to the first route that matches.
#[actix_rt::test]
async fn subscription_identifiers_route_each_copy_to_its_subscription() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (report, mut seen) = report();
        let client =
            Client::connect(options(broker.port(), "ids", version).handler(SharedAndPlain { report }))
                .await
                .unwrap();
        let publisher = Client::connect(options(broker.port(), "pub", version))
            .await
            .unwrap();
        wait_for_route(&publisher, &mut seen, "ids/x/y", "plain ids/x/y").await;
        publisher
            .publish("ids/1", "")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        publisher
            .publish("ids/end/x", "")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        let mut lines = seen.until("plain ids/end/x").await;
        lines.sort();
        let expected: &[&str] = match version {
            ProtocolVersion::V5 => &["plain ids/1", "shared ids/1"],
            // mosquitto sends 3.1.1 clients one copy.
            ProtocolVersion::V311 => &["plain ids/1"],
        };
        assert_eq!(lines, expected, "{version:?}");
        publisher.disconnect().await.unwrap();
        client.disconnect().await.unwrap();
    }
}

/// An async method slow enough that messages wait behind it.
struct Slow {
    report: Report,
}

#[mqtt_handler]
impl Slow {
    #[subscribe("slow/+", qos = 1)]
    async fn work(&mut self, msg: &Publish) {
        self.report.say(format!("start {}", msg.topic));
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.report.say(format!("done {}", msg.topic));
    }

    #[connected]
    async fn up(&mut self, connack: &ConnAck, client: Client) {
        tokio::task::yield_now().await;
        self.report.say(format!(
            "connected {} {}",
            client.client_id(),
            connack.session_present
        ));
    }

    #[disconnected]
    fn down(&mut self, reason: &DisconnectReason) {
        self.report
            .say(format!("disconnected will_reconnect={}", reason.will_reconnect()));
    }
}

#[actix_rt::test]
async fn disconnect_lets_the_handler_finish_what_it_has() {
    let broker = Broker::start().unwrap();
    let version = ProtocolVersion::V5;
    let tap = Tap::start(broker.port(), version).await.unwrap();
    let (report, mut seen) = report();
    let client = Client::connect(options(tap.port(), "slow", version).handler(Slow { report }))
        .await
        .unwrap();
    assert_eq!(
        seen.next().await,
        "connected slow-v5 false",
        "an async #[connected]"
    );
    let publisher = Client::connect(options(broker.port(), "pub", version))
        .await
        .unwrap();
    wait_for_route(&publisher, &mut seen, "slow/probe", "start slow/probe").await;
    let acks_before = tap.stats().client_acks;
    let publishes_before = tap.stats().broker_publishes;
    for n in 0..5 {
        publisher
            .publish(format!("slow/{n}"), "")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
    }
    // The first is being worked on when the client disconnects; the rest
    // are on their way or waiting behind it, and none is acknowledged yet.
    seen.until("start slow/0").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while tap.stats().broker_publishes < publishes_before + 5 {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", tap.stats());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        tap.stats().client_acks,
        acks_before,
        "nothing acknowledged before it is handled"
    );
    client.disconnect().await.unwrap();
    let mut lines = Vec::new();
    while let Ok(Some(line)) = tokio::time::timeout(Duration::from_millis(10), seen.0.recv()).await {
        lines.push(line);
    }
    // Every message read before the DISCONNECT went out is handled, in
    // order, before disconnect() resolves and before #[disconnected]; one
    // still in flight may miss the DISCONNECT and stays with the broker.
    let handled = lines.iter().filter(|l| l.starts_with("done ")).count();
    assert!(handled >= 1, "{lines:?}");
    let expected: Vec<String> = std::iter::once("done slow/0".to_owned())
        .chain((1..handled).flat_map(|n| [format!("start slow/{n}"), format!("done slow/{n}")]))
        .chain(std::iter::once("disconnected will_reconnect=false".to_owned()))
        .collect();
    assert_eq!(lines, expected, "finished before disconnect() resolved");
    // Each handled message was acknowledged, in the writes before the
    // DISCONNECT; none that was not handled.
    let deadline = tokio::time::Instant::now() + WAIT;
    while tap.stats().client_acks < acks_before + handled as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not acknowledged: {:?}",
            tap.stats()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(tap.stats().client_acks, acks_before + handled as u64);
    publisher.disconnect().await.unwrap();
}

/// A handler answering an enhanced-authentication challenge.
struct Scram {
    report: Report,
}

#[mqtt_handler]
impl Scram {
    #[auth]
    fn on_auth(&mut self, auth: &mqttx::Auth) -> mqttx::AuthResponse {
        let challenge = auth.properties.authentication_data.clone().unwrap_or_default();
        self.report.say(format!(
            "challenge {} {}",
            auth.properties.authentication_method.as_deref().unwrap_or("-"),
            String::from_utf8_lossy(&challenge)
        ));
        mqttx::AuthResponse::Continue(Bytes::from([&b"proof-of-"[..], &challenge].concat()))
    }

    #[connected]
    fn on_connected(&mut self, _connack: &ConnAck) {
        self.report.say("connected");
    }
}

/// What the scripted server saw of the client's side of the exchange.
#[derive(Debug)]
struct AuthSeen {
    connect_method: Option<String>,
    response: Option<(mqttx::ReasonCode, Option<String>, Option<Bytes>)>,
}

/// A scripted MQTT 5 server doing one round of enhanced authentication
/// (no broker here challenges): CONNECT with method `TEST-SCRAM` is
/// answered with AUTH Continue carrying `nonce-1`; an AUTH back with
/// `proof-of-nonce-1` gets a CONNACK, anything else a refusal.
async fn challenging_peer() -> (u16, tokio::task::JoinHandle<AuthSeen>) {
    use mqttx::packet::{decode, encode, AuthProperties, ConnAckProperties};
    use mqttx::{Auth, Packet, ReasonCode};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn next(socket: &mut tokio::net::TcpStream, buf: &mut bytes::BytesMut) -> Option<Packet> {
        loop {
            if let Ok(Some(packet)) = decode(buf, ProtocolVersion::V5, 1 << 20) {
                return Some(packet);
            }
            if socket.read_buf(buf).await.ok()? == 0 {
                return None;
            }
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = bytes::BytesMut::new();
        let mut seen = AuthSeen {
            connect_method: None,
            response: None,
        };
        let Some(Packet::Connect(connect)) = next(&mut socket, &mut buf).await else {
            return seen;
        };
        seen.connect_method = connect
            .properties
            .authentication_method
            .as_deref()
            .map(String::from);
        let method = mqttx::ByteString::from_static("TEST-SCRAM");
        let challenge = Auth {
            reason_code: ReasonCode::ContinueAuthentication,
            properties: AuthProperties {
                authentication_method: Some(method.clone()),
                authentication_data: Some(Bytes::from_static(b"nonce-1")),
                ..AuthProperties::default()
            }
            .into(),
        };
        let mut out = bytes::BytesMut::new();
        encode(&Packet::Auth(challenge), ProtocolVersion::V5, &mut out).unwrap();
        socket.write_all(&out).await.unwrap();
        let Some(Packet::Auth(answer)) = next(&mut socket, &mut buf).await else {
            return seen;
        };
        let data = answer.properties.authentication_data.clone();
        let proven = data.as_deref() == Some(&b"proof-of-nonce-1"[..]);
        seen.response = Some((
            answer.reason_code,
            answer
                .properties
                .authentication_method
                .as_deref()
                .map(String::from),
            data,
        ));
        let connack = ConnAck {
            reason_code: if proven {
                ReasonCode::Success
            } else {
                ReasonCode::NotAuthorized
            },
            properties: ConnAckProperties {
                authentication_method: Some(method),
                ..ConnAckProperties::default()
            }
            .into(),
            ..ConnAck::default()
        };
        out.clear();
        encode(&Packet::ConnAck(connack), ProtocolVersion::V5, &mut out).unwrap();
        socket.write_all(&out).await.unwrap();
        while socket.read_buf(&mut buf).await.unwrap_or(0) > 0 {}
        seen
    });
    (port, task)
}

/// `#[auth]` end to end: the challenge reaches the method, its answer
/// goes back as AUTH Continue with the same method, and the connection
/// completes on the server's CONNACK.
#[actix_rt::test]
async fn an_auth_method_answers_the_servers_challenge_and_the_connection_completes() {
    let (port, peer) = challenging_peer().await;
    let (report, mut seen) = report();
    let opts = options(port, "scram", ProtocolVersion::V5)
        .connect_properties(mqttx::ConnectProperties {
            authentication_method: Some("TEST-SCRAM".into()),
            ..mqttx::ConnectProperties::default()
        })
        .handler(Scram { report });
    let client = Client::connect(opts).await.expect("authenticated and connected");
    assert_eq!(seen.next().await, "challenge TEST-SCRAM nonce-1");
    assert_eq!(seen.next().await, "connected");
    client.disconnect().await.unwrap();
    let seen = tokio::time::timeout(WAIT, peer).await.unwrap().unwrap();
    assert_eq!(seen.connect_method.as_deref(), Some("TEST-SCRAM"));
    let (reason, method, data) = seen.response.expect("an AUTH answer");
    assert_eq!(reason, mqttx::ReasonCode::ContinueAuthentication);
    assert_eq!(method.as_deref(), Some("TEST-SCRAM"));
    assert_eq!(data.as_deref(), Some(&b"proof-of-nonce-1"[..]));
}
