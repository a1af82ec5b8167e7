//! A publish waiting for room in the window or for a connection.

use crate::packet::Publish;

/// A publish waiting for room in the window or for a connection.
#[derive(Debug)]
pub(super) struct Queued<T> {
    pub(super) publish: Publish,
    pub(super) tag: T,
    /// The connection generation whose limits it was checked against
    /// (0 = never), so a publish accepted while connected is not measured twice.
    pub(super) checked: u64,
    /// Its `seq` when it was sent before (requeued after a lost session, or
    /// restored): a store keeps one record per publish, whatever its id.
    pub(super) seq: Option<u64>,
    /// Connections the server closed on it before; see `Outgoing::server_closed`.
    pub(super) strikes: u8,
}

impl<T> Queued<T> {
    /// A publish never sent, checked against the limits of connection
    /// generation `checked` (0 = not yet).
    pub(super) fn new(publish: Publish, tag: T, checked: u64) -> Self {
        Queued {
            publish,
            tag,
            checked,
            seq: None,
            strikes: 0,
        }
    }

    /// A publish sent before under `seq`, to be sent again as a new
    /// message, with the `strikes` it has had.
    pub(super) fn again(mut publish: Publish, tag: T, seq: u64, strikes: u8) -> Self {
        publish.dup = false;
        publish.packet_id = None;
        Queued {
            publish,
            tag,
            checked: 0,
            seq: Some(seq),
            strikes,
        }
    }
}
