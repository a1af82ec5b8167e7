//! The queue from every [`Client`](super::Client) clone, on any thread, to
//! its connection actor: a `VecDeque` behind a mutex, and the actor's
//! waker.
//!
//! tokio's unbounded channel makes a block of 32 slots (3 KB of commands)
//! for every connection up front, a third of what an idle connection
//! holds. This queue holds nothing until the first command and keeps its
//! capacity after, so a busy connection queues commands without
//! allocating; it gives back what a large burst grew once it drains.
//!
//! The actor takes commands off in batches of up to [`BATCH`], under one
//! lock and with one clock reading: at millions of publishes a second a
//! lock and a `clock_gettime` per command were a sixth of the send path.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use super::Command;

/// Room a drained queue keeps; more, grown by a burst, is given back.
const KEPT_CAPACITY: usize = 256;
/// The most commands the receiver takes off the queue at once: actix hands
/// a stream's items to the actor sixteen a poll.
const BATCH: usize = 16;

/// A new queue: its senders (one, cloned with each `Client`) and its one
/// receiver.
pub(crate) fn queue() -> (CommandSender, CommandReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            commands: VecDeque::new(),
            waker: None,
            senders: 1,
            open: true,
        }),
    });
    let receiver = CommandReceiver {
        shared: Arc::clone(&shared),
        taken: VecDeque::new(),
        taken_at: Instant::now(),
    };
    (CommandSender(shared), receiver)
}

struct Shared {
    state: Mutex<State>,
}

struct State {
    commands: VecDeque<Command>,
    /// The receiver's, while it waits for a command.
    waker: Option<Waker>,
    senders: usize,
    /// The receiver takes commands: it was neither closed nor dropped.
    open: bool,
}

impl Shared {
    /// The state; a panic elsewhere while it was held (none can happen in
    /// this file's short sections) leaves it consistent.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A client's end.
pub(crate) struct CommandSender(Arc<Shared>);

impl CommandSender {
    /// Queues `command`; gives it back when the receiver is gone.
    pub(crate) fn send(&self, command: Command) -> Result<(), Command> {
        let waker = {
            let mut state = self.0.lock();
            if !state.open {
                return Err(command);
            }
            state.commands.push_back(command);
            state.waker.take()
        };
        // Outside the lock: the actor may run at once on another thread.
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether the receiver is gone: nothing sent now will be taken.
    pub(crate) fn is_closed(&self) -> bool {
        !self.0.lock().open
    }
}

impl Clone for CommandSender {
    fn clone(&self) -> Self {
        self.0.lock().senders += 1;
        CommandSender(Arc::clone(&self.0))
    }
}

impl Drop for CommandSender {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.0.lock();
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.waker.take()
        };
        // The last one: the receiver learns that no more will come.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl std::fmt::Debug for CommandSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandSender").finish_non_exhaustive()
    }
}

/// The connection actor's end.
pub(crate) struct CommandReceiver {
    shared: Arc<Shared>,
    /// Commands of the last batch not handed out yet.
    taken: VecDeque<Command>,
    /// When that batch came off the queue.
    taken_at: Instant,
}

impl CommandReceiver {
    /// The next command and when the connection took it off the queue;
    /// `None` once every sender is gone and the queue is empty, or after
    /// [`close`](Self::close).
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<(Command, Instant)>> {
        if let Some(command) = self.taken.pop_front() {
            return Poll::Ready(Some((command, self.taken_at)));
        }
        let first = {
            let mut state = self.shared.lock();
            let Some(first) = state.commands.pop_front() else {
                if state.senders == 0 || !state.open {
                    return Poll::Ready(None);
                }
                if !state.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    state.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            };
            // A lone command is handed out as it is: a connection that
            // never sees a burst never makes room for one.
            let more = state.commands.len().min(BATCH - 1);
            self.taken.extend(state.commands.drain(..more));
            if state.commands.is_empty() && state.commands.capacity() > KEPT_CAPACITY {
                state.commands.shrink_to(KEPT_CAPACITY);
            }
            first
        };
        // Outside the lock: senders on other threads need not wait for it.
        self.taken_at = Instant::now();
        Poll::Ready(Some((first, self.taken_at)))
    }

    /// Whether no command waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.taken.is_empty() && self.shared.lock().commands.is_empty()
    }

    /// Takes no more commands, and drops those waiting: their callers'
    /// reply channels close, which answers them with `Closed`.
    pub(crate) fn close(&mut self) {
        let waiting = {
            let mut state = self.shared.lock();
            state.open = false;
            std::mem::take(&mut state.commands)
        };
        // Outside the lock: dropping a command runs its reply's drop.
        drop(waiting);
        drop(std::mem::take(&mut self.taken));
    }
}

impl Drop for CommandReceiver {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    #[tokio::test]
    async fn commands_come_out_in_order_and_the_end_after_the_last_sender() {
        let (tx, mut rx) = queue();
        let other = tx.clone();
        assert!(tx.send(Command::Panic).is_ok());
        assert!(other.send(Command::Panic).is_ok());
        assert!(!rx.is_empty());
        assert!(matches!(
            poll_fn(|cx| rx.poll_recv(cx)).await,
            Some((Command::Panic, _))
        ));
        assert!(matches!(
            poll_fn(|cx| rx.poll_recv(cx)).await,
            Some((Command::Panic, _))
        ));
        assert!(rx.is_empty());
        drop(tx);
        let waiting = tokio::spawn(async move { poll_fn(|cx| rx.poll_recv(cx)).await.is_none() });
        tokio::task::yield_now().await;
        drop(other);
        assert!(waiting.await.expect("the receiver ends"), "no sender: the end");
    }

    #[test]
    fn a_closed_queue_gives_commands_back_and_says_so() {
        let (tx, mut rx) = queue();
        assert!(!tx.is_closed());
        rx.close();
        assert!(tx.is_closed());
        assert!(tx.send(Command::Panic).is_err());
        let (tx, rx) = queue();
        drop(rx);
        assert!(tx.is_closed());
    }

    /// A command naming its place in the queue.
    fn numbered(n: u8) -> Command {
        Command::CloseStream {
            id: u64::from(n),
            unsubscribe: false,
        }
    }

    fn number(command: &Command) -> u8 {
        match command {
            Command::CloseStream { id, .. } => u8::try_from(*id).unwrap_or(u8::MAX),
            _ => panic!("not a numbered command"),
        }
    }

    #[test]
    fn a_burst_is_taken_off_in_batches_each_read_from_the_clock_once() {
        let (tx, mut rx) = queue();
        for n in 0..40 {
            assert!(tx.send(numbered(n)).is_ok());
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut taken = Vec::new();
        while let Poll::Ready(Some((command, at))) = rx.poll_recv(&mut cx) {
            taken.push((number(&command), at));
            if taken.len() == 1 {
                assert_eq!(rx.shared.lock().commands.len(), 40 - BATCH, "one batch taken");
                assert!(!rx.is_empty(), "the rest of the batch still waits");
                assert!(tx.send(numbered(40)).is_ok());
            }
        }
        let order: Vec<u8> = taken.iter().map(|&(n, _)| n).collect();
        assert_eq!(order, (0..=40).collect::<Vec<u8>>(), "in the order sent");
        for batch in taken.chunks(BATCH) {
            assert!(
                batch.iter().all(|&(_, at)| at == batch[0].1),
                "one clock reading a batch"
            );
        }
        assert!(taken.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!(rx.is_empty());
    }

    #[test]
    fn closing_answers_the_commands_of_a_batch_not_yet_handed_out() {
        let (tx, mut rx) = queue();
        let (reply, mut answered) = tokio::sync::oneshot::channel();
        assert!(tx.send(Command::Panic).is_ok());
        assert!(tx.send(Command::Disconnect(Default::default(), reply)).is_ok());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(
            rx.poll_recv(&mut cx),
            Poll::Ready(Some((Command::Panic, _)))
        ));
        rx.close();
        assert!(
            matches!(
                answered.try_recv(),
                Err(tokio::sync::oneshot::error::TryRecvError::Closed)
            ),
            "its reply channel closed"
        );
        assert!(rx.is_empty());
    }

    #[test]
    fn a_drained_queue_gives_back_what_a_burst_grew() {
        let (tx, mut rx) = queue();
        for _ in 0..10 * KEPT_CAPACITY {
            assert!(tx.send(Command::Panic).is_ok());
        }
        let mut cx = Context::from_waker(Waker::noop());
        while let Poll::Ready(Some(_)) = rx.poll_recv(&mut cx) {}
        assert!(rx.shared.lock().commands.capacity() <= KEPT_CAPACITY);
    }
}
