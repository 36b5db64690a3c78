//! The TCP listener [`crate::serve`] uses: at most `max_connections` open at once, a short
//! deadline for a request header, and every connection closed after `idle_timeout` without a
//! byte read or written.
//!
//! axum's server has no header-read timeout and no connection cap, so a client that opens
//! connections and sends nothing (or one byte a minute) could hold sockets and memory forever.
//! The limits live at the IO level, so they cover every phase — TLS handshake, headers, bodies,
//! idle keep-alive — without parsing HTTP; [`crate::activity`] tells them which connections are
//! serving a request. Alert streams stay open because their keep-alive comments are writes.
//!
//! **Staying answerable** (issue 16): the listener always accepts. With every slot taken, the
//! new connection replaces the one idle the longest (no request in progress: connected and
//! silent, between keep-alive requests, or still sending its header), which is closed; only
//! when every connection is serving a request is the new one refused — a plain-HTTP client gets
//! a 503 `too_many_connections`, a TLS one is closed. So a flood of idle connections cannot lock
//! out health probes, and an idle connection costs its holder its slot as soon as someone else
//! needs it. A connection that has not sent a complete request header `header_timeout` after
//! it was accepted (or after the first byte of a later request) is closed too.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};

use crate::activity::{Activity, Peer};
use crate::error::ApiError;

/// Refused connections answered at once (each drains the client's request for up to
/// [`REFUSAL_TIME`] so the 503 is not lost to a reset); beyond that they are just closed.
const MAX_REFUSALS_IN_FLIGHT: usize = 64;
/// Longest a refused connection is kept to deliver its 503.
const REFUSAL_TIME: Duration = Duration::from_secs(2);
/// Least time between two warnings about the connection limit.
const PRESSURE_REPORT_EVERY: Duration = Duration::from_secs(10);

/// The connection limits of [`LimitedListener`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Most connections open at once.
    pub(crate) max_connections: usize,
    /// A connection with no byte read or written for this long is closed.
    pub(crate) idle: Duration,
    /// A connection without a complete request header this long after it was accepted (or
    /// after the first byte of a later request) is closed.
    pub(crate) header: Duration,
}

/// The open connections, by [`Activity::id`].
type Table = Arc<Mutex<HashMap<u64, Arc<Activity>>>>;

/// A TCP listener that caps open connections and times out idle ones.
#[derive(Debug)]
pub(crate) struct LimitedListener {
    inner: TcpListener,
    limits: Limits,
    open: Table,
    next_id: u64,
    epoch: std::time::Instant,
    /// Plain HTTP: a refused connection is answered 503. HTTPS: closed (no TLS session yet).
    reply_when_full: bool,
    refusals: Arc<Semaphore>,
    pressure: Pressure,
}

/// Connections closed or refused at the limit, for the warning in the log.
#[derive(Debug, Default)]
struct Pressure {
    evicted_total: u64,
    refused_total: u64,
    reported: Option<Instant>,
}

impl LimitedListener {
    pub(crate) fn new(inner: TcpListener, limits: Limits) -> Self {
        Self {
            inner,
            limits,
            open: Arc::default(),
            next_id: 0,
            epoch: std::time::Instant::now(),
            reply_when_full: true,
            refusals: Arc::new(Semaphore::new(MAX_REFUSALS_IN_FLIGHT)),
            pressure: Pressure::default(),
        }
    }

    /// For the TLS listener: refused connections are closed without a plain-text reply.
    pub(crate) fn without_plain_replies(mut self) -> Self {
        self.reply_when_full = false;
        self
    }

    /// A slot for a new connection: free, or taken from the connection idle the longest.
    /// `None` when every connection is serving a request.
    fn admit(&mut self) -> Option<Arc<Activity>> {
        let mut evicted = false;
        let activity = {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            if open.len() >= self.limits.max_connections {
                let victim = open
                    .values()
                    .filter(|a| a.is_idle())
                    .min_by_key(|a| a.idle_since_ms())
                    .map(|a| a.id)?;
                if let Some(a) = open.remove(&victim) {
                    a.evict();
                }
                evicted = true;
            }
            self.next_id += 1;
            let activity = Arc::new(Activity::new(self.next_id, self.epoch));
            open.insert(activity.id, activity.clone());
            activity
        };
        if evicted {
            self.pressure.evicted_total += 1;
            self.report_pressure();
        }
        Some(activity)
    }

    /// Every connection is busy: answer 503 (plain HTTP) or just close.
    fn refuse(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        self.pressure.refused_total += 1;
        self.report_pressure();
        tracing::debug!(%peer, "HTTP API connection refused: every connection is serving a request");
        if !self.reply_when_full {
            return;
        }
        let Ok(permit) = self.refusals.clone().try_acquire_owned() else {
            return;
        };
        tokio::spawn(async move {
            let _permit = permit;
            let reply = async {
                stream.write_all(busy_reply().as_bytes()).await?;
                stream.shutdown().await?;
                // Read what the client sent, so closing does not reset the connection before
                // it has read the reply.
                let mut sink = [0u8; 2048];
                let mut drained = 0;
                while drained < 64 * 1024 {
                    match stream.read(&mut sink).await? {
                        0 => break,
                        n => drained += n,
                    }
                }
                io::Result::Ok(())
            };
            let _ = tokio::time::timeout(REFUSAL_TIME, reply).await;
        });
    }

    /// A warning with the totals, at most every [`PRESSURE_REPORT_EVERY`].
    fn report_pressure(&mut self) {
        let now = Instant::now();
        if self
            .pressure
            .reported
            .is_some_and(|at| now.duration_since(at) < PRESSURE_REPORT_EVERY)
        {
            return;
        }
        self.pressure.reported = Some(now);
        tracing::warn!(
            max_connections = self.limits.max_connections,
            idle_closed_total = self.pressure.evicted_total,
            refused_total = self.pressure.refused_total,
            "HTTP API at its connection limit: closing the longest-idle connections for new \
             ones, refusing new ones when all are busy; raise api.max_connections if this is \
             not a flood"
        );
    }
}

/// The whole HTTP response for a refused connection.
fn busy_reply() -> String {
    let body = ApiError::unavailable(
        "too_many_connections",
        "every connection the API allows is serving a request; retry shortly or raise api.max_connections",
    )
    .body()
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         cache-control: no-store\r\nretry-after: 1\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

impl Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "HTTP API accept failed; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true); // small JSON replies: no Nagle delay
            match self.admit() {
                Some(activity) => return (LimitedStream::new(stream, activity, self), addr),
                None => self.refuse(stream, addr),
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl Connected<IncomingStream<'_, LimitedListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, LimitedListener>) -> Self {
        Self {
            addr: *stream.remote_addr(),
            activity: stream.io().activity().clone(),
        }
    }
}

/// A connection holding its slot until dropped.
pub(crate) struct LimitedStream {
    stream: TcpStream,
    activity: Arc<Activity>,
    open: Table,
    idle: Duration,
    idle_deadline: Pin<Box<Sleep>>,
    header: Duration,
    header_deadline: Pin<Box<Sleep>>,
    /// Waiting for a request header: the number of requests started before it. `None` while a
    /// request is served or the connection idles between requests.
    header_pending: Option<u64>,
}

impl LimitedStream {
    fn new(stream: TcpStream, activity: Arc<Activity>, listener: &LimitedListener) -> Self {
        let Limits { idle, header, .. } = listener.limits;
        Self {
            stream,
            activity,
            open: listener.open.clone(),
            idle,
            idle_deadline: Box::pin(tokio::time::sleep(idle)),
            header,
            header_deadline: Box::pin(tokio::time::sleep(header)),
            // The first request header is due `header` after the accept.
            header_pending: Some(0),
        }
    }

    /// The connection's activity (for the connection info).
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    fn progressed(&mut self) {
        self.idle_deadline.as_mut().reset(Instant::now() + self.idle);
    }

    /// Bytes arrived: when no request is being served, they start a request header, which is
    /// now due within `header`.
    fn read_bytes(&mut self) {
        self.progressed();
        if self.header_pending.is_none() && self.activity.is_idle() {
            self.header_pending = Some(self.activity.started());
            self.header_deadline.as_mut().reset(Instant::now() + self.header);
        }
    }

    /// The error to fail with once evicted; registers the task for the eviction wake-up.
    fn evicted(&self, cx: &Context<'_>) -> Option<io::Error> {
        self.activity.register_and_check(cx.waker()).then(|| {
            io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "HTTP API connection closed to make room for a new one (api.max_connections)",
            )
        })
    }

    /// On `Pending`: fails the connection once the header or the idle deadline has passed.
    fn check_deadlines(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if let Some(before) = self.header_pending {
            if self.activity.started() > before {
                // The header arrived: the request reached the router.
                self.header_pending = None;
            } else if self.header_deadline.as_mut().poll(cx).is_ready() {
                if self.activity.is_idle() {
                    return Poll::Ready(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "HTTP API connection sent no complete request header in time (api.header_timeout_s)",
                    ));
                }
                self.header_pending = None;
            }
        }
        match self.idle_deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "HTTP API connection idle too long (api.idle_timeout_s)",
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for LimitedStream {
    fn drop(&mut self) {
        // An evicted connection already gave its slot to the one that replaced it.
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open
            .get(&self.activity.id)
            .is_some_and(|a| Arc::ptr_eq(a, &self.activity))
        {
            open.remove(&self.activity.id);
        }
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.evicted(cx) {
            return Poll::Ready(Err(e));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.read_bytes();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.check_deadlines(cx).map(Err),
        }
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(e) = this.evicted(cx) {
            return Poll::Ready(Err(e));
        }
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.progressed();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.check_deadlines(cx).map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(e) = this.evicted(cx) {
            return Poll::Ready(Err(e));
        }
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.progressed();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.check_deadlines(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
