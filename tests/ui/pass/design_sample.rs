// The handler of DESIGN.md, as written there.
#![allow(unused_variables)]
use mqttx::{mqtt_handler, Publish, ConnAck, DisconnectReason};

#[derive(Default)]
struct Sensors { readings: u64 }

#[mqtt_handler]
impl Sensors {
    #[subscribe("sensors/{room}/temp", qos = 1)]
    fn on_temp(&mut self, room: &str, msg: &Publish) { self.readings += 1; }

    #[connected]
    fn on_connected(&mut self, connack: &ConnAck) {}

    #[disconnected]
    fn on_disconnected(&mut self, reason: &DisconnectReason) {}
}

fn main() {
    let _opts = mqttx::ConnectOptions::new("localhost", "c1").handler(Sensors::default());
}
