//! Each measurement runs in a child process of its own, so memory and CPU
//! figures belong to that client alone, not to what earlier rows left
//! behind in the allocator.

use std::process::Command;
use std::time::Duration;

use mqttx::QoS;

use crate::broker::BenchBroker;
use crate::measure;
use crate::report::Row;
use crate::standin::StandIn;
use crate::Subject;

/// What a row runs against: mosquitto, or a stand-in server.
pub trait Server {
    fn port(&self) -> u16;
    fn cpu_seconds(&self) -> f64;
    /// Waits until the server is idle.
    fn settle(&self) {}
}

impl Server for BenchBroker {
    fn port(&self) -> u16 {
        BenchBroker::port(self)
    }
    fn cpu_seconds(&self) -> f64 {
        BenchBroker::cpu_seconds(self)
    }
    fn settle(&self) {
        BenchBroker::settle(self)
    }
}

impl Server for StandIn {
    fn port(&self) -> u16 {
        StandIn::port(self)
    }
    fn cpu_seconds(&self) -> f64 {
        StandIn::cpu_seconds(self)
    }
}

/// Runs `current_exe --child SUBJECT PORT WHAT..` and reads its row back.
pub fn measure(broker: &impl Server, what: &str, subject: Subject) -> Row {
    measure_with(broker, what, subject, &[])
}

/// [`measure`] with variables set in the child's environment (a matrix
/// cell's window, the I/O hints under test).
pub fn measure_with(broker: &impl Server, what: &str, subject: Subject, env: &[(&str, String)]) -> Row {
    broker.settle();
    let broker_cpu = broker.cpu_seconds();
    let exe = std::env::current_exe().unwrap_or_default();
    let output = Command::new(exe)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("--child")
        .arg(subject.key())
        .arg(broker.port().to_string())
        .args(what.split_whitespace())
        .output();
    let mut row = match output {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(Row::decode)
            .unwrap_or_else(|| Row {
                note: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                ..Row::default()
            }),
        Err(err) => Row {
            note: err.to_string(),
            ..Row::default()
        },
    };
    row.subject = subject.name();
    row.broker_cpu = broker.cpu_seconds() - broker_cpu;
    eprintln!("{}", row.one_line());
    row
}

/// In a child: runs the measurement its arguments name.
pub fn run_if_child() -> Option<Row> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("--child") {
        return None;
    }
    let subject = Subject::from_key(args.get(1)?)?;
    let port: u16 = args.get(2)?.parse().ok()?;
    let what = args.get(3)?.clone();
    let num = |i: usize| args.get(i).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
    let qos = |n: u32| QoS::from_u8(n as u8).unwrap_or(QoS::AtMostOnce);
    let cpu = measure::process_cpu_seconds();
    let system = actix::System::new();
    let (scenario, mut row) = match what.as_str() {
        "throughput" => (
            format!("(a) throughput QoS {}", num(4)),
            system.block_on(crate::throughput(subject, port, qos(num(4)), num(5))),
        ),
        "latency" => (
            format!("(b) round trip QoS {}", num(4)),
            system.block_on(crate::latency(subject, port, qos(num(4)), num(5))),
        ),
        "call" => (
            "(f) call round trip QoS 1".to_owned(),
            system.block_on(crate::mqttx_client::call_latency(port, num(4))),
        ),
        "store" => {
            let kind = args.get(6).cloned().unwrap_or_default();
            let url = args.get(7).cloned().unwrap_or_default();
            (
                format!("(g) store {kind:<6} QoS {}", num(4)),
                system.block_on(crate::mqttx_client::store_throughput(
                    port,
                    qos(num(4)),
                    num(5),
                    &kind,
                    &url,
                )),
            )
        }
        "firehose" => {
            crate::pin::to_core(1 - crate::standin::CORE);
            (
                format!("(h) receive QoS {}", num(4)),
                system.block_on(crate::firehose(subject, port, qos(num(4)), num(5))),
            )
        }
        "sink" => {
            crate::pin::to_core(1 - crate::standin::CORE);
            (
                format!("(i) send QoS {}", num(4)),
                system.block_on(crate::sink(subject, port, qos(num(4)), num(5))),
            )
        }
        "sink-detached" => {
            crate::pin::to_core(1 - crate::standin::CORE);
            let version = match subject {
                Subject::MqttxV311 => mqttx::ProtocolVersion::V311,
                _ => mqttx::ProtocolVersion::V5,
            };
            (
                format!("(i) send QoS {} detached", num(4)),
                system.block_on(crate::mqttx_client::sink_detached(
                    port,
                    version,
                    qos(num(4)),
                    num(5),
                )),
            )
        }
        "fan-in" => (
            format!("(c) fan-in {} conns QoS 1", num(4)),
            system.block_on(crate::fan_in(subject, port, num(4), num(5))),
        ),
        "scale" => (
            "(d) idle connections".to_owned(),
            system.block_on(crate::scale(subject, port, num(4))),
        ),
        _ => return None,
    };
    row.scenario = scenario;
    row.client_cpu = measure::process_cpu_seconds() - cpu;
    Some(row)
}

impl Row {
    /// One line of tab-separated fields, for the parent to read.
    pub fn encode(&self) -> String {
        let d = |d: Option<Duration>| d.map_or(String::from("-"), |d| d.as_nanos().to_string());
        format!(
            "ROW\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.scenario,
            self.messages,
            self.elapsed.as_nanos(),
            self.lost,
            self.duplicates,
            d(self.p50),
            d(self.p99),
            d(self.max),
            self.rss_per_connection
                .map_or(String::from("-"), |r| r.to_string()),
            self.client_cpu,
            self.note,
        )
    }

    pub fn decode(line: &str) -> Option<Row> {
        let f: Vec<&str> = line.strip_prefix("ROW\t")?.split('\t').collect();
        let dur = |s: &str| s.parse::<u64>().ok().map(Duration::from_nanos);
        Some(Row {
            scenario: f.first()?.to_string(),
            messages: f.get(1)?.parse().ok()?,
            elapsed: dur(f.get(2)?)?,
            lost: f.get(3)?.parse().ok()?,
            duplicates: f.get(4)?.parse().ok()?,
            p50: dur(f.get(5)?),
            p99: dur(f.get(6)?),
            max: dur(f.get(7)?),
            rss_per_connection: f.get(8)?.parse().ok(),
            client_cpu: f.get(9)?.parse().ok()?,
            note: f.get(10).unwrap_or(&"").to_string(),
            ..Row::default()
        })
    }
}
