//! Hostile input: a battery of generated bad frames and requests (malformed JSON, deep nesting,
//! huge numbers, invalid UTF-8, binary frames, oversize frames, wrong types, unknown fields,
//! SQL and HTML metacharacters in every string field). The server must not panic, must never
//! answer 5xx, must change no stored data, must keep its memory bounded, and other clients must
//! be unaffected. The server runs as its own process (the `talkzone` binary), so that its
//! memory is measured alone, not with the other tests that share this test binary.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use talkzone_mobile_api::client::{ClientError, WsConnection};
use talkzone_mobile_api::{CreateConversationRequest, ErrorCode, Role, ServerFrame, TokenResponse};
use talkzone_tests::{
    both_backends, create_account_in, fresh_database, sign_in_enrolling, Backend, ProcessServer, TempDir, TEST_PASSWORD,
};
use tokio_tungstenite::tungstenite::Message;

const T: Duration = Duration::from_secs(10);

const NASTY: &[&str] = &[
    "' OR 1=1 --",
    "'; DROP TABLE messages; --",
    "\" OR \"\"=\"",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "../../etc/passwd",
    "%00%0d%0a",
    "\u{0000}",
    "\u{202e}evil",
    "𝕏😀👨‍👩‍👧",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "",
    " ",
];

const FRAME_TYPES: &[&str] = &[
    "subscribe",
    "unsubscribe",
    "send",
    "typing",
    "read",
    "accept",
    "duty",
    "queue.watch",
    "moderation.watch",
    "ping",
];

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn nasty(rng: &mut StdRng) -> String {
    NASTY[rng.gen_range(0..NASTY.len())].to_owned()
}

fn wrong_value(rng: &mut StdRng) -> serde_json::Value {
    match rng.gen_range(0..7) {
        0 => serde_json::json!(null),
        1 => serde_json::json!(true),
        2 => serde_json::json!(-1),
        3 => serde_json::json!([1, 2, 3]),
        4 => serde_json::json!({"nested": {"deeper": nasty(rng)}}),
        5 => serde_json::json!(1e300),
        _ => serde_json::json!(u64::MAX),
    }
}

/// One bad text frame: never a valid action on data the sender owns.
fn bad_text_frame(rng: &mut StdRng, i: usize) -> String {
    let t = FRAME_TYPES[i % FRAME_TYPES.len()];
    match i % 9 {
        // Malformed JSON: a valid-looking frame cut short.
        0 => {
            let full = format!(r#"{{"type":"{t}","conversation_id":"{}","after_seq":0}}"#, rng.gen::<u32>());
            full[..rng.gen_range(1..full.len())].to_owned()
        }
        // Deep nesting (well within the frame limit).
        1 => {
            let depth = rng.gen_range(200..4000);
            format!("{}{}", "[".repeat(depth), "]".repeat(depth))
        }
        // Huge numbers.
        2 => format!(r#"{{"type":"read","conversation_id":"{}","seq":{}}}"#, nasty(rng).escape_default(), "9".repeat(rng.gen_range(20..400))),
        // Wrong types in every field.
        3 => serde_json::json!({"type": t, "conversation_id": wrong_value(rng), "client_msg_id": wrong_value(rng),
            "body": wrong_value(rng), "seq": wrong_value(rng), "on_duty": wrong_value(rng), "after_seq": wrong_value(rng)})
        .to_string(),
        // Unknown fields.
        4 => serde_json::json!({"type": t, "conversation_id": "x", "after_seq": 0, "admin": true, "role": "yot_admin"}).to_string(),
        // Unknown types.
        5 => serde_json::json!({"type": format!("{t}~{}", nasty(rng)), "conversation_id": "x"}).to_string(),
        // Metacharacters in ids the sender does not own.
        6 => serde_json::json!({"type": "send", "conversation_id": nasty(rng), "client_msg_id": format!("h{i}"), "body": nasty(rng)}).to_string(),
        7 => serde_json::json!({"type": "subscribe", "conversation_id": nasty(rng), "after_seq": rng.gen_range(-5..5)}).to_string(),
        // Not JSON at all.
        _ => (0..rng.gen_range(1..200)).map(|_| rng.gen_range(' '..='~')).collect(),
    }
}

async fn expect_error_frames(ws: &mut WsConnection, n: usize) {
    for k in 0..n {
        match ws.recv_timeout(T).await {
            Ok(ServerFrame::Error { code, .. }) => assert_ne!(code, ErrorCode::Internal, "frame {k}"),
            Ok(ServerFrame::Subscribed { .. }) | Ok(ServerFrame::Pong { .. }) => {}
            Ok(other) => panic!("a bad frame was acted on: {other:?}"),
            Err(e) => panic!("no answer to bad frame {k}: {e}"),
        }
    }
}

/// A staff account made in the server's database, signed in.
async fn staff(s: &ProcessServer, database_url: &str, role: Role, username: &str) -> TokenResponse {
    create_account_in(database_url, username, role).await;
    sign_in_enrolling(&s.client, username, TEST_PASSWORD).await
}

async fn a_battery_of_hostile_frames_and_requests_changes_nothing(backend: Backend) {
    let dir = TempDir::new();
    let db = fresh_database(backend, &dir.0).await;
    let limits = [
        ("TALKZONE_WS_FRAMES_PER_SEC", "1000000"),
        ("TALKZONE_WS_FRAMES_BURST", "1000000"),
        ("TALKZONE_USER_MESSAGES_PER_SEC", "1000000"),
        ("TALKZONE_USER_MESSAGES_BURST", "1000000"),
    ];
    let s = ProcessServer::spawn_with(&db, &dir.0, &limits).await;
    let pid = s.child.id().expect("the server runs");
    // A duty worker on duty and connected, so that new chats do not get the empty-desk message.
    let desk = staff(&s, &db, Role::DutyWorker, "desk-worker").await;
    s.client.set_duty(&desk.access_token, true).await.unwrap();
    let mut desk_ws = s.client.connect(&desk.access_token).await.unwrap();
    desk_ws.round_trip().await.unwrap();
    // A victim chatting normally the whole time.
    let victim = s.client.anonymous().await.unwrap();
    let (_, victim_conv) = s
        .client
        .open_conversation(
            &victim.access_token,
            &CreateConversationRequest { topic: None, first_message: Some("hello".into()) },
        )
        .await
        .unwrap();
    let worker = staff(&s, &db, Role::DutyWorker, "worker").await;
    s.client.accept(&worker.access_token, &victim_conv.id).await.unwrap();
    let mut victim_ws = s.client.connect(&victim.access_token).await.unwrap();
    victim_ws.subscribe(&victim_conv.id, 0).await.unwrap();
    let before = s.client.messages(&victim.access_token, &victim_conv.id, 0, None).await.unwrap().messages;

    let attacker = s.client.anonymous().await.unwrap();
    let mut rng = StdRng::seed_from_u64(0x7a1c_2026);
    let rss_before = rss_kib(pid);
    let mut sent = 0;
    let mut attack = s.client.connect(&attacker.access_token).await.unwrap();
    while sent < 8_000 {
        // Batches, so the socket's own buffers stay small.
        let batch = 200;
        for i in 0..batch {
            let n = sent + i;
            if n % 97 == 0 {
                // Invalid UTF-8 and other binary payloads.
                let bytes: Vec<u8> = (0..rng.gen_range(1..64)).map(|_| rng.gen::<u8>() | 0x80).collect();
                attack.send_raw(Message::binary(bytes)).await.unwrap();
            } else {
                attack.send_raw(Message::text(bad_text_frame(&mut rng, n))).await.unwrap();
            }
        }
        expect_error_frames(&mut attack, batch).await;
        sent += batch;
        // The victim is unaffected meanwhile.
        let ack = victim_ws.send_message(&victim_conv.id, &format!("v{sent}"), "still here").await.unwrap();
        assert!(matches!(ack, ServerFrame::Ack { .. }), "{ack:?}");
    }
    // Oversize frames close only the sender's connection, with 1009; then it reconnects.
    for _ in 0..5 {
        let mut big = s.client.connect(&attacker.access_token).await.unwrap();
        big.send_raw(Message::text("x".repeat(20 * 1024))).await.unwrap();
        match big.recv_timeout(T).await {
            Err(ClientError::Closed(Some((code, _)))) => assert_eq!(code, 1009),
            other => panic!("oversize frame: {other:?}"),
        }
    }

    // HTTP: bad bodies to every write route, metacharacters in every path segment.
    let posts = [
        "/v1/auth/anonymous",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/conversations",
        "/v1/admin/users",
        "/v1/reports",
        "/v1/rooms",
        "/v1/moderation/bulk",
        "/v1/rota/shifts",
    ];
    let mut http_sent = 0;
    for i in 0..2_000 {
        let path = posts[i % posts.len()];
        let body: Vec<u8> = match i % 5 {
            0 => bad_text_frame(&mut rng, i).into_bytes(),
            1 => (0..rng.gen_range(1..300)).map(|_| rng.gen::<u8>()).collect(),
            2 => serde_json::json!({"username": nasty(&mut rng), "password": wrong_value(&mut rng), "role": nasty(&mut rng),
                "topic": wrong_value(&mut rng), "first_message": nasty(&mut rng), "x": 1}).to_string().into_bytes(),
            3 => format!("{}{}", "{\"a\":".repeat(500), "1").into_bytes(),
            _ => serde_json::json!({"refresh_token": nasty(&mut rng)}).to_string().into_bytes(),
        };
        let (status, _, text) = s.client.raw(Method::POST, path, Some(&attacker.access_token), body).await.unwrap();
        assert!(!status.is_server_error(), "{path}: {status} {text}");
        assert!(!text.contains("sqlx") && !text.contains("panicked"), "{path}: leaked internals: {text}");
        http_sent += 1;
    }
    for seg in NASTY {
        let enc: String = seg.bytes().map(|b| format!("%{b:02X}")).collect();
        for path in [
            format!("/v1/conversations/{enc}"),
            format!("/v1/conversations/{enc}/messages?after_seq=0"),
            format!("/v1/escalations/{enc}"),
        ] {
            let (status, _, _) = s.client.raw(Method::GET, &path, Some(&attacker.access_token), vec![]).await.unwrap();
            assert!(!status.is_server_error(), "{path}: {status}");
            http_sent += 1;
        }
    }

    // Nothing changed: the attacker has no conversations; the victim's chat holds exactly what
    // the victim sent; memory did not run away.
    let theirs = s.client.list_conversations(&attacker.access_token, None).await.unwrap();
    assert!(theirs.conversations.is_empty(), "{theirs:?}");
    let after = s.client.messages(&victim.access_token, &victim_conv.id, 0, None).await.unwrap().messages;
    assert_eq!(after.len(), before.len() + sent / 200, "only the victim's own messages were added");
    let growth = rss_kib(pid).saturating_sub(rss_before);
    assert!(growth < 200 * 1024, "memory grew by {growth} KiB over {sent} frames and {http_sent} requests");
    let (status, _, _) = s.client.raw(Method::GET, "/readyz", None, vec![]).await.unwrap();
    assert_eq!(status.as_u16(), 200);
    eprintln!("{backend:?}: {sent} hostile frames and {http_sent} hostile requests; RSS growth {growth} KiB");
    s.terminate().await;
}

both_backends!(a_battery_of_hostile_frames_and_requests_changes_nothing);
