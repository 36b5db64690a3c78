//! What each connection of [`crate::serve`] is doing: serving a request, or idle (waiting for
//! its first request, between keep-alive requests, or in the middle of a request header).
//!
//! The listener needs this to stay answerable under a flood of idle connections: when every
//! slot is taken it closes the connection idle the longest ([`Activity::evict`]) to admit the
//! new one, and it never closes one that is serving a request (an alert stream, an upload).
//! The transport cannot tell a request from idle bytes without parsing HTTP, so the router
//! says it: [`track_requests`], the outermost layer, marks the connection busy from the moment
//! a request reaches the router until its response body is finished or dropped.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::task::AtomicWaker;
use http_body::{Frame, SizeHint};

/// The peer of a connection from [`crate::listener::LimitedListener`], as connection info:
/// its address and, for the request tracking, its [`Activity`].
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    /// The client's address.
    pub(crate) addr: SocketAddr,
    /// The connection's activity.
    pub(crate) activity: Arc<Activity>,
}

/// One connection's state, shared by its stream, its requests and the listener's table.
#[derive(Debug)]
pub(crate) struct Activity {
    /// Key in the listener's table.
    pub(crate) id: u64,
    /// Requests being served now (response body not yet finished).
    in_flight: AtomicUsize,
    /// Requests that have reached the router so far.
    started: AtomicU64,
    /// When the connection last became idle (accepted, or a response finished), as
    /// milliseconds since `epoch`.
    idle_since_ms: AtomicU64,
    /// Set by the listener to close the connection; the stream fails its next read or write.
    evicted: AtomicBool,
    /// The task polling the stream, woken on eviction.
    waker: AtomicWaker,
    /// The listener's clock origin, so idle times fit an atomic.
    epoch: Instant,
}

impl Activity {
    pub(crate) fn new(id: u64, epoch: Instant) -> Self {
        let a = Self {
            id,
            in_flight: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            epoch,
        };
        a.mark_idle();
        a
    }

    fn mark_idle(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.idle_since_ms.store(ms, Ordering::Relaxed);
    }

    /// A request reached the router: busy until the guard is dropped.
    fn begin(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.started.fetch_add(1, Ordering::AcqRel);
        RequestGuard(self.clone())
    }

    /// No request is being served on this connection.
    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// When it became idle (milliseconds since the listener started); smaller = longer idle.
    pub(crate) fn idle_since_ms(&self) -> u64 {
        self.idle_since_ms.load(Ordering::Relaxed)
    }

    /// Requests started on this connection so far.
    pub(crate) fn started(&self) -> u64 {
        self.started.load(Ordering::Acquire)
    }

    /// Asks the connection to close: its stream fails from the next poll on.
    pub(crate) fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Registers the polling task for [`Activity::evict`]'s wake-up, then says whether the
    /// connection was evicted (in that order, so a concurrent eviction is never missed).
    pub(crate) fn register_and_check(&self, waker: &Waker) -> bool {
        self.waker.register(waker);
        self.evicted.load(Ordering::Acquire)
    }
}

/// A request in progress; dropping it makes the connection idle again.
#[derive(Debug)]
struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        // Idle time first, so that a listener seeing `in_flight == 0` sees the fresh time.
        self.0.mark_idle();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Middleware on the whole router: marks the connection busy while the request is served and
/// its response body is sent. Requests without [`Peer`] info (the router served by someone
/// else than [`crate::serve`]) pass through untouched.
pub(crate) async fn track_requests(req: Request, next: Next) -> Response {
    let Some(activity) = req
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .map(|c| c.0.activity.clone())
    else {
        return next.run(req).await;
    };
    let guard = activity.begin();
    next.run(req)
        .await
        .map(|body| Body::new(TrackedBody { body, _guard: guard }))
}

/// A response body holding its request's guard until hyper finishes or drops it, so an alert
/// stream (a response that never ends) keeps its connection busy.
struct TrackedBody {
    body: Body,
    _guard: RequestGuard,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
