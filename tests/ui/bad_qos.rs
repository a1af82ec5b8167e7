use mqttx::{mqtt_handler, Publish};

struct Handler;

#[mqtt_handler]
impl Handler {
    #[subscribe("sensors/temp", qos = 3)]
    fn on_temp(&mut self, _msg: &Publish) {}
}

fn main() {}
