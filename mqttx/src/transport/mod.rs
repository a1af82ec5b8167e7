//! The byte streams a connection runs over. Each transport hands the
//! connection a read half and a write half; nothing here knows MQTT.

mod tcp;

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::options::Transport;
use crate::Error;

/// The read side of a transport.
pub(crate) type ReadHalf = Box<dyn AsyncRead + Unpin>;
/// The write side of a transport.
pub(crate) type WriteHalf = Box<dyn AsyncWrite + Unpin>;

/// Where and how to open a transport.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) transport: Transport,
}

/// Opens the transport, giving up after `timeout`.
pub(crate) async fn open(endpoint: Endpoint, timeout: Duration) -> Result<(ReadHalf, WriteHalf), Error> {
    let opening = async {
        match endpoint.transport {
            Transport::Tcp => tcp::open(&endpoint.host, endpoint.port).await,
            other => Err(Error::InvalidOptions(format!(
                "the {other:?} transport is not available yet"
            ))),
        }
    };
    match tokio::time::timeout(timeout, opening).await {
        Ok(result) => result,
        Err(_) => Err(Error::Io(std::sync::Arc::new(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "no connection to {}:{} within {timeout:?}",
                endpoint.host, endpoint.port
            ),
        )))),
    }
}
