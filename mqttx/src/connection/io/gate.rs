//! [`ReadGate`]: the reader stops while a message stream's consumer is too
//! far behind, so what waits for it stays bounded whatever the server
//! sends (a server's flow control, our Receive Maximum, is not always kept:
//! mosquitto 2.0 sends past it).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::task::{Context, Waker};

/// Shut by the connection when a stream is full, opened again when its
/// consumer has taken enough; shared by every link of the connection.
#[derive(Clone, Default)]
pub(in crate::connection) struct ReadGate(Rc<Inner>);

#[derive(Default)]
struct Inner {
    shut: Cell<bool>,
    /// The reader waiting for the gate to open.
    waiting: RefCell<Option<Waker>>,
}

impl ReadGate {
    /// Nothing more is read or decoded until [`open`](Self::open).
    pub(in crate::connection) fn shut(&self) {
        self.0.shut.set(true);
    }

    /// Lets the reader go on, waking it if it waits.
    pub(in crate::connection) fn open(&self) {
        if self.0.shut.replace(false) {
            if let Some(waker) = self.0.waiting.borrow_mut().take() {
                waker.wake();
            }
        }
    }

    /// Whether the reader must wait; if so, it is woken when the gate opens.
    pub(super) fn must_wait(&self, cx: &mut Context<'_>) -> bool {
        if !self.0.shut.get() {
            return false;
        }
        *self.0.waiting.borrow_mut() = Some(cx.waker().clone());
        true
    }
}

impl fmt::Debug for ReadGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadGate")
            .field("shut", &self.0.shut.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_shut_gate_holds_the_reader_until_it_opens_and_wakes_it() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        let gate = ReadGate::default();
        assert!(!gate.must_wait(&mut cx));
        gate.shut();
        assert!(gate.must_wait(&mut cx));
        assert_eq!(count.0.load(Ordering::Relaxed), 0);
        gate.open();
        assert_eq!(count.0.load(Ordering::Relaxed), 1, "woken");
        assert!(!gate.must_wait(&mut cx));
        gate.open();
        assert_eq!(count.0.load(Ordering::Relaxed), 1, "an open gate wakes nobody");
    }
}
