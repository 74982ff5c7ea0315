//! Reports (issue 22): a message of a 1:1 support chat never reaches moderators (its young
//! person's report goes to a supervisor as an escalation; staff are told to raise one), every
//! moderator read of an item is audited, reports are rate limited and de-duplicated, and a
//! report cannot tell whether a user id exists.

use std::time::Duration;

use talkzone_mobile_api::client::WsConnection;
use talkzone_mobile_api::{
    AuditQuery, ClientFrame, ConversationId, ConversationView, CreateConversationRequest, CreateRoomRequest,
    EscalationListQuery, MessageId, PersonalInfoMode, ReportRequest, Role, RoomModeration, ServerFrame, TokenResponse,
    UserId,
};
use talkzone_tests::{both_backends, eventually, Backend, TestServer};

const T: Duration = Duration::from_secs(10);

fn about_message(id: &MessageId, reason: &str) -> ReportRequest {
    ReportRequest { message_id: Some(id.clone()), user_id: None, reason: reason.into() }
}

fn about_user(id: &UserId, reason: &str) -> ReportRequest {
    ReportRequest { message_id: None, user_id: Some(id.clone()), reason: reason.into() }
}

async fn room(s: &TestServer, admin: &TokenResponse) -> ConversationView {
    let req = CreateRoomRequest {
        topic: "Music".into(),
        age_band: "13-15".into(),
        moderation: RoomModeration::Post,
        personal_info: PersonalInfoMode::Hold,
    };
    s.client.create_room(&admin.access_token, &req).await.unwrap()
}

/// A member of `room`, connected and subscribed.
async fn member(s: &TestServer, room: &ConversationView) -> (TokenResponse, WsConnection) {
    let yp = s.young_person().await;
    s.client.join_room(&yp.access_token, &room.id).await.unwrap();
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.subscribe(&room.id, 0).await.unwrap();
    (yp, ws)
}

async fn say(ws: &mut WsConnection, conv: &ConversationId, id: &str, body: &str) -> MessageId {
    match ws.send_message(conv, id, body).await.unwrap() {
        ServerFrame::Ack { message_id, .. } => message_id,
        other => panic!("not stored: {other:?}"),
    }
}

/// The admin's audit log entries about `target` (`type:id`) with `action`.
async fn audited(s: &TestServer, admin: &TokenResponse, action: &str, target: &str) -> Vec<(Option<UserId>, String)> {
    let log = s.client.audit_log(&admin.access_token, &AuditQuery { days: Some(1) }).await.unwrap();
    log.entries
        .into_iter()
        .filter(|e| e.action == action && e.target.as_deref() == Some(target))
        .map(|e| (e.actor_id, e.details.unwrap_or_default()))
        .collect()
}

/// The case: anyone who could see a support chat's message could put its full text in
/// the moderation queue, for a moderator to read and remove.
async fn support_chat_messages_never_reach_moderators(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let worker = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let moderator = s.staff(Role::Moderator).await;
    let yp = s.young_person().await;
    let first = CreateConversationRequest { topic: None, first_message: Some("my number is 07700 900123".into()) };
    let (_, conv) = s.client.open_conversation(&yp.access_token, &first).await.unwrap();
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut worker_ws = s.client.connect(&worker.access_token).await.unwrap();
    worker_ws.subscribe(&conv.id, 0).await.unwrap();
    let worker_said = say(&mut worker_ws, &conv.id, "w1", "that's not ok, you're being silly").await;
    let mut sup_ws = s.client.connect(&supervisor.access_token).await.unwrap();
    sup_ws.round_trip().await.unwrap();

    // Staff who can see the chat: told to raise an escalation, nothing stored.
    for staff in [&worker, &supervisor] {
        let e = s.client.create_report(&staff.access_token, &about_message(&worker_said, "worried")).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{e}");
        assert!(e.to_string().contains("escalation"), "{e}");
    }
    // Anyone else: it does not exist.
    let other_worker = s.staff(Role::DutyWorker).await;
    for other in [&moderator, &other_worker] {
        let e = s.client.create_report(&other.access_token, &about_message(&worker_said, "x")).await.unwrap_err();
        assert_eq!(e.status(), Some(404), "{e}");
    }

    // The young person's report goes to a supervisor, as an escalation, and they are told so.
    let receipt = s
        .client
        .create_report(&yp.access_token, &about_message(&worker_said, "the worker was rude to me"))
        .await
        .unwrap();
    assert_eq!(receipt.state, "sent_to_supervisor");
    assert!(receipt.message.as_deref().unwrap_or_default().contains("supervisor"), "{receipt:?}");
    let alert = sup_ws
        .recv_until(T, |f| matches!(f, ServerFrame::Escalation(e) if e.id == receipt.id))
        .await
        .expect("supervisors are alerted");
    let ServerFrame::Escalation(e) = alert else { unreachable!() };
    assert_eq!((e.source.as_str(), e.severity.as_str()), ("young_person", "medium"));
    assert_eq!(e.message_id.as_ref(), Some(&worker_said));
    assert!(e.reason.contains("the worker was rude to me"), "{}", e.reason);
    // Once per message: reporting it again returns the same escalation.
    let again = s.client.create_report(&yp.access_token, &about_message(&worker_said, "again")).await.unwrap();
    assert_eq!(again.id, receipt.id);
    let open = EscalationListQuery { state: Some("open".into()), limit: None, offset: None };
    let escalations = s.client.list_escalations(&supervisor.access_token, &open).await.unwrap().escalations;
    assert_eq!(escalations.iter().filter(|e| e.source == "young_person").count(), 1);

    // Nothing reached the moderation queue, and nothing in the chat was held or changed.
    assert!(s.client.moderation_queue(&moderator.access_token).await.unwrap().items.is_empty());
    let history = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap().messages;
    assert!(history.iter().any(|m| m.body == "my number is 07700 900123"), "never redacted");
    assert!(history.iter().any(|m| m.message_id == worker_said && m.body == "that's not ok, you're being silly"));
    s.stop().await;
}

/// A moderator's every read of an item (the list, a watch's snapshot, a live push, a claim) is
/// in the audit log, before it is shown.
async fn moderator_reads_are_audited(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let moderator = s.staff(Role::Moderator).await;
    let r = room(&s, &admin).await;
    let (_alice, mut alice_ws) = member(&s, &r).await;
    let (bob, _bob_ws) = member(&s, &r).await;
    let m1 = say(&mut alice_ws, &r.id, "a1", "you are all losers").await;
    let first = s.client.create_report(&bob.access_token, &about_message(&m1, "unkind")).await.unwrap();

    let items = s.client.moderation_queue(&moderator.access_token).await.unwrap().items;
    assert_eq!(items.len(), 1);
    let target = format!("moderation_item:{}", first.id);
    let reads = audited(&s, &admin, "moderation_item_read", &target).await;
    assert_eq!(reads, vec![(Some(moderator.user.id.clone()), "queue".to_owned())], "the list");

    let mut mod_ws = s.client.connect(&moderator.access_token).await.unwrap();
    mod_ws.send(&ClientFrame::ModerationWatch).await.unwrap();
    mod_ws.recv_until(T, |f| matches!(f, ServerFrame::ModerationChanged { .. })).await.unwrap();
    assert!(audited(&s, &admin, "moderation_item_read", &target).await.iter().any(|(_, how)| how == "watch"));

    // A new item pushed live to the watching moderator.
    let m2 = say(&mut alice_ws, &r.id, "a2", "that song is rubbish and so are you").await;
    let second = s.client.create_report(&bob.access_token, &about_message(&m2, "unkind")).await.unwrap();
    let id = second.id.clone();
    mod_ws.recv_until(T, |f| matches!(f, ServerFrame::ModerationChanged { item } if item.id == id)).await.unwrap();
    let second_target = format!("moderation_item:{}", second.id);
    let live = audited(&s, &admin, "moderation_item_read", &second_target).await;
    assert!(live.contains(&(Some(moderator.user.id.clone()), "live".to_owned())), "{live:?}");

    s.client.claim_item(&moderator.access_token, &second.id).await.unwrap();
    let claimed = audited(&s, &admin, "moderation_item_read", &second_target).await;
    assert!(claimed.iter().any(|(_, how)| how == "claim"), "{claimed:?}");
    s.stop().await;
}

/// The case: 30 reports against one person were all accepted. The same report again
/// returns the first; a reporter's reports are limited (10 at once, then 20 an hour).
async fn reports_are_deduplicated_and_rate_limited(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let moderator = s.staff(Role::Moderator).await;
    let r = room(&s, &admin).await;
    let (alice, mut alice_ws) = member(&s, &r).await;
    let (bob, _bob_ws) = member(&s, &r).await;
    let (carol, _carol_ws) = member(&s, &r).await;

    let m = say(&mut alice_ws, &r.id, "x0", "go away").await;
    let first = s.client.create_report(&bob.access_token, &about_message(&m, "unkind")).await.unwrap();
    let again = s.client.create_report(&bob.access_token, &about_message(&m, "unkind!!")).await.unwrap();
    let by_carol = s.client.create_report(&carol.access_token, &about_message(&m, "mean")).await.unwrap();
    assert_eq!((again.id.as_str(), by_carol.id.as_str()), (first.id.as_str(), first.id.as_str()));
    let user_report = s.client.create_report(&bob.access_token, &about_user(&alice.user.id, "bullying")).await.unwrap();
    let user_again = s.client.create_report(&bob.access_token, &about_user(&alice.user.id, "still")).await.unwrap();
    assert_eq!(user_again.id, user_report.id);
    assert_eq!(s.client.moderation_queue(&moderator.access_token).await.unwrap().items.len(), 2);

    // Bob has made 2 reports (the repeats cost nothing); 8 more go through, then 429.
    let mut refused = None;
    for i in 1..=12 {
        let m = say(&mut alice_ws, &r.id, &format!("x{i}"), &format!("go away {i}")).await;
        match s.client.create_report(&bob.access_token, &about_message(&m, "unkind")).await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.status(), Some(429), "{e}");
                refused = Some(i);
                break;
            }
        }
    }
    assert_eq!(refused, Some(9), "the eleventh report is refused");
    // Another reporter is not limited by Bob's reports.
    let m = say(&mut alice_ws, &r.id, "y", "one more").await;
    s.client.create_report(&carol.access_token, &about_message(&m, "unkind")).await.unwrap();
    s.stop().await;
}

/// The case: a report by user id answered 201 or 404, so it told whether an id
/// exists. Only someone the reporter shares a room with can be reported (moderators and
/// supervisors: anyone); the answer for anyone else is the answer for no one at all.
async fn a_report_does_not_tell_whether_a_user_exists(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let moderator = s.staff(Role::Moderator).await;
    let r = room(&s, &admin).await;
    let (alice, _a) = member(&s, &r).await;
    let (bob, _b) = member(&s, &r).await;
    let stranger = s.young_person().await;
    let worker = s.staff(Role::DutyWorker).await;
    let nobody = UserId("01HZZZZZZZZZZZZZZZZZZZZZZZ".into());

    let missing = s.client.create_report(&bob.access_token, &about_user(&nobody, "x")).await.unwrap_err();
    assert_eq!(missing.status(), Some(404));
    for exists in [&stranger.user.id, &worker.user.id, &bob.user.id] {
        let e = s.client.create_report(&bob.access_token, &about_user(exists, "x")).await.unwrap_err();
        assert_eq!(e.to_string(), missing.to_string(), "an existing user {exists} looks like no one");
    }
    s.client.create_report(&bob.access_token, &about_user(&alice.user.id, "bullying me")).await.unwrap();
    // Once Alice leaves the room, Bob no longer sees her.
    s.client.leave_room(&alice.access_token, &r.id).await.unwrap();
    let gone = s.client.create_report(&bob.access_token, &about_user(&alice.user.id, "x")).await.unwrap_err();
    assert_eq!(gone.to_string(), missing.to_string());
    // Moderators can report anyone.
    s.client.create_report(&moderator.access_token, &about_user(&stranger.user.id, "spam")).await.unwrap();
    eventually(T, "both reports in the queue", || async {
        s.client.moderation_queue(&moderator.access_token).await.unwrap().items.len() == 2
    })
    .await;
    s.stop().await;
}

both_backends!(
    support_chat_messages_never_reach_moderators,
    moderator_reads_are_audited,
    reports_are_deduplicated_and_rate_limited,
    a_report_does_not_tell_whether_a_user_exists,
);
