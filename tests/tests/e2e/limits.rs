//! Rate limits, end to end: messages per user, frames per connection, auth requests per IP,
//! and a slow consumer. A refusal is never silent, never stores anything, and never closes
//! the connection.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_tests::api::client::WsConnection;
use talkzone_tests::api::{ClientFrame, ConversationId, CreateConversationRequest, ErrorCode, Role, ServerFrame};
use talkzone_tests::{both_backends, Backend, TestServer};

const WAIT: Duration = Duration::from_secs(15);

async fn open(s: &TestServer, token: &str) -> ConversationId {
    let (_, conv) = s.client.open_conversation(token, &CreateConversationRequest::default()).await.expect("open");
    conv.id
}

async fn pong(ws: &mut WsConnection, nonce: &str) {
    ws.send(&ClientFrame::Ping { nonce: Some(serde_json::json!(nonce)) }).await.expect("ping");
    ws.recv_until(WAIT, |f| matches!(f, ServerFrame::Pong { nonce: Some(n) } if n == nonce))
        .await
        .expect("the connection still answers");
}

async fn messages_per_user(backend: Backend) {
    // The buckets refill by the service clock: the test moves it instead of waiting.
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(|cfg| {
            cfg.limits.user_messages_per_sec = 1;
            cfg.limits.user_messages_burst = 3;
        })
        .start()
        .await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp.access_token).await;
    let mut ws = s.client.connect(&yp.access_token).await.expect("connect");

    let ids: Vec<String> = (1..=6).map(|i| format!("m{i}")).collect();
    for id in &ids {
        ws.send(&ClientFrame::Send {
            conversation_id: conv.clone(),
            client_msg_id: id.clone(),
            body: format!("hello {id}"),
        })
        .await
        .expect("send");
    }
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    while acked.len() + refused.len() < ids.len() {
        match ws.recv_timeout(WAIT).await.expect("an answer to every send") {
            ServerFrame::Ack { client_msg_id, seq, .. } => acked.push((client_msg_id, seq.expect("seq"))),
            ServerFrame::Error { code, retry_after_ms, reference, .. } => {
                assert_eq!(code, ErrorCode::RateLimited);
                let r = reference.expect("the error names the message");
                assert!(ids.contains(&r), "ref {r}");
                let wait = retry_after_ms.expect("retry_after_ms");
                assert!(wait > 0 && wait <= 1000, "retry_after_ms {wait}");
                refused.push((r, wait));
            }
            _ => continue,
        }
    }
    assert!(acked.len() >= 3, "the burst of 3 goes through: {acked:?}");
    assert!(!refused.is_empty(), "6 messages at once over a burst of 3 must be limited");
    // The first three fit the burst.
    assert_eq!(acked.iter().take(3).map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["m1", "m2", "m3"]);
    let seqs: Vec<i64> = acked.iter().map(|(_, s)| *s).collect();
    assert_eq!(seqs, (1..=acked.len() as i64).collect::<Vec<_>>(), "no gaps from refused messages");

    // Refused messages are not stored.
    let page = s.client.messages(&yp.access_token, &conv, 0, None).await.expect("history");
    let stored: HashSet<&str> = page.messages.iter().filter_map(|m| m.client_msg_id.as_deref()).collect();
    let expected: HashSet<&str> = acked.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(stored, expected);
    for (id, _) in &refused {
        assert!(!stored.contains(id.as_str()), "{id} was refused but stored");
    }

    // The connection stays open, and after the advertised wait the refused message goes in.
    pong(&mut ws, "still-open").await;
    let (id, wait) = refused[0].clone();
    clock.advance_ms(i64::try_from(wait).unwrap());
    match ws.send_message(&conv, &id, "second try").await.expect("answer") {
        ServerFrame::Ack { client_msg_id, seq, .. } => {
            assert_eq!(client_msg_id, id);
            assert_eq!(seq, Some(acked.len() as i64 + 1));
        }
        other => panic!("retrying after retry_after_ms: {other:?}"),
    }

    // The limit is per user over all connections, not per connection.
    let mut ws2 = s.client.connect(&yp.access_token).await.expect("second connection");
    let mut limited = false;
    for i in 0..5 {
        if let ServerFrame::Error { code, .. } = ws2.send_message(&conv, &format!("c2-{i}"), "x").await.expect("answer")
        {
            assert_eq!(code, ErrorCode::RateLimited);
            limited = true;
        }
    }
    assert!(limited, "a second connection does not get a fresh allowance");
    // Another user has their own bucket.
    let other = s.young_person().await;
    let other_conv = open(&s, &other.access_token).await;
    let mut ows = s.client.connect(&other.access_token).await.expect("connect");
    assert!(matches!(ows.send_message(&other_conv, "o1", "hi").await.expect("answer"), ServerFrame::Ack { .. }));
    s.stop().await;
}

async fn frames_per_connection(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(|cfg| {
            cfg.limits.ws_frames_per_sec = 1;
            cfg.limits.ws_frames_burst = 5;
        })
        .start()
        .await;
    let yp = s.young_person().await;
    let mut ws = s.client.connect(&yp.access_token).await.expect("connect");
    for i in 0..20 {
        ws.send(&ClientFrame::Ping { nonce: Some(serde_json::json!(i)) }).await.expect("ping");
    }
    let (mut pongs, mut limited) = (0, 0);
    let mut wait_ms = 0;
    while pongs + limited < 20 {
        match ws.recv_timeout(WAIT).await.expect("an answer to every ping") {
            ServerFrame::Pong { .. } => pongs += 1,
            ServerFrame::Error { code, reference, retry_after_ms, .. } => {
                assert_eq!(code, ErrorCode::RateLimited);
                assert_eq!(reference.as_deref(), Some("ping"));
                wait_ms = retry_after_ms.expect("retry_after_ms");
                assert!(wait_ms > 0);
                limited += 1;
            }
            _ => continue,
        }
    }
    assert!(pongs >= 5, "the burst is answered: {pongs}");
    assert!(limited >= 1, "20 pings over a burst of 5 must be limited");

    // Still open: after the wait, a ping is answered.
    clock.advance_ms(i64::try_from(wait_ms).unwrap());
    pong(&mut ws, "after").await;
    // Another connection of the same user has its own allowance.
    let mut ws2 = s.client.connect(&yp.access_token).await.expect("second connection");
    pong(&mut ws2, "other").await;
    s.stop().await;
}

async fn auth_per_ip(backend: Backend) {
    let s = TestServer::builder(backend)
        .config(|cfg| {
            cfg.limits.auth_per_ip_per_min = 1;
            cfg.limits.auth_burst = 2;
        })
        .start()
        .await;
    let body = b"{}".to_vec();
    for _ in 0..2 {
        let (status, _, text) =
            s.client.raw(reqwest::Method::POST, "/v1/auth/anonymous", None, body.clone()).await.expect("req");
        assert_eq!(status, StatusCode::CREATED, "{text}");
    }
    let (status, headers, text) =
        s.client.raw(reqwest::Method::POST, "/v1/auth/anonymous", None, body.clone()).await.expect("req");
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["error"]["code"], "rate_limited", "{text}");
    let retry: u64 = headers
        .get(reqwest::header::RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Login and refresh share the per-IP budget.
    let (status, headers, _) = s
        .client
        .raw(
            reqwest::Method::POST,
            "/v1/auth/login",
            None,
            br#"{"username":"nobody","password":"whatever-whatever"}"#.to_vec(),
        )
        .await
        .expect("req");
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key(reqwest::header::RETRY_AFTER));
    // Other routes are not affected.
    let (status, _, _) = s.client.raw(reqwest::Method::GET, "/healthz", None, vec![]).await.expect("req");
    assert_eq!(status, StatusCode::OK);
    s.stop().await;
}

/// A client that never reads while a conversation is busy is disconnected; nobody else is
/// held up and the server stays healthy.
async fn slow_consumer_is_disconnected(backend: Backend) {
    let s = TestServer::builder(backend)
        .config(|cfg| {
            cfg.limits.user_messages_per_sec = 10_000;
            cfg.limits.user_messages_burst = 10_000;
            cfg.limits.ws_frames_per_sec = 10_000;
            cfg.limits.ws_frames_burst = 10_000;
            cfg.limits.ws_outbound_buffer = 16;
        })
        .start()
        .await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp.access_token).await;
    let worker = s.staff(Role::DutyWorker).await;
    s.client.accept(&worker.access_token, &conv).await.expect("accept");

    // The slow one: the young person's second device, subscribed, never reading.
    let mut slow = s.client.connect(&yp.access_token).await.expect("slow connects");
    slow.subscribe(&conv, 0).await.expect("subscribe");
    // A healthy watcher of the same conversation.
    let mut healthy = s.client.connect(&yp.access_token).await.expect("healthy connects");
    healthy.subscribe(&conv, 0).await.expect("subscribe");
    let mut sender = s.client.connect(&worker.access_token).await.expect("worker connects");
    // A pong proves the sender's connection task (and so its registration) is running.
    pong(&mut sender, "ready").await;
    let connections_before = s.state().hub.connection_count();
    assert_eq!(connections_before, 3);

    let body = "x".repeat(3900);
    let mut sent = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while s.state().hub.connection_count() == connections_before {
        assert!(tokio::time::Instant::now() < deadline, "the slow consumer was never disconnected");
        for _ in 0..20 {
            sent += 1;
            sender
                .send(&ClientFrame::Send {
                    conversation_id: conv.clone(),
                    client_msg_id: format!("w{sent}"),
                    body: body.clone(),
                })
                .await
                .expect("send");
        }
        let last = format!("w{sent}");
        sender
            .recv_until(WAIT, |f| matches!(f, ServerFrame::Ack { client_msg_id, .. } if *client_msg_id == last))
            .await
            .expect("acks");
        // The healthy watcher keeps up and sees every message, in order.
        let last = format!("w{sent}");
        healthy
            .recv_until(
                WAIT,
                |f| matches!(f, ServerFrame::Message(m) if m.client_msg_id.as_deref() == Some(last.as_str())),
            )
            .await
            .expect("the healthy subscriber keeps receiving");
    }
    assert_eq!(s.state().hub.connection_count(), connections_before - 1);

    // The slow client finds, after what was buffered, that it was closed (1013: reconnect).
    let end = loop {
        match slow.recv_timeout(WAIT).await {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    match &end {
        talkzone_tests::api::client::ClientError::Closed(Some((code, _))) => assert_eq!(*code, 1013, "{end:?}"),
        talkzone_tests::api::client::ClientError::Closed(None)
        | talkzone_tests::api::client::ClientError::WebSocket(_) => {}
        other => panic!("the slow consumer's connection ended oddly: {other:?}"),
    }

    // Everyone else is fine; the slow client reconnects and resumes.
    pong(&mut healthy, "h").await;
    pong(&mut sender, "s").await;
    let (status, _, _) = s.client.raw(reqwest::Method::GET, "/readyz", None, vec![]).await.expect("readyz");
    assert_eq!(status, StatusCode::OK);
    let mut again = s.client.connect(&yp.access_token).await.expect("reconnect");
    let (backlog, last_seq) = again.subscribe(&conv, 0).await.expect("resume");
    assert_eq!(backlog.len() as i64, last_seq);
    // Every message stored, plus the empty-desk notice (nobody was on duty when the chat
    // opened) and the join notice.
    assert_eq!(last_seq, sent as i64 + 2, "every message stored");
    s.stop().await;
}

both_backends!(messages_per_user, frames_per_connection, auth_per_ip, slow_consumer_is_disconnected);
