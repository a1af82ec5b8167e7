use mqttx::{mqtt_handler, Publish};

struct Handler;

#[mqtt_handler]
impl Handler {
    #[subscribe("sensors/#/temp")]
    fn on_temp(&mut self, _msg: &Publish) {}
}

fn main() {}
