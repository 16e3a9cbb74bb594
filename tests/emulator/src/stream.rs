//! Streamed response bodies (with scripted delays, cuts and stalls) and the guard that notices a
//! client hanging up before a response was fully sent.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use http_body::{Frame, SizeHint};

use crate::state::Shared;
use crate::util::ms;

/// One step of a scripted body.
pub enum Step {
    Sleep(u64),
    Send(Bytes),
    /// Run a side effect at this point of the stream (e.g. install a pulled model).
    Run(Box<dyn FnOnce() + Send>),
    /// Abort the connection: the body errors, so hyper drops the socket without ending the
    /// chunked encoding and the client sees a truncated body.
    Cut,
    /// Never send anything again; only the client hanging up ends it.
    Stall,
}

impl Step {
    pub fn line(line: impl Into<Bytes>) -> Step {
        Step::Send(line.into())
    }
}

/// Turns steps into a streaming body (chunked transfer encoding).
pub fn body(steps: Vec<Step>) -> Body {
    let stream = futures_util::stream::unfold(steps.into_iter(), |mut it| async move {
        loop {
            match it.next()? {
                Step::Sleep(0) => {}
                Step::Sleep(n) => tokio::time::sleep(ms(n)).await,
                Step::Send(b) => return Some((Ok(b), it)),
                Step::Run(f) => f(),
                Step::Cut => {
                    // Let hyper flush what was sent so far: the client must see a truncated
                    // body, not a request that failed before any response.
                    tokio::time::sleep(ms(10)).await;
                    let e = io::Error::new(io::ErrorKind::ConnectionAborted, "emulator cut");
                    return Some((Err(e), it));
                }
                Step::Stall => std::future::pending::<()>().await,
            }
        }
    });
    Body::from_stream(stream)
}

/// Marks its request `client_disconnected` when dropped while still armed, i.e. when the
/// handler future or the response body was dropped before the emulator finished (hyper drops
/// them when the client closes the connection).
pub struct DisconnectGuard {
    shared: Arc<Shared>,
    id: u64,
    armed: bool,
}

impl DisconnectGuard {
    pub fn new(shared: Arc<Shared>, id: u64) -> DisconnectGuard {
        DisconnectGuard { shared, id, armed: true }
    }

    pub fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if self.armed {
            self.shared.mark_disconnected(self.id);
        }
    }
}

/// A response body that disarms its guard once the inner body has been sent completely (or the
/// emulator itself ended it with an error, as `Step::Cut` does).
pub struct GuardedBody {
    inner: Body,
    guard: DisconnectGuard,
}

impl GuardedBody {
    pub fn wrap(inner: Body, mut guard: DisconnectGuard, never_polled: bool) -> Body {
        // Empty bodies (and HEAD responses) may never be polled: nothing to wait for.
        if never_polled || inner.is_end_stream() {
            guard.disarm();
        }
        Body::new(GuardedBody { inner, guard })
    }
}

impl HttpBody for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let res = Pin::new(&mut this.inner).poll_frame(cx);
        match &res {
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => this.guard.disarm(),
            Poll::Ready(Some(Ok(_))) if this.inner.is_end_stream() => this.guard.disarm(),
            _ => {}
        }
        res
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
