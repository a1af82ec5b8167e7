// Every mistake is reported at once, and nothing else: the handler type
// still implements MqttHandler and its methods still exist.
use mqttx::{mqtt_handler, ConnectOptions, Publish};

struct Handler;

#[mqtt_handler]
impl Handler {
    #[subscribe("a/+b")]
    fn first(&mut self, _msg: &Publish) {}

    #[subscribe("c/{id}")]
    fn second(&mut self, _msg: &Publish) {}

    #[mesage]
    fn third(&mut self, _msg: &Publish) {}

    fn helper(&self) -> u32 {
        7
    }
}

fn main() {
    let _opts = ConnectOptions::new("localhost", "id").handler(Handler);
    let _ = Handler.helper();
}
