//! The one table the run prints.

use std::time::Duration;

/// One client in one scenario.
#[derive(Debug, Default, Clone)]
pub struct Row {
    pub scenario: String,
    pub subject: &'static str,
    /// Messages the scenario moved (for throughput and CPU per message).
    pub messages: u64,
    pub elapsed: Duration,
    pub lost: u32,
    pub duplicates: u32,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    pub max: Option<Duration>,
    pub rss_per_connection: Option<f64>,
    pub client_cpu: f64,
    pub broker_cpu: f64,
    pub note: String,
}

impl Row {
    pub fn rate(&self) -> Option<f64> {
        (self.messages > 0 && !self.elapsed.is_zero() && self.p50.is_none())
            .then(|| self.messages as f64 / self.elapsed.as_secs_f64())
    }

    /// The broker's CPU time over the row's wall time: near 100 % the
    /// broker, not the client, sets the rate.
    fn broker_busy(&self) -> Option<f64> {
        self.rate()
            .map(|_| 100.0 * self.broker_cpu / self.elapsed.as_secs_f64())
    }

    fn cpu_per_100k(&self) -> Option<f64> {
        (self.messages > 0).then(|| self.client_cpu * 100_000.0 / self.messages as f64)
    }

    /// The figure the ratio column compares, and whether higher is better.
    fn key_figure(&self) -> Option<(f64, bool)> {
        if let Some(rss) = self.rss_per_connection {
            return Some((rss, false));
        }
        if let Some(p50) = self.p50 {
            return Some((p50.as_secs_f64(), false));
        }
        self.rate().map(|r| (r, true))
    }

    pub fn one_line(&self) -> String {
        format!(
            "{:<28} {:<14} {}  lost {} dup {}  client {:.2}s broker {:.2}s {}",
            self.scenario,
            self.subject,
            self.headline(),
            self.lost,
            self.duplicates,
            self.client_cpu,
            self.broker_cpu,
            self.note
        )
    }

    fn headline(&self) -> String {
        if let Some(rss) = self.rss_per_connection {
            return format!(
                "{:.1} KiB/conn, connected in {:.2}s",
                rss / 1024.0,
                self.elapsed.as_secs_f64()
            );
        }
        if let (Some(p50), Some(p99), Some(max)) = (self.p50, self.p99, self.max) {
            return format!("p50 {} p99 {} max {}", micros(p50), micros(p99), micros(max));
        }
        match self.rate() {
            Some(rate) => format!("{:.0} msg/s", rate),
            None => "-".into(),
        }
    }
}

fn micros(d: Duration) -> String {
    if d >= Duration::from_millis(10) {
        format!("{:.1}ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{}µs", d.as_micros())
    }
}

#[derive(Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// The table, with each mqttx row's figure divided by the best rumqttc
    /// figure of its scenario (for rates, higher is better; for latency and
    /// memory the ratio is rumqttc's best over mqttx's, so above 1 is better
    /// everywhere), and the same for client CPU per 100,000 messages
    /// (mqttx over rumqttc's best: below 1 is better).
    pub fn print(&self) {
        println!();
        println!(
            "| scenario | client | result | lost | dup | client CPU s/100k msgs | broker CPU s | broker busy | vs best rumqttc | CPU vs best rumqttc |"
        );
        println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for row in &self.rows {
            let peers: Vec<&Row> = self
                .rows
                .iter()
                .filter(|r| r.scenario == row.scenario && r.subject.starts_with("rumqttc"))
                .collect();
            let (ratio, cpu_ratio) = if row.subject.starts_with("mqttx") {
                (ratio(row, &peers), cpu_ratio(row, &peers))
            } else {
                (String::new(), String::new())
            };
            println!(
                "| {} | {} | {} | {} | {} | {} | {:.2} | {} | {} | {} |",
                row.scenario,
                row.subject,
                row.headline(),
                row.lost,
                row.duplicates,
                row.cpu_per_100k()
                    .map(|c| format!("{c:.2}"))
                    .unwrap_or_else(|| "-".into()),
                row.broker_cpu,
                row.broker_busy()
                    .map(|b| format!("{b:.0} %"))
                    .unwrap_or_else(|| "-".into()),
                ratio,
                cpu_ratio,
            );
        }
        for row in self.rows.iter().filter(|r| !r.note.is_empty()) {
            println!("- {} / {}: {}", row.scenario, row.subject, row.note);
        }
    }
}

fn ratio(row: &Row, peers: &[&Row]) -> String {
    let Some((mine, higher_better)) = row.key_figure() else {
        return "-".into();
    };
    let best = peers
        .iter()
        .filter_map(|p| p.key_figure().map(|(v, _)| v))
        .filter(|v| *v > 0.0)
        .reduce(|a, b| if higher_better { a.max(b) } else { a.min(b) });
    match best {
        Some(best) if mine > 0.0 => {
            let r = if higher_better { mine / best } else { best / mine };
            format!("{r:.2}×")
        }
        _ => "-".into(),
    }
}

fn cpu_ratio(row: &Row, peers: &[&Row]) -> String {
    let Some(mine) = row.cpu_per_100k() else {
        return "-".into();
    };
    let best = peers
        .iter()
        .filter_map(|p| p.cpu_per_100k())
        .filter(|v| *v > 0.0)
        .reduce(f64::min);
    match best {
        Some(best) if mine > 0.0 => format!("{:.2}", mine / best),
        _ => "-".into(),
    }
}
