//! TLS, WebSocket, secure WebSocket, the HTTP proxy and failover, against
//! real mosquitto listeners with certificates made for each test.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mqttx::packet::{decode, encode, ConnAckProperties, DisconnectProperties};
use mqttx::{
    Backoff, Client, ConnAck, ConnectOptions, Disconnect, DisconnectReason, Error, Packet, ProtocolVersion,
    Proxy, QoS, ReasonCode, TlsError, TlsOptions, Transport,
};
use mqttx_tests::certs::Pki;
use mqttx_tests::events::{recorder, Events};
use mqttx_tests::proxy::HttpProxy;
use mqttx_tests::{net, Broker};

const WAIT: Duration = Duration::from_secs(10);
const TRANSPORTS: [Transport; 4] = [Transport::Tcp, Transport::Tls, Transport::Ws, Transport::Wss];

/// A broker with a plain, a TLS, a WebSocket and a secure WebSocket
/// listener, all with the server certificate of `pki`.
fn broker_with_every_listener(pki: &Pki) -> Broker {
    let tls = pki.listener_config(false);
    Broker::builder()
        .listener_extra("tls", &tls)
        .listener_extra("ws", "protocol websockets")
        .listener_extra("wss", &format!("protocol websockets\n{tls}"))
        .start()
        .unwrap()
}

fn port_for(broker: &Broker, transport: Transport) -> u16 {
    match transport {
        Transport::Tcp => broker.port(),
        Transport::Tls => broker.listener_port("tls").unwrap(),
        Transport::Ws => broker.listener_port("ws").unwrap(),
        Transport::Wss => broker.listener_port("wss").unwrap(),
    }
}

/// Options for `transport` on the broker's matching listener, trusting the
/// test CA; fast reconnects.
fn options(broker: &Broker, pki: &Pki, transport: Transport, client_id: &str) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", client_id)
        .transport(transport)
        .port(port_for(broker, transport))
        .tls(TlsOptions::new().ca_pem(pki.ca_pem()))
        .backoff(
            Backoff::default()
                .initial(Duration::from_millis(100))
                .max(Duration::from_millis(500)),
        )
        .connect_timeout(Duration::from_secs(10))
}

/// Subscribes with `sub`, publishes at QoS 1 with `publisher`, and waits
/// for the message.
async fn round_trip(sub: &Client, events: &mut Events, publisher: &Client, topic: &str) {
    sub.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
    let payload = Bytes::from(format!("over {topic}"));
    publisher
        .publish(topic, payload.clone())
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    let msg = events.message(WAIT).await;
    assert_eq!(&*msg.topic, topic);
    assert_eq!(msg.payload, payload);
}

#[actix_rt::test]
async fn pub_sub_round_trip_over_every_transport() {
    let pki = Pki::new().unwrap();
    let broker = broker_with_every_listener(&pki);
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        for transport in TRANSPORTS {
            let id = format!("{transport:?}-{version:?}").to_lowercase();
            let (recorder, mut events) = recorder();
            let client = Client::connect(
                options(&broker, &pki, transport, &id)
                    .protocol_version(version)
                    .handler(recorder),
            )
            .await
            .unwrap_or_else(|err| panic!("{id}: {err}\n{}", broker.log()));
            // The same client publishes and receives: both directions cross this transport.
            round_trip(&client, &mut events, &client, &format!("transport/{id}")).await;

            // Pipelined publishes: several packets share a write (and so a
            // WebSocket frame); the last is larger than a TLS record.
            // (mosquitto serves WebSocket clients from its main loop every
            // ~100 ms, so the count stays small.)
            let payloads: Vec<Bytes> = (0..10u8)
                .map(|n| Bytes::from(vec![n; 100]))
                .chain([Bytes::from(vec![0x5a; 40_000])])
                .collect();
            let sends: Vec<_> = payloads
                .iter()
                .map(|payload| {
                    let publish = client.publish(format!("transport/{id}"), payload.clone());
                    std::future::IntoFuture::into_future(publish.qos(QoS::AtLeastOnce))
                })
                .collect();
            for send in sends {
                send.await.unwrap();
            }
            for payload in &payloads {
                assert_eq!(&events.message(WAIT).await.payload, payload);
            }
            client.disconnect().await.unwrap();
        }
    }
}

#[actix_rt::test]
async fn an_untrusted_certificate_fails_at_once_unless_verification_is_explicitly_off() {
    let pki = Pki::new().unwrap();
    let other_ca = Pki::new().unwrap();
    let broker = broker_with_every_listener(&pki);
    for transport in [Transport::Tls, Transport::Wss] {
        for (what, tls) in [
            ("another CA", TlsOptions::new().ca_pem(other_ca.ca_pem())),
            ("the built-in roots", TlsOptions::new()),
        ] {
            let started = Instant::now();
            let result = Client::connect(
                options(&broker, &pki, transport, "untrusted")
                    .tls(tls)
                    .connect_timeout(Duration::from_secs(20)),
            )
            .await;
            assert!(
                matches!(result, Err(Error::Tls(TlsError::UntrustedCertificate))),
                "{transport:?} trusting {what}: {result:?}"
            );
            let message = result.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("not trusted"), "{message}");
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "a certificate failure is not retried until the connect timeout"
            );
        }

        let insecure = options(&broker, &pki, transport, "insecure")
            .tls(TlsOptions::new().danger_accept_invalid_certs(true));
        let client = Client::connect(insecure).await.unwrap();
        client.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn a_certificate_for_another_name_fails_and_server_name_overrides_the_host() {
    let pki = Pki::for_server_names(&["broker.test"]).unwrap();
    let broker = broker_with_every_listener(&pki);
    for transport in [Transport::Tls, Transport::Wss] {
        // Connecting to 127.0.0.1: the certificate is for broker.test only.
        let result = Client::connect(options(&broker, &pki, transport, "wrong-name")).await;
        match &result {
            Err(Error::Tls(TlsError::NameMismatch { expected, presented })) => {
                assert_eq!(expected, "127.0.0.1");
                assert_eq!(presented, &["DnsName(\"broker.test\")"]);
            }
            other => panic!("{transport:?}: expected a name mismatch, got {other:?}"),
        }

        let (recorder, mut events) = recorder();
        let named = options(&broker, &pki, transport, "right-name")
            .tls(TlsOptions::new().ca_pem(pki.ca_pem()).server_name("broker.test"))
            .handler(recorder);
        let client = Client::connect(named).await.unwrap();
        round_trip(&client, &mut events, &client, "named").await;
        client.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn mutual_tls_needs_a_client_certificate_from_the_trusted_ca() {
    let pki = Pki::new().unwrap();
    let stranger = Pki::new().unwrap();
    let mtls = pki.listener_config(true);
    let broker = Broker::builder()
        .listener_extra("tls", &mtls)
        .listener_extra("wss", &format!("protocol websockets\n{mtls}"))
        .start()
        .unwrap();
    for transport in [Transport::Tls, Transport::Wss] {
        let id = format!("{transport:?}");
        let port = port_for(&broker, transport);
        let with_cert = |identity: &mqttx_tests::certs::Identity| {
            TlsOptions::new()
                .ca_pem(pki.ca_pem())
                .client_cert_pem(identity.cert_pem.clone(), identity.key_pem.clone())
        };

        let (recorder, mut events) = recorder();
        let client = Client::connect(
            options(&broker, &pki, transport, &id)
                .port(port)
                .tls(with_cert(pki.client()))
                .handler(recorder),
        )
        .await
        .unwrap_or_else(|err| panic!("{id} with a client certificate: {err}\n{}", broker.log()));
        round_trip(&client, &mut events, &client, "mtls").await;
        client.disconnect().await.unwrap();

        for (what, tls) in [
            ("no client certificate", TlsOptions::new().ca_pem(pki.ca_pem())),
            ("a certificate from another CA", with_cert(stranger.client())),
        ] {
            let started = Instant::now();
            let result = Client::connect(
                options(&broker, &pki, transport, &id)
                    .port(port)
                    .tls(tls)
                    .connect_timeout(Duration::from_secs(20)),
            )
            .await;
            assert!(
                matches!(result, Err(Error::Tls(TlsError::ClientCertificateRejected(_)))),
                "{id} with {what}: {result:?}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{id} with {what}: not retried"
            );
        }
    }
}

#[actix_rt::test]
async fn unusable_tls_settings_fail_at_once() {
    let pki = Pki::new().unwrap();
    let broker = broker_with_every_listener(&pki);
    for (what, tls) in [
        (
            "a CA that is not PEM",
            TlsOptions::new().ca_pem("not a certificate"),
        ),
        (
            "a missing CA file",
            TlsOptions::new().ca_pem_file(pki.dir().join("missing.pem")),
        ),
        (
            "a client key that is not PEM",
            TlsOptions::new()
                .ca_pem(pki.ca_pem())
                .client_cert_pem(pki.client().cert_pem.clone(), "garbage"),
        ),
    ] {
        let result = Client::connect(options(&broker, &pki, Transport::Tls, "bad").tls(tls)).await;
        assert!(
            matches!(result, Err(Error::Tls(TlsError::Config(_)))),
            "{what}: {result:?}"
        );
    }
    // Files work as well as text.
    let from_files = TlsOptions::new().ca_pem_file(pki.ca_path());
    let client = Client::connect(options(&broker, &pki, Transport::Tls, "files").tls(from_files))
        .await
        .unwrap();
    client.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn every_transport_runs_through_an_http_proxy() {
    let pki = Pki::new().unwrap();
    let broker = broker_with_every_listener(&pki);
    let proxy = HttpProxy::start(None).await.unwrap();
    for transport in TRANSPORTS {
        let id = format!("proxied-{transport:?}");
        let (recorder, mut events) = recorder();
        let opts = options(&broker, &pki, transport, &id)
            .proxy(Proxy::http("127.0.0.1", proxy.port()))
            .handler(recorder);
        let client = Client::connect(opts)
            .await
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        round_trip(&client, &mut events, &client, &id).await;
        client.disconnect().await.unwrap();
        let target = format!("127.0.0.1:{}", port_for(&broker, transport));
        assert_eq!(
            proxy.log().tunnels.last(),
            Some(&target),
            "{id} went through the proxy"
        );
    }
    assert_eq!(proxy.log().tunnels.len(), TRANSPORTS.len());
}

#[actix_rt::test]
async fn proxy_basic_auth_and_a_407_refusal() {
    let pki = Pki::new().unwrap();
    let broker = broker_with_every_listener(&pki);
    let proxy = HttpProxy::start(Some(("alice", "s3cret"))).await.unwrap();
    let through = |proxy_settings: Proxy| {
        options(&broker, &pki, Transport::Tls, "auth")
            .proxy(proxy_settings)
            .connect_timeout(Duration::from_secs(20))
    };

    let client = Client::connect(through(
        Proxy::http("127.0.0.1", proxy.port()).credentials("alice", "s3cret"),
    ))
    .await
    .unwrap();
    client.disconnect().await.unwrap();
    assert_eq!(proxy.log().tunnels.len(), 1);

    for (what, settings) in [
        ("no credentials", Proxy::http("127.0.0.1", proxy.port())),
        (
            "a wrong password",
            Proxy::http("127.0.0.1", proxy.port()).credentials("alice", "guess"),
        ),
    ] {
        let started = Instant::now();
        let result = Client::connect(through(settings)).await;
        match &result {
            Err(err @ Error::ProxyRefused { status: 407, .. }) => {
                assert!(!err.is_retryable());
                assert!(err.to_string().contains("407"), "{err}");
            }
            other => panic!("{what}: expected a 407 refusal, got {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: a 407 is not retried"
        );
    }
    assert_eq!(proxy.log().refused, 2);
    assert_eq!(proxy.log().tunnels.len(), 1);
}

#[actix_rt::test]
async fn connect_fails_over_to_the_second_server_at_once() {
    let broker = Broker::start().unwrap();
    let nobody = net::free_port().unwrap();
    let (recorder, mut events) = recorder();
    let opts = ConnectOptions::new("127.0.0.1", "failover")
        .servers([("127.0.0.1", nobody), ("127.0.0.1", broker.port())])
        // A long backoff: reaching the second server must not wait for it.
        .backoff(Backoff::default().initial(Duration::from_secs(20)).jitter(0.0))
        .handler(recorder);
    let started = Instant::now();
    let client = Client::connect(opts).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the second server is tried without waiting out the backoff"
    );
    round_trip(&client, &mut events, &client, "failover").await;
    client.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn reconnects_move_through_the_servers() {
    let mut first = Broker::start().unwrap();
    let mut second = Broker::start().unwrap();
    let (recorder, mut events) = recorder();
    let opts = ConnectOptions::new("127.0.0.1", "rotating")
        .port(first.port())
        .add_server("127.0.0.1", second.port())
        .backoff(
            Backoff::default()
                .initial(Duration::from_millis(100))
                .max(Duration::from_millis(500)),
        )
        .handler(recorder);
    let client = Client::connect(opts).await.unwrap();
    events.connected(WAIT).await;
    round_trip(&client, &mut events, &client, "on/first").await;

    // The first broker goes away: the client moves to the second.
    first.kill().unwrap();
    assert!(matches!(
        events.disconnected(WAIT).await,
        DisconnectReason::Transport(_)
    ));
    events.connected(WAIT).await;
    round_trip(&client, &mut events, &client, "on/second").await;
    assert!(
        second.log().contains("rotating"),
        "the second broker saw the client:\n{}",
        second.log()
    );

    // And back to the first when the second goes away.
    first.start_again().unwrap();
    second.kill().unwrap();
    events.disconnected(WAIT).await;
    events.connected(WAIT).await;
    round_trip(&client, &mut events, &client, "on/first/again").await;
    client.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn after_a_connection_a_certificate_failure_is_retried() {
    let pki = Pki::new().unwrap();
    let impostor = Pki::new().unwrap();
    let mut broker = Broker::builder()
        .listener_extra("tls", &pki.listener_config(false))
        .start()
        .unwrap();
    let (recorder, mut events) = recorder();
    let client = Client::connect(options(&broker, &pki, Transport::Tls, "rotation").handler(recorder))
        .await
        .unwrap();
    events.connected(WAIT).await;

    // The broker comes back with a certificate the client does not trust,
    // as in a botched rotation...
    let keep = |path: std::path::PathBuf| (std::fs::read(&path).unwrap(), path);
    let originals = [keep(pki.server_cert_path()), keep(pki.server_key_path())];
    broker.stop().unwrap();
    std::fs::copy(impostor.server_cert_path(), pki.server_cert_path()).unwrap();
    std::fs::copy(impostor.server_key_path(), pki.server_key_path()).unwrap();
    broker.start_again().unwrap();
    events.disconnected(WAIT).await;
    let log_start = broker.log().len();
    let deadline = Instant::now() + WAIT;
    // ...and refuses the client's attempts at least twice (mosquitto logs each).
    while broker.log()[log_start..].matches("unknown ca").count() < 2 {
        assert!(
            Instant::now() < deadline,
            "no refused attempts:\n{}",
            broker.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The right certificate again: the client, still retrying, gets back in.
    broker.stop().unwrap();
    for (bytes, path) in &originals {
        std::fs::write(path, bytes).unwrap();
    }
    broker.start_again().unwrap();
    events.connected(WAIT).await;
    round_trip(&client, &mut events, &client, "rotated").await;
    client.disconnect().await.unwrap();
}

/// A scripted MQTT 5 server, for what no real broker here does: name
/// another server. It answers every CONNECT with `script`, then holds the
/// connection until the client closes it.
async fn scripted_peer(script: Vec<Packet>) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let script = script.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = bytes::BytesMut::new();
                loop {
                    if let Ok(Some(Packet::Connect(_))) = decode(&mut buf, ProtocolVersion::V5, 1 << 20) {
                        break;
                    }
                    if socket.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                        return;
                    }
                }
                let mut out = bytes::BytesMut::new();
                for packet in &script {
                    encode(packet, ProtocolVersion::V5, &mut out).unwrap();
                }
                let _ = socket.write_all(&out).await;
                while socket.read_buf(&mut buf).await.unwrap_or(0) > 0 {}
            });
        }
    });
    (port, task)
}

#[actix_rt::test]
async fn a_connack_naming_another_server_is_followed() {
    let broker = Broker::start().unwrap();
    let refusal = Packet::ConnAck(ConnAck {
        reason_code: ReasonCode::UseAnotherServer,
        properties: ConnAckProperties {
            server_reference: Some(format!("127.0.0.1:{}", broker.port()).into()),
            ..ConnAckProperties::default()
        }
        .into(),
        ..ConnAck::default()
    });
    let (peer, _task) = scripted_peer(vec![refusal]).await;
    let (recorder, mut events) = recorder();
    let opts = ConnectOptions::new("127.0.0.1", "redirected")
        .port(peer)
        .backoff(Backoff::default().initial(Duration::from_secs(20)))
        .handler(recorder);
    let started = Instant::now();
    let client = Client::connect(opts).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "followed at once");
    assert!(broker.log().contains("redirected"), "{}", broker.log());
    round_trip(&client, &mut events, &client, "redirected").await;
    client.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn a_disconnect_saying_the_server_moved_is_followed() {
    let broker = Broker::start().unwrap();
    let moved = Packet::Disconnect(Disconnect {
        reason_code: ReasonCode::ServerMoved,
        properties: DisconnectProperties {
            server_reference: Some(format!("127.0.0.1:{}", broker.port()).into()),
            ..DisconnectProperties::default()
        }
        .into(),
    });
    let (peer, _task) = scripted_peer(vec![Packet::ConnAck(ConnAck::default()), moved]).await;
    let (recorder, mut events) = recorder();
    let opts = ConnectOptions::new("127.0.0.1", "moved")
        .port(peer)
        .backoff(Backoff::default().initial(Duration::from_millis(100)))
        .handler(recorder);
    let client = Client::connect(opts).await.unwrap();
    events.connected(WAIT).await;
    match events.disconnected(WAIT).await {
        DisconnectReason::Server(d) => assert_eq!(d.reason_code, ReasonCode::ServerMoved),
        other => panic!("expected the server's DISCONNECT, got {other:?}"),
    }
    events.connected(WAIT).await;
    assert!(broker.log().contains("moved"), "{}", broker.log());
    round_trip(&client, &mut events, &client, "moved").await;
    client.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn an_expired_or_self_signed_server_certificate_is_refused_with_a_typed_error() {
    let expired = Pki::expired_server().unwrap();
    let self_signed = Pki::self_signed_server().unwrap();
    for (pki, what) in [(&expired, "expired"), (&self_signed, "self-signed")] {
        let broker = broker_with_every_listener(pki);
        for transport in [Transport::Tls, Transport::Wss] {
            let result = Client::connect(options(&broker, pki, transport, "refused")).await;
            match (&result, what) {
                (Err(Error::Tls(TlsError::CertificateExpired)), "expired") => {}
                (Err(Error::Tls(TlsError::UntrustedCertificate)), "self-signed") => {}
                _ => panic!("{transport:?}, {what} certificate: {result:?}"),
            }
            let err = result.err().unwrap();
            assert!(
                !err.is_retryable(),
                "{what}: a certificate failure is final: {err}"
            );
        }
    }
}
