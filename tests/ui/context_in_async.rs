use mqttx::{mqtt_handler, HandlerContext, Publish};

struct Handler;

#[mqtt_handler]
impl Handler {
    #[subscribe("sensors/temp")]
    async fn on_temp(&mut self, _msg: &Publish, _ctx: &mut HandlerContext<'_>) {}
}

fn main() {}
