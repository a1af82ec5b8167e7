use mqttx::mqtt_handler;

struct Handler;

#[mqtt_handler]
impl Handler {
    #[subscribe("sensors/{room}/temp")]
    fn on_temp(&mut self, room: &str, floor: u32) {
        let _ = (room, floor);
    }
}

fn main() {}
