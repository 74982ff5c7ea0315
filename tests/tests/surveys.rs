//! Feedback surveys end to end (docs/surveys.md): versioning, validation of every question
//! type, idempotent and part-way submission, parent/carer access codes (one assignment,
//! expiry, nothing else), distance travelled on a known data set, small-number suppression
//! with a differencing attack, CSV and SVG exports, and who may do what.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use talkzone_mobile_api::client::{Client, ClientError};
use talkzone_mobile_api::{
    AssignmentStatus, ClientFrame, CreatedAssignment, ServerFrame, DistanceReport, ParticipantView, PendingSurvey, PendingSurveyList, Role, SurveyReport,
    SurveyResponseView, SurveyVersionView, SurveyView, TokenResponse,
};
use talkzone_server::clock::{Clock, ManualClock};
use talkzone_tests::{both_backends, Backend, TestServer};

async fn call<T: serde::de::DeserializeOwned>(c: &Client, m: Method, path: &str, token: &str, body: Value) -> Result<T, ClientError> {
    let body = if body.is_null() { None } else { Some(body) };
    c.request(m, path, Some(token), body.as_ref()).await.map(|(_, t)| t)
}

async fn get<T: serde::de::DeserializeOwned>(c: &Client, path: &str, token: &str) -> Result<T, ClientError> {
    c.request::<Value, T>(Method::GET, path, Some(token), None).await.map(|(_, t)| t)
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
fn every_kind(title: &str, audience: &str) -> Value {
    json!({
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
    })
}

async fn new_survey(s: &TestServer, admin: &str, def: Value) -> String {
    let v: SurveyView = call(&s.client, Method::POST, "/v1/surveys", admin, def).await.expect("create survey");
    let _: SurveyVersionView =
        call(&s.client, Method::POST, &format!("/v1/surveys/{}/publish", v.id), admin, Value::Null).await.expect("publish");
    v.id
}

async fn participant(s: &TestServer, admin: &str, reference: &str, extra: Value) -> String {
    let mut body = json!({"reference": reference, "intervention_type": "referral_order", "start_date": "2025-01-06"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let p: ParticipantView = call(&s.client, Method::POST, "/v1/survey-participants", admin, body).await.expect("participant");
    p.id
}

async fn assign_yp(s: &TestServer, admin: &str, survey: &str, participant: &str, yp: &TokenResponse, stage: &str) -> String {
    let c: CreatedAssignment = call(
        &s.client,
        Method::POST,
        "/v1/survey-assignments",
        admin,
        json!({"survey_id": survey, "participant_id": participant, "stage": stage, "due_date": "2025-03-01",
               "respondent": {"kind": "young_person", "user_id": yp.user.id}}),
    )
    .await
    .expect("assign");
    assert!(c.access_code.is_none());
    c.assignment.id
}

async fn submit(s: &TestServer, yp: &TokenResponse, assignment: &str, sid: &str, fin: bool, answers: Value) -> Result<SurveyResponseView, ClientError> {
    call(
        &s.client,
        Method::POST,
        &format!("/v1/me/surveys/{assignment}/responses"),
        &yp.access_token,
        json!({"submission_id": sid, "final": fin, "answers": answers}),
    )
    .await
}

fn answers(pairs: &[(&str, Value)]) -> Value {
    Value::Array(pairs.iter().map(|(q, v)| json!({"question_id": q, "value": v})).collect())
}

/// A request with the parent/carer access-code header.
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
    let v: SurveyView = call(&s.client, Method::POST, "/v1/surveys", &admin, every_kind("Start survey", "young_person")).await.unwrap();
    assert_eq!(v.latest_version, None);
    assert!(v.unpublished_changes);
    let p = participant(&s, &admin, "YOT-2025-0001", json!({})).await;
    let yp1 = s.young_person().await;
    // Not published yet: cannot be sent.
    let r: Result<CreatedAssignment, _> = call(
        &s.client,
        Method::POST,
        "/v1/survey-assignments",
        &admin,
        json!({"survey_id": v.id, "participant_id": p, "stage": "start", "due_date": "2025-03-01",
               "respondent": {"kind": "young_person", "user_id": yp1.user.id}}),
    )
    .await;
    assert_eq!(status(r), 422);
    let v1: SurveyVersionView = call(&s.client, Method::POST, &format!("/v1/surveys/{}/publish", v.id), &admin, Value::Null).await.unwrap();
    assert_eq!(v1.version, 1);
    let a1 = assign_yp(&s, &admin, &v.id, &p, &yp1, "start").await;

    // Edit the published survey: the draft changes, version 1 does not.
    let mut edited = every_kind("Start survey (new wording)", "young_person");
    edited["questions"][0]["text"] = json!("How hopeful are you about the future?");
    let after: SurveyView = call(&s.client, Method::PUT, &format!("/v1/surveys/{}", v.id), &admin, edited).await.unwrap();
    assert_eq!(after.latest_version, Some(1));
    assert!(after.unpublished_changes);
    let still: SurveyVersionView = get(&s.client, &format!("/v1/surveys/{}/versions/1", v.id), &admin).await.unwrap();
    assert_eq!(still.definition.title, "Start survey");
    assert_eq!(still.definition.questions[0].text, "How do you feel about your future?");
    let v2: SurveyVersionView = call(&s.client, Method::POST, &format!("/v1/surveys/{}/publish", v.id), &admin, Value::Null).await.unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.definition.title, "Start survey (new wording)");
    // Publishing an unchanged draft makes no new version.
    let again: SurveyVersionView = call(&s.client, Method::POST, &format!("/v1/surveys/{}/publish", v.id), &admin, Value::Null).await.unwrap();
    assert_eq!(again.version, 2);
    let shown: SurveyView = get(&s.client, &format!("/v1/surveys/{}", v.id), &admin).await.unwrap();
    assert_eq!(shown.latest_version, Some(2));
    assert!(!shown.unpublished_changes);

    let yp2 = s.young_person().await;
    let a2 = assign_yp(&s, &admin, &v.id, &p, &yp2, "end").await;
    // The first young person still sees (and answers) version 1.
    let mine: PendingSurveyList = get(&s.client, "/v1/me/surveys", &yp1.access_token).await.unwrap();
    assert_eq!(mine.surveys.len(), 1);
    assert_eq!(mine.surveys[0].survey.version, 1);
    assert_eq!(mine.surveys[0].survey.definition.questions[0].child_text.as_deref(), Some("How do you feel about what's next?"));
    let ok = answers(&[("emoji", json!(3)), ("yes", json!(true))]);
    let r1 = submit(&s, &yp1, &a1, "sub-1", true, ok.clone()).await.unwrap();
    assert_eq!(r1.version, 1);
    let r2 = submit(&s, &yp2, &a2, "sub-2", true, ok).await.unwrap();
    assert_eq!(r2.version, 2);
    let missing: Result<SurveyVersionView, _> = get(&s.client, &format!("/v1/surveys/{}/versions/3", v.id), &admin).await;
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
    let (st, msg) = message(submit(&s, &yp, &a, "x", false, answers(&[("emoji", json!(1)), ("emoji", json!(2))])).await);
    assert_eq!(st, 422);
    assert!(msg.contains("twice"), "{msg}");
    // A final submission needs every required question.
    let (st, msg) = message(submit(&s, &yp, &a, "x", true, answers(&[("emoji", json!(4))])).await);
    assert_eq!(st, 422);
    assert!(msg.contains("required") && msg.contains("yes"), "{msg}");
    // Nothing invalid was stored.
    let mine: PendingSurveyList = get(&s.client, "/v1/me/surveys", &yp.access_token).await.unwrap();
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
        (json!({"title": "", "audience": "young_person", "questions": [{"id": "a", "kind": "yes_no", "text": "?"}]}), "title"),
        (json!({"title": "t", "audience": "young_person", "questions": [{"id": "a", "kind": "single_choice", "text": "?", "options": ["x"]}]}), "2 to 20"),
        (json!({"title": "t", "audience": "young_person", "questions": [{"id": "a", "kind": "yes_no", "text": "?"}, {"id": "a", "kind": "yes_no", "text": "?"}]}), "twice"),
        (json!({"title": "t", "audience": "young_person", "questions": [{"id": "a", "kind": "free_text", "text": "?", "max_length": 5000}]}), "max_length"),
        (json!({"title": "t", "audience": "young_person", "questions": [{"id": "a", "kind": "slider", "text": "?"}]}), "unknown variant"),
    ] {
        let (st, msg) = message(call::<SurveyView>(&s.client, Method::POST, "/v1/surveys", &admin, def).await);
        assert_eq!(st, 422);
        assert!(msg.contains(expect), "{msg}");
    }
}

async fn partial_then_final_submission_is_idempotent(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = new_survey(&s, &admin, every_kind("Check-in", "young_person")).await;
    let p = participant(&s, &admin, "YOT-2025-0003", json!({})).await;
    let yp = s.young_person().await;
    let a = assign_yp(&s, &admin, &survey, &p, &yp, "start").await;
    // Part-way: only what is given is checked; required ones may wait.
    let part = submit(&s, &yp, &a, "sub-9", false, answers(&[("emoji", json!(2)), ("words", json!("so far"))])).await.unwrap();
    assert!(!part.is_final);
    let again = submit(&s, &yp, &a, "sub-9", false, answers(&[("emoji", json!(4))])).await.unwrap();
    assert_eq!(again.response_id, part.response_id, "one response per assignment");
    let mine: PendingSurveyList = get(&s.client, "/v1/me/surveys", &yp.access_token).await.unwrap();
    assert_eq!(mine.surveys[0].status, AssignmentStatus::InProgress);
    let saved: Vec<(String, Value)> = mine.surveys[0].saved_answers.iter().map(|a| (a.question_id.clone(), a.value.clone())).collect();
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
    assert_eq!(status(submit(&s, &yp, &a, "other", true, answers(&[("emoji", json!(1)), ("yes", json!(false))])).await), 409);
    // A late part-way save with the same submission id changes nothing either.
    let late = submit(&s, &yp, &a, "sub-9", false, answers(&[("emoji", json!(1))])).await.unwrap();
    assert!(late.is_final);
    assert_eq!(late.answers, done.answers);
    let rows = s.state().surveys.report_rows(&survey).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].answers.as_deref().unwrap().contains("\"so far\""));
    let mine: PendingSurveyList = get(&s.client, "/v1/me/surveys", &yp.access_token).await.unwrap();
    assert!(mine.surveys.is_empty(), "completed surveys are not pending");
}

async fn parent_access_codes_open_one_assignment_until_expiry(backend: Backend) {
    let clock = Arc::new(ManualClock::new(talkzone_server::clock::SystemClock.now_ms()));
    let s = TestServer::start_with_clock(backend, clock.clone()).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = new_survey(&s, &admin, every_kind("Parent and carer survey", "parent_carer")).await;
    let p1 = participant(&s, &admin, "YOT-2025-0101", json!({})).await;
    let p2 = participant(&s, &admin, "YOT-2025-0102", json!({})).await;
    let make = |p: String, days: u32| {
        let (s, admin, survey) = (&s, admin.clone(), survey.clone());
        async move {
            let c: CreatedAssignment = call(
                &s.client,
                Method::POST,
                "/v1/survey-assignments",
                &admin,
                json!({"survey_id": survey, "participant_id": p, "stage": "end", "due_date": "2025-07-01",
                       "respondent": {"kind": "parent_carer"}, "access_code_valid_days": days}),
            )
            .await
            .unwrap();
            (c.assignment.id, c.access_code.expect("a code for parents"))
        }
    };
    let (a1, code1) = make(p1.clone(), 7).await;
    let (a2, code2) = make(p2, 30).await;
    assert_ne!(code1, code2);
    // A young person's account cannot be given a parent/carer survey, nor the reverse.
    let yp = s.young_person().await;
    let wrong: Result<CreatedAssignment, _> = call(
        &s.client,
        Method::POST,
        "/v1/survey-assignments",
        &admin,
        json!({"survey_id": survey, "participant_id": p1, "stage": "end", "due_date": "2025-07-01",
               "respondent": {"kind": "young_person", "user_id": yp.user.id}}),
    )
    .await;
    assert_eq!(status(wrong), 422);

    // The code opens its own assignment only (lower case and without dashes is fine).
    let (st, body) = with_code(&s, Method::GET, "/v1/survey-access", &code1.to_lowercase().replace('-', ""), None).await;
    assert_eq!(st, 200, "{body}");
    let view: PendingSurvey = serde_json::from_value(body).unwrap();
    assert_eq!(view.assignment_id, a1);
    assert_eq!(view.survey.definition.title, "Parent and carer survey");
    let good = answers(&[("emoji", json!(4)), ("yes", json!(true))]);
    let (st, body) =
        with_code(&s, Method::POST, "/v1/survey-access/responses", &code1, Some(json!({"submission_id": "p-1", "final": true, "answers": good}))).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["assignment_id"], json!(a1));
    // Retry is idempotent; the second assignment is untouched.
    let (st, again) =
        with_code(&s, Method::POST, "/v1/survey-access/responses", &code1, Some(json!({"submission_id": "p-1", "final": true, "answers": good}))).await;
    assert_eq!(st, 200);
    assert_eq!(again["response_id"], body["response_id"]);
    assert!(s.state().surveys.response_for_assignment(&a2).await.unwrap().is_none());
    let (st, _) = with_code(&s, Method::GET, "/v1/survey-access", &code2, None).await;
    assert_eq!(st, 200);

    // Nothing else: not as a bearer token, not on staff or young-person routes, not a guess.
    for path in ["/v1/me/surveys", "/v1/surveys", &format!("/v1/surveys/{survey}/versions/1/report")] {
        let (st, _) = with_code(&s, Method::GET, path, &code1, None).await;
        assert_eq!(st, 401, "{path}");
        let r: Result<Value, _> = get(&s.client, path, &code1).await;
        assert_eq!(status(r), 401, "{path} with the code as a bearer token");
    }
    let (st, _) = with_code(&s, Method::POST, &format!("/v1/me/surveys/{a2}/responses"), &code1,
        Some(json!({"submission_id": "x", "final": false, "answers": []}))).await;
    assert_eq!(st, 401);
    let mut forged = code1.replace('-', "");
    let last = forged.pop().unwrap();
    forged.push(if last == 'Z' { 'Y' } else { 'Z' });
    let (st, _) = with_code(&s, Method::GET, "/v1/survey-access", &forged, None).await;
    assert_eq!(st, 401, "a near miss is not accepted");
    let (st, _) = with_code(&s, Method::GET, "/v1/survey-access", "", None).await;
    assert_eq!(st, 401);

    // Only a hash is stored.
    let row = s.state().surveys.assignment(&a1).await.unwrap().unwrap();
    let plain = code1.replace('-', "");
    assert!(!row.code_hash.as_deref().unwrap().contains(&plain));
    assert_ne!(row.code_hash.as_deref(), Some(plain.as_str()));

    // Expiry: code 1 lasts 7 days, code 2 lasts 30.
    clock.advance_ms(8 * 24 * 3_600_000);
    let (st, body) = with_code(&s, Method::GET, "/v1/survey-access", &code1, None).await;
    assert_eq!(st, 403, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("expired"));
    let (st, _) = with_code(&s, Method::GET, "/v1/survey-access", &code2, None).await;
    assert_eq!(st, 200);
    clock.advance_ms(30 * 24 * 3_600_000);
    let (st, _) = with_code(&s, Method::POST, "/v1/survey-access/responses", &code2,
        Some(json!({"submission_id": "late", "final": true, "answers": good}))).await;
    assert_eq!(st, 403);
    assert!(s.state().surveys.response_for_assignment(&a2).await.unwrap().is_none());
}

/// Guessing codes is throttled per IP like sign-in: after the burst, even the right code waits.
async fn access_code_guessing_is_throttled(backend: Backend) {
    let s = TestServer::start_with(backend, |c| {
        c.limits.auth_per_ip_per_min = 1;
        c.limits.auth_burst = 6;
    })
    .await;
    let admin = s.staff(Role::YotAdmin).await.access_token; // one sign-in from this IP
    let survey = new_survey(&s, &admin, every_kind("Parent survey", "parent_carer")).await;
    let p = participant(&s, &admin, "YOT-2025-0700", json!({})).await;
    let c: CreatedAssignment = call(&s.client, Method::POST, "/v1/survey-assignments", &admin,
        json!({"survey_id": survey, "participant_id": p, "stage": "start", "due_date": "2025-07-01",
               "respondent": {"kind": "parent_carer"}})).await.unwrap();
    let code = c.access_code.unwrap();
    let mut statuses = Vec::new();
    for i in 0..8 {
        let (st, _) = with_code(&s, Method::GET, "/v1/survey-access", &format!("AAAA-BBBB-CCC{i}"), None).await;
        statuses.push(st.as_u16());
    }
    assert!(statuses[..4].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let (st, _) = with_code(&s, Method::GET, "/v1/survey-access", &code, None).await;
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
        submit(&s, &yp, &a, "s", true, answers(&[("emoji", json!(start)), ("yes", json!(true)), ("ten", json!(start * 2))])).await.unwrap();
        let b = assign_yp(&s, &admin, &survey, &p, &yp, "end").await;
        submit(&s, &yp, &b, "e", true, answers(&[("emoji", json!(end)), ("yes", json!(true)), ("ten", json!(end * 2))])).await.unwrap();
    }
    let lone = participant(&s, &admin, "YOT-D-999", json!({})).await;
    let yp = s.young_person().await;
    let a = assign_yp(&s, &admin, &survey, &lone, &yp, "start").await;
    submit(&s, &yp, &a, "s", true, answers(&[("emoji", json!(1)), ("yes", json!(true))])).await.unwrap();

    let d: DistanceReport = get(&s.client, &format!("/v1/surveys/{survey}/distance?question_id=emoji"), &admin).await.unwrap();
    assert!(!d.suppressed, "{:?}", d.suppression_reason);
    assert_eq!(d.pairs.value, Some(16));
    assert_eq!(d.improved.count, Some(6));
    assert_eq!(d.same.count, Some(5));
    assert_eq!(d.worse.count, Some(5));
    assert_eq!(d.improved.share, Some(0.375));
    assert_eq!(d.same.share, Some(0.313));
    // (6 × 2 + 5 × 0 + 5 × −1) / 16 = 0.4375
    assert_eq!(d.mean_change, Some(0.438));
    let d10: DistanceReport = get(&s.client, &format!("/v1/surveys/{survey}/distance?question_id=ten&from_stage=start&to_stage=end"), &admin).await.unwrap();
    assert_eq!(d10.mean_change, Some(0.875));
    // Triage only: 6 pairs, all improved; "same" and "worse" are 0 (< 5) → suppressed.
    let t: DistanceReport =
        get(&s.client, &format!("/v1/surveys/{survey}/distance?question_id=emoji&intervention_type=triage"), &admin).await.unwrap();
    assert!(!t.suppressed, "{:?}", t.suppression_reason);
    assert_eq!(t.pairs.value, Some(6));
    assert!(t.same.suppressed && t.worse.suppressed && t.same.count.is_none());
    assert_eq!(t.improved.count, Some(6));
    assert_eq!(t.mean_change, None, "withheld while any cell is suppressed");
    // Not a scale question; bad stage.
    let r: Result<DistanceReport, _> = get(&s.client, &format!("/v1/surveys/{survey}/distance?question_id=yes"), &admin).await;
    assert_eq!(status(r), 422);
    let r: Result<DistanceReport, _> = get(&s.client, &format!("/v1/surveys/{survey}/distance?question_id=emoji&to_stage=later"), &admin).await;
    assert_eq!(status(r), 422);
}

/// 12 respondents (8 White, 4 Black), plus one young person who has not answered.
async fn seed_population(s: &TestServer, admin: &str) -> String {
    let def = json!({"title": "Exit survey", "audience": "young_person", "questions": [
        {"id": "feel", "kind": "emoji_scale", "text": "How do you feel now?", "required": true},
        {"id": "helped", "kind": "yes_no", "text": "Did it help?", "required": true},
        {"id": "say", "kind": "free_text", "text": "Anything to add?"}
    ]});
    let survey = new_survey(s, admin, def).await;
    for i in 0..12 {
        let ethnicity = if i < 8 { "white" } else { "black_black_british_caribbean_african" };
        let kind = if i % 2 == 0 { "triage" } else { "reparation" };
        let p = participant(s, admin, &format!("YOT-S-{i:03}"), json!({"ethnicity": ethnicity, "intervention_type": kind})).await;
        let yp = s.young_person().await;
        let a = assign_yp(s, admin, &survey, &p, &yp, "end").await;
        let feel = if i < 7 { 5 } else { 4 };
        let helped = i < 9;
        let say = if i == 0 { "call me on 07700 900123 please" } else { "it was good" };
        submit(s, &yp, &a, "s", true, answers(&[("feel", json!(feel)), ("helped", json!(helped)), ("say", json!(say))])).await.unwrap();
    }
    let p = participant(s, admin, "YOT-S-100", json!({"ethnicity": "white"})).await;
    let yp = s.young_person().await;
    assign_yp(s, admin, &survey, &p, &yp, "end").await;
    survey
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

    let all: SurveyReport = get(&s.client, &base, &admin).await.unwrap();
    assert!(exact(&all), "{:?}", all.suppression_reason);
    assert_eq!(all.threshold, 5);
    assert_eq!(all.completed.value, Some(12));
    // 13 assigned, 12 completed: one non-respondent would be given away by the total.
    assert!(all.assigned.suppressed && all.assigned.value.is_none());
    assert_eq!(all.response_rate, None);
    let feel = question(&all, "feel");
    assert_eq!(feel.answered.value, Some(12));
    let cells: Vec<(String, Option<i64>, bool)> = feel.distribution.iter().map(|c| (c.label.clone(), c.count, c.suppressed)).collect();
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
    let repeat: SurveyReport = get(&s.client, &base, &admin).await.unwrap();
    assert!(exact(&repeat));
    assert_eq!(repeat.completed.value, Some(12));

    // A small group on its own is withheld.
    let black: SurveyReport = get(&s.client, &format!("{base}?ethnicity=black_black_british_caribbean_african"), &admin).await.unwrap();
    assert!(black.suppressed && black.completed.value.is_none());
    assert!(black.questions.iter().all(|q| q.answered.value.is_none() && q.distribution.iter().all(|c| c.count.is_none())));
    assert!(question(&black, "say").free_text.is_none());
    // The differencing attack: "everyone" minus "White" would be the 4 (+1) others. The White
    // report is large enough on its own, but it must not also be exact.
    let white: SurveyReport = get(&s.client, &format!("{base}?ethnicity=white"), &admin).await.unwrap();
    assert!(!(exact(&all) && exact(&white)), "both exact: the difference reveals a group under 5");
    assert!(white.suppressed);
    assert!(white.suppression_reason.as_deref().unwrap().contains("differs from a report already released"));
    assert!(white.questions.iter().all(|q| q.distribution.iter().all(|c| c.count.is_none()) && q.mean.is_none()));
    // A selection that differs by 5 or more is allowed (triage: 6 of 12 respondents + 0/1).
    let triage: SurveyReport = get(&s.client, &format!("{base}?intervention_type=triage"), &admin).await.unwrap();
    assert!(exact(&triage), "{:?}", triage.suppression_reason);
    assert_eq!(triage.completed.value, Some(6));

    // One more response: "everyone" again would differ from the first release by one person.
    let rows = s.state().surveys.report_rows(&survey).await.unwrap();
    let pending = rows.iter().find(|r| r.answers.is_none()).expect("the unanswered assignment");
    let a = s.state().surveys.assignment(&pending.assignment_id).await.unwrap().unwrap();
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
    let later: SurveyReport = get(&s.client, &base, &admin).await.unwrap();
    assert!(later.suppressed, "13 vs 12 released earlier: the newcomer's answers would show");
    assert_eq!(later.completed.value, None);

    // Bad filters are refused clearly.
    let r: Result<SurveyReport, _> = get(&s.client, &format!("{base}?from=2025-13-01"), &admin).await;
    assert_eq!(status(r), 422);
    let r: Result<SurveyReport, _> = get(&s.client, &format!("{base}?colour=blue"), &admin).await;
    assert_eq!(status(r), 400);
}

/// The same attack with both reports asked for at the same moment: still at most one is exact.
async fn differencing_reports_run_together_are_checked_one_at_a_time(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = seed_population(&s, &admin).await;
    let base = format!("/v1/surveys/{survey}/versions/1/report");
    for round in 0..3 {
        let white_path = format!("{base}?ethnicity=white&stage=end&to=2025-12-{:02}", 20 + round);
        let all_path = format!("{base}?to=2025-12-{:02}", 20 + round);
        let (all, white) = tokio::join!(get::<SurveyReport>(&s.client, &all_path, &admin), get::<SurveyReport>(&s.client, &white_path, &admin));
        let (all, white) = (all.unwrap(), white.unwrap());
        assert!(!(exact(&all) && exact(&white)), "round {round}: both exact");
        assert!(exact(&all) || exact(&white), "round {round}: one of them is released");
    }
}

async fn csv_and_svg_exports_apply_the_same_rules(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let survey = seed_population(&s, &admin).await;
    let (st, headers, csv) =
        s.client.raw(Method::GET, &format!("/v1/surveys/{survey}/versions/1/report.csv"), Some(&admin), vec![]).await.unwrap();
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
    let (_, _, small) = s
        .client
        .raw(Method::GET, &format!("/v1/surveys/{survey}/versions/1/report.csv?ethnicity=white"), Some(&admin), vec![])
        .await
        .unwrap();
    assert!(small.contains("whole_report_suppressed,true"), "{small}");
    for line in small.lines().filter(|l| l.starts_with("summary") || l.starts_with("distribution") || l.starts_with("question")) {
        assert!(line.ends_with(",,true"), "{line}");
    }

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
    let (st, _, svg) = s
        .client
        .raw(Method::GET, &format!("/v1/surveys/{survey}/versions/1/questions/feel/chart.svg?ethnicity=white"), Some(&admin), vec![])
        .await
        .unwrap();
    assert_eq!(st, 200);
    assert!(svg.contains("Not shown") && !svg.contains("<rect"), "{svg}");
    let (st, _, _) = s
        .client
        .raw(Method::GET, &format!("/v1/surveys/{survey}/versions/1/questions/nope/chart.svg"), Some(&admin), vec![])
        .await
        .unwrap();
    assert_eq!(st, 404);
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
    let frame = alice_ws.recv_until(Duration::from_secs(10), |f| matches!(f, ServerFrame::Survey(_))).await.expect("survey frame");
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

    let mine: PendingSurveyList = get(&s.client, "/v1/me/surveys", &alice.access_token).await.unwrap();
    assert_eq!(mine.surveys.iter().map(|x| x.assignment_id.clone()).collect::<Vec<_>>(), vec![a_alice.clone()]);
    // Alice cannot answer Bob's survey: it is "not found", not "forbidden".
    let r = submit(&s, &alice, &a_bob, "x", false, answers(&[("emoji", json!(3))])).await;
    assert_eq!(status(r), 404);
    assert!(s.state().surveys.response_for_assignment(&a_bob).await.unwrap().is_none());
    let r = submit(&s, &alice, "no-such-assignment", "x", false, answers(&[("emoji", json!(3))])).await;
    assert_eq!(status(r), 404);

    let report = format!("/v1/surveys/{survey}/versions/1/report");
    for token in [&alice.access_token, &worker, &supervisor] {
        for path in [
            report.clone(),
            format!("{report}.csv"),
            format!("/v1/surveys/{survey}/versions/1/questions/emoji/chart.svg"),
            format!("/v1/surveys/{survey}/distance?question_id=emoji"),
            "/v1/surveys".to_owned(),
            "/v1/survey-participants".to_owned(),
            "/v1/intervention-types".to_owned(),
        ] {
            let (st, _, _) = s.client.raw(Method::GET, &path, Some(token), vec![]).await.unwrap();
            assert_eq!(st, 403, "{path}");
        }
        let r: Result<SurveyView, _> = call(&s.client, Method::POST, "/v1/surveys", token, every_kind("x", "young_person")).await;
        assert_eq!(status(r), 403);
        let r: Result<ParticipantView, _> = call(&s.client, Method::POST, "/v1/survey-participants", token,
            json!({"reference": "YOT-9", "intervention_type": "triage", "start_date": "2025-01-01"})).await;
        assert_eq!(status(r), 403);
    }
    let (st, _, _) = s.client.raw(Method::GET, &report, None, vec![]).await.unwrap();
    assert_eq!(st, 401);
    // Staff have no pending surveys of their own.
    let r: Result<PendingSurveyList, _> = get(&s.client, "/v1/me/surveys", &admin).await;
    assert_eq!(status(r), 403);
    // Participants are pseudonymous: a bare name is refused as a reference.
    let r: Result<ParticipantView, _> = call(&s.client, Method::POST, "/v1/survey-participants", &admin,
        json!({"reference": "Jamie Smith", "intervention_type": "triage", "start_date": "2025-01-01"})).await;
    assert_eq!(status(r), 422);
    let r: Result<ParticipantView, _> = call(&s.client, Method::POST, "/v1/survey-participants", &admin,
        json!({"reference": "YOT-1", "intervention_type": "speeding", "start_date": "2025-01-01"})).await;
    assert_eq!(status(r), 422);
    // The managed list: defaults, additions, retirement.
    let list: talkzone_mobile_api::InterventionTypeList = get(&s.client, "/v1/intervention-types", &admin).await.unwrap();
    assert_eq!(list.intervention_types.len(), 11);
    assert!(list.intervention_types.iter().any(|t| t.id == "fire_safety_day"));
    let added: talkzone_mobile_api::InterventionTypeView =
        call(&s.client, Method::POST, "/v1/intervention-types", &admin, json!({"name": "Knife crime awareness"})).await.unwrap();
    assert_eq!(added.id, "knife_crime_awareness");
    let r: Result<talkzone_mobile_api::InterventionTypeView, _> =
        call(&s.client, Method::POST, "/v1/intervention-types", &admin, json!({"name": "Knife crime awareness"})).await;
    assert_eq!(status(r), 409);
    let (st, _, _) = s.client.raw(Method::POST, "/v1/intervention-types/knife_crime_awareness/retire", Some(&admin), vec![]).await.unwrap();
    assert_eq!(st, 204);
    let r: Result<ParticipantView, _> = call(&s.client, Method::POST, "/v1/survey-participants", &admin,
        json!({"reference": "YOT-2", "intervention_type": "knife_crime_awareness", "start_date": "2025-01-01"})).await;
    assert_eq!(status(r), 422);

    // Every survey route is in the OpenAPI document.
    let doc: Value = s.client.request::<Value, Value>(Method::GET, "/v1/openapi.json", None, None).await.unwrap().1;
    for path in [
        "/v1/intervention-types",
        "/v1/intervention-types/{id}/retire",
        "/v1/surveys",
        "/v1/surveys/{id}",
        "/v1/surveys/{id}/publish",
        "/v1/surveys/{id}/versions/{version}",
        "/v1/survey-participants",
        "/v1/survey-assignments",
        "/v1/surveys/{id}/versions/{version}/report",
        "/v1/surveys/{id}/versions/{version}/report.csv",
        "/v1/surveys/{id}/versions/{version}/questions/{question_id}/chart.svg",
        "/v1/surveys/{id}/distance",
        "/v1/me/surveys",
        "/v1/me/surveys/{assignment_id}/responses",
        "/v1/survey-access",
        "/v1/survey-access/responses",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from OpenAPI");
    }
}

both_backends!(
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
);
