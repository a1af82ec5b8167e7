//! Which broker the next attempt goes to, when there are several.

use super::Endpoint;

/// The servers in failover order and where the client is among them.
///
/// A *round* tries each server once, starting where the last round
/// started. Within a round a failed attempt moves on to the next server at
/// once; when the round comes back to its start every server has failed,
/// and the caller waits out the backoff. A lost connection starts a new
/// round at the server after the one that was lost.
#[derive(Debug)]
pub(crate) struct Servers {
    list: Vec<Endpoint>,
    current: usize,
    round_start: usize,
}

impl Servers {
    /// `list` must not be empty (options always hold at least the host
    /// given to `ConnectOptions::new`); an empty one acts as one server
    /// that cannot be reached.
    pub(crate) fn new(list: Vec<Endpoint>) -> Self {
        Servers {
            list,
            current: 0,
            round_start: 0,
        }
    }

    /// The server for the next attempt.
    pub(crate) fn current(&self) -> Option<&Endpoint> {
        self.list.get(self.current)
    }

    /// The attempt at the current server failed: move to the next one.
    /// `true` if that one has not been tried in this round yet (try it
    /// now), `false` if every server has failed (wait, then a new round).
    pub(crate) fn failed(&mut self) -> bool {
        self.advance();
        self.current != self.round_start
    }

    /// An established connection to the current server was lost: the next
    /// round starts at the following server.
    pub(crate) fn lost(&mut self) {
        self.advance();
        self.round_start = self.current;
    }

    fn advance(&mut self) {
        self.current = (self.current + 1) % self.list.len().max(1);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::transport::Settings;
    use crate::Transport;

    fn servers(n: u16) -> Servers {
        let settings = Arc::new(Settings::default());
        Servers::new(
            (0..n)
                .map(|port| Endpoint {
                    host: "h".into(),
                    port,
                    transport: Transport::Tcp,
                    settings: Arc::clone(&settings),
                })
                .collect(),
        )
    }

    fn port(s: &Servers) -> u16 {
        s.current().unwrap().port
    }

    #[test]
    fn one_server_waits_after_every_failure() {
        let mut s = servers(1);
        assert!(!s.failed());
        assert_eq!(port(&s), 0);
        s.lost();
        assert_eq!(port(&s), 0);
        assert!(!s.failed());
    }

    #[test]
    fn a_round_tries_each_server_once_then_waits() {
        let mut s = servers(3);
        assert_eq!(port(&s), 0);
        assert!(s.failed());
        assert_eq!(port(&s), 1);
        assert!(s.failed());
        assert_eq!(port(&s), 2);
        assert!(!s.failed(), "all three failed: back off");
        assert_eq!(port(&s), 0, "the next round starts where this one did");
    }

    #[test]
    fn a_lost_connection_moves_on_and_starts_a_round_there() {
        let mut s = servers(3);
        assert!(s.failed()); // 0 down, connected to 1
        s.lost(); // 1 lost
        assert_eq!(port(&s), 2);
        assert!(s.failed());
        assert_eq!(port(&s), 0);
        assert!(s.failed());
        assert_eq!(port(&s), 1);
        assert!(!s.failed());
        assert_eq!(port(&s), 2);
    }
}
