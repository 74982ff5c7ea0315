//! Risk that builds across a young person's messages in a support chat (issue 19, item 4): an
//! age said earlier plus a meeting now is grooming; three worrying messages of one kind make
//! the conversation high risk, with one escalation as it crosses; the conversation's risk
//! orders the queue. And the learned stage: the service does not start without its model.

use talkzone_tests::api::{
    ConversationId, ConversationView, CreateConversationRequest, EscalationListQuery, Role, ServerFrame, TokenResponse,
};
use talkzone_tests::{both_backends, Backend, TestServer};

async fn open(s: &TestServer, yp: &TokenResponse) -> ConversationView {
    let req = CreateConversationRequest { topic: None, first_message: None };
    s.client.open_conversation(&yp.access_token, &req).await.unwrap().1
}

async fn say(s: &TestServer, yp: &TokenResponse, conv: &ConversationId, lines: &[&str]) {
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    for (i, line) in lines.iter().enumerate() {
        let ack = ws.send_message(conv, &format!("{}-{i}-{}", conv.0, line.len()), line).await.unwrap();
        assert!(matches!(ack, ServerFrame::Ack { .. }), "{line}: {ack:?}");
    }
}

/// The automatic escalations of one chat, as a supervisor sees them.
async fn escalations_of(s: &TestServer, sup: &TokenResponse, conv: &ConversationId) -> Vec<(String, String)> {
    let all = s
        .client
        .list_escalations(&sup.access_token, &EscalationListQuery { state: None, limit: None, offset: None })
        .await
        .unwrap();
    all.escalations.into_iter().filter(|e| &e.conversation_id == conv).map(|e| (e.severity, e.source)).collect()
}

async fn risk_of(s: &TestServer, sup: &TokenResponse, conv: &ConversationId) -> Option<String> {
    s.client.conversation(&sup.access_token, conv).await.unwrap().risk
}

async fn an_age_then_a_meeting_is_grooming(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sup = s.staff(Role::Supervisor).await;
    let meeting = "a man from snap wants to meet me tonight";

    // On its own the meeting raises nothing: it is the age said before that makes it grooming.
    let alone = s.young_person().await;
    let alone_chat = open(&s, &alone).await;
    say(&s, &alone, &alone_chat.id, &[meeting]).await;
    assert_eq!(escalations_of(&s, &sup, &alone_chat.id).await, vec![]);

    let yp = s.young_person().await;
    let chat = open(&s, &yp).await;
    say(&s, &yp, &chat.id, &["im 13", meeting]).await;
    assert_eq!(escalations_of(&s, &sup, &chat.id).await, vec![("critical".to_owned(), "moderation".to_owned())]);
    assert_eq!(risk_of(&s, &sup, &chat.id).await.as_deref(), Some("critical"));
    // A critical chat is at the head of the queue, ahead of the one that came first.
    let queue: Vec<ConversationId> = s
        .client
        .list_conversations(&sup.access_token, None)
        .await
        .unwrap()
        .conversations
        .into_iter()
        .map(|c| c.id)
        .collect();
    let (a, b) = (queue.iter().position(|c| *c == chat.id), queue.iter().position(|c| *c == alone_chat.id));
    assert!(a.unwrap() < b.unwrap(), "{queue:?}");
    s.stop().await;
}

async fn worries_that_build_up_escalate_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    let sup = s.staff(Role::Supervisor).await;
    let yp = s.young_person().await;
    let chat = open(&s, &yp).await;
    say(&s, &yp, &chat.id, &["i feel really low today", "i cant stop crying at night"]).await;
    assert_eq!(risk_of(&s, &sup, &chat.id).await.as_deref(), Some("medium"));
    assert_eq!(escalations_of(&s, &sup, &chat.id).await, vec![]);
    say(&s, &yp, &chat.id, &["i feel so alone all the time"]).await;
    assert_eq!(risk_of(&s, &sup, &chat.id).await.as_deref(), Some("high"), "three worries of one kind");
    assert_eq!(escalations_of(&s, &sup, &chat.id).await, vec![("high".to_owned(), "moderation".to_owned())]);
    // Once, as it crosses: a fourth adds no second escalation.
    say(&s, &yp, &chat.id, &["honestly i feel low every day"]).await;
    assert_eq!(escalations_of(&s, &sup, &chat.id).await.len(), 1);
    s.stop().await;
}

/// A model file that is missing or corrupt stops the start, naming the setting and the file.
async fn no_start_without_the_model(backend: Backend) {
    let s = TestServer::start(backend).await;
    for (name, bytes) in [("missing.bin", None), ("corrupt.bin", Some(b"TZMODEL\0 and nothing after".to_vec()))] {
        let path = s.dir.0.join(name);
        if let Some(b) = bytes {
            std::fs::write(&path, b).unwrap();
        }
        let mut config = talkzone_server::config::Config::for_tests(&s.dir.0, Some(s.database_url.clone()));
        config.moderation_model = Some(path);
        let clock = std::sync::Arc::new(talkzone_server::clock::SystemClock);
        let Err(e) = talkzone_server::build_state(config, clock).await else { panic!("{name}: started anyway") };
        let e = e.to_string();
        assert!(e.contains("moderation-model") && e.contains(name), "{e}");
    }
    s.stop().await;
}

both_backends!(an_age_then_a_meeting_is_grooming, worries_that_build_up_escalate_once, no_start_without_the_model);
