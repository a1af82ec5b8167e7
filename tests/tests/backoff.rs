//! The reconnect backoff where it is used: against a real mosquitto that
//! was stopped, the attempts to get it back are spaced as the `Backoff`
//! says — not in a tight loop, growing by the multiplier, capped at the
//! maximum — and a CONNACK starts the count again.
//!
//! The attempts are seen through `Client::watch_state`: each failed
//! attempt moves the state to `Reconnecting { attempt: n + 1 }` the moment
//! the refused dial fails, so the time from `n` to `n + 1` is the delay
//! before attempt `n` (a dial to a stopped broker's port is refused at
//! once). Every bound is a lower bound first: a client that hammers the
//! dead broker must fail, however slow the machine.

use std::time::{Duration, Instant};

use mqttx::client::ConnectionState;
use mqttx::{Backoff, Client, ProtocolVersion};
use mqttx_tests::support::{options, VERSIONS, WAIT};
use mqttx_tests::Broker;
use tokio::sync::watch;

const INITIAL: Duration = Duration::from_millis(100);
const MAX: Duration = Duration::from_millis(800);
/// How much earlier than its delay an attempt may be seen: the watcher may
/// wake late for the attempt before it.
const EARLY: Duration = Duration::from_millis(25);
/// How much later: a loaded machine, and still well below the next step.
const LATE: Duration = Duration::from_millis(600);

fn backoff() -> Backoff {
    Backoff::default()
        .initial(INITIAL)
        .multiplier(2.0)
        .max(MAX)
        .jitter(0.0)
}

/// When each `Reconnecting { attempt }` from 1 to `last` was first seen.
/// An attempt number skipped (the watch keeps only the latest state, so a
/// tight loop skips some) or going back is an error.
async fn attempts(state: &mut watch::Receiver<ConnectionState>, last: u32) -> Vec<Instant> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while seen.len() < last as usize {
        let current = *state.borrow_and_update();
        if let ConnectionState::Reconnecting { attempt } = current {
            let expected = seen.len() as u32 + 1;
            if attempt == expected {
                seen.push(Instant::now());
            } else {
                assert_eq!(
                    attempt,
                    expected - 1,
                    "attempts out of step: {current:?} after {seen:?}"
                );
            }
        } else {
            assert!(seen.is_empty(), "left reconnecting early: {current:?}");
        }
        if seen.len() < last as usize {
            let changed = tokio::time::timeout_at(deadline, state.changed()).await;
            assert!(
                matches!(changed, Ok(Ok(()))),
                "attempt {} not seen within {WAIT:?}: {:?}",
                seen.len() + 1,
                *state.borrow()
            );
        }
    }
    seen
}

fn gaps(instants: &[Instant]) -> Vec<Duration> {
    instants.windows(2).map(|w| w[1] - w[0]).collect()
}

fn assert_spaced(version: ProtocolVersion, gaps: &[Duration], expected: &[Duration]) {
    for (n, (gap, want)) in gaps.iter().zip(expected).enumerate() {
        assert!(
            *gap + EARLY >= *want && *gap <= *want + LATE,
            "{version:?}: the delay before attempt {} was {gap:?}, not {want:?}; all: {gaps:?}",
            n + 1
        );
    }
}

#[actix_rt::test]
async fn attempts_against_a_stopped_broker_back_off_grow_and_cap() {
    for version in VERSIONS {
        let mut broker = Broker::start().unwrap();
        let client = Client::connect(options(broker.port(), "backoff", version).backoff(backoff()))
            .await
            .unwrap();
        let mut state = client.watch_state();

        broker.stop().unwrap();
        // 100, 200, 400, 800 ms, then the cap holds at 800 (not 1600).
        let ms = Duration::from_millis;
        let seen = attempts(&mut state, 6).await;
        assert_spaced(
            version,
            &gaps(&seen),
            &[ms(100), ms(200), ms(400), ms(800), ms(800)],
        );

        // Back: a CONNACK resets the count, so the next outage starts over
        // at the initial delay.
        broker.start_again().unwrap();
        let back = tokio::time::timeout(WAIT, state.wait_for(|s| *s == ConnectionState::Connected))
            .await
            .is_ok_and(|seen| seen.is_ok());
        assert!(back, "{version:?}: not connected again");
        broker.stop().unwrap();
        let seen = attempts(&mut state, 3).await;
        assert_spaced(version, &gaps(&seen), &[ms(100), ms(200)]);
        client.disconnect().await.unwrap();
    }
}
