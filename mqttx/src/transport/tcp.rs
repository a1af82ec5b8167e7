use tokio::net::TcpStream;

use crate::Error;

/// Plain TCP with Nagle's algorithm off: MQTT packets are small and a
/// delayed acknowledgement would cost a round trip.
pub(super) async fn connect(host: &str, port: u16) -> Result<TcpStream, Error> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}
