//! mqttx and rumqttc side by side, in one run, against one mosquitto.
//!
//! ```text
//! cargo run --release -p mqttx-examples --example bench            # the full run
//! cargo run --release -p mqttx-examples --example bench -- --quick # a smoke run
//! cargo run --release -p mqttx-examples --example bench -- --rows m # the matrix
//! ```
//!
//! Every client gets the same in-flight window (100), payload (64 bytes, a
//! sequence number first), TCP_NODELAY on, and a fresh pair of connections
//! per row. The broker is a mosquitto started for the run with persistence
//! off and no in-flight or queue limits. See BENCHMARKS.md for how to read
//! the table.

mod broker;
mod child;
mod delay_line;
mod matrix;
mod measure;
mod mqttx_client;
mod pin;
mod reference;
mod report;
#[macro_use]
mod rumqttc_common;
mod rumqttc_v4;
mod rumqttc_v5;
mod standin;
mod tally;

use std::time::Duration;

use mqttx::QoS;

use broker::BenchBroker;
use report::{Report, Row};

/// The in-flight window every client gets, unless a matrix cell sets
/// another (`BENCH_WINDOW` in the child's environment).
pub const WINDOW: u16 = 100;
/// Payload size in bytes.
pub const PAYLOAD: usize = 64;
/// Requests a publisher may have waiting on the client's queue, at the
/// default window.
pub const PIPELINE: usize = 1000;

/// The in-flight window of this child: [`WINDOW`], or the matrix cell's.
pub fn window() -> u16 {
    static CELL: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    *CELL.get_or_init(|| {
        std::env::var("BENCH_WINDOW")
            .ok()
            .and_then(|w| w.parse().ok())
            .unwrap_or(WINDOW)
    })
}

/// Requests a publisher keeps outstanding: [`PIPELINE`], or twice a wider
/// window, so that the queue never starves the window.
pub fn pipeline() -> usize {
    PIPELINE.max(2 * usize::from(window()))
}
/// A latency row stops after this long (rumqttc's QoS 1 round trip costs
/// 44 ms against mosquitto's Nagle: 10,000 of them would take 7 minutes).
pub const LATENCY_BUDGET: Duration = Duration::from_secs(20);
/// A subscriber that receives nothing for this long has lost the rest.
pub const IDLE: Duration = Duration::from_secs(5);

/// The clients compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    MqttxV5,
    MqttxV311,
    RumqttcV5,
    RumqttcV4,
}

impl Subject {
    pub const ALL: [Subject; 4] = [
        Subject::MqttxV5,
        Subject::MqttxV311,
        Subject::RumqttcV5,
        Subject::RumqttcV4,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Subject::MqttxV5 => "mqttx v5",
            Subject::MqttxV311 => "mqttx v3.1.1",
            Subject::RumqttcV5 => "rumqttc v5",
            Subject::RumqttcV4 => "rumqttc v4",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Subject::MqttxV5 => "mqttx-v5",
            Subject::MqttxV311 => "mqttx-v311",
            Subject::RumqttcV5 => "rumqttc-v5",
            Subject::RumqttcV4 => "rumqttc-v4",
        }
    }

    pub fn from_key(key: &str) -> Option<Subject> {
        Subject::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Plan {
    pub messages: u32,
    pub round_trips: u32,
    /// Messages per broker-less row (h, i): millions a second need more.
    pub standin_messages: u32,
    /// Messages per matrix cell (row m; a delayed cell moves a quarter).
    pub matrix_messages: u32,
    pub fan_in_connections: u32,
    pub idle_connections: u32,
    pub rumqttc_v5_idle_connections: u32,
    pub rows: String,
    /// The clients measured (`--subjects mqttx-v5,rumqttc-v5`; all by default).
    pub subjects: Vec<Subject>,
}

impl Plan {
    fn from_args() -> Plan {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|a| a == "--quick");
        let mut plan = if quick {
            Plan {
                messages: 20_000,
                round_trips: 1_000,
                standin_messages: 200_000,
                matrix_messages: 10_000,
                fan_in_connections: 20,
                idle_connections: 500,
                rumqttc_v5_idle_connections: 50,
                rows: "abcdefghi".into(),
                subjects: Subject::ALL.to_vec(),
            }
        } else {
            Plan {
                messages: 200_000,
                round_trips: 10_000,
                standin_messages: 5_000_000,
                matrix_messages: 100_000,
                fan_in_connections: 100,
                idle_connections: 10_000,
                // rumqttc v5 keeps ~14 MB per connection: 10,000 would need 140 GB.
                rumqttc_v5_idle_connections: 200,
                rows: "abcdefghi".into(),
                subjects: Subject::ALL.to_vec(),
            }
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().and_then(|v| v.parse::<u32>().ok());
            match arg.as_str() {
                "--messages" => plan.messages = value().unwrap_or(plan.messages),
                "--round-trips" => plan.round_trips = value().unwrap_or(plan.round_trips),
                "--standin-messages" => plan.standin_messages = value().unwrap_or(plan.standin_messages),
                "--matrix-messages" => plan.matrix_messages = value().unwrap_or(plan.matrix_messages),
                "--idle" => plan.idle_connections = value().unwrap_or(plan.idle_connections),
                "--rows" => plan.rows = it.next().cloned().unwrap_or_default(),
                "--subjects" => {
                    let keys = it.next().cloned().unwrap_or_default();
                    plan.subjects = keys.split(',').filter_map(Subject::from_key).collect();
                }
                _ => {}
            }
        }
        plan
    }

    fn wants(&self, row: char) -> bool {
        self.rows.contains(row)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(served) = standin::run_if_standin() {
        return Ok(served?);
    }
    if let Some(relayed) = delay_line::run_if_delay_line() {
        return Ok(relayed?);
    }
    if let Some(row) = child::run_if_child() {
        println!("{}", row.encode());
        return Ok(());
    }
    let plan = Plan::from_args();
    measure::raise_open_file_limit();
    let broker = BenchBroker::start()?;
    println!(
        "mosquitto {} on port {}; {plan:?}",
        broker.version(),
        broker.port()
    );
    let mut report = Report::default();

    if plan.wants('a') {
        for qos in [0u8, 1, 2] {
            for &subject in &plan.subjects {
                report.push(child::measure(
                    &broker,
                    &format!("throughput {qos} {}", plan.messages),
                    subject,
                ));
            }
        }
    }
    if plan.wants('b') {
        for qos in [0u8, 1] {
            for &subject in &plan.subjects {
                report.push(child::measure(
                    &broker,
                    &format!("latency {qos} {}", plan.round_trips),
                    subject,
                ));
            }
        }
    }
    if plan.wants('c') {
        for &subject in &plan.subjects {
            let args = format!("fan-in {} {}", plan.fan_in_connections, plan.messages);
            report.push(child::measure(&broker, &args, subject));
        }
    }
    if plan.wants('d') {
        for &subject in &plan.subjects {
            let n = if subject == Subject::RumqttcV5 {
                plan.rumqttc_v5_idle_connections
            } else {
                plan.idle_connections
            };
            report.push(child::measure(&broker, &format!("scale {n}"), subject));
        }
    }
    if plan.wants('f') && plan.subjects.contains(&Subject::MqttxV5) {
        // mqttx's call() next to its plain QoS 1 round trip (row b); rumqttc
        // has no call.
        report.push(child::measure(
            &broker,
            &format!("call {}", plan.round_trips),
            Subject::MqttxV5,
        ));
    }
    if plan.wants('g') && plan.subjects.contains(&Subject::MqttxV5) {
        // mqttx publishing with each session store; rumqttc has none.
        let redis = mqttx_tests::redis_server::RedisServer::start()?;
        for qos in [1u8, 2] {
            for kind in ["none", "memory", "file", "redis"] {
                let args = format!("store {qos} {} {kind} {}", plan.messages, redis.url());
                report.push(child::measure(&broker, &args, Subject::MqttxV5));
            }
        }
    }
    for (row, mode) in [('h', standin::Mode::Firehose), ('i', standin::Mode::Sink)] {
        if plan.wants(row) {
            for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                for &subject in &plan.subjects {
                    report.push(broker_less(mode, mode.key(), qos, subject, plan.standin_messages));
                    let mqttx = matches!(subject, Subject::MqttxV5 | Subject::MqttxV311);
                    if mode == standin::Mode::Sink && mqttx {
                        let what = "sink-detached";
                        report.push(broker_less(mode, what, qos, subject, plan.standin_messages));
                    }
                }
            }
        }
    }
    if plan.wants('e') {
        let before = broker.cpu_seconds();
        let mut row = reference::mosquitto_pub_sub(broker.port(), plan.messages);
        row.broker_cpu = broker.cpu_seconds() - before;
        report.push(row);
    }
    report.print();
    if plan.wants('m') {
        // Its own brokers, one per setup; printed last, as its own tables.
        drop(broker);
        let cells = matrix::run(&plan)?;
        matrix::print(&cells);
    }
    Ok(())
}

/// One broker-less row: a fresh stand-in, the client on the other core.
/// The stand-in's count shows what arrived when the client sends.
fn broker_less(mode: standin::Mode, what: &str, qos: QoS, subject: Subject, count: u32) -> Row {
    let standin = match standin::StandIn::start(mode, qos, u64::from(count)) {
        Ok(standin) => standin,
        Err(err) => {
            return Row {
                subject: subject.name(),
                note: format!("stand-in: {err}"),
                ..Row::default()
            }
        }
    };
    let what = format!("{what} {} {count}", qos as u8);
    let mut row = child::measure(&standin, &what, subject);
    let tally = standin.finish();
    if mode == standin::Mode::Sink {
        row.lost = count.saturating_sub(tally.messages as u32);
    }
    row
}

pub async fn firehose(subject: Subject, port: u16, qos: QoS, count: u32) -> Row {
    match subject {
        Subject::MqttxV5 => mqttx_client::firehose(port, mqttx::ProtocolVersion::V5, qos, count).await,
        Subject::MqttxV311 => mqttx_client::firehose(port, mqttx::ProtocolVersion::V311, qos, count).await,
        Subject::RumqttcV5 => rumqttc_v5::firehose(port, qos, count).await,
        Subject::RumqttcV4 => rumqttc_v4::firehose(port, qos, count).await,
    }
}

pub async fn sink(subject: Subject, port: u16, qos: QoS, count: u32) -> Row {
    match subject {
        Subject::MqttxV5 => mqttx_client::sink(port, mqttx::ProtocolVersion::V5, qos, count).await,
        Subject::MqttxV311 => mqttx_client::sink(port, mqttx::ProtocolVersion::V311, qos, count).await,
        Subject::RumqttcV5 => rumqttc_v5::sink(port, qos, count).await,
        Subject::RumqttcV4 => rumqttc_v4::sink(port, qos, count).await,
    }
}

pub async fn throughput(subject: Subject, port: u16, qos: QoS, count: u32) -> Row {
    match subject {
        Subject::MqttxV5 => mqttx_client::throughput(port, mqttx::ProtocolVersion::V5, qos, count).await,
        Subject::MqttxV311 => mqttx_client::throughput(port, mqttx::ProtocolVersion::V311, qos, count).await,
        Subject::RumqttcV5 => rumqttc_v5::throughput(port, qos, count).await,
        Subject::RumqttcV4 => rumqttc_v4::throughput(port, qos, count).await,
    }
}

pub async fn latency(subject: Subject, port: u16, qos: QoS, n: u32) -> Row {
    match subject {
        Subject::MqttxV5 => mqttx_client::latency(port, mqttx::ProtocolVersion::V5, qos, n).await,
        Subject::MqttxV311 => mqttx_client::latency(port, mqttx::ProtocolVersion::V311, qos, n).await,
        Subject::RumqttcV5 => rumqttc_v5::latency(port, qos, n).await,
        Subject::RumqttcV4 => rumqttc_v4::latency(port, qos, n).await,
    }
}

pub async fn fan_in(subject: Subject, port: u16, connections: u32, count: u32) -> Row {
    match subject {
        Subject::MqttxV5 => mqttx_client::fan_in(port, mqttx::ProtocolVersion::V5, connections, count).await,
        Subject::MqttxV311 => {
            mqttx_client::fan_in(port, mqttx::ProtocolVersion::V311, connections, count).await
        }
        Subject::RumqttcV5 => rumqttc_v5::fan_in(port, connections, count).await,
        Subject::RumqttcV4 => rumqttc_v4::fan_in(port, connections, count).await,
    }
}

pub async fn scale(subject: Subject, port: u16, n: u32) -> Row {
    match subject {
        Subject::MqttxV5 => mqttx_client::scale(port, mqttx::ProtocolVersion::V5, n).await,
        Subject::MqttxV311 => mqttx_client::scale(port, mqttx::ProtocolVersion::V311, n).await,
        Subject::RumqttcV5 => rumqttc_v5::scale(port, n).await,
        Subject::RumqttcV4 => rumqttc_v4::scale(port, n).await,
    }
}
