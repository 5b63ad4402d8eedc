//! A TCP listener whose connections a request can kill, so that fault injection can make the
//! client see a connection reset instead of a response.
//!
//! Each accepted stream carries a flag; the router is served with `ConnectInfo<ConnHandle>`,
//! which hands the flag to the middleware. Once set, the next write fails after arming
//! `SO_LINGER 0`, so hyper drops the connection and the kernel sends RST.
//!
//! The handle also keeps when the connection's last answer left: HTTP/1.1 carries one
//! request at a time, so the next request on it was sent after the client had that answer
//! (what the limits need to tell a request sent after a 429 from one already in flight).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

pub struct SimListener(pub TcpListener);

pub struct SimStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
    answered: Arc<Mutex<Option<Instant>>>,
}

/// Per-connection handle available to handlers as `ConnectInfo<ConnHandle>`.
#[derive(Clone, Debug)]
pub struct ConnHandle(Arc<AtomicBool>, Arc<Mutex<Option<Instant>>>);

impl ConnHandle {
    /// Reset the connection instead of writing the response.
    pub fn kill(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// An answer leaves on this connection now.
    pub fn answered(&self, at: Instant) {
        *self.1.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
    }

    /// When the previous answer on this connection left (`None` for its first request): the
    /// request being served was sent after it.
    pub fn last_answer(&self) -> Option<Instant> {
        *self.1.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Listener for SimListener {
    type Io = SimStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = Listener::accept(&mut self.0).await;
        let _ = io.set_nodelay(true);
        (SimStream { inner: io, kill: Arc::new(AtomicBool::new(false)), answered: Arc::new(Mutex::new(None)) }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl Connected<IncomingStream<'_, SimListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        ConnHandle(stream.io().kill.clone(), stream.io().answered.clone())
    }
}

impl SimStream {
    fn killed(&self) -> bool {
        if self.kill.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
            return true;
        }
        false
    }
}

fn reset_error() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by fault injection")
}

impl AsyncRead for SimStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
