use tokio::net::TcpStream;

use super::{ReadHalf, WriteHalf};
use crate::Error;

/// Plain TCP with Nagle's algorithm off: MQTT packets are small and a
/// delayed acknowledgement would cost a round trip.
pub(super) async fn open(host: &str, port: u16) -> Result<(ReadHalf, WriteHalf), Error> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    let (read, write) = stream.into_split();
    Ok((Box::new(read), Box::new(write)))
}
