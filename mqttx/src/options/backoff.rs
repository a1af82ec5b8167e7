use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// How long to wait before each reconnect attempt: exponential growth with
/// random jitter, so a fleet of clients does not reconnect in lock-step
/// after a broker restart.
///
/// The n-th consecutive failure waits `initial × multiplier^(n-1)`, capped at
/// `max`, then moved by a random amount of up to ±`jitter` (a fraction).
/// A successful CONNACK resets the count.
///
/// ```
/// use std::time::Duration;
/// use mqttx::Backoff;
///
/// let backoff = Backoff::default().jitter(0.0);
/// assert_eq!(backoff.delay(1), Duration::from_secs(1));
/// assert_eq!(backoff.delay(3), Duration::from_secs(4));
/// assert_eq!(backoff.delay(20), Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    initial: Duration,
    multiplier: f64,
    max: Duration,
    jitter: f64,
}

impl Default for Backoff {
    /// 1 s initial, ×2, 30 s at most, ±10 %.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            multiplier: 2.0,
            max: Duration::from_secs(30),
            jitter: 0.1,
        }
    }
}

impl Backoff {
    /// The delay before the first retry.
    pub fn initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// The growth factor per failed attempt (values below 1 are taken as 1).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// The longest delay.
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// The jitter as a fraction of the delay, 0.0 to 1.0.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// The delay before retry number `attempt` (1 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let base = self.initial.as_secs_f64() * self.multiplier.powi(exponent);
        let capped = base.min(self.max.as_secs_f64());
        let spread = capped * self.jitter * (2.0 * unit_random() - 1.0);
        Duration::from_secs_f64((capped + spread).max(0.0))
    }
}

/// A number in [0, 1). The std hasher is seeded randomly per `RandomState`,
/// which is all the randomness jitter needs; no RNG crate required.
fn unit_random() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x006d_7174_7478);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        let b = Backoff::default().jitter(0.0);
        let delays: Vec<_> = (1..=7).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn jitter_stays_within_bounds_and_varies() {
        let b = Backoff::default();
        let samples: Vec<_> = (0..200).map(|_| b.delay(2)).collect();
        assert!(samples
            .iter()
            .all(|d| *d >= Duration::from_millis(1800) && *d <= Duration::from_millis(2200)));
        assert!(samples.iter().any(|d| *d != samples[0]), "jitter must vary");
    }
}
