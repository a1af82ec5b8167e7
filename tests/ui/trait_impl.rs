use mqttx::{mqtt_handler, MqttHandler};

struct Handler;

#[mqtt_handler]
impl MqttHandler for Handler {}

fn main() {}
