//! The client against a real mosquitto, for MQTT 3.1.1 and 5.

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqttx::{
    Client, ConnectOptions, DisconnectReason, Error, HandlerContext, LastWill, MqttHandler, ProtocolVersion,
    Publish, QoS,
};
use mqttx_tests::events::{recorder, Seen};
use mqttx_tests::support::{options, tag, VERSIONS, WAIT};
use mqttx_tests::tap::Tap;
use mqttx_tests::Broker;

/// A session the broker keeps across connections, for either version.
fn persistent<H>(opts: ConnectOptions<H>) -> ConnectOptions<H> {
    opts.clean_session(false).session_expiry_interval(300)
}

fn seq(publish: &Publish) -> u32 {
    let bytes: [u8; 4] = publish
        .payload
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .expect("4-byte sequence number");
    u32::from_be_bytes(bytes)
}

#[actix_rt::test]
async fn publish_and_receive_at_every_qos() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (recorder, mut events) = recorder();
        let sub = Client::connect(options(broker.port(), "sub", version).handler(recorder))
            .await
            .unwrap();
        let filter = format!("qos/{}/#", tag(version));
        assert_eq!(
            sub.subscribe(filter, QoS::ExactlyOnce).await.unwrap(),
            QoS::ExactlyOnce
        );
        let publisher = Client::connect(options(broker.port(), "pub", version))
            .await
            .unwrap();

        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let topic = format!("qos/{}/level-{}", tag(version), qos as u8);
            let payload = Bytes::from(vec![0, 0xff, qos as u8, b'\n', 0x80]);
            publisher
                .publish(topic.clone(), payload.clone())
                .qos(qos)
                .await
                .unwrap();
            let msg = events.message(WAIT).await;
            assert_eq!(&*msg.topic, topic);
            assert_eq!(msg.payload, payload);
            assert_eq!(msg.qos, qos);
        }
        publisher.disconnect().await.unwrap();
        sub.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn qos2_arrives_exactly_once() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (recorder, mut events) = recorder();
        let sub = Client::connect(options(broker.port(), "sub", version).handler(recorder))
            .await
            .unwrap();
        let topic = format!("exactly/{}", tag(version));
        sub.subscribe(topic.clone(), QoS::ExactlyOnce).await.unwrap();
        let publisher = Client::connect(options(broker.port(), "pub", version))
            .await
            .unwrap();

        let count = 300u32;
        let sends: Vec<_> = (0..=count)
            .map(|n| {
                publisher
                    .publish(topic.clone(), n.to_be_bytes().to_vec())
                    .qos(QoS::ExactlyOnce)
                    .into_future()
            })
            .collect();
        for send in sends {
            send.await.unwrap();
        }
        // The last number is the sentinel: the topic's order means any
        // duplicate of an earlier number would have arrived before it.
        let mut seen = BTreeMap::new();
        while !seen.contains_key(&count) {
            let msg = events.message(WAIT).await;
            assert_eq!(msg.qos, QoS::ExactlyOnce);
            *seen.entry(seq(&msg)).or_insert(0u32) += 1;
        }
        let missing: Vec<u32> = (0..=count).filter(|n| !seen.contains_key(n)).collect();
        assert!(missing.is_empty(), "every number arrives; missing {missing:?}");
        assert!(
            seen.values().all(|&n| n == 1),
            "no number arrives twice: {seen:?}"
        );
        publisher.disconnect().await.unwrap();
        sub.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn retained_message_reaches_a_later_subscriber() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let topic = format!("retained/{}", tag(version));
        let publisher = Client::connect(options(broker.port(), "pub", version))
            .await
            .unwrap();
        publisher
            .publish(topic.clone(), "kept")
            .qos(QoS::AtLeastOnce)
            .retain(true)
            .await
            .unwrap();

        let (recorder, mut events) = recorder();
        let sub = Client::connect(options(broker.port(), "late", version).handler(recorder))
            .await
            .unwrap();
        sub.subscribe(topic.clone(), QoS::AtLeastOnce).await.unwrap();
        let msg = events.message(WAIT).await;
        assert_eq!(&*msg.topic, topic);
        assert_eq!(&msg.payload[..], b"kept");
        assert!(msg.retain, "a retained message is flagged as such");
        publisher.disconnect().await.unwrap();
        sub.disconnect().await.unwrap();
    }
}

/// Runs a client with a will in a System of its own, on its own thread,
/// and tears the System down without DISCONNECT: the abrupt loss a crash is.
fn connect_and_vanish(port: u16, client_id: String, version: ProtocolVersion, will_topic: String) {
    std::thread::spawn(move || {
        let system = actix::System::new();
        system.block_on(async move {
            let opts = ConnectOptions::new("127.0.0.1", client_id)
                .port(port)
                .protocol_version(version)
                .will(LastWill::new(will_topic, "gone").qos(QoS::AtLeastOnce));
            let client = Client::connect(opts).await.unwrap();
            client
                .publish("will/alive", "yes")
                .qos(QoS::AtLeastOnce)
                .await
                .unwrap();
        });
        // Dropping the System drops its runtime: the socket closes, no DISCONNECT.
    })
    .join()
    .unwrap();
}

#[actix_rt::test]
async fn will_is_sent_on_abrupt_loss_and_not_after_disconnect() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let will_topic = format!("will/{}", tag(version));
        let (recorder, mut events) = recorder();
        let watcher = Client::connect(options(broker.port(), "watcher", version).handler(recorder))
            .await
            .unwrap();
        watcher
            .subscribe(format!("{will_topic}/#"), QoS::AtLeastOnce)
            .await
            .unwrap();

        connect_and_vanish(
            broker.port(),
            format!("crash-{}", tag(version)),
            version,
            format!("{will_topic}/crash"),
        );
        let msg = events.message(WAIT).await;
        assert_eq!(&*msg.topic, format!("{will_topic}/crash"));
        assert_eq!(&msg.payload[..], b"gone");

        let polite = options(broker.port(), "polite", version)
            .will(LastWill::new(format!("{will_topic}/polite"), "gone").qos(QoS::AtLeastOnce));
        let polite = Client::connect(polite).await.unwrap();
        polite.disconnect().await.unwrap();
        // A later message on the same filter proves the broker has moved past the
        // polite client's DISCONNECT; the will would have come before it.
        let sentinel = Client::connect(options(broker.port(), "sentinel", version))
            .await
            .unwrap();
        sentinel
            .publish(format!("{will_topic}/sentinel"), "end")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        let next = events.message(WAIT).await;
        assert_eq!(
            &*next.topic,
            format!("{will_topic}/sentinel"),
            "no will after a normal disconnect"
        );
        sentinel.disconnect().await.unwrap();
        watcher.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn keepalive_holds_an_idle_connection() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (recorder, mut events) = recorder();
        let opts = options(broker.port(), "idle", version)
            .keepalive(Duration::from_secs(1))
            .handler(recorder);
        let client = Client::connect(opts).await.unwrap();
        events.connected(WAIT).await;
        // mosquitto drops a client silent for 1.5 × keep-alive; 3.5 intervals of
        // idleness pass only if our PINGREQs go out.
        let during = events.during(Duration::from_millis(3500)).await;
        assert!(
            !during
                .iter()
                .any(|e| matches!(e, Seen::Disconnected(_) | Seen::Connected(_))),
            "the idle connection stays up: {during:?}"
        );
        client.subscribe("idle/echo", QoS::AtLeastOnce).await.unwrap();
        client
            .publish("idle/echo", "still here")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        assert_eq!(&events.message(WAIT).await.payload[..], b"still here");
        client.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn keepalive_detects_a_broker_that_stops_answering() {
    let mut broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (recorder, mut events) = recorder();
        let opts = options(broker.port(), "watchdog", version)
            .keepalive(Duration::from_secs(1))
            .handler(recorder);
        let client = Client::connect(opts).await.unwrap();
        events.connected(WAIT).await;

        broker.pause().unwrap();
        let started = Instant::now();
        let reason = events.disconnected(WAIT).await;
        assert!(
            matches!(reason, DisconnectReason::Timeout),
            "keep-alive timeout, got {reason}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "detected within a few keep-alive intervals"
        );

        broker.resume().unwrap();
        events.connected(Duration::from_secs(20)).await;
        client.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn messages_published_during_an_outage_arrive_after_restart() {
    let mut broker = Broker::builder().persistence(true).start().unwrap();
    for version in VERSIONS {
        let topic = format!("outage/{}", tag(version));
        let (sub_recorder, mut events) = recorder();
        let sub = Client::connect(persistent(options(broker.port(), "sub", version)).handler(sub_recorder))
            .await
            .unwrap();
        sub.subscribe(topic.clone(), QoS::ExactlyOnce).await.unwrap();
        let (pub_recorder, mut pub_events) = recorder();
        let publisher = Client::connect(options(broker.port(), "pub", version).handler(pub_recorder))
            .await
            .unwrap();
        pub_events.connected(WAIT).await;

        broker.stop().unwrap();
        pub_events.disconnected(WAIT).await;
        let sends: Vec<_> = (0..20u32)
            .map(|n| {
                let qos = if n % 2 == 0 {
                    QoS::AtLeastOnce
                } else {
                    QoS::ExactlyOnce
                };
                publisher
                    .publish(topic.clone(), n.to_be_bytes().to_vec())
                    .qos(qos)
                    .into_future()
            })
            .collect();
        broker.start_again().unwrap();
        for send in sends {
            send.await.unwrap();
        }
        pub_events.connected(WAIT).await;

        let mut seen = BTreeMap::new();
        while seen.len() < 20 {
            let msg = events.message(WAIT).await;
            *seen.entry(seq(&msg)).or_insert(0) += 1;
        }
        assert_eq!(
            seen.keys().copied().collect::<Vec<_>>(),
            (0..20).collect::<Vec<_>>()
        );
        publisher.disconnect().await.unwrap();
        sub.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn session_is_present_after_a_restart_that_kept_it() {
    let mut broker = Broker::builder().persistence(true).start().unwrap();
    for version in VERSIONS {
        let (recorder, mut events) = recorder();
        let client = Client::connect(persistent(options(broker.port(), "keeper", version)).handler(recorder))
            .await
            .unwrap();
        events.connected(WAIT).await;
        client.subscribe("kept/#", QoS::AtLeastOnce).await.unwrap();

        broker.stop().unwrap();
        events.disconnected(WAIT).await;
        broker.start_again().unwrap();
        let connack = events.connected(WAIT).await;
        assert!(
            connack.session_present,
            "the broker kept the session ({})",
            tag(version)
        );
        client.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn subscriptions_are_restored_after_a_restart_that_lost_the_session() {
    let mut broker = Broker::start().unwrap();
    for version in VERSIONS {
        let topic = format!("restored/{}", tag(version));
        let (recorder, mut events) = recorder();
        let client =
            Client::connect(persistent(options(broker.port(), "forgetful", version)).handler(recorder))
                .await
                .unwrap();
        events.connected(WAIT).await;
        client.subscribe(topic.clone(), QoS::AtLeastOnce).await.unwrap();

        broker.stop().unwrap();
        events.disconnected(WAIT).await;
        broker.start_again().unwrap();
        let connack = events.connected(WAIT).await;
        assert!(!connack.session_present, "no persistence: the session is gone");

        let publisher = Client::connect(options(broker.port(), "pub", version))
            .await
            .unwrap();
        // The client re-subscribes right after CONNACK; a message published
        // after our own CONNACK may still overtake that SUBSCRIBE, so repeat
        // until one arrives.
        let deadline = Instant::now() + WAIT;
        loop {
            publisher
                .publish(topic.clone(), "again")
                .qos(QoS::AtLeastOnce)
                .await
                .unwrap();
            if let Some(Seen::Message(msg)) = events.next(Duration::from_millis(200)).await {
                assert_eq!(&*msg.topic, topic);
                break;
            }
            assert!(Instant::now() < deadline, "the subscription was not restored");
        }
        publisher.disconnect().await.unwrap();
        client.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn wrong_password_fails_fast() {
    let broker = Broker::builder()
        .allow_anonymous(false)
        .password("alice", "right")
        .start()
        .unwrap();
    for version in VERSIONS {
        let good = options(broker.port(), "good", version).credentials("alice", "right");
        Client::connect(good).await.unwrap().disconnect().await.unwrap();

        let (recorder, mut events) = recorder();
        let bad = options(broker.port(), "bad", version)
            .credentials("alice", "wrong")
            .connect_timeout(Duration::from_secs(20))
            .handler(recorder);
        let started = Instant::now();
        let err = Client::connect(bad).await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "no retries: {:?}",
            started.elapsed()
        );
        match &err {
            Error::ConnectRejected { reason_code, .. } => {
                assert!(!err.is_retryable(), "{reason_code} is final")
            }
            other => panic!("expected a CONNACK refusal, got {other}"),
        }
        assert!(matches!(
            events.disconnected(WAIT).await,
            DisconnectReason::ConnectFailed(_)
        ));
    }
}

#[actix_rt::test]
async fn inflight_window_holds() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let tap = Tap::start(broker.port(), version).await.unwrap();
        let publisher = Client::connect(options(tap.port(), "window", version).max_inflight(5))
            .await
            .unwrap();
        let sends: Vec<_> = (0..1000u32)
            .map(|n| {
                publisher
                    .publish("window/t", n.to_be_bytes().to_vec())
                    .qos(QoS::AtLeastOnce)
                    .into_future()
            })
            .collect();
        for send in sends {
            send.await.unwrap();
        }
        let stats = tap.stats();
        assert!(stats.client_publishes >= 1000, "{stats:?}");
        assert!(stats.broker_completions >= 1000, "{stats:?}");
        assert_eq!(
            stats.max_outstanding, 5,
            "the window is used, never exceeded: {stats:?}"
        );
        publisher.disconnect().await.unwrap();
    }
}

/// Panics on a message whose payload is "boom"; records the others.
struct Fragile(tokio::sync::mpsc::UnboundedSender<Bytes>);

impl MqttHandler for Fragile {
    fn message(&mut self, msg: &Publish, _ctx: &mut HandlerContext<'_>) {
        assert_ne!(&msg.payload[..], b"boom", "the handler fails on purpose");
        let _ = self.0.send(msg.payload.clone());
    }
}

#[actix_rt::test]
async fn a_panicking_handler_does_not_kill_the_connection() {
    let broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let client = Client::connect(options(broker.port(), "fragile", version).handler(Fragile(tx)))
            .await
            .unwrap();
        client.subscribe("fragile", QoS::AtLeastOnce).await.unwrap();
        client
            .publish("fragile", "boom")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        client
            .publish("fragile", "after")
            .qos(QoS::AtLeastOnce)
            .await
            .unwrap();
        let next = tokio::time::timeout(WAIT, rx.recv()).await.unwrap().unwrap();
        assert_eq!(&next[..], b"after");
        assert!(client.is_running());
        client.disconnect().await.unwrap();
    }
}

#[actix_rt::test]
async fn publishes_wait_for_a_reconnect_in_a_bounded_queue() {
    let mut broker = Broker::start().unwrap();
    for version in VERSIONS {
        let (recorder, mut events) = recorder();
        let opts = options(broker.port(), "queue", version)
            .max_queued(3)
            .handler(recorder);
        let client = Client::connect(opts).await.unwrap();
        broker.stop().unwrap();
        events.disconnected(WAIT).await;

        let waiting: Vec<_> = (0..3u32)
            .map(|n| {
                client
                    .publish("queue/t", n.to_be_bytes().to_vec())
                    .qos(QoS::AtLeastOnce)
                    .into_future()
            })
            .collect();
        let overflow = client
            .publish("queue/t", "one too many")
            .qos(QoS::AtLeastOnce)
            .await;
        assert!(matches!(overflow, Err(Error::QueueFull)), "got {overflow:?}");
        let qos0 = client.publish("queue/t", "fire and forget").await;
        assert!(matches!(qos0, Err(Error::NotConnected)), "got {qos0:?}");

        broker.start_again().unwrap();
        for publish in waiting {
            publish.await.unwrap();
        }
        client.disconnect().await.unwrap();
    }
}

#[test]
fn connect_outside_an_actix_system_is_a_clear_error() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(Client::connect(ConnectOptions::new("127.0.0.1", "nowhere")));
    assert!(matches!(result, Err(Error::NoSystem)), "got {result:?}");
}

/// A dense burst of QoS 0, 1 or 2 messages arrives whole and in order
/// with read coalescing on, as it does with it off, and a lone message
/// after it arrives at once. Whether the reader pauses here depends on how
/// fast this machine drains the socket; the pausing itself is tested with
/// a stopped clock in `mqttx/src/connection/io.rs`.
#[actix_rt::test]
async fn a_dense_stream_arrives_whole_and_in_order_with_reads_coalesced_or_not() {
    const COUNT: u32 = 20_000;
    // Without a queue limit mosquitto never drops a message for an online
    // subscriber that falls behind.
    let broker = Broker::builder().max_queued_messages(0).start().unwrap();
    for version in VERSIONS {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            for coalesce in [true, false] {
                let (recorder, mut events) = recorder();
                let name = format!("dense-{}-{coalesce}", qos as u8);
                let sub = Client::connect(
                    options(broker.port(), &name, version)
                        .coalesce_reads(coalesce)
                        .handler(recorder),
                )
                .await
                .unwrap();
                let topic = format!("dense/{}/{}/{coalesce}", tag(version), qos as u8);
                sub.subscribe(topic.clone(), qos).await.unwrap();
                let publisher = Client::connect(
                    options(broker.port(), &format!("{name}-pub"), version).max_queued(COUNT as usize),
                )
                .await
                .unwrap();
                let sends: Vec<_> = (0..COUNT)
                    .map(|n| {
                        publisher
                            .publish(topic.clone(), n.to_be_bytes().to_vec())
                            .qos(qos)
                            .into_future()
                    })
                    .collect();
                for send in sends {
                    send.await.unwrap();
                }
                let case = format!("QoS {}, coalesce_reads({coalesce}), {version:?}", qos as u8);
                for expected in 0..COUNT {
                    let msg = events.message(WAIT).await;
                    assert_eq!(seq(&msg), expected, "{case}");
                }
                publisher
                    .publish(topic.clone(), COUNT.to_be_bytes().to_vec())
                    .qos(qos)
                    .await
                    .unwrap();
                let sent = Instant::now();
                assert_eq!(seq(&events.message(WAIT).await), COUNT, "{case}");
                let after = sent.elapsed();
                assert!(
                    after < Duration::from_secs(1),
                    "{case}: the lone message took {after:?}"
                );
                publisher.disconnect().await.unwrap();
                sub.disconnect().await.unwrap();
            }
        }
    }
}

/// A server that refuses every SUBSCRIBE and UNSUBSCRIBE (Not authorized),
/// for what no broker here does: mosquitto 2.0 grants a subscription its
/// ACL denies and only withholds the messages. Built on our own codec.
async fn refusing_peer() -> u16 {
    use mqttx::packet::{decode, encode, ConnAck, SubAck, UnsubAck};
    use mqttx::{Packet, ReasonCode};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut buf = bytes::BytesMut::new();
        loop {
            while let Ok(Some(packet)) = decode(&mut buf, ProtocolVersion::V5, 1 << 20) {
                let answer = match packet {
                    Packet::Connect(_) => Packet::ConnAck(ConnAck::default()),
                    Packet::Subscribe(s) => Packet::SubAck(SubAck {
                        packet_id: s.packet_id,
                        reason_codes: vec![ReasonCode::NotAuthorized],
                        properties: Default::default(),
                    }),
                    Packet::Unsubscribe(u) => Packet::UnsubAck(UnsubAck {
                        packet_id: u.packet_id,
                        reason_codes: vec![ReasonCode::NotAuthorized],
                        properties: Default::default(),
                    }),
                    _ => continue,
                };
                let mut out = bytes::BytesMut::new();
                encode(&answer, ProtocolVersion::V5, &mut out).unwrap();
                if socket.write_all(&out).await.is_err() {
                    return;
                }
            }
            if socket.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                return;
            }
        }
    });
    port
}

/// A subscription or unsubscription the server refuses fails with the
/// filter it was for and the server's reason.
#[actix_rt::test]
async fn a_refused_subscription_names_its_filter_and_the_reason() {
    let port = refusing_peer().await;
    let client = Client::connect(options(port, "refused", ProtocolVersion::V5))
        .await
        .unwrap();
    match client.subscribe("denied/x", QoS::AtLeastOnce).await {
        Err(Error::SubscribeRejected { filter, reason_code }) => {
            assert_eq!(&*filter, "denied/x");
            assert_eq!(reason_code, mqttx::ReasonCode::NotAuthorized);
        }
        other => panic!("expected a refused subscription, got {other:?}"),
    }
    match client.unsubscribe("denied/y").await {
        Err(Error::UnsubscribeRejected { filter, reason_code }) => {
            assert_eq!(&*filter, "denied/y");
            assert_eq!(reason_code, mqttx::ReasonCode::NotAuthorized);
        }
        other => panic!("expected a refused unsubscription, got {other:?}"),
    }
}
