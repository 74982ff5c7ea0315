//! Children's data: their own export (without staff notes or escalation records), erasure that
//! keeps only what a safeguarding hold keeps and says so, retention, and the audit of staff
//! reading young people's conversations; survey answers in all three (export, erasure,
//! retention), with chat feedback about a held conversation kept with it.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use talkzone_mobile_api::{
    AssignmentRespondent, AuditQuery, ChatFeedbackSetting, CloseRequest, ConversationState, ConversationView,
    CreateAssignmentRequest, CreateConversationRequest, CreateParticipantRequest, DataExport, HoldRequest, MessageKind,
    NoteRequest, QuestionKind, RaiseEscalationRequest, Role, SubmitSurveyRequest, SurveyAnswer, SurveyAudience,
    SurveyDefinition, SurveyQuestion, SurveyStage, TokenResponse,
};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_server::jobs;
use talkzone_tests::{both_backends, call, eventually, Backend, TestServer};

fn hold(reason: &str) -> HoldRequest {
    HoldRequest { reason: reason.into() }
}

fn resolved() -> CloseRequest {
    CloseRequest { outcome: "resolved".into(), tags: Vec::new() }
}

async fn export_is_theirs_and_only_theirs(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let yp = s.young_person().await;
    let worker = s.staff(Role::DutyWorker).await;
    let req = CreateConversationRequest { topic: None, first_message: Some("my stepdad hits me".into()) };
    let (_, conv) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let note = NoteRequest { body: "PRIVATE-NOTE: call social care".into() };
    s.client.add_note(&worker.access_token, &conv.id, &note).await.unwrap();
    let escalation =
        RaiseEscalationRequest { severity: "high".into(), reason: "PRIVATE-ESCALATION physical abuse".into() };
    s.client.raise_escalation(&worker.access_token, &conv.id, &escalation).await.unwrap();
    // By hand: the body as sent, every field of it; the typed export would drop a field it does
    // not know, which is where a leak would hide.
    let export: Value =
        call(&s.client, Method::GET, "/v1/me/export", Some(&yp.access_token), json!(null)).await.json().unwrap();
    let text = export.to_string();
    assert!(text.contains("my stepdad hits me"), "their own messages");
    let typed: DataExport = serde_json::from_value(export.clone()).expect("the export's documented shape");
    assert_eq!((&typed.account.id, typed.account.role), (&yp.user.id, Role::YoungPerson));
    let chats: Vec<_> = typed.support_conversations.iter().map(|c| (c.id.clone(), c.state)).collect();
    assert_eq!(chats, vec![(conv.id.clone(), ConversationState::Assigned)]);
    let messages = &typed.support_conversations[0].messages;
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=messages.len() as i64).collect::<Vec<_>>(), "every message, in order");
    assert_eq!((messages[0].body.as_str(), messages[0].kind), ("my stepdad hits me", MessageKind::Text));
    assert!(typed.room_messages.is_empty() && typed.survey_answers.is_empty(), "{typed:?}");
    assert!(typed.not_included.contains("not part of this download"));
    assert!(
        !text.contains("PRIVATE-NOTE") && !text.contains("PRIVATE-ESCALATION"),
        "no staff notes or escalation records: {text}"
    );
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
    let receipt = s.client.delete_me(&a.access_token).await.unwrap();
    assert!(receipt.deleted && receipt.kept.is_empty(), "{receipt:?}");
    assert_eq!(s.client.me(&a.access_token).await.unwrap_err().status(), Some(401));
    assert_eq!(s.client.refresh(&a.refresh_token).await.unwrap_err().status(), Some(401));
    assert_eq!(s.client.messages(&supervisor.access_token, &ca.id, 0, None).await.unwrap_err().status(), Some(404));

    // With a hold: that conversation is kept, and the young person is told why in plain words.
    let b = s.young_person().await;
    let (_, cb) = s.client.open_conversation(&b.access_token, &req).await.unwrap();
    s.client.accept(&worker.access_token, &cb.id).await.unwrap();
    let e = s.client.place_hold(&worker.access_token, &cb.id, &hold("x")).await.unwrap_err();
    assert_eq!(e.status(), Some(403), "only supervisors place holds");
    s.client.place_hold(&supervisor.access_token, &cb.id, &hold("police investigation")).await.unwrap();
    let receipt = s.client.delete_me(&b.access_token).await.unwrap();
    assert_eq!(receipt.kept, vec![cb.id.clone()]);
    assert!(receipt.message.contains("safeguarding hold"), "{}", receipt.message);
    let kept = s.client.messages(&supervisor.access_token, &cb.id, 0, None).await.unwrap();
    assert!(kept.messages.iter().any(|m| m.body == "hello"), "the held conversation is intact");
    assert_eq!(s.client.me(&b.access_token).await.unwrap_err().status(), Some(401), "but the account cannot sign in");

    // Staff cannot use self-service deletion.
    let e = s.client.delete_me(&worker.access_token).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    s.stop().await;
}

async fn retention_deletes_old_closed_chats_except_held_ones(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).start().await;
    let worker = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let mut convs = Vec::new();
    for _ in 0..2 {
        let yp = s.young_person().await;
        let req = CreateConversationRequest { topic: None, first_message: Some("hi".into()) };
        let (_, c) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
        s.client.accept(&worker.access_token, &c.id).await.unwrap();
        s.client.close_conversation(&worker.access_token, &c.id, &resolved()).await.unwrap();
        convs.push(c);
    }
    s.client.place_hold(&supervisor.access_token, &convs[1].id, &hold("court case")).await.unwrap();
    clock.advance_ms(366 * 24 * 3_600_000);
    // Every job runs now; the node's own scheduler may get there first, so wait for the effect.
    jobs::run_once(s.state()).await;
    eventually(Duration::from_secs(10), "retention to run", || async {
        s.state().store.conversation(convs[0].id.as_str()).await.unwrap().is_none()
    })
    .await;
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
    let log = s.client.audit_log(&admin.access_token, &AuditQuery { days: Some(1) }).await.unwrap();
    let reads: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.action == "conversation_read" && e.target.as_deref() == Some(&format!("conversation:{}", c.id)))
        .collect();
    assert_eq!(reads.len(), 1, "the supervisor's read, not the young person's own: {reads:?}");
    assert_eq!(reads[0].actor_id.as_ref(), Some(&supervisor.user.id));
    for who in [&yp, &supervisor] {
        let e = s.client.audit_log(&who.access_token, &AuditQuery { days: None }).await.unwrap_err();
        assert_eq!(e.status(), Some(403));
    }
    s.stop().await;
}

// Surveys: a survey, a participant and an assignment made by a yot_admin, and chat feedback.

async fn published(s: &TestServer, admin: &str, def: SurveyDefinition) -> String {
    let v = s.client.create_survey(admin, &def).await.unwrap();
    s.client.publish_survey(admin, &v.id).await.unwrap();
    v.id
}

fn short_survey(title: &str) -> SurveyDefinition {
    let question = |id: &str, kind, text: &str, required| SurveyQuestion {
        id: id.into(),
        kind,
        text: text.into(),
        child_text: None,
        required,
        options: Vec::new(),
        max_length: None,
    };
    SurveyDefinition {
        title: title.into(),
        audience: SurveyAudience::YoungPerson,
        intro: None,
        questions: vec![
            question("rating", QuestionKind::EmojiScale, "How was it?", true),
            question("say", QuestionKind::FreeText, "Anything else?", false),
        ],
    }
}

/// Sends `survey` to `yp` (under a new participant) and has them answer `words`; returns the assignment.
async fn answered_assignment(
    s: &TestServer,
    admin: &str,
    survey: &str,
    reference: &str,
    yp: &TokenResponse,
    words: &str,
) -> String {
    let participant = CreateParticipantRequest {
        reference: reference.into(),
        intervention_type: "triage".into(),
        start_date: "2025-01-06".into(),
        end_date: None,
        age_band: None,
        gender: None,
        ethnicity: None,
        looked_after: None,
    };
    let p = s.client.create_participant(admin, &participant).await.unwrap();
    let assignment = CreateAssignmentRequest {
        survey_id: survey.into(),
        participant_id: p.id,
        stage: SurveyStage::End,
        due_date: "2025-03-01".into(),
        respondent: AssignmentRespondent::YoungPerson { user_id: yp.user.id.clone() },
        access_code_valid_days: None,
    };
    let id = s.client.create_assignment(admin, &assignment).await.unwrap().assignment.id;
    answer(s, yp, &id, words).await;
    id
}

async fn answer(s: &TestServer, yp: &TokenResponse, assignment: &str, words: &str) {
    let answers = vec![
        SurveyAnswer { question_id: "rating".into(), value: json!(4) },
        SurveyAnswer { question_id: "say".into(), value: json!(words) },
    ];
    let submission = SubmitSurveyRequest { submission_id: "s".into(), is_final: true, answers };
    s.client.submit_my_survey(&yp.access_token, assignment, &submission).await.unwrap();
}

/// A chat of `yp`'s, closed by `worker` (after a hold, if `hold_by` is given); returns the chat
/// and the feedback assignment offered, answered with `words`.
async fn feedback_on_chat(
    s: &TestServer,
    yp: &TokenResponse,
    worker: &str,
    hold_by: Option<&str>,
    words: &str,
) -> (ConversationView, String) {
    let req = CreateConversationRequest { topic: None, first_message: Some("hi".into()) };
    let (_, c) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    s.client.accept(worker, &c.id).await.unwrap();
    if let Some(supervisor) = hold_by {
        s.client.place_hold(supervisor, &c.id, &hold("police investigation")).await.unwrap();
    }
    s.client.close_conversation(worker, &c.id, &resolved()).await.unwrap();
    let mine = s.client.my_surveys(&yp.access_token).await.unwrap();
    let offered = mine
        .surveys
        .into_iter()
        .find(|p| p.conversation_id.as_ref() == Some(&c.id))
        .expect("feedback offered for this chat")
        .assignment_id;
    answer(s, yp, &offered, words).await;
    (c, offered)
}

async fn survey_answers_are_exported_and_erased(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let worker = s.staff(Role::DutyWorker).await.access_token;
    let supervisor = s.staff(Role::Supervisor).await.access_token;
    let survey = published(&s, &admin, short_survey("Exit survey")).await;
    let feedback = published(&s, &admin, short_survey("How was your chat?")).await;
    s.client.set_chat_feedback(&admin, &ChatFeedbackSetting { survey_id: Some(feedback) }).await.unwrap();

    let yp = s.young_person().await;
    let other = s.young_person().await;
    let mine = answered_assignment(&s, &admin, &survey, "YOT-P-001", &yp, "MY-OWN-WORDS").await;
    answered_assignment(&s, &admin, &survey, "YOT-P-002", &other, "SOMEONE-ELSES-WORDS").await;
    let (held, held_fb) = feedback_on_chat(&s, &yp, &worker, Some(&supervisor), "FEEDBACK-ON-HELD-CHAT").await;
    let (_, open_fb) = feedback_on_chat(&s, &yp, &worker, None, "FEEDBACK-ON-OTHER-CHAT").await;

    // By hand: the body as sent, every field of it; the typed export would drop a field it does
    // not know, where someone else's answers could hide.
    let export: Value =
        call(&s.client, Method::GET, "/v1/me/export", Some(&yp.access_token), json!(null)).await.json().unwrap();
    let answers = export["survey_answers"].as_array().expect("survey answers in the export");
    assert_eq!(answers.len(), 3, "{answers:#?}");
    let text = export.to_string();
    for words in ["MY-OWN-WORDS", "FEEDBACK-ON-HELD-CHAT", "FEEDBACK-ON-OTHER-CHAT"] {
        assert!(text.contains(words), "{words} in {text}");
    }
    assert!(!text.contains("SOMEONE-ELSES-WORDS"), "only their own answers");
    let exit = answers.iter().find(|a| a["assignment_id"] == json!(mine)).unwrap();
    assert_eq!(exit["survey"], json!("Exit survey"));
    assert_eq!(exit["status"], json!("completed"));
    assert_eq!(exit["answers"][0]["question"], json!("How was it?"));
    assert_eq!(exit["answers"][0]["answer"], json!(4));
    let fb = answers.iter().find(|a| a["assignment_id"] == json!(held_fb)).unwrap();
    assert_eq!(fb["about_conversation"], json!(held.id));

    let receipt = s.client.delete_me(&yp.access_token).await.unwrap();
    assert_eq!(receipt.kept, vec![held.id.clone()]);
    let surveys = &s.state().store;
    assert!(surveys.assignment(&mine).await.unwrap().is_none(), "their answers are deleted");
    assert!(surveys.response_for_assignment(&mine).await.unwrap().is_none());
    assert!(surveys.assignment(&open_fb).await.unwrap().is_none());
    assert!(surveys.response_for_assignment(&open_fb).await.unwrap().is_none());
    // Feedback about the held chat is kept with it, until the hold ends.
    let kept = surveys.response_for_assignment(&held_fb).await.unwrap().expect("kept under the hold");
    assert!(kept.answers.contains("FEEDBACK-ON-HELD-CHAT"));
    assert_eq!(surveys.assignments_of_user(yp.user.id.as_str()).await.unwrap().len(), 1);
    // Someone else's answers are untouched.
    assert_eq!(surveys.assignments_of_user(other.user.id.as_str()).await.unwrap().len(), 1);
    s.stop().await;
}

async fn retention_deletes_old_survey_answers_except_held_chat_feedback(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).config(|c| c.surveys.retention_days = 30).start().await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let worker = s.staff(Role::DutyWorker).await.access_token;
    let supervisor = s.staff(Role::Supervisor).await.access_token;
    let survey = published(&s, &admin, short_survey("Exit survey")).await;
    s.client.set_chat_feedback(&admin, &ChatFeedbackSetting { survey_id: Some(survey.clone()) }).await.unwrap();
    let yp = s.young_person().await;
    let old = answered_assignment(&s, &admin, &survey, "YOT-R-001", &yp, "old answer").await;
    let (_, held_fb) = feedback_on_chat(&s, &yp, &worker, Some(&supervisor), "held").await;
    let (_, open_fb) = feedback_on_chat(&s, &yp, &worker, None, "not held").await;

    clock.advance_ms(31 * 24 * 3_600_000);
    // Made after the jump: within the period. (Tokens from before it have expired.)
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let yp2 = s.young_person().await;
    let fresh = answered_assignment(&s, &admin, &survey, "YOT-R-002", &yp2, "new answer").await;

    // Every job runs now; the node's own scheduler may get there first, so wait for the effect.
    jobs::run_once(s.state()).await;
    let surveys = &s.state().store;
    eventually(Duration::from_secs(10), "survey retention to run", || async {
        surveys.assignment(&old).await.unwrap().is_none()
    })
    .await;
    assert!(surveys.response_for_assignment(&old).await.unwrap().is_none(), "the answers went with it");
    assert!(surveys.assignment(&open_fb).await.unwrap().is_none(), "old chat feedback too");
    assert!(surveys.response_for_assignment(&held_fb).await.unwrap().is_some(), "feedback on a held chat is kept");
    assert!(surveys.response_for_assignment(&fresh).await.unwrap().is_some(), "recent answers are kept");
    s.stop().await;
}

both_backends!(
    survey_answers_are_exported_and_erased,
    retention_deletes_old_survey_answers_except_held_chat_feedback,
    export_is_theirs_and_only_theirs,
    erasure_deletes_everything_but_what_a_hold_keeps,
    retention_deletes_old_closed_chats_except_held_ones,
    staff_reading_a_chat_is_audited,
);
