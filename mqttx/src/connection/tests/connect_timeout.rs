//! `connect_timeout` bounds the first connect: retries go on until its
//! deadline, the last one starts before it, and `Client::connect` fails
//! at the deadline, not at the first backoff that would pass it.

use super::*;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Attempts at 0, 0.2 and 0.6 s; the next backoff (0.8 s) would pass the
/// deadline, which is where the first connect used to give up.
const GAVE_UP_AT: Duration = Duration::from_millis(600);

fn options_with_deadline() -> ConnectOptions<()> {
    options("c1").connect_timeout(CONNECT_TIMEOUT).backoff(
        Backoff::default()
            .initial(Duration::from_millis(200))
            .multiplier(2.0)
            .jitter(0.0),
    )
}

/// Close to the deadline: not before most of it has passed, not long after.
fn assert_at_the_deadline(elapsed: Duration) {
    assert!(
        elapsed >= Duration::from_millis(900),
        "gave up early: {elapsed:?}"
    );
    assert!(
        elapsed <= Duration::from_millis(1500),
        "gave up late: {elapsed:?}"
    );
}

fn io_kind(last: &Option<Box<Error>>) -> Option<std::io::ErrorKind> {
    match last.as_deref() {
        Some(Error::Io(e)) => Some(e.kind()),
        _ => None,
    }
}

#[actix::test]
async fn refused_attempts_are_retried_until_the_deadline_with_a_last_one_before_it() {
    let started = Instant::now();
    let refusals = (0..100).map(|_| Answer::Refuse);
    let (mut rig, _gate) = start(options_with_deadline(), refusals.collect(), false);
    let outcome = rig.first_outcome().await;
    assert_at_the_deadline(started.elapsed());
    match &outcome {
        Err(Error::ConnectTimeout { last }) => assert_eq!(
            io_kind(last),
            Some(std::io::ErrorKind::ConnectionRefused),
            "the last attempt's refusal: {last:?}"
        ),
        other => panic!("expected ConnectTimeout, got {other:?}"),
    }
    let dials = rig.network.dials();
    let last_dial = dials.last().map(|at| at.saturating_duration_since(started));
    assert!(
        last_dial.is_some_and(|at| at > GAVE_UP_AT + Duration::from_millis(100) && at < CONNECT_TIMEOUT),
        "the last attempt comes after the old give-up point and before the deadline: {last_dial:?} ({} dials)",
        dials.len()
    );
    match rig.lifecycle_event().await {
        HandlerEvent::Disconnected(reason) => assert!(!reason.will_reconnect(), "{reason}"),
        other => panic!("expected Disconnected, got {other:?}"),
    }
}

#[actix::test]
async fn an_attempt_still_under_way_at_the_deadline_is_cut_short() {
    let started = Instant::now();
    let answers = vec![Answer::Refuse, Answer::Refuse, Answer::Refuse, Answer::Accept];
    let (mut rig, _gate) = start(options_with_deadline(), answers, false);
    // The last attempt opens its transport, and the server never answers
    // CONNECT: on its own that attempt would wait a whole connect_timeout.
    let (outcome, peer) = tokio::join!(
        tokio::time::timeout(DEADLINE, &mut rig.connected),
        rig.network.dialled_within(DEADLINE)
    );
    assert_at_the_deadline(started.elapsed());
    match outcome {
        Ok(Ok(Err(Error::ConnectTimeout { last }))) => assert_eq!(
            io_kind(&last),
            Some(std::io::ErrorKind::TimedOut),
            "no CONNACK in time: {last:?}"
        ),
        other => panic!("expected ConnectTimeout, got {other:?}"),
    }
    let mut peer = peer.expect("the fourth dial is accepted");
    assert!(matches!(peer.expect().await, Packet::Connect(_)));
    assert!(peer.read().await.is_none(), "the attempt is abandoned");
    assert_eq!(rig.network.dials().len(), 4);
}

/// A first dial that never completes (a SYN nothing answers) ends at the
/// deadline with a timeout that says the transport did not open, not
/// with no cause at all.
#[actix::test]
async fn a_dial_that_never_completes_times_out_as_a_transport_that_did_not_open() {
    let started = Instant::now();
    let (mut rig, _gate) = start(options_with_deadline(), vec![Answer::Hang], false);
    let outcome = rig.first_outcome().await;
    assert_at_the_deadline(started.elapsed());
    match &outcome {
        Err(Error::ConnectTimeout { last }) => {
            assert_eq!(io_kind(last), Some(std::io::ErrorKind::TimedOut), "{last:?}");
            let said = last.as_deref().map(ToString::to_string).unwrap_or_default();
            assert!(said.contains("the transport did not open"), "{said}");
        }
        other => panic!("expected ConnectTimeout, got {other:?}"),
    }
    assert_eq!(rig.network.dials().len(), 1, "one dial, never completed");
}
