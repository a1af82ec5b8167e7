use mqttx::{mqtt_handler, ConnAck};

struct Handler;

#[mqtt_handler]
impl Handler {
    #[conected]
    fn on_connected(&mut self, _connack: &ConnAck) {}
}

fn main() {}
