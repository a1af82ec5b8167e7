use mqttx::mqtt_handler;

struct Handler;

#[mqtt_handler]
impl Handler {
    #[subscribe("sensors/{value}")]
    fn on_value<T: std::str::FromStr>(&mut self, value: T) {
        let _ = value;
    }
}

fn main() {}
