//! Chats the young person stopped answering (docs/duty-desk.md, "Inactive chats"), on a
//! ManualClock driven through the scheduler's job: the worker is told once per silence, the
//! chat closes `no_response` only after the whole warning, with a message that the young
//! person can come back, freeing the worker's slot; an answer starts the count again; a chat
//! where the young person wrote last, or that waits in the queue, is never touched; and the
//! worker sees a quick exit, an ended chat, a staff close and no response as different.

use std::sync::Arc;
use std::time::Duration;

use talkzone_mobile_api::client::WsConnection;
use talkzone_mobile_api::{
    CloseRequest, ClosedReason, ConversationState, ConversationView, CreateConversationRequest, EndChatRequest,
    EndReason, Role, ServerFrame, TokenResponse,
};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_server::conversations::inactive::{self, InactiveRound, NO_RESPONSE, QUIET_NOTICE};
use talkzone_tests::{both_backends, Backend, TestServer};

const MIN: i64 = 60_000;

async fn open(s: &TestServer, yp: &TokenResponse, first: &str) -> ConversationView {
    let req = CreateConversationRequest { topic: None, first_message: Some(first.into()) };
    s.client.open_conversation(&yp.access_token, &req).await.unwrap().1
}

async fn quiet_notice(ws: &mut WsConnection) -> (String, String) {
    match ws
        .recv_until(Duration::from_secs(5), |f| matches!(f, ServerFrame::Notice { kind, .. } if kind == QUIET_NOTICE))
        .await
        .unwrap()
    {
        ServerFrame::Notice { message, conversation_id, .. } => (message, conversation_id.unwrap().0),
        other => panic!("{other:?}"),
    }
}

async fn round(s: &TestServer) -> InactiveRound {
    inactive::check(s.state()).await.unwrap()
}

async fn the_worker_is_told_then_the_chat_closes_no_response(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(|c| {
            // Tokens outlive the hours the clock is moved on (their expiry is tested elsewhere).
            c.access_token_ttl = Duration::from_secs(24 * 3600);
            c.returning.inactive_prompt_after = Duration::from_secs(10 * 60);
            c.returning.inactive_close_after = Duration::from_secs(20 * 60);
        })
        .start()
        .await;
    let worker = s.staff(Role::DutyWorker).await;
    let mut w = s.client.connect(&worker.access_token).await.unwrap();
    let yp = s.young_person().await;
    let conv = open(&s, &yp, "can I talk to someone").await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    // A queued chat and one where the young person wrote last are never touched.
    let waiting = open(&s, &s.young_person().await, "anyone there").await;
    let other_yp = s.young_person().await;
    let talking = open(&s, &other_yp, "hi").await;
    s.client.accept(&worker.access_token, &talking.id).await.unwrap();
    w.send_message(&talking.id, "t-1", "Hi, what's up?").await.unwrap();
    let mut o = s.client.connect(&other_yp.access_token).await.unwrap();
    o.send_message(&talking.id, "o-1", "just thinking, give me a minute").await.unwrap();

    w.send_message(&conv.id, "w-1", "Hi, I'm here. What's happening?").await.unwrap();
    assert_eq!(round(&s).await, InactiveRound::default(), "nobody is silent yet");
    clock.advance_ms(10 * MIN - 1_000);
    assert_eq!(round(&s).await, InactiveRound::default(), "not yet ten minutes");
    clock.advance_ms(1_000);
    assert_eq!(round(&s).await, InactiveRound { prompted: 1, closed: 0 }, "ten minutes: the worker is told");
    let (message, about) = quiet_notice(&mut w).await;
    assert_eq!(about, conv.id.0);
    assert!(message.contains("hasn't answered for 10 minutes") && message.contains("next 10 minutes"), "{message}");
    assert_eq!(round(&s).await, InactiveRound::default(), "told once per silence");

    // The young person answers: the count starts again from the worker's next message.
    let mut y = s.client.connect(&yp.access_token).await.unwrap();
    y.send_message(&conv.id, "y-1", "sorry, my mum came in").await.unwrap();
    clock.advance_ms(30 * MIN);
    assert_eq!(round(&s).await, InactiveRound::default(), "the young person wrote last");
    w.send_message(&conv.id, "w-2", "That's OK. Are you safe to talk now?").await.unwrap();
    clock.advance_ms(10 * MIN);
    assert_eq!(round(&s).await, InactiveRound { prompted: 1, closed: 0 }, "a new silence, a new prompt");
    quiet_notice(&mut w).await;
    clock.advance_ms(10 * MIN - 1_000);
    assert_eq!(round(&s).await, InactiveRound::default(), "not yet twenty minutes");
    clock.advance_ms(1_000);
    // Through the scheduler, as in service.
    talkzone_server::jobs::run_once(s.state()).await;

    let closed = s.client.conversation(&worker.access_token, &conv.id).await.unwrap();
    assert_eq!(closed.state, ConversationState::Closed);
    assert_eq!(closed.outcome.as_deref(), Some(NO_RESPONSE));
    assert_eq!(closed.closed_reason, Some(ClosedReason::NoResponse));
    let theirs = s.client.conversation(&yp.access_token, &conv.id).await.unwrap();
    assert_eq!((theirs.outcome, theirs.closed_reason), (None, None), "the staff record is staff's");
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    let last = page.messages.last().unwrap();
    assert!(last.body.contains("you can come back any time"), "{}", last.body);
    // The slot is free: the worker's chats are the one still talking.
    let assigned = s.client.list_conversations(&worker.access_token, Some(ConversationState::Assigned)).await.unwrap();
    let ids: Vec<_> = assigned.conversations.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids, vec![talking.id.clone()]);
    let still = s.client.conversation(&worker.access_token, &waiting.id).await.unwrap();
    assert_eq!(still.state, ConversationState::Queued);
    assert_eq!(round(&s).await, InactiveRound::default(), "closed once");
    s.stop().await;
}

async fn the_worker_sees_how_a_chat_ended(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let mut reasons = Vec::new();
    for how in ["quick_exit", "ended", "staff"] {
        let yp = s.young_person().await;
        let conv = open(&s, &yp, "hello").await;
        s.client.accept(&worker.access_token, &conv.id).await.unwrap();
        match how {
            "quick_exit" | "ended" => {
                let reason = if how == "ended" { EndReason::Ended } else { EndReason::QuickExit };
                s.client.end_conversation(&yp.access_token, &conv.id, &EndChatRequest { reason }).await.unwrap();
            }
            _ => {
                let req = CloseRequest { outcome: "resolved".into(), tags: vec![] };
                s.client.close_conversation(&worker.access_token, &conv.id, &req).await.unwrap();
            }
        }
        reasons.push(s.client.conversation(&worker.access_token, &conv.id).await.unwrap().closed_reason);
    }
    assert_eq!(reasons, vec![Some(ClosedReason::QuickExit), Some(ClosedReason::Ended), Some(ClosedReason::Staff)]);
    s.stop().await;
}

both_backends!(the_worker_is_told_then_the_chat_closes_no_response, the_worker_sees_how_a_chat_ended);
