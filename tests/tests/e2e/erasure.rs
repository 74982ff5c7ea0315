//! Deletion that keeps its word (issue 22): what a safeguarding hold kept is deleted when the
//! hold is lifted, as the young person was told; and deleting an account does not wipe an
//! escalation nobody has resolved: its chat is kept under a hold placed automatically, and
//! supervisors are told.

use std::time::Duration;

use talkzone_mobile_api::{
    AuditQuery, CloseRequest, ConversationId, ConversationView, CreateConversationRequest, HoldRequest, NoteRequest,
    ResolveEscalationRequest, Role, ServerFrame, TokenResponse, UserId,
};
use talkzone_tests::{both_backends, Backend, TestServer};

const T: Duration = Duration::from_secs(10);

fn hold(reason: &str) -> HoldRequest {
    HoldRequest { reason: reason.into() }
}

async fn open(s: &TestServer, yp: &TokenResponse, first: &str) -> ConversationView {
    let req = CreateConversationRequest { topic: None, first_message: Some(first.into()) };
    s.client.open_conversation(&yp.access_token, &req).await.unwrap().1
}

/// The admin's audit entries about `target` (`type:id`): (action, actor, details).
async fn audit_of(s: &TestServer, admin: &TokenResponse, target: &str) -> Vec<(String, Option<UserId>, String)> {
    let log = s.client.audit_log(&admin.access_token, &AuditQuery { days: Some(1) }).await.unwrap();
    log.entries
        .into_iter()
        .filter(|e| e.target.as_deref() == Some(target))
        .map(|e| (e.action, e.actor_id, e.details.unwrap_or_default()))
        .collect()
}

async fn account_exists(s: &TestServer, id: &UserId) -> bool {
    s.state().store.user(id.as_str()).await.unwrap().is_some()
}

/// The case: "they will be deleted when the hold ends", but after the hold was lifted
/// the chat and its notes were still there.
async fn lifting_the_last_hold_finishes_the_deletion(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let admin = s.staff(Role::YotAdmin).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;

    // Two chats kept under holds: an earlier one, closed, and the open one.
    let earlier = open(&s, &yp, "something happened at school").await;
    s.client.accept(&worker.access_token, &earlier.id).await.unwrap();
    let close = CloseRequest { outcome: "resolved".into(), tags: Vec::new() };
    s.client.close_conversation(&worker.access_token, &earlier.id, &close).await.unwrap();
    let now = open(&s, &yp, "it happened again").await;
    s.client.accept(&worker.access_token, &now.id).await.unwrap();
    let note = NoteRequest { body: "NOTE: speak to the school's safeguarding lead".into() };
    s.client.add_note(&worker.access_token, &now.id, &note).await.unwrap();
    for c in [&earlier.id, &now.id] {
        s.client.place_hold(&supervisor.access_token, c, &hold("police enquiry")).await.unwrap();
    }
    let receipt = s.client.delete_me(&yp.access_token).await.unwrap();
    let mut kept = receipt.kept.clone();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    let mut both = vec![earlier.id.clone(), now.id.clone()];
    both.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(kept, both);
    assert!(receipt.message.contains("deleted when the hold ends"), "{}", receipt.message);

    // The first hold lifted: that chat goes; the account stays while the other is held.
    s.client.lift_hold(&supervisor.access_token, &earlier.id, &hold("enquiry closed")).await.unwrap();
    let gone = s.client.messages(&supervisor.access_token, &earlier.id, 0, None).await.unwrap_err();
    assert_eq!(gone.status(), Some(404), "the first chat is deleted with its hold");
    assert!(s.client.messages(&supervisor.access_token, &now.id, 0, None).await.is_ok(), "the other is still held");
    assert!(account_exists(&s, &yp.user.id).await, "the account stays as the owner of what is held");

    // The last hold lifted: the chat, its notes and the account are gone.
    s.client.lift_hold(&supervisor.access_token, &now.id, &hold("enquiry closed")).await.unwrap();
    assert_eq!(s.client.messages(&supervisor.access_token, &now.id, 0, None).await.unwrap_err().status(), Some(404));
    assert_eq!(s.client.list_notes(&supervisor.access_token, &now.id).await.unwrap_err().status(), Some(404));
    assert!(!account_exists(&s, &yp.user.id).await, "the deletion they asked for has finished");
    let log = audit_of(&s, &admin, &format!("conversation:{}", now.id)).await;
    let finished = log.iter().find(|(a, _, _)| a == "erasure_completed").expect("the deletion is in the audit log");
    assert_eq!(finished.1.as_ref(), Some(&supervisor.user.id));
    assert!(finished.2.contains("account deleted"), "{}", finished.2);

    // A hold lifted on the chat of someone who asked for nothing: the chat stays.
    let other = s.young_person().await;
    let c = open(&s, &other, "hi").await;
    s.client.place_hold(&supervisor.access_token, &c.id, &hold("checking")).await.unwrap();
    s.client.lift_hold(&supervisor.access_token, &c.id, &hold("fine")).await.unwrap();
    assert!(s.client.messages(&other.access_token, &c.id, 0, None).await.is_ok());
    s.stop().await;
}

/// The case: whoever holds the child's phone could wipe an unhandled concern by
/// deleting the account.
async fn deletion_keeps_an_unresolved_escalation_and_tells_supervisors(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let admin = s.staff(Role::YotAdmin).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let mut sup_ws = s.client.connect(&supervisor.access_token).await.unwrap();
    sup_ws.round_trip().await.unwrap();
    let yp = s.young_person().await;
    let chat = open(&s, &yp, "i'm going to kill myself tonight").await;
    let raised = sup_ws
        .recv_until(T, |f| matches!(f, ServerFrame::Escalation(e) if e.conversation_id == chat.id))
        .await
        .unwrap();
    let ServerFrame::Escalation(escalation) = raised else { unreachable!() };
    assert_eq!(escalation.state, "open", "nobody has acknowledged it");

    let receipt = s.client.delete_me(&yp.access_token).await.unwrap();
    assert_eq!(receipt.kept, vec![chat.id.clone()], "{receipt:?}");
    assert!(receipt.message.contains("safeguarding hold"), "{}", receipt.message);

    // Supervisors are told, live and in the escalation's own history.
    let id = chat.id.clone();
    let notice = sup_ws
        .recv_until(T, |f| matches!(f, ServerFrame::Notice { conversation_id: Some(c), .. } if *c == id))
        .await
        .expect("a notice to supervisors");
    let ServerFrame::Notice { kind, message, .. } = notice else { unreachable!() };
    assert_eq!(kind, "account_deleted_escalation_open");
    assert!(message.contains("resolve the escalation"), "{message}");
    let e = s.client.escalation(&supervisor.access_token, &escalation.id).await.unwrap();
    let action = e.actions.iter().find(|a| a.action == "account_deleted").expect("the escalation says so");
    assert_eq!(action.actor_id, yp.user.id);
    // What is needed to act on it is kept: the chat, the escalation.
    let history = s.client.messages(&supervisor.access_token, &chat.id, 0, None).await.unwrap().messages;
    assert!(history.iter().any(|m| m.body == "i'm going to kill myself tonight"));
    assert_eq!(e.state, "open");
    // The automatic hold is in the audit log, with its reason and no one as its author.
    let log = audit_of(&s, &admin, &format!("conversation:{}", chat.id)).await;
    let placed = log.iter().find(|(a, _, _)| a == "safeguarding_hold_placed").expect("the hold is audited");
    assert_eq!(placed.1, None);
    assert!(placed.2.starts_with("automatic"), "{}", placed.2);
    assert_eq!(s.client.me(&yp.access_token).await.unwrap_err().status(), Some(401), "the account cannot sign in");

    // The hold cannot be lifted (which would delete the chat) while the escalation is open.
    let e = s.client.lift_hold(&supervisor.access_token, &chat.id, &hold("done")).await.unwrap_err();
    assert_eq!(e.status(), Some(409), "{e}");
    s.client.acknowledge_escalation(&supervisor.access_token, &escalation.id).await.unwrap();
    let outcome = ResolveEscalationRequest { outcome: "referred to MASH".into(), note: None };
    s.client.resolve_escalation(&supervisor.access_token, &escalation.id, &outcome).await.unwrap();
    s.client.lift_hold(&supervisor.access_token, &chat.id, &hold("referral made")).await.unwrap();
    assert_eq!(s.client.messages(&supervisor.access_token, &chat.id, 0, None).await.unwrap_err().status(), Some(404));
    assert!(!account_exists(&s, &yp.user.id).await);

    // An escalation already resolved keeps nothing.
    let yp2 = s.young_person().await;
    let chat2 = open(&s, &yp2, "i want to kill myself").await;
    let id2: ConversationId = chat2.id.clone();
    let raised =
        sup_ws.recv_until(T, |f| matches!(f, ServerFrame::Escalation(e) if e.conversation_id == id2)).await.unwrap();
    let ServerFrame::Escalation(e2) = raised else { unreachable!() };
    s.client.resolve_escalation(&supervisor.access_token, &e2.id, &outcome).await.unwrap();
    assert!(s.client.delete_me(&yp2.access_token).await.unwrap().kept.is_empty());
    s.stop().await;
}

both_backends!(
    lifting_the_last_hold_finishes_the_deletion,
    deletion_keeps_an_unresolved_escalation_and_tells_supervisors
);
