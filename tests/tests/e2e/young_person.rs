//! What the young person's side of a support chat is promised, over the API: an honest wait
//! (no minute count when nobody is on duty, the rota's next shift instead), ending their own
//! chat (audited, the worker told, the staff record kept), a read receipt after a normal close
//! answered without an error, and a room's house rules on joining.

use std::time::Duration;

use talkzone_mobile_api::{
    AuditQuery, ClientFrame, CloseRequest, ConversationState, ConversationView, CreateConversationRequest,
    CreateRoomRequest, EndChatRequest, EndReason, PersonalInfoMode, Role, RoomModeration, ServerFrame, ShiftRequest,
    Staffing, TagsRequest, TokenResponse,
};
use talkzone_server::clock::rfc3339;
use talkzone_tests::{both_backends, Backend, TestServer};

const T: Duration = Duration::from_secs(10);

async fn open(s: &TestServer, yp: &TokenResponse) -> ConversationView {
    let req = CreateConversationRequest { topic: Some("home".into()), first_message: Some("is anyone there".into()) };
    s.client.open_conversation(&yp.access_token, &req).await.unwrap().1
}

fn status(e: talkzone_mobile_api::client::ClientError) -> u16 {
    match e {
        talkzone_mobile_api::client::ClientError::Api { status, .. } => status,
        other => panic!("expected an HTTP error, got {other}"),
    }
}

async fn nobody_on_duty_is_said_plainly_with_the_next_shift(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff(Role::DutyWorker).await;
    // On the rota from two hours from now, and later again tomorrow: the first is "next".
    let now = s.state().clock.now_ms();
    for (from_h, to_h) in [(26, 30), (2, 10)] {
        let req = ShiftRequest {
            user_id: worker.user.id.clone(),
            starts_at: rfc3339(now + from_h * 3_600_000),
            ends_at: rfc3339(now + to_h * 3_600_000),
        };
        s.client.add_shift(&admin.access_token, &req).await.unwrap();
    }
    let yp = s.young_person().await;
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.round_trip().await.unwrap();
    let conv = open(&s, &yp).await;
    assert_eq!(conv.queue_position, Some(1));
    assert_eq!(conv.staffing, Some(Staffing::NobodyOnDuty));
    assert_eq!(conv.estimated_wait_s, None, "no number when nobody is there to answer");
    let next = conv.next_on_duty_at.clone().expect("the rota's next shift");
    assert_eq!(next, rfc3339(now + 2 * 3_600_000), "the earliest shift to come");
    match ws.recv_until(T, |f| matches!(f, ServerFrame::Queue { .. })).await.unwrap() {
        ServerFrame::Queue { estimated_wait_s, staffing, next_on_duty_at, available_workers, .. } => {
            assert_eq!((estimated_wait_s, staffing, available_workers), (None, Staffing::NobodyOnDuty, 0));
            assert_eq!(next_on_duty_at.as_deref(), Some(next.as_str()));
        }
        _ => unreachable!(),
    }

    // The worker comes on duty and connects: now there is an estimate, and no shift to wait for.
    s.client.set_duty(&worker.access_token, true).await.unwrap();
    let mut desk = s.client.connect(&worker.access_token).await.unwrap();
    desk.round_trip().await.unwrap();
    let seen = s.client.conversation(&yp.access_token, &conv.id).await.unwrap();
    assert_eq!(seen.staffing, Some(Staffing::Available));
    assert_eq!(seen.estimated_wait_s, Some(0), "first in the queue with a free worker");
    assert_eq!(seen.next_on_duty_at, None);

    // Busy: the only worker is at capacity with another chat.
    let other = s.young_person().await;
    let theirs = open(&s, &other).await;
    s.client.accept(&worker.access_token, &theirs.id).await.unwrap();
    s.client
        .set_capacity(&admin.access_token, &worker.user.id, &talkzone_mobile_api::Capacity { capacity: 1 })
        .await
        .unwrap();
    let seen = s.client.conversation(&yp.access_token, &conv.id).await.unwrap();
    assert_eq!(seen.staffing, Some(Staffing::Busy));
    assert!(seen.estimated_wait_s.is_some_and(|w| w > 0), "{seen:?}");
    s.stop().await;
}

async fn a_young_person_ends_their_own_chat_and_the_worker_is_told(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let admin = s.staff(Role::YotAdmin).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp).await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let tags = TagsRequest { tags: vec!["housing".into()] };
    s.client.set_tags(&worker.access_token, &conv.id, &tags).await.unwrap();
    let mut desk = s.client.connect(&worker.access_token).await.unwrap();
    desk.subscribe(&conv.id, 0).await.unwrap();

    // Nobody else may end it: staff close with an outcome, another young person finds nothing.
    let req = EndChatRequest { reason: EndReason::Ended };
    let e = s.client.end_conversation(&worker.access_token, &conv.id, &req).await.unwrap_err();
    assert_eq!(status(e), 403);
    let stranger = s.young_person().await;
    let e = s.client.end_conversation(&stranger.access_token, &conv.id, &req).await.unwrap_err();
    assert_eq!(status(e), 404);

    let ended = s.client.end_conversation(&yp.access_token, &conv.id, &req).await.unwrap();
    assert_eq!(ended.state, ConversationState::Closed);
    assert_eq!(ended.outcome, None, "the outcome is the staff record, not shown to the young person");
    let told = desk
        .recv_until(T, |f| matches!(f, ServerFrame::Message(m) if m.conversation_id == conv.id && m.body.contains("ended the chat")))
        .await;
    assert!(told.is_ok(), "the worker reads in the chat that it was ended: {told:?}");
    let staff_view = s.client.conversation(&worker.access_token, &conv.id).await.unwrap();
    assert_eq!(staff_view.outcome.as_deref(), Some("young_person_left"));
    assert_eq!(staff_view.tags, vec!["housing".to_owned()], "the worker's tags are kept");
    let trail = s.client.audit_log(&admin.access_token, &AuditQuery { days: Some(1) }).await.unwrap();
    let closes: Vec<_> = trail
        .entries
        .iter()
        .filter(|e| e.action == "conversation_closed" && e.actor_id.as_ref() == Some(&yp.user.id))
        .collect();
    assert_eq!(closes.len(), 1, "{trail:?}");
    assert!(closes[0].details.as_deref().is_some_and(|d| d.contains("young_person_left")), "{closes:?}");
    let e = s.client.end_conversation(&yp.access_token, &conv.id, &req).await.unwrap_err();
    assert_eq!(status(e), 409, "ended once");

    // A quick exit ends a chat still waiting, so nobody accepts a chat with nobody there.
    let yp2 = s.young_person().await;
    let queued = open(&s, &yp2).await;
    let quick = EndChatRequest { reason: EndReason::QuickExit };
    s.client.end_conversation(&yp2.access_token, &queued.id, &quick).await.unwrap();
    let queue = s.client.list_conversations(&worker.access_token, Some(ConversationState::Queued)).await.unwrap();
    assert!(queue.conversations.iter().all(|c| c.id != queued.id), "gone from the queue");
    let e = s.client.accept(&worker.access_token, &queued.id).await.unwrap_err();
    assert!(matches!(status(e), 404 | 409));
    s.stop().await;
}

async fn a_read_receipt_after_a_normal_close_is_no_error(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp).await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.subscribe(&conv.id, 0).await.unwrap();
    let closed = s
        .client
        .close_conversation(&worker.access_token, &conv.id, &CloseRequest { outcome: "resolved".into(), tags: vec![] })
        .await
        .unwrap();
    // The closing message arrives after the close; the page marks it read.
    ws.send(&ClientFrame::Read { conversation_id: conv.id.clone(), seq: closed.last_seq }).await.unwrap();
    ws.send(&ClientFrame::Ping { nonce: Some(serde_json::json!("after-read")) }).await.unwrap();
    let answer = ws.recv_until(T, |f| matches!(f, ServerFrame::Error { .. } | ServerFrame::Pong { .. })).await.unwrap();
    assert!(matches!(answer, ServerFrame::Pong { .. }), "no error for reading a closed chat: {answer:?}");

    // Someone who never took part is still refused.
    let stranger = s.staff(Role::DutyWorker).await;
    let mut other = s.client.connect(&stranger.access_token).await.unwrap();
    other.send(&ClientFrame::Read { conversation_id: conv.id.clone(), seq: 1 }).await.unwrap();
    let refused = other.recv_until(T, |f| matches!(f, ServerFrame::Error { .. })).await.unwrap();
    assert!(matches!(refused, ServerFrame::Error { .. }), "{refused:?}");
    s.stop().await;
}

async fn a_room_shows_its_house_rules(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let req = CreateRoomRequest {
        topic: "Exams".into(),
        age_band: "13-15".into(),
        moderation: RoomModeration::Pre,
        personal_info: PersonalInfoMode::Redact,
    };
    let room = s.client.create_room(&admin.access_token, &req).await.unwrap();
    let yp = s.young_person().await;
    let joined = s.client.join_room(&yp.access_token, &room.id).await.unwrap();
    let rules = joined.room.expect("room details").house_rules;
    let all = rules.join(" ");
    assert!(all.contains("13-15"), "{all}");
    assert!(all.contains("before others see it"), "pre-moderation said as it is: {all}");
    assert!(all.contains("hidden automatically"), "redaction said as it is: {all}");
    s.stop().await;
}

/// The last worker's connection goes with no chat moving: the scheduler notices (by the
/// service clock, driven here) and the waiting young person is told nobody is on duty.
async fn a_worker_gone_quiet_turns_the_wait_honest_without_a_queue_change(backend: Backend) {
    use std::sync::Arc;
    use talkzone_server::clock::{Clock, ManualClock, SystemClock};
    use talkzone_server::jobs::{Job, Scheduler};
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).start().await;
    let worker = s.staff(Role::DutyWorker).await;
    let desk = s.client.connect(&worker.access_token).await.unwrap();
    s.client.set_duty(&worker.access_token, true).await.unwrap();
    let yp = s.young_person().await;
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.round_trip().await.unwrap();
    let conv = open(&s, &yp).await;
    assert_eq!(conv.staffing, Some(Staffing::Available));
    let mut scheduler = Scheduler::new();
    scheduler.run(s.state(), Job::DeskStaffing).await.unwrap();
    desk.close().await.unwrap();
    // The server records the disconnect as "last seen" when it gets to it (after the clock
    // moved, that is fresh again): move the clock on and look again until the push comes.
    let deadline = tokio::time::Instant::now() + T;
    loop {
        clock.advance_ms(talkzone_server::queue::PRESENCE_FRESH_MS + 1_000);
        scheduler.run(s.state(), Job::DeskStaffing).await.unwrap();
        let told = ws
            .recv_until(Duration::from_millis(300), |f| {
                matches!(f, ServerFrame::Queue { staffing: Staffing::NobodyOnDuty, estimated_wait_s: None, .. })
            })
            .await;
        if told.is_ok() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never told that nobody is there to answer");
    }
    s.stop().await;
}

both_backends!(
    a_worker_gone_quiet_turns_the_wait_honest_without_a_queue_change,
    nobody_on_duty_is_said_plainly_with_the_next_shift,
    a_young_person_ends_their_own_chat_and_the_worker_is_told,
    a_read_receipt_after_a_normal_close_is_no_error,
    a_room_shows_its_house_rules,
);
