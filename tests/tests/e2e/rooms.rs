//! Peer rooms and the human moderation queue, end to end: holds, approve/reject/redact,
//! reports and removal, mutes that expire, claims that expire, appeals decided by another
//! moderator, actions on users, live `moderation.changed`, policy reload, and who may see what.

use std::sync::Arc;
use std::time::Duration;

use talkzone_mobile_api::client::{ClientError, WsConnection};
use talkzone_mobile_api::{
    AckStatus, AppealDecisionRequest, AppealRequest, BulkDecisionRequest, ClientFrame, ConversationId,
    ConversationView, CreateRoomRequest, DecisionRequest, ErrorCode, MessageView, ModerationAction, ModerationItemView,
    PersonalInfoMode, ReportRequest, Role, RoomModeration, ServerFrame, TokenResponse, UserActionKind,
    UserActionRequest,
};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_tests::{both_backends, Backend, TestServer};

const T: Duration = Duration::from_secs(10);

async fn make_room(
    s: &TestServer,
    admin: &TokenResponse,
    moderation: RoomModeration,
    personal_info: PersonalInfoMode,
) -> ConversationView {
    let req = CreateRoomRequest { topic: "Football".into(), age_band: "13-15".into(), moderation, personal_info };
    s.client.create_room(&admin.access_token, &req).await.unwrap()
}

async fn member(s: &TestServer, room: &ConversationView) -> (TokenResponse, WsConnection) {
    let yp = s.young_person().await;
    let joined = s.client.join_room(&yp.access_token, &room.id).await.unwrap();
    assert!(joined.room.as_ref().unwrap().joined);
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.subscribe(&room.id, 0).await.unwrap();
    (yp, ws)
}

async fn queue(s: &TestServer, moderator: &TokenResponse) -> Vec<ModerationItemView> {
    s.client.moderation_queue(&moderator.access_token).await.unwrap().items
}

async fn decide(
    s: &TestServer,
    moderator: &TokenResponse,
    item: &str,
    decision: DecisionRequest,
) -> Result<ModerationItemView, ClientError> {
    s.client.decide_item(&moderator.access_token, item, &decision).await
}

fn decision(action: ModerationAction, reason: &str) -> DecisionRequest {
    DecisionRequest { action, reason: reason.into(), body: None }
}

fn user_action(action: UserActionKind, reason: &str) -> UserActionRequest {
    UserActionRequest { action, reason: reason.into(), duration_s: None }
}

async fn next_message(ws: &mut WsConnection) -> MessageView {
    match ws.recv_until(T, |f| matches!(f, ServerFrame::Message(_))).await.unwrap() {
        ServerFrame::Message(m) => m,
        _ => unreachable!(),
    }
}

async fn history(s: &TestServer, token: &str, id: &ConversationId) -> Vec<MessageView> {
    s.client.messages(token, id, 0, None).await.unwrap().messages
}

async fn pre_moderated_hold_approve_reject_redact(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let moderator = s.staff(Role::Moderator).await;
    let room = make_room(&s, &admin, RoomModeration::Pre, PersonalInfoMode::Hold).await;
    assert_eq!(room.state, talkzone_mobile_api::ConversationState::Open);
    let (alice, mut alice_ws) = member(&s, &room).await;
    let (bob, mut bob_ws) = member(&s, &room).await;

    let mut mod_ws = s.client.connect(&moderator.access_token).await.unwrap();
    mod_ws.send(&ClientFrame::ModerationWatch).await.unwrap();

    // Held: the sender gets `held` with no seq; nobody else sees it.
    let ack = alice_ws.send_message(&room.id, "a1", "anyone watching the match tonight?").await.unwrap();
    assert!(matches!(ack, ServerFrame::Ack { seq: None, status: AckStatus::Held, .. }), "{ack:?}");
    assert!(history(&s, &bob.access_token, &room.id).await.is_empty(), "a member never sees another's held message");
    let changed = mod_ws.recv_until(T, |f| matches!(f, ServerFrame::ModerationChanged { .. })).await.unwrap();
    let ServerFrame::ModerationChanged { item } = changed else { unreachable!() };
    assert_eq!((item.kind.as_str(), item.reason.as_str()), ("hold", "pre_moderation"));
    assert_eq!(item.evidence.as_deref(), Some("anyone watching the match tonight?"));

    // Approve: it gets the next seq and reaches everyone.
    let decided = decide(&s, &moderator, &item.id, decision(ModerationAction::Approve, "fine")).await.unwrap();
    assert_eq!(decided.state, "decided");
    let m = next_message(&mut bob_ws).await;
    assert_eq!((m.seq, m.body.as_str()), (1, "anyone watching the match tonight?"));
    assert_ne!(m.sender.as_ref().unwrap().id, alice.user.id, "members see a pseudonym, never the account id");
    assert_eq!(m.sender.as_ref().unwrap().display_name, alice.user.display_name);
    assert_eq!(next_message(&mut alice_ws).await.seq, 1);
    // Typing and read markers in a room carry the pseudonym too.
    alice_ws.send(&ClientFrame::Typing { conversation_id: room.id.clone() }).await.unwrap();
    let f = bob_ws.recv_until(T, |f| matches!(f, ServerFrame::Typing { .. })).await.unwrap();
    assert!(matches!(&f, ServerFrame::Typing { user, .. } if user.id == m.sender.as_ref().unwrap().id), "{f:?}");
    alice_ws.send(&ClientFrame::Read { conversation_id: room.id.clone(), seq: 1 }).await.unwrap();
    let f = bob_ws.recv_until(T, |f| matches!(f, ServerFrame::Read { .. })).await.unwrap();
    assert!(matches!(&f, ServerFrame::Read { user_id, .. } if *user_id != alice.user.id), "{f:?}");

    // Reject: never delivered; the sender is told kindly why.
    alice_ws.send_message(&room.id, "a2", "second message").await.unwrap();
    let item =
        queue(&s, &moderator).await.into_iter().find(|i| i.evidence.as_deref() == Some("second message")).unwrap();
    decide(&s, &moderator, &item.id, decision(ModerationAction::Reject, "off topic")).await.unwrap();
    let notice = alice_ws.recv_until(T, |f| matches!(f, ServerFrame::Notice { .. })).await.unwrap();
    assert!(
        matches!(&notice, ServerFrame::Notice { kind, client_msg_id: Some(c), .. } if kind == "message_rejected" && c == "a2"),
        "{notice:?}"
    );

    // Redact and approve: delivered with the moderator's text, with the next seq.
    alice_ws.send_message(&room.id, "a3", "i go to Hillside Academy lol").await.unwrap();
    let item = queue(&s, &moderator)
        .await
        .into_iter()
        .find(|i| i.evidence.as_deref() == Some("i go to Hillside Academy lol"))
        .unwrap();
    let redact = DecisionRequest {
        body: Some("i go to [school] lol".into()),
        ..decision(ModerationAction::Redact, "school name")
    };
    decide(&s, &moderator, &item.id, redact).await.unwrap();
    let m = next_message(&mut bob_ws).await;
    assert_eq!((m.seq, m.body.as_str()), (2, "i go to [school] lol"));
    let bodies: Vec<String> = history(&s, &bob.access_token, &room.id).await.into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, vec!["anyone watching the match tonight?", "i go to [school] lol"]);

    // A decided item cannot be decided again; a report action does not fit a hold.
    let again = decide(&s, &moderator, &item.id, decision(ModerationAction::Approve, "again")).await.unwrap_err();
    assert_eq!(again.status(), Some(409));
    alice_ws.send_message(&room.id, "a4", "hi").await.unwrap();
    let item = queue(&s, &moderator).await.into_iter().find(|i| i.evidence.as_deref() == Some("hi")).unwrap();
    let wrong = decide(&s, &moderator, &item.id, decision(ModerationAction::Remove, "x")).await.unwrap_err();
    assert_eq!(wrong.status(), Some(422));
    s.stop().await;
}

async fn post_moderated_rooms_hold_or_redact_personal_information(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let hold_room = make_room(&s, &admin, RoomModeration::Post, PersonalInfoMode::Hold).await;
    let (_a, mut a_ws) = member(&s, &hold_room).await;
    let (b, mut b_ws) = member(&s, &hold_room).await;
    let ack = a_ws.send_message(&hold_room.id, "p1", "anyone else like football?").await.unwrap();
    assert!(matches!(ack, ServerFrame::Ack { seq: Some(1), status: AckStatus::Delivered, .. }), "{ack:?}");
    assert_eq!(next_message(&mut b_ws).await.seq, 1);
    let ack = a_ws.send_message(&hold_room.id, "p2", "text me on 07700 900123").await.unwrap();
    assert!(matches!(ack, ServerFrame::Ack { status: AckStatus::Held, .. }), "personal information held: {ack:?}");
    assert_eq!(history(&s, &b.access_token, &hold_room.id).await.len(), 1);

    let redact_room = make_room(&s, &admin, RoomModeration::Post, PersonalInfoMode::Redact).await;
    let (_c, mut c_ws) = member(&s, &redact_room).await;
    let (_d, mut d_ws) = member(&s, &redact_room).await;
    let ack = c_ws.send_message(&redact_room.id, "r1", "text me on 07700 900123").await.unwrap();
    assert!(matches!(ack, ServerFrame::Ack { status: AckStatus::Delivered, .. }), "{ack:?}");
    let m = next_message(&mut d_ws).await;
    assert!(!m.body.contains("900123"), "the number never reaches other members: {}", m.body);
    assert!(m.body.contains("[phone]"), "{}", m.body);
    s.stop().await;
}

async fn report_then_remove_hides_the_message_and_keeps_evidence(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let moderator = s.staff(Role::Moderator).await;
    let room = make_room(&s, &admin, RoomModeration::Post, PersonalInfoMode::Hold).await;
    let (a, mut a_ws) = member(&s, &room).await;
    let (b, mut b_ws) = member(&s, &room).await;
    a_ws.send_message(&room.id, "x1", "you are all losers").await.unwrap();
    let m = next_message(&mut b_ws).await;
    let report =
        |reason: &str| ReportRequest { message_id: Some(m.message_id.clone()), user_id: None, reason: reason.into() };
    let receipt = s.client.create_report(&b.access_token, &report("mean to everyone")).await.unwrap();
    assert_eq!(receipt.state, "open");
    let item = queue(&s, &moderator).await.into_iter().find(|i| i.id == receipt.id).unwrap();
    assert_eq!(item.evidence.as_deref(), Some("you are all losers"));
    assert_eq!(item.subject_user.as_ref().unwrap().id, a.user.id, "moderators see who sent it");

    decide(&s, &moderator, &item.id, decision(ModerationAction::Remove, "bullying")).await.unwrap();
    let changed = b_ws.recv_until(T, |f| matches!(f, ServerFrame::MessageChanged { .. })).await.unwrap();
    assert!(
        matches!(&changed, ServerFrame::MessageChanged { status, body, .. } if status == "removed" && !body.contains("losers"))
    );
    let h = history(&s, &b.access_token, &room.id).await;
    assert_eq!(h.len(), 1, "seq stays gap-free: the message is there, removed");
    assert!(h[0].removed && !h[0].body.contains("losers"));
    // A report on a message you cannot see is not found.
    let outsider = s.young_person().await;
    let e = s.client.create_report(&outsider.access_token, &report("x")).await.unwrap_err();
    assert_eq!(e.status(), Some(404));

    // The sender appeals once; the same moderator may not decide it; another overturns it.
    let appeal = AppealRequest { reason: "it was a joke".into() };
    let appeal = s.client.appeal_item(&a.access_token, &item.id, &appeal).await.unwrap();
    assert_eq!(appeal.state, "appeal_requested");
    let twice = s.client.appeal_item(&a.access_token, &item.id, &AppealRequest { reason: "again".into() }).await;
    assert_eq!(twice.unwrap_err().status(), Some(409), "one appeal only");
    let overturn = |reason: &str| AppealDecisionRequest { uphold: false, reason: reason.into() };
    let same = s.client.decide_appeal(&moderator.access_token, &item.id, &overturn("mine")).await.unwrap_err();
    assert_eq!(same.status(), Some(409), "a different moderator decides an appeal");
    let other = s.staff(Role::Moderator).await;
    let v = s.client.decide_appeal(&other.access_token, &item.id, &overturn("banter between friends")).await.unwrap();
    assert_eq!(v.appeal_state.as_deref(), Some("overturned"));
    let h = history(&s, &b.access_token, &room.id).await;
    assert!(!h[0].removed && h[0].body == "you are all losers", "restored on appeal");
    s.stop().await;
}

async fn mute_blocks_room_messages_until_it_expires(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).start().await;
    let admin = s.staff(Role::YotAdmin).await;
    let moderator = s.staff(Role::Moderator).await;
    let room = make_room(&s, &admin, RoomModeration::Post, PersonalInfoMode::Hold).await;
    let (a, mut a_ws) = member(&s, &room).await;
    let mute = UserActionRequest { duration_s: Some(600), ..user_action(UserActionKind::Mute, "spamming") };
    s.client.act_on_user(&moderator.access_token, &a.user.id, &mute).await.unwrap();
    let notice = a_ws.recv_until(T, |f| matches!(f, ServerFrame::Notice { .. })).await.unwrap();
    assert!(matches!(&notice, ServerFrame::Notice { kind, .. } if kind == "mute"));
    match a_ws.send_message(&room.id, "m1", "hello?").await.unwrap() {
        ServerFrame::Error { code, message, .. } => {
            assert_eq!(code, ErrorCode::Forbidden);
            assert!(message.contains("muted") && message.contains("support chat"), "{message}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    // A muted young person can still ask a worker for help.
    let (_, conv) = s.client.open_conversation(&a.access_token, &Default::default()).await.unwrap();
    let ack = a_ws.send_message(&conv.id, "help", "i need help").await.unwrap();
    assert!(matches!(ack, ServerFrame::Ack { .. }), "{ack:?}");
    clock.advance_ms(601_000);
    let ack = a_ws.send_message(&room.id, "m2", "back again").await.unwrap();
    assert!(matches!(ack, ServerFrame::Ack { status: AckStatus::Delivered, .. }), "mute expired: {ack:?}");
    let log = s.client.moderation_log(&moderator.access_token).await.unwrap();
    assert!(log.entries.iter().any(|e| e.action == "mute" && e.subject_user_id.as_ref() == Some(&a.user.id)));
    s.stop().await;
}

async fn claims_expire_and_bulk_decides(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).start().await;
    let admin = s.staff(Role::YotAdmin).await;
    let m1 = s.staff(Role::Moderator).await;
    let m2 = s.staff(Role::Moderator).await;
    let room = make_room(&s, &admin, RoomModeration::Pre, PersonalInfoMode::Hold).await;
    let (_a, mut a_ws) = member(&s, &room).await;
    for i in 0..3 {
        a_ws.send_message(&room.id, &format!("s{i}"), &format!("spam {i}")).await.unwrap();
    }
    let items = queue(&s, &m1).await;
    assert_eq!(items.len(), 3);
    let first = &items[0].id;
    let claimed = s.client.claim_item(&m1.access_token, first).await.unwrap();
    assert_eq!(claimed.claimed_by.as_ref(), Some(&m1.user.id));
    let e = s.client.claim_item(&m2.access_token, first).await.unwrap_err();
    assert_eq!(e.status(), Some(409));
    assert_eq!(
        decide(&s, &m2, first, decision(ModerationAction::Reject, "spam")).await.unwrap_err().status(),
        Some(409)
    );
    clock.advance_ms(5 * 60 * 1000 + 1);
    s.client.claim_item(&m2.access_token, first).await.expect("an idle claim expires");
    let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    let bulk = BulkDecisionRequest { item_ids: ids, action: ModerationAction::Reject, reason: "spam flood".into() };
    let result = s.client.decide_bulk(&m2.access_token, &bulk).await.unwrap();
    assert_eq!(result.decided.len(), 3, "{result:?}");
    assert!(queue(&s, &m2).await.is_empty());
    s.stop().await;
}

async fn only_moderators_see_the_queue_and_rooms_are_private(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let room = make_room(&s, &admin, RoomModeration::Post, PersonalInfoMode::Hold).await;
    let yp = s.young_person().await;
    let worker = s.staff(Role::DutyWorker).await;
    for who in [&yp, &worker, &admin] {
        let e = s.client.moderation_queue(&who.access_token).await.unwrap_err();
        assert_eq!(e.status(), Some(403), "{:?}", who.user.role);
    }
    // A young person cannot create rooms; rooms are listed but closed until joined.
    let req = CreateRoomRequest {
        topic: "x".into(),
        age_band: "13-15".into(),
        moderation: RoomModeration::Post,
        personal_info: PersonalInfoMode::Hold,
    };
    let e = s.client.create_room(&yp.access_token, &req).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    let list = s.client.list_rooms(&yp.access_token).await.unwrap();
    assert!(list.rooms.iter().any(|r| r.id == room.id && !r.room.as_ref().unwrap().joined));
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    let e = ws.subscribe(&room.id, 0).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotFound));
    let e = s.client.messages(&yp.access_token, &room.id, 0, None).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    // A worker cannot join a room as a member; moderators cannot act on staff.
    let e = s.client.join_room(&worker.access_token, &room.id).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    let moderator = s.staff(Role::Moderator).await;
    let suspend = user_action(UserActionKind::Suspend, "x");
    let e = s.client.act_on_user(&moderator.access_token, &worker.user.id, &suspend).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    // A young person cannot watch the moderation queue.
    ws.send(&ClientFrame::ModerationWatch).await.unwrap();
    let f = ws.recv_until(T, |f| matches!(f, ServerFrame::Error { .. })).await.unwrap();
    assert!(matches!(f, ServerFrame::Error { code: ErrorCode::Forbidden, .. }));
    s.stop().await;
}

async fn suspension_ends_sessions_at_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    let moderator = s.staff(Role::Moderator).await;
    let yp = s.young_person().await;
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.send(&ClientFrame::Ping { nonce: None }).await.unwrap();
    ws.recv_timeout(T).await.unwrap();
    let suspend = user_action(UserActionKind::Suspend, "threats");
    s.client.act_on_user(&moderator.access_token, &yp.user.id, &suspend).await.unwrap();
    match ws.recv_timeout(Duration::from_secs(2)).await {
        Err(ClientError::Closed(_)) => {}
        other => panic!("expected the socket closed within a second or two, got {other:?}"),
    }
    assert_eq!(s.client.me(&yp.access_token).await.unwrap_err().status(), Some(401));
    assert_eq!(s.client.refresh(&yp.refresh_token).await.unwrap_err().status(), Some(401));
    s.stop().await;
}

async fn policy_is_replaced_without_a_restart(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let moderator = s.staff(Role::Moderator).await;
    let source = s.client.moderation_policy(&admin.access_token).await.unwrap();
    assert!(!source.is_empty());
    let bad = s.client.replace_moderation_policy(&admin.access_token, "this is = = not toml").await.unwrap_err();
    assert_eq!(bad.status(), Some(422));
    let denied = s.client.replace_moderation_policy(&moderator.access_token, &source).await.unwrap_err();
    assert_eq!(denied.status(), Some(403));
    // The policy in force sent again is no change; a changed one is a new version, in force at
    // once and at the next start.
    assert_eq!(s.client.replace_moderation_policy(&admin.access_token, &source).await.unwrap().version, 0);
    let changed = format!("{source}\n# changed by the YOT\n");
    assert_eq!(s.client.replace_moderation_policy(&admin.access_token, &changed).await.unwrap().version, 1);
    assert_eq!(s.client.moderation_policy(&admin.access_token).await.unwrap(), changed);
    let again = s.another_node().start().await;
    assert_eq!(again.client.moderation_policy(&admin.access_token).await.unwrap(), changed, "kept for the next start");
    again.stop().await;
    s.stop().await;
}

both_backends!(
    pre_moderated_hold_approve_reject_redact,
    post_moderated_rooms_hold_or_redact_personal_information,
    report_then_remove_hides_the_message_and_keeps_evidence,
    mute_blocks_room_messages_until_it_expires,
    claims_expire_and_bulk_decides,
    only_moderators_see_the_queue_and_rooms_are_private,
    suspension_ends_sessions_at_once,
    policy_is_replaced_without_a_restart,
);
