use mqttx::{mqtt_handler, Publish, ConnAck, DisconnectReason, Json, Client, HandlerContext, Responder, ExtractError, Bytes, AuthResponse, Auth};

#[derive(Default)]
struct Sensors { readings: u64 }

#[mqtt_handler]
impl Sensors {
    #[subscribe("sensors/{room}/temp", qos = 1)]
    fn on_temp(&mut self, room: &str, msg: &Publish) { self.readings += 1; let _ = (room, msg); }

    #[connected]
    fn on_connected(&mut self, connack: &ConnAck) {}

    #[disconnected]
    fn on_disconnected(&mut self, reason: &DisconnectReason) {}
}

#[derive(serde::Deserialize)]
struct Reading { v: f64 }

struct Many;

#[mqtt_handler]
impl Many {
    #[subscribe("a/{n}/{*rest}", qos = 2, no_local, retain_handling = DoNotSend)]
    async fn a(&mut self, n: u32, rest: String, Json(r): Json<Reading>, client: Client) -> Result<(), mqttx::Error> {
        client.publish("x", "y").await?;
        let _ = (n, rest, r.v);
        Ok(())
    }
    #[subscribe("$share/g/b/{id}")]
    fn b(&mut self, id: &str, body: &str, ctx: &mut HandlerContext<'_>, c: &Client, raw: &[u8], bytes: Bytes, resp: Option<Responder>) {}
    #[message]
    async fn other(&self, msg: &Publish, r: Responder) {}
    #[extract_error]
    fn bad(&mut self, e: &ExtractError, msg: &Publish) {}
    #[auth]
    async fn auth(&mut self, a: &Auth) -> AuthResponse { AuthResponse::Done }
    #[publish_error]
    fn pe(&mut self, e: &mqttx::PublishError, ctx: &mut HandlerContext<'_>) {}
}

fn main() {}
