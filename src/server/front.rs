//! The server's front door: the service hyper calls for every request of a connection (and
//! the in-process server for every call). An API call (`/api2/json/...`, uploads aside)
//! goes straight to [`api::answer`] unless CORS or a rate limit is configured, without the
//! router's per-route boxing, URL parameters and per-request extensions; everything else
//! goes through the router. Either way a request that has no answer within the request
//! timeout gets `408` (uploads aside: they take as long as they take, as on PVE), and the
//! timer for that is only made for a request that has to wait: most answers are ready at
//! the first poll.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::body::HttpBody;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderValue, Method, Response, StatusCode};
use axum::Router;
use tower::{Service, ServiceExt};

use super::api;
use super::app::{api_middleware, router, App};
use super::upload::is_upload;

type Answering = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// Routes one server state's requests (cheap to clone: two `Arc`s).
#[derive(Clone)]
pub struct Front {
    app: Arc<App>,
    router: Router,
    /// API calls skip the router (no middleware of the router's applies to them).
    direct: bool,
}

impl Front {
    /// The front of `app` and its [`router`].
    pub fn new(app: Arc<App>) -> Front {
        Front {
            router: router(app.clone()),
            direct: !api_middleware(&app.config),
            app,
        }
    }

    /// The state it answers from.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// The answer to `req` from `peer`.
    pub fn answer(&self, mut req: Request, peer: SocketAddr) -> Deadline<Answering> {
        let path = req.uri().path();
        let upload = is_upload(path);
        let limit = (!upload).then_some(self.app.config.limits.request_timeout);
        let answering: Answering = if self.direct && !upload && api::is_api_path(path) {
            let app = self.app.clone();
            let head = req.method() == Method::HEAD;
            Box::pin(async move { finished(api::answer(&app, peer, req).await, head) })
        } else {
            req.extensions_mut().insert(ConnectInfo(peer));
            let router = self.router.clone();
            Box::pin(async move {
                match router.oneshot(req).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                }
            })
        };
        Deadline::new(answering, limit)
    }

    /// The service for one connection from `peer`.
    pub fn for_peer(&self, peer: SocketAddr) -> PeerFront {
        PeerFront {
            front: self.clone(),
            peer,
        }
    }
}

/// What the router does to every answer, for one that did not pass through it: its
/// `Content-Length` from the body's exact size, and no body for `HEAD`.
fn finished(mut resp: Response<Body>, head: bool) -> Response<Body> {
    if !resp.headers().contains_key(header::CONTENT_LENGTH) {
        if let Some(size) = resp.body().size_hint().exact() {
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        }
    }
    if head {
        *resp.body_mut() = Body::empty();
    }
    resp
}

/// What hyper calls per connection: the [`Front`] with the connection's peer address.
#[derive(Clone)]
pub struct MakeFront(pub Front);

impl Service<SocketAddr> for MakeFront {
    type Response = PeerFront;
    type Error = Infallible;
    type Future = std::future::Ready<Result<PeerFront, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, peer: SocketAddr) -> Self::Future {
        std::future::ready(Ok(self.0.for_peer(peer)))
    }
}

/// One connection's service.
#[derive(Clone)]
pub struct PeerFront {
    front: Front,
    peer: SocketAddr,
}

impl Service<axum::http::Request<hyper::body::Incoming>> for PeerFront {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Deadline<Answering>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::http::Request<hyper::body::Incoming>) -> Self::Future {
        self.front.answer(req.map(Body::new), self.peer)
    }
}

pin_project_lite::pin_project! {
    /// An answer, or `408` with an empty body once its deadline passes. The timer is made
    /// at the first poll that finds the answer not ready, for the deadline set when the
    /// request arrived.
    pub struct Deadline<F> {
        #[pin]
        answering: F,
        #[pin]
        timer: Option<tokio::time::Sleep>,
        at: Option<tokio::time::Instant>,
    }
}

impl<F> Deadline<F> {
    /// `answering`, bounded by `limit` from now (`None`: unbounded).
    pub fn new(answering: F, limit: Option<Duration>) -> Deadline<F> {
        Deadline {
            answering,
            timer: None,
            at: limit.map(|l| tokio::time::Instant::now() + l),
        }
    }
}

impl<F: Future<Output = Response<Body>>> Future for Deadline<F> {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(resp) = this.answering.poll(cx) {
            return Poll::Ready(Ok(resp));
        }
        let Some(at) = *this.at else {
            return Poll::Pending;
        };
        if this.timer.is_none() {
            this.timer.set(Some(tokio::time::sleep_until(at)));
        }
        if let Some(timer) = this.timer.as_pin_mut() {
            ready!(timer.poll(cx));
        }
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::REQUEST_TIMEOUT;
        Poll::Ready(Ok(resp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_ready_answer_makes_no_timer_and_a_late_one_gets_408() {
        let ready = Deadline::new(
            std::future::ready(Response::new(Body::from("ok"))),
            Some(Duration::from_secs(1)),
        );
        let mut ready = std::pin::pin!(ready);
        let waker = std::task::Waker::noop();
        let polled = ready.as_mut().poll(&mut Context::from_waker(waker));
        assert!(matches!(&polled, Poll::Ready(Ok(r)) if r.status() == StatusCode::OK));
        assert!(ready.timer.is_none());

        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Response::new(Body::from("late"))
        };
        let resp = Deadline::new(slow, Some(Duration::from_secs(2)))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);

        let in_time = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Response::new(Body::from("in time"))
        };
        let resp = Deadline::new(in_time, Some(Duration::from_secs(2)))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);

        let unbounded = async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Response::new(Body::from("whenever"))
        };
        let resp = Deadline::new(unbounded, None).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
