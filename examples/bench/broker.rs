//! The one mosquitto every row runs against.

use mqttx_tests::Broker;

use crate::measure;

pub struct BenchBroker {
    broker: Broker,
}

impl BenchBroker {
    /// Persistence off, no in-flight or queue limits, no connection limit.
    pub fn start() -> Result<BenchBroker, Box<dyn std::error::Error>> {
        BenchBroker::start_with(false)
    }

    /// The same, with mosquitto's `set_tcp_nodelay` on or off (its default).
    pub fn start_with(nodelay: bool) -> Result<BenchBroker, Box<dyn std::error::Error>> {
        let mut config = String::from("max_connections -1\nconnection_messages false\n");
        if nodelay {
            config.push_str("set_tcp_nodelay true\n");
        }
        let broker = Broker::builder()
            .max_inflight_messages(0)
            .max_queued_messages(0)
            .extra_config(&config)
            .start()?;
        Ok(BenchBroker { broker })
    }

    pub fn pid(&self) -> Option<u32> {
        self.broker.pid()
    }

    pub fn port(&self) -> u16 {
        self.broker.port()
    }

    /// Waits (up to 20 s) until the broker has been idle for 100 ms, so a
    /// row does not start while it still tears down the previous row's
    /// connections (10,000 of them take it seconds).
    pub fn settle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut last = self.cpu_seconds();
        while std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let now = self.cpu_seconds();
            if now - last < 0.002 {
                return;
            }
            last = now;
        }
    }

    pub fn cpu_seconds(&self) -> f64 {
        self.broker.pid().map_or(0.0, measure::pid_cpu_seconds)
    }

    pub fn version(&self) -> String {
        let exe = mqttx_tests::find_mosquitto()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let out = std::process::Command::new(exe)
            .arg("-h")
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default();
        String::from_utf8_lossy(&out)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_owned()
    }
}
