//! A link's writer: one future, spawned with the link and living as long
//! as it, that drives each write the turn's end starts
//! ([`Link::start_write`]) and hands its end to the actor. Nothing is made
//! per write, so a busy connection writes without allocating.

use std::pin::Pin;
use std::task::{ready, Poll};
use std::time::Instant;

use actix::{ActorFuture, Context};

use super::io::Link;
use super::Connection;
use crate::handler::MqttHandler;

/// The writer of the link numbered `link`.
pub(super) struct Writer {
    pub(super) link: u64,
}

impl<H: MqttHandler> ActorFuture<Connection<H>> for Writer {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut Connection<H>,
        ctx: &mut Context<Connection<H>>,
        task: &mut std::task::Context<'_>,
    ) -> Poll<()> {
        let id = self.link;
        loop {
            let Some(link) = act.lifecycle.link_mut().filter(|link| link.id() == id) else {
                // Let go: a write it had in flight finishes on its own.
                return Poll::Ready(());
            };
            let result = ready!(link.poll_write(task));
            act.guarded(ctx, move |act, ctx| act.written(result, Instant::now(), ctx));
        }
    }
}

impl<H: MqttHandler> Connection<H> {
    /// Lets a link go: nothing more is read; a write in flight — the
    /// DISCONNECT that tells the server why — still goes out, then the
    /// stream closes.
    pub(super) fn release_link(link: Link, ctx: &mut Context<Self>) {
        use actix::AsyncContext;
        ctx.cancel_future(link.reader());
        if let Some(last) = link.finish_in_background() {
            actix::spawn(last);
        }
    }
}
