use mqttx::mqtt_handler;

struct Handler;

#[mqtt_handler]
impl Handler {
    #[subscribe("sensors/temp")]
    fn on_temp(&mut self, _count: &mut u32) {}
}

fn main() {}
