use mqttx::{mqtt_handler, Publish};

struct Handler;

#[mqtt_handler]
impl Handler {
    #[subscribe("sensors/#", qoss = 1)]
    fn on_sensor(&mut self, _msg: &Publish) {}
}

fn main() {}
