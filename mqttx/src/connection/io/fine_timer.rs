//! A one-shot timer with microsecond resolution, for holding a read back
//! by less than a millisecond: tokio's timers tick in whole milliseconds.
//!
//! On Linux it is a `timerfd` registered with tokio's reactor, so waiting
//! on it costs no thread and no extra wake-up: the expiry arrives in the
//! same `epoll_wait` as the sockets. Elsewhere [`FineTimer::new`] returns
//! `None` and the caller reads without holding back.

#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::task::{Context, Poll};
    use std::time::Duration;

    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;

    /// A `timerfd`, armed for one expiry at a time.
    pub(crate) struct FineTimer {
        fd: AsyncFd<OwnedFd>,
        armed: bool,
    }

    impl FineTimer {
        /// `None` when no timer can be had (out of descriptors, say, or
        /// called outside a tokio runtime, whose reactor would have to wait
        /// on it): reading without holding back is then the only cost.
        ///
        /// # Panics
        ///
        /// Inside a tokio runtime built without IO (no `enable_io`), as
        /// tokio's own sockets do: tokio offers no way to ask first.
        pub(crate) fn new() -> Option<Self> {
            if tokio::runtime::Handle::try_current().is_err() {
                return None;
            }
            // SAFETY: a plain system call with constant flags; the result is
            // checked before it is used as a descriptor.
            let raw = unsafe {
                libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC)
            };
            if raw < 0 {
                tracing::debug!(err = %io::Error::last_os_error(), "no timerfd; reads are not held back");
                return None;
            }
            // SAFETY: `raw` is a descriptor just created and owned by nobody else.
            let owned = unsafe { OwnedFd::from_raw_fd(raw) };
            // SAFETY: the OwnedFd keeps the descriptor open, and returns the
            // same one from as_raw_fd, for as long as the AsyncFd owns it.
            let fd = unsafe { AsyncFd::register_with_interest(owned, Interest::READABLE) }.ok()?;
            Some(FineTimer { fd, armed: false })
        }

        /// Arms the timer to expire `after` from now.
        pub(crate) fn arm(&mut self, after: Duration) {
            let spec = libc::itimerspec {
                it_interval: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: libc::timespec {
                    tv_sec: libc::time_t::try_from(after.as_secs()).unwrap_or(libc::time_t::MAX),
                    // Below 10^9, so it fits every platform's c_long.
                    tv_nsec: after.subsec_nanos().max(1) as libc::c_long,
                },
            };
            // SAFETY: a live descriptor, a valid itimerspec, and no old value asked for.
            let rc = unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
            self.armed = rc == 0;
        }

        pub(crate) fn is_armed(&self) -> bool {
            self.armed
        }

        /// Ready once the armed time has passed (at once if not armed);
        /// until then the task is woken at expiry.
        pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
            if !self.armed {
                return Poll::Ready(());
            }
            loop {
                let mut guard = match self.fd.poll_read_ready(cx) {
                    Poll::Ready(Ok(guard)) => guard,
                    Poll::Ready(Err(_)) => break,
                    Poll::Pending => return Poll::Pending,
                };
                let mut expirations = [0u8; 8];
                // SAFETY: reads at most 8 bytes into an 8-byte local buffer.
                let n =
                    unsafe { libc::read(guard.get_inner().as_raw_fd(), expirations.as_mut_ptr().cast(), 8) };
                if n == 8 {
                    break;
                }
                // EAGAIN: the readiness was stale.
                guard.clear_ready();
            }
            self.armed = false;
            Poll::Ready(())
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod imp {
    use std::task::{Context, Poll};
    use std::time::Duration;

    /// No fine timer on this platform.
    pub(crate) struct FineTimer(std::convert::Infallible);

    impl FineTimer {
        pub(crate) fn new() -> Option<Self> {
            None
        }

        pub(crate) fn arm(&mut self, _after: Duration) {
            match self.0 {}
        }

        pub(crate) fn is_armed(&self) -> bool {
            match self.0 {}
        }

        pub(crate) fn poll_expired(&mut self, _cx: &mut Context<'_>) -> Poll<()> {
            match self.0 {}
        }
    }
}

pub(crate) use imp::FineTimer;

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use std::future::poll_fn;
    use std::time::{Duration, Instant};

    use super::*;

    #[tokio::test]
    async fn it_expires_no_sooner_than_armed_and_wakes_the_task() {
        let mut timer = FineTimer::new().expect("a timerfd");
        for after in [Duration::from_micros(200), Duration::from_millis(3)] {
            let start = Instant::now();
            timer.arm(after);
            assert!(timer.is_armed());
            let first = poll_fn(|cx| std::task::Poll::Ready(timer.poll_expired(cx).is_ready())).await;
            assert!(!first, "not expired right after arming");
            tokio::time::timeout(Duration::from_secs(5), poll_fn(|cx| timer.poll_expired(cx)))
                .await
                .expect("expired and woke the task");
            assert!(start.elapsed() >= after, "{after:?} ran {:?}", start.elapsed());
            assert!(!timer.is_armed());
        }
    }
}
