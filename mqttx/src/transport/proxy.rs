//! The HTTP `CONNECT` handshake that turns a proxy connection into a
//! tunnel to the broker.

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::Error;
use crate::options::Proxy;

/// The longest proxy answer read before giving up on it.
const MAX_RESPONSE: usize = 8 * 1024;

/// Asks the proxy on `stream` for a tunnel to `host:port`; on success the
/// stream carries the broker's bytes.
pub(super) async fn tunnel(
    stream: &mut TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<(), Error> {
    let authority = super::authority(host, port);
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some((user, password)) = &proxy.credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;

    let head = read_head(stream).await?;
    let (status, reason) = status_line(&head)?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(Error::ProxyRefused { status, reason })
    }
}

/// Reads the response up to its blank line, one byte at a time: the
/// broker's bytes may follow at once (a WebSocket or TLS server speaks
/// only after us, but nothing guarantees it), and must stay in the socket.
/// It happens once per connection, for a few hundred bytes.
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, Error> {
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_RESPONSE {
            return Err(bad_answer("the answer to CONNECT is longer than 8 KiB"));
        }
        match stream.read_u8().await {
            Ok(byte) => head.push(byte),
            Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(bad_answer(
                    "the proxy closed the connection before answering CONNECT",
                ));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(head)
}

/// `HTTP/1.1 200 Connection established` → (200, "Connection established").
fn status_line(head: &[u8]) -> Result<(u16, String), Error> {
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let line = std::str::from_utf8(line).map_err(|_| bad_answer("the proxy's status line is not text"))?;
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(bad_answer("the proxy did not answer CONNECT with HTTP/1.x"));
    }
    let status = parts
        .next()
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad_answer("the proxy's answer has no status code"))?;
    let reason = parts.next().unwrap_or_default().trim().to_owned();
    Ok((status, reason))
}

fn bad_answer(message: &str) -> Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("HTTP proxy: {message}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        let (code, reason) = status_line(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
        assert_eq!((code, reason.as_str()), (200, "Connection established"));
        let (code, reason) =
            status_line(b"HTTP/1.0 407 Proxy Authentication Required\r\nX: y\r\n\r\n").unwrap();
        assert_eq!((code, reason.as_str()), (407, "Proxy Authentication Required"));
        assert_eq!(status_line(b"HTTP/1.1 502\r\n\r\n").unwrap().0, 502);
        for bad in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 abc\r\n\r\n",
            b"\xff\r\n\r\n",
        ] {
            assert!(matches!(status_line(bad), Err(Error::Io(_))));
        }
    }
}
