//! Feedback surveys end to end (docs/surveys.md): versioning, validation of every question
//! type, idempotent and part-way submission, parent/carer access codes (one assignment,
//! expiry, nothing else), distance travelled on a known data set, small-number suppression
//! with a differencing attack (whole selections and single cells), a configured threshold,
//! CSV and SVG exports, chat feedback offered when a support chat closes, the staff list of
//! assignments, survey actions in the audit log, and who may do what.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use talkzone_mobile_api::client::{Client, ClientError};
use talkzone_mobile_api::{
    AssignmentListQuery, AssignmentRespondent, AssignmentStatus, AuditQuery, ChatFeedbackSetting, ClientFrame,
    CloseRequest, ConversationView, CreateAssignmentRequest, CreateConversationRequest, CreateInterventionTypeRequest,
    CreateParticipantRequest, DistanceQuery, ReportFilters, Role, ServerFrame, StaffAssignmentList,
    SubmitSurveyRequest, SurveyAnswer, SurveyAudience, SurveyDefinition, SurveyReport, SurveyResponseView, SurveyStage,
    SurveyView, TokenResponse,
};
use talkzone_server::clock::{Clock, ManualClock};
use talkzone_tests::{both_backends, call, fresh_database, Backend, TempDir, TestServer};

/// By hand: a GET the typed client cannot express (a query parameter the route does not take).
async fn get_raw<T: serde::de::DeserializeOwned>(c: &Client, path: &str, token: &str) -> Result<T, ClientError> {
    call(c, Method::GET, path, Some(token), Value::Null).await.json()
}

/// A survey definition written in the contract's JSON form (checked as it is read).
fn definition(v: Value) -> SurveyDefinition {
    serde_json::from_value(v).expect("a survey definition")
}

/// The report filters with only `set` given, e.g. `filters(|f| f.ethnicity = Some("white".into()))`.
fn filters(set: impl FnOnce(&mut ReportFilters)) -> ReportFilters {
    let mut f = ReportFilters::default();
    set(&mut f);
    f
}

fn no_filters() -> ReportFilters {
    ReportFilters::default()
}

/// Distance travelled on `question`, start to end unless `set` says otherwise.
fn distance_of(question: &str, set: impl FnOnce(&mut DistanceQuery)) -> DistanceQuery {
    let mut q = DistanceQuery {
        question_id: question.into(),
        from_stage: None,
        to_stage: None,
        intervention_type: None,
        age_band: None,
        gender: None,
        ethnicity: None,
        looked_after: None,
        from: None,
        to: None,
    };
    set(&mut q);
    q
}

fn status<T: std::fmt::Debug>(r: Result<T, ClientError>) -> u16 {
    r.expect_err("expected a refusal").status().expect("an HTTP status")
}

fn message<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String) {
    match r.expect_err("expected a refusal") {
        ClientError::Api { status, body, .. } => (status, body.error.message),
        other => panic!("unexpected error {other:?}"),
    }
}

/// One question of each kind; `emoji` and `yes` required.
fn every_kind(title: &str, audience: &str) -> SurveyDefinition {
    definition(json!({
        "title": title,
        "audience": audience,
        "intro": "A few quick questions about how things are going.",
        "questions": [
            {"id": "emoji", "kind": "emoji_scale", "text": "How do you feel about your future?",
             "child_text": "How do you feel about what's next?", "required": true},
            {"id": "yes", "kind": "yes_no", "text": "Did your worker listen to you?", "required": true},
            {"id": "one", "kind": "single_choice", "text": "Which session helped most?", "options": ["Football", "Cooking", "Art"]},
            {"id": "many", "kind": "multiple_choice", "text": "What did you do?", "options": ["Talk", "Walk", "Write"]},
            {"id": "ten", "kind": "scale_0_10", "text": "How safe do you feel?"},
            {"id": "words", "kind": "free_text", "text": "Anything else?", "max_length": 20}
        ]
    }))
}

async fn new_survey(s: &TestServer, admin: &str, def: SurveyDefinition) -> String {
    let v = s.client.create_survey(admin, &def).await.expect("create survey");
    s.client.publish_survey(admin, &v.id).await.expect("publish");
    v.id
}

/// A participant (`extra`: fields other than the defaults, in the contract's JSON form).
async fn participant(s: &TestServer, admin: &str, reference: &str, extra: Value) -> String {
    let req = participant_request(reference, extra);
    s.client.create_participant(admin, &req).await.expect("participant").id
}

fn participant_request(reference: &str, extra: Value) -> CreateParticipantRequest {
    let mut body = json!({"reference": reference, "intervention_type": "referral_order", "start_date": "2025-01-06"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(body).expect("a participant")
}

fn assignment(
    survey: &str,
    participant: &str,
    stage: &str,
    due: &str,
    to: AssignmentRespondent,
) -> CreateAssignmentRequest {
    CreateAssignmentRequest {
        survey_id: survey.into(),
        participant_id: participant.into(),
        stage: SurveyStage::parse(stage).expect("a stage"),
        due_date: due.into(),
        respondent: to,
        access_code_valid_days: None,
    }
}

fn young_person(yp: &TokenResponse) -> AssignmentRespondent {
    AssignmentRespondent::YoungPerson { user_id: yp.user.id.clone() }
}

async fn assign_yp(
    s: &TestServer,
    admin: &str,
    survey: &str,
    participant: &str,
    yp: &TokenResponse,
    stage: &str,
) -> String {
    let req = assignment(survey, participant, stage, "2025-03-01", young_person(yp));
    let c = s.client.create_assignment(admin, &req).await.expect("assign");
    assert!(c.access_code.is_none());
    c.assignment.id
}

fn submission(sid: &str, fin: bool, answers: Vec<SurveyAnswer>) -> SubmitSurveyRequest {
    SubmitSurveyRequest { submission_id: sid.into(), is_final: fin, answers }
}

async fn submit(
    s: &TestServer,
    yp: &TokenResponse,
    assignment: &str,
    sid: &str,
    fin: bool,
    answers: Vec<SurveyAnswer>,
) -> Result<SurveyResponseView, ClientError> {
    s.client.submit_my_survey(&yp.access_token, assignment, &submission(sid, fin, answers)).await
}

fn answers(pairs: &[(&str, Value)]) -> Vec<SurveyAnswer> {
    pairs.iter().map(|(q, v)| SurveyAnswer { question_id: (*q).to_owned(), value: v.clone() }).collect()
}

/// By hand: the access-code header on a route that does not take it (and no bearer token),
/// which the typed client cannot send.
async fn with_code(s: &TestServer, m: Method, path: &str, code: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().request(m, format!("{}{}", s.base, path)).header("X-Access-Code", code);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("send");
    let st = resp.status();
    (st, resp.json().await.unwrap_or(Value::Null))
}

async fn versioning_freezes_versions_and_responses_keep_theirs(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let v = s.client.create_survey(&admin, &every_kind("Start survey", "young_person")).await.unwrap();
    assert_eq!(v.latest_version, None);
    assert!(v.unpublished_changes);
    let p = participant(&s, &admin, "YOT-2025-0001", json!({})).await;
    let yp1 = s.young_person().await;
    // Not published yet: cannot be sent.
    let r = s.client.create_assignment(&admin, &assignment(&v.id, &p, "start", "2025-03-01", young_person(&yp1))).await;
    assert_eq!(status(r), 422);
    let v1 = s.client.publish_survey(&admin, &v.id).await.unwrap();
    assert_eq!(v1.version, 1);
    let a1 = assign_yp(&s, &admin, &v.id, &p, &yp1, "start").await;

    // Edit the published survey: the draft changes, version 1 does not.
    let mut edited = every_kind("Start survey (new wording)", "young_person");
    edited.questions[0].text = "How hopeful are you about the future?".into();
    let after = s.client.update_survey(&admin, &v.id, &edited).await.unwrap();
    assert_eq!(after.latest_version, Some(1));
    assert!(after.unpublished_changes);
    let still = s.client.survey_version(&admin, &v.id, 1).await.unwrap();
    assert_eq!(still.definition.title, "Start survey");
    assert_eq!(still.definition.questions[0].text, "How do you feel about your future?");
    let v2 = s.client.publish_survey(&admin, &v.id).await.unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.definition.title, "Start survey (new wording)");
    // Publishing an unchanged draft makes no new version.
    let again = s.client.publish_survey(&admin, &v.id).await.unwrap();
    assert_eq!(again.version, 2);
    let shown = s.client.survey(&admin, &v.id).await.unwrap();
    assert_eq!(shown.latest_version, Some(2));
    assert!(!shown.unpublished_changes);

    let yp2 = s.young_person().await;
    let a2 = assign_yp(&s, &admin, &v.id, &p, &yp2, "end").await;
    // The first young person still sees (and answers) version 1.
    let mine = s.client.my_surveys(&yp1.access_token).await.unwrap();
    assert_eq!(mine.surveys.len(), 1);
    assert_eq!(mine.surveys[0].survey.version, 1);
    assert_eq!(
        mine.surveys[0].survey.definition.questions[0].child_text.as_deref(),
        Some("How do you feel about what's next?")
    );
    let ok = answers(&[("emoji", json!(3)), ("yes", json!(true))]);
    let r1 = submit(&s, &yp1, &a1, "sub-1", true, ok.clone()).await.unwrap();
    assert_eq!(r1.version, 1);
    let r2 = submit(&s, &yp2, &a2, "sub-2", true, ok).await.unwrap();
    assert_eq!(r2.version, 2);
    let missing = s.client.survey_version(&admin, &v.id, 3).await;
    assert_eq!(status(missing), 404);
}

async fn every_question_type_refuses_bad_answers(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = new_survey(&s, &admin, every_kind("Check-in", "young_person")).await;
    let p = participant(&s, &admin, "YOT-2025-0002", json!({})).await;
    let yp = s.young_person().await;
    let a = assign_yp(&s, &admin, &survey, &p, &yp, "start").await;
    let bad: Vec<(&str, Value, &str)> = vec![
        ("emoji", json!(0), "1 to 5"),
        ("emoji", json!(6), "1 to 5"),
        ("emoji", json!(2.5), "1 to 5"),
        ("emoji", json!("3"), "1 to 5"),
        ("yes", json!("yes"), "true or false"),
        ("yes", json!(1), "true or false"),
        ("one", json!("Swimming"), "one of the options"),
        ("one", json!(["Football"]), "one of the options"),
        ("many", json!("Talk"), "list"),
        ("many", json!([]), "list"),
        ("many", json!(["Talk", "Talk"]), "at most once"),
        ("many", json!(["Talk", "Sing"]), "only options"),
        ("ten", json!(11), "0 to 10"),
        ("ten", json!(-1), "0 to 10"),
        ("words", json!("this answer is far too long for the limit"), "at most 20"),
        ("words", json!("   "), "text of 1 to 20"),
        ("words", json!(5), "text of 1 to 20"),
        ("nope", json!(1), "no question"),
        ("emoji", Value::Null, "leave the question out"),
    ];
    for (q, v, expect) in bad {
        let (st, msg) = message(submit(&s, &yp, &a, "x", false, answers(&[(q, v.clone())])).await);
        assert_eq!(st, 422, "{q} {v}");
        assert!(msg.contains(expect), "{q} {v}: {msg}");
        if q != "nope" {
            assert!(msg.contains(q), "the message names the question: {msg}");
        }
    }
    let (st, msg) =
        message(submit(&s, &yp, &a, "x", false, answers(&[("emoji", json!(1)), ("emoji", json!(2))])).await);
    assert_eq!(st, 422);
    assert!(msg.contains("twice"), "{msg}");
    // A final submission needs every required question.
    let (st, msg) = message(submit(&s, &yp, &a, "x", true, answers(&[("emoji", json!(4))])).await);
    assert_eq!(st, 422);
    assert!(msg.contains("required") && msg.contains("yes"), "{msg}");
    // Nothing invalid was stored.
    let mine = s.client.my_surveys(&yp.access_token).await.unwrap();
    assert!(mine.surveys[0].saved_answers.is_empty());
    assert_eq!(mine.surveys[0].status, AssignmentStatus::Pending);
    // Every kind accepts a good answer.
    let good = answers(&[
        ("emoji", json!(5)),
        ("yes", json!(false)),
        ("one", json!("Art")),
        ("many", json!(["Walk", "Talk"])),
        ("ten", json!(0)),
        ("words", json!("it was ok")),
    ]);
    let r = submit(&s, &yp, &a, "good", true, good).await.unwrap();
    assert!(r.is_final);
    assert_eq!(r.answers.len(), 6);
    // Bad definitions are refused too.
    for (def, expect) in [
        (
            json!({"title": "", "audience": "young_person", "questions": [{"id": "a", "kind": "yes_no", "text": "?"}]}),
            "title",
        ),
        (
            json!({"title": "t", "audience": "young_person", "questions": [{"id": "a", "kind": "single_choice", "text": "?", "options": ["x"]}]}),
            "2 to 20",
        ),
        (
            json!({"title": "t", "audience": "young_person", "questions": [{"id": "a", "kind": "yes_no", "text": "?"}, {"id": "a", "kind": "yes_no", "text": "?"}]}),
            "twice",
        ),
        (
            json!({"title": "t", "audience": "young_person", "questions": [{"id": "a", "kind": "free_text", "text": "?", "max_length": 5000}]}),
            "max_length",
        ),
    ] {
        let (st, msg) = message(s.client.create_survey(&admin, &definition(def)).await);
        assert_eq!(st, 422);
        assert!(msg.contains(expect), "{msg}");
    }
    // By hand: a question kind that does not exist, which the typed definition cannot hold.
    let slider =
        json!({"title": "t", "audience": "young_person", "questions": [{"id": "a", "kind": "slider", "text": "?"}]});
    let (st, msg) =
        message(call(&s.client, Method::POST, "/v1/surveys", Some(&admin), slider).await.json::<SurveyView>());
    assert_eq!(st, 422);
    assert!(msg.contains("unknown variant"), "{msg}");
}

async fn partial_then_final_submission_is_idempotent(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = new_survey(&s, &admin, every_kind("Check-in", "young_person")).await;
    let p = participant(&s, &admin, "YOT-2025-0003", json!({})).await;
    let yp = s.young_person().await;
    let a = assign_yp(&s, &admin, &survey, &p, &yp, "start").await;
    // Part-way: only what is given is checked; required ones may wait.
    let part =
        submit(&s, &yp, &a, "sub-9", false, answers(&[("emoji", json!(2)), ("words", json!("so far"))])).await.unwrap();
    assert!(!part.is_final);
    let again = submit(&s, &yp, &a, "sub-9", false, answers(&[("emoji", json!(4))])).await.unwrap();
    assert_eq!(again.response_id, part.response_id, "one response per assignment");
    let mine = s.client.my_surveys(&yp.access_token).await.unwrap();
    assert_eq!(mine.surveys[0].status, AssignmentStatus::InProgress);
    let saved: Vec<(String, Value)> =
        mine.surveys[0].saved_answers.iter().map(|a| (a.question_id.clone(), a.value.clone())).collect();
    assert_eq!(saved, vec![("emoji".to_owned(), json!(4)), ("words".to_owned(), json!("so far"))]);
    // Finish later.
    let done = submit(&s, &yp, &a, "sub-9", true, answers(&[("yes", json!(true))])).await.unwrap();
    assert!(done.is_final);
    assert_eq!(done.response_id, part.response_id);
    assert_eq!(done.answers.len(), 3);
    // A retry (the network dropped the answer) returns the same response, even concurrently.
    let retries = futures_util::future::join_all(
        (0..4).map(|_| submit(&s, &yp, &a, "sub-9", true, answers(&[("emoji", json!(4)), ("yes", json!(true))]))),
    )
    .await;
    for r in retries {
        let r = r.expect("retry succeeds");
        assert_eq!(r.response_id, done.response_id);
        assert_eq!(r.submitted_at, done.submitted_at);
        assert_eq!(r.answers, done.answers, "the stored response, not the retry's body");
    }
    // A different submission after completion is a conflict, and changes nothing.
    assert_eq!(
        status(submit(&s, &yp, &a, "other", true, answers(&[("emoji", json!(1)), ("yes", json!(false))])).await),
        409
    );
    // A late part-way save with the same submission id changes nothing either.
    let late = submit(&s, &yp, &a, "sub-9", false, answers(&[("emoji", json!(1))])).await.unwrap();
    assert!(late.is_final);
    assert_eq!(late.answers, done.answers);
    let rows = s.state().store.report_rows(&survey).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].answers.as_deref().unwrap().contains("\"so far\""));
    let mine = s.client.my_surveys(&yp.access_token).await.unwrap();
    assert!(mine.surveys.is_empty(), "completed surveys are not pending");
}

async fn parent_access_codes_open_one_assignment_until_expiry(backend: Backend) {
    let clock = Arc::new(ManualClock::new(talkzone_server::clock::SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).start().await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = new_survey(&s, &admin, every_kind("Parent and carer survey", "parent_carer")).await;
    let p1 = participant(&s, &admin, "YOT-2025-0101", json!({})).await;
    let p2 = participant(&s, &admin, "YOT-2025-0102", json!({})).await;
    let make = |p: String, days: u32| {
        let (s, admin, survey) = (&s, admin.clone(), survey.clone());
        async move {
            let req = CreateAssignmentRequest {
                access_code_valid_days: Some(days),
                ..assignment(&survey, &p, "end", "2025-07-01", AssignmentRespondent::ParentCarer)
            };
            let c = s.client.create_assignment(&admin, &req).await.unwrap();
            (c.assignment.id, c.access_code.expect("a code for parents"))
        }
    };
    let (a1, code1) = make(p1.clone(), 7).await;
    let (a2, code2) = make(p2, 30).await;
    assert_ne!(code1, code2);
    // A young person's account cannot be given a parent/carer survey, nor the reverse.
    let yp = s.young_person().await;
    let r = s.client.create_assignment(&admin, &assignment(&survey, &p1, "end", "2025-07-01", young_person(&yp))).await;
    assert_eq!(status(r), 422);

    // The code opens its own assignment only (lower case and without dashes is fine).
    let view = s.client.survey_by_access_code(&code1.to_lowercase().replace('-', "")).await.unwrap();
    assert_eq!(view.assignment_id, a1);
    assert_eq!(view.survey.definition.title, "Parent and carer survey");
    let good = submission("p-1", true, answers(&[("emoji", json!(4)), ("yes", json!(true))]));
    let body = s.client.submit_by_access_code(&code1, &good).await.unwrap();
    assert_eq!(body.assignment_id, a1);
    // Retry is idempotent; the second assignment is untouched.
    let again = s.client.submit_by_access_code(&code1, &good).await.unwrap();
    assert_eq!(again.response_id, body.response_id);
    assert!(s.state().store.response_for_assignment(&a2).await.unwrap().is_none());
    s.client.survey_by_access_code(&code2).await.unwrap();

    // Nothing else: not as a bearer token, not on staff or young-person routes, not a guess.
    let report = format!("/v1/surveys/{survey}/versions/1/report");
    for path in ["/v1/me/surveys", "/v1/surveys", &report] {
        let (st, _) = with_code(&s, Method::GET, path, &code1, None).await;
        assert_eq!(st, 401, "{path}");
    }
    assert_eq!(status(s.client.my_surveys(&code1).await), 401, "the code as a bearer token");
    assert_eq!(status(s.client.list_surveys(&code1).await), 401, "the code as a bearer token");
    assert_eq!(
        status(s.client.survey_report(&code1, &survey, 1, &no_filters()).await),
        401,
        "the code as a bearer token"
    );
    let (st, _) = with_code(
        &s,
        Method::POST,
        &format!("/v1/me/surveys/{a2}/responses"),
        &code1,
        Some(json!({"submission_id": "x", "final": false, "answers": []})),
    )
    .await;
    assert_eq!(st, 401);
    let mut forged = code1.replace('-', "");
    let last = forged.pop().unwrap();
    forged.push(if last == 'Z' { 'Y' } else { 'Z' });
    assert_eq!(status(s.client.survey_by_access_code(&forged).await), 401, "a near miss is not accepted");
    assert_eq!(status(s.client.survey_by_access_code("").await), 401);

    // Only a hash is stored.
    let row = s.state().store.assignment(&a1).await.unwrap().unwrap();
    let plain = code1.replace('-', "");
    assert!(!row.code_hash.as_deref().unwrap().contains(&plain));
    assert_ne!(row.code_hash.as_deref(), Some(plain.as_str()));

    // Expiry: code 1 lasts 7 days, code 2 lasts 30.
    clock.advance_ms(8 * 24 * 3_600_000);
    let (st, msg) = message(s.client.survey_by_access_code(&code1).await);
    assert_eq!(st, 403, "{msg}");
    assert!(msg.contains("expired"), "{msg}");
    s.client.survey_by_access_code(&code2).await.unwrap();
    clock.advance_ms(30 * 24 * 3_600_000);
    let late = SubmitSurveyRequest { submission_id: "late".into(), ..good };
    assert_eq!(status(s.client.submit_by_access_code(&code2, &late).await), 403);
    assert!(s.state().store.response_for_assignment(&a2).await.unwrap().is_none());
}

/// Guessing codes is throttled per IP like sign-in: after the burst, even the right code waits.
async fn access_code_guessing_is_throttled(backend: Backend) {
    let s = TestServer::builder(backend)
        .config(|c| {
            c.limits.auth_per_ip_per_min = 1;
            c.limits.auth_burst = 6;
        })
        .start()
        .await;
    let admin = s.staff(Role::YotAdmin).await.access_token; // one sign-in from this IP
    let survey = new_survey(&s, &admin, every_kind("Parent survey", "parent_carer")).await;
    let p = participant(&s, &admin, "YOT-2025-0700", json!({})).await;
    let req = assignment(&survey, &p, "start", "2025-07-01", AssignmentRespondent::ParentCarer);
    let c = s.client.create_assignment(&admin, &req).await.unwrap();
    let code = c.access_code.unwrap();
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(status(s.client.survey_by_access_code(&format!("AAAA-BBBB-CCC{i}")).await));
    }
    assert!(statuses[..4].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let st = status(s.client.survey_by_access_code(&code).await);
    assert_eq!(st, 429, "the limit applies before the code is looked at");
}

/// 16 participants answered at start and end: 6 improved by 2 (2 → 4), 5 stayed at 3, 5 went
/// from 4 to 3; one more answered only at the start.
async fn distance_travelled_on_a_known_data_set(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = new_survey(&s, &admin, every_kind("Journey", "young_person")).await;
    let plan: Vec<(i64, i64, &str)> = std::iter::repeat_n((2, 4, "triage"), 6)
        .chain(std::iter::repeat_n((3, 3, "referral_order"), 5))
        .chain(std::iter::repeat_n((4, 3, "referral_order"), 5))
        .collect();
    for (i, (start, end, kind)) in plan.iter().enumerate() {
        let p = participant(&s, &admin, &format!("YOT-D-{i:03}"), json!({"intervention_type": kind})).await;
        let yp = s.young_person().await;
        let a = assign_yp(&s, &admin, &survey, &p, &yp, "start").await;
        submit(
            &s,
            &yp,
            &a,
            "s",
            true,
            answers(&[("emoji", json!(start)), ("yes", json!(true)), ("ten", json!(start * 2))]),
        )
        .await
        .unwrap();
        let b = assign_yp(&s, &admin, &survey, &p, &yp, "end").await;
        submit(
            &s,
            &yp,
            &b,
            "e",
            true,
            answers(&[("emoji", json!(end)), ("yes", json!(true)), ("ten", json!(end * 2))]),
        )
        .await
        .unwrap();
    }
    let lone = participant(&s, &admin, "YOT-D-999", json!({})).await;
    let yp = s.young_person().await;
    let a = assign_yp(&s, &admin, &survey, &lone, &yp, "start").await;
    submit(&s, &yp, &a, "s", true, answers(&[("emoji", json!(1)), ("yes", json!(true))])).await.unwrap();

    let d = s.client.distance(&admin, &survey, &distance_of("emoji", |_| {})).await.unwrap();
    assert!(!d.suppressed, "{:?}", d.suppression_reason);
    assert_eq!(d.pairs.value, Some(16));
    assert_eq!(d.improved.count, Some(6));
    assert_eq!(d.same.count, Some(5));
    assert_eq!(d.worse.count, Some(5));
    assert_eq!(d.improved.share, Some(0.375));
    assert_eq!(d.same.share, Some(0.313));
    // (6 × 2 + 5 × 0 + 5 × −1) / 16 = 0.4375
    assert_eq!(d.mean_change, Some(0.438));
    let start_to_end = |q: &mut DistanceQuery| {
        q.from_stage = Some("start".into());
        q.to_stage = Some("end".into());
    };
    let d10 = s.client.distance(&admin, &survey, &distance_of("ten", start_to_end)).await.unwrap();
    assert_eq!(d10.mean_change, Some(0.875));
    // Triage only: 6 pairs, all improved; "same" and "worse" are 0 (< 5) → suppressed.
    let triage = |q: &mut DistanceQuery| q.intervention_type = Some("triage".into());
    let t = s.client.distance(&admin, &survey, &distance_of("emoji", triage)).await.unwrap();
    assert!(!t.suppressed, "{:?}", t.suppression_reason);
    assert_eq!(t.pairs.value, Some(6));
    assert!(t.same.suppressed && t.worse.suppressed && t.same.count.is_none());
    assert_eq!(t.improved.count, Some(6));
    assert_eq!(t.mean_change, None, "withheld while any cell is suppressed");
    // The same numbers as CSV and as a chart. (By hand where the content type is the assertion:
    // the typed client answers the text only.)
    let export = |path: String| {
        let (client, admin) = (&s.client, &admin);
        async move {
            let (st, headers, body) = client.raw(Method::GET, &path, Some(admin), vec![]).await.unwrap();
            assert_eq!(st, 200, "{path}: {body}");
            (headers[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned(), body)
        }
    };
    let (kind, csv) = export(format!("/v1/surveys/{survey}/distance.csv?question_id=emoji")).await;
    assert!(kind.starts_with("text/csv"), "{kind}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "measure,value,share,suppressed");
    for line in [
        "pairs,16,,false",
        "mean_change,0.438,,false",
        "improved,6,0.375,false",
        "same,5,0.313,false",
        "worse,5,0.313,false",
        "whole_report_suppressed,false,,false",
        "from_stage,start,,false",
        "to_stage,end,,false",
    ] {
        assert!(lines.contains(&line), "{line} in {csv}");
    }
    let csv = s.client.distance_csv(&admin, &survey, &distance_of("emoji", triage)).await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    for line in ["pairs,6,,false", "improved,6,1,false", "same,,,true", "worse,,,true", "mean_change,,,true"] {
        assert!(lines.contains(&line), "{line} in {csv}");
    }
    let (kind, svg) = export(format!("/v1/surveys/{survey}/distance.svg?question_id=emoji")).await;
    assert!(kind.starts_with("image/svg+xml"), "{kind}");
    assert!(svg.starts_with("<svg") && svg.contains(">6</text>") && svg.contains(">5</text>"), "{svg}");
    assert_eq!(svg.matches("fill=\"#3b6ea5\"").count(), 3, "{svg}");
    assert!(svg.contains("Answered at both stages: 16. Mean change: +0.438"), "{svg}");
    let svg = s.client.distance_chart(&admin, &survey, &distance_of("emoji", triage)).await.unwrap();
    assert_eq!(svg.matches("fill=\"#3b6ea5\"").count(), 1, "{svg}");
    assert_eq!(svg.matches("suppressed (fewer than 5)").count(), 2, "{svg}");
    assert!(svg.contains("Mean change: withheld"), "{svg}");
    // A selection too small to show at all: no numbers in either.
    let nobody = |q: &mut DistanceQuery| q.intervention_type = Some("prevention_programme".into());
    let csv = s.client.distance_csv(&admin, &survey, &distance_of("emoji", nobody)).await.unwrap();
    assert!(
        csv.contains("whole_report_suppressed,true") && csv.contains("pairs,,,true") && csv.contains("improved,,,true"),
        "{csv}"
    );
    let svg = s.client.distance_chart(&admin, &survey, &distance_of("emoji", nobody)).await.unwrap();
    assert!(svg.contains("Not shown") && !svg.contains("<rect"), "{svg}");
    let (st, msg) = message(s.client.distance_csv(&admin, &survey, &distance_of("yes", |_| {})).await);
    assert_eq!(st, 422, "not a scale question: {msg}");
    // Not a scale question; bad stage.
    let r = s.client.distance(&admin, &survey, &distance_of("yes", |_| {})).await;
    assert_eq!(status(r), 422);
    let later = |q: &mut DistanceQuery| q.to_stage = Some("later".into());
    let r = s.client.distance(&admin, &survey, &distance_of("emoji", later)).await;
    assert_eq!(status(r), 422);
}

/// Deleting a participant takes their assignments and answers with them: out of the young
/// person's list, out of the numbers; a report that would show them by difference with one
/// released before is withheld. Only YOT admins may; a second delete is 404.
async fn deleting_a_participant_takes_their_answers(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin_t = s.staff(Role::YotAdmin).await;
    let admin = admin_t.access_token.clone();
    let survey = new_survey(&s, &admin, every_kind("Start survey", "young_person")).await;
    let mut people = Vec::new();
    for i in 0..7 {
        let p = participant(&s, &admin, &format!("YOT-X-{i:03}"), json!({})).await;
        let yp = s.young_person().await;
        let a = assign_yp(&s, &admin, &survey, &p, &yp, "start").await;
        submit(&s, &yp, &a, "s", true, answers(&[("emoji", json!(4)), ("yes", json!(true))])).await.unwrap();
        people.push((p, yp));
    }
    // One more, assigned but not yet answered.
    let (pending_p, pending_yp) = {
        let p = participant(&s, &admin, "YOT-X-100", json!({})).await;
        let yp = s.young_person().await;
        assign_yp(&s, &admin, &survey, &p, &yp, "start").await;
        (p, yp)
    };
    let before = s.client.survey_report(&admin, &survey, 1, &no_filters()).await.unwrap();
    assert!(!before.suppressed, "{:?}", before.suppression_reason);
    assert_eq!(before.completed.value, Some(7));

    for token in [&people[0].1.access_token, &s.staff(Role::Supervisor).await.access_token] {
        assert_eq!(status(s.client.delete_participant(token, &pending_p).await), 403);
    }
    let mine = s.client.my_surveys(&pending_yp.access_token).await.unwrap();
    assert_eq!(mine.surveys.len(), 1);
    let gone = s.client.delete_participant(&admin, &pending_p).await.unwrap();
    assert_eq!((gone.id.as_str(), gone.assignments_deleted), (pending_p.as_str(), 1));
    let mine = s.client.my_surveys(&pending_yp.access_token).await.unwrap();
    assert!(mine.surveys.is_empty(), "the deleted participant's survey is no longer asked for");
    assert_eq!(status(s.client.delete_participant(&admin, &pending_p).await), 404);

    let answered = &people[0].0;
    let gone = s.client.delete_participant(&admin, answered).await.unwrap();
    assert_eq!(gone.assignments_deleted, 1);
    let list = s.client.list_participants(&admin).await.unwrap();
    assert!(!list.participants.iter().any(|p| &p.id == answered || p.id == pending_p));
    assert_eq!(list.participants.len(), 6);
    // 7 → 6 answered: one person apart from the report released before, so this one is withheld.
    let after = s.client.survey_report(&admin, &survey, 1, &no_filters()).await.unwrap();
    assert!(after.suppressed && after.completed.value.is_none(), "{after:?}");
    // Stored: no answers or assignments left for them.
    let rows = s.state().store.report_rows(&survey).await.unwrap();
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.participant_id.as_deref() != Some(answered.as_str())));

    let log = s.client.audit_log(&admin, &AuditQuery { days: Some(1) }).await.unwrap();
    let deleted: Vec<_> = log.entries.iter().filter(|e| e.action == "survey_participant_deleted").collect();
    assert_eq!(deleted.len(), 2, "one entry per delete that happened");
    assert!(deleted.iter().all(|e| e.actor_id.as_ref() == Some(&admin_t.user.id)));
    assert!(deleted.iter().any(|e| e.target.as_deref() == Some(format!("survey_participant:{answered}").as_str())));
}

/// 12 respondents (8 White, 4 Black), plus one young person who has not answered.
async fn seed_population(s: &TestServer, admin: &str) -> String {
    let def = definition(json!({"title": "Exit survey", "audience": "young_person", "questions": [
        {"id": "feel", "kind": "emoji_scale", "text": "How do you feel now?", "required": true},
        {"id": "helped", "kind": "yes_no", "text": "Did it help?", "required": true},
        {"id": "say", "kind": "free_text", "text": "Anything to add?"}
    ]}));
    let survey = new_survey(s, admin, def).await;
    for i in 0..12 {
        let ethnicity = if i < 8 { "white" } else { "black_black_british_caribbean_african" };
        let kind = if i % 2 == 0 { "triage" } else { "reparation" };
        let p =
            participant(s, admin, &format!("YOT-S-{i:03}"), json!({"ethnicity": ethnicity, "intervention_type": kind}))
                .await;
        let yp = s.young_person().await;
        let a = assign_yp(s, admin, &survey, &p, &yp, "end").await;
        let feel = if i < 7 { 5 } else { 4 };
        let helped = i < 9;
        let say = if i == 0 { "call me on 07700 900123 please" } else { "it was good" };
        submit(
            s,
            &yp,
            &a,
            "s",
            true,
            answers(&[("feel", json!(feel)), ("helped", json!(helped)), ("say", json!(say))]),
        )
        .await
        .unwrap();
    }
    let p = participant(s, admin, "YOT-S-100", json!({"ethnicity": "white"})).await;
    let yp = s.young_person().await;
    assign_yp(s, admin, &survey, &p, &yp, "end").await;
    survey
}

fn assignments_query(status: Option<&str>, answers: bool) -> AssignmentListQuery {
    AssignmentListQuery { status: status.map(str::to_owned), answers }
}

fn question<'a>(r: &'a SurveyReport, id: &str) -> &'a talkzone_mobile_api::QuestionReport {
    r.questions.iter().find(|q| q.question_id == id).expect("question in report")
}

fn exact(r: &SurveyReport) -> bool {
    !r.suppressed && r.completed.value.is_some()
}

async fn suppression_and_the_differencing_attack(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = seed_population(&s, &admin).await;
    let base = format!("/v1/surveys/{survey}/versions/1/report");
    let report = |f: ReportFilters| {
        let (client, admin, survey) = (&s.client, &admin, &survey);
        async move { client.survey_report(admin, survey, 1, &f).await }
    };

    let all = report(no_filters()).await.unwrap();
    assert!(exact(&all), "{:?}", all.suppression_reason);
    assert_eq!(all.threshold, 5);
    assert_eq!(all.completed.value, Some(12));
    // 13 assigned, 12 completed: one non-respondent would be given away by the total.
    assert!(all.assigned.suppressed && all.assigned.value.is_none());
    assert_eq!(all.response_rate, None);
    let feel = question(&all, "feel");
    assert_eq!(feel.answered.value, Some(12));
    let cells: Vec<(String, Option<i64>, bool)> =
        feel.distribution.iter().map(|c| (c.label.clone(), c.count, c.suppressed)).collect();
    assert_eq!(cells[3], ("4".to_owned(), Some(5), false));
    assert_eq!(cells[4], ("5".to_owned(), Some(7), false));
    assert!(cells[..3].iter().all(|c| c.1.is_none() && c.2), "zero cells are under the threshold too");
    assert!(feel.stats_suppressed && feel.mean.is_none());
    // Yes 9 / No 3: "no" is suppressed, and so is "yes", or 12 − 9 would give "no" back.
    let helped = question(&all, "helped");
    assert!(helped.distribution.iter().all(|c| c.suppressed && c.count.is_none()), "{:?}", helped.distribution);
    // Free text is redacted.
    let say = question(&all, "say");
    let texts = say.free_text.as_ref().expect("free text for yot_admin");
    assert_eq!(texts.len(), 12);
    assert!(texts.iter().all(|t| !t.contains("07700")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("[phone]")), "{texts:?}");
    // The same selection again (e.g. to export it) is fine.
    let repeat = report(no_filters()).await.unwrap();
    assert!(exact(&repeat));
    assert_eq!(repeat.completed.value, Some(12));

    // A small group on its own is withheld.
    let black = report(filters(|f| f.ethnicity = Some("black_black_british_caribbean_african".into()))).await.unwrap();
    assert!(black.suppressed && black.completed.value.is_none());
    assert!(black
        .questions
        .iter()
        .all(|q| q.answered.value.is_none() && q.distribution.iter().all(|c| c.count.is_none())));
    assert!(question(&black, "say").free_text.is_none());
    // The differencing attack: "everyone" minus "White" would be the 4 (+1) others. The White
    // report is large enough on its own, but it must not also be exact.
    let white = report(filters(|f| f.ethnicity = Some("white".into()))).await.unwrap();
    assert!(!(exact(&all) && exact(&white)), "both exact: the difference reveals a group under 5");
    assert!(white.suppressed);
    assert!(white.suppression_reason.as_deref().unwrap().contains("differs from a report already released"));
    assert!(white.questions.iter().all(|q| q.distribution.iter().all(|c| c.count.is_none()) && q.mean.is_none()));
    // A selection that differs by 5 or more is allowed (triage: 6 of 12 respondents + 0/1).
    let triage = report(filters(|f| f.intervention_type = Some("triage".into()))).await.unwrap();
    assert!(exact(&triage), "{:?}", triage.suppression_reason);
    assert_eq!(triage.completed.value, Some(6));

    // One more response: "everyone" again would differ from the first release by one person.
    let rows = s.state().store.report_rows(&survey).await.unwrap();
    let pending = rows.iter().find(|r| r.answers.is_none()).expect("the unanswered assignment");
    let a = s.state().store.assignment(&pending.assignment_id).await.unwrap().unwrap();
    let yp_id = a.respondent_user_id.clone().unwrap();
    // Answer it through the store's own path (the test has no token for that account).
    let req = talkzone_mobile_api::SubmitSurveyRequest {
        submission_id: "late".into(),
        is_final: true,
        answers: vec![
            talkzone_mobile_api::SurveyAnswer { question_id: "feel".into(), value: json!(1) },
            talkzone_mobile_api::SurveyAnswer { question_id: "helped".into(), value: json!(false) },
        ],
    };
    talkzone_server::surveys::submit(s.state(), &a, req).await.unwrap();
    assert!(!yp_id.is_empty());
    let later = report(no_filters()).await.unwrap();
    assert!(later.suppressed, "13 vs 12 released earlier: the newcomer's answers would show");
    assert_eq!(later.completed.value, None);

    // Bad filters are refused clearly.
    let r = report(filters(|f| f.from = Some("2025-13-01".into()))).await;
    assert_eq!(status(r), 422);
    let r: Result<SurveyReport, _> = get_raw(&s.client, &format!("{base}?colour=blue"), &admin).await;
    assert_eq!(status(r), 400);
}

/// The same attack with both reports asked for at the same moment: still at most one is exact.
async fn differencing_reports_run_together_are_checked_one_at_a_time(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = seed_population(&s, &admin).await;
    for round in 0..3 {
        let to = format!("2025-12-{:02}", 20 + round);
        let white_filters = filters(|f| {
            f.ethnicity = Some("white".into());
            f.stage = Some("end".into());
            f.to = Some(to.clone());
        });
        let all_filters = filters(|f| f.to = Some(to.clone()));
        let (all, white) = tokio::join!(
            s.client.survey_report(&admin, &survey, 1, &all_filters),
            s.client.survey_report(&admin, &survey, 1, &white_filters)
        );
        let (all, white) = (all.unwrap(), white.unwrap());
        assert!(!(exact(&all) && exact(&white)), "round {round}: both exact");
        assert!(exact(&all) || exact(&white), "round {round}: one of them is released");
    }
}

async fn csv_and_svg_exports_apply_the_same_rules(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = seed_population(&s, &admin).await;
    let white = filters(|f| f.ethnicity = Some("white".into()));
    // By hand where the content type is the assertion: the typed client answers the text only.
    let (st, headers, csv) = s
        .client
        .raw(Method::GET, &format!("/v1/surveys/{survey}/versions/1/report.csv"), Some(&admin), vec![])
        .await
        .unwrap();
    assert_eq!(st, 200, "{csv}");
    assert!(headers[reqwest::header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "section,question_id,question,label,value,suppressed");
    assert!(lines.contains(&"summary,,,completed,12,false"), "{csv}");
    assert!(lines.contains(&"summary,,,assigned,,true"), "{csv}");
    assert!(lines.contains(&"distribution,feel,How do you feel now?,5,7,false"), "{csv}");
    assert!(lines.contains(&"distribution,feel,How do you feel now?,1,,true"), "{csv}");
    assert!(lines.contains(&"distribution,helped,Did it help?,no,,true"), "{csv}");
    assert!(lines.contains(&"distribution,helped,Did it help?,yes,,true"), "{csv}");
    assert!(!csv.contains("07700") && !csv.contains("it was good"), "no free text in the CSV");
    // A withheld selection exports no numbers at all.
    let small = s.client.survey_report_csv(&admin, &survey, 1, &white).await.unwrap();
    assert!(small.contains("whole_report_suppressed,true"), "{small}");
    for line in
        small.lines().filter(|l| l.starts_with("summary") || l.starts_with("distribution") || l.starts_with("question"))
    {
        assert!(line.ends_with(",,true"), "{line}");
    }

    // By hand: the content type is the assertion.
    let (st, headers, svg) = s
        .client
        .raw(Method::GET, &format!("/v1/surveys/{survey}/versions/1/questions/feel/chart.svg"), Some(&admin), vec![])
        .await
        .unwrap();
    assert_eq!(st, 200);
    assert!(headers[reqwest::header::CONTENT_TYPE].to_str().unwrap().starts_with("image/svg+xml"));
    assert!(svg.starts_with("<svg") && svg.contains(">7</text>") && svg.contains("suppressed (fewer than 5)"), "{svg}");
    assert_eq!(svg.matches("fill=\"#3b6ea5\"").count(), 2, "bars only for 4 and 5: {svg}");
    assert_eq!(svg.matches("suppressed (fewer than 5)").count(), 3, "{svg}");
    let svg = s.client.question_chart(&admin, &survey, 1, "feel", &white).await.unwrap();
    assert!(svg.contains("Not shown") && !svg.contains("<rect"), "{svg}");
    assert_eq!(status(s.client.question_chart(&admin, &survey, 1, "nope", &no_filters()).await), 404);
}

async fn who_may_do_what(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let worker = s.staff(Role::DutyWorker).await.access_token;
    let supervisor = s.staff(Role::Supervisor).await.access_token;
    let survey = new_survey(&s, &admin, every_kind("Check-in", "young_person")).await;
    let p = participant(&s, &admin, "YOT-2025-0500", json!({})).await;
    let alice = s.young_person().await;
    let bob = s.young_person().await;
    let mut alice_ws = s.client.connect(&alice.access_token).await.unwrap();
    alice_ws.round_trip().await.unwrap();
    let mut bob_ws = s.client.connect(&bob.access_token).await.unwrap();
    bob_ws.round_trip().await.unwrap();
    let a_alice = assign_yp(&s, &admin, &survey, &p, &alice, "start").await;
    // Alice is told live; Bob hears nothing about Alice's survey.
    let frame = alice_ws
        .recv_until(Duration::from_secs(10), |f| matches!(f, ServerFrame::Survey(_)))
        .await
        .expect("survey frame");
    match frame {
        ServerFrame::Survey(p) => {
            assert_eq!(p.assignment_id, a_alice);
            assert_eq!(p.survey.definition.title, "Check-in");
        }
        other => unreachable!("{other:?}"),
    }
    bob_ws.send(&ClientFrame::Ping { nonce: Some(json!("barrier")) }).await.unwrap();
    loop {
        match bob_ws.recv_timeout(Duration::from_secs(10)).await.expect("frames until pong") {
            ServerFrame::Pong { .. } => break,
            ServerFrame::Survey(p) => panic!("Bob was told about {}", p.assignment_id),
            _ => {}
        }
    }
    let a_bob = assign_yp(&s, &admin, &survey, &p, &bob, "start").await;

    let mine = s.client.my_surveys(&alice.access_token).await.unwrap();
    assert_eq!(mine.surveys.iter().map(|x| x.assignment_id.clone()).collect::<Vec<_>>(), vec![a_alice.clone()]);
    // Alice cannot answer Bob's survey: it is "not found", not "forbidden".
    let r = submit(&s, &alice, &a_bob, "x", false, answers(&[("emoji", json!(3))])).await;
    assert_eq!(status(r), 404);
    assert!(s.state().store.response_for_assignment(&a_bob).await.unwrap().is_none());
    let r = submit(&s, &alice, "no-such-assignment", "x", false, answers(&[("emoji", json!(3))])).await;
    assert_eq!(status(r), 404);

    let report = format!("/v1/surveys/{survey}/versions/1/report");
    let emoji = distance_of("emoji", |_| {});
    let refused = |r: Result<(), ClientError>| r.err().and_then(|e| e.status());
    for token in [&alice.access_token, &worker, &supervisor] {
        let c = &s.client;
        for (what, st) in [
            ("report", refused(c.survey_report(token, &survey, 1, &no_filters()).await.map(drop))),
            ("report.csv", refused(c.survey_report_csv(token, &survey, 1, &no_filters()).await.map(drop))),
            ("chart.svg", refused(c.question_chart(token, &survey, 1, "emoji", &no_filters()).await.map(drop))),
            ("distance", refused(c.distance(token, &survey, &emoji).await.map(drop))),
            ("distance.csv", refused(c.distance_csv(token, &survey, &emoji).await.map(drop))),
            ("distance.svg", refused(c.distance_chart(token, &survey, &emoji).await.map(drop))),
            ("surveys", refused(c.list_surveys(token).await.map(drop))),
            ("survey-participants", refused(c.list_participants(token).await.map(drop))),
            ("intervention-types", refused(c.list_intervention_types(token).await.map(drop))),
        ] {
            assert_eq!(st, Some(403), "{what}");
        }
        let r = s.client.create_survey(token, &every_kind("x", "young_person")).await;
        assert_eq!(status(r), 403);
        let p = participant_request("YOT-9", json!({"intervention_type": "triage", "start_date": "2025-01-01"}));
        assert_eq!(status(s.client.create_participant(token, &p).await), 403);
    }
    // By hand: no Authorization header at all, which the typed client cannot send.
    let (st, _, _) = s.client.raw(Method::GET, &report, None, vec![]).await.unwrap();
    assert_eq!(st, 401);
    // Staff have no pending surveys of their own.
    assert_eq!(status(s.client.my_surveys(&admin).await), 403);
    // Participants are pseudonymous: a bare name is refused as a reference.
    let p = participant_request("Jamie Smith", json!({"intervention_type": "triage", "start_date": "2025-01-01"}));
    assert_eq!(status(s.client.create_participant(&admin, &p).await), 422);
    let p = participant_request("YOT-1", json!({"intervention_type": "speeding", "start_date": "2025-01-01"}));
    assert_eq!(status(s.client.create_participant(&admin, &p).await), 422);
    // The managed list: defaults, additions, retirement.
    let list = s.client.list_intervention_types(&admin).await.unwrap();
    assert_eq!(list.intervention_types.len(), 11);
    assert!(list.intervention_types.iter().any(|t| t.id == "fire_safety_day"));
    let knife = CreateInterventionTypeRequest { name: "Knife crime awareness".into() };
    let added = s.client.create_intervention_type(&admin, &knife).await.unwrap();
    assert_eq!(added.id, "knife_crime_awareness");
    assert_eq!(status(s.client.create_intervention_type(&admin, &knife).await), 409);
    // By hand: the 204 is the assertion, and the typed client answers `()` for any success.
    let (st, _, _) = s
        .client
        .raw(Method::POST, "/v1/intervention-types/knife_crime_awareness/retire", Some(&admin), vec![])
        .await
        .unwrap();
    assert_eq!(st, 204);
    let p =
        participant_request("YOT-2", json!({"intervention_type": "knife_crime_awareness", "start_date": "2025-01-01"}));
    assert_eq!(status(s.client.create_participant(&admin, &p).await), 422);

    // Every survey route is in the OpenAPI document.
    let doc = s.client.openapi().await.unwrap();
    for path in [
        "/v1/intervention-types",
        "/v1/intervention-types/{id}/retire",
        "/v1/surveys",
        "/v1/surveys/{id}",
        "/v1/surveys/{id}/publish",
        "/v1/surveys/{id}/versions/{version}",
        "/v1/survey-participants",
        "/v1/survey-participants/{id}",
        "/v1/survey-assignments",
        "/v1/surveys/{id}/versions/{version}/report",
        "/v1/surveys/{id}/versions/{version}/report.csv",
        "/v1/surveys/{id}/versions/{version}/questions/{question_id}/chart.svg",
        "/v1/surveys/{id}/distance",
        "/v1/surveys/{id}/distance.csv",
        "/v1/surveys/{id}/distance.svg",
        "/v1/me/surveys",
        "/v1/me/surveys/{assignment_id}/responses",
        "/v1/survey-access",
        "/v1/survey-access/responses",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from OpenAPI");
    }
}

/// A short survey fit to follow a chat.
fn chat_feedback_def() -> SurveyDefinition {
    definition(json!({"title": "How was your chat?", "audience": "young_person", "questions": [
        {"id": "rating", "kind": "emoji_scale", "text": "How was your chat?", "required": true},
        {"id": "listened", "kind": "yes_no", "text": "Did you feel listened to?", "required": true},
        {"id": "else", "kind": "free_text", "text": "Anything else?", "max_length": 200}
    ]}))
}

/// A support chat opened by `yp`, accepted by `worker` and closed; returns it.
async fn chat_then_close(s: &TestServer, yp: &TokenResponse, worker: &str) -> ConversationView {
    let req = CreateConversationRequest { topic: None, first_message: Some("can I talk to someone".into()) };
    let (_, conv) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    s.client.accept(worker, &conv.id).await.unwrap();
    let resolved = CloseRequest { outcome: "resolved".into(), tags: Vec::new() };
    s.client
        .close_conversation(worker, &conv.id, &resolved)
        .await
        .expect("closing is never blocked by the feedback offer")
}

async fn set_feedback(s: &TestServer, token: &str, survey: Option<&str>) -> Result<ChatFeedbackSetting, ClientError> {
    s.client.set_chat_feedback(token, &ChatFeedbackSetting { survey_id: survey.map(str::to_owned) }).await
}

async fn chat_feedback_is_offered_when_a_chat_closes(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let worker = s.staff(Role::DutyWorker).await.access_token;

    // Nothing is configured at first, so closing a chat offers nothing.
    let first = s.young_person().await;
    chat_then_close(&s, &first, &worker).await;
    let mine = s.client.my_surveys(&first.access_token).await.unwrap();
    assert!(mine.surveys.is_empty(), "no feedback survey until the YOT chooses one");
    let shown = s.client.chat_feedback(&admin).await.unwrap();
    assert_eq!(shown.survey_id, None);

    // Choosing one: only yot_admin, and only a published, short, young-person survey.
    let draft = s.client.create_survey(&admin, &chat_feedback_def()).await.unwrap();
    let (st, msg) = message(set_feedback(&s, &admin, Some(&draft.id)).await);
    assert_eq!(st, 422);
    assert!(msg.contains("publish"), "{msg}");
    assert_eq!(status(set_feedback(&s, &admin, Some("no-such-survey")).await), 422);
    let parents = new_survey(&s, &admin, every_kind("Parents", "parent_carer")).await;
    let (st, msg) = message(set_feedback(&s, &admin, Some(&parents)).await);
    assert_eq!(st, 422);
    assert!(msg.contains("young_person"), "{msg}");
    let long = new_survey(&s, &admin, every_kind("Six questions", "young_person")).await;
    let (st, msg) = message(set_feedback(&s, &admin, Some(&long)).await);
    assert_eq!(st, 422);
    assert!(msg.contains("at most 5"), "{msg}");
    let survey = new_survey(&s, &admin, chat_feedback_def()).await;
    for token in [&worker, &first.access_token] {
        assert_eq!(status(set_feedback(&s, token, Some(&survey)).await), 403);
        assert_eq!(status(s.client.chat_feedback(token).await), 403);
    }
    assert_eq!(set_feedback(&s, &admin, Some(&survey)).await.unwrap().survey_id.as_deref(), Some(survey.as_str()));
    let shown = s.client.chat_feedback(&admin).await.unwrap();
    assert_eq!(shown.survey_id.as_deref(), Some(survey.as_str()));

    // Alice (anonymous) is connected when her chat closes: the frame arrives, and the list has it.
    let alice = s.young_person().await;
    let bob = s.young_person().await;
    let mut alice_ws = s.client.connect(&alice.access_token).await.unwrap();
    alice_ws.round_trip().await.unwrap();
    let conv = chat_then_close(&s, &alice, &worker).await;
    let frame = alice_ws
        .recv_until(Duration::from_secs(10), |f| matches!(f, ServerFrame::Survey(_)))
        .await
        .expect("the feedback survey frame");
    let ServerFrame::Survey(offered) = frame else { unreachable!() };
    assert_eq!(offered.conversation_id.as_ref(), Some(&conv.id), "tied to the conversation");
    assert_eq!(offered.survey.definition.title, "How was your chat?");
    let mine = s.client.my_surveys(&alice.access_token).await.unwrap();
    assert_eq!(mine.surveys, vec![offered.clone()]);
    // No participant record was made for her: she stays anonymous.
    let participants = s.client.list_participants(&admin).await.unwrap();
    assert!(participants.participants.is_empty());

    // Bob sees none of it and cannot answer it.
    let his = s.client.my_surveys(&bob.access_token).await.unwrap();
    assert!(his.surveys.is_empty());
    let r = submit(
        &s,
        &bob,
        &offered.assignment_id,
        "x",
        true,
        answers(&[("rating", json!(1)), ("listened", json!(false))]),
    )
    .await;
    assert_eq!(status(r), 404);

    let done = submit(
        &s,
        &alice,
        &offered.assignment_id,
        "f1",
        true,
        answers(&[("rating", json!(5)), ("listened", json!(true)), ("else", json!("thanks, ring me on 07700 900123"))]),
    )
    .await
    .unwrap();
    assert!(done.is_final);
    let mine = s.client.my_surveys(&alice.access_token).await.unwrap();
    assert!(mine.surveys.is_empty());

    // Four more young people answer after their chats: five in all, so the report shows them.
    for i in 0..4 {
        let yp = s.young_person().await;
        chat_then_close(&s, &yp, &worker).await;
        let mine = s.client.my_surveys(&yp.access_token).await.unwrap();
        assert_eq!(mine.surveys.len(), 1, "one offer per closed chat");
        submit(
            &s,
            &yp,
            &mine.surveys[0].assignment_id,
            "f",
            true,
            answers(&[("rating", json!(5)), ("listened", json!(i < 4))]),
        )
        .await
        .unwrap();
    }
    let report = s.client.survey_report(&admin, &survey, 1, &no_filters()).await.unwrap();
    assert!(exact(&report), "{:?}", report.suppression_reason);
    assert_eq!(report.completed.value, Some(5), "the chat feedback is counted");
    assert_eq!(question(&report, "rating").distribution[4].count, Some(5));
    // An intervention filter leaves chat feedback out (it has no participant).
    let triage = filters(|f| f.intervention_type = Some("triage".into()));
    let filtered = s.client.survey_report(&admin, &survey, 1, &triage).await.unwrap();
    assert!(filtered.suppressed);
    // The staff list shows the offers as chat feedback, with nobody's account or chat.
    let list = s.client.list_assignments(&admin, &survey, &assignments_query(None, false)).await.unwrap();
    assert_eq!(list.assignments.len(), 5);
    assert!(list.assignments.iter().all(|a| a.chat_feedback && a.participant_reference.is_none()));
    let raw = serde_json::to_string(&list).unwrap();
    assert!(!raw.contains(alice.user.id.as_str()) && !raw.contains(conv.id.as_str()), "{raw}");

    // If the chosen survey stops being suitable (a new version for parents), chats still close
    // and nothing is offered.
    let changed = SurveyDefinition { audience: SurveyAudience::ParentCarer, ..chat_feedback_def() };
    s.client.update_survey(&admin, &survey, &changed).await.unwrap();
    s.client.publish_survey(&admin, &survey).await.unwrap();
    let carol = s.young_person().await;
    chat_then_close(&s, &carol, &worker).await;
    let mine = s.client.my_surveys(&carol.access_token).await.unwrap();
    assert!(mine.surveys.is_empty());
    // Switched off: nothing either.
    assert_eq!(set_feedback(&s, &admin, None).await.unwrap().survey_id, None);
    let dave = s.young_person().await;
    chat_then_close(&s, &dave, &worker).await;
    let mine = s.client.my_surveys(&dave.access_token).await.unwrap();
    assert!(mine.surveys.is_empty());
    s.stop().await;
}

/// With the threshold set to 3, cells of 3 and 4 are shown in JSON, CSV and SVG, and the
/// report says which threshold it used.
async fn a_configured_threshold_is_used_everywhere(backend: Backend) {
    let s = TestServer::builder(backend).config(|c| c.surveys.suppression_threshold = 3).start().await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = seed_population(&s, &admin).await;
    let all = s.client.survey_report(&admin, &survey, 1, &no_filters()).await.unwrap();
    assert!(exact(&all), "{:?}", all.suppression_reason);
    assert_eq!(all.threshold, 3);
    // Yes 9 / No 3: under the default both were hidden; at 3 both are shown.
    let helped = question(&all, "helped");
    let counts: Vec<Option<i64>> = helped.distribution.iter().map(|c| c.count).collect();
    assert_eq!(counts, vec![Some(9), Some(3)]);
    // Zeros are still under 3.
    assert!(question(&all, "feel").distribution[..3].iter().all(|c| c.suppressed));
    let csv = s.client.survey_report_csv(&admin, &survey, 1, &no_filters()).await.unwrap();
    assert!(csv.lines().any(|l| l == "survey,,Exit survey,threshold,3,false"), "{csv}");
    assert!(csv.lines().any(|l| l == "distribution,helped,Did it help?,no,3,false"), "{csv}");
    let svg = s.client.question_chart(&admin, &survey, 1, "feel", &no_filters()).await.unwrap();
    assert!(svg.contains("suppressed (fewer than 3)") && !svg.contains("fewer than 5"), "{svg}");
    // 4 people is a group large enough to show at 3 (it is withheld at the default 5), here on
    // a survey of its own so that no earlier release gets in the way.
    let s2 = TestServer::builder(backend).config(|c| c.surveys.suppression_threshold = 3).start().await;
    let admin2 = s2.staff(Role::YotAdmin).await.access_token;
    let survey2 = seed_population(&s2, &admin2).await;
    let black_filters = filters(|f| f.ethnicity = Some("black_black_british_caribbean_african".into()));
    let black = s2.client.survey_report(&admin2, &survey2, 1, &black_filters).await.unwrap();
    assert!(exact(&black), "{:?}", black.suppression_reason);
    assert_eq!(black.completed.value, Some(4));
    s2.stop().await;
    s.stop().await;
}

/// Two selections that differ by 6 people (enough for the whole-selection rule) but whose
/// cells differ by 2 and 4: subtracting them would show how the 6 answered. The second is
/// withheld, whichever order they are asked in.
async fn the_cell_differencing_attack_is_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let def = definition(json!({"title": "Exit", "audience": "young_person", "questions": [
        {"id": "feel", "kind": "emoji_scale", "text": "How do you feel now?", "required": true}]}));
    let survey = new_survey(&s, &admin, def).await;
    // Triage: 5 say 5 and 5 say 4. Reparation: 2 say 5 and 4 say 4.
    let plan: Vec<(&str, i64)> = std::iter::repeat_n(("triage", 5), 5)
        .chain(std::iter::repeat_n(("triage", 4), 5))
        .chain(std::iter::repeat_n(("reparation", 5), 2))
        .chain(std::iter::repeat_n(("reparation", 4), 4))
        .collect();
    for (i, (kind, feel)) in plan.iter().enumerate() {
        let p = participant(&s, &admin, &format!("YOT-C-{i:03}"), json!({"intervention_type": kind})).await;
        let yp = s.young_person().await;
        let a = assign_yp(&s, &admin, &survey, &p, &yp, "end").await;
        submit(&s, &yp, &a, "s", true, answers(&[("feel", json!(feel))])).await.unwrap();
    }
    let only_triage = filters(|f| f.intervention_type = Some("triage".into()));
    let triage = s.client.survey_report(&admin, &survey, 1, &only_triage).await.unwrap();
    assert!(exact(&triage), "{:?}", triage.suppression_reason);
    let cells: Vec<Option<i64>> = question(&triage, "feel").distribution.iter().map(|c| c.count).collect();
    assert_eq!(cells, vec![None, None, None, Some(5), Some(5)]);
    // Everyone: 16 people, 6 more than triage, so the whole-selection rule alone would allow
    // it; its cells would be 9 and 7, giving away that the 6 others answered 4, 4, 4, 4, 5, 5.
    let all = s.client.survey_report(&admin, &survey, 1, &no_filters()).await.unwrap();
    assert!(!(exact(&triage) && exact(&all)), "both exact: 9 − 5 and 7 − 5 reveal the reparation group's answers");
    assert!(all.suppressed);
    assert!(
        all.suppression_reason.as_deref().unwrap().contains("in one of its numbers"),
        "{:?}",
        all.suppression_reason
    );
    assert!(question(&all, "feel").distribution.iter().all(|c| c.count.is_none()));
    // The CSV of the same selection is withheld too (same check, same log).
    let csv = s.client.survey_report_csv(&admin, &survey, 1, &no_filters()).await.unwrap();
    assert!(csv.contains("whole_report_suppressed,true"), "{csv}");
    // Triage again is fine (the same release).
    let again = s.client.survey_report(&admin, &survey, 1, &only_triage).await.unwrap();
    assert!(exact(&again));

    // The other order on a fresh server: everyone first, then triage is the one withheld.
    let s2 = TestServer::start(backend).await;
    let admin2 = s2.staff(Role::YotAdmin).await.access_token;
    let def = definition(json!({"title": "Exit", "audience": "young_person", "questions": [
        {"id": "feel", "kind": "emoji_scale", "text": "How do you feel now?", "required": true}]}));
    let survey2 = new_survey(&s2, &admin2, def).await;
    for (i, (kind, feel)) in plan.iter().enumerate() {
        let p = participant(&s2, &admin2, &format!("YOT-C-{i:03}"), json!({"intervention_type": kind})).await;
        let yp = s2.young_person().await;
        let a = assign_yp(&s2, &admin2, &survey2, &p, &yp, "end").await;
        submit(&s2, &yp, &a, "s", true, answers(&[("feel", json!(feel))])).await.unwrap();
    }
    let all = s2.client.survey_report(&admin2, &survey2, 1, &no_filters()).await.unwrap();
    assert!(exact(&all), "{:?}", all.suppression_reason);
    let triage = s2.client.survey_report(&admin2, &survey2, 1, &only_triage).await.unwrap();
    assert!(triage.suppressed, "the smaller selection second is withheld too");
    s2.stop().await;
    s.stop().await;
}

async fn staff_list_of_assignments_and_answers(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let worker = s.staff(Role::DutyWorker).await.access_token;
    let supervisor = s.staff(Role::Supervisor).await.access_token;
    let survey = new_survey(&s, &admin, every_kind("Check-in", "young_person")).await;
    let p = participant(&s, &admin, "YOT-2025-0700", json!({"ethnicity": "white"})).await;
    let yp = s.young_person().await;
    let done = assign_yp(&s, &admin, &survey, &p, &yp, "start").await;
    let open = assign_yp(&s, &admin, &survey, &p, &yp, "end").await;
    submit(
        &s,
        &yp,
        &done,
        "s",
        true,
        answers(&[("emoji", json!(4)), ("yes", json!(true)), ("words", json!("call 07700 900123"))]),
    )
    .await
    .unwrap();
    let path = format!("/v1/surveys/{survey}/assignments");
    let (plain, with_answers) = (assignments_query(None, false), assignments_query(None, true));

    for token in [&yp.access_token, &worker, &supervisor] {
        assert_eq!(status(s.client.list_assignments(token, &survey, &plain).await), 403);
        assert_eq!(status(s.client.list_assignments(token, &survey, &with_answers).await), 403);
    }
    // By hand: no Authorization header at all, which the typed client cannot send.
    let (st, _, _) = s.client.raw(Method::GET, &path, None, vec![]).await.unwrap();
    assert_eq!(st, 401);

    let list = s.client.list_assignments(&admin, &survey, &plain).await.unwrap();
    assert_eq!(list.assignments.len(), 2);
    let by_id = |l: &StaffAssignmentList, id: &str| l.assignments.iter().find(|a| a.id == id).cloned().expect("listed");
    let d = by_id(&list, &done);
    assert_eq!(
        (d.status, d.version, d.stage),
        (AssignmentStatus::Completed, 1, talkzone_mobile_api::SurveyStage::Start)
    );
    assert_eq!(d.participant_reference.as_deref(), Some("YOT-2025-0700"));
    assert!(!d.chat_feedback && d.submitted_at.is_some());
    assert!(d.answers.is_none(), "answers only when asked for");
    assert_eq!(by_id(&list, &open).status, AssignmentStatus::Pending);
    let raw = serde_json::to_string(&list).unwrap();
    assert!(!raw.contains("white") && !raw.contains(yp.user.id.as_str()), "no equality fields or accounts: {raw}");

    let with = s.client.list_assignments(&admin, &survey, &with_answers).await.unwrap();
    let answers_given = by_id(&with, &done).answers.expect("answers");
    assert_eq!(answers_given.len(), 3);
    let words = answers_given.iter().find(|a| a.question_id == "words").unwrap().value.as_str().unwrap().to_owned();
    assert!(words.contains("[phone]") && !words.contains("07700"), "free text redacted: {words}");
    assert_eq!(by_id(&with, &open).answers, Some(vec![]));

    let completed =
        s.client.list_assignments(&admin, &survey, &assignments_query(Some("completed"), false)).await.unwrap();
    assert_eq!(completed.assignments.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), vec![done.clone()]);
    let finished = s.client.list_assignments(&admin, &survey, &assignments_query(Some("finished"), false)).await;
    assert_eq!(status(finished), 422);
    assert_eq!(status(get_raw::<StaffAssignmentList>(&s.client, &format!("{path}?colour=red"), &admin).await), 400);
    assert_eq!(status(s.client.list_assignments(&admin, "nope", &plain).await), 404);

    let doc = s.client.openapi().await.unwrap();
    let list_doc = &doc["paths"]["/v1/surveys/{id}/assignments"]["get"];
    assert!(list_doc.is_object(), "the staff list is in the OpenAPI document");
    let params: Vec<&str> =
        list_doc["parameters"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(params.contains(&"status") && params.contains(&"answers"), "{params:?}");
    assert!(list_doc["responses"].get("403").is_some());
    for m in ["get", "put"] {
        assert!(doc["paths"]["/v1/surveys/chat-feedback"][m].is_object(), "chat-feedback {m} in OpenAPI");
    }
    s.stop().await;
}

async fn survey_actions_are_in_the_audit_log(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin_t = s.staff(Role::YotAdmin).await;
    let admin = admin_t.access_token.clone();
    let worker = s.staff(Role::DutyWorker).await.access_token;
    let v = s.client.create_survey(&admin, &every_kind("Audited", "young_person")).await.unwrap();
    s.client.publish_survey(&admin, &v.id).await.unwrap();
    s.client.update_survey(&admin, &v.id, &every_kind("Audited, v2", "young_person")).await.unwrap();
    s.client.publish_survey(&admin, &v.id).await.unwrap();
    let p = participant(&s, &admin, "YOT-2025-0800", json!({})).await;
    let yp = s.young_person().await;
    let a = assign_yp(&s, &admin, &v.id, &p, &yp, "start").await;
    let parents = new_survey(&s, &admin, every_kind("Parents", "parent_carer")).await;
    let req = assignment(&parents, &p, "start", "2025-07-01", AssignmentRespondent::ParentCarer);
    let c = s.client.create_assignment(&admin, &req).await.unwrap();
    let code = c.access_code.unwrap();
    let at_start = filters(|f| f.stage = Some("start".into()));
    s.client.survey_report(&admin, &v.id, 2, &at_start).await.unwrap();
    s.client.survey_report_csv(&admin, &v.id, 2, &no_filters()).await.unwrap();
    s.client.question_chart(&admin, &v.id, 2, "emoji", &no_filters()).await.unwrap();
    let emoji = distance_of("emoji", |_| {});
    s.client.distance(&admin, &v.id, &emoji).await.unwrap();
    s.client.distance_chart(&admin, &v.id, &emoji).await.unwrap();
    s.client.list_assignments(&admin, &v.id, &assignments_query(None, false)).await.unwrap();
    let short = new_survey(&s, &admin, chat_feedback_def()).await;
    set_feedback(&s, &admin, Some(&short)).await.unwrap();

    let log = s.client.audit_log(&admin, &AuditQuery { days: Some(1) }).await.unwrap();
    let find = |action: &str, target: &str| {
        log.entries
            .iter()
            .find(|e| e.action == action && e.target.as_deref() == Some(target))
            .unwrap_or_else(|| panic!("no {action} on {target} in {:#?}", log.entries))
            .clone()
    };
    let survey_t = format!("survey:{}", v.id);
    for (action, target) in [
        ("survey_created", survey_t.clone()),
        ("survey_published", survey_t.clone()),
        ("survey_draft_updated", survey_t.clone()),
        ("survey_new_version", survey_t.clone()),
        ("survey_participant_created", format!("survey_participant:{p}")),
        ("survey_assigned", format!("survey_assignment:{a}")),
        ("survey_assigned", format!("survey_assignment:{}", c.assignment.id)),
        ("survey_access_code_issued", format!("survey_assignment:{}", c.assignment.id)),
        ("survey_report_viewed", survey_t.clone()),
        ("survey_report_exported", survey_t.clone()),
        ("survey_chart_exported", survey_t.clone()),
        ("survey_distance_viewed", survey_t.clone()),
        ("survey_distance_exported", survey_t.clone()),
        ("survey_assignments_listed", survey_t.clone()),
        ("chat_feedback_survey_set", "survey_setting:chat_feedback_survey".to_owned()),
    ] {
        let e = find(action, &target);
        assert_eq!(e.actor_id.as_ref(), Some(&admin_t.user.id), "{action}: who did it");
    }
    assert_eq!(find("survey_new_version", &survey_t).details.as_deref(), Some("version 2"));
    let viewed = find("survey_report_viewed", &survey_t).details.unwrap();
    assert!(viewed.contains("version 2") && viewed.contains("stage=start") && viewed.contains("withheld"), "{viewed}");
    // The access code is never written down, in any form a person could type.
    let all_text = serde_json::to_string(&log).unwrap();
    let bare: String = code.chars().filter(|c| *c != '-').collect();
    assert!(!all_text.contains(&code) && !all_text.contains(&bare), "access code in the audit log");
    // Only yot_admin reads the log.
    for token in [&worker, &yp.access_token] {
        assert_eq!(status(s.client.audit_log(token, &AuditQuery { days: Some(1) }).await), 403);
    }
    s.stop().await;
}

/// Survey rows written before `0005_survey_feedback` (which rebuilds two tables on SQLite)
/// are all there afterwards, still cascade from their participant, and an assignment without
/// a participant (chat feedback) can be stored.
const BEFORE_0005: &[&str] = &[
    "INSERT INTO surveys (id, draft, created_by, created_at, updated_at) VALUES ('s1', '{}', 'a', 1, 1)",
    "INSERT INTO survey_versions (id, survey_id, version, definition, published_by, published_at) VALUES ('v1', 's1', 1, '{}', 'a', 1)",
    "INSERT INTO survey_participants (id, reference, intervention_type_id, start_date, created_by, created_at) \
     VALUES ('p1', 'YOT-1', 'triage', '2025-01-01', 'a', 1)",
    "INSERT INTO survey_assignments (id, survey_id, survey_version_id, participant_id, respondent_kind, respondent_user_id, \
     stage, due_date, status, created_by, created_at, completed_at) \
     VALUES ('a1', 's1', 'v1', 'p1', 'young_person', 'u1', 'end', '2025-02-01', 'completed', 'a', 1, 2)",
    "INSERT INTO survey_responses (id, assignment_id, survey_version_id, submission_id, answers, is_final, revision, \
     created_at, updated_at, submitted_at) VALUES ('r1', 'a1', 'v1', 'x', '[\"kept\"]', 1, 1, 2, 2, 2)",
    "INSERT INTO survey_report_releases (id, scope, population, digest, released_by, released_at) \
     VALUES ('rel1', 'version:v1', 'a1:1', 'd', 'a', 3)",
];

async fn check_after_0005<DB: sqlx::Database>(pool: &sqlx::Pool<DB>)
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    i64: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    String: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let count = |sql: &'static str| async move { sqlx::query_scalar::<DB, i64>(sql).fetch_one(pool).await.unwrap() };
    let answers: String = sqlx::query_scalar("SELECT answers FROM survey_responses WHERE assignment_id = 'a1'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(answers, "[\"kept\"]");
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM survey_assignments WHERE participant_id = 'p1' AND status = 'completed' \
                      AND completed_at = 2 AND conversation_id IS NULL"
        )
        .await,
        1
    );
    assert_eq!(count("SELECT COUNT(*) FROM survey_report_releases WHERE cells IS NULL").await, 1);
    sqlx::query::<DB>(
        "INSERT INTO survey_assignments (id, survey_id, survey_version_id, respondent_kind, stage, due_date, \
                       status, created_by, created_at) VALUES ('a2', 's1', 'v1', 'young_person', 'end', '2025-02-01', \
                       'pending', 'system', 5)",
    )
    .execute(pool)
    .await
    .expect("an assignment without a participant");
    sqlx::query::<DB>("DELETE FROM survey_participants WHERE id = 'p1'").execute(pool).await.unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM survey_responses").await, 0, "answers still go with their participant");
    assert_eq!(count("SELECT COUNT(*) FROM survey_assignments").await, 1);
}

async fn survey_rows_survive_the_0005_upgrade(backend: Backend) {
    let dir = TempDir::new();
    let url = fresh_database(backend, &dir.0).await;
    macro_rules! upgrade {
        ($pool:expr, $migrator:expr) => {{
            let pool = $pool;
            let full = $migrator;
            // The same migrations, stopped before 0005: the database as it was before it.
            let mut upto4 = $migrator;
            upto4.migrations =
                std::borrow::Cow::Owned(full.migrations.iter().filter(|m| m.version <= 4).cloned().collect());
            upto4.run(&pool).await.unwrap();
            for sql in BEFORE_0005 {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            full.run(&pool).await.expect("0005 applies over existing rows");
            check_after_0005(&pool).await;
            pool.close().await;
        }};
    }
    match backend {
        Backend::Sqlite => {
            let opts = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)
                .unwrap()
                .create_if_missing(true)
                .foreign_keys(true);
            let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
            upgrade!(pool, sqlx::migrate!("../server/migrations/sqlite"))
        }
        Backend::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(&url).await.unwrap();
            upgrade!(pool, sqlx::migrate!("../server/migrations/postgres"))
        }
    }
}

both_backends!(
    survey_rows_survive_the_0005_upgrade,
    chat_feedback_is_offered_when_a_chat_closes,
    a_configured_threshold_is_used_everywhere,
    the_cell_differencing_attack_is_refused,
    staff_list_of_assignments_and_answers,
    survey_actions_are_in_the_audit_log,
    versioning_freezes_versions_and_responses_keep_theirs,
    every_question_type_refuses_bad_answers,
    partial_then_final_submission_is_idempotent,
    parent_access_codes_open_one_assignment_until_expiry,
    access_code_guessing_is_throttled,
    distance_travelled_on_a_known_data_set,
    suppression_and_the_differencing_attack,
    csv_and_svg_exports_apply_the_same_rules,
    differencing_reports_run_together_are_checked_one_at_a_time,
    who_may_do_what,
    deleting_a_participant_takes_their_answers,
);
