//! What a connection tells about itself, against mosquitto: its state as a
//! value and a watch through a broker restart, and its counters.

use mqttx::client::{ClientStats, ConnectionState};
use std::future::IntoFuture;

use mqttx::{Client, ProtocolVersion, QoS};
use mqttx_tests::events::recorder;
use mqttx_tests::support::{options, WAIT};
use mqttx_tests::Broker;

async fn until(
    state: &mut tokio::sync::watch::Receiver<ConnectionState>,
    what: &str,
    mut done: impl FnMut(&ConnectionState) -> bool,
) -> ConnectionState {
    let seen = match tokio::time::timeout(WAIT, state.wait_for(|s| done(s))).await {
        Ok(Ok(seen)) => Some(*seen),
        _ => None,
    };
    seen.unwrap_or_else(|| panic!("no {what} within {WAIT:?}: {:?}", *state.borrow()))
}

#[actix_rt::test]
async fn the_state_and_the_counters_follow_the_connection_through_a_broker_restart() {
    let mut broker = Broker::start().unwrap();
    let (handler, mut events) = recorder();
    let client = Client::connect(options(broker.port(), "telemetry", ProtocolVersion::V5).handler(handler))
        .await
        .unwrap();
    assert_eq!(client.state(), ConnectionState::Connected);
    client.subscribe("tm/#", QoS::ExactlyOnce).await.unwrap();
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        client.publish("tm/t", "m").qos(qos).await.unwrap();
    }
    for _ in 0..3 {
        events.message(WAIT).await;
    }
    let stats = client.stats();
    assert_eq!(stats.messages_in, [1, 1, 1]);
    assert_eq!(stats.messages_out, [1, 1, 1]);
    assert_eq!((stats.reconnects, stats.in_flight, stats.queued), (0, 0, 0));

    let mut state = client.watch_state();
    broker.stop().unwrap();
    let lost = until(&mut state, "reconnecting", |s| {
        matches!(s, ConnectionState::Reconnecting { .. })
    })
    .await;
    assert!(
        matches!(lost, ConnectionState::Reconnecting { attempt } if attempt >= 1),
        "{lost:?}"
    );
    // A publish made while the broker is away goes out once it is back.
    let waiting = actix_rt::spawn(
        client
            .publish("tm/t", "later")
            .qos(QoS::AtLeastOnce)
            .into_future(),
    );
    broker.start_again().unwrap();
    until(&mut state, "connected again", |s| {
        *s == ConnectionState::Connected
    })
    .await;
    waiting.await.unwrap().unwrap();
    assert_eq!(client.stats().reconnects, 1);

    let copy = client.clone();
    client.disconnect().await.unwrap();
    assert_eq!(copy.state(), ConnectionState::Stopped, "every handle sees it");
    let ClientStats { messages_out, .. } = copy.stats();
    assert_eq!(messages_out, [1, 2, 1]);
}
