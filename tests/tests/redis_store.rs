//! `RedisStore` against a real redis-server the harness starts: the
//! documented keys, a session resumed from Redis, and Redis killed under a
//! running client (publishes fail with `Error::Store` and nothing
//! unrecorded is sent; it recovers once Redis is back).

use std::time::{Duration, Instant};

use mqttx::packet::PacketId;
use mqttx::store::{RedisStore, SessionChange, SessionStore, StoredPublish};
use mqttx::{Client, ConnectOptions, Error, ProtocolVersion, Publish, QoS};
use mqttx_tests::events::{recorder, Events};
use mqttx_tests::redis_server::RedisServer;
use mqttx_tests::support::{options, WAIT};
use mqttx_tests::Broker;

fn stored(seq: u64, id: u16, topic: &str) -> SessionChange {
    let mut publish = Publish::new(topic.to_owned(), format!("stored {seq}")).qos(QoS::ExactlyOnce);
    publish.packet_id = PacketId::new(id);
    SessionChange::Publish(StoredPublish {
        seq,
        publish,
        released: false,
    })
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[actix_rt::test]
async fn a_batch_lands_in_the_documented_keys_and_loads_back() {
    let server = RedisServer::start().unwrap();
    let store = RedisStore::connect(&server.url())
        .await
        .unwrap()
        .expiry(Duration::from_secs(60));
    let incoming = PacketId::new(9).unwrap();
    store
        .apply(
            "c1",
            &[
                stored(0, 1, "t"),
                stored(1, 2, "t"),
                SessionChange::Released { seq: 1 },
                SessionChange::IncomingReceived(incoming),
            ],
        )
        .await
        .unwrap();

    let state = store.load("c1").await.unwrap();
    let outgoing: Vec<_> = state.outgoing.iter().map(|s| (s.seq, s.released)).collect();
    assert_eq!(outgoing, [(0, false), (1, true)]);
    assert_eq!(&state.outgoing[1].publish.payload[..], b"stored 1");
    assert_eq!(state.incoming, [incoming]);

    let mut redis = raw(&server.url()).await;
    let fields: usize = redis::cmd("HLEN")
        .arg("mqttx:session:{c1}:out")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(fields, 2);
    let released: Vec<u64> = redis::cmd("SMEMBERS")
        .arg("mqttx:session:{c1}:rel")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(released, [1]);
    let ttl: i64 = redis::cmd("PTTL")
        .arg("mqttx:session:{c1}:in")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(
        ttl > 50_000 && ttl <= 60_000,
        "expires with the session: {ttl} ms"
    );

    store
        .apply(
            "c1",
            &[
                SessionChange::Completed { seq: 0 },
                SessionChange::IncomingReleased(incoming),
            ],
        )
        .await
        .unwrap();
    let state = store.load("c1").await.unwrap();
    assert_eq!(state.outgoing.len(), 1);
    assert!(state.incoming.is_empty());
    assert!(
        store.load("other").await.unwrap().is_empty(),
        "kept apart by client id"
    );

    store.clear("c1").await.unwrap();
    assert!(store.load("c1").await.unwrap().is_empty());
    let left: usize = redis::cmd("EXISTS")
        .arg("mqttx:session:{c1}:out")
        .arg("mqttx:session:{c1}:rel")
        .arg("mqttx:session:{c1}:in")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

async fn watch(port: u16, topic: &str) -> (Client, Events) {
    let (handler, events) = recorder();
    let client = Client::connect(options(port, "redis-watcher", ProtocolVersion::V5).handler(handler))
        .await
        .unwrap();
    client.subscribe(topic, QoS::ExactlyOnce).await.unwrap();
    (client, events)
}

fn with_redis(port: u16, client_id: &str, store: RedisStore) -> ConnectOptions {
    options(port, client_id, ProtocolVersion::V5)
        .clean_session(false)
        .session_store(store)
        .store_timeout(Duration::from_secs(2))
}

#[actix_rt::test]
async fn a_session_kept_in_redis_is_finished_by_the_next_connection() {
    let broker = Broker::start().unwrap();
    let server = RedisServer::start().unwrap();
    let (watcher, mut events) = watch(broker.port(), "resume/t").await;
    let store = RedisStore::connect(&server.url()).await.unwrap();
    // What a connection on another host left in flight.
    store
        .apply(
            "resumer-v5",
            &[stored(0, 7, "resume/t"), stored(1, 8, "resume/t")],
        )
        .await
        .unwrap();
    let client = Client::connect(with_redis(broker.port(), "resumer", store.clone()))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.push(events.message(WAIT).await.payload_str().map(str::to_owned));
    }
    seen.sort();
    assert_eq!(seen, [Some("stored 0".to_owned()), Some("stored 1".to_owned())]);
    let deadline = Instant::now() + WAIT;
    while !store.load("resumer-v5").await.unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the store empties once both are complete"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    client.disconnect().await.unwrap();
    watcher.disconnect().await.unwrap();
}

#[actix_rt::test]
async fn while_redis_is_down_publishes_fail_unsent_and_recover_once_it_is_back() {
    let broker = Broker::start().unwrap();
    let mut server = RedisServer::start().unwrap();
    let (watcher, mut events) = watch(broker.port(), "down/t").await;
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let client = Client::connect(with_redis(broker.port(), "down", store.clone()))
        .await
        .unwrap();
    client
        .publish("down/t", "before")
        .qos(QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_eq!(events.message(WAIT).await.payload_str(), Some("before"));

    server.kill().unwrap();
    let refused = client.publish("down/t", "unrecorded").qos(QoS::ExactlyOnce).await;
    assert!(matches!(refused, Err(Error::Store(_))), "{refused:?}");
    // QoS 0 needs no record: once it is in, the unrecorded one would be too.
    client.publish("down/t", "qos0 marker").await.unwrap();
    assert_eq!(
        events.message(WAIT).await.payload_str(),
        Some("qos0 marker"),
        "the publish Redis could not record never went out"
    );

    server.start_again().unwrap();
    // The store reconnects by itself; until it has, publishes keep failing.
    let deadline = Instant::now() + WAIT;
    loop {
        match client.publish("down/t", "after").qos(QoS::AtLeastOnce).await {
            Ok(()) => break,
            Err(Error::Store(err)) => assert!(Instant::now() < deadline, "redis never came back: {err}"),
            Err(err) => panic!("{err}"),
        }
    }
    assert_eq!(events.message(WAIT).await.payload_str(), Some("after"));
    client.disconnect().await.unwrap();
    watcher.disconnect().await.unwrap();
}
