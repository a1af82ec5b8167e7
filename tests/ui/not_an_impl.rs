use mqttx::mqtt_handler;

#[mqtt_handler]
struct Handler;

fn main() {}
