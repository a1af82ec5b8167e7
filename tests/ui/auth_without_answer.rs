use mqttx::{mqtt_handler, Auth};

struct Handler;

#[mqtt_handler]
impl Handler {
    #[auth]
    fn on_auth(&mut self, _auth: &Auth) {}
}

fn main() {}
