//! rumqttd, the examples' embedded broker, in a process of its own, so that
//! a test can kill it and start it again on the same ports (rumqttd has no
//! shutdown of its own).
//!
//! ```text
//! rumqttd_broker V4_PORT V5_PORT
//! ```
//!
//! It serves MQTT 3.1.1 on 127.0.0.1:V4_PORT and MQTT 5 on
//! 127.0.0.1:V5_PORT until it is killed.

use std::process::ExitCode;

fn main() -> ExitCode {
    let ports: Vec<u16> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let [v4, v5] = ports[..] else {
        eprintln!("usage: rumqttd_broker V4_PORT V5_PORT");
        return ExitCode::from(2);
    };
    match mqttx_examples::embedded_broker_on(v4, v5) {
        Ok(_) => loop {
            // The broker runs on its own threads; this one only keeps the
            // process alive until the test kills it.
            std::thread::park();
        },
        Err(err) => {
            eprintln!("rumqttd did not start: {err}");
            ExitCode::FAILURE
        }
    }
}
