//! The duty desk end to end: risk-first queue order with live reordering, the message at an
//! empty desk, escalations (automatic and raised by a worker) with acknowledgement, actions,
//! resolution and audit, deadline re-escalation under a paused clock, after a restart and with
//! two nodes (exactly once, with the on-call webhook), assignment timeouts, transfer, requeue,
//! close with an outcome, private notes, and who may do each.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use talkzone_mobile_api::client::{ClientError, WsConnection};
use talkzone_mobile_api::{
    AuditQuery, Capacity, ClientFrame, CloseRequest, ConversationId, ConversationListQuery, ConversationState,
    ConversationView, CreateConversationRequest, EscalationActionRequest, EscalationList, EscalationListQuery,
    EscalationOverdueAlert, EscalationView, MessageKind, NoteRequest, RaiseEscalationRequest, RequeueRequest,
    ResolveEscalationRequest, Role, RotaQuery, ServerFrame, ShiftRequest, TokenResponse, TransferRequest,
};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_server::jobs;
use talkzone_server::model::AuditAction;
use talkzone_tests::{both_backends, call, eventually, Backend, TestServer};

const T: Duration = Duration::from_secs(10);

async fn open(s: &TestServer, yp: &TokenResponse, first: Option<&str>) -> ConversationView {
    let req = CreateConversationRequest { topic: None, first_message: first.map(str::to_owned) };
    s.client.open_conversation(&yp.access_token, &req).await.unwrap().1
}

fn raise(severity: &str, reason: &str) -> RaiseEscalationRequest {
    RaiseEscalationRequest { severity: severity.into(), reason: reason.into() }
}

fn close(outcome: &str) -> CloseRequest {
    CloseRequest { outcome: outcome.into(), tags: Vec::new() }
}

/// Every scheduled job of both nodes, now and at once (each node's own scheduler runs too).
async fn both_run_once(a: &TestServer, b: &TestServer) {
    tokio::join!(jobs::run_once(a.state()), jobs::run_once(b.state()));
}

async fn escalation_frame(ws: &mut WsConnection, pred: impl Fn(&EscalationView) -> bool) -> EscalationView {
    match ws.recv_until(T, |f| matches!(f, ServerFrame::Escalation(e) if pred(e))).await.expect("escalation frame") {
        ServerFrame::Escalation(e) => e,
        _ => unreachable!(),
    }
}

/// A webhook receiver standing in for the on-call contact's system.
async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let r = received.clone();
    let app = axum::Router::new().route(
        "/oncall",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let r = r.clone();
            async move {
                r.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/oncall"), received)
}

async fn queue_is_risk_first_and_reorders_live(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff(Role::DutyWorker).await;
    let mut watch = s.client.connect(&worker.access_token).await.unwrap();
    watch.send(&ClientFrame::QueueWatch).await.unwrap();
    watch.recv_until(T, |f| matches!(f, ServerFrame::QueueSnapshot { .. })).await.unwrap();
    let a = s.young_person().await;
    let b = s.young_person().await;
    let c = s.young_person().await;
    let ca = open(&s, &a, Some("hi, can i ask something about my court date")).await;
    let cb = open(&s, &b, Some("hello")).await;
    let cc = open(&s, &c, Some("hey")).await;
    let ids = |list: &[ConversationView]| list.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    let queued = s.client.list_conversations(&worker.access_token, Some(ConversationState::Queued)).await.unwrap();
    assert_eq!(
        ids(&queued.conversations),
        vec![ca.id.clone(), cb.id.clone(), cc.id.clone()],
        "waiting time when risk is equal"
    );

    // B, waiting, says something risky: B moves to the front at once, and everyone watching hears.
    let mut b_ws = s.client.connect(&b.access_token).await.unwrap();
    // Sent without waiting for the ack: the position may be told before the ack comes.
    let frame = ClientFrame::Send {
        conversation_id: cb.id.clone(),
        client_msg_id: "r1".into(),
        body: "i've got pills saved up and i'm going to take them all tonight".into(),
    };
    b_ws.send(&frame).await.unwrap();
    let f = watch
        .recv_until(T, |f| matches!(f, ServerFrame::QueueChanged { entries } if entries.first().is_some_and(|e| e.conversation_id == cb.id)))
        .await
        .expect("live reorder");
    let ServerFrame::QueueChanged { entries } = f else { unreachable!() };
    assert!(entries[0].risk == "critical" || entries[0].risk == "high", "{entries:?}");
    assert_eq!(entries.iter().map(|e| e.priority).collect::<Vec<_>>(), vec![1, 2, 3]);
    let f = b_ws.recv_until(T, |f| matches!(f, ServerFrame::Queue { position: 1, .. })).await;
    assert!(f.is_ok(), "the young person is told their new position");
    let queued = s.client.list_conversations(&worker.access_token, Some(ConversationState::Queued)).await.unwrap();
    assert_eq!(ids(&queued.conversations), vec![cb.id.clone(), ca.id.clone(), cc.id.clone()]);
    let pos = s.client.conversation(&a.access_token, &ca.id).await.unwrap().queue_position;
    assert_eq!(pos, Some(2));
    s.stop().await;
}

async fn an_empty_desk_says_where_to_get_help_now(backend: Backend) {
    let s = TestServer::start(backend).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, Some("is anyone there")).await;
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    let system: Vec<_> = page.messages.iter().filter(|m| m.kind == MessageKind::System).collect();
    assert_eq!(system.len(), 1, "{page:?}");
    for must in ["999", "Childline", "0800 1111", "116 123", "85258", "leave a message"] {
        assert!(system[0].body.contains(must), "missing {must}: {}", system[0].body);
    }
    assert_eq!(conv.queue_position, Some(1));
    // With a worker on duty and connected, nobody gets that message.
    let worker = s.staff(Role::DutyWorker).await;
    s.client.set_duty(&worker.access_token, true).await.unwrap();
    let mut w = s.client.connect(&worker.access_token).await.unwrap();
    w.round_trip().await.unwrap();
    let yp2 = s.young_person().await;
    let conv2 = open(&s, &yp2, Some("hello")).await;
    let page = s.client.messages(&yp2.access_token, &conv2.id, 0, None).await.unwrap();
    assert!(page.messages.iter().all(|m| m.kind != MessageKind::System), "{page:?}");
    s.stop().await;
}

async fn escalations_reach_supervisors_and_are_audited(backend: Backend) {
    let s = TestServer::start(backend).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let other_supervisor = s.staff(Role::Supervisor).await;
    let worker = s.staff(Role::DutyWorker).await;
    let mut sup_ws = s.client.connect(&supervisor.access_token).await.unwrap();
    let mut worker_ws = s.client.connect(&worker.access_token).await.unwrap();
    sup_ws.round_trip().await.unwrap();
    worker_ws.round_trip().await.unwrap();
    let yp = s.young_person().await;
    let conv = open(&s, &yp, None).await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut yp_ws = s.client.connect(&yp.access_token).await.unwrap();
    yp_ws.subscribe(&conv.id, 0).await.unwrap();

    // Automatic: a critical message raises one in the same transaction.
    yp_ws.send_message(&conv.id, "c1", "i'm going to kill myself tonight, i've got the rope ready").await.unwrap();
    let auto = escalation_frame(&mut sup_ws, |e| e.source == "moderation").await;
    assert_eq!(auto.conversation_id, conv.id);
    assert!(auto.severity == "critical" || auto.severity == "high", "{auto:?}");
    assert_eq!(auto.state, "open");
    assert!(auto.message_id.is_some());
    // The young person is told, in plain words, that a supervisor may read the chat; they never
    // get escalation frames.
    let notice = yp_ws
        .recv_until(
            T,
            |f| matches!(f, ServerFrame::Message(m) if m.kind == MessageKind::System && m.body.contains("supervisor")),
        )
        .await;
    assert!(notice.is_ok());

    // Raised by the worker.
    let raised = s
        .client
        .raise_escalation(&worker.access_token, &conv.id, &raise("high", "mentions an older boyfriend picking her up"))
        .await
        .unwrap();
    assert_eq!((raised.source.as_str(), raised.state.as_str()), ("worker", "open"));
    escalation_frame(&mut sup_ws, |e| e.id == raised.id).await;
    // A frame that must not come: nothing to poll for, so the worker's socket gets a while.
    assert!(
        tokio::time::timeout(
            Duration::from_millis(300),
            worker_ws.recv_until(T, |f| matches!(f, ServerFrame::Escalation(_)))
        )
        .await
        .is_err(),
        "escalation frames go to supervisors only"
    );

    // Only supervisors acknowledge; one wins.
    let e = s.client.acknowledge_escalation(&worker.access_token, &raised.id).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    let acked = s.client.acknowledge_escalation(&supervisor.access_token, &raised.id).await.unwrap();
    assert_eq!(acked.state, "acknowledged");
    assert_eq!(acked.acknowledged_by.as_ref(), Some(&supervisor.user.id));
    let e = s.client.acknowledge_escalation(&other_supervisor.access_token, &raised.id).await.unwrap_err();
    assert_eq!(e.status(), Some(409));
    let action =
        EscalationActionRequest { action: "mash_referral".into(), note: Some("referred to MASH 14:05".into()) };
    let with_action = s.client.add_escalation_action(&supervisor.access_token, &raised.id, &action).await.unwrap();
    assert_eq!(with_action.actions.len(), 1);
    let outcome = ResolveEscalationRequest { outcome: "referred to children's social care".into(), note: None };
    let resolved = s.client.resolve_escalation(&supervisor.access_token, &raised.id, &outcome).await.unwrap();
    assert_eq!(resolved.state, "resolved");
    let trail = s.client.escalation_audit(&supervisor.access_token, &raised.id).await.unwrap();
    let actions: Vec<&str> = trail.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["escalation_raised", "escalation_acknowledged", "escalation_action", "escalation_resolved"]
    );
    assert!(trail.entries[1..].iter().all(|e| e.actor_id.as_ref() == Some(&supervisor.user.id)));

    // Young people and workers cannot read escalations.
    let query = |state: Option<&str>, limit: Option<u32>, offset: Option<u32>| EscalationListQuery {
        state: state.map(str::to_owned),
        limit,
        offset,
    };
    for who in [&yp, &worker] {
        let e = s.client.list_escalations(&who.access_token, &query(None, None, None)).await.unwrap_err();
        assert_eq!(e.status(), Some(403));
    }
    let open_list =
        s.client.list_escalations(&supervisor.access_token, &query(Some("open"), None, None)).await.unwrap();
    assert!(open_list.escalations.iter().any(|e| e.id == auto.id));

    // Pages, newest first (extension): two escalations in pages of one.
    let (client, token) = (&s.client, &supervisor.access_token);
    let get = |limit: Option<u32>, offset: Option<u32>| {
        let q = query(None, limit, offset);
        async move { client.list_escalations(token, &q).await }
    };
    let first = get(Some(1), None).await.unwrap();
    assert_eq!(first.escalations.iter().map(|e| &e.id).collect::<Vec<_>>(), vec![&raised.id]);
    assert_eq!(first.next_offset, Some(1));
    let last = get(Some(1), Some(1)).await.unwrap();
    assert_eq!(last.escalations.iter().map(|e| &e.id).collect::<Vec<_>>(), vec![&auto.id]);
    assert_eq!(last.next_offset, None, "the last page says so");
    assert_eq!(get(None, None).await.unwrap().escalations.len(), 2);
    for bad in [0, 501] {
        assert_eq!(get(Some(bad), None).await.unwrap_err().status(), Some(422), "limit={bad}");
    }
    // By hand: a limit that is not a number, which the typed query cannot carry.
    let e = call(&s.client, Method::GET, "/v1/escalations?limit=x", Some(&supervisor.access_token), json!(null))
        .await
        .json::<EscalationList>()
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    s.stop().await;
}

async fn deadlines_reescalate_once_with_a_paused_clock_a_restart_and_two_nodes(backend: Backend) {
    let (url, received) = webhook().await;
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let u1 = url.clone();
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(move |c| c.desk.oncall_webhook_url = Some(u1))
        .start()
        .await;
    let supervisor = s.staff(Role::Supervisor).await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, None).await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();

    // A second node on the same database, with the same clock: both schedulers run.
    let u2 = url.clone();
    let node2 =
        s.another_node().clock(clock.clone()).config(move |c| c.desk.oncall_webhook_url = Some(u2)).start().await;
    // These two nodes share no broker, so each alerts only its own connections: a supervisor
    // is connected to each.
    let mut sup_ws = s.client.connect(&supervisor.access_token).await.unwrap();
    let mut sup_ws2 = node2.client.connect(&supervisor.access_token).await.unwrap();
    for ws in [&mut sup_ws, &mut sup_ws2] {
        ws.send(&ClientFrame::Ping { nonce: None }).await.unwrap();
        ws.recv_until(T, |f| matches!(f, ServerFrame::Pong { .. })).await.unwrap();
    }
    // Raised with a supervisor connected: on-call hears of it at its deadline, not at once.
    let raised = s
        .client
        .raise_escalation(&worker.access_token, &conv.id, &raise("critical", "says someone is outside with a knife"))
        .await
        .unwrap();

    clock.advance_ms(119_000);
    // Nothing must happen: every job of both nodes runs now, a second before the deadline
    // (the deadline is in the database, so no tick of either scheduler can see it due yet).
    both_run_once(&s, &node2).await;
    assert!(received.lock().unwrap().is_empty(), "not before the deadline (2 minutes for critical)");
    let e = s.client.escalation(&supervisor.access_token, &raised.id).await.unwrap();
    assert!(!e.reescalated, "not before the deadline: {e:?}");
    clock.advance_ms(2_000);
    // Both nodes at once, racing each other (and their own schedulers) for the same deadline.
    both_run_once(&s, &node2).await;
    let id = raised.id.clone();
    let overdue = tokio::select! {
        e = escalation_frame(&mut sup_ws, |e| e.id == id && e.reescalated) => e,
        e = escalation_frame(&mut sup_ws2, |e| e.id == id && e.reescalated) => e,
    };
    assert!(overdue.overdue);
    eventually(T, "the on-call webhook", || async { !received.lock().unwrap().is_empty() }).await;
    // No second alert, from either node: every job of both runs again, after the first alert.
    both_run_once(&s, &node2).await;
    {
        let got = received.lock().unwrap();
        assert_eq!(got.len(), 1, "exactly once across two nodes: {got:?}");
        let alert: EscalationOverdueAlert =
            serde_json::from_value(got[0].clone()).expect("the alert's documented shape");
        assert_eq!(
            (alert.kind.as_str(), alert.escalation_id.as_str()),
            ("talkzone.escalation.overdue", raised.id.as_str())
        );
        assert_eq!((alert.conversation_id, alert.deadline_at), (conv.id.clone(), raised.deadline_at.clone()));
    }
    let trail = s.client.escalation_audit(&supervisor.access_token, &raised.id).await.unwrap();
    assert_eq!(trail.entries.iter().filter(|e| e.action == "escalation_reescalated").count(), 1);
    // Acknowledged now, or its chain would alert again every 2 minutes below.
    s.client.acknowledge_escalation(&supervisor.access_token, &raised.id).await.unwrap();

    // After a restart: a deadline set before the node stopped still fires.
    let second = s
        .client
        .raise_escalation(&worker.access_token, &conv.id, &raise("medium", "follow up on school worries"))
        .await
        .unwrap();
    node2.stop().await;
    let survivor = s
        .another_node()
        .clock(clock.clone())
        .config({
            let u = url.clone();
            move |c| c.desk.oncall_webhook_url = Some(u)
        })
        .start()
        .await;
    s.stop().await;
    clock.advance_ms(3_600_000 + 1_000);
    jobs::run_once(survivor.state()).await;
    eventually(T, "the restarted node's re-escalation", || async { received.lock().unwrap().len() == 2 }).await;
    assert_eq!(received.lock().unwrap()[1]["escalation_id"], json!(second.id));
    survivor.client.acknowledge_escalation(&supervisor.access_token, &second.id).await.unwrap();
    // An acknowledged escalation never re-escalates.
    let third = survivor.client.raise_escalation(&worker.access_token, &conv.id, &raise("high", "x")).await.unwrap();
    survivor.client.acknowledge_escalation(&supervisor.access_token, &third.id).await.unwrap();
    clock.advance_ms(3_600_000);
    // It must not fire: every job runs now, past its deadline.
    jobs::run_once(survivor.state()).await;
    let e = survivor.client.escalation(&supervisor.access_token, &third.id).await.unwrap();
    assert!(!e.reescalated, "{e:?}");
    assert_eq!(received.lock().unwrap().len(), 2);
    survivor.stop().await;
}

async fn unanswered_assignments_return_to_the_queue(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).start().await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, Some("hi")).await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    // A second chat the worker does answer in time.
    let yp2 = s.young_person().await;
    let conv2 = open(&s, &yp2, Some("hey")).await;
    s.client.accept(&worker.access_token, &conv2.id).await.unwrap();
    let mut w = s.client.connect(&worker.access_token).await.unwrap();
    w.send_message(&conv2.id, "reply", "Hi, I'm here").await.unwrap();

    clock.advance_ms(91_000);
    // Every job runs now; the node's own scheduler may get there first, so wait for the effect.
    jobs::run_once(s.state()).await;
    let c = eventually(T, "the chat to be requeued", || async {
        let c = s.client.conversation(&yp.access_token, &conv.id).await.unwrap();
        (c.state == ConversationState::Queued).then_some(c)
    })
    .await;
    assert_eq!(c.queue_position, Some(1));
    assert_eq!(s.client.conversation(&yp2.access_token, &conv2.id).await.unwrap().state, ConversationState::Assigned);
    let audit = s.state().store.audit_for_target("conversation", conv.id.as_str()).await.unwrap();
    let requeued = audit.iter().find(|e| e.action == AuditAction::ConversationRequeued).expect("audit note");
    assert!(requeued.details.as_deref().unwrap_or("").contains("no first reply"), "{requeued:?}");
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    assert!(page.messages.last().unwrap().body.contains("back in the queue"));
    s.stop().await;
}

async fn transfer_requeue_close_and_private_notes(backend: Backend) {
    let s = TestServer::start(backend).await;
    let w1 = s.staff(Role::DutyWorker).await;
    let w2 = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, Some("hi")).await;
    s.client.accept(&w1.access_token, &conv.id).await.unwrap();

    // A note is for staff only.
    let note = NoteRequest { body: "sounds scared of stepdad".into() };
    let note = s.client.add_note(&w1.access_token, &conv.id, &note).await.unwrap();
    assert_eq!(note.author.id, w1.user.id);
    let e = s.client.list_notes(&yp.access_token, &conv.id).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    assert!(page.messages.iter().all(|m| !m.body.contains("stepdad")), "never in the young person's chat");

    // Only the assigned worker (or a supervisor) hands over; the reason stays in the history.
    let to_w2 = |reason: &str| TransferRequest { to: w2.user.id.clone(), reason: reason.into() };
    let e = s.client.transfer_conversation(&w2.access_token, &conv.id, &to_w2("mine now")).await.unwrap_err();
    assert_eq!(e.status(), Some(404), "another worker's chat is not theirs to see");
    let moved = s.client.transfer_conversation(&w1.access_token, &conv.id, &to_w2("end of my shift")).await.unwrap();
    assert_eq!(moved.assigned_to.as_ref().unwrap().id, w2.user.id);
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    assert!(page.messages.last().unwrap().body.contains("end of my shift"));
    assert_eq!(
        s.client.messages(&w1.access_token, &conv.id, 0, None).await.unwrap_err().status(),
        Some(404),
        "w1 no longer has access"
    );
    let notes = s.client.list_notes(&w2.access_token, &conv.id).await.unwrap();
    assert_eq!(notes.notes.len(), 1, "notes travel with the chat");

    let requeue = RequeueRequest { reason: "needs a specialist".into() };
    let back = s.client.requeue_conversation(&w2.access_token, &conv.id, &requeue).await.unwrap();
    assert_eq!(back.state, ConversationState::Queued);
    s.client.accept(&w1.access_token, &conv.id).await.unwrap();
    let bad = s.client.close_conversation(&w1.access_token, &conv.id, &close("whatever")).await.unwrap_err();
    assert_eq!(bad.status(), Some(422));
    let signposted = CloseRequest { outcome: "signposted".into(), tags: vec!["school".into(), "family".into()] };
    let closed = s.client.close_conversation(&w1.access_token, &conv.id, &signposted).await.unwrap();
    assert_eq!((closed.state, closed.outcome.as_deref()), (ConversationState::Closed, Some("signposted")));
    let again = s.client.close_conversation(&supervisor.access_token, &conv.id, &close("resolved")).await.unwrap_err();
    assert_eq!(again.status(), Some(409));
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    let f = ws.send_message(&conv.id, "late", "one more thing").await.unwrap();
    assert!(matches!(f, ServerFrame::Error { .. }), "a closed chat takes no messages: {f:?}");
    s.stop().await;
}

async fn chats_of_a_worker_who_went_away_return_to_the_queue(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).start().await;
    let gone = s.staff(Role::DutyWorker).await;
    let stays = s.staff(Role::DutyWorker).await;
    let off = s.staff(Role::DutyWorker).await;
    let mut gone_ws = s.client.connect(&gone.access_token).await.unwrap();
    let mut stays_ws = s.client.connect(&stays.access_token).await.unwrap();
    let mut off_ws = s.client.connect(&off.access_token).await.unwrap();
    let mut convs = Vec::new();
    for (w, ws) in [(&gone, &mut gone_ws), (&stays, &mut stays_ws), (&off, &mut off_ws)] {
        let yp = s.young_person().await;
        let c = open(&s, &yp, Some("hi")).await;
        s.client.accept(&w.access_token, &c.id).await.unwrap();
        // A first reply, so the assignment timeout is not what moves the chat.
        ws.send_message(&c.id, "first", "Hi, I'm here").await.unwrap();
        convs.push((yp, c));
    }
    let newcomer = s.young_person().await;
    let waiting = open(&s, &newcomer, Some("hello")).await;
    gone_ws.abort(); // phone in a tunnel
    s.client.set_duty(&off.access_token, false).await.unwrap();
    // The node notices the lost connection (and records when it was last seen) before the
    // clock moves: otherwise the presence job could still count the worker as connected.
    eventually(T, "the node to notice the lost connection", || async {
        s.state().hub.connections_of(&gone.user.id) == 0
    })
    .await;

    clock.advance_ms(30_000);
    // Nothing must move yet: every job runs now, within the grace period.
    jobs::run_once(s.state()).await;
    for (yp, c) in &convs {
        let v = s.client.conversation(&yp.access_token, &c.id).await.unwrap();
        assert_eq!(v.state, ConversationState::Assigned, "within the grace period nothing moves");
    }
    clock.advance_ms(31_000);
    jobs::run_once(s.state()).await;
    eventually(T, "the stranded chats to return", || async {
        let a = s.client.conversation(&convs[0].0.access_token, &convs[0].1.id).await.unwrap().state;
        let c = s.client.conversation(&convs[2].0.access_token, &convs[2].1.id).await.unwrap().state;
        if a == ConversationState::Queued && c == ConversationState::Queued {
            Ok(())
        } else {
            Err((a, c))
        }
    })
    .await;
    let kept = s.client.conversation(&convs[1].0.access_token, &convs[1].1.id).await.unwrap();
    assert_eq!(kept.state, ConversationState::Assigned, "a connected worker keeps their chat");
    // Returned chats go ahead of the young person who arrived while they were being helped.
    let queued = s.client.list_conversations(&stays.access_token, Some(ConversationState::Queued)).await.unwrap();
    let order: Vec<_> = queued.conversations.iter().map(|c| c.id.clone()).collect();
    assert_eq!(order.last(), Some(&waiting.id), "{order:?}");
    assert_eq!(order.len(), 3);
    // The audit row follows the hand-over's commit: wait for it rather than race it.
    for (conv, why) in [(&convs[0].1, "the worker went offline"), (&convs[2].1, "the worker went off duty")] {
        eventually(T, &format!("the requeue audit '{why}'"), || async {
            let audit = s.state().store.audit_for_target("conversation", conv.id.as_str()).await.unwrap();
            if audit.iter().any(|e| e.action == AuditAction::ConversationRequeued && e.details.as_deref() == Some(why))
            {
                Ok(())
            } else {
                Err(audit)
            }
        })
        .await;
    }
    s.stop().await;
}

async fn auto_assignment_is_fair_and_respects_capacity(backend: Backend) {
    let s = TestServer::builder(backend).routing_auto().start().await;
    let admin = s.staff(Role::YotAdmin).await;
    let w1 = s.staff(Role::DutyWorker).await;
    let w2 = s.staff(Role::DutyWorker).await;
    for (w, capacity) in [(&w1, 1), (&w2, 2)] {
        s.client.set_capacity(&admin.access_token, &w.user.id, &Capacity { capacity }).await.unwrap();
        s.client.set_duty(&w.access_token, true).await.unwrap();
    }
    let bad = s.client.set_capacity(&w2.access_token, &w1.user.id, &Capacity { capacity: 5 }).await.unwrap_err();
    assert_eq!(bad.status(), Some(403));
    let mut w1_ws = s.client.connect(&w1.access_token).await.unwrap();
    let mut w2_ws = s.client.connect(&w2.access_token).await.unwrap();
    w1_ws.round_trip().await.unwrap();
    w2_ws.round_trip().await.unwrap();
    let mut assigned_to = Vec::new();
    let mut young = Vec::new();
    for i in 0..4 {
        let yp = s.young_person().await;
        let c = open(&s, &yp, Some(&format!("chat {i}"))).await;
        // Every job runs now; the node's own scheduler may get there first.
        jobs::run_once(s.state()).await;
        let who = if i < 3 {
            let assigned = eventually(T, &format!("chat {i} to be auto-assigned"), || async {
                s.client.conversation(&yp.access_token, &c.id).await.unwrap().assigned_to
            })
            .await;
            Some(assigned.id)
        } else {
            // Everyone is at capacity: auto-assignment has run since the chat came (just above),
            // and it waits.
            let v = s.client.conversation(&yp.access_token, &c.id).await.unwrap();
            assert_eq!(v.state, ConversationState::Queued, "nobody has room: it waits");
            v.assigned_to.map(|w| w.id)
        };
        assigned_to.push(who);
        young.push((yp, c));
    }
    // Most free capacity first (w2: 2 free), then a tie at 1 each goes to the longest idle (w1).
    assert_eq!(assigned_to, vec![Some(w2.user.id.clone()), Some(w1.user.id.clone()), Some(w2.user.id.clone()), None]);
    s.stop().await;
}

async fn contact_limits_are_kind_and_never_silent(backend: Backend) {
    let s = TestServer::builder(backend).config(|c| c.desk.chats_per_day = 2).start().await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    for i in 0..2 {
        let c = open(&s, &yp, Some(&format!("chat {i}"))).await;
        // While a chat is open, asking again returns it (never refused).
        let again = s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap();
        assert_eq!(again.1.id, c.id);
        s.client.accept(&worker.access_token, &c.id).await.unwrap();
        s.client.close_conversation(&worker.access_token, &c.id, &close("resolved")).await.unwrap();
    }
    let e = s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    let ClientError::Api { body, .. } = &e else { panic!("{e:?}") };
    assert!(body.error.message.contains("0800 1111") && body.error.message.contains("999"), "{}", body.error.message);
    s.stop().await;
}

/// A supervisor joins a support chat: the young person is told who, in plain words, and the
/// join is in the audit log. Only supervisors join, and only chats that exist.
async fn a_supervisor_joins_a_chat_told_and_audited(backend: Backend) {
    let s = TestServer::start(backend).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let worker = s.staff(Role::DutyWorker).await;
    let admin = s.staff(Role::YotAdmin).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, Some("hi")).await;
    let e = s.client.join_conversation(&worker.access_token, &conv.id).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    let joined = s.client.join_conversation(&supervisor.access_token, &conv.id).await.unwrap();
    assert_eq!(joined.id, conv.id);
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    assert!(
        page.messages.iter().any(|m| m.kind == MessageKind::System && m.body.contains(&supervisor.user.display_name)),
        "{page:?}"
    );
    let trail = s.client.audit_log(&admin.access_token, &AuditQuery { days: Some(1) }).await.unwrap();
    let joins: Vec<_> = trail.entries.iter().filter(|e| e.action == "supervisor_joined").collect();
    assert_eq!(joins.len(), 1, "{trail:?}");
    assert_eq!(joins[0].actor_id.as_ref(), Some(&supervisor.user.id));
    assert_eq!(joins[0].target.as_deref(), Some(format!("conversation:{}", conv.id).as_str()));
    let no_such_chat = ConversationId("no-such-chat".into());
    let e = s.client.join_conversation(&supervisor.access_token, &no_such_chat).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    s.stop().await;
}

async fn the_rota_and_who_is_on_duty(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let w1 = s.staff(Role::DutyWorker).await;
    let w2 = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let now = SystemClock.now_ms();
    let at = |ms: i64| talkzone_server::clock::rfc3339(ms);
    let shift = |user: &TokenResponse, starts_at: String, ends_at: String| ShiftRequest {
        user_id: user.user.id.clone(),
        starts_at,
        ends_at,
    };
    let planned = s
        .client
        .add_shift(&admin.access_token, &shift(&w1, at(now + 3_600_000), at(now + 9 * 3_600_000)))
        .await
        .unwrap();
    assert_eq!(planned.user.id, w1.user.id);
    for (who, body, status) in [
        (&w1, shift(&w1, at(now), at(now + 1000)), 403),
        (&admin, shift(&w1, "tomorrow".into(), at(now)), 422),
        (&admin, shift(&w1, at(now + 1000), at(now)), 422),
        (&admin, shift(&yp, at(now), at(now + 1000)), 422),
    ] {
        let e = s.client.add_shift(&who.access_token, &body).await.unwrap_err();
        assert_eq!(e.status(), Some(status), "{body:?}");
    }
    s.client.set_duty(&w2.access_token, true).await.unwrap();
    let mut w2_ws = s.client.connect(&w2.access_token).await.unwrap();
    w2_ws.round_trip().await.unwrap();
    let desk = s.client.desk(&w1.access_token).await.unwrap();
    let on: Vec<_> = desk.on_duty.iter().map(|w| (w.user.id.clone(), w.connected, w.capacity)).collect();
    assert_eq!(on, vec![(w2.user.id.clone(), true, 3)]);
    assert_eq!(desk.next.iter().map(|s| s.user.id.clone()).collect::<Vec<_>>(), vec![w1.user.id.clone()]);
    let whole_rota = RotaQuery { from: None, to: None };
    let rota = s.client.rota(&w2.access_token, &whole_rota).await.unwrap();
    assert_eq!(rota.shifts.len(), 1);
    let e = s.client.desk(&yp.access_token).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    s.client.remove_shift(&admin.access_token, &planned.id).await.unwrap();
    let rota = s.client.rota(&w2.access_token, &whole_rota).await.unwrap();
    assert!(rota.shifts.is_empty());
    s.stop().await;
}

async fn wellbeing_caps_warn_then_take_workers_off_duty(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(|c| {
            c.desk.max_duty_per_day = Duration::from_secs(3600);
            c.desk.disconnect_grace = Duration::from_secs(3 * 3600);
        })
        .start()
        .await;
    let w = s.staff(Role::DutyWorker).await;
    s.client.set_duty(&w.access_token, true).await.unwrap();
    let mut ws = s.client.connect(&w.access_token).await.unwrap();
    ws.round_trip().await.unwrap();
    clock.advance_ms(35 * 60_000);
    // Every job runs now (the caps are checked every few seconds of real time otherwise).
    jobs::run_once(s.state()).await;
    let f = ws.recv_until(T, |f| matches!(f, ServerFrame::Notice { kind, .. } if kind == "duty_cap_near")).await;
    assert!(f.is_ok(), "warned before the cap");
    clock.advance_ms(26 * 60_000);
    jobs::run_once(s.state()).await;
    ws.recv_until(T, |f| matches!(f, ServerFrame::Notice { kind, .. } if kind == "duty_cap_reached"))
        .await
        .expect("taken off duty");
    let e = s.client.set_duty(&w.access_token, true).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    let ClientError::Api { body, .. } = &e else { panic!("{e:?}") };
    assert!(body.error.message.contains("break"), "{}", body.error.message);
    let yp = s.young_person().await;
    let c = open(&s, &yp, Some("hi")).await;
    assert_eq!(
        s.client.accept(&w.access_token, &c.id).await.unwrap_err().status(),
        Some(403),
        "accepting would put them back on duty"
    );
    s.stop().await;
}

async fn accept_race_across_two_nodes_has_one_winner(backend: Backend) {
    let s = TestServer::start(backend).await;
    let node2 = s.another_node().start().await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, Some("hi")).await;
    let mut tasks = Vec::new();
    for i in 0..6 {
        let w = s.staff(Role::DutyWorker).await;
        let client = if i % 2 == 0 { s.client.clone() } else { node2.client.clone() };
        let id = conv.id.clone();
        tasks.push(tokio::spawn(async move {
            let mut ws = client.connect(&w.access_token).await.unwrap();
            ws.send(&ClientFrame::Accept { conversation_id: id.clone() }).await.unwrap();
            ws.recv_until(T, |f| {
                matches!(f, ServerFrame::Conversation(c) if c.id == id)
                    || matches!(f, ServerFrame::Error { reference: Some(r), .. } if r == "accept")
            })
            .await
            .unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            ServerFrame::Conversation(_) => wins += 1,
            ServerFrame::Error { code, .. } => assert_eq!(code, talkzone_mobile_api::ErrorCode::AlreadyAssigned),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one of six workers on two nodes gets the chat");
    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    assert_eq!(page.messages.iter().filter(|m| m.body.contains("has joined the chat")).count(), 1);
    node2.stop().await;
    s.stop().await;
}

/// A node decides that a sender may write from its own copy of the chat, without reading it
/// first. A hand-over made on another node must still stop the old worker's next message
/// there (the write re-checks the assignee under the row lock), and a young person whose chat
/// was accepted elsewhere since their last message still gets through, once, in order.
async fn a_hand_over_on_another_node_stops_the_old_workers_next_message(backend: Backend) {
    let s = TestServer::start(backend).await;
    let node2 = s.another_node().start().await;
    let w1 = s.staff(Role::DutyWorker).await;
    let w2 = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let conv = open(&s, &yp, None).await;
    let mut yp_ws = s.client.connect(&yp.access_token).await.unwrap();
    let ack = |f: &ServerFrame| matches!(f, ServerFrame::Ack { .. });
    let f = yp_ws.send_message(&conv.id, "y1", "is anyone there").await.unwrap();
    assert!(ack(&f), "{f:?}");
    // Accepted on node 2: node 1's copy still says queued.
    node2.client.accept(&w1.access_token, &conv.id).await.unwrap();
    let f = yp_ws.send_message(&conv.id, "y2", "thank you").await.unwrap();
    assert!(ack(&f), "the young person writes on after the chat was accepted elsewhere: {f:?}");

    let mut w1_ws = s.client.connect(&w1.access_token).await.unwrap();
    let f = w1_ws.send_message(&conv.id, "w1-a", "hello, I'm here").await.unwrap();
    assert!(ack(&f), "{f:?}");
    // Handed over on node 2: node 1 still holds a copy in which w1 is the worker.
    let to_w2 = TransferRequest { to: w2.user.id.clone(), reason: "end of my shift".into() };
    let moved = node2.client.transfer_conversation(&w1.access_token, &conv.id, &to_w2).await.unwrap();
    assert_eq!(moved.assigned_to.as_ref().unwrap().id, w2.user.id);
    let f = w1_ws.send_message(&conv.id, "w1-b", "one more thing").await.unwrap();
    match &f {
        ServerFrame::Error { code, .. } => assert!(
            matches!(code, talkzone_mobile_api::ErrorCode::NotFound | talkzone_mobile_api::ErrorCode::Forbidden),
            "{f:?}"
        ),
        other => panic!("the old worker's message must be refused after the hand-over: {other:?}"),
    }
    let mut w2_ws = s.client.connect(&w2.access_token).await.unwrap();
    let f = w2_ws.send_message(&conv.id, "w2-a", "hi, I'm taking over").await.unwrap();
    assert!(ack(&f), "{f:?}");

    let page = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    assert!(page.messages.iter().all(|m| m.body != "one more thing"), "nothing of the refused message is stored");
    let texts: Vec<&str> =
        page.messages.iter().filter(|m| m.kind == MessageKind::Text).map(|m| m.body.as_str()).collect();
    assert_eq!(texts, vec!["is anyone there", "thank you", "hello, I'm here", "hi, I'm taking over"]);
    let seqs: Vec<i64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gap where a message was refused");
    node2.stop().await;
    s.stop().await;
}

/// A worker's list always shows their own chats, however many others' come first in the
/// queue order; supervisors page through everything with `limit` and `next_offset`.
async fn staff_lists_show_what_is_yours_and_page(backend: Backend) {
    let s = TestServer::start(backend).await;
    let w1 = s.staff(Role::DutyWorker).await;
    let w2 = s.staff(Role::DutyWorker).await;
    let sup = s.staff(Role::Supervisor).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let yp = s.young_person().await;
        let conv = open(&s, &yp, None).await;
        let w = if i < 3 { &w2 } else { &w1 };
        s.client.accept(&w.access_token, &conv.id).await.unwrap();
        ids.push(conv.id);
    }
    let query = |limit: u32, offset: Option<u32>| ConversationListQuery {
        state: None,
        assigned_to: None,
        limit: Some(limit),
        offset,
    };
    let page = s.client.list_conversations_with(&w1.access_token, &query(1, None)).await.unwrap();
    assert_eq!(page.conversations.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![ids[3].clone()]);
    assert_eq!(page.next_offset, None, "nothing else is w1's to see");
    let mut seen = Vec::new();
    let mut offset = None;
    loop {
        let page = s.client.list_conversations_with(&sup.access_token, &query(3, offset)).await.unwrap();
        assert!(page.conversations.len() <= 3);
        seen.extend(page.conversations.into_iter().map(|c| c.id));
        match page.next_offset {
            Some(o) => offset = Some(o),
            None => break,
        }
    }
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "every chat once, over two pages");
    s.stop().await;
}

both_backends!(
    staff_lists_show_what_is_yours_and_page,
    accept_race_across_two_nodes_has_one_winner,
    the_rota_and_who_is_on_duty,
    wellbeing_caps_warn_then_take_workers_off_duty,
    chats_of_a_worker_who_went_away_return_to_the_queue,
    auto_assignment_is_fair_and_respects_capacity,
    contact_limits_are_kind_and_never_silent,
    queue_is_risk_first_and_reorders_live,
    an_empty_desk_says_where_to_get_help_now,
    escalations_reach_supervisors_and_are_audited,
    deadlines_reescalate_once_with_a_paused_clock_a_restart_and_two_nodes,
    unanswered_assignments_return_to_the_queue,
    transfer_requeue_close_and_private_notes,
    a_hand_over_on_another_node_stops_the_old_workers_next_message,
    a_supervisor_joins_a_chat_told_and_audited,
);
