use mqttx::{mqtt_handler, Publish};

struct Handler<'a> {
    name: &'a str,
}

#[mqtt_handler]
impl<'a> Handler<'a> {
    #[subscribe("sensors/temp")]
    fn on_temp(&mut self, _msg: &Publish) {
        let _ = self.name;
    }
}

fn main() {}
