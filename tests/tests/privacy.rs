//! Children's data: their own export (without staff notes or escalation records), erasure that
//! keeps only what a safeguarding hold keeps and says so, retention, and the audit of staff
//! reading young people's conversations.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use talkzone_mobile_api::client::{Client, ClientError};
use talkzone_mobile_api::{AuditTrail, ConversationView, CreateConversationRequest, DeletionReceipt, Role};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_tests::{both_backends, Backend, TestServer};

async fn call<T: serde::de::DeserializeOwned>(c: &Client, m: Method, path: &str, token: &str, body: Value) -> Result<T, ClientError> {
    c.request(m, path, Some(token), Some(&body)).await.map(|(_, t)| t)
}

async fn export_is_theirs_and_only_theirs(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let worker = s.staff(Role::DutyWorker).await;
    let req = CreateConversationRequest { topic: None, first_message: Some("my stepdad hits me".into()) };
    let (_, conv) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let _: Value = call(&s.client, Method::POST, &format!("/v1/conversations/{}/notes", conv.id), &worker.access_token,
        json!({"body": "PRIVATE-NOTE: call social care"})).await.unwrap();
    let _: Value = call(&s.client, Method::POST, &format!("/v1/conversations/{}/escalations", conv.id), &worker.access_token,
        json!({"severity": "high", "reason": "PRIVATE-ESCALATION physical abuse"})).await.unwrap();
    let export: Value = call(&s.client, Method::GET, "/v1/me/export", &yp.access_token, json!(null)).await.unwrap();
    let text = export.to_string();
    assert!(text.contains("my stepdad hits me"), "their own messages");
    assert_eq!(export["account"]["id"], json!(yp.user.id));
    assert!(!text.contains("PRIVATE-NOTE") && !text.contains("PRIVATE-ESCALATION"), "no staff notes or escalation records: {text}");
    assert!(!text.contains("\"moderation\""), "no moderation verdicts");
    s.stop().await;
}

async fn erasure_deletes_everything_but_what_a_hold_keeps(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let supervisor = s.staff(Role::Supervisor).await;
    let worker = s.staff(Role::DutyWorker).await;

    // Without a hold: everything goes.
    let a = s.young_person().await;
    let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
    let (_, ca) = s.client.open_conversation(&a.access_token, &req).await.unwrap();
    let receipt: DeletionReceipt = call(&s.client, Method::DELETE, "/v1/me", &a.access_token, json!(null)).await.unwrap();
    assert!(receipt.deleted && receipt.kept.is_empty(), "{receipt:?}");
    assert_eq!(s.client.me(&a.access_token).await.unwrap_err().status(), Some(401));
    assert_eq!(s.client.refresh(&a.refresh_token).await.unwrap_err().status(), Some(401));
    assert_eq!(s.client.messages(&supervisor.access_token, &ca.id, 0, None).await.unwrap_err().status(), Some(404));

    // With a hold: that conversation is kept, and the young person is told why in plain words.
    let b = s.young_person().await;
    let (_, cb) = s.client.open_conversation(&b.access_token, &req).await.unwrap();
    s.client.accept(&worker.access_token, &cb.id).await.unwrap();
    let e = call::<Value>(&s.client, Method::POST, &format!("/v1/conversations/{}/hold", cb.id), &worker.access_token,
        json!({"reason": "x"})).await.unwrap_err();
    assert_eq!(e.status(), Some(403), "only supervisors place holds");
    let _: Value = call(&s.client, Method::POST, &format!("/v1/conversations/{}/hold", cb.id), &supervisor.access_token,
        json!({"reason": "police investigation"})).await.unwrap();
    let receipt: DeletionReceipt = call(&s.client, Method::DELETE, "/v1/me", &b.access_token, json!(null)).await.unwrap();
    assert_eq!(receipt.kept, vec![cb.id.clone()]);
    assert!(receipt.message.contains("safeguarding hold"), "{}", receipt.message);
    let kept = s.client.messages(&supervisor.access_token, &cb.id, 0, None).await.unwrap();
    assert!(kept.messages.iter().any(|m| m.body == "hello"), "the held conversation is intact");
    assert_eq!(s.client.me(&b.access_token).await.unwrap_err().status(), Some(401), "but the account cannot sign in");

    // Staff cannot use self-service deletion.
    let e = call::<DeletionReceipt>(&s.client, Method::DELETE, "/v1/me", &worker.access_token, json!(null)).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    s.stop().await;
}

async fn retention_deletes_old_closed_chats_except_held_ones(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::start_with_clock(backend, clock.clone()).await;
    let worker = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let mut convs = Vec::new();
    for _ in 0..2 {
        let yp = s.young_person().await;
        let req = CreateConversationRequest { topic: None, first_message: Some("hi".into()) };
        let (_, c) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
        s.client.accept(&worker.access_token, &c.id).await.unwrap();
        let _: ConversationView = call(&s.client, Method::POST, &format!("/v1/conversations/{}/close", c.id), &worker.access_token,
            json!({"outcome": "resolved"})).await.unwrap();
        convs.push(c);
    }
    let _: Value = call(&s.client, Method::POST, &format!("/v1/conversations/{}/hold", convs[1].id), &supervisor.access_token,
        json!({"reason": "court case"})).await.unwrap();
    clock.advance_ms(366 * 24 * 3_600_000);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s.state().store.conversation(convs[0].id.as_str()).await.unwrap().is_some() {
        assert!(tokio::time::Instant::now() < deadline, "retention did not run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(s.state().store.conversation(convs[1].id.as_str()).await.unwrap().is_some(), "held: kept");
    s.stop().await;
}

async fn staff_reading_a_chat_is_audited(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let yp = s.young_person().await;
    let req = CreateConversationRequest { topic: None, first_message: Some("hi".into()) };
    let (_, c) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    s.client.messages(&supervisor.access_token, &c.id, 0, None).await.unwrap();
    s.client.messages(&yp.access_token, &c.id, 0, None).await.unwrap();
    let log: AuditTrail = call(&s.client, Method::GET, "/v1/admin/audit?days=1", &admin.access_token, json!(null)).await.unwrap();
    let reads: Vec<_> = log.entries.iter().filter(|e| e.action == "conversation_read" && e.target.as_deref() == Some(&format!("conversation:{}", c.id))).collect();
    assert_eq!(reads.len(), 1, "the supervisor's read, not the young person's own: {reads:?}");
    assert_eq!(reads[0].actor_id.as_ref(), Some(&supervisor.user.id));
    for who in [&yp, &supervisor] {
        let e = call::<AuditTrail>(&s.client, Method::GET, "/v1/admin/audit", &who.access_token, json!(null)).await.unwrap_err();
        assert_eq!(e.status(), Some(403));
    }
    s.stop().await;
}

both_backends!(
    export_is_theirs_and_only_theirs,
    erasure_deletes_everything_but_what_a_hold_keeps,
    retention_deletes_old_closed_chats_except_held_ones,
    staff_reading_a_chat_is_audited,
);
