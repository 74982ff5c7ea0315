//! `GET /v1/ws`: authenticates before the upgrade (bearer token, or a single-use ticket for
//! browsers), checks the `Origin` of browser connections against the allowed list (axum does
//! not), sizes tungstenite's buffers and limits, then hands the socket to a connection task.

mod connection;

use std::net::SocketAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use talkzone_mobile_api::{ErrorCode, WsQuery};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::state::AppState;

/// Bytes tungstenite reads at a time; a typical client frame (a short chat message) fits.
const READ_BUFFER_BYTES: usize = 512;

/// Decodes one client frame: a JSON object (serde would also read an internally tagged enum
/// from an array, `["ping"]`, which the protocol does not allow), no NUL characters anywhere,
/// then the protocol's shape (unknown types and fields refused). The error says what is
/// wrong, for a `bad_frame`.
pub fn decode_frame(text: &str) -> Result<talkzone_mobile_api::ClientFrame, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if !value.is_object() {
        return Err("a frame is a JSON object with a \"type\"".into());
    }
    crate::input::check_json(&value).map_err(|e| e.to_string())?;
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Checks a browser's `Origin`. Native clients send none and authenticate with a header.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    match headers.get(axum::http::header::ORIGIN) {
        None => true,
        Some(v) => {
            v.to_str().ok().and_then(crate::config::normalise_origin).is_some_and(|o| allowed.iter().any(|a| a == &o))
        }
    }
}

async fn authenticate(state: &AppState, headers: &HeaderMap, ticket: Option<&str>) -> Result<Authenticated, ApiError> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (bearer, ticket) {
        (Some(token), _) => state.auth.authenticate_session(token.trim()).await,
        (None, Some(ticket)) => state.auth.redeem_ticket(ticket).await,
        (None, None) => Err(ApiError::Unauthorized("authenticate with a bearer token or ?ticket=")),
    }
}

/// `GET /v1/ws`. One user may hold `ws_per_user` sockets on a node and one source (an
/// address; IPv6 a /64) `ws_per_source`; past them the upgrade is refused with 429.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiQuery(query): ApiQuery<WsQuery>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if !origin_allowed(&headers, &state.config.allowed_origins) {
        return ApiError::Forbidden("this origin may not open a connection").into_response();
    }
    let user = match authenticate(&state, &headers, query.ticket.as_deref()).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let source = crate::http::extract::client_ip(peer, &headers, &state.config.trusted_proxies);
    // Taken before the upgrade, so that sockets opened at once cannot all slip past the count.
    let slot = match state.limits.take_socket(user.user.id.as_str(), source) {
        Ok(slot) => slot,
        Err(e) => return e.into_response(),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(_) => return ApiError::BadRequest("this route needs a WebSocket upgrade".into()).into_response(),
    };
    let max = state.config.limits.ws_max_frame_bytes;
    // tungstenite's defaults (128 KiB read buffer, 64 MiB messages) would let one socket
    // hold megabytes. The read buffer is kept for the connection's whole life, idle or not,
    // so it holds one typical frame (a longer frame grows it to that frame's size while it
    // is read); nothing is buffered for writing beyond what the socket has not taken yet.
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_write_buffer_size(max * 4)
        .on_failed_upgrade(|e| tracing::debug!(error = %e, "websocket upgrade failed"))
        // Boxed apart from axum's upgrade task, whose own state (the handshake's) would
        // otherwise be laid out beside the connection's for the connection's whole life.
        .on_upgrade(move |socket| {
            Box::pin(async move {
                let _slot = slot;
                connection::run(state, user, socket).await
            })
        })
}

/// The WebSocket edge of [`ApiError`]: the `error` frame answering `reference`. Server-side
/// failures are logged here, with the detail the client never sees.
pub(crate) fn error_frame(e: &ApiError, reference: Option<String>) -> talkzone_mobile_api::ServerFrame {
    if matches!(e.code(), ErrorCode::Internal | ErrorCode::Unavailable) {
        tracing::error!(error = %e, "frame failed");
    }
    talkzone_mobile_api::ServerFrame::Error {
        code: e.code(),
        message: e.public_message(),
        retry_after_ms: e.retry_after().map(|d| d.as_millis().max(1) as u64),
        reference,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use talkzone_mobile_api::ClientFrame;

    use super::decode_frame;

    fn frame() -> impl Strategy<Value = ClientFrame> {
        let id = "[a-zA-Z0-9]{1,26}";
        prop_oneof![
            (id, 0i64..1_000_000)
                .prop_map(|(c, a)| ClientFrame::Subscribe { conversation_id: c.as_str().into(), after_seq: a }),
            (id, "[ -~]{1,64}", "\\PC{1,200}").prop_map(|(c, m, b)| ClientFrame::Send {
                conversation_id: c.as_str().into(),
                client_msg_id: m,
                body: b
            }),
            (id, 0i64..1_000_000).prop_map(|(c, s)| ClientFrame::Read { conversation_id: c.as_str().into(), seq: s }),
            any::<bool>().prop_map(|on_duty| ClientFrame::Duty { on_duty }),
            Just(ClientFrame::QueueWatch),
        ]
    }

    /// Every open connection keeps its task's future (and so its largest state) for its
    /// whole life: issue 7 allows 8 KiB of server memory per idle connection in all, so the
    /// task must stay small. Deep handlers are boxed in `connection::run` for this.
    #[test]
    fn connection_task_stays_small() {
        fn future_size<A, B, C, F: std::future::Future>(_: impl FnOnce(A, B, C) -> F) -> usize {
            std::mem::size_of::<F>()
        }
        let size = future_size(super::connection::run);
        println!("connection task future: {size} bytes");
        assert!(size <= 3 * 1024, "the connection task's future is {size} bytes");
    }

    /// Issue 22: `["ping"]` was answered with a `pong`.
    #[test]
    fn an_array_is_not_a_frame() {
        assert!(super::decode_frame(r#"{"type":"ping"}"#).is_ok());
        for text in [r#"["ping"]"#, r#"["send","c","m","hi"]"#, "\"ping\"", "1", "null"] {
            assert!(super::decode_frame(text).is_err(), "{text} was taken as a frame");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any text at all: an answer, never a panic.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
            let _ = decode_frame(&text);
        }

        /// Arbitrary JSON-ish structure made of the protocol's own words never panics either.
        #[test]
        fn protocol_shaped_noise_never_panics(
            ty in prop_oneof![Just("send".to_owned()), Just("subscribe".to_owned()), Just("queue.watch".to_owned()), "[a-z.]{0,12}"],
            key in "[a-z_]{0,16}",
            val in prop_oneof![Just("null".to_owned()), Just("1e999".to_owned()), "-?[0-9]{1,30}", "\"[ -~]{0,20}\"", Just("[]".to_owned())],
        ) {
            let _ = decode_frame(&format!(r#"{{"type":"{ty}","{key}":{val}}}"#));
        }

        /// Every valid frame survives encoding and decoding unchanged.
        #[test]
        fn valid_frames_round_trip(f in frame()) {
            let text = serde_json::to_string(&f).unwrap();
            prop_assert_eq!(decode_frame(&text).unwrap(), f);
        }

        /// The same frame as an array, or as any other JSON that is not an object, is refused.
        #[test]
        fn only_objects_are_frames(f in frame()) {
            let value = serde_json::to_value(&f).unwrap();
            let fields: Vec<serde_json::Value> = value.as_object().unwrap().values().cloned().collect();
            prop_assert!(decode_frame(&serde_json::Value::Array(fields).to_string()).is_err());
        }

        /// A NUL anywhere is refused.
        #[test]
        fn nul_is_refused(prefix in "[a-z]{0,10}") {
            let text = format!(r#"{{"type":"send","conversation_id":"c","client_msg_id":"m","body":"{prefix}\u0000"}}"#);
            prop_assert!(decode_frame(&text).is_err());
        }
    }
}
