//! How `Client::disconnect` ends the stream under the DISCONNECT: with a
//! TLS close_notify, or a WebSocket Close frame. mosquitto accepts either
//! way without saying, so these servers are scripted: each reads the
//! CONNECT, answers with a CONNACK, and reports how the stream ended after
//! the client's DISCONNECT.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use mqttx::packet::{decode, encode};
use mqttx::{Client, ConnAck, ConnectOptions, Packet, ProtocolVersion, TlsOptions, Transport};
use mqttx_tests::certs::Pki;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

fn connack() -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(
        &Packet::ConnAck(ConnAck::default()),
        ProtocolVersion::V5,
        &mut out,
    )
    .unwrap();
    out.to_vec()
}

/// Decodes one packet from `bytes`, which must hold exactly one.
fn packet(bytes: &[u8]) -> Packet {
    let mut buf = BytesMut::from(bytes);
    let packet = decode(&mut buf, ProtocolVersion::V5, 1 << 20)
        .unwrap()
        .expect("a whole packet");
    assert!(buf.is_empty(), "one packet per message");
    packet
}

fn options(port: u16, transport: Transport, pki: &Pki) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", format!("closing-{transport:?}"))
        .transport(transport)
        .port(port)
        .tls(TlsOptions::new().ca_pem(pki.ca_pem()))
        .connect_timeout(WAIT)
}

/// A TLS server: after the DISCONNECT, a clean end of the TLS stream
/// (close_notify) reads as `Ok(0)`; a socket closed without one is an
/// `UnexpectedEof` error from rustls.
async fn tls_server(pki: &Pki) -> (u16, tokio::task::JoinHandle<std::io::Result<Vec<Packet>>>) {
    let certs = CertificateDer::pem_slice_iter(std::fs::read(pki.server_cert_path()).unwrap().as_slice())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki.server_key_path()).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await?;
        let mut tls = acceptor.accept(socket).await?;
        let mut buf = BytesMut::new();
        let mut packets = Vec::new();
        loop {
            while let Some(p) =
                decode(&mut buf, ProtocolVersion::V5, 1 << 20).map_err(std::io::Error::other)?
            {
                if let Packet::Connect(_) = p {
                    tls.write_all(&connack()).await?;
                }
                packets.push(p);
            }
            if tls.read_buf(&mut buf).await? == 0 {
                return Ok(packets);
            }
        }
    });
    (port, task)
}

/// A WebSocket server speaking the `mqtt` subprotocol: returns the packets
/// it got and whether a Close frame came before the end of the stream.
#[allow(clippy::result_large_err)] // the handshake callback's type is tungstenite's
async fn ws_server() -> (u16, tokio::task::JoinHandle<(Vec<Packet>, bool)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let subprotocol = |_: &Request, mut response: Response| {
            response
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
            Ok(response)
        };
        let mut ws = tokio_tungstenite::accept_hdr_async(socket, subprotocol)
            .await
            .unwrap();
        let mut packets = Vec::new();
        while let Some(message) = ws.next().await {
            match message {
                Ok(Message::Binary(bytes)) => {
                    let p = packet(&bytes);
                    if let Packet::Connect(_) = p {
                        ws.send(Message::Binary(connack().into())).await.unwrap();
                    }
                    packets.push(p);
                }
                Ok(Message::Close(_)) => return (packets, true),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        (packets, false)
    });
    (port, task)
}

#[actix_rt::test]
async fn disconnect_ends_tls_with_close_notify() {
    let pki = Pki::new().unwrap();
    let (port, server) = tls_server(&pki).await;
    let client = Client::connect(options(port, Transport::Tls, &pki))
        .await
        .unwrap();
    client.disconnect().await.unwrap();
    let ended = tokio::time::timeout(WAIT, server)
        .await
        .expect("the server saw the end")
        .unwrap();
    let packets = ended.expect("a clean TLS close (close_notify), not a truncated stream");
    assert!(
        matches!(packets.last(), Some(Packet::Disconnect(_))),
        "{packets:?}"
    );
}

#[actix_rt::test]
async fn disconnect_ends_a_websocket_with_a_close_frame() {
    let pki = Pki::new().unwrap();
    let (port, server) = ws_server().await;
    let client = Client::connect(options(port, Transport::Ws, &pki)).await.unwrap();
    client.disconnect().await.unwrap();
    let (packets, closed) = tokio::time::timeout(WAIT, server)
        .await
        .expect("the server saw the end")
        .unwrap();
    assert!(
        matches!(packets.last(), Some(Packet::Disconnect(_))),
        "{packets:?}"
    );
    assert!(closed, "a Close frame after the DISCONNECT");
}
