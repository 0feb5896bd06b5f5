//! What one client may cost the server: refused logins held back (one client's one after
//! another), and a bound on the connections served at once.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// 401 answers held back as PVE holds them (3 s after the request arrived); a client's
/// next refusal is answered one delay after its previous one, so parallel guessing is
/// no faster than serial. Only the refused request waits (a timer, not a thread).
#[derive(Debug)]
pub struct AuthFailures {
    delay: Duration,
    next: Mutex<HashMap<IpAddr, Instant>>,
}

impl AuthFailures {
    /// Refusals held back by `delay` (zero: answered at once).
    pub fn new(delay: Duration) -> AuthFailures {
        AuthFailures {
            delay,
            next: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until the refusal of a request from `ip` that has taken `elapsed` so far
    /// may be answered.
    pub async fn hold(&self, ip: IpAddr, elapsed: Duration) {
        if self.delay.is_zero() {
            return;
        }
        let at = {
            let mut next = self.next.lock();
            let now = Instant::now();
            if next.len() > 4096 {
                next.retain(|_, t| *t > now);
            }
            let earliest = now + self.delay.saturating_sub(elapsed);
            let at = match next.get(&ip) {
                Some(prev) if *prev + self.delay > earliest => *prev + self.delay,
                _ => earliest,
            };
            next.insert(ip, at);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// An acceptor that serves at most `n` connections at once; the next ones wait (in the
/// kernel's backlog as far as their clients can tell) until one closes.
#[derive(Clone, Debug)]
pub struct ConnectionLimit {
    permits: Arc<Semaphore>,
}

impl ConnectionLimit {
    /// At most `n` connections (at least one).
    pub fn new(n: usize) -> ConnectionLimit {
        ConnectionLimit {
            permits: Arc::new(Semaphore::new(n.clamp(1, Semaphore::MAX_PERMITS))),
        }
    }
}

impl<S: Send + 'static> axum_server::accept::Accept<TcpStream, S> for ConnectionLimit {
    type Stream = Limited;
    type Service = S;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Limited, S)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let permits = self.permits.clone();
        Box::pin(async move {
            let permit = permits
                .acquire_owned()
                .await
                .map_err(|_| io::Error::other("server stopping"))?;
            stream.set_nodelay(true)?;
            Ok((
                Limited {
                    stream,
                    _permit: permit,
                },
                service,
            ))
        })
    }
}

/// A connection holding its place under the limit until it is dropped.
#[derive(Debug)]
pub struct Limited {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Limited {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Limited {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_clients_refusals_are_spaced_and_others_are_not() {
        let held = AuthFailures::new(Duration::from_secs(3));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        held.hold(a, Duration::ZERO).await;
        assert_eq!(t0.elapsed().as_secs(), 3);
        // The same client again at once: one delay after the previous answer.
        let t1 = Instant::now();
        held.hold(a, Duration::ZERO).await;
        assert_eq!(t1.elapsed().as_secs(), 3);
        // Two at the same moment: 3 s and 6 s.
        let t2 = Instant::now();
        let (first, second) = tokio::join!(
            async {
                held.hold(a, Duration::ZERO).await;
                t2.elapsed().as_secs()
            },
            async {
                held.hold(a, Duration::ZERO).await;
                t2.elapsed().as_secs()
            }
        );
        assert_eq!((first.min(second), first.max(second)), (3, 6));
        // Another client waits its own 3 s only.
        let t3 = Instant::now();
        held.hold(b, Duration::ZERO).await;
        assert_eq!(t3.elapsed().as_secs(), 3);
        // A request that already took longer than the delay is answered at once.
        let t4 = Instant::now();
        AuthFailures::new(Duration::from_secs(3))
            .hold(b, Duration::from_secs(10))
            .await;
        assert_eq!(t4.elapsed().as_secs(), 0);
    }
}
