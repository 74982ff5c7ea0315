//! Bad input, over the WebSocket and over HTTP: every bad input gets a clear error with the
//! right code and status, changes nothing, and leaves the connection usable.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use talkzone_tests::api::client::{ClientError, WsConnection};
use talkzone_tests::api::{ClientFrame, ConversationId, CreateConversationRequest, ErrorCode, ServerFrame};
use talkzone_tests::{both_backends, Backend, TestServer};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(15);

/// The next `error` frame, with no ack or pong before it.
async fn next_error(ws: &mut WsConnection) -> (ErrorCode, Option<String>, String) {
    loop {
        match ws.recv_timeout(WAIT).await.expect("an answer") {
            ServerFrame::Error { code, reference, message, .. } => return (code, reference, message),
            f @ (ServerFrame::Ack { .. } | ServerFrame::Pong { .. } | ServerFrame::Subscribed { .. }) => {
                panic!("expected an error, got {f:?}")
            }
            _ => continue,
        }
    }
}

async fn ping_pong(ws: &mut WsConnection, nonce: u64) {
    ws.send(&ClientFrame::Ping { nonce: Some(serde_json::json!(nonce)) }).await.expect("ping");
    match ws.recv_until(WAIT, |f| matches!(f, ServerFrame::Pong { .. } | ServerFrame::Error { .. })).await {
        Ok(ServerFrame::Pong { nonce: n }) => assert_eq!(n, Some(serde_json::json!(nonce))),
        other => panic!("ping {nonce} was not answered with a pong: {other:?}"),
    }
}

async fn send_expect(ws: &mut WsConnection, conv: &ConversationId, id: &str, body: &str) -> Result<i64, ErrorCode> {
    match ws.send_message(conv, id, body).await.expect("an answer to send") {
        ServerFrame::Ack { seq, client_msg_id, .. } => {
            assert_eq!(client_msg_id, id);
            Ok(seq.expect("a delivered message has a seq"))
        }
        ServerFrame::Error { code, reference, .. } => {
            assert_eq!(reference.as_deref(), Some(id), "the error refers to the message");
            Err(code)
        }
        other => panic!("{other:?}"),
    }
}

async fn bad_websocket_frames(backend: Backend) {
    // Garbage counts against the frame rate like anything else; this test is about parsing.
    let s = TestServer::builder(backend)
        .config(|c| {
            c.limits.ws_frames_per_sec = 10_000;
            c.limits.ws_frames_burst = 10_000;
        })
        .start()
        .await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let req = CreateConversationRequest { topic: None, first_message: Some("first".into()) };
    let (_, conv) = s.client.open_conversation(&yp.access_token, &req).await.expect("open");
    let c = conv.id.as_str();
    let mut ws = s.client.connect(&yp.access_token).await.expect("connect");
    ping_pong(&mut ws, 1).await;

    // Not frames at all, or frames of the wrong shape: bad_frame, and the socket stays open.
    let bad: Vec<Message> = vec![
        Message::text("this is not json {"),
        Message::text(""),
        Message::text("[1,2,3]"),
        Message::text("\"send\""),
        Message::text(r#"{"no_type":true}"#),
        Message::text(r#"{"type":"explode"}"#),
        Message::text(format!(
            r#"{{"type":"send","conversation_id":"{c}","client_msg_id":"unk-1","body":"hi","admin":true}}"#
        )),
        Message::text(format!(r#"{{"type":"read","conversation_id":"{c}","seq":"1"}}"#)),
        Message::text(format!(r#"{{"type":"send","conversation_id":"{c}","client_msg_id":7,"body":"hi"}}"#)),
        Message::text(format!(r#"{{"type":"send","conversation_id":"{c}","body":"no id"}}"#)),
        Message::text(r#"{"type":"subscribe"}"#),
        Message::text(r#"{"type":"duty","on_duty":"yes"}"#),
        Message::binary(b"{\"type\":\"ping\"}".to_vec()),
    ];
    for (i, m) in bad.into_iter().enumerate() {
        let shown = format!("{m:?}");
        ws.send_raw(m).await.expect("send bad frame");
        let (code, _, message) = next_error(&mut ws).await;
        assert_eq!(code, ErrorCode::BadFrame, "{shown}: {message}");
        assert!(!message.is_empty(), "{shown}: a clear message");
        ping_pong(&mut ws, 100 + i as u64).await;
    }

    // Well-formed frames with bad values: the code says what is wrong.
    assert_eq!(send_expect(&mut ws, &conv.id, "empty-1", "").await, Err(ErrorCode::ValidationFailed));
    assert_eq!(send_expect(&mut ws, &conv.id, "empty-2", "  \n\t ").await, Err(ErrorCode::ValidationFailed));
    let too_long = "a".repeat(4001);
    assert_eq!(send_expect(&mut ws, &conv.id, "long-1", &too_long).await, Err(ErrorCode::TooLarge));
    let long_id = "x".repeat(65);
    assert_eq!(send_expect(&mut ws, &conv.id, &long_id, "hello").await, Err(ErrorCode::ValidationFailed));
    assert_eq!(send_expect(&mut ws, &conv.id, "", "hello").await, Err(ErrorCode::ValidationFailed));
    assert_eq!(
        send_expect(&mut ws, &ConversationId("nope".into()), "ghost-1", "hello").await,
        Err(ErrorCode::NotFound)
    );
    ping_pong(&mut ws, 200).await;

    // The limits are inclusive and count characters, not bytes.
    let max_id = "y".repeat(64);
    assert_eq!(send_expect(&mut ws, &conv.id, &max_id, "at the id limit").await, Ok(2));
    let max_body = "é".repeat(4000);
    assert_eq!(send_expect(&mut ws, &conv.id, "max-body", &max_body).await, Ok(3));

    ws.send(&ClientFrame::Subscribe {
        conversation_id: ConversationId("01HXXXXXXXXXXXXXXXXXXXXXXX".into()),
        after_seq: 0,
    })
    .await
    .expect("send");
    let (code, reference, _) = next_error(&mut ws).await;
    assert_eq!((code, reference.as_deref()), (ErrorCode::NotFound, Some("subscribe")));
    ws.send(&ClientFrame::Subscribe { conversation_id: conv.id.clone(), after_seq: -1 }).await.expect("send");
    let (code, reference, _) = next_error(&mut ws).await;
    assert_eq!((code, reference.as_deref()), (ErrorCode::ValidationFailed, Some("subscribe")));
    ws.send(&ClientFrame::Read { conversation_id: conv.id.clone(), seq: 4 }).await.expect("send");
    let (code, reference, _) = next_error(&mut ws).await;
    assert_eq!((code, reference.as_deref()), (ErrorCode::ValidationFailed, Some("read")));
    ws.send(&ClientFrame::Read { conversation_id: conv.id.clone(), seq: -1 }).await.expect("send");
    let (code, _, _) = next_error(&mut ws).await;
    assert_eq!(code, ErrorCode::ValidationFailed);
    ws.send(&ClientFrame::Accept { conversation_id: conv.id.clone() }).await.expect("send");
    let (code, reference, _) = next_error(&mut ws).await;
    assert_eq!((code, reference.as_deref()), (ErrorCode::Forbidden, Some("accept")));
    ping_pong(&mut ws, 300).await;

    // Still fully usable: subscribe gets exactly the stored messages.
    let (backlog, last_seq) = ws.subscribe(&conv.id, 0).await.expect("subscribe");
    assert_eq!(last_seq, 3);
    let ids: Vec<Option<&str>> = backlog.iter().map(|m| m.client_msg_id.as_deref()).collect();
    assert_eq!(ids, [Some(format!("first:{}", conv.id).as_str()), Some(max_id.as_str()), Some("max-body")]);

    // A frame over the limit (default 16 KiB) closes the socket with 1009.
    ws.send_raw(Message::text("z".repeat(20 * 1024))).await.expect("send a big frame");
    let closed = loop {
        match ws.recv_timeout(WAIT).await {
            Ok(ServerFrame::Error { .. }) | Ok(ServerFrame::Pong { .. }) => panic!("an oversize frame was processed"),
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    match closed {
        ClientError::Closed(Some((code, _))) => assert_eq!(code, 1009),
        other => panic!("expected close 1009, got {other:?}"),
    }

    // The server is fine, and nothing else was stored.
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.expect("history");
    assert_eq!(page.messages.len(), 3);
    assert_eq!(page.messages[2].body, max_body);
    let mut again = s.client.connect(&yp.access_token).await.expect("reconnect");
    ping_pong(&mut again, 400).await;
    s.stop().await;
}

async fn a_smaller_configured_frame_limit_applies(backend: Backend) {
    let s = TestServer::builder(backend).config(|cfg| cfg.limits.ws_max_frame_bytes = 2048).start().await;
    let yp = s.young_person().await;
    let mut ws = s.client.connect(&yp.access_token).await.expect("connect");
    // Under the limit: processed.
    ws.send_raw(Message::text(format!(r#"{{"type":"ping","nonce":"{}"}}"#, "n".repeat(1500)))).await.expect("send");
    assert!(matches!(ws.recv_timeout(WAIT).await.expect("pong"), ServerFrame::Pong { .. }));
    ws.send_raw(Message::text(format!(r#"{{"type":"ping","nonce":"{}"}}"#, "n".repeat(3000)))).await.expect("send");
    match ws.recv_timeout(WAIT).await {
        Err(ClientError::Closed(Some((code, _)))) => assert_eq!(code, 1009),
        other => panic!("expected close 1009, got {other:?}"),
    }
    s.stop().await;
}

fn error_code(text: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {text}");
    v["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code: {text}")).to_owned()
}

async fn expect_http(
    s: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: impl Into<Vec<u8>>,
    status: StatusCode,
    code: &str,
) {
    let (got, _, text) = s.client.raw(method.clone(), path, token, body.into()).await.expect("request");
    assert_eq!(got, status, "{method} {path}: {text}");
    assert_eq!(error_code(&text), code, "{method} {path}: {text}");
    assert!(!text.contains("panicked") && !text.contains("sqlx") && !text.contains("src/"), "{text}");
}

async fn bad_http_requests(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let fresh = s.young_person().await;
    let worker = s.staff(talkzone_tests::api::Role::DutyWorker).await;
    let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
    let (_, conv) = s.client.open_conversation(&yp.access_token, &req).await.expect("open");
    let t = Some(fresh.access_token.as_str());
    let p = "/v1/conversations";

    // Bodies: bad JSON 400, wrong or missing or unknown fields 422, too big 413.
    expect_http(&s, Method::POST, p, t, "{not json", StatusCode::BAD_REQUEST, "bad_request").await;
    expect_http(&s, Method::POST, p, t, "", StatusCode::BAD_REQUEST, "bad_request").await;
    expect_http(&s, Method::POST, p, t, r#"{"topic": 5}"#, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    expect_http(&s, Method::POST, p, t, "[]", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    expect_http(
        &s,
        Method::POST,
        p,
        t,
        r#"{"topic":"x","evil":true}"#,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let big = serde_json::json!({ "first_message": "a".repeat(70 * 1024) }).to_string();
    expect_http(&s, Method::POST, p, t, big, StatusCode::PAYLOAD_TOO_LARGE, "too_large").await;
    let long = serde_json::json!({ "first_message": "a".repeat(4001) }).to_string();
    expect_http(&s, Method::POST, p, t, long, StatusCode::PAYLOAD_TOO_LARGE, "too_large").await;
    let empty = serde_json::json!({ "first_message": "   " }).to_string();
    expect_http(&s, Method::POST, p, t, empty, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let list = s.client.list_conversations(&fresh.access_token, None).await.expect("list");
    assert!(list.conversations.is_empty(), "a refused request opened a conversation: {list:?}");

    expect_http(
        &s,
        Method::POST,
        "/v1/auth/login",
        None,
        r#"{"username":"x"}"#,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_http(
        &s,
        Method::POST,
        "/v1/auth/login",
        None,
        r#"{"username":1,"password":2}"#,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_http(
        &s,
        Method::POST,
        "/v1/auth/anonymous",
        None,
        r#"{"role":"yot_admin"}"#,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_http(&s, Method::POST, "/v1/auth/refresh", None, "{", StatusCode::BAD_REQUEST, "bad_request").await;
    expect_http(
        &s,
        Method::PUT,
        "/v1/me/duty",
        Some(&worker.access_token),
        r#"{"on_duty":"yes"}"#,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // Routes and query parameters.
    let t = Some(yp.access_token.as_str());
    expect_http(&s, Method::GET, "/v1/nope", t, "", StatusCode::NOT_FOUND, "not_found").await;
    expect_http(&s, Method::GET, "/nope", None, "", StatusCode::NOT_FOUND, "not_found").await;
    let m = format!("/v1/conversations/{}/messages", conv.id);
    expect_http(&s, Method::GET, &format!("{m}?after_seq=abc"), t, "", StatusCode::BAD_REQUEST, "bad_request").await;
    expect_http(&s, Method::GET, &format!("{m}?limit=ten"), t, "", StatusCode::BAD_REQUEST, "bad_request").await;
    expect_http(&s, Method::GET, &format!("{m}?sort=desc"), t, "", StatusCode::BAD_REQUEST, "bad_request").await;
    expect_http(&s, Method::GET, &format!("{m}?limit=0"), t, "", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        .await;
    expect_http(
        &s,
        Method::GET,
        &format!("{m}?limit=100000"),
        t,
        "",
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_http(
        &s,
        Method::GET,
        &format!("{m}?after_seq=-1"),
        t,
        "",
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_http(
        &s,
        Method::GET,
        "/v1/conversations?state=bogus",
        Some(&worker.access_token),
        "",
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    let w = Some(worker.access_token.as_str());
    for (q, status, code) in [
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("limit=501", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("offset=-1", StatusCode::BAD_REQUEST, "bad_request"),
        ("limit=many", StatusCode::BAD_REQUEST, "bad_request"),
    ] {
        expect_http(&s, Method::GET, &format!("/v1/conversations?{q}"), w, "", status, code).await;
    }
    expect_http(&s, Method::GET, "/v1/conversations?limit=5", t, "", StatusCode::BAD_REQUEST, "bad_request").await;

    // The limits themselves are fine.
    let page = s.client.messages(&yp.access_token, &conv.id, 0, Some(500)).await.expect("limit=500");
    assert_eq!(page.messages.len(), 1);
    let page = s.client.messages(&yp.access_token, &conv.id, 0, Some(1)).await.expect("limit=1");
    assert_eq!((page.messages.len(), page.next_after_seq), (1, 1));

    // After all that, exactly what was sent successfully is stored.
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.expect("history");
    let bodies: Vec<&str> = page.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["hello"]);
    let mine = s.client.list_conversations(&yp.access_token, None).await.expect("list");
    assert_eq!(mine.conversations.len(), 1);
    assert_eq!(mine.conversations[0].last_seq, 1);
    s.stop().await;
}

both_backends!(bad_websocket_frames, a_smaller_configured_frame_limit_applies, bad_http_requests);
