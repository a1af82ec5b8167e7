//! Where the connection is in its life: one value, whose variants hold
//! what belongs to that stage and nothing else.

use actix::SpawnHandle;
use tokio::sync::oneshot;

use super::io::Link;
use crate::client::Answer;
use crate::packet::Disconnect;

/// The connection's stage. A transport exists only inside the stages that
/// have one, so a stage and a link cannot disagree.
pub(super) enum Lifecycle {
    /// No transport and nothing under way: just started, or just lost,
    /// until the next step is chosen.
    Offline,
    /// Opening the transport of an attempt.
    Opening(SpawnHandle),
    /// Waiting out the backoff before the next attempt.
    Waiting(SpawnHandle),
    /// Transport up, CONNECT sent, no CONNACK yet.
    Handshake(Link),
    /// CONNACK accepted the connection.
    Connected(Link),
    /// `disconnect` was called: DISCONNECT goes out, then the actor stops.
    Closing(Closing),
    /// Stopped for good: a supervisor that restarts the actor finds it
    /// here and keeps it down.
    Stopped,
    /// The actor panicked (the message); the restart, or the stop, tells
    /// the handler.
    Crashed(String),
}

/// A disconnect under way.
pub(super) struct Closing {
    /// The link DISCONNECT is written on; `None` when there was no
    /// connection to say goodbye on.
    pub(super) link: Option<Link>,
    /// The caller of `disconnect`, answered once the actor has stopped.
    pub(super) reply: Option<oneshot::Sender<Answer<()>>>,
    /// DISCONNECT held back while the handler finishes the messages it is
    /// working on, so they are acknowledged first.
    pub(super) held: Option<Disconnect>,
}

impl Lifecycle {
    /// The live transport, if this stage has one.
    pub(super) fn link(&self) -> Option<&Link> {
        match self {
            Lifecycle::Handshake(link) | Lifecycle::Connected(link) => Some(link),
            Lifecycle::Closing(closing) => closing.link.as_ref(),
            _ => None,
        }
    }

    pub(super) fn link_mut(&mut self) -> Option<&mut Link> {
        match self {
            Lifecycle::Handshake(link) | Lifecycle::Connected(link) => Some(link),
            Lifecycle::Closing(closing) => closing.link.as_mut(),
            _ => None,
        }
    }

    /// Takes the transport out, leaving a stage without one: `Offline`,
    /// or a `Closing` that has lost its link.
    pub(super) fn take_link(&mut self) -> Option<Link> {
        match self {
            Lifecycle::Closing(closing) => closing.link.take(),
            Lifecycle::Handshake(_) | Lifecycle::Connected(_) => {
                match std::mem::replace(self, Lifecycle::Offline) {
                    Lifecycle::Handshake(link) | Lifecycle::Connected(link) => Some(link),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Whether `disconnect` was called or the connection stopped for good:
    /// nothing brings it back.
    pub(super) fn is_final(&self) -> bool {
        matches!(self, Lifecycle::Closing(_) | Lifecycle::Stopped)
    }

    pub(super) fn is_connected(&self) -> bool {
        matches!(self, Lifecycle::Connected(_))
    }
}
