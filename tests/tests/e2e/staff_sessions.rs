//! Sessions as records (issue 21): each sign-in is a session its person and an admin can list
//! and end; an access token names its session and is refused once it ends (reuse detection,
//! logout, ending it, suspension); a socket closes when its session ends (4001) or when its
//! token expires without a fresh one in an `auth` frame (4002).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, USER_AGENT};
use talkzone_mobile_api::client::{Client, ClientError, WsConnection};
use talkzone_mobile_api::{
    ClientFrame, ErrorCode, Role, ServerFrame, TokenResponse, UserActionKind, UserActionRequest,
};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_tests::{both_backends, eventually, Backend, TestServer, TEST_PASSWORD};

const T: Duration = Duration::from_secs(5);

/// A client whose requests say they come from `agent`.
fn device(s: &TestServer, agent: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert(USER_AGENT, HeaderValue::from_str(agent).unwrap());
    Client::with_headers(&s.base, headers).unwrap()
}

/// The close code the socket ends with (within `T`), skipping frames before it.
async fn close_code(ws: &mut WsConnection) -> u16 {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, ws.recv()).await {
            Err(_) => panic!("the socket did not close within {T:?}"),
            Ok(Err(ClientError::Closed(Some((code, _))))) => return code,
            Ok(Err(other)) => panic!("the socket ended without a close code: {other:?}"),
            Ok(Ok(_)) => continue,
        }
    }
}

async fn connected(s: &TestServer, token: &str) -> WsConnection {
    let mut ws = s.client.connect(token).await.expect("connect");
    ws.round_trip().await.expect("registered");
    ws
}

fn unauthorized(e: ClientError) {
    assert_eq!((e.status(), e.code()), (Some(401), Some(ErrorCode::Unauthorized)), "{e}");
}

async fn each_sign_in_is_a_session_its_person_can_list_and_end(backend: Backend) {
    let s = TestServer::start(backend).await;
    let username = "sessions-worker";
    s.staff_named(Role::DutyWorker, username).await;
    let laptop = device(&s, "Laptop/1.0").login(username, TEST_PASSWORD).await.unwrap();
    let phone = device(&s, "Phone/2.0").login(username, TEST_PASSWORD).await.unwrap();

    let listed = s.client.my_sessions(&laptop.access_token).await.unwrap().sessions;
    assert_eq!(listed.len(), 3, "the harness's sign-in, the laptop and the phone: {listed:?}");
    let current: Vec<_> = listed.iter().filter(|v| v.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].user_agent.as_deref(), Some("Laptop/1.0"));
    assert_eq!(current[0].source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(current[0].method, "password");
    let phone_session = listed.iter().find(|v| v.user_agent.as_deref() == Some("Phone/2.0")).expect("the phone's");
    assert!(!phone_session.current && phone_session.last_seen_at.is_some());

    // The laptop ends the phone's session: its tokens die and its socket closes at once.
    let mut phone_ws = connected(&s, &phone.access_token).await;
    let mut laptop_ws = connected(&s, &laptop.access_token).await;
    s.client.end_my_session(&laptop.access_token, &phone_session.id).await.unwrap();
    assert_eq!(close_code(&mut phone_ws).await, 4001, "session ended: sign in again");
    unauthorized(s.client.me(&phone.access_token).await.unwrap_err());
    unauthorized(s.client.refresh(&phone.refresh_token).await.unwrap_err());
    laptop_ws.round_trip().await.expect("the laptop's socket goes on");
    s.client.me(&laptop.access_token).await.expect("the laptop's token goes on");
    let again = s.client.end_my_session(&laptop.access_token, &phone_session.id).await.unwrap_err();
    assert_eq!(again.status(), Some(404), "an ended session cannot be ended again");

    // Nobody else's sessions: another worker gets 404, and the session goes on.
    let other = s.staff(Role::DutyWorker).await;
    let own_id = current[0].id.clone();
    assert_eq!(s.client.end_my_session(&other.access_token, &own_id).await.unwrap_err().status(), Some(404));
    s.client.me(&laptop.access_token).await.expect("still signed in");

    // Everywhere else: the harness's sign-in ends, the laptop stays.
    let ended = s.client.end_my_other_sessions(&laptop.access_token).await.unwrap();
    assert_eq!(ended.ended, 1);
    let left = s.client.my_sessions(&laptop.access_token).await.unwrap().sessions;
    assert_eq!(left.iter().map(|v| v.id.clone()).collect::<Vec<_>>(), vec![own_id]);

    // Signing out ends the laptop's session too, and only it.
    let desk = s.client.login(username, TEST_PASSWORD).await.unwrap();
    s.client.logout(&laptop.refresh_token).await.unwrap();
    assert_eq!(close_code(&mut laptop_ws).await, 4001);
    unauthorized(s.client.me(&laptop.access_token).await.unwrap_err());
    s.client.me(&desk.access_token).await.expect("another session of the account goes on");

    // A young person's sessions keep neither device nor address.
    let yp = device(&s, "Phone/2.0").anonymous().await.unwrap();
    let theirs = s.client.my_sessions(&yp.access_token).await.unwrap().sessions;
    assert_eq!(theirs.len(), 1);
    assert_eq!((theirs[0].user_agent.as_deref(), theirs[0].source_ip.as_deref()), (None, None));
    assert_eq!(theirs[0].method, "anonymous");
    s.stop().await;
}

/// The finding: after a spent refresh token was reused, the access tokens of that
/// sign-in (the old and the rotated one) still worked and the socket stayed open.
async fn reusing_a_refresh_token_ends_its_session_at_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    let first = s.staff(Role::Supervisor).await;
    let rotated = s.client.refresh(&first.refresh_token).await.unwrap();
    let mut ws = connected(&s, &rotated.access_token).await;
    let elsewhere = s.client.login(&username_of(&s, &first).await, TEST_PASSWORD).await.unwrap();

    unauthorized(s.client.refresh(&first.refresh_token).await.unwrap_err());
    assert_eq!(close_code(&mut ws).await, 4001);
    unauthorized(s.client.me(&first.access_token).await.unwrap_err());
    unauthorized(s.client.me(&rotated.access_token).await.unwrap_err());
    unauthorized(s.client.refresh(&rotated.refresh_token).await.unwrap_err());
    assert!(s.client.connect(&rotated.access_token).await.is_err(), "no new socket either");
    s.client.me(&elsewhere.access_token).await.expect("the account's other session is not the thief's");
    s.stop().await;
}

async fn username_of(s: &TestServer, who: &TokenResponse) -> String {
    s.state().store.user(who.user.id.as_str()).await.unwrap().unwrap().username.unwrap()
}

/// The finding: after unsuspend, an access token issued before the suspension worked
/// again. Suspension ends the sessions; lifting it does not bring them back.
async fn lifting_a_suspension_does_not_revive_old_tokens(backend: Backend) {
    let s = TestServer::start(backend).await;
    let moderator = s.staff(Role::Moderator).await;
    let yp = s.young_person().await;
    let mut ws = connected(&s, &yp.access_token).await;
    let action = |action| UserActionRequest { action, reason: "threats".into(), duration_s: None };
    s.client.act_on_user(&moderator.access_token, &yp.user.id, &action(UserActionKind::Suspend)).await.unwrap();
    assert_eq!(close_code(&mut ws).await, 4001);
    s.client.act_on_user(&moderator.access_token, &yp.user.id, &action(UserActionKind::Unsuspend)).await.unwrap();
    unauthorized(s.client.me(&yp.access_token).await.unwrap_err());
    unauthorized(s.client.refresh(&yp.refresh_token).await.unwrap_err());
    s.stop().await;
}

/// The finding: a socket opened with a 15-minute token was still sending after 16
/// minutes. It closes (4002) at the first frame after its token expired, unless an `auth`
/// frame brought a fresh token of its own session first.
async fn a_socket_lives_as_long_as_its_token(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).config(|c| c.access_token_ttl = T * 12).start().await;
    let ttl_ms = 60_000;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let (_, chat) = s.client.open_conversation(&yp.access_token, &Default::default()).await.unwrap();
    let mut stale = connected(&s, &yp.access_token).await;

    // Before expiry a fresh token keeps a second socket open.
    let mut kept = connected(&s, &yp.access_token).await;
    clock.advance_ms(ttl_ms / 2);
    let fresh = s.client.refresh(&yp.refresh_token).await.unwrap();
    kept.send(&ClientFrame::Auth { access_token: fresh.access_token.clone() }).await.unwrap();
    match kept.recv_timeout(T).await.unwrap() {
        // `exp` has whole seconds.
        ServerFrame::Authenticated { expires_in } => assert!((59..=60).contains(&expires_in), "{expires_in}"),
        other => panic!("expected authenticated, got {other:?}"),
    }
    // Another session's token is refused and changes nothing.
    kept.send(&ClientFrame::Auth { access_token: worker.access_token.clone() }).await.unwrap();
    match kept.recv_timeout(T).await.unwrap() {
        ServerFrame::Error { code: ErrorCode::Unauthorized, reference, .. } => {
            assert_eq!(reference.as_deref(), Some("auth"))
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }

    clock.advance_ms(ttl_ms / 2 + 1_000);
    stale
        .send(&ClientFrame::Send {
            conversation_id: chat.id.clone(),
            client_msg_id: "late".into(),
            body: "still here?".into(),
        })
        .await
        .unwrap();
    assert_eq!(close_code(&mut stale).await, 4002, "expired: refresh and reconnect");
    kept.round_trip().await.expect("the socket given a fresh token goes on");
    let history = s.client.messages(&fresh.access_token, &chat.id, 0, None).await.unwrap();
    assert!(history.messages.iter().all(|m| m.body != "still here?"), "nothing sent after expiry was stored");

    clock.advance_ms(ttl_ms);
    kept.send(&ClientFrame::Ping { nonce: None }).await.unwrap();
    assert_eq!(close_code(&mut kept).await, 4002);
    s.stop().await;
}

/// A session ended where no event reaches this node (here: straight in the database, as
/// `talkzone admin` on the command line does) still closes its sockets within a second or two.
async fn sessions_ended_elsewhere_close_their_sockets(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let mut ws = connected(&s, &worker.access_token).await;
    let session = s.client.my_sessions(&worker.access_token).await.unwrap().sessions.remove(0);
    let now = s.state().clock.now_ms();
    let store = &s.state().store;
    assert!(store.end_session(worker.user.id.as_str(), &session.id, now, "ended_by_admin", None).await.unwrap());
    assert_eq!(close_code(&mut ws).await, 4001);
    eventually(T, "the token refused", || async { s.client.me(&worker.access_token).await.is_err() }).await;
    s.stop().await;
}

/// An admin sees a staff member's sessions (device, source, last seen) and ends one or all;
/// each is audited. Young people's sessions are not theirs to see.
async fn an_admin_lists_and_ends_a_staff_members_sessions(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    s.staff_named(Role::DutyWorker, "admin-sees-me").await;
    let desk = device(&s, "Desk/3.1").login("admin-sees-me", TEST_PASSWORD).await.unwrap();
    let mut ws = connected(&s, &desk.access_token).await;
    let id = desk.user.id.clone();
    let listed = s.client.user_sessions(&admin.access_token, &id).await.unwrap().sessions;
    assert_eq!(listed.len(), 2);
    let at_desk = listed.iter().find(|v| v.user_agent.as_deref() == Some("Desk/3.1")).unwrap();
    assert!(!at_desk.current);
    s.client.end_user_session(&admin.access_token, &id, &at_desk.id).await.unwrap();
    assert_eq!(close_code(&mut ws).await, 4001);
    unauthorized(s.client.me(&desk.access_token).await.unwrap_err());
    assert_eq!(s.client.user_sessions(&admin.access_token, &id).await.unwrap().sessions.len(), 1);
    assert_eq!(s.client.end_user_sessions(&admin.access_token, &id).await.unwrap().ended, 1);
    assert!(s.client.user_sessions(&admin.access_token, &id).await.unwrap().sessions.is_empty());
    let fresh = s.client.login("admin-sees-me", TEST_PASSWORD).await.expect("ending sessions does not lock out");
    s.client.me(&fresh.access_token).await.unwrap();

    let audit = s.state().store.audit_for_target("user", id.as_str()).await.unwrap();
    let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"session_ended") && actions.contains(&"sessions_ended"), "{actions:?}");

    let yp = s.young_person().await;
    let e = s.client.user_sessions(&admin.access_token, &yp.user.id).await.unwrap_err();
    assert_eq!(e.status(), Some(404), "not staff: not the admin's to see");
    let e = s.client.user_sessions(&desk.access_token, &id).await.unwrap_err();
    assert_eq!(e.status(), Some(401), "the ended session's token");
    let e = s.client.user_sessions(&fresh.access_token, &id).await.unwrap_err();
    assert_eq!(e.status(), Some(403), "a worker is not an admin");
    s.stop().await;
}

both_backends!(
    each_sign_in_is_a_session_its_person_can_list_and_end,
    reusing_a_refresh_token_ends_its_session_at_once,
    lifting_a_suspension_does_not_revive_old_tokens,
    a_socket_lives_as_long_as_its_token,
    sessions_ended_elsewhere_close_their_sockets,
    an_admin_lists_and_ends_a_staff_members_sessions,
);
