//! [`StoreFuture`]: what a store's operation returns — done at once, or a
//! future to wait for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::StoreError;

/// The outcome of a [`SessionStore`](super::SessionStore) operation.
///
/// A synchronous store (memory, a local file) returns its result at once
/// with [`ready`](Self::ready) (or `.into()` on the `Result`): no
/// allocation, and the connection goes on in the same turn. A store that
/// talks over a network returns [`new`](Self::new) with a future that owns
/// what it needs (it must not borrow the changes it was given); the
/// connection keeps working meanwhile and writes what depends on the
/// operation once it completes.
///
/// ```
/// use mqttx::store::{StoreError, StoreFuture};
///
/// let at_once: StoreFuture<()> = Ok(()).into();
/// let later = StoreFuture::new(async { Err::<(), _>(StoreError::new("the database is down")) });
/// # let _ = (at_once, later);
/// ```
#[must_use = "a store operation's outcome must be awaited"]
pub struct StoreFuture<T>(Inner<T>);

enum Inner<T> {
    /// `None` once taken.
    Ready(Option<Result<T, StoreError>>),
    Pending(Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send>>),
}

impl<T> StoreFuture<T> {
    /// An operation that is already done.
    pub fn ready(result: Result<T, StoreError>) -> Self {
        StoreFuture(Inner::Ready(Some(result)))
    }

    /// An operation that completes with `future`.
    pub fn new(future: impl Future<Output = Result<T, StoreError>> + Send + 'static) -> Self {
        StoreFuture(Inner::Pending(Box::pin(future)))
    }

    /// The outcome, if the operation was done at once (taken: a second
    /// call gives `None`). The connection's fast path: a synchronous store
    /// never goes through the executor.
    ///
    /// ```
    /// use mqttx::store::{MemoryStore, SessionStore};
    ///
    /// let store = MemoryStore::new();
    /// let loaded = store.load("sensor-7").now().expect("a memory store answers at once")?;
    /// assert!(loaded.is_empty());
    /// # Ok::<(), mqttx::store::StoreError>(())
    /// ```
    pub fn now(&mut self) -> Option<Result<T, StoreError>> {
        match &mut self.0 {
            Inner::Ready(result) => result.take(),
            Inner::Pending(_) => None,
        }
    }
}

// Nothing is pinned in place: a ready result is moved out, a pending
// future is boxed.
impl<T> Unpin for StoreFuture<T> {}

impl<T> From<Result<T, StoreError>> for StoreFuture<T> {
    fn from(result: Result<T, StoreError>) -> Self {
        StoreFuture::ready(result)
    }
}

impl<T> Future for StoreFuture<T> {
    type Output = Result<T, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            Inner::Ready(result) => Poll::Ready(
                result
                    .take()
                    .unwrap_or_else(|| Err(StoreError::new("a store operation was awaited twice"))),
            ),
            Inner::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

impl<T> fmt::Debug for StoreFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Inner::Ready(_) => "StoreFuture(ready)",
            Inner::Pending(_) => "StoreFuture(pending)",
        })
    }
}

/// The crate's own tests call stores that answer at once as they call any
/// `Result`.
#[cfg(test)]
impl<T: fmt::Debug> StoreFuture<T> {
    pub(crate) fn unwrap(mut self) -> T {
        match self.now() {
            Some(outcome) => outcome.unwrap(),
            None => panic!("the store did not answer at once"),
        }
    }

    pub(crate) fn unwrap_err(mut self) -> StoreError {
        match self.now() {
            Some(outcome) => outcome.unwrap_err(),
            None => panic!("the store did not answer at once"),
        }
    }
}
