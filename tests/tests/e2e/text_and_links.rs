//! The smaller holes of issue 22: a JSON array is not a frame; a message of only invisible
//! characters is not a message, and direction overrides stay inside the text that opened them;
//! directory links go where they read; the SQLite files are the server user's only; and a
//! parent's access code stops showing their answers once they are sent.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use talkzone_mobile_api::{
    AssignmentRespondent, AssignmentStatus, CreateAssignmentRequest, CreateConversationRequest,
    CreateParticipantRequest, ErrorCode, Role, ServerFrame, ServiceRequest, SubmitSurveyRequest, SurveyAnswer,
    SurveyDefinition, SurveyStage,
};
use talkzone_tests::{both_backends, Backend, TempDir, TestServer};
use tokio_tungstenite::tungstenite::Message;

const T: Duration = Duration::from_secs(10);

/// The issue's case: `["ping"]` was answered with a `pong`.
async fn a_json_array_is_not_a_frame(backend: Backend) {
    let s = TestServer::start(backend).await;
    let yp = s.young_person().await;
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    for text in [r#"["ping"]"#, r#"["ping", {"nonce": 1}]"#, "\"ping\""] {
        ws.send_raw(Message::text(text)).await.unwrap();
        match ws.recv_timeout(T).await.unwrap() {
            ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::BadFrame, "{text}"),
            other => panic!("{text} was answered with {other:?}"),
        }
    }
    ws.round_trip().await.expect("the object form still works");
    s.stop().await;
}

/// The issue's case: messages made only of zero-width or direction characters were accepted,
/// and a right-to-left override ran on past its message where staff read it.
async fn invisible_messages_are_refused_and_overrides_stay_inside(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let invisible =
        ["\u{200B}\u{200C}\u{200D}", "\u{202E}\u{2066}\u{2069}", " \u{FEFF}\u{2060} \n", "\u{E0041}\u{3164}"];
    for body in invisible {
        let req = CreateConversationRequest { topic: None, first_message: Some(body.into()) };
        let e = s.client.open_conversation(&yp.access_token, &req).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{body:?}: {e}");
    }
    let (_, conv) = s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap();
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    for (i, body) in invisible.iter().enumerate() {
        match ws.send_message(&conv.id, &format!("inv{i}"), body).await.unwrap() {
            ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::ValidationFailed, "{body:?}"),
            other => panic!("{body:?} was stored: {other:?}"),
        }
    }
    // An override left open is closed inside the message; one already closed is left alone.
    ws.send_message(&conv.id, "rlo", "my name is \u{202E}evil").await.unwrap();
    ws.send_message(&conv.id, "closed", "\u{202B}fine\u{202C} text").await.unwrap();
    let history = s.client.messages(&worker.access_token, &conv.id, 0, None).await.unwrap().messages;
    let body = |id: &str| history.iter().find(|m| m.client_msg_id.as_deref() == Some(id)).unwrap().body.clone();
    assert_eq!(body("rlo"), "my name is \u{202E}evil\u{202C}");
    assert_eq!(body("closed"), "\u{202B}fine\u{202C} text");
    assert!(history.iter().all(|m| !m.body.trim().is_empty()));
    // Where staff read it, the page isolates what people wrote from what is around it.
    let (status, _, css) = s.client.raw(Method::GET, "/web/talkzone.css", None, Vec::new()).await.unwrap();
    assert_eq!(status, 200);
    assert!(css.contains(".body, .who { unicode-bidi: isolate; }"), "{css}");
    s.stop().await;
}

fn service(url: &str) -> ServiceRequest {
    ServiceRequest {
        name: format!("Service {}", ulid::Ulid::new()),
        category: "health".into(),
        description: "A local service.".into(),
        area: None,
        phone: None,
        url: Some(url.into()),
        hours: None,
        min_age: None,
        max_age: None,
    }
}

/// The issue's case: directory links accepted `https://evil@good`, hostless URLs and a
/// right-to-left override.
async fn directory_links_go_where_they_read(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    for bad in [
        "https://www.childline.org.uk@evil.example/help",
        "https://user:password@good.example",
        "https:///evil.example",
        "https://",
        "http:evil.example",
        "https://good.example\\@evil.example",
        "https://good.example/\u{202E}fdp.exe",
        "https://goo\u{200B}d.example",
        "https://gооd.example",
    ] {
        let e = s.client.create_service(&admin.access_token, &service(bad)).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{bad:?} was accepted");
    }
    let mut with_override = service("https://www.childline.org.uk");
    with_override.name = "Childline \u{202E}enildlihC".into();
    assert_eq!(s.client.create_service(&admin.access_token, &with_override).await.unwrap_err().status(), Some(422));
    let ok = s.client.create_service(&admin.access_token, &service("https://www.childline.org.uk/get-support/")).await;
    assert_eq!(ok.unwrap().url.as_deref(), Some("https://www.childline.org.uk/get-support/"));
    s.stop().await;
}

/// The issue's case: the database files were world-readable (0644).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_files_are_the_server_users_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let s = TestServer::start(Backend::Sqlite).await;
    let yp = s.young_person().await;
    let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
    s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    for file in ["talkzone.db", "talkzone.db-wal", "talkzone.db-shm"] {
        let path = s.dir.0.join(file);
        assert_eq!(mode(&path), 0o600, "{file} is {:o}", mode(&path));
    }
    s.stop().await;

    // Files an older version left readable to all are tightened when the server starts.
    let dir = TempDir::new();
    let db = dir.0.join("talkzone.db");
    std::fs::write(&db, b"").unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let url = format!("sqlite://{}", db.display());
    let s = TestServer::builder(Backend::Sqlite).database(url).start().await;
    assert_eq!(mode(&db), 0o600);
    s.stop().await;
}

/// The issue's case: a parent's access code still showed the saved answers after they were
/// sent, until it expired (28 days): to anyone who picked up the letter.
async fn an_access_code_stops_showing_answers_once_sent(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let def: SurveyDefinition = serde_json::from_value(json!({
    "title": "Parent survey", "audience": "parent_carer",
    "questions": [
        {"id": "q1", "kind": "yes_no", "text": "Was the service helpful?"},
        {"id": "q2", "kind": "free_text", "text": "Anything else?", "required": false}
    ]}))
    .unwrap();
    let survey = s.client.create_survey(&admin, &def).await.unwrap();
    s.client.publish_survey(&admin, &survey.id).await.unwrap();
    let participant = CreateParticipantRequest {
        reference: "YOT-2025-0301".into(),
        intervention_type: "referral_order".into(),
        start_date: "2025-01-06".into(),
        end_date: None,
        age_band: None,
        gender: None,
        ethnicity: None,
        looked_after: None,
    };
    let p = s.client.create_participant(&admin, &participant).await.unwrap().id;
    let req = CreateAssignmentRequest {
        survey_id: survey.id.clone(),
        participant_id: p,
        stage: SurveyStage::End,
        due_date: "2025-07-01".into(),
        respondent: AssignmentRespondent::ParentCarer,
        access_code_valid_days: None,
    };
    let code = s.client.create_assignment(&admin, &req).await.unwrap().access_code.unwrap();
    let answer = |q: &str, v: Value| SurveyAnswer { question_id: q.into(), value: v };
    let private = answer("q2", json!("my son has been in trouble with the police again"));

    // Part-way: the code shows what was saved, so the parent can carry on.
    let part = SubmitSurveyRequest { submission_id: "part".into(), is_final: false, answers: vec![private.clone()] };
    s.client.submit_by_access_code(&code, &part).await.unwrap();
    let view = s.client.survey_by_access_code(&code).await.unwrap();
    assert_eq!(view.saved_answers, vec![private.clone()]);

    // Sent: the code says so, and shows nothing of what was said.
    let done =
        SubmitSurveyRequest { submission_id: "done".into(), is_final: true, answers: vec![answer("q1", json!(true))] };
    s.client.submit_by_access_code(&code, &done).await.unwrap();
    let view = s.client.survey_by_access_code(&code).await.unwrap();
    assert_eq!(view.status, AssignmentStatus::Completed);
    assert!(view.saved_answers.is_empty(), "{:?}", view.saved_answers);
    // By hand: the whole body, in case an answer hides in a field the typed view drops.
    let raw = reqwest::Client::new()
        .get(format!("{}/v1/survey-access", s.base))
        .header("X-Access-Code", &code)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!raw.contains("in trouble with the police"), "{raw}");
    s.stop().await;
}

both_backends!(
    a_json_array_is_not_a_frame,
    invisible_messages_are_refused_and_overrides_stay_inside,
    directory_links_go_where_they_read,
    an_access_code_stops_showing_answers_once_sent,
);
