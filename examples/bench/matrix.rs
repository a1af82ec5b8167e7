//! Row (m): the throughput row (a) across setups nobody tuned for —
//! mosquitto pinned to one core or free, with and without
//! `set_tcp_nodelay`, in-flight windows of 20, 100 and 1,000, and a link
//! with 1 ms added each way — every mqttx I/O variant against the best
//! rumqttc of the same cell.
//!
//! A cell passes at ≥ 1.2× the best rumqttc's rate with ≤ 0.5× its client
//! CPU per message; where mosquitto is the bottleneck (≥ 95 % of a core
//! in either row), at ≥ 1.0× its rate with no more broker CPU per message.

use std::time::Duration;

use crate::broker::BenchBroker;
use crate::child::{self, Server};
use crate::delay_line::DelayLine;
use crate::report::Row;
use crate::{Plan, Subject};

/// The core a pinned mosquitto gets.
const BROKER_CORE: usize = 0;
/// The delay the slow link adds each way.
const DELAY: Duration = Duration::from_millis(1);
/// A delayed cell moves this fraction of the messages: its window, not
/// the clients, sets its rate, and 100,000 at window 20 would take minutes.
const DELAYED_SHARE: u32 = 4;
pub const WINDOWS: [u16; 3] = [20, 100, 1000];

/// How mosquitto runs, and the link to it.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub pinned: bool,
    pub nodelay: bool,
    pub delayed: bool,
}

pub const SETUPS: [Setup; 6] = [
    Setup {
        pinned: false,
        nodelay: false,
        delayed: false,
    },
    Setup {
        pinned: false,
        nodelay: true,
        delayed: false,
    },
    Setup {
        pinned: true,
        nodelay: false,
        delayed: false,
    },
    Setup {
        pinned: true,
        nodelay: true,
        delayed: false,
    },
    Setup {
        pinned: false,
        nodelay: false,
        delayed: true,
    },
    Setup {
        pinned: false,
        nodelay: true,
        delayed: true,
    },
];

impl Setup {
    pub fn name(&self) -> String {
        format!(
            "{}, {}{}",
            if self.pinned { "pinned" } else { "free" },
            if self.nodelay { "nodelay" } else { "Nagle" },
            if self.delayed { ", +1 ms" } else { "" }
        )
    }
}

/// One client configuration: a subject with the I/O hints it runs with
/// (`MQTTX_IO_HINTS`, see `mqttx_client::io_hints`).
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub subject: Subject,
    pub hints: &'static str,
    pub name: &'static str,
}

pub const VARIANTS: [Variant; 8] = [
    Variant {
        subject: Subject::MqttxV5,
        hints: "",
        name: "mqttx v5",
    },
    Variant {
        subject: Subject::MqttxV5,
        hints: "read_buffer=65536",
        name: "read 64 KiB",
    },
    Variant {
        subject: Subject::MqttxV5,
        hints: "-read_pacing",
        name: "-read_pacing",
    },
    Variant {
        subject: Subject::MqttxV5,
        hints: "-ack_batching",
        name: "-ack_batching",
    },
    Variant {
        subject: Subject::MqttxV5,
        hints: "off",
        name: "hints off",
    },
    Variant {
        subject: Subject::MqttxV311,
        hints: "",
        name: "mqttx v3.1.1",
    },
    Variant {
        subject: Subject::RumqttcV5,
        hints: "",
        name: "rumqttc v5",
    },
    Variant {
        subject: Subject::RumqttcV4,
        hints: "",
        name: "rumqttc v4",
    },
];

impl Variant {
    fn is_rumqttc(&self) -> bool {
        matches!(self.subject, Subject::RumqttcV5 | Subject::RumqttcV4)
    }
}

/// One measurement.
pub struct Cell {
    pub setup: usize,
    pub window: u16,
    pub qos: u8,
    pub variant: usize,
    pub row: Row,
}

/// mosquitto, maybe behind the delay line.
struct MatrixServer {
    broker: BenchBroker,
    line: Option<DelayLine>,
}

impl Server for MatrixServer {
    fn port(&self) -> u16 {
        self.line.as_ref().map_or(self.broker.port(), DelayLine::port)
    }
    fn cpu_seconds(&self) -> f64 {
        self.broker.cpu_seconds()
    }
    fn settle(&self) {
        self.broker.settle()
    }
}

impl MatrixServer {
    fn start(setup: Setup) -> Result<MatrixServer, Box<dyn std::error::Error>> {
        let broker = BenchBroker::start_with(setup.nodelay)?;
        if setup.pinned {
            let pid = broker.pid().ok_or("mosquitto has no pid")?;
            crate::pin::pid_to_core(pid as libc::pid_t, BROKER_CORE);
        }
        let line = match setup.delayed {
            true => Some(DelayLine::start(broker.port(), DELAY)?),
            false => None,
        };
        Ok(MatrixServer { broker, line })
    }
}

/// Runs every cell the plan's subjects allow.
pub fn run(plan: &Plan) -> Result<Vec<Cell>, Box<dyn std::error::Error>> {
    let variants: Vec<usize> = (0..VARIANTS.len())
        .filter(|&v| plan.subjects.contains(&VARIANTS[v].subject))
        .collect();
    let mut cells = Vec::new();
    for (s, setup) in SETUPS.iter().enumerate() {
        let server = MatrixServer::start(*setup)?;
        let messages = match setup.delayed {
            true => plan.matrix_messages / DELAYED_SHARE,
            false => plan.matrix_messages,
        };
        eprintln!("matrix: {} ({messages} messages a cell)", setup.name());
        for window in WINDOWS {
            for qos in 0..3u8 {
                for &v in &variants {
                    let variant = VARIANTS[v];
                    let env = [
                        ("BENCH_WINDOW", window.to_string()),
                        ("MQTTX_IO_HINTS", variant.hints.to_owned()),
                    ];
                    let what = format!("throughput {qos} {messages}");
                    let row = child::measure_with(&server, &what, variant.subject, &env);
                    cells.push(Cell {
                        setup: s,
                        window,
                        qos,
                        variant: v,
                        row,
                    });
                }
            }
        }
    }
    Ok(cells)
}

/// What a cell's figures say of one mqttx variant.
struct Verdict {
    ratio: f64,
    cpu_ratio: f64,
    pass: bool,
}

fn per_message(seconds: f64, row: &Row) -> f64 {
    seconds / row.messages.max(1) as f64
}

fn busy(row: &Row) -> f64 {
    row.broker_cpu / row.elapsed.as_secs_f64().max(1e-9)
}

fn complete(row: &Row) -> bool {
    row.lost == 0 && row.rate().is_some()
}

fn verdict(mine: &Row, best: &Row) -> Option<Verdict> {
    let (rate, best_rate) = (mine.rate()?, best.rate()?);
    let ratio = rate / best_rate;
    let cpu_ratio = per_message(mine.client_cpu, mine) / per_message(best.client_cpu, best).max(1e-12);
    let lean = cpu_ratio <= 0.5;
    let broker_bound = busy(mine) >= 0.95 || busy(best) >= 0.95;
    let broker_frugal = per_message(mine.broker_cpu, mine) <= per_message(best.broker_cpu, best);
    let pass = complete(mine) && lean && (ratio >= 1.2 || (broker_bound && ratio >= 1.0 && broker_frugal));
    Some(Verdict {
        ratio,
        cpu_ratio,
        pass,
    })
}

/// Prints one table line a cell, then each mqttx variant's tally.
pub fn print(cells: &[Cell]) {
    let mqttx: Vec<usize> = (0..VARIANTS.len())
        .filter(|&v| !VARIANTS[v].is_rumqttc() && cells.iter().any(|c| c.variant == v))
        .collect();
    println!();
    print!("| setup | window | QoS | best rumqttc | broker busy |");
    for &v in &mqttx {
        print!(" {} |", VARIANTS[v].name);
    }
    println!();
    println!("|---|---:|---:|---|---:|{}", "---|".repeat(mqttx.len()));
    let mut tallies: Vec<(usize, u32, u32, f64, f64)> = mqttx.iter().map(|&v| (v, 0, 0, 0.0, 0.0)).collect();
    for (s, setup) in SETUPS.iter().enumerate() {
        for window in WINDOWS {
            for qos in 0..3u8 {
                let here: Vec<&Cell> = cells
                    .iter()
                    .filter(|c| c.setup == s && c.window == window && c.qos == qos)
                    .collect();
                let best = here
                    .iter()
                    .filter(|c| VARIANTS[c.variant].is_rumqttc() && complete(&c.row))
                    .max_by(|a, b| {
                        a.row
                            .rate()
                            .partial_cmp(&b.row.rate())
                            .unwrap_or(std::cmp::Ordering::Equal)
                    });
                let Some(best) = best else { continue };
                print!(
                    "| {} | {window} | {qos} | {} {:.0}k | {:.0} % |",
                    setup.name(),
                    VARIANTS[best.variant].name,
                    best.row.rate().unwrap_or(0.0) / 1e3,
                    100.0 * busy(&best.row)
                );
                for tally in tallies.iter_mut() {
                    let mine = here.iter().find(|c| c.variant == tally.0);
                    match mine.and_then(|m| verdict(&m.row, &best.row).map(|v| (m, v))) {
                        Some((m, v)) => {
                            tally.1 += u32::from(v.pass);
                            tally.2 += 1;
                            tally.3 += v.ratio.ln();
                            tally.4 += v.cpu_ratio.ln();
                            let lost = if m.row.lost > 0 {
                                format!(" lost {}", m.row.lost)
                            } else {
                                String::new()
                            };
                            print!(
                                " {:.2}× · {:.2} {}{lost} |",
                                v.ratio,
                                v.cpu_ratio,
                                if v.pass { "✓" } else { "✗" }
                            );
                        }
                        None => print!(" - |"),
                    }
                }
                println!();
            }
        }
    }
    println!();
    println!("| mqttx variant | cells passed | geometric mean rate ratio | geometric mean CPU ratio |");
    println!("|---|---:|---:|---:|");
    for (v, passed, cells, ln_ratio, ln_cpu) in tallies {
        let n = f64::from(cells.max(1));
        println!(
            "| {} | {passed} of {cells} | {:.2}× | {:.2} |",
            VARIANTS[v].name,
            (ln_ratio / n).exp(),
            (ln_cpu / n).exp()
        );
    }
}
