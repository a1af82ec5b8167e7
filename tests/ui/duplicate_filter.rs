use mqttx::mqtt_handler;

struct Handler;

#[mqtt_handler]
impl Handler {
    #[subscribe("sensors/{room}/temp")]
    fn on_temp(&mut self, room: &str) {
        let _ = room;
    }

    #[subscribe("sensors/{place}/temp")]
    fn on_place(&mut self, place: &str) {
        let _ = place;
    }
}

fn main() {}
