// Every parameter kind, async methods, a type parameter, a Result return.
use mqttx::{
    mqtt_handler, Auth, AuthResponse, Bytes, Client, ConnAck, DisconnectReason, ExtractError, HandlerContext,
    Json, Publish, PublishError, Responder,
};

#[derive(serde::Deserialize)]
struct Reading {
    celsius: f64,
}

struct Handler<T> {
    last: Option<T>,
}

#[mqtt_handler]
impl<T: Default + Unpin + 'static> Handler<T> {
    #[subscribe("a/{n}/{*rest}", qos = 2, no_local, retain_as_published = true, retain_handling = DoNotSend)]
    async fn a(&mut self, n: u32, rest: String, Json(r): Json<Reading>, client: Client) -> Result<(), mqttx::Error> {
        client.publish("x", format!("{n} {rest} {}", r.celsius)).await?;
        self.last = Some(T::default());
        Ok(())
    }

    #[subscribe("$share/g/b/{id}", qos = 0, retain_handling = 1)]
    #[allow(clippy::too_many_arguments)]
    fn b(
        &mut self,
        id: &str,
        body: &str,
        ctx: &mut HandlerContext<'_>,
        client: &Client,
        raw: &[u8],
        bytes: Bytes,
        responder: Option<Responder>,
        msg: &Publish,
    ) {
        let _ = (id, body, client, raw, bytes, responder);
        ctx.respond(msg, "ok");
    }

    #[message]
    async fn other(&self, _msg: &Publish, responder: Responder) {
        let _ = responder.respond("?").await;
    }

    #[extract_error]
    fn bad(&mut self, _error: &ExtractError, _msg: &Publish, _client: &Client) {}

    #[connected]
    async fn up(&mut self, _connack: &ConnAck, _client: Client) {}

    #[disconnected]
    fn down(&mut self, _reason: &DisconnectReason, _ctx: &mut HandlerContext<'_>) {}

    #[publish_error]
    fn refused(&mut self, _error: &PublishError) {}

    #[auth]
    async fn auth(&mut self, _auth: &Auth) -> AuthResponse {
        AuthResponse::Done
    }
}

fn main() {
    let _opts = mqttx::ConnectOptions::new("localhost", "c1").handler(Handler::<u8> { last: None });
}
