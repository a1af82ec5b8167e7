use mqttx::{mqtt_handler, ConnAck};

struct Handler;

#[mqtt_handler]
impl Handler {
    #[connected]
    fn first(&mut self, _connack: &ConnAck) {}

    #[connected]
    fn second(&mut self) {}
}

fn main() {}
