//! The reference row: mosquitto's own tools, `mosquitto_pub -l` into
//! `mosquitto_sub`, at QoS 0 — what the broker does with a client that
//! costs almost nothing.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::report::Row;

pub fn mosquitto_pub_sub(port: u16, count: u32) -> Row {
    let mut row = Row {
        scenario: "(e) reference QoS 0".into(),
        subject: "mosquitto_pub",
        ..Row::default()
    };
    let port = port.to_string();
    let sub = Command::new("mosquitto_sub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "bench/reference",
            "-q",
            "0",
            "-C",
            &count.to_string(),
        ])
        .stdout(Stdio::null())
        .spawn();
    let Ok(mut sub) = sub else {
        row.note = "mosquitto_sub not found (apt-get install mosquitto-clients)".into();
        return row;
    };
    // mosquitto_sub has no "subscribed" signal; give it a moment to subscribe.
    std::thread::sleep(Duration::from_millis(300));
    let lines: String = (0..count).map(|n| format!("{n:064}\n")).collect();
    let start = Instant::now();
    let publisher = Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "bench/reference",
            "-q",
            "0",
            "-l",
        ])
        .stdin(Stdio::piped())
        .spawn();
    let Ok(mut publisher) = publisher else {
        let _ = sub.kill();
        row.note = "mosquitto_pub not found".into();
        return row;
    };
    if let Some(mut stdin) = publisher.stdin.take() {
        let _ = stdin.write_all(lines.as_bytes());
    }
    let _ = publisher.wait();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match sub.try_wait() {
            Ok(Some(_)) => break,
            _ if Instant::now() > deadline => {
                let _ = sub.kill();
                row.note = "mosquitto_sub did not receive every message in 30 s".into();
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    row.elapsed = start.elapsed();
    row.messages = u64::from(count);
    row
}
