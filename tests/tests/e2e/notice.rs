//! Monitoring is transparent (docs/privacy.md): a young person is told in plain words at the
//! start of a support chat that a supervisor may read it, in a versioned notice they
//! acknowledge; a new version is shown again; nobody can acknowledge for someone else; a
//! version that is not in force is refused.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_tests::api::client::{ClientError, WsConnection};
use talkzone_tests::api::{
    AcknowledgeNoticeRequest, ClientFrame, CloseRequest, ConversationView, CreateConversationRequest, ErrorCode,
    MonitoringNotice, NoticeAcknowledgement, NoticeRequest, Role, ServerFrame, TokenResponse,
};
use talkzone_tests::{both_backends, call, Backend, TestServer};

const WAIT: Duration = Duration::from_secs(10);
const ACK: &str = "/v1/me/monitoring-notice/acknowledge";

async fn open(s: &TestServer, yp: &TokenResponse) -> ConversationView {
    let req = CreateConversationRequest { topic: Some("home".into()), first_message: Some("hi".into()) };
    let (status, view) = s.client.open_conversation(&yp.access_token, &req).await.expect("open");
    assert_eq!(status, StatusCode::CREATED);
    view
}

async fn close(s: &TestServer, sup: &TokenResponse, view: &ConversationView) {
    let resolved = CloseRequest { outcome: "resolved".into(), tags: Vec::new() };
    s.client.close_conversation(&sup.access_token, &view.id, &resolved).await.expect("close");
}

async fn notice_of(s: &TestServer, yp: &TokenResponse) -> MonitoringNotice {
    s.client.monitoring_notice(&yp.access_token).await.expect("a notice")
}

async fn acknowledge(s: &TestServer, yp: &TokenResponse, version: u32) -> Result<MonitoringNotice, ClientError> {
    s.client.acknowledge_notice(&yp.access_token, &AcknowledgeNoticeRequest { version }).await
}

/// By hand: an acknowledgement whose body the typed request cannot express (a version that is
/// not a `u32`, a field the route does not take, no version at all).
async fn acknowledge_raw(s: &TestServer, token: &str, body: Value) -> (StatusCode, Value) {
    call(&s.client, Method::POST, ACK, Some(token), body).await.parts()
}

/// Every frame up to the pong answering a ping sent now.
async fn frames_until_pong(ws: &mut WsConnection) -> Vec<ServerFrame> {
    ws.send(&ClientFrame::Ping { nonce: Some(json!("barrier")) }).await.expect("ping");
    let mut seen = Vec::new();
    loop {
        match ws.recv_timeout(WAIT).await.expect("frames until pong") {
            ServerFrame::Pong { nonce: Some(n) } if n == "barrier" => return seen,
            f => seen.push(f),
        }
    }
}

fn notices(frames: &[ServerFrame]) -> Vec<(String, u32, String)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::MonitoringNotice { conversation_id, version, text } => {
                Some((conversation_id.0.clone(), *version, text.clone()))
            }
            _ => None,
        })
        .collect()
}

async fn stored_ack(s: &TestServer, yp: &TokenResponse, version: i64) -> Option<i64> {
    s.state().store.notice_acknowledged_at(yp.user.id.as_str(), version).await.expect("store")
}

async fn the_notice_is_shown_at_the_start_of_a_chat(backend: Backend) {
    let s = TestServer::start(backend).await;
    let yp = s.young_person().await;
    let mut ws = s.client.connect(&yp.access_token).await.expect("connect");
    ws.round_trip().await.expect("registered");
    let view = open(&s, &yp).await;

    // In the answer that opens the chat, in plain words, not yet acknowledged.
    let n = view.monitoring_notice.clone().expect("the young person's chat carries the notice");
    assert_eq!((n.version, n.acknowledged, n.acknowledged_at.as_deref()), (1, false, None));
    assert!(n.text.contains("supervisor") && n.text.contains("read this chat"), "{}", n.text);
    // ... and as a frame on every connection of theirs.
    let seen = frames_until_pong(&mut ws).await;
    assert_eq!(notices(&seen), vec![(view.id.0.clone(), 1, n.text.clone())], "{seen:?}");
    // Staff reading the chat do not get the young person's notice.
    let sup = s.staff(Role::Supervisor).await;
    let staff_view = s.client.conversation(&sup.access_token, &view.id).await.expect("supervisor reads");
    assert!(staff_view.monitoring_notice.is_none(), "{staff_view:?}");
    // The young person reading their chat again still sees it.
    let again = s.client.conversation(&yp.access_token, &view.id).await.expect("read own chat");
    assert_eq!(again.monitoring_notice, Some(n));
    s.stop().await;
}

async fn acknowledging_records_the_version_and_when(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).start().await;
    let sup = s.staff(Role::Supervisor).await;
    let yp = s.young_person().await;
    let first = open(&s, &yp).await;
    assert_eq!(stored_ack(&s, &yp, 1).await, None);

    let acked = acknowledge(&s, &yp, 1).await.expect("notice");
    assert!(acked.acknowledged && acked.version == 1);
    let at = acked.acknowledged_at.clone().expect("when");
    assert!(stored_ack(&s, &yp, 1).await.is_some(), "the acknowledgement is stored");
    assert_eq!(notice_of(&s, &yp).await, acked);
    let view = s.client.conversation(&yp.access_token, &first.id).await.expect("own chat");
    assert_eq!(view.monitoring_notice.as_ref().map(|n| n.acknowledged), Some(true));

    // Acknowledging again keeps the first time.
    clock.advance_ms(1_000);
    let again = acknowledge(&s, &yp, 1).await.unwrap();
    assert_eq!(again.acknowledged_at.as_deref(), Some(at.as_str()));

    // The next chat does not ask again.
    close(&s, &sup, &first).await;
    let mut ws = s.client.connect(&yp.access_token).await.expect("connect");
    ws.round_trip().await.expect("registered");
    let second = open(&s, &yp).await;
    assert_eq!(second.monitoring_notice.as_ref().map(|n| n.acknowledged), Some(true));
    let seen = frames_until_pong(&mut ws).await;
    assert!(notices(&seen).is_empty(), "an acknowledged notice was sent again: {seen:?}");

    // The young person's own export says what they acknowledged and when.
    let export = s.client.export_my_data(&yp.access_token).await.unwrap();
    assert_eq!(
        export.monitoring_notice_acknowledgements,
        vec![NoticeAcknowledgement { version: 1, acknowledged_at: at }]
    );

    // Deleting the account deletes the acknowledgement with it.
    s.client.delete_me(&yp.access_token).await.unwrap();
    assert_eq!(stored_ack(&s, &yp, 1).await, None);
    s.stop().await;
}

async fn a_new_version_is_shown_again(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sup = s.staff(Role::Supervisor).await;
    let yp = s.young_person().await;
    let first = open(&s, &yp).await;
    acknowledge(&s, &yp, 1).await.unwrap();
    close(&s, &sup, &first).await;

    // The YOT admin publishes new words (every node reads them from the database).
    let admin = s.staff(Role::YotAdmin).await;
    let text = "New words: a supervisor may read this chat to keep you safe.";
    let req = NoticeRequest { text: format!("  {text} ") };
    let stored = s.client.replace_monitoring_notice(&admin.access_token, &req).await.unwrap();
    assert_eq!(stored.version, 2, "numbered after the built-in notice");
    // The same words again are no new version for everyone to acknowledge.
    assert_eq!(s.client.replace_monitoring_notice(&admin.access_token, &req).await.unwrap().version, 2);
    // Nobody else may; and the words must be words.
    let e = s.client.replace_monitoring_notice(&sup.access_token, &req).await.unwrap_err();
    assert_eq!(e.status(), Some(403), "{e}");
    let e = s.client.replace_monitoring_notice(&admin.access_token, &NoticeRequest { text: "  ".into() }).await;
    assert_eq!(e.unwrap_err().status(), Some(422));
    let n = notice_of(&s, &yp).await;
    assert_eq!((n.version, n.text.as_str(), n.acknowledged), (2, text, false));

    let mut ws = s.client.connect(&yp.access_token).await.expect("connect");
    ws.round_trip().await.expect("registered");
    let second = open(&s, &yp).await;
    assert_eq!(second.monitoring_notice.as_ref().map(|n| (n.version, n.acknowledged)), Some((2, false)));
    let seen = frames_until_pong(&mut ws).await;
    assert_eq!(notices(&seen), vec![(second.id.0.clone(), 2, text.to_owned())]);

    // The old version no longer counts; the new one does.
    let e = acknowledge(&s, &yp, 1).await.unwrap_err();
    assert_eq!((e.status(), e.code()), (Some(422), Some(ErrorCode::ValidationFailed)), "{e}");
    acknowledge(&s, &yp, 2).await.unwrap();
    assert!(notice_of(&s, &yp).await.acknowledged);

    // The versions are listed, newest first, the one in force marked, and audited.
    let versions = s.client.monitoring_notice_versions(&admin.access_token).await.unwrap().versions;
    assert_eq!(versions.iter().map(|v| (v.version, v.in_force)).collect::<Vec<_>>(), vec![(2, true)]);
    assert_eq!(versions[0].body, text);
    assert_eq!(versions[0].created_by.as_ref(), Some(&admin.user.id));
    s.stop().await;
}

async fn nobody_acknowledges_for_someone_else(backend: Backend) {
    let s = TestServer::start(backend).await;
    let alice = s.young_person().await;
    let bob = s.young_person().await;
    open(&s, &alice).await;

    // Bob's acknowledgement is his alone.
    acknowledge(&s, &bob, 1).await.unwrap();
    assert!(!notice_of(&s, &alice).await.acknowledged);
    // Naming someone else in the body is refused, not obeyed.
    let for_alice = json!({"version": 1, "user_id": alice.user.id});
    let (status, v) = acknowledge_raw(&s, &bob.access_token, for_alice.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(stored_ack(&s, &alice, 1).await, None);
    // Staff cannot acknowledge (for themselves or anyone); without a token nobody can.
    for role in [Role::DutyWorker, Role::Supervisor, Role::YotAdmin] {
        let staff = s.staff(role).await;
        let e = acknowledge(&s, &staff, 1).await.unwrap_err();
        assert_eq!(e.status(), Some(403), "{role}");
        let (status, _) = acknowledge_raw(&s, &staff.access_token, for_alice.clone()).await;
        assert!(status.is_client_error(), "{role}: {status}");
    }
    // By hand: no Authorization header at all, which the typed client cannot send.
    let (status, _, _) = s.client.raw(Method::POST, ACK, None, br#"{"version": 1}"#.to_vec()).await.expect("request");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(stored_ack(&s, &alice, 1).await, None, "alice never acknowledged");
    s.stop().await;
}

async fn a_bad_version_is_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    let yp = s.young_person().await;
    for bad in [0, 2, 99] {
        let e = acknowledge(&s, &yp, bad).await.unwrap_err();
        assert_eq!((e.status(), e.code()), (Some(422), Some(ErrorCode::ValidationFailed)), "{bad}: {e}");
    }
    for bad in [json!(-1), json!("1"), json!(1.5), json!(null), json!(4_294_967_296u64)] {
        let (status, v) = acknowledge_raw(&s, &yp.access_token, json!({ "version": bad })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert_eq!(v["error"]["code"], "validation_failed", "{bad}: {v}");
    }
    let (status, _) = acknowledge_raw(&s, &yp.access_token, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for v in 0..4 {
        assert_eq!(stored_ack(&s, &yp, v).await, None, "nothing stored for version {v}");
    }
    assert!(!notice_of(&s, &yp).await.acknowledged);
    s.stop().await;
}

both_backends!(
    the_notice_is_shown_at_the_start_of_a_chat,
    acknowledging_records_the_version_and_when,
    a_new_version_is_shown_again,
    nobody_acknowledges_for_someone_else,
    a_bad_version_is_refused,
);
