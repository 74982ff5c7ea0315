//! A support chat end to end: open, queue, accept (and the accept race), messages both ways
//! with acks after storage, idempotent resend, several devices, resume after a dropped
//! connection, typing and read markers, history paging.

use std::time::Duration;

use talkzone_mobile_api::client::ClientError;
use talkzone_mobile_api::{
    AckStatus, ClientFrame, ConversationState, CreateConversationRequest, ErrorCode, MessageKind, Role, ServerFrame,
};
use talkzone_tests::{both_backends, Backend, TestServer};

const T: Duration = Duration::from_secs(10);

fn ack_seq(f: &ServerFrame) -> i64 {
    match f {
        ServerFrame::Ack { seq: Some(s), status: AckStatus::Delivered, .. } => *s,
        other => panic!("expected a delivered ack, got {other:?}"),
    }
}

async fn next_message(ws: &mut talkzone_mobile_api::client::WsConnection) -> talkzone_mobile_api::MessageView {
    match ws.recv_until(T, |f| matches!(f, ServerFrame::Message(_))).await.expect("a message") {
        ServerFrame::Message(m) => m,
        _ => unreachable!(),
    }
}

async fn chat_between_young_person_and_worker(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    assert_eq!(yp.user.role, Role::YoungPerson);
    assert_eq!(yp.user.display_name.split(' ').count(), 3, "friendly name: {}", yp.user.display_name);

    let req =
        CreateConversationRequest { topic: Some("school".into()), first_message: Some("hi, is anyone there?".into()) };
    let (status, conv) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    assert_eq!(status.as_u16(), 201);
    assert_eq!(conv.state, ConversationState::Queued);
    assert_eq!(conv.queue_position, Some(1));
    assert!(conv.estimated_wait_s.is_some());
    assert_eq!(conv.last_seq, 1, "first_message is stored as seq 1");

    // A second open returns the same conversation with 200.
    let (status, again) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    assert_eq!(status.as_u16(), 200);
    assert_eq!(again.id, conv.id);
    assert_eq!(again.last_seq, 1, "retrying the POST does not store the first message twice");

    // The worker sees it in the queue and accepts.
    let worker = s.staff(Role::DutyWorker).await;
    let queued = s.client.list_conversations(&worker.access_token, Some(ConversationState::Queued)).await.unwrap();
    assert!(queued.conversations.iter().any(|c| c.id == conv.id));

    let mut yp_ws = s.client.connect(&yp.access_token).await.unwrap();
    let (backlog, last) = yp_ws.subscribe(&conv.id, 0).await.unwrap();
    assert_eq!(backlog.len(), 1);
    assert_eq!(backlog[0].body, "hi, is anyone there?");
    assert_eq!(last, 1);

    let accepted = s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    assert_eq!(accepted.state, ConversationState::Assigned);
    assert_eq!(accepted.assigned_to.as_ref().unwrap().id, worker.user.id);

    // The young person is told: a system message (seq 2) and the conversation's new state.
    let sys = next_message(&mut yp_ws).await;
    assert_eq!((sys.seq, sys.kind), (2, MessageKind::System));
    assert!(sys.sender.is_none());
    yp_ws
        .recv_until(T, |f| matches!(f, ServerFrame::Conversation(c) if c.state == ConversationState::Assigned))
        .await
        .expect("conversation frame");

    let mut w_ws = s.client.connect(&worker.access_token).await.unwrap();
    let (backlog, last) = w_ws.subscribe(&conv.id, 0).await.unwrap();
    assert_eq!(backlog.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(last, 2);

    let ack = w_ws.send_message(&conv.id, "w-1", "Hello, I'm here. What's happening?").await.unwrap();
    assert_eq!(ack_seq(&ack), 3);
    let m = next_message(&mut yp_ws).await;
    assert_eq!(m.seq, 3);
    assert_eq!(m.sender.as_ref().unwrap().id, worker.user.id);
    assert_eq!(m.client_msg_id.as_deref(), Some("w-1"));

    let ack = yp_ws.send_message(&conv.id, "y-1", "<script>alert(1)</script> my mum's boyfriend").await.unwrap();
    assert_eq!(ack_seq(&ack), 4);
    // The worker's own message comes back to its subscribed connection first.
    assert_eq!(next_message(&mut w_ws).await.seq, 3);
    let m = next_message(&mut w_ws).await;
    assert_eq!(m.seq, 4);
    assert_eq!(m.body, "<script>alert(1)</script> my mum's boyfriend", "stored and returned as plain text");

    // History over REST, paged.
    let page = s.client.messages(&yp.access_token, &conv.id, 0, Some(3)).await.unwrap();
    assert_eq!(page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(page.next_after_seq, 3);
    let page = s.client.messages(&yp.access_token, &conv.id, page.next_after_seq, Some(3)).await.unwrap();
    assert_eq!(page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![4]);
    let page = s.client.messages(&yp.access_token, &conv.id, 4, None).await.unwrap();
    assert!(page.messages.is_empty());
    assert_eq!(page.next_after_seq, 4);

    // Typing reaches the other side only; read markers are stored and shown.
    yp_ws.send(&ClientFrame::Typing { conversation_id: conv.id.clone() }).await.unwrap();
    let f = w_ws.recv_until(T, |f| matches!(f, ServerFrame::Typing { .. })).await.unwrap();
    assert!(matches!(f, ServerFrame::Typing { user, .. } if user.id == yp.user.id));
    w_ws.send(&ClientFrame::Read { conversation_id: conv.id.clone(), seq: 4 }).await.unwrap();
    let f = yp_ws.recv_until(T, |f| matches!(f, ServerFrame::Read { .. })).await.unwrap();
    assert!(matches!(f, ServerFrame::Read { seq: 4, ref user_id, .. } if *user_id == worker.user.id));
    // A lower marker never lowers the stored one.
    w_ws.send(&ClientFrame::Read { conversation_id: conv.id.clone(), seq: 2 }).await.unwrap();
    let f = yp_ws.recv_until(T, |f| matches!(f, ServerFrame::Read { .. })).await.unwrap();
    assert!(matches!(f, ServerFrame::Read { seq: 4, .. }), "{f:?}");

    // ping/pong with a nonce.
    yp_ws.send(&ClientFrame::Ping { nonce: Some(serde_json::json!("n1")) }).await.unwrap();
    let f = yp_ws.recv_until(T, |f| matches!(f, ServerFrame::Pong { .. })).await.unwrap();
    assert_eq!(f, ServerFrame::Pong { nonce: Some(serde_json::json!("n1")) });
    s.stop().await;
}

async fn accept_race_has_one_winner(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let (_, conv) = s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap();
    let mut workers = Vec::new();
    for _ in 0..6 {
        workers.push(s.staff(Role::DutyWorker).await);
    }
    let mut tasks = Vec::new();
    for w in &workers {
        let client = s.client.clone();
        let token = w.access_token.clone();
        let id = conv.id.clone();
        tasks.push(tokio::spawn(async move { client.accept(&token, &id).await }));
    }
    let mut won = 0;
    let mut lost = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(c) => {
                won += 1;
                assert_eq!(c.state, ConversationState::Assigned);
            }
            Err(e) => {
                assert_eq!(e.status(), Some(409), "{e}");
                assert_eq!(e.code(), Some(ErrorCode::AlreadyAssigned));
                lost += 1;
            }
        }
    }
    assert_eq!((won, lost), (1, 5));
    // Exactly one announcement was stored.
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    assert_eq!(page.messages.len(), 1);
    // The same race over WebSocket frames, on a new conversation.
    let yp2 = s.young_person().await;
    let (_, conv2) =
        s.client.open_conversation(&yp2.access_token, &CreateConversationRequest::default()).await.unwrap();
    let mut sockets = Vec::new();
    for w in workers.iter().take(3) {
        sockets.push(s.client.connect(&w.access_token).await.unwrap());
    }
    for ws in sockets.iter_mut() {
        ws.send(&ClientFrame::Accept { conversation_id: conv2.id.clone() }).await.unwrap();
    }
    let mut outcomes = Vec::new();
    for ws in sockets.iter_mut() {
        let f = ws
            .recv_until(T, |f| {
                matches!(f, ServerFrame::Conversation(c) if c.id == conv2.id)
                    || matches!(f, ServerFrame::Error { reference: Some(r), .. } if r == "accept")
            })
            .await
            .unwrap();
        outcomes.push(f);
    }
    let wins = outcomes.iter().filter(|f| matches!(f, ServerFrame::Conversation(_))).count();
    let losses =
        outcomes.iter().filter(|f| matches!(f, ServerFrame::Error { code: ErrorCode::AlreadyAssigned, .. })).count();
    assert_eq!((wins, losses), (1, 2), "{outcomes:?}");
    s.stop().await;
}

async fn resend_is_idempotent(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let (_, conv) = s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap();
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    let first = ws.send_message(&conv.id, "same-id", "please help").await.unwrap();
    // Resent on the same connection, on another connection, and with a different body: the
    // same ack each time, one stored message.
    let again = ws.send_message(&conv.id, "same-id", "please help").await.unwrap();
    assert_eq!(first, again);
    let mut other = s.client.connect(&yp.access_token).await.unwrap();
    let third = other.send_message(&conv.id, "same-id", "different text").await.unwrap();
    assert_eq!(first, third);
    // Concurrent resends from two connections.
    other
        .send(&ClientFrame::Send { conversation_id: conv.id.clone(), client_msg_id: "race".into(), body: "a".into() })
        .await
        .unwrap();
    ws.send(&ClientFrame::Send { conversation_id: conv.id.clone(), client_msg_id: "race".into(), body: "a".into() })
        .await
        .unwrap();
    let a = other
        .recv_until(T, |f| matches!(f, ServerFrame::Ack { client_msg_id, .. } if client_msg_id == "race"))
        .await
        .unwrap();
    let b = ws
        .recv_until(T, |f| matches!(f, ServerFrame::Ack { client_msg_id, .. } if client_msg_id == "race"))
        .await
        .unwrap();
    assert_eq!(a, b);
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    assert_eq!(page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2], "no gaps, no duplicates");
    assert_eq!(page.messages[0].body, "please help");
    s.stop().await;
}

async fn every_device_of_a_user_receives(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let (_, conv) = s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap();
    let worker = s.staff(Role::DutyWorker).await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut phone = s.client.connect(&yp.access_token).await.unwrap();
    let mut laptop = s.client.connect(&yp.access_token).await.unwrap();
    phone.subscribe(&conv.id, 0).await.unwrap();
    laptop.subscribe(&conv.id, 0).await.unwrap();
    let mut w = s.client.connect(&worker.access_token).await.unwrap();
    for i in 0..5 {
        ack_seq(&w.send_message(&conv.id, &format!("w{i}"), &format!("message {i}")).await.unwrap());
    }
    for dev in [&mut phone, &mut laptop] {
        let mut seqs = Vec::new();
        while seqs.len() < 5 {
            seqs.push(next_message(dev).await.seq);
        }
        assert_eq!(seqs, vec![2, 3, 4, 5, 6]);
    }
    // The sender's own message reaches the sender's other device too.
    phone.send_message(&conv.id, "p1", "from my phone").await.unwrap();
    let m = next_message(&mut laptop).await;
    assert_eq!((m.seq, m.body.as_str()), (7, "from my phone"));
    s.stop().await;
}

async fn resume_after_a_dropped_connection(backend: Backend) {
    // 21 messages from one worker in a burst: above the default per-user burst.
    let s = TestServer::builder(backend).config(|c| c.limits.user_messages_burst = 100).start().await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let (_, conv) = s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap();
    let worker = s.staff(Role::DutyWorker).await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut w = s.client.connect(&worker.access_token).await.unwrap();
    let mut yp_ws = s.client.connect(&yp.access_token).await.unwrap();
    yp_ws.subscribe(&conv.id, 0).await.unwrap();
    let mut last_seen = 1;
    for i in 0..10 {
        ack_seq(&w.send_message(&conv.id, &format!("a{i}"), &format!("a{i}")).await.unwrap());
    }
    for _ in 0..4 {
        last_seen = next_message(&mut yp_ws).await.seq;
    }
    assert_eq!(last_seen, 5);
    // The phone loses signal mid-stream (no close handshake) while the worker goes on.
    yp_ws.abort();
    for i in 0..10 {
        ack_seq(&w.send_message(&conv.id, &format!("b{i}"), &format!("b{i}")).await.unwrap());
    }
    let mut yp_ws = s.client.connect(&yp.access_token).await.unwrap();
    let (backlog, last) = yp_ws.subscribe(&conv.id, last_seen).await.unwrap();
    let seqs: Vec<i64> = backlog.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (6..=21).collect::<Vec<_>>(), "exactly the missing ones, in order");
    assert_eq!(last, 21);
    // Live messages continue with the next seq, no duplicates.
    assert_eq!(ack_seq(&w.send_message(&conv.id, "c0", "c0").await.unwrap()), 22);
    assert_eq!(next_message(&mut yp_ws).await.seq, 22);
    s.stop().await;
}

async fn concurrent_senders_get_gap_free_ordered_seqs(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let (_, conv) = s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap();
    let worker = s.staff(Role::DutyWorker).await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut watcher = s.client.connect(&yp.access_token).await.unwrap();
    watcher.subscribe(&conv.id, 0).await.unwrap();
    let mut tasks = Vec::new();
    for (token, prefix) in [(yp.access_token.clone(), "y"), (worker.access_token.clone(), "w")] {
        let client = s.client.clone();
        let id = conv.id.clone();
        tasks.push(tokio::spawn(async move {
            let mut ws = client.connect(&token).await.unwrap();
            for i in 0..15 {
                ack_seq(&ws.send_message(&id, &format!("{prefix}{i}"), "x").await.unwrap());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut seqs = Vec::new();
    while seqs.len() < 30 {
        seqs.push(next_message(&mut watcher).await.seq);
    }
    assert_eq!(seqs, (2..=31).collect::<Vec<_>>());
    s.stop().await;
}

async fn closed_socket_reports_its_code_on_shutdown(backend: Backend) {
    let s = TestServer::start(backend).await;
    let yp = s.young_person().await;
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.send(&ClientFrame::Ping { nonce: None }).await.unwrap();
    ws.recv_timeout(T).await.unwrap();
    s.state().shutdown.cancel();
    match ws.recv_timeout(T).await {
        Err(ClientError::Closed(Some((code, _)))) => assert_eq!(code, 1012),
        other => panic!("expected close 1012, got {other:?}"),
    }
    s.stop().await;
}

async fn staff_see_the_moderation_verdict_young_people_do_not(backend: Backend) {
    let s = TestServer::start(backend).await;
    let yp = s.young_person().await;
    let (_, conv) = s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap();
    let worker = s.staff(Role::DutyWorker).await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut yp_ws = s.client.connect(&yp.access_token).await.unwrap();
    yp_ws.subscribe(&conv.id, 0).await.unwrap();
    let mut w_ws = s.client.connect(&worker.access_token).await.unwrap();
    w_ws.subscribe(&conv.id, 0).await.unwrap();
    // In a support chat nothing is held or redacted, however risky: the worker must see it.
    let text = "i want to kill myself tonight, my address is 12 Station Road";
    let ack = yp_ws.send_message(&conv.id, "risk", text).await.unwrap();
    assert!(matches!(ack, ServerFrame::Ack { status: AckStatus::Delivered, .. }), "{ack:?}");
    let for_worker = next_message(&mut w_ws).await;
    assert_eq!(for_worker.body, text);
    let verdict = for_worker.moderation.expect("staff see the verdict");
    assert!(verdict.severity == "critical" || verdict.severity == "high", "{verdict:?}");
    assert!(verdict.labels.iter().any(|l| l == "suicide"), "{verdict:?}");
    assert!(!verdict.flags.is_empty());
    let for_yp = next_message(&mut yp_ws).await;
    assert_eq!(for_yp.body, text);
    assert!(for_yp.moderation.is_none(), "young people never get verdicts");
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    assert!(page.messages.iter().all(|m| m.moderation.is_none()));
    let page = s.client.messages(&worker.access_token, &conv.id, 0, None).await.unwrap();
    assert!(page.messages.iter().any(|m| m.moderation.as_ref().is_some_and(|v| v.severity != "none")));
    s.stop().await;
}

both_backends!(
    staff_see_the_moderation_verdict_young_people_do_not,
    chat_between_young_person_and_worker,
    accept_race_has_one_winner,
    resend_is_idempotent,
    every_device_of_a_user_receives,
    resume_after_a_dropped_connection,
    concurrent_senders_get_gap_free_ordered_seqs,
    closed_socket_reports_its_code_on_shutdown,
);
