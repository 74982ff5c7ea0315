//! What the staff console needs from the server, through the API (the pages themselves are in
//! `console_page.rs`):
//!
//! - closing a chat never wipes its tags (no tags given: they stay; tags given: added);
//! - a chat's risk rising is pushed at once to its worker and every supervisor (the chat
//!   header and the lists showed "risk none" while the server had `high`), and to nobody else;
//! - the first-reply deadline in the worker's view of an assigned chat, gone once they reply;
//! - queue entries with the start of the first message; escalations naming the young person,
//!   the worker and the chat's state;
//! - canned replies: the YOT admin keeps them (checked, audited), the desk reads them;
//! - a young person's earlier chats (outcomes and tags, never words) for the chat's staff;
//! - a supervisor who joined a chat is told when it closes;
//! - a moderation item's room and the messages around it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use talkzone_mobile_api::client::{ClientError, WsConnection};
use talkzone_mobile_api::{
    AuditQuery, CannedReplyRequest, ClientFrame, CloseRequest, ConversationId, ConversationState, ConversationView,
    CreateConversationRequest, CreateRoomRequest, ErrorCode, PersonalInfoMode, RaiseEscalationRequest, ReportRequest,
    Role, RoomModeration, ServerFrame, TagsRequest, TokenResponse,
};
use talkzone_server::clock::{rfc3339, Clock, ManualClock, SystemClock};
use talkzone_tests::{both_backends, Backend, TestServer};

const T: Duration = Duration::from_secs(10);

async fn open(s: &TestServer, yp: &TokenResponse, first: &str) -> ConversationView {
    let req = CreateConversationRequest { topic: None, first_message: Some(first.into()) };
    s.client.open_conversation(&yp.access_token, &req).await.unwrap().1
}

fn close(outcome: &str, tags: &[&str]) -> CloseRequest {
    CloseRequest { outcome: outcome.into(), tags: tags.iter().map(|t| (*t).to_owned()).collect() }
}

/// Every frame a connection receives until the server answers a ping sent now: whatever was
/// published to it before the ping is among them.
async fn frames_so_far(ws: &mut WsConnection) -> Vec<ServerFrame> {
    let nonce = json!(format!("barrier-{}", ulid::Ulid::new()));
    ws.send(&ClientFrame::Ping { nonce: Some(nonce.clone()) }).await.unwrap();
    let mut seen = Vec::new();
    loop {
        match ws.recv_timeout(T).await.unwrap() {
            ServerFrame::Pong { nonce: Some(n) } if n == nonce => return seen,
            f => seen.push(f),
        }
    }
}

fn status_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> u16 {
    match r {
        Err(ClientError::Api { status, .. }) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn closing_keeps_tags(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, "hello").await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let tags = TagsRequest { tags: vec!["school".into(), "family".into()] };
    s.client.set_tags(&worker.access_token, &conv.id, &tags).await.unwrap();

    // The console's close (and any client's): an outcome and no tags. The tags stay.
    let closed = s.client.close_conversation(&worker.access_token, &conv.id, &close("resolved", &[])).await.unwrap();
    assert_eq!(closed.tags, ["school", "family"], "closing without tags keeps the chat's tags");
    assert_eq!(closed.outcome.as_deref(), Some("resolved"));
    let read = s.client.conversation(&worker.access_token, &conv.id).await.unwrap();
    assert_eq!(read.tags, ["school", "family"], "and they are stored");

    // Tags given on closing are added to those it has (each once).
    let second = open(&s, &yp, "me again").await;
    s.client.accept(&worker.access_token, &second.id).await.unwrap();
    s.client.set_tags(&worker.access_token, &second.id, &TagsRequest { tags: vec!["housing".into()] }).await.unwrap();
    let closed = s
        .client
        .close_conversation(&worker.access_token, &second.id, &close("signposted", &["housing", "police"]))
        .await
        .unwrap();
    assert_eq!(closed.tags, ["housing", "police"]);
    // Bad tags on closing are refused and nothing changes.
    let third = open(&s, &yp, "and again").await;
    s.client.accept(&worker.access_token, &third.id).await.unwrap();
    let bad = s.client.close_conversation(&worker.access_token, &third.id, &close("resolved", &["a,b"])).await;
    assert_eq!(status_of(bad), 422);
    let still = s.client.conversation(&worker.access_token, &third.id).await.unwrap();
    assert_eq!(still.state, ConversationState::Assigned, "a refused close changes nothing");
    s.stop().await;
}

async fn rising_risk_is_pushed_to_the_worker_and_supervisors(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let other = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, "hi").await;
    let accepted = s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    assert_eq!(accepted.risk.as_deref(), Some("none"));
    let mut worker_ws = s.client.connect(&worker.access_token).await.unwrap();
    let mut other_ws = s.client.connect(&other.access_token).await.unwrap();
    let mut sup_ws = s.client.connect(&supervisor.access_token).await.unwrap();
    let mut yp_ws = s.client.connect(&yp.access_token).await.unwrap();
    for ws in [&mut worker_ws, &mut other_ws, &mut sup_ws, &mut yp_ws] {
        ws.round_trip().await.unwrap();
    }
    yp_ws.subscribe(&conv.id, 0).await.unwrap();
    yp_ws.send_message(&conv.id, "r1", "i'm going to kill myself tonight, i've got the rope ready").await.unwrap();

    let is_risky = |f: &ServerFrame| matches!(f, ServerFrame::Conversation(c) if c.id == conv.id && c.risk.as_deref().is_some_and(|r| r != "none"));
    for (who, ws) in [("the worker", &mut worker_ws), ("a supervisor", &mut sup_ws)] {
        let f = ws.recv_until(T, is_risky).await.unwrap_or_else(|e| panic!("{who} is told the new risk: {e}"));
        let ServerFrame::Conversation(c) = f else { unreachable!() };
        assert_eq!(c.risk.as_deref(), Some("critical"), "{who}: {c:?}");
        assert_eq!(c.assigned_to.map(|u| u.id), Some(worker.user.id.clone()));
    }
    // The barrier: the worker has it, so anything published to the others has come before this.
    let leaked = frames_so_far(&mut other_ws).await;
    assert!(!leaked.iter().any(|f| matches!(f, ServerFrame::Conversation(_))), "not another worker's: {leaked:?}");
    let to_yp = frames_so_far(&mut yp_ws).await;
    assert!(
        !to_yp.iter().any(|f| matches!(f, ServerFrame::Conversation(c) if c.risk.is_some())),
        "the young person never sees a risk: {to_yp:?}"
    );
    // A second risky message does not raise it further: no new push for the same risk.
    yp_ws.send_message(&conv.id, "r2", "i want to kill myself").await.unwrap();
    let again = frames_so_far(&mut worker_ws).await;
    assert!(!again.iter().any(is_risky), "pushed only when the risk rises: {again:?}");
    s.stop().await;
}

async fn first_reply_deadline_is_in_the_workers_view(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(|c| c.desk.assignment_timeout = Duration::from_secs(90))
        .start()
        .await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, "is anyone there").await;
    assert_eq!(conv.first_reply_due_at, None, "nothing to count down while queued");
    let accepted_at = clock.now_ms();
    let view = s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    assert_eq!(view.first_reply_due_at.as_deref(), Some(rfc3339(accepted_at + 90_000).as_str()));
    let yp_view = s.client.conversation(&yp.access_token, &conv.id).await.unwrap();
    assert_eq!(yp_view.first_reply_due_at, None, "staff only");

    let mut ws = s.client.connect(&worker.access_token).await.unwrap();
    ws.subscribe(&conv.id, 0).await.unwrap();
    ws.send_message(&conv.id, "w1", "Hi, I'm here.").await.unwrap();
    // The worker's screens are told the clock stopped.
    ws.recv_until(
        T,
        |f| matches!(f, ServerFrame::Conversation(c) if c.id == conv.id && c.first_reply_due_at.is_none()),
    )
    .await
    .expect("the first reply stops the clock on the worker's screens");
    let replied = s.client.conversation(&worker.access_token, &conv.id).await.unwrap();
    assert_eq!(replied.first_reply_due_at, None, "the clock stops at the first reply");
    s.stop().await;
}

async fn queue_entries_preview_the_first_message(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let mut ws = s.client.connect(&worker.access_token).await.unwrap();
    ws.send(&ClientFrame::QueueWatch).await.unwrap();
    ws.recv_until(T, |f| matches!(f, ServerFrame::QueueSnapshot { .. })).await.unwrap();
    let yp = s.young_person().await;
    let long = format!("I have nowhere to stay tonight   and\nmy phone is dying {}", "please help ".repeat(20));
    let conv = open(&s, &yp, &long).await;
    let entries = match ws
        .recv_until(T, |f| matches!(f, ServerFrame::QueueChanged { entries } if entries.iter().any(|e| e.conversation_id == conv.id && e.preview.is_some())))
        .await
        .unwrap()
    {
        ServerFrame::QueueChanged { entries } => entries,
        _ => unreachable!(),
    };
    let preview = entries[0].preview.clone().unwrap();
    assert!(preview.starts_with("I have nowhere to stay tonight and my phone is dying please"), "{preview}");
    assert!(preview.ends_with('…') && preview.chars().count() <= 140, "{preview}");
    // A chat opened with no message has no preview; the snapshot carries previews too.
    let quiet = s.young_person().await;
    let req = CreateConversationRequest { topic: Some("school".into()), first_message: None };
    s.client.open_conversation(&quiet.access_token, &req).await.unwrap();
    ws.send(&ClientFrame::QueueWatch).await.unwrap();
    let snapshot = match ws.recv_until(T, |f| matches!(f, ServerFrame::QueueSnapshot { .. })).await.unwrap() {
        ServerFrame::QueueSnapshot { entries } => entries,
        _ => unreachable!(),
    };
    assert_eq!(snapshot.len(), 2);
    assert_eq!(snapshot.iter().filter(|e| e.preview.is_some()).count(), 1, "{snapshot:?}");
    s.stop().await;
}

async fn escalations_name_the_chat(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, "hello").await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let raise = RaiseEscalationRequest { severity: "high".into(), reason: "says they are not safe at home".into() };
    let e = s.client.raise_escalation(&worker.access_token, &conv.id, &raise).await.unwrap();
    let yp_name = conv.young_person.as_ref().unwrap().display_name.clone();
    assert_eq!(e.young_person.as_ref().map(|u| u.display_name.clone()), Some(yp_name.clone()));
    assert_eq!(e.worker.as_ref().map(|u| u.id.clone()), Some(worker.user.id.clone()));
    assert_eq!(e.conversation_state, Some(ConversationState::Assigned));
    let listed = s.client.escalation(&supervisor.access_token, &e.id).await.unwrap();
    assert_eq!(listed.young_person.map(|u| u.display_name), Some(yp_name));
    s.client.close_conversation(&worker.access_token, &conv.id, &close("resolved", &[])).await.unwrap();
    let after = s.client.escalation(&supervisor.access_token, &e.id).await.unwrap();
    assert_eq!(after.conversation_state, Some(ConversationState::Closed));
    s.stop().await;
}

async fn canned_replies_are_kept_by_the_admin_and_read_by_the_desk(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff(Role::DutyWorker).await;
    let req = |title: &str, body: &str| CannedReplyRequest { title: title.into(), body: body.into() };
    let hello = s
        .client
        .create_canned_reply(
            &admin.access_token,
            &req(" Hello ", "Hi {young_person_name}, I'm {worker_name}.\nHow can I help?"),
        )
        .await
        .unwrap();
    assert_eq!(hello.title, "Hello", "trimmed");
    s.client.create_canned_reply(&admin.access_token, &req("Crisis numbers", "Childline: 0800 1111")).await.unwrap();
    let list = s.client.list_canned_replies(&worker.access_token).await.unwrap();
    let titles: Vec<_> = list.canned_replies.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Crisis numbers", "Hello"], "by title");

    // Refused, and nothing stored: an unknown variable, a taken title, empty, too long.
    for (bad, status) in [
        (req("Typo", "Hi {worker}"), 422),
        (req("Open brace", "Hi {worker_name"), 422),
        (req("Hello", "again"), 409),
        (req("", "x"), 422),
        (req("Long", &"x".repeat(2001)), 422),
        (req("Line\nbreak", "x"), 422),
    ] {
        assert_eq!(status_of(s.client.create_canned_reply(&admin.access_token, &bad).await), status, "{bad:?}");
    }
    assert_eq!(s.client.list_canned_replies(&worker.access_token).await.unwrap().canned_replies.len(), 2);
    assert_eq!(status_of(s.client.create_canned_reply(&worker.access_token, &req("Mine", "x")).await), 403);

    let changed =
        s.client.update_canned_reply(&admin.access_token, &hello.id, &req("Hello", "Hello again.")).await.unwrap();
    assert_eq!(changed.body, "Hello again.");
    assert_eq!(status_of(s.client.update_canned_reply(&admin.access_token, "nope", &req("X", "y")).await), 404);
    s.client.delete_canned_reply(&admin.access_token, &hello.id).await.unwrap();
    assert_eq!(status_of(s.client.delete_canned_reply(&admin.access_token, &hello.id).await), 404);
    assert_eq!(s.client.list_canned_replies(&worker.access_token).await.unwrap().canned_replies.len(), 1);

    let audit = s.client.audit_log(&admin.access_token, &AuditQuery { days: None }).await.unwrap();
    let actions: Vec<_> =
        audit.entries.iter().filter(|e| e.action.starts_with("canned_reply")).map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "canned_reply_created").count(),
        2,
        "each change is audited: {actions:?}"
    );
    assert!(actions.contains(&"canned_reply_updated") && actions.contains(&"canned_reply_deleted"), "{actions:?}");
    s.stop().await;
}

async fn earlier_chats_are_shown_to_the_chats_staff(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let other = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let yp = s.young_person().await;
    let stranger = s.young_person().await;
    let first = open(&s, &yp, "SECRET-WORDS about school").await;
    s.client.accept(&worker.access_token, &first.id).await.unwrap();
    s.client.close_conversation(&worker.access_token, &first.id, &close("signposted", &["school"])).await.unwrap();
    let theirs = open(&s, &stranger, "not this one").await;
    s.client.accept(&worker.access_token, &theirs.id).await.unwrap();
    s.client.close_conversation(&worker.access_token, &theirs.id, &close("resolved", &["other"])).await.unwrap();

    let now = open(&s, &yp, "it's happening again").await;
    // While it is queued, any duty worker may triage it, earlier chats included.
    let triage = s.client.earlier_chats(&other.access_token, &now.id).await.unwrap();
    assert_eq!(triage.chats.len(), 1);
    s.client.accept(&worker.access_token, &now.id).await.unwrap();
    let earlier = s.client.earlier_chats(&worker.access_token, &now.id).await.unwrap();
    assert_eq!(earlier.chats.len(), 1, "their own earlier chat only, not this one: {earlier:?}");
    let e = &earlier.chats[0];
    assert_eq!(e.id, first.id);
    assert_eq!((e.outcome.as_deref(), e.tags.clone()), (Some("signposted"), vec!["school".to_owned()]));
    assert_eq!(e.state, ConversationState::Closed);
    assert!(e.closed_at.is_some() && e.worker.as_ref().is_some_and(|w| w.id == worker.user.id));
    assert!(!serde_json::to_string(&earlier).unwrap().contains("SECRET-WORDS"), "never what was said");
    assert_eq!(s.client.earlier_chats(&supervisor.access_token, &now.id).await.unwrap().chats.len(), 1);
    // Once accepted, it is not another worker's; never the young person's own to read.
    assert_eq!(status_of(s.client.earlier_chats(&other.access_token, &now.id).await), 404);
    assert_eq!(status_of(s.client.earlier_chats(&yp.access_token, &now.id).await), 403);
    assert_eq!(status_of(s.client.earlier_chats(&worker.access_token, &ConversationId("nope".into())).await), 404);
    s.stop().await;
}

async fn a_joined_supervisor_is_told_of_the_close(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let bystander = s.staff(Role::Supervisor).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, "hello").await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    s.client.join_conversation(&supervisor.access_token, &conv.id).await.unwrap();
    let mut sup_ws = s.client.connect(&supervisor.access_token).await.unwrap();
    let mut other_ws = s.client.connect(&bystander.access_token).await.unwrap();
    sup_ws.round_trip().await.unwrap();
    other_ws.round_trip().await.unwrap();
    s.client.close_conversation(&worker.access_token, &conv.id, &close("resolved", &[])).await.unwrap();
    let told = sup_ws
        .recv_until(
            T,
            |f| matches!(f, ServerFrame::Conversation(c) if c.id == conv.id && c.state == ConversationState::Closed),
        )
        .await
        .expect("the supervisor who joined is told the chat closed");
    let ServerFrame::Conversation(c) = told else { unreachable!() };
    assert_eq!(c.outcome.as_deref(), Some("resolved"), "with the staff record");
    let seen = frames_so_far(&mut other_ws).await;
    assert!(!seen.iter().any(|f| matches!(f, ServerFrame::Conversation(_))), "only those who joined: {seen:?}");
    s.stop().await;
}

async fn moderation_items_show_their_room_and_context(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let moderator = s.staff(Role::Moderator).await;
    let room = CreateRoomRequest {
        topic: "Football chat".into(),
        age_band: "13-15".into(),
        moderation: RoomModeration::Post,
        personal_info: PersonalInfoMode::Hold,
    };
    let room = s.client.create_room(&admin.access_token, &room).await.unwrap();
    let (a, b) = (s.young_person().await, s.young_person().await);
    for yp in [&a, &b] {
        s.client.join_room(&yp.access_token, &room.id).await.unwrap();
    }
    let mut ws = s.client.connect(&a.access_token).await.unwrap();
    ws.subscribe(&room.id, 0).await.unwrap();
    let mut ids = Vec::new();
    for (i, text) in ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"].iter().enumerate() {
        let ack = ws.send_message(&room.id, &format!("m{i}"), &format!("message {text}")).await.unwrap();
        let ServerFrame::Ack { message_id, .. } = ack else { panic!("{ack:?}") };
        ids.push(message_id);
    }
    // b reports the fifth message: the context is the three before it, it, and three after.
    let report = ReportRequest { message_id: Some(ids[4].clone()), user_id: None, reason: "unkind".into() };
    let receipt = s.client.create_report(&b.access_token, &report).await.unwrap();
    let queue = s.client.moderation_queue(&moderator.access_token).await.unwrap();
    let item = queue.items.iter().find(|i| i.id == receipt.id).expect("the report in the queue");
    assert_eq!(item.room_name.as_deref(), Some("Football chat"));
    let context = s.client.moderation_context(&moderator.access_token, &receipt.id).await.unwrap();
    let bodies: Vec<_> = context.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "message two",
            "message three",
            "message four",
            "message five",
            "message six",
            "message seven",
            "message eight"
        ]
    );
    assert_eq!(context.seq, Some(context.messages[3].seq));
    assert_eq!(status_of(s.client.moderation_context(&moderator.access_token, "nope").await), 404);
    assert_eq!(status_of(s.client.moderation_context(&a.access_token, &receipt.id).await), 403);
    s.stop().await;
}

async fn canned_reply_errors_have_codes(backend: Backend) {
    // The console shows the server's words beside the form: they must say what to fix.
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let bad = CannedReplyRequest { title: "Typo".into(), body: "Hi {wrker_name}".into() };
    match s.client.create_canned_reply(&admin.access_token, &bad).await {
        Err(ClientError::Api { status: 422, body, .. }) => {
            assert_eq!(body.error.code, ErrorCode::ValidationFailed);
            assert!(body.error.message.contains("{worker_name}"), "{}", body.error.message);
        }
        other => panic!("{other:?}"),
    }
    s.stop().await;
}

both_backends!(
    closing_keeps_tags,
    rising_risk_is_pushed_to_the_worker_and_supervisors,
    first_reply_deadline_is_in_the_workers_view,
    queue_entries_preview_the_first_message,
    escalations_name_the_chat,
    canned_replies_are_kept_by_the_admin_and_read_by_the_desk,
    earlier_chats_are_shown_to_the_chats_staff,
    a_joined_supervisor_is_told_of_the_close,
    moderation_items_show_their_room_and_context,
    canned_reply_errors_have_codes,
);
