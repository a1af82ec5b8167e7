//! No lost message: 20,000 QoS 1 and 20,000 QoS 2 messages, numbered, go
//! from a publisher to a subscriber through a proxy that cuts both of their
//! connections every few hundred milliseconds, while something worse
//! happens mid-stream: nothing more, the broker killed with SIGKILL, the
//! publishing actor panicking under its supervisor, or the publishing
//! process killed and restarted from its `FileStore`. The subscriber must
//! see every QoS 1 number at least once and every QoS 2 number exactly once.
//!
//! Both clients keep persistent sessions (Clean Start false, a Session
//! Expiry Interval), so the broker queues for the subscriber while it is
//! cut off, and every reconnect resumes a session: resent PUBLISHes (DUP,
//! same packet id) and PUBRELs are exercised thousands of times per run.

use std::collections::VecDeque;
use std::future::IntoFuture;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mqttx::store::{FileStore, RedisStore, SessionStore};
use mqttx::DisconnectReason;
use mqttx::{Client, HandlerContext, MqttHandler, Publish};
use mqttx_tests::chaos::Chaos;
use mqttx_tests::events::{recorder, Seen};
use mqttx_tests::redis_server::RedisServer;
use mqttx_tests::support::{loss_options, loss_topics};
use mqttx_tests::Broker;
use tokio::sync::mpsc;

/// Messages per QoS.
const COUNT: u32 = 20_000;
/// Publishes awaiting completion at once (the client's window is below it,
/// the rest wait in its queue).
const PIPELINE: usize = 2_000;
/// The payload that closes a topic: everything before it was delivered first.
const END: u32 = u32::MAX;
/// The whole run must finish within this.
const DEADLINE: Duration = Duration::from_secs(50);

fn broker() -> mqttx_tests::BrokerBuilder {
    // Raise mosquitto's per-client limits (20 in flight, 1000 queued): a
    // subscriber that is cut off must not lose what queues for it, and the
    // publisher's window is mosquitto's Receive Maximum.
    Broker::builder()
        .max_inflight_messages(1000)
        .max_queued_messages(0)
}

/// One delivery as the subscriber's handler saw it.
#[derive(Debug, Clone, Copy)]
struct Delivery {
    /// 0 for the QoS 1 topic, 1 for the QoS 2 one.
    index: usize,
    number: u32,
    /// Packet identifier and DUP flag: when a number arrives twice, these
    /// tell a resend the client failed to recognise (same id, DUP set) from
    /// two distinct messages (the publisher's or the broker's doing).
    packet_id: Option<u16>,
    dup: bool,
}

impl Delivery {
    fn describe(&self) -> String {
        format!(
            "#{} id {:?}{}",
            self.number,
            self.packet_id,
            if self.dup { " DUP" } else { "" }
        )
    }
}

/// Forwards every delivery to the test.
struct Counter(mpsc::UnboundedSender<Delivery>);

impl MqttHandler for Counter {
    fn message(&mut self, msg: &Publish, _ctx: &mut HandlerContext<'_>) {
        let index = usize::from(msg.topic.ends_with("/q2"));
        let number = msg
            .payload
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map_or(END - 1, u32::from_be_bytes);
        let _ = self.0.send(Delivery {
            index,
            number,
            packet_id: msg.packet_id.map(|id| id.get()),
            dup: msg.dup,
        });
    }
}

/// How often each number arrived, per topic.
struct Tally {
    seen: [Vec<u32>; 2],
    /// Numbers seen at least once.
    distinct: [usize; 2],
    ended: [bool; 2],
    /// The first delivery of each number, and the first few QoS 2 numbers
    /// delivered again, for the report.
    first: [Vec<Option<Delivery>>; 2],
    repeats: Vec<(Delivery, Delivery)>,
    rx: mpsc::UnboundedReceiver<Delivery>,
}

impl Tally {
    fn record(&mut self, delivery: Delivery) {
        let Delivery { index, number, .. } = delivery;
        if number == END {
            self.ended[index] = true;
        } else if let Some(count) = self.seen[index].get_mut(number as usize) {
            *count += 1;
            let first = &mut self.first[index][number as usize];
            match first {
                None => {
                    self.distinct[index] += 1;
                    *first = Some(delivery);
                }
                // QoS 1 may repeat; a QoS 2 repeat is the failure to explain.
                Some(earlier) if index == 1 && self.repeats.len() < 10 => {
                    self.repeats.push((*earlier, delivery))
                }
                Some(_) => {}
            }
        } else {
            panic!("a number never published arrived: {number}");
        }
    }

    /// Waits until `done` holds for what has arrived.
    async fn until(&mut self, what: &str, deadline: Instant, mut done: impl FnMut(&Tally) -> bool) {
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(Some(seen)) => self.record(seen),
                Ok(None) => panic!("the subscriber's handler is gone while waiting for {what}"),
                Err(_) => panic!("{what}: not within the deadline; {}", self.report()),
            }
        }
        // Whatever arrived by now counts too (duplicates especially).
        while let Ok(seen) = self.rx.try_recv() {
            self.record(seen);
        }
    }

    fn report(&self) -> String {
        let mut out = String::new();
        for (index, name) in ["QoS 1", "QoS 2"].iter().enumerate() {
            let seen = &self.seen[index];
            let missing: Vec<usize> = (0..seen.len()).filter(|&n| seen[n] == 0).collect();
            let twice: Vec<usize> = (0..seen.len()).filter(|&n| seen[n] > 1).collect();
            out.push_str(&format!(
                "{name}: {} missing (first {:?}), {} more than once (first {:?}); ",
                missing.len(),
                &missing[..missing.len().min(10)],
                twice.len(),
                &twice[..twice.len().min(10)],
            ));
        }
        if !self.repeats.is_empty() {
            let pairs: Vec<String> = self
                .repeats
                .iter()
                .map(|(first, again)| format!("{} then {}", first.describe(), again.describe()))
                .collect();
            out.push_str(&format!("repeated deliveries: {}", pairs.join("; ")));
        }
        out
    }

    /// Every QoS 1 number at least once, every QoS 2 number exactly once.
    fn assert_no_loss(&self) {
        assert!(
            self.seen[0].iter().all(|&n| n >= 1) && self.seen[1].iter().all(|&n| n == 1),
            "{}",
            self.report()
        );
    }
}

/// The subscriber: a persistent session through the proxy.
async fn subscribe(port: u16, prefix: &str) -> (Client, Tally) {
    let (tx, rx) = mpsc::unbounded_channel();
    let client = Client::connect(loss_options(port, &format!("{prefix}-sub")).handler(Counter(tx)))
        .await
        .unwrap();
    for (topic, qos) in loss_topics(prefix) {
        client.subscribe(topic, qos).await.unwrap();
    }
    let tally = Tally {
        seen: [vec![0; COUNT as usize], vec![0; COUNT as usize]],
        distinct: [0; 2],
        ended: [false; 2],
        first: [vec![None; COUNT as usize], vec![None; COUNT as usize]],
        repeats: Vec::new(),
        rx,
    };
    (client, tally)
}

/// Publishes `from..COUNT` on both topics, `PIPELINE` at a time; calls
/// `before(n)` before publishing number `n`. Every publish must succeed.
async fn publish_all(client: &Client, prefix: &str, from: [u32; 2], mut before: impl FnMut(u32)) {
    let topics = loss_topics(prefix);
    let mut pending = VecDeque::new();
    for n in from[0].min(from[1])..COUNT {
        before(n);
        for (index, (topic, qos)) in topics.iter().enumerate() {
            if n >= from[index] {
                let send = client.publish(topic.clone(), n.to_be_bytes().to_vec()).qos(*qos);
                pending.push_back((n, send.into_future()));
            }
        }
        while pending.len() > PIPELINE {
            let (n, send) = pending.pop_front().unwrap();
            send.await.unwrap_or_else(|e| panic!("publish {n} failed: {e}"));
        }
    }
    for (n, send) in pending {
        send.await.unwrap_or_else(|e| panic!("publish {n} failed: {e}"));
    }
}

/// The closing markers: once they arrive, everything before them has.
async fn publish_end(client: &Client, prefix: &str) {
    for (topic, qos) in loss_topics(prefix) {
        client
            .publish(topic, END.to_be_bytes().to_vec())
            .qos(qos)
            .await
            .unwrap();
    }
}

async fn finish(tally: &mut Tally, deadline: Instant, started: Instant, chaos: &Chaos) {
    tally
        .until("every number and both end markers", deadline, |t| {
            t.ended == [true, true] && t.seen[0].iter().all(|&n| n > 0) && t.seen[1].iter().all(|&n| n > 0)
        })
        .await;
    if !tally.repeats.is_empty() {
        explain_repeats(tally, chaos);
    }
    tally.assert_no_loss();
    eprintln!(
        "{} messages in {:.1} s through {} cuts ({} connections)",
        2 * COUNT,
        started.elapsed().as_secs_f64(),
        chaos.cuts(),
        chaos.connections()
    );
}

/// Prints what crossed the proxy for the first QoS 2 number delivered twice:
/// every packet with its packet id on the subscriber's connections.
fn explain_repeats(tally: &Tally, chaos: &Chaos) {
    let Some((first, _)) = tally.repeats.first() else {
        return;
    };
    let Some(id) = first.packet_id else {
        return;
    };
    let log = chaos.wire_log();
    let subscriber = log.client_ending_with("-sub").unwrap_or_default();
    let history = log.of_client(&subscriber, |e| e.packet_id == Some(id));
    eprintln!(
        "wire history of packet id {id} on {subscriber} (number {}):",
        first.number
    );
    for entry in history {
        eprintln!("  {entry}");
    }
}

fn chaos_in_front_of(port: u16) -> Chaos {
    let chaos = Chaos::start(port).unwrap();
    chaos.cut_every(Duration::from_millis(20), Duration::from_millis(250));
    chaos
}

#[actix_rt::test]
async fn no_loss_while_connections_are_cut() {
    let started = Instant::now();
    let deadline = started + DEADLINE;
    let broker = broker().start().unwrap();
    let chaos = chaos_in_front_of(broker.port());
    let prefix = "cuts";
    let (sub, mut tally) = subscribe(chaos.port(), prefix).await;
    let publisher = Client::connect(loss_options(chaos.port(), &format!("{prefix}-pub")))
        .await
        .unwrap();

    // Besides the cuts at random moments, one every 2,500 numbers, so that
    // however fast the run, the stream is cut many times.
    publish_all(&publisher, prefix, [0, 0], |n| {
        if n > 0 && n % 2_500 == 0 {
            chaos.cut_now();
        }
    })
    .await;
    publish_end(&publisher, prefix).await;
    finish(&mut tally, deadline, started, &chaos).await;
    assert!(chaos.cuts() >= 7, "the proxy cut the connections: {chaos:?}");
    publisher.disconnect().await.unwrap();
    sub.disconnect().await.unwrap();
}

/// Waits until mosquitto has saved its database twice since `since`: the
/// second save began after `since`, so it holds everything up to then.
fn wait_for_saves(broker: &Broker, since: std::time::SystemTime) {
    let db = broker.dir().join("persistence").join("mosquitto.db");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut saves = 0;
    let mut last = since;
    while saves < 2 {
        assert!(Instant::now() < deadline, "mosquitto did not save its database");
        if let Ok(modified) = std::fs::metadata(&db).and_then(|m| m.modified()) {
            if modified > last {
                saves += 1;
                last = modified;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[actix_rt::test]
async fn no_loss_when_the_broker_is_killed_mid_stream() {
    let started = Instant::now();
    let deadline = started + DEADLINE;
    // mosquitto acknowledges first and saves its database later (here once
    // a second; saving on every change is far too slow for 40,000
    // messages). A SIGKILL in between loses what it acknowledged: the
    // broker's loss, which no client can repair. So the proxy holds all
    // traffic, mosquitto saves, and then it is killed: the clients still
    // lose their connections with publishes and deliveries in flight, and
    // must finish them against a broker restarted from its database.
    let mut broker = broker()
        .persistence(true)
        .extra_config("autosave_on_changes false\nautosave_interval 1")
        .start()
        .unwrap();
    let chaos = chaos_in_front_of(broker.port());
    let prefix = "broker-kill";
    let (sub, mut tally) = subscribe(chaos.port(), prefix).await;
    let publisher = Client::connect(loss_options(chaos.port(), &format!("{prefix}-pub")))
        .await
        .unwrap();

    publish_all(&publisher, prefix, [0, 0], |n| {
        if n != COUNT / 2 {
            return;
        }
        chaos.hold(true);
        wait_for_saves(&broker, std::time::SystemTime::now());
        broker.kill().unwrap();
        chaos.cut_now();
        chaos.hold(false);
        broker.start_again().unwrap();
    })
    .await;
    publish_end(&publisher, prefix).await;
    finish(&mut tally, deadline, started, &chaos).await;
    publisher.disconnect().await.unwrap();
    sub.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn no_loss_when_the_publishing_actor_panics_under_its_supervisor() {
    let started = Instant::now();
    let deadline = started + DEADLINE;
    let broker = broker().start().unwrap();
    let chaos = chaos_in_front_of(broker.port());
    let prefix = "panic";
    let (sub, mut tally) = subscribe(chaos.port(), prefix).await;
    let (recorder, mut events) = recorder();
    let publisher =
        Client::connect_supervised(loss_options(chaos.port(), &format!("{prefix}-pub")).handler(recorder))
            .await
            .unwrap();

    // Mid-stream, with about PIPELINE publishes queued or in flight
    // behind it, the actor panics; its waiting callers must all be answered.
    publish_all(&publisher, prefix, [0, 0], |n| {
        if n == COUNT / 2 {
            publisher.inject_panic().unwrap();
        }
    })
    .await;
    let reason = events
        .expect("a restart", Duration::from_secs(10), |seen| match seen {
            Seen::Disconnected(reason @ DisconnectReason::Crashed { .. }) => Some(reason),
            _ => None,
        })
        .await;
    assert!(reason.will_reconnect(), "{reason}");
    publish_end(&publisher, prefix).await;
    finish(&mut tally, deadline, started, &chaos).await;
    assert!(publisher.is_running());
    publisher.disconnect().await.unwrap();
    sub.disconnect().await.unwrap();
}

/// The publishing process on `store` (a `FileStore` directory or a
/// `redis://` URL), publishing from `from` on each topic; a thread follows
/// what it reports as stored.
struct PublishingProcess {
    child: Child,
    stored: std::thread::JoinHandle<[Option<u32>; 2]>,
}

impl PublishingProcess {
    fn spawn(port: u16, store: &str, client_id: &str, prefix: &str, from: [u32; 2]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_loss_publisher"))
            .args([
                port.to_string(),
                store.to_owned(),
                client_id.to_owned(),
                prefix.to_owned(),
                COUNT.to_string(),
                from[0].to_string(),
                from[1].to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stored = std::thread::spawn(move || {
            let mut highest = [None, None];
            for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
                let Ok(line) = line else { break };
                let fields: Vec<&str> = line.split_whitespace().collect();
                if let ["stored", index, number] = fields.as_slice() {
                    let index: usize = index.parse().unwrap();
                    let number: u32 = number.parse().unwrap();
                    highest[index] = highest[index].max(Some(number));
                }
            }
            highest
        });
        PublishingProcess { child, stored }
    }

    /// SIGKILL; then the highest numbers it reported as stored. `None` if
    /// it had finished before the kill.
    fn kill(mut self) -> Option<[Option<u32>; 2]> {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        let stored = self.stored.join().unwrap();
        (!status.success()).then_some(stored)
    }

    fn wait(mut self) {
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the publishing process finished: {status}");
    }
}

/// The highest number per topic among the publishes in the store.
fn stored_numbers(store: &std::path::Path, client_id: &str) -> [Option<u32>; 2] {
    highest_numbers(FileStore::open(store).unwrap().session(client_id).unwrap())
}

fn highest_numbers(state: mqttx::store::SessionState) -> [Option<u32>; 2] {
    let mut highest = [None, None];
    for stored in state.outgoing {
        let index = usize::from(stored.publish.topic.ends_with("/q2"));
        if let Some(number) = stored.publish.payload.get(..4).and_then(|b| b.try_into().ok()) {
            highest[index] = highest[index].max(Some(u32::from_be_bytes(number)));
        }
    }
    highest
}

/// A point picked at random between a fifth and three fifths of the way
/// from `done` to `COUNT`.
fn random_threshold(done: usize, round: u32) -> usize {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let fraction = 20 + (nanos + round * 7919) % 40;
    done + (COUNT as usize - done) * fraction as usize / 100
}

/// The publishing process is killed with SIGKILL at a random moment, twice,
/// and started again on the same `FileStore`. The test trusts the store
/// and nothing else: a new process resumes after the highest number the
/// store ever recorded (its report is made before the packets go out, and
/// the store's own content covers a report the kill cut off), so every
/// message that was in flight is the store's to finish. A store that kept
/// less than it claimed loses messages; one that resent what the broker
/// had completed duplicates them.
#[actix_rt::test]
async fn no_loss_when_the_publishing_process_is_killed_and_restarted_from_its_file_store() {
    let started = Instant::now();
    let deadline = started + DEADLINE;
    let broker = broker().start().unwrap();
    let chaos = chaos_in_front_of(broker.port());
    let prefix = "process-kill";
    let client_id = format!("{prefix}-pub");
    let store = tempfile::tempdir().unwrap();
    let (sub, mut tally) = subscribe(chaos.port(), prefix).await;

    let mut from = [0, 0];
    let mut kills = 0;
    for round in 1..=2u32 {
        let publisher = PublishingProcess::spawn(
            chaos.port(),
            &store.path().display().to_string(),
            &client_id,
            prefix,
            from,
        );
        let threshold = random_threshold(tally.distinct[1], round);
        tally
            .until("progress before the kill", deadline, |t| {
                t.distinct[1] >= threshold
            })
            .await;
        let Some(reported) = publisher.kill() else {
            break; // it finished first: nothing was left to kill
        };
        kills += 1;
        let in_store = stored_numbers(store.path(), &client_id);
        eprintln!("kill {kills}: reported stored up to {reported:?}, the store holds up to {in_store:?}");
        for index in 0..2 {
            let highest = reported[index].max(in_store[index]);
            from[index] = from[index].max(highest.map_or(0, |n| n + 1));
        }
    }
    assert!(kills >= 1, "the publisher was killed mid-stream at least once");

    let publisher = PublishingProcess::spawn(
        chaos.port(),
        &store.path().display().to_string(),
        &client_id,
        prefix,
        from,
    );
    finish(&mut tally, deadline, started, &chaos).await;
    publisher.wait();
    sub.disconnect().await.unwrap();
}

/// The session moves between processes, standing in for hosts: publisher
/// A, supervised, on a `RedisStore`, is killed with SIGKILL mid-stream; a
/// second process with the same client id and the same Redis finishes the
/// session. Every QoS 1 number arrives at least once, every QoS 2 number
/// exactly once.
#[actix_rt::test]
async fn no_loss_when_the_session_moves_to_another_process_through_redis() {
    let started = Instant::now();
    let deadline = started + DEADLINE;
    let broker = broker().start().unwrap();
    let redis = RedisServer::start().unwrap();
    let chaos = chaos_in_front_of(broker.port());
    let prefix = "redis-move";
    let client_id = format!("{prefix}-pub");
    let (sub, mut tally) = subscribe(chaos.port(), prefix).await;

    let first = PublishingProcess::spawn(chaos.port(), &redis.url(), &client_id, prefix, [0, 0]);
    let threshold = random_threshold(tally.distinct[1], 1);
    tally
        .until("progress before the kill", deadline, |t| {
            t.distinct[1] >= threshold
        })
        .await;
    let reported = first.kill().expect("killed mid-stream, before it finished");
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let in_store = highest_numbers(store.load(&client_id).await.unwrap());
    eprintln!("killed: reported stored up to {reported:?}, Redis holds up to {in_store:?}");
    let mut from = [0, 0];
    for index in 0..2 {
        let highest = reported[index].max(in_store[index]);
        from[index] = highest.map_or(0, |n| n + 1);
    }

    let second = PublishingProcess::spawn(chaos.port(), &redis.url(), &client_id, prefix, from);
    finish(&mut tally, deadline, started, &chaos).await;
    second.wait();
    sub.disconnect().await.unwrap();
}
