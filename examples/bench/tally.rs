//! Counting sequence numbers at a subscriber: lost, duplicated, and when
//! the last missing one arrived.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::{IDLE, PAYLOAD};

/// A 64-byte payload carrying `seq` in its first four bytes.
pub fn payload(seq: u32) -> Vec<u8> {
    let mut body = vec![0x5a; PAYLOAD];
    body[..4].copy_from_slice(&seq.to_be_bytes());
    body
}

/// The sequence numbers publisher `c` of `connections` sends, out of
/// `count`: equal shares, the last one taking the remainder.
pub fn share(c: u32, connections: u32, count: u32) -> std::ops::Range<u32> {
    let per = count / connections;
    let last = if c + 1 == connections {
        count
    } else {
        (c + 1) * per
    };
    c * per..last
}

pub fn seq_of(payload: &[u8]) -> Option<u32> {
    payload
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
}

#[derive(Debug)]
pub struct Tally {
    seen: Vec<u8>,
    distinct: u32,
    duplicates: u32,
    last_arrival: Instant,
    completed: Option<Instant>,
}

pub type SharedTally = Rc<RefCell<Tally>>;

impl Tally {
    pub fn shared(expected: u32) -> SharedTally {
        Rc::new(RefCell::new(Tally {
            seen: vec![0; expected as usize],
            distinct: 0,
            duplicates: 0,
            last_arrival: Instant::now(),
            completed: None,
        }))
    }

    pub fn record(&mut self, payload: &[u8]) {
        let Some(slot) = seq_of(payload).and_then(|n| self.seen.get_mut(n as usize)) else {
            return;
        };
        *slot = slot.saturating_add(1);
        if *slot == 1 {
            self.distinct += 1;
            if self.distinct as usize == self.seen.len() {
                let now = Instant::now();
                self.completed = Some(now);
                self.last_arrival = now;
            } else if self.distinct.is_multiple_of(1024) {
                // Often enough to tell a stream that stopped (IDLE is
                // seconds); a clock reading per message would be a
                // measurable share of a client's CPU in the fast rows.
                self.last_arrival = Instant::now();
            }
        } else {
            self.duplicates += 1;
        }
    }
}

/// What the subscriber saw, once it has everything or has gone quiet.
pub struct Outcome {
    pub elapsed: Duration,
    pub lost: u32,
    pub duplicates: u32,
}

/// Waits until every number arrived, or none arrived for [`IDLE`].
/// Checks every few milliseconds; the completion time is the last
/// arrival's own timestamp, so the check interval does not skew it.
pub async fn settle(tally: &SharedTally, start: Instant) -> Outcome {
    loop {
        {
            let t = tally.borrow();
            if let Some(done) = t.completed {
                return Outcome {
                    elapsed: done - start,
                    lost: 0,
                    duplicates: t.duplicates,
                };
            }
            if t.last_arrival.elapsed() > IDLE && start.elapsed() > IDLE {
                let lost = t.seen.len() as u32 - t.distinct;
                return Outcome {
                    elapsed: t.last_arrival.saturating_duration_since(start),
                    lost,
                    duplicates: t.duplicates,
                };
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
