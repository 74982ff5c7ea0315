//! A request body must arrive whole within a deadline. Without one, a client sending a body
//! slowly (a byte now and then) or stopping half-way holds its connection and its task for as
//! long as it likes; tower-http's body timeout restarts with every frame, so it ends a
//! stalled body but not a trickled one.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// Gives every request's body `within` to arrive, counted from when the handler starts
/// reading it; past it, reading fails and the request is answered 400.
pub async fn body_deadline(within: Duration, req: Request, next: Next) -> Response {
    next.run(req.map(|body| Body::new(DeadlineBody { inner: body, within, deadline: None }))).await
}

struct DeadlineBody {
    inner: Body,
    within: Duration,
    /// Set when the body is first read.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct TooSlow;

impl http_body::Body for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let within = self.within;
        let deadline = self.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(within)));
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(TooSlow.into())));
        }
        Pin::new(&mut self.inner).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt as _;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_body_that_trickles_past_the_deadline_fails() {
        // A byte every second, for ten seconds: each frame is quick, the whole is not.
        let trickle = futures_util::stream::iter(0..10).then(|i| async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![i as u8]))
        });
        let body = Body::new(DeadlineBody {
            inner: Body::from_stream(trickle),
            within: Duration::from_millis(3_500),
            deadline: None,
        });
        let err = axum::body::to_bytes(body, 1024).await.unwrap_err();
        assert!(format!("{err:?}").contains("TooSlow"), "{err:?}");
        // In time: the same body whole.
        let quick =
            Body::new(DeadlineBody { inner: Body::from("hello"), within: Duration::from_secs(1), deadline: None });
        assert_eq!(axum::body::to_bytes(quick, 1024).await.unwrap(), "hello");
    }
}
