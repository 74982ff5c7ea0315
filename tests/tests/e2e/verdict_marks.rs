//! Learning from the service (issue 19, item 6): staff mark a verdict as missed or wrong; the
//! marked messages, classified again with the policy in force, give recall per category; the
//! YOT admin exports them for retraining (audited); a mark lasts no longer than its message.

use talkzone_server::model::AuditAction;
use talkzone_tests::api::{
    ConversationId, CreateConversationRequest, MessageId, Role, ServerFrame, TokenResponse, VerdictMarkKind,
    VerdictMarkRequest,
};
use talkzone_tests::{both_backends, Backend, TestServer};

const MEETING: &str = "a man from snap wants to meet me tonight";

async fn chat_with_message(s: &TestServer, yp: &TokenResponse, text: &str) -> (ConversationId, MessageId) {
    let req = CreateConversationRequest { topic: None, first_message: None };
    let conv = s.client.open_conversation(&yp.access_token, &req).await.unwrap().1.id;
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    match ws.send_message(&conv, "m1", text).await.unwrap() {
        ServerFrame::Ack { message_id, .. } => (conv, message_id),
        other => panic!("{other:?}"),
    }
}

fn missed(category: &str, severity: &str) -> VerdictMarkRequest {
    VerdictMarkRequest { kind: VerdictMarkKind::Missed, category: category.into(), severity: severity.into() }
}

fn recall_of(r: &talkzone_tests::api::VerdictMarkReport, category: &str) -> Option<f64> {
    r.categories.iter().find(|c| c.category == category).and_then(|c| c.recall)
}

async fn marks_measure_the_classifier_and_go_with_their_message(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (sup, admin) = (s.staff(Role::Supervisor).await, s.staff(Role::YotAdmin).await);
    let yp = s.young_person().await;
    let (_, message) = chat_with_message(&s, &yp, MEETING).await;

    // What a mark must say.
    for (req, why) in [
        (missed("none", "none"), "a missed risk names its category"),
        (missed("grooming", "high"), "an unknown category"),
        (missed("sexual_exploitation_grooming", "none"), "none goes only with none"),
        (missed("sexual_exploitation_grooming", "urgent"), "an unknown severity"),
    ] {
        let e = s.client.mark_verdict(&sup.access_token, &message, &req).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{why}: {e}");
    }
    let unknown = MessageId("no-such-message".into());
    let e = s.client.mark_verdict(&sup.access_token, &unknown, &missed("suicide", "high")).await.unwrap_err();
    assert_eq!(e.status(), Some(404));

    let mark =
        s.client.mark_verdict(&sup.access_token, &message, &missed("sexual_exploitation_grooming", "high")).await;
    assert_eq!(mark.unwrap().category, "sexual_exploitation_grooming");
    // Marking again replaces the caller's own mark.
    let again = missed("sexual_exploitation_grooming", "critical");
    assert_eq!(s.client.mark_verdict(&sup.access_token, &message, &again).await.unwrap().severity, "critical");

    // The classifier in force misses it: recall 0 for grooming, and nothing else flagged.
    let report = s.client.verdict_mark_report(&admin.access_token).await.unwrap();
    assert_eq!(report.marks, 1);
    assert_eq!(recall_of(&report, "sexual_exploitation_grooming"), Some(0.0));
    assert!(report.categories.iter().all(|c| c.false_positives == 0), "{report:?}");
    assert_eq!(report.months.iter().map(|m| (m.missed, m.wrong)).collect::<Vec<_>>(), vec![(1, 0)]);

    // A rule for it put in force: the same marks now show it caught (classified again, now).
    let policy = format!(
        "{}\n[[rule]]\nid = \"test_meet\"\ncategory = \"sexual_exploitation_grooming\"\nseverity = \"high\"\nphrases = [\"wants to meet me\"]\n",
        s.client.moderation_policy(&admin.access_token).await.unwrap()
    );
    s.client.replace_moderation_policy(&admin.access_token, &policy).await.unwrap();
    let report = s.client.verdict_mark_report(&admin.access_token).await.unwrap();
    assert_eq!(recall_of(&report, "sexual_exploitation_grooming"), Some(1.0));

    // The export is the corpus's schema, and is audited.
    let export = s.client.verdict_mark_export(&admin.access_token).await.unwrap();
    let line: serde_json::Value = serde_json::from_str(export.lines().next().expect("one line")).unwrap();
    assert_eq!(line["text"], MEETING);
    assert_eq!(line["labels"], serde_json::json!(["sexual_exploitation_grooming"]));
    assert_eq!(line["severity"], "critical");
    let audit = s.state().store.audit_for_target("policy", "moderation").await.unwrap();
    assert!(audit.iter().any(
        |e| e.action == AuditAction::VerdictMarksExported && e.actor_id.as_deref() == Some(admin.user.id.as_str())
    ));

    // The young person deletes their data: the mark goes with the message.
    s.client.delete_me(&yp.access_token).await.unwrap();
    assert_eq!(s.client.verdict_mark_report(&admin.access_token).await.unwrap().marks, 0);
    assert_eq!(s.client.verdict_mark_export(&admin.access_token).await.unwrap(), "");
    s.stop().await;
}

both_backends!(marks_measure_the_classifier_and_go_with_their_message);
