//! Which broker the next attempt goes to, when there are several.

use super::Endpoint;

/// The servers in failover order and where the client is among them.
///
/// A *round* tries each server once, starting where the last round
/// started. Within a round a failed attempt moves on to the next server at
/// once; when the round comes back to its start every server has failed,
/// and the caller waits out the backoff. A lost connection starts a new
/// round at the server after the one that was lost.
///
/// An MQTT 5 server may name another server to use (Server Reference);
/// that one is tried next, once, in place of the current server: if it
/// fails, the round goes on as if the current server had failed, so two
/// servers pointing at each other cannot make the client spin.
#[derive(Debug)]
pub(crate) struct Servers {
    list: Vec<Endpoint>,
    current: usize,
    round_start: usize,
    redirect: Option<Endpoint>,
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
            redirect: None,
        }
    }

    /// The server for the next attempt.
    pub(crate) fn current(&self) -> Option<&Endpoint> {
        self.redirect.as_ref().or_else(|| self.list.get(self.current))
    }

    /// The server named by a Server Reference (`host`, `host:port`,
    /// `[v6]:port`; of a space-separated list, the first) is tried next.
    /// `false` when the reference cannot be read, or the attempt that got
    /// it was itself a redirect (one hop only).
    pub(crate) fn redirect(&mut self, reference: &str) -> bool {
        if self.redirect.is_some() {
            return false;
        }
        let Some(base) = self.list.get(self.current) else {
            return false;
        };
        let Some((host, port)) = parse_reference(reference, base.port) else {
            return false;
        };
        self.redirect = Some(Endpoint {
            host,
            port,
            ..base.clone()
        });
        true
    }

    /// The attempt at the current server failed: move to the next one.
    /// `true` if that one has not been tried in this round yet (try it
    /// now), `false` if every server has failed (wait, then a new round).
    pub(crate) fn failed(&mut self) -> bool {
        self.redirect = None;
        self.advance();
        self.current != self.round_start
    }

    /// An established connection to the current server was lost: the next
    /// round starts at the following server.
    pub(crate) fn lost(&mut self) {
        self.redirect = None;
        self.advance();
        self.round_start = self.current;
    }

    fn advance(&mut self) {
        self.current = (self.current + 1) % self.list.len().max(1);
    }
}

/// `host`, `host:port` or `[v6]:port`, the first of a space-separated
/// list; a missing port is `default_port`.
fn parse_reference(reference: &str, default_port: u16) -> Option<(String, u16)> {
    let first = reference.split_whitespace().next()?;
    if let Some(rest) = first.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(port) => port.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match first.split_once(':') {
        Some((host, port)) if !host.is_empty() => Some((host.to_owned(), port.parse().ok()?)),
        Some(_) => None,
        None => Some((first.to_owned(), default_port)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::options::Transport;
    use crate::transport::Settings;

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

    #[test]
    fn server_references() {
        assert_eq!(
            parse_reference("b.example", 8883),
            Some(("b.example".into(), 8883))
        );
        assert_eq!(
            parse_reference("b.example:1884", 8883),
            Some(("b.example".into(), 1884))
        );
        assert_eq!(
            parse_reference("10.0.0.2:1883 [fe80::1]:1883", 8883),
            Some(("10.0.0.2".into(), 1883))
        );
        assert_eq!(
            parse_reference("[fe80::1]:1885", 1),
            Some(("fe80::1".into(), 1885))
        );
        assert_eq!(parse_reference("[fe80::1]", 1), Some(("fe80::1".into(), 1)));
        for bad in ["", "  ", "b:x", ":1883", "[fe80::1", "[::1]x"] {
            assert_eq!(parse_reference(bad, 1), None, "{bad:?}");
        }
    }

    #[test]
    fn a_redirect_is_tried_once_then_the_round_goes_on() {
        let mut s = servers(2);
        assert!(s.redirect("elsewhere:9"));
        assert_eq!(port(&s), 9);
        assert!(!s.redirect("again:10"), "one hop only");
        assert!(s.failed(), "the redirect failed: on to server 1");
        assert_eq!(port(&s), 1);
        assert!(!s.failed());
        assert_eq!(port(&s), 0);

        assert!(s.redirect("elsewhere:9"));
        s.lost();
        assert_eq!(port(&s), 1, "a lost redirect target resumes the list");
    }
}
