//! Authorisation end to end: who may read, subscribe to, post into and accept which
//! conversation; who may create accounts; forged, missing and revoked credentials; browser
//! WebSocket origin checks and single-use tickets; opaque ids.

use std::time::Duration;

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::json;
use talkzone_tests::api::client::{ClientError, WsConnection};
use talkzone_tests::api::{
    ClientFrame, CloseRequest, ConversationId, ConversationState, ConversationView, CreateConversationRequest,
    CreateUserRequest, ErrorBody, ErrorCode, Role, ServerFrame, TagsRequest, TokenResponse, UserView,
};
use talkzone_tests::{both_backends, Backend, TestServer};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const WAIT: Duration = Duration::from_secs(15);
/// The key `Config::for_tests` signs with.
const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
const ALLOWED_ORIGIN: &str = "https://chat.example.org";

fn api_error(e: &ClientError) -> (Option<u16>, Option<ErrorCode>) {
    (e.status(), e.code())
}

/// Waits for the next `error` frame and returns (code, ref).
async fn next_error(ws: &mut WsConnection) -> (ErrorCode, Option<String>) {
    match ws.recv_until(WAIT, |f| matches!(f, ServerFrame::Error { .. })).await.expect("an error frame") {
        ServerFrame::Error { code, reference, .. } => (code, reference),
        other => unreachable!("{other:?}"),
    }
}

/// Sends a ping and returns every frame received before its pong: a barrier that shows
/// what the server sent up to now.
async fn frames_until_pong(ws: &mut WsConnection, nonce: &str) -> Vec<ServerFrame> {
    ws.send(&ClientFrame::Ping { nonce: Some(serde_json::json!(nonce)) }).await.expect("send ping");
    let mut seen = Vec::new();
    loop {
        let f = ws.recv_timeout(WAIT).await.expect("frames until pong");
        if let ServerFrame::Pong { nonce: Some(n) } = &f {
            if n == nonce {
                return seen;
            }
        }
        seen.push(f);
    }
}

fn frames_about(frames: &[ServerFrame], conv: &ConversationId) -> Vec<ServerFrame> {
    frames
        .iter()
        .filter(|f| match f {
            ServerFrame::Message(m) => &m.conversation_id == conv,
            ServerFrame::Subscribed { conversation_id, .. }
            | ServerFrame::Typing { conversation_id, .. }
            | ServerFrame::Read { conversation_id, .. }
            | ServerFrame::Queue { conversation_id, .. } => conversation_id == conv,
            ServerFrame::Conversation(c) => &c.id == conv,
            _ => false,
        })
        .cloned()
        .collect()
}

async fn open_with(s: &TestServer, yp: &TokenResponse, first: &str) -> ConversationView {
    let req = CreateConversationRequest { topic: Some("school".into()), first_message: Some(first.into()) };
    let (status, conv) = s.client.open_conversation(&yp.access_token, &req).await.expect("open conversation");
    assert_eq!(status, StatusCode::CREATED);
    conv
}

// ---------------------------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------------------------

async fn young_person_cannot_touch_anothers_conversation(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let alice = s.young_person().await;
    let bob = s.young_person().await;
    let conv = open_with(&s, &alice, "hello, I need help").await;

    // REST: the same 404 as for an id that does not exist, so existence does not leak.
    let missing = ConversationId("01HZZZZZZZZZZZZZZZZZZZZZZZ".into());
    for id in [&conv.id, &missing] {
        let e = s.client.conversation(&bob.access_token, id).await.expect_err("bob reads a conversation");
        assert_eq!(api_error(&e), (Some(404), Some(ErrorCode::NotFound)), "{e}");
        let e = s.client.messages(&bob.access_token, id, 0, None).await.expect_err("bob reads history");
        assert_eq!(api_error(&e), (Some(404), Some(ErrorCode::NotFound)), "{e}");
    }
    let bobs = s.client.list_conversations(&bob.access_token, None).await.expect("bob's list");
    assert!(bobs.conversations.is_empty(), "bob sees only his own conversations: {bobs:?}");

    // WebSocket: subscribe, send, typing and read are all refused as not found.
    let mut ws = s.client.connect(&bob.access_token).await.expect("bob connects");
    ws.send(&ClientFrame::Subscribe { conversation_id: conv.id.clone(), after_seq: 0 }).await.expect("send");
    let mut before_error = Vec::new();
    let (code, reference) = loop {
        match ws.recv_timeout(WAIT).await.expect("answer to subscribe") {
            ServerFrame::Error { code, reference, .. } => break (code, reference),
            other => before_error.push(other),
        }
    };
    assert_eq!((code, reference.as_deref()), (ErrorCode::NotFound, Some("subscribe")));
    assert!(frames_about(&before_error, &conv.id).is_empty(), "nothing of alice's leaked: {before_error:?}");

    let answer = ws.send_message(&conv.id, "bob-1", "let me in").await.expect("answer to send");
    match answer {
        ServerFrame::Error { code, reference, .. } => {
            assert_eq!((code, reference.as_deref()), (ErrorCode::NotFound, Some("bob-1")));
        }
        other => panic!("bob's send into alice's conversation was answered with {other:?}"),
    }
    ws.send(&ClientFrame::Typing { conversation_id: conv.id.clone() }).await.expect("send typing");
    assert_eq!(next_error(&mut ws).await, (ErrorCode::NotFound, Some("typing".into())));
    ws.send(&ClientFrame::Read { conversation_id: conv.id.clone(), seq: 1 }).await.expect("send read");
    assert_eq!(next_error(&mut ws).await, (ErrorCode::NotFound, Some("read".into())));

    // Alice keeps talking: none of it reaches bob.
    let mut alice_ws = s.client.connect(&alice.access_token).await.expect("alice connects");
    match alice_ws.send_message(&conv.id, "alice-2", "are you there?").await.expect("alice sends") {
        ServerFrame::Ack { seq, .. } => assert_eq!(seq, Some(2)),
        other => panic!("alice's send: {other:?}"),
    }
    let seen = frames_until_pong(&mut ws, "after-alice").await;
    assert!(frames_about(&seen, &conv.id).is_empty(), "bob received alice's conversation: {seen:?}");

    // Nothing of bob's was stored.
    let page = s.client.messages(&alice.access_token, &conv.id, 0, None).await.expect("alice's history");
    let bodies: Vec<&str> = page.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["hello, I need help", "are you there?"]);
    assert!(page.messages.iter().all(|m| m.sender.as_ref().map(|u| &u.id) == Some(&alice.user.id)));
    let view = s.client.conversation(&alice.access_token, &conv.id).await.expect("alice's conversation");
    assert_eq!(view.last_seq, 2);
    s.stop().await;
}

async fn roles_are_enforced_for_accept_and_accounts(backend: Backend) {
    let s = TestServer::start(backend).await;
    let yp = s.young_person().await;
    let conv = open_with(&s, &yp, "hi").await;

    // A young person cannot accept: not over REST, not over the WebSocket.
    let e = s.client.accept(&yp.access_token, &conv.id).await.expect_err("young person accepts");
    assert_eq!(api_error(&e), (Some(403), Some(ErrorCode::Forbidden)), "{e}");
    let mut ws = s.client.connect(&yp.access_token).await.expect("connect");
    ws.send(&ClientFrame::Accept { conversation_id: conv.id.clone() }).await.expect("send accept");
    assert_eq!(next_error(&mut ws).await, (ErrorCode::Forbidden, Some("accept".into())));
    let view = s.client.conversation(&yp.access_token, &conv.id).await.expect("conversation");
    assert_eq!(view.state, ConversationState::Queued);
    assert!(view.assigned_to.is_none());

    // Accounts: only a yot_admin creates them.
    let worker = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let admin = s.staff(Role::YotAdmin).await;
    let req = CreateUserRequest {
        username: "new-worker".into(),
        password: "a long enough password".into(),
        role: Role::DutyWorker,
        display_name: Some("Sam".into()),
    };
    let escalate = CreateUserRequest { username: "sneaky-admin".into(), role: Role::YotAdmin, ..req.clone() };
    for (who, token) in [
        ("young person", &yp.access_token),
        ("duty worker", &worker.access_token),
        ("supervisor", &supervisor.access_token),
    ] {
        for r in [&req, &escalate] {
            let e = s.client.create_user(token, r).await.expect_err(who);
            assert_eq!(api_error(&e), (Some(403), Some(ErrorCode::Forbidden)), "{who}: {e}");
        }
    }
    let e = s.client.login("sneaky-admin", "a long enough password").await.expect_err("refused account exists");
    assert_eq!(api_error(&e), (Some(401), Some(ErrorCode::Unauthorized)));

    // The refused attempts created nothing: the admin's request is the first with this name.
    // By hand: the 201 is the assertion, and the typed client does not return the status.
    let (status, created): (StatusCode, UserView) = s
        .client
        .request(Method::POST, "/v1/admin/users", Some(&admin.access_token), Some(&req))
        .await
        .expect("admin creates a user");
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created.role, Role::DutyWorker);
    assert_eq!(created.display_name, "Sam");
    let signed_in = s.client.login("new-worker", "a long enough password").await.expect("new worker signs in");
    assert_eq!(signed_in.user.id, created.id);
    assert_eq!(signed_in.user.role, Role::DutyWorker);

    let e = s.client.create_user(&admin.access_token, &req).await.expect_err("duplicate username");
    assert_eq!(api_error(&e), (Some(409), Some(ErrorCode::Conflict)), "{e}");

    let weak = CreateUserRequest { username: "weak-one".into(), password: "short".into(), ..req.clone() };
    let e = s.client.create_user(&admin.access_token, &weak).await.expect_err("weak password");
    assert_eq!(api_error(&e), (Some(422), Some(ErrorCode::ValidationFailed)), "{e}");
    let e = s.client.login("weak-one", "short").await.expect_err("weak account was not created");
    assert_eq!(e.status(), Some(401));

    // The staff list: every staff account, no young person, and the admin's alone.
    let list = s.client.list_staff(&admin.access_token).await.expect("staff list");
    let names: Vec<(&str, Role)> = list.accounts.iter().map(|a| (a.display_name.as_str(), a.role)).collect();
    assert!(names.contains(&("Sam", Role::DutyWorker)), "{names:?}");
    assert!(list.accounts.iter().any(|a| a.id == supervisor.user.id && a.role == Role::Supervisor && !a.suspended));
    assert!(
        list.accounts.iter().all(|a| a.id != yp.user.id && a.role != Role::YoungPerson),
        "no young people: {names:?}"
    );
    assert!(!list.accounts.iter().any(|a| a.username.as_deref() == Some("sneaky-admin")), "nothing refused was made");
    let e = s.client.list_staff(&supervisor.access_token).await.unwrap_err();
    assert_eq!(api_error(&e), (Some(403), Some(ErrorCode::Forbidden)));
    s.stop().await;
}

async fn unassigned_worker_may_triage_but_not_talk(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let conv = open_with(&s, &yp, "I feel awful").await;
    let w1 = s.staff(Role::DutyWorker).await;
    let w2 = s.staff(Role::DutyWorker).await;

    // Triage: w1 reads the queued conversation and its history, and may subscribe.
    let view = s.client.conversation(&w1.access_token, &conv.id).await.expect("w1 reads the queued chat");
    assert_eq!(view.state, ConversationState::Queued);
    let page = s.client.messages(&w1.access_token, &conv.id, 0, None).await.expect("w1 reads history");
    assert_eq!(page.messages.len(), 1);
    let mut w1_ws = s.client.connect(&w1.access_token).await.expect("w1 connects");
    let (backlog, last) = w1_ws.subscribe(&conv.id, 0).await.expect("w1 subscribes for triage");
    assert_eq!((backlog.len(), last), (1, 1));

    // ... but cannot talk into it.
    match w1_ws.send_message(&conv.id, "w1-1", "hello from w1").await.expect("answer") {
        ServerFrame::Error { code, reference, .. } => {
            assert_eq!((code, reference.as_deref()), (ErrorCode::Forbidden, Some("w1-1")));
        }
        other => panic!("an unassigned worker's send was answered with {other:?}"),
    }
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.expect("history");
    assert_eq!(page.messages.len(), 1, "w1's refused message was not stored");

    // w2 triages too, then accepts; w1 loses access, w2 keeps its subscription.
    let mut w2_ws = s.client.connect(&w2.access_token).await.expect("w2 connects");
    w2_ws.subscribe(&conv.id, 0).await.expect("w2 subscribes for triage");
    let accepted = s.client.accept(&w2.access_token, &conv.id).await.expect("w2 accepts");
    assert_eq!(accepted.state, ConversationState::Assigned);
    assert_eq!(accepted.assigned_to.as_ref().map(|u| &u.id), Some(&w2.user.id));
    let e = s.client.messages(&w1.access_token, &conv.id, 0, None).await.expect_err("w1 history after accept");
    assert_eq!(api_error(&e), (Some(404), Some(ErrorCode::NotFound)), "{e}");
    let e = s.client.conversation(&w1.access_token, &conv.id).await.expect_err("w1 reads after accept");
    assert_eq!(api_error(&e), (Some(404), Some(ErrorCode::NotFound)), "{e}");
    let e = s.client.accept(&w1.access_token, &conv.id).await.expect_err("w1 accepts too late");
    assert_eq!(api_error(&e), (Some(409), Some(ErrorCode::AlreadyAssigned)), "{e}");
    let w1_list = s.client.list_conversations(&w1.access_token, None).await.expect("w1's list");
    assert!(w1_list.conversations.iter().all(|c| c.id != conv.id), "w1 still lists it");

    // The private conversation that follows reaches neither w1's old subscription nor a new one.
    let mut yp_ws = s.client.connect(&yp.access_token).await.expect("yp connects");
    match yp_ws.send_message(&conv.id, "yp-2", "something private").await.expect("yp sends") {
        ServerFrame::Ack { .. } => {}
        other => panic!("yp's send: {other:?}"),
    }
    let live = w2_ws
        .recv_until(WAIT, |f| matches!(f, ServerFrame::Message(m) if m.client_msg_id.as_deref() == Some("yp-2")))
        .await
        .expect("the accepting worker's triage subscription carries on");
    assert!(matches!(live, ServerFrame::Message(m) if m.seq == 3));
    match w2_ws.send_message(&conv.id, "w2-1", "hi, I'm here for you").await.expect("w2 sends") {
        ServerFrame::Ack { .. } => {}
        other => panic!("w2's send: {other:?}"),
    }
    let seen = frames_until_pong(&mut w1_ws, "after-accept").await;
    let leaked: Vec<_> = frames_about(&seen, &conv.id)
        .into_iter()
        .filter(|f| matches!(f, ServerFrame::Message(m) if m.sender.is_some()))
        .collect();
    assert!(leaked.is_empty(), "w1's triage subscription kept receiving the assigned chat: {leaked:?}");
    w1_ws.send(&ClientFrame::Subscribe { conversation_id: conv.id.clone(), after_seq: 0 }).await.expect("send");
    assert_eq!(next_error(&mut w1_ws).await, (ErrorCode::NotFound, Some("subscribe".into())));
    match w1_ws.send_message(&conv.id, "w1-2", "me again").await.expect("answer") {
        ServerFrame::Error { code, reference, .. } => {
            assert_eq!((code, reference.as_deref()), (ErrorCode::NotFound, Some("w1-2")));
        }
        other => panic!("{other:?}"),
    }
    let page = s.client.messages(&w2.access_token, &conv.id, 0, None).await.expect("w2 reads history");
    let senders: Vec<Option<&str>> = page.messages.iter().map(|m| m.sender.as_ref().map(|u| u.id.as_str())).collect();
    assert_eq!(
        senders,
        [Some(yp.user.id.as_str()), None, Some(yp.user.id.as_str()), Some(w2.user.id.as_str())],
        "first message, join notice, yp, w2; nothing from w1"
    );
    s.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
}

fn claims_for(user_id: &str, role: &str) -> serde_json::Value {
    claims_in(user_id, role, "no-such-session")
}

/// Claims naming the session `sid` (an access token is good only while its session lives).
fn claims_in(user_id: &str, role: &str, sid: &str) -> serde_json::Value {
    serde_json::json!({
        "sid": sid,
        "sub": user_id,
        "role": role,
        "iat": now_s(),
        "exp": now_s() + 600,
        "jti": "forged-1",
        "aud": "talkzone-api",
        "iss": "talkzone",
    })
}

fn hs256(claims: &serde_json::Value, key: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
    )
    .expect("sign")
}

/// By hand: some of these send no `Authorization` header at all, which the typed client
/// cannot, and the point is the error body's exact shape.
async fn assert_401_json(s: &TestServer, method: Method, path: &str, token: Option<&str>, body: &[u8]) {
    let (status, _, text) = s.client.raw(method.clone(), path, token, body.to_vec()).await.expect("request");
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with {token:?}: {text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("an error body in JSON");
    assert_eq!(v["error"]["code"], "unauthorized", "{text}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{text}");
}

async fn missing_forged_and_foreign_tokens_are_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let yp = s.young_person().await;
    let new_user = serde_json::to_vec(&serde_json::json!({
        "username": "forged-admin-made", "password": "a long enough password", "role": "yot_admin"
    }))
    .expect("json");

    // A correctly signed token for the same claims is accepted: the refusals below are about
    // the signature, not the claims.
    let session = s.client.my_sessions(&admin.access_token).await.expect("sessions").sessions.remove(0).id;
    let genuine = hs256(&claims_in(admin.user.id.as_str(), "yot_admin", &session), TEST_JWT_SECRET);
    let me = s.client.me(&genuine).await.expect("a token signed with the server's key works");
    assert_eq!(me.id, admin.user.id);
    // Signed with the server's key, but naming no session, or one that is not live: refused.
    let mut sessionless = claims_for(admin.user.id.as_str(), "yot_admin");
    sessionless.as_object_mut().expect("claims").remove("sid");
    assert_401_json(&s, Method::GET, "/v1/me", Some(&hs256(&sessionless, TEST_JWT_SECRET)), b"").await;
    let unknown = hs256(&claims_for(admin.user.id.as_str(), "yot_admin"), TEST_JWT_SECRET);
    assert_401_json(&s, Method::GET, "/v1/me", Some(&unknown), b"").await;
    // Another user's session named in a token for this one: refused.
    let theirs = s.client.my_sessions(&yp.access_token).await.expect("sessions").sessions.remove(0).id;
    let borrowed = hs256(&claims_in(admin.user.id.as_str(), "yot_admin", &theirs), TEST_JWT_SECRET);
    assert_401_json(&s, Method::GET, "/v1/me", Some(&borrowed), b"").await;

    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // alg none, claiming the young person is a yot_admin, and for the admin itself.
    let none_yp = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims_for(yp.user.id.as_str(), "yot_admin").to_string())
    );
    let none_admin = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims_for(admin.user.id.as_str(), "yot_admin").to_string())
    );
    let other_key = hs256(&claims_for(admin.user.id.as_str(), "yot_admin"), "another-key-another-key-another-key-0123");
    // The young person's own token with the role in the payload swapped.
    let parts: Vec<&str> = yp.access_token.split('.').collect();
    let tampered =
        format!("{}.{}.{}", parts[0], b64.encode(claims_for(yp.user.id.as_str(), "yot_admin").to_string()), parts[2]);

    assert_401_json(&s, Method::GET, "/v1/me", None, b"").await;
    assert_401_json(&s, Method::GET, "/v1/conversations", None, b"").await;
    assert_401_json(&s, Method::POST, "/v1/admin/users", None, &new_user).await;
    for token in ["garbage", "a.b.c", "", none_yp.as_str(), none_admin.as_str(), other_key.as_str(), tampered.as_str()]
    {
        assert_401_json(&s, Method::GET, "/v1/me", Some(token), b"").await;
        assert_401_json(&s, Method::POST, "/v1/admin/users", Some(token), &new_user).await;
        assert_401_json(&s, Method::POST, "/v1/ws-ticket", Some(token), b"").await;
    }
    let e = s.client.login("forged-admin-made", "a long enough password").await.expect_err("no account was made");
    assert_eq!(e.status(), Some(401));

    // The WebSocket refuses them too, before upgrading.
    for token in ["garbage", none_admin.as_str(), other_key.as_str(), tampered.as_str()] {
        match s.client.connect(token).await {
            Err(ClientError::Status { status, .. }) => assert_eq!(status, 401, "{token}"),
            Err(other) => panic!("{token}: {other}"),
            Ok(_) => panic!("a websocket opened with a bad token: {token}"),
        }
    }
    s.stop().await;
}

async fn refresh_tokens_rotate_and_reuse_revokes_the_family(backend: Backend) {
    let s = TestServer::start(backend).await;
    let first = s.young_person().await;

    let second = s.client.refresh(&first.refresh_token).await.expect("first refresh");
    assert_ne!(second.refresh_token, first.refresh_token, "refresh tokens rotate");
    assert_eq!(second.user.id, first.user.id);
    s.client.me(&second.access_token).await.expect("the new access token works");

    // Reusing the spent token is refused and ends the session: the new token dies too.
    let e = s.client.refresh(&first.refresh_token).await.expect_err("reused refresh token");
    assert_eq!(api_error(&e), (Some(401), Some(ErrorCode::Unauthorized)), "{e}");
    let e = s.client.refresh(&second.refresh_token).await.expect_err("family revoked");
    assert_eq!(api_error(&e), (Some(401), Some(ErrorCode::Unauthorized)), "{e}");

    // A different session of the same kind is unaffected.
    let other = s.young_person().await;
    let other2 = s.client.refresh(&other.refresh_token).await.expect("unrelated session still refreshes");

    // Logout revokes the refresh token.
    s.client.logout(&other2.refresh_token).await.expect("logout");
    let e = s.client.refresh(&other2.refresh_token).await.expect_err("refresh after logout");
    assert_eq!(api_error(&e), (Some(401), Some(ErrorCode::Unauthorized)), "{e}");

    // Staff sessions too.
    let worker = s.staff(Role::DutyWorker).await;
    s.client.logout(&worker.refresh_token).await.expect("staff logout");
    let e = s.client.refresh(&worker.refresh_token).await.expect_err("staff refresh after logout");
    assert_eq!(e.status(), Some(401));

    let e = s.client.refresh("never-issued").await.expect_err("unknown refresh token");
    assert_eq!(api_error(&e), (Some(401), Some(ErrorCode::Unauthorized)), "{e}");
    s.stop().await;
}

// ---------------------------------------------------------------------------------------------
// WebSocket authentication and origin
// ---------------------------------------------------------------------------------------------

/// Opens `/v1/ws` with exactly the given headers; returns the HTTP status of a refusal, or
/// 101 when it upgraded.
async fn raw_ws_status(s: &TestServer, query: &str, headers: &[(&str, &str)]) -> u16 {
    let mut req = format!("{}{query}", s.client.ws_url()).into_client_request().expect("request");
    for (k, v) in headers {
        req.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            v.parse().expect("value"),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((mut ws, resp)) => {
            let _ = ws.close(None).await;
            resp.status().as_u16()
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("websocket connect failed without an HTTP answer: {e}"),
    }
}

async fn ping_works(ws: &mut WsConnection) {
    ws.send(&ClientFrame::Ping { nonce: Some(serde_json::json!(7)) }).await.expect("ping");
    let f = ws.recv_until(WAIT, |f| matches!(f, ServerFrame::Pong { .. })).await.expect("pong");
    assert_eq!(f, ServerFrame::Pong { nonce: Some(serde_json::json!(7)) });
}

async fn websocket_auth_tickets_and_origins(backend: Backend) {
    let s = TestServer::builder(backend).config(|cfg| cfg.allowed_origins = vec![ALLOWED_ORIGIN.into()]).start().await;
    let yp = s.young_person().await;
    let bearer = format!("Bearer {}", yp.access_token);

    // No credentials at all.
    assert_eq!(raw_ws_status(&s, "", &[]).await, 401);
    match s.client.connect_with_ticket("not-a-ticket", None).await {
        Err(ClientError::Status { status, .. }) => assert_eq!(status, 401),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a made-up ticket opened a websocket"),
    }

    // A browser: ticket plus an allowed Origin.
    let ticket = s.client.ws_ticket(&yp.access_token).await.expect("ticket");
    assert!(ticket.expires_in > 0 && ticket.expires_in <= 30, "{}", ticket.expires_in);
    let mut ws = s.client.connect_with_ticket(&ticket.ticket, Some(ALLOWED_ORIGIN)).await.expect("browser connects");
    ping_works(&mut ws).await;
    // Single use.
    match s.client.connect_with_ticket(&ticket.ticket, Some(ALLOWED_ORIGIN)).await {
        Err(ClientError::Status { status, .. }) => assert_eq!(status, 401, "a used ticket"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a ticket worked twice"),
    }

    // A disallowed Origin is refused before the ticket is looked at, so it is not spent.
    let ticket = s.client.ws_ticket(&yp.access_token).await.expect("ticket");
    for origin in ["https://evil.example.com", "https://chat.example.org.evil.com", "http://chat.example.org", "null"] {
        match s.client.connect_with_ticket(&ticket.ticket, Some(origin)).await {
            Err(ClientError::Api { status, body, .. }) => {
                assert_eq!((status, body.error.code), (403, ErrorCode::Forbidden), "{origin}");
            }
            Err(ClientError::Status { status, text }) => assert_eq!(status, 403, "{origin}: {text}"),
            Err(e) => panic!("{origin}: {e}"),
            Ok(_) => panic!("origin {origin} was allowed"),
        }
    }
    let mut ws2 = s.client.connect_with_ticket(&ticket.ticket, Some(ALLOWED_ORIGIN)).await.expect("ticket still good");
    ping_works(&mut ws2).await;

    // Cross-site WebSocket hijacking: a bearer token does not excuse a foreign Origin.
    assert_eq!(raw_ws_status(&s, "", &[("authorization", &bearer), ("origin", "https://evil.example.com")]).await, 403);
    assert_eq!(raw_ws_status(&s, "", &[("authorization", &bearer), ("origin", ALLOWED_ORIGIN)]).await, 101);
    // Native clients send no Origin.
    let mut native = s.client.connect(&yp.access_token).await.expect("native client connects");
    ping_works(&mut native).await;

    // A malformed query gets the protocol's error shape, not axum's plain text; parameters the
    // route does not know are still ignored. (By hand: a duplicated query parameter.)
    let (status, _, text) = s.client.raw(Method::GET, "/v1/ws?ticket=a&ticket=b", None, vec![]).await.expect("answer");
    let body: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!((status.as_u16(), body.error.code), (400, ErrorCode::BadRequest), "{text}");
    assert_eq!(raw_ws_status(&s, "?v=2", &[("authorization", &bearer)]).await, 101);

    // The first browser connection still works.
    ping_works(&mut ws).await;
    s.stop().await;
}

/// A chat's risk, outcome and tags are the service's safeguarding record: telling the young
/// person (or whoever holds their phone) that a referral was made could put them in danger.
/// Neither the answers they get nor the live frames staff actions send them carry any of it.
async fn staff_only_fields_never_reach_the_young_person(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let conv = open_with(&s, &yp, "my stepdad hits me and I am scared to go home").await;
    assert_eq!((conv.risk.as_deref(), conv.outcome.as_deref()), (None, None));
    let mut yp_ws = s.client.connect(&yp.access_token).await.expect("connect");
    ping_works(&mut yp_ws).await;

    let accepted = s.client.accept(&worker.access_token, &conv.id).await.expect("accept");
    assert!(accepted.risk.is_some(), "staff see the risk");
    let tags = |tags: &[&str]| TagsRequest { tags: tags.iter().map(|t| (*t).to_owned()).collect() };
    let tagged = s.client.set_tags(&worker.access_token, &conv.id, &tags(&["family", "home"])).await.expect("tag");
    assert_eq!(tagged.tags, ["family", "home"]);
    // Tags are the assigned worker's (or a supervisor's) to set, and checked.
    let other = s.staff(Role::DutyWorker).await;
    let refused = s.client.set_tags(&yp.access_token, &conv.id, &tags(&["family", "home"])).await.unwrap_err();
    assert_eq!(refused.status(), Some(403));
    let refused = s.client.set_tags(&other.access_token, &conv.id, &tags(&["family", "home"])).await.unwrap_err();
    assert_eq!(refused.status(), Some(404), "a worker without the chat does not learn it exists");
    let too_many: Vec<String> = (0..21).map(|i| format!("tag{i}")).collect();
    let long = "x".repeat(41);
    let bad_tags =
        [tags(&["a,b"]), tags(&["  "]), TagsRequest { tags: too_many }, tags(&[&long]), tags(&["bell\u{7}"])];
    for bad in bad_tags {
        let e = s.client.set_tags(&worker.access_token, &conv.id, &bad).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{bad:?}");
    }
    // By hand: a string where the list belongs is a body the typed request cannot express.
    let path = format!("/v1/conversations/{}/tags", conv.id);
    let wrong_shape = json!({"tags": "school"});
    let e = s
        .client
        .request::<_, ConversationView>(Method::PUT, &path, Some(&worker.access_token), Some(&wrong_shape))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422), "{wrong_shape}");
    let supervisor = s.staff(Role::Supervisor).await;
    let retagged = s
        .client
        .set_tags(&supervisor.access_token, &conv.id, &tags(&[" family ", "family", "home"]))
        .await
        .expect("a supervisor tags");
    assert_eq!(retagged.tags, ["family", "home"], "trimmed, each once");
    let close = CloseRequest { outcome: "safeguarding_referral".into(), tags: vec!["family".into()] };
    let closed = s.client.close_conversation(&worker.access_token, &conv.id, &close).await.expect("close");
    // Closing adds its tags to those the chat has: it never wipes them.
    assert_eq!(
        (closed.outcome.as_deref(), closed.tags.clone()),
        (Some("safeguarding_referral"), vec!["family".to_owned(), "home".to_owned()])
    );

    let frames = frames_until_pong(&mut yp_ws, "after-close").await;
    let views: Vec<ConversationView> = frames_about(&frames, &conv.id)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Conversation(c) => Some(c),
            _ => None,
        })
        .collect();
    let states: Vec<ConversationState> = views.iter().map(|c| c.state).collect();
    assert_eq!(states, [ConversationState::Assigned, ConversationState::Closed], "told of the accept and the close");
    for v in &views {
        assert_eq!((v.risk.as_deref(), v.outcome.as_deref(), v.tags.len()), (None, None, 0), "{v:?}");
        assert!(v.monitoring_notice.is_some(), "their own chat's frames say who may read it: {v:?}");
    }
    let seen = s.client.conversation(&yp.access_token, &conv.id).await.expect("their own chat");
    assert_eq!(
        (seen.state, seen.risk.as_deref(), seen.outcome.as_deref(), seen.tags.len()),
        (ConversationState::Closed, None, None, 0)
    );
    let staff_seen = s.client.conversation(&worker.access_token, &conv.id).await.expect("the worker's view");
    assert_eq!((staff_seen.outcome.as_deref(), staff_seen.tags.len()), (Some("safeguarding_referral"), 2));

    s.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------

async fn ids_are_opaque_and_not_sequential(backend: Backend) {
    let s = TestServer::start(backend).await;
    let a = s.young_person().await;
    let b = s.young_person().await;
    let ca = open_with(&s, &a, "one").await;
    let cb = open_with(&s, &b, "two").await;
    assert_ne!(ca.id, cb.id);
    assert_ne!(a.user.id, b.user.id);
    let ma = s.client.messages(&a.access_token, &ca.id, 0, None).await.expect("history").messages;
    let mb = s.client.messages(&b.access_token, &cb.id, 0, None).await.expect("history").messages;
    let ids = [
        ca.id.as_str(),
        cb.id.as_str(),
        a.user.id.as_str(),
        b.user.id.as_str(),
        ma[0].message_id.as_str(),
        mb[0].message_id.as_str(),
    ];
    for id in ids {
        assert!(id.parse::<i128>().is_err(), "id {id} is a number");
        assert!(id.len() >= 16, "id {id} is short enough to guess");
    }
    // Consecutive conversations' ids are not a counter: they differ in more than a last digit.
    let differing = ca.id.as_str().chars().zip(cb.id.as_str().chars()).filter(|(x, y)| x != y).count();
    assert!(differing >= 4, "{} and {} look sequential", ca.id, cb.id);
    s.stop().await;
}

both_backends!(
    young_person_cannot_touch_anothers_conversation,
    roles_are_enforced_for_accept_and_accounts,
    unassigned_worker_may_triage_but_not_talk,
    missing_forged_and_foreign_tokens_are_refused,
    refresh_tokens_rotate_and_reuse_revokes_the_family,
    websocket_auth_tickets_and_origins,
    staff_only_fields_never_reach_the_young_person,
    ids_are_opaque_and_not_sequential,
);
