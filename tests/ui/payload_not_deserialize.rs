use mqttx::{mqtt_handler, Json};

struct NotSerde;

struct Handler;

#[mqtt_handler]
impl Handler {
    #[subscribe("sensors/temp")]
    fn on_temp(&mut self, _reading: Json<NotSerde>) {}
}

fn main() {}
