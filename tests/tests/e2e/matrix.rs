//! The authorisation matrix (`tests/authz-matrix.toml`, explained in docs/security.md) walked
//! against a running server: every role × every REST route, client frame and server event,
//! with the outcome the table expects. Denials must not carry the target's content, and the
//! table must cover every route of the OpenAPI document and every frame type of mobile-api,
//! so a new route or frame without a row fails here.
//!
//! Every cell gets its own fixture (the target and the young people around it) unless the row
//! is a read (GET), so one cell's success cannot change what the next one sees. Staff accounts
//! are shared: signing them in costs an argon2 hash each.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use talkzone_tests::api::client::{ClientError, WsConnection};
use talkzone_tests::api::{
    AppealRequest, AssignmentRespondent, CannedReplyRequest, Capacity, ClientFrame, CloseRequest, ConversationId,
    CreateAssignmentRequest, CreateConversationRequest, CreateInterventionTypeRequest, CreateParticipantRequest,
    CreateRoomRequest, DecisionRequest, HoldRequest, MessageId, ModerationAction, NewPushSubscription,
    PersonalInfoMode, RaiseEscalationRequest, ReportRequest, RequeueRequest, Role, RoomModeration, ServerFrame,
    ServiceRequest, ShiftRequest, SurveyDefinition, SurveyStage, TokenResponse, UserActionKind, UserActionRequest,
};
use talkzone_tests::{both_backends, Backend, TestServer};
use tokio_tungstenite::tungstenite::Message;

const MATRIX: &str = include_str!("../../authz-matrix.toml");
/// The columns of every `expect`, in order.
const ROLES: [&str; 10] = ["anon", "yp", "oyp", "mem", "asg", "unasg", "sup", "mod", "adm", "par"];
const PASSWORD: &str = "correct horse battery staple";
const WAIT: Duration = Duration::from_secs(5);
/// Where `http::openapi` documents a method.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Matrix {
    route: Vec<RouteRow>,
    frame: Vec<FrameRow>,
    event: Vec<EventRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteRow {
    method: String,
    path: String,
    #[serde(default)]
    query: Option<String>,
    #[serde(default = "no_target")]
    target: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    fresh_actor: bool,
    #[serde(default)]
    hidden_from: Vec<String>,
    expect: [u16; 10],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameRow {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "no_target")]
    target: String,
    expect: [String; 10],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventRow {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "no_target")]
    target: String,
    trigger: String,
    #[serde(default)]
    about: Option<String>,
    expect: [String; 10],
}

fn no_target() -> String {
    "none".into()
}

fn parse_matrix() -> Matrix {
    toml::from_str(MATRIX).unwrap_or_else(|e| panic!("tests/authz-matrix.toml does not parse: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Coverage: the table against the OpenAPI document and the frame enums
// ---------------------------------------------------------------------------------------------

/// Every (METHOD, path) the OpenAPI document declares.
fn documented_routes() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(talkzone_server::http::openapi()).expect("openapi as json");
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// Compares what the table lists with what exists; returns every difference.
fn coverage_problems(m: &Matrix) -> Vec<String> {
    let mut problems = Vec::new();
    // A route may have a row per target (the same rule on different kinds of thing); the same
    // route and target twice is a mistake.
    let mut rows = BTreeSet::new();
    let mut routes = Vec::new();
    for r in &m.route {
        let route = format!("{} {}", r.method, r.path);
        if !rows.insert((route.clone(), r.target.clone())) {
            problems.push(format!("route {route} has two rows for one target"));
        } else if !routes.contains(&route) {
            routes.push(route);
        }
    }
    let mut check = |what: &str, listed: Vec<String>, exist: BTreeSet<String>| {
        let mut seen = BTreeSet::new();
        for l in &listed {
            if !seen.insert(l.clone()) {
                problems.push(format!("{what} {l} has two rows"));
            }
            if !exist.contains(l) {
                problems.push(format!("{what} {l} has a row but does not exist (renamed or removed?)"));
            }
        }
        for e in exist.difference(&seen) {
            problems.push(format!("{what} {e} has no row in tests/authz-matrix.toml: add one (docs/security.md)"));
        }
    };
    check("route", routes, documented_routes().into_iter().map(|(m, p)| format!("{m} {p}")).collect());
    check(
        "client frame",
        m.frame.iter().map(|f| f.kind.clone()).collect(),
        ClientFrame::TYPES.iter().map(|s| s.to_string()).collect(),
    );
    check(
        "server event",
        m.event.iter().map(|e| e.kind.clone()).collect(),
        ServerFrame::TYPES.iter().map(|s| s.to_string()).collect(),
    );
    for r in &m.route {
        for h in &r.hidden_from {
            if !ROLES.contains(&h.as_str()) {
                problems.push(format!("route {} {}: hidden_from names no role: {h}", r.method, r.path));
            }
        }
    }
    problems
}

/// The coverage check must itself be able to fail: a table missing a row, with a stale row
/// and a duplicate, is reported for each.
#[test]
fn coverage_check_reports_missing_stale_and_duplicate_rows() {
    let mut m = parse_matrix();
    let dropped = m.route.remove(0);
    m.route.push(RouteRow { path: "/v1/no-such-route".into(), ..parse_matrix().route.remove(1) });
    let twice = parse_matrix().route.remove(3);
    let twice_name = format!("route {} {} has two rows for one target", twice.method, twice.path);
    m.route.push(twice);
    m.frame.push(FrameRow { kind: "ping".into(), target: "none".into(), expect: Default::default() });
    m.event.retain(|e| e.kind != "presence");
    let problems = coverage_problems(&m).join("\n");
    assert!(problems.contains(&format!("route {} {} has no row", dropped.method, dropped.path)), "{problems}");
    assert!(problems.contains("/v1/no-such-route has a row but does not exist"), "{problems}");
    assert!(problems.contains("client frame ping has two rows"), "{problems}");
    assert!(problems.contains(&twice_name), "{problems}");
    assert!(problems.contains("server event presence has no row"), "{problems}");
}

#[test]
fn every_route_and_frame_type_has_a_row() {
    let problems = coverage_problems(&parse_matrix());
    assert!(problems.is_empty(), "the authorisation matrix is out of date:\n{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// The world: shared staff, a room for "mem" to be in, a parent's access code
// ---------------------------------------------------------------------------------------------

struct World {
    http: reqwest::Client,
    asg: TokenResponse,
    unasg: TokenResponse,
    sup: TokenResponse,
    moderator: TokenResponse,
    /// Makes the first decision on items that are then appealed (appeals go to someone else).
    first_mod: TokenResponse,
    adm: TokenResponse,
    login_username: String,
    room: String,
    parent_code: String,
    policy: String,
    outcome: String,
    notice_version: String,
    /// The notice in force, JSON-escaped for a body.
    notice_text: String,
    /// A services directory entry, for sharing into chats (`$service_id`).
    service: String,
}

static COUNTER: AtomicU64 = AtomicU64::new(1);

fn unique() -> String {
    format!("{}{}", ulid::Ulid::new().to_string().to_lowercase(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A step the fixtures rely on: it must succeed.
fn must<T>(step: &str, r: Result<T, ClientError>) -> T {
    r.unwrap_or_else(|e| panic!("fixture step {step} failed: {e}"))
}

/// A room about `topic`, post-moderated.
fn room_request(topic: String) -> CreateRoomRequest {
    CreateRoomRequest {
        topic,
        age_band: "13-15".into(),
        moderation: RoomModeration::Post,
        personal_info: PersonalInfoMode::Hold,
    }
}

fn service_request(name: String) -> ServiceRequest {
    ServiceRequest {
        name,
        category: "health".into(),
        description: "A local service.".into(),
        area: None,
        phone: None,
        url: None,
        hours: None,
        min_age: None,
        max_age: None,
    }
}

fn assignment_request(survey: &str, participant: &str, to: AssignmentRespondent) -> CreateAssignmentRequest {
    CreateAssignmentRequest {
        survey_id: survey.into(),
        participant_id: participant.into(),
        stage: SurveyStage::Start,
        due_date: "2025-03-01".into(),
        respondent: to,
        access_code_valid_days: None,
    }
}

/// A survey written in the contract's JSON form, published; (its id, the version).
async fn published_survey(s: &TestServer, adm: &str, def: Value) -> (String, i64) {
    let def: SurveyDefinition = serde_json::from_value(def).expect("a survey definition");
    let survey = must("create a survey", s.client.create_survey(adm, &def).await);
    let v = must("publish it", s.client.publish_survey(adm, &survey.id).await);
    (survey.id, v.version)
}

async fn build_world(s: &TestServer) -> World {
    let http = reqwest::Client::new();
    let adm = s.staff(Role::YotAdmin).await;
    let asg = s.staff(Role::DutyWorker).await;
    let unasg = s.staff(Role::DutyWorker).await;
    let sup = s.staff(Role::Supervisor).await;
    let moderator = s.staff(Role::Moderator).await;
    let first_mod = s.staff(Role::Moderator).await;
    // Not signed in here: the login row's ten sign-ins are all this account may have per minute.
    let login_username = format!("login-{}", unique());
    talkzone_server::accounts::create_account(
        s.state().store.as_ref(),
        0,
        talkzone_tests::api::CreateUserRequest {
            username: login_username.clone(),
            password: PASSWORD.into(),
            role: Role::DutyWorker,
            display_name: None,
        },
        None,
    )
    .await
    .expect("login account");
    // Many chats pass through the shared workers: room for all of them.
    for w in [&asg, &unasg, &sup] {
        let room_for_all = Capacity { capacity: 20 };
        must("capacity", s.client.set_capacity(&adm.access_token, &w.user.id, &room_for_all).await);
    }
    let room =
        must("the world's room", s.client.create_room(&adm.access_token, &room_request("World room".into())).await);
    let parent = parent_assignment(s, &adm.access_token).await;
    let policy = must("the policy", s.client.moderation_policy(&adm.access_token).await);
    let outcomes = must("the outcomes", s.client.list_outcomes(&sup.access_token).await);
    let yp = s.young_person().await;
    let notice = must("the notice", s.client.monitoring_notice(&yp.access_token).await);
    let service = must(
        "the world's service",
        s.client.create_service(&adm.access_token, &service_request("World service".into())).await,
    );
    World {
        service: service.id,
        login_username,
        http,
        asg,
        unasg,
        sup,
        moderator,
        first_mod,
        adm,
        room: room.id.0,
        parent_code: parent.1,
        policy,
        outcome: outcomes.outcomes.first().expect("an outcome").clone(),
        notice_version: notice.version.to_string(),
        notice_text: serde_json::to_string(&notice.text).expect("JSON").trim_matches('"').to_owned(),
    }
}

/// A parent/carer survey assigned with an access code: (assignment id, code).
async fn parent_assignment(s: &TestServer, adm: &str) -> (String, String) {
    let (id, _) = published_survey(
        s,
        adm,
        json!({
        "title": "Parent survey", "audience": "parent_carer",
        "questions": [{"id": "q1", "kind": "yes_no", "text": "Was the service helpful?"}]}),
    )
    .await;
    let p = participant(s, adm).await;
    let req = assignment_request(&id, &p, AssignmentRespondent::ParentCarer);
    let a = must("a parent's assignment", s.client.create_assignment(adm, &req).await);
    (a.assignment.id, a.access_code.expect("an access code"))
}

async fn participant(s: &TestServer, adm: &str) -> String {
    let req = CreateParticipantRequest {
        reference: format!("YOT-{}", unique()),
        intervention_type: "referral_order".into(),
        start_date: "2025-01-06".into(),
        end_date: None,
        age_band: None,
        gender: None,
        ethnicity: None,
        looked_after: None,
    };
    must("a participant", s.client.create_participant(adm, &req).await).id
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one target and the young people around it
// ---------------------------------------------------------------------------------------------

struct Fixture {
    yp: TokenResponse,
    oyp: TokenResponse,
    mem: TokenResponse,
    /// What `{id}` and `$names` stand for.
    vars: HashMap<String, String>,
    /// Text that must never reach someone without access (the target's content and id).
    secrets: Vec<String>,
    /// The conversation events are about, if any.
    conversation: Option<String>,
    parent_code: String,
}

impl Fixture {
    fn var(&self, name: &str) -> &str {
        self.vars.get(name).map(String::as_str).unwrap_or_else(|| panic!("the fixture has no ${name}"))
    }
}

async fn open_chat(s: &TestServer, yp: &TokenResponse, first: &str) -> String {
    let req = CreateConversationRequest { topic: Some("home".into()), first_message: Some(first.into()) };
    let (_, conv) = s.client.open_conversation(&yp.access_token, &req).await.expect("open a chat");
    conv.id.0
}

async fn join_room(s: &TestServer, who: &TokenResponse, room: &str) {
    must("join the room", s.client.join_room(&who.access_token, &ConversationId(room.to_owned())).await);
}

/// Sends a message over a WebSocket and returns its message id.
async fn say(s: &TestServer, who: &TokenResponse, conversation: &str, body: &str) -> String {
    let mut ws = s.client.connect(&who.access_token).await.expect("connect");
    let id = ConversationId(conversation.to_owned());
    match ws.send_message(&id, &format!("fx-{}", unique()), body).await.expect("send") {
        ServerFrame::Ack { message_id, .. } => message_id.0,
        other => panic!("fixture message refused: {other:?}"),
    }
}

async fn build(s: &TestServer, w: &World, target: &str) -> Fixture {
    let yp = s.young_person().await;
    let oyp = s.young_person().await;
    let mem = s.young_person().await;
    let secret = format!("SECRET-{}", unique());
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut secrets = vec![secret.clone()];
    let mut conversation = None;
    let mut parent_code = w.parent_code.clone();
    let adm = w.adm.access_token.as_str();
    let room_target = matches!(target, "room" | "report" | "decided_report" | "appealed_report" | "room_message");
    if !room_target {
        join_room(s, &mem, &w.room).await;
    }
    match target {
        "none" => {}
        "chat" | "queued_chat" | "held_chat" | "escalation" | "chat_message" => {
            let conv = open_chat(s, &yp, &secret).await;
            let conv_id = ConversationId(conv.clone());
            must("accept", s.client.accept(&w.asg.access_token, &conv_id).await);
            if target == "queued_chat" {
                let back = RequeueRequest { reason: "handing back".into() };
                must("requeue", s.client.requeue_conversation(&w.asg.access_token, &conv_id, &back).await);
            }
            if target == "held_chat" {
                let hold = HoldRequest { reason: "a police enquiry".into() };
                must("hold", s.client.place_hold(&w.sup.access_token, &conv_id, &hold).await);
            }
            if target == "chat_message" {
                let message_id = say(s, &yp, &conv, &format!("{secret} again")).await;
                secrets.push(message_id.clone());
                vars.insert("id".into(), message_id);
            } else if target == "escalation" {
                let raise = RaiseEscalationRequest { severity: "medium".into(), reason: format!("worried: {secret}") };
                let e = must("escalate", s.client.raise_escalation(&w.asg.access_token, &conv_id, &raise).await);
                let id = e.id;
                secrets.push(id.clone());
                vars.insert("id".into(), id);
            } else {
                vars.insert("id".into(), conv.clone());
            }
            // The young person's first message (a report names it).
            let history = must("history", s.client.messages(&yp.access_token, &conv_id, 0, None).await);
            let first = history.messages.iter().find(|m| m.body == secret).expect("the first message");
            secrets.push(first.message_id.0.clone());
            vars.insert("message_id".into(), first.message_id.0.clone());
            secrets.push(conv.clone());
            vars.insert("conversation_id".into(), conv.clone());
            conversation = Some(conv);
        }
        "room" | "report" | "decided_report" | "appealed_report" | "room_message" => {
            let room =
                must("a room", s.client.create_room(adm, &room_request(format!("Room {}", unique()))).await).id.0;
            join_room(s, &yp, &room).await;
            join_room(s, &mem, &room).await;
            let message_id = say(s, &yp, &room, &secret).await;
            secrets.push(message_id.clone());
            vars.insert("message_id".into(), message_id.clone());
            vars.insert("conversation_id".into(), room.clone());
            vars.insert("id".into(), if target == "room_message" { message_id.clone() } else { room.clone() });
            conversation = Some(room);
            if !matches!(target, "room" | "room_message") {
                let report = ReportRequest {
                    message_id: Some(MessageId(message_id.clone())),
                    user_id: None,
                    reason: "this was unkind".into(),
                };
                let item = must("a report", s.client.create_report(&mem.access_token, &report).await).id;
                secrets.push(item.clone());
                vars.insert("id".into(), item.clone());
                if target != "report" {
                    let remove =
                        DecisionRequest { action: ModerationAction::Remove, reason: "unkind".into(), body: None };
                    must("remove", s.client.decide_item(&w.first_mod.access_token, &item, &remove).await);
                }
                if target == "appealed_report" {
                    let appeal = AppealRequest { reason: "it was a joke".into() };
                    must("appeal", s.client.appeal_item(&yp.access_token, &item, &appeal).await);
                }
            }
        }
        "user" => {
            vars.insert("id".into(), yp.user.id.0.clone());
        }
        "worker" => {
            vars.insert("id".into(), w.unasg.user.id.0.clone());
        }
        // A staff member of its own, signed in, whose sessions a cell may end.
        "staff_member" | "staff_session" => {
            let member = s.staff(Role::DutyWorker).await;
            let sessions = must("their sessions", s.client.my_sessions(&member.access_token).await).sessions;
            let session = sessions.into_iter().next().expect("a session").id;
            let id = if target == "staff_member" { member.user.id.0.clone() } else { session.clone() };
            vars.insert("id".into(), id);
            vars.insert("session_id".into(), session.clone());
            secrets.push(session);
        }
        // A passkey of a staff member of its own ({id}): nobody else's to remove.
        "staff_passkey" => {
            let member = s.staff(Role::DutyWorker).await;
            let origin = s.state().config.allowed_origins.iter().find(|o| o.contains("localhost")).cloned();
            let mut key = talkzone_tests::passkey::SoftAuthenticator::new(&origin.expect("a localhost origin"));
            let started = must("start a registration", s.client.start_passkey_registration(&member.access_token).await);
            let req = talkzone_tests::api::PasskeyRegistrationFinish {
                registration: started.registration,
                name: "fixture".into(),
                credential: key.create(&started.options.options),
            };
            let passkey = must("a passkey", s.client.add_passkey(&member.access_token, &req).await);
            vars.insert("id".into(), passkey.id.clone());
            secrets.push(passkey.id);
        }
        "shift" => {
            let (start, end) = shift_times();
            let shift = ShiftRequest { user_id: w.unasg.user.id.clone(), starts_at: start, ends_at: end };
            vars.insert("id".into(), must("a shift", s.client.add_shift(adm, &shift).await).id);
        }
        "intervention_type" => {
            let kind = CreateInterventionTypeRequest { name: format!("Type {}", unique()) };
            vars.insert(
                "id".into(),
                must("an intervention type", s.client.create_intervention_type(adm, &kind).await).id,
            );
        }
        "participant" => {
            vars.insert("id".into(), participant(s, adm).await);
        }
        "survey" | "assignment" => {
            let (id, version) = published_survey(
                s,
                adm,
                json!({
                "title": "How did it go?", "audience": "young_person",
                "questions": [{"id": "q1", "kind": "emoji_scale", "text": "How do you feel?"}]}),
            )
            .await;
            let p = participant(s, adm).await;
            vars.insert("id".into(), id.clone());
            vars.insert("survey_id".into(), id.clone());
            vars.insert("version".into(), version.to_string());
            vars.insert("question_id".into(), "q1".into());
            vars.insert("participant_id".into(), p.clone());
            if target == "assignment" {
                let to = AssignmentRespondent::YoungPerson { user_id: yp.user.id.clone() };
                let req = assignment_request(&id, &p, to);
                let aid = must("an assignment", s.client.create_assignment(adm, &req).await).assignment.id;
                secrets.push(aid.clone());
                vars.insert("assignment_id".into(), aid);
            }
        }
        "parent_assignment" => {
            let (aid, code) = parent_assignment(s, adm).await;
            secrets.push(aid.clone());
            secrets.push(code.clone());
            vars.insert("assignment_id".into(), aid);
            parent_code = code;
        }
        "policy_version" => {
            let policy = format!("{}\n# matrix {}\n", w.policy, unique());
            let stored = must("a policy version", s.client.replace_moderation_policy(adm, &policy).await);
            vars.insert("version".into(), stored.version.to_string());
        }
        "service" => {
            let service = service_request(format!("Service {}", unique()));
            vars.insert("id".into(), must("a service", s.client.create_service(adm, &service).await).id);
        }
        // yp's device credential and recovery phrase (each a secret; {id} is the credential's id).
        "device_credential" => {
            let made = must("a device credential", s.client.create_device_credential(&yp.access_token).await);
            let phrase = must("a recovery phrase", s.client.create_recovery_phrase(&yp.access_token).await).phrase;
            vars.insert("id".into(), made.id);
            vars.insert("device_credential".into(), made.credential.clone());
            vars.insert("recovery_phrase".into(), phrase.clone());
            secrets.push(made.credential);
            secrets.push(phrase);
        }
        // yp's registered device; the token is a secret no list may show.
        "push_subscription" => {
            let token = format!("matrix-yp-{}", unique());
            let sub = NewPushSubscription::Fcm { token: token.clone(), device_label: Some("phone".into()) };
            let made = must("a push subscription", s.client.create_push_subscription(&yp.access_token, &sub).await);
            vars.insert("id".into(), made.id);
            vars.insert("push_token".into(), format!("matrix-new-{}", unique()));
            secrets.push(token);
        }
        "canned_reply" => {
            let req =
                CannedReplyRequest { title: format!("Hello {}", unique()), body: "Hi {worker_name} here.".into() };
            vars.insert("id".into(), must("a canned reply", s.client.create_canned_reply(adm, &req).await).id);
        }
        other => panic!("tests/authz-matrix.toml names an unknown target {other:?}"),
    }
    vars.insert("secret".into(), secret);
    vars.insert("yp_id".into(), yp.user.id.0.clone());
    vars.insert("service_id".into(), w.service.clone());
    vars.insert("unasg_id".into(), w.unasg.user.id.0.clone());
    vars.insert("outcome".into(), w.outcome.clone());
    vars.insert("login_username".into(), w.login_username.clone());
    vars.insert("login_password".into(), PASSWORD.into());
    vars.insert("password".into(), PASSWORD.into());
    vars.insert("notice_version".into(), w.notice_version.clone());
    vars.insert("notice_text".into(), w.notice_text.clone());
    vars.insert("policy".into(), w.policy.clone());
    let (start, end) = shift_times();
    vars.insert("shift_start".into(), start);
    vars.insert("shift_end".into(), end);
    Fixture { yp, oyp, mem, vars, secrets, conversation, parent_code }
}

/// A two-hour shift a week apart from every other one made here (no overlaps, no weekly cap).
fn shift_times() -> (String, String) {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) as i64;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let start = (now / 3600 + 48 + n * 24 * 8) * 3600;
    (rfc3339(start), rfc3339(start + 7200))
}

fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:00Z", rem / 3600, rem % 3600 / 60)
}

/// Frees the shared workers: the fixture's chat is closed (errors ignored: it may be closed).
async fn clean_up(s: &TestServer, w: &World, f: &Fixture) {
    if let Some(c) = &f.conversation {
        let close = CloseRequest { outcome: w.outcome.clone(), tags: Vec::new() };
        let _ = s.client.close_conversation(&w.sup.access_token, &ConversationId(c.clone()), &close).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Acting as each role
// ---------------------------------------------------------------------------------------------

enum Actor {
    Nobody,
    Bearer(TokenResponse),
    Code(String),
}

fn actor(role: &str, w: &World, f: &Fixture) -> Actor {
    match role {
        "anon" => Actor::Nobody,
        "yp" => Actor::Bearer(f.yp.clone()),
        "oyp" => Actor::Bearer(f.oyp.clone()),
        "mem" => Actor::Bearer(f.mem.clone()),
        "asg" => Actor::Bearer(w.asg.clone()),
        "unasg" => Actor::Bearer(w.unasg.clone()),
        "sup" => Actor::Bearer(w.sup.clone()),
        "mod" => Actor::Bearer(w.moderator.clone()),
        "adm" => Actor::Bearer(w.adm.clone()),
        "par" => Actor::Code(f.parent_code.clone()),
        other => panic!("unknown role {other}"),
    }
}

/// A new account in the role's place, for rows that end or change the caller's session.
async fn fresh_actor(s: &TestServer, role: &str, f: &Fixture) -> Actor {
    let staff = |r| async move { Actor::Bearer(s.staff(r).await) };
    match role {
        "anon" => Actor::Nobody,
        "yp" | "oyp" | "mem" => Actor::Bearer(s.young_person().await),
        "asg" | "unasg" => staff(Role::DutyWorker).await,
        "sup" => staff(Role::Supervisor).await,
        "mod" => staff(Role::Moderator).await,
        "adm" => staff(Role::YotAdmin).await,
        "par" => Actor::Code(f.parent_code.clone()),
        other => panic!("unknown role {other}"),
    }
}

/// Replaces every `$name` with the fixture's value (longest names first, so `$id` does not eat
/// `$idx`).
fn substitute(text: &str, vars: &HashMap<String, String>) -> String {
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = text.to_owned();
    for n in names {
        out = out.replace(&format!("${n}"), &vars[n]);
    }
    out
}

fn fill_path(path: &str, vars: &HashMap<String, String>) -> String {
    let mut out = path.to_owned();
    while let Some(start) = out.find('{') {
        let end = out[start..].find('}').map(|e| start + e).expect("closing brace");
        let name = out[start + 1..end].to_owned();
        let value = vars.get(&name).unwrap_or_else(|| panic!("{path}: the target gives no {{{name}}}"));
        out.replace_range(start..=end, value);
    }
    out
}

async fn call_route(
    s: &TestServer,
    w: &World,
    row: &RouteRow,
    who: &Actor,
    vars: &HashMap<String, String>,
) -> (u16, String) {
    let mut url = format!("{}{}", s.base, fill_path(&row.path, vars));
    if let Some(q) = &row.query {
        url.push('?');
        url.push_str(&substitute(q, vars));
    }
    let method = Method::from_bytes(row.method.as_bytes()).expect("method");
    let mut req = w.http.request(method, url);
    match who {
        Actor::Nobody => {}
        Actor::Bearer(t) => req = req.bearer_auth(&t.access_token),
        Actor::Code(c) => req = req.header("X-Access-Code", c),
    }
    if let Some(body) = &row.body {
        req = req
            .header("content-type", row.content_type.as_deref().unwrap_or("application/json"))
            .body(substitute(body, vars));
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{} {}: {e}", row.method, row.path));
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

fn leaked<'a>(text: &str, secrets: &'a [String]) -> Option<&'a String> {
    secrets.iter().find(|s| text.contains(s.as_str()))
}

async fn walk_routes(s: &TestServer, w: &World, rows: &[RouteRow], failures: &mut Vec<String>) {
    for row in rows {
        let shared = if row.method == "GET" { Some(build(s, w, &row.target).await) } else { None };
        for (i, role) in ROLES.iter().enumerate() {
            let own;
            let f = match &shared {
                Some(f) => f,
                None => {
                    own = build(s, w, &row.target).await;
                    &own
                }
            };
            let who = if row.fresh_actor { fresh_actor(s, role, f).await } else { actor(role, w, f) };
            let mut vars = f.vars.clone();
            vars.insert("unique".into(), unique());
            vars.insert(
                "refresh_token".into(),
                match &who {
                    Actor::Bearer(t) => t.refresh_token.clone(),
                    _ => format!("not-a-token-{}", unique()),
                },
            );
            let (status, body) = call_route(s, w, row, &who, &vars).await;
            let cell = format!("{} {} as {role}", row.method, row.path);
            if status != row.expect[i] {
                failures.push(format!("{cell}: expected {}, got {status}: {}", row.expect[i], truncate(&body)));
            }
            if status >= 400 {
                if let Some(s) = leaked(&body, &f.secrets) {
                    failures.push(format!("{cell}: the {status} answer leaks {s}: {}", truncate(&body)));
                }
            }
            // Someone else's thing must look exactly like a thing that does not exist.
            if let (404, Some(name)) = (status, target_var(row)) {
                let mut missing = vars.clone();
                missing.insert(name, ulid::Ulid::new().to_string());
                let (st, b) = call_route(s, w, row, &who, &missing).await;
                if (st, &b) != (status, &body) {
                    failures.push(format!(
                        "{cell}: 404 differs from a missing id's answer ({st} {}): existence leaks",
                        truncate(&b)
                    ));
                }
            }
            if status < 400 && row.hidden_from.iter().any(|h| h == role) {
                if let Some(s) = leaked(&body, &f.secrets) {
                    failures.push(format!("{cell}: the answer shows someone else's {s}"));
                }
            }
            if shared.is_none() {
                clean_up(s, w, f).await;
            }
        }
        if let Some(f) = &shared {
            clean_up(s, w, f).await;
        }
    }
}

/// What names the target in a request: the path's first `{name}`, or a message id in the body.
fn target_var(row: &RouteRow) -> Option<String> {
    if let Some(start) = row.path.find('{') {
        let end = row.path[start..].find('}')? + start;
        return Some(row.path[start + 1..end].to_owned());
    }
    row.body.as_deref().filter(|b| b.contains("$message_id")).map(|_| "message_id".to_owned())
}

fn truncate(s: &str) -> String {
    s.chars().take(300).collect()
}

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

/// `401` when an upgrade is refused, as every socket without a bearer token must be.
async fn upgrade_status(s: &TestServer, code: Option<&str>) -> String {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = s.client.ws_url().into_client_request().expect("request");
    if let Some(c) = code {
        req.headers_mut().insert("x-access-code", c.parse().expect("header"));
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => "101".into(),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16().to_string(),
        Err(e) => format!("{e}"),
    }
}

/// Every frame until the `pong` for `nonce`.
async fn until_pong(ws: &mut WsConnection, nonce: &str) -> Vec<ServerFrame> {
    ws.send(&ClientFrame::Ping { nonce: Some(json!(nonce)) }).await.expect("ping");
    let mut seen = Vec::new();
    loop {
        match ws.recv_timeout(WAIT * 2).await {
            Ok(ServerFrame::Pong { nonce: Some(n) }) if n == json!(nonce) => return seen,
            Ok(f) => seen.push(f),
            Err(e) => panic!("no pong for {nonce}: {e}; seen {seen:?}"),
        }
    }
}

/// What answers a frame: everything up to the `pong` of a ping sent after it. A `send` is
/// stored beside the connection's loop (pings are answered while it waits on the database), so
/// its own `ack` or `error` is waited for first.
async fn answers(ws: &mut WsConnection, kind: &str, reference: &str, nonce: &str) -> Vec<ServerFrame> {
    let mut seen = Vec::new();
    let mut waiting = kind == "send";
    while waiting {
        let f = ws.recv_timeout(WAIT * 2).await.unwrap_or_else(|e| panic!("no answer to the send: {e}; seen {seen:?}"));
        waiting = !(matches!(&f, ServerFrame::Ack { client_msg_id, .. } if client_msg_id == reference)
            || matches!(&f, ServerFrame::Error { reference: Some(r), .. } if r == reference));
        seen.push(f);
    }
    seen.extend(until_pong(ws, nonce).await);
    seen
}

fn conversation_of(f: &Fixture) -> ConversationId {
    ConversationId(f.conversation.clone().unwrap_or_else(|| "01HZZZZZZZZZZZZZZZZZZZZZZZ".into()))
}

/// The frame a row sends, and the `ref` an error answering it carries.
fn frame_for(kind: &str, f: &Fixture) -> (ClientFrame, String) {
    frame_about(kind, conversation_of(f))
}

fn frame_about(kind: &str, c: ConversationId) -> (ClientFrame, String) {
    let frame = match kind {
        "subscribe" => ClientFrame::Subscribe { conversation_id: c, after_seq: 0 },
        "unsubscribe" => ClientFrame::Unsubscribe { conversation_id: c },
        "send" => {
            ClientFrame::Send { conversation_id: c, client_msg_id: format!("m-{}", unique()), body: "hello".into() }
        }
        "typing" => ClientFrame::Typing { conversation_id: c },
        "read" => ClientFrame::Read { conversation_id: c, seq: 1 },
        "accept" => ClientFrame::Accept { conversation_id: c },
        "duty" => ClientFrame::Duty { on_duty: false },
        "queue.watch" => ClientFrame::QueueWatch,
        "moderation.watch" => ClientFrame::ModerationWatch,
        "ping" => ClientFrame::Ping { nonce: Some(json!("row")) },
        "auth" => ClientFrame::Auth { access_token: "not-a-token".into() },
        other => panic!("matrix.rs does not know how to send a {other:?} frame: teach frame_for"),
    };
    let reference = match &frame {
        ClientFrame::Send { client_msg_id, .. } => client_msg_id.clone(),
        other => other.type_name().to_owned(),
    };
    (frame, reference)
}

/// The code and message of the error answering the frame with this `ref`.
fn error_answering(frames: &[ServerFrame], reference: &str) -> Option<(String, String)> {
    frames.iter().find_map(|fr| match fr {
        ServerFrame::Error { code, message, reference: Some(r), .. } if r == reference => {
            Some((code.as_str().to_owned(), message.clone()))
        }
        _ => None,
    })
}

/// The answer that shows a frame was carried out, for frames that have one.
fn answered(kind: &str, frames: &[ServerFrame], reference: &str) -> bool {
    match kind {
        "subscribe" => frames.iter().any(|f| matches!(f, ServerFrame::Subscribed { .. })),
        "send" => {
            frames.iter().any(|f| matches!(f, ServerFrame::Ack { client_msg_id, .. } if client_msg_id == reference))
        }
        "duty" => frames.iter().any(|f| matches!(f, ServerFrame::Duty { .. })),
        "queue.watch" => frames.iter().any(|f| matches!(f, ServerFrame::QueueSnapshot { .. })),
        "ping" => frames.iter().any(|f| matches!(f, ServerFrame::Pong { nonce: Some(n) } if n == "row")),
        "auth" => frames.iter().any(|f| matches!(f, ServerFrame::Authenticated { .. })),
        _ => true,
    }
}

fn all_json(frames: &[ServerFrame]) -> String {
    frames.iter().map(|f| serde_json::to_string(f).unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

async fn walk_frames(s: &TestServer, w: &World, rows: &[FrameRow], failures: &mut Vec<String>) {
    for row in rows {
        for (i, role) in ROLES.iter().enumerate() {
            let f = build(s, w, &row.target).await;
            let cell = format!("frame {} as {role}", row.kind);
            let outcome = match actor(role, w, &f) {
                Actor::Nobody => upgrade_status(s, None).await,
                Actor::Code(c) => upgrade_status(s, Some(&c)).await,
                Actor::Bearer(t) => {
                    let mut ws = s.client.connect(&t.access_token).await.expect("connect");
                    ws.round_trip().await.expect("registered");
                    // `auth` presents the caller's own token (each its own session's).
                    let (frame, reference) = match row.kind.as_str() {
                        "auth" => (ClientFrame::Auth { access_token: t.access_token.clone() }, "auth".to_owned()),
                        _ => frame_for(&row.kind, &f),
                    };
                    ws.send(&frame).await.expect("send frame");
                    let seen = answers(&mut ws, &row.kind, &reference, "barrier").await;
                    let outcome = match error_answering(&seen, &reference) {
                        Some((code, _)) => code,
                        None if answered(&row.kind, &seen, &reference) => "ok".to_owned(),
                        None => "no answer".to_owned(),
                    };
                    if outcome == "not_found" {
                        // The same frame about a conversation that does not exist must get
                        // the same answer, word for word.
                        let missing = ConversationId(ulid::Ulid::new().to_string());
                        let (frame2, reference2) = frame_about(&row.kind, missing);
                        ws.send(&frame2).await.expect("send frame");
                        let other = answers(&mut ws, &row.kind, &reference2, "barrier-missing").await;
                        let (a, b) = (error_answering(&seen, &reference), error_answering(&other, &reference2));
                        if a != b {
                            failures.push(format!(
                                "{cell}: not_found differs from a missing conversation's answer ({a:?} / {b:?})"
                            ));
                        }
                    }
                    let text = all_json(&seen);
                    if outcome != "ok" || *role == "oyp" {
                        if let Some(sec) = leaked(&text, &f.secrets) {
                            failures
                                .push(format!("{cell}: {outcome}, but {sec} reached the socket: {}", truncate(&text)));
                        }
                    }
                    outcome
                }
            };
            if outcome != row.expect[i] {
                failures.push(format!("{cell}: expected {}, got {outcome}", row.expect[i]));
            }
            clean_up(s, w, &f).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// One role's connection and everything it received.
struct Listener {
    ws: WsConnection,
    log: Vec<ServerFrame>,
    mark: usize,
}

impl Listener {
    fn matching<'a>(&'a self, kind: &'a str, about: Option<&'a str>) -> impl Iterator<Item = &'a ServerFrame> + 'a {
        self.log[self.mark..].iter().filter(move |f| {
            f.type_name() == kind && about.is_none_or(|a| serde_json::to_string(f).unwrap_or_default().contains(a))
        })
    }
}

/// Does what the row's trigger names; returns what the event will mention (`trigger_ref`).
async fn fire(
    s: &TestServer,
    w: &World,
    f: &Fixture,
    trigger: &str,
    listeners: &mut HashMap<&str, Listener>,
) -> String {
    let c = conversation_of(f);
    let yp = listeners.get_mut("yp").expect("yp listens");
    match trigger {
        "setup" => String::new(),
        "yp_sends" => {
            let r = format!("ev-{}", unique());
            yp.ws
                .send(&ClientFrame::Send {
                    conversation_id: c,
                    client_msg_id: r.clone(),
                    body: "are you there?".into(),
                })
                .await
                .expect("send");
            r
        }
        "yp_types" => {
            yp.ws.send(&ClientFrame::Typing { conversation_id: c }).await.expect("typing");
            String::new()
        }
        "yp_reads" => {
            yp.ws.send(&ClientFrame::Read { conversation_id: c, seq: 1 }).await.expect("read");
            String::new()
        }
        "yp_bad_frame" => {
            yp.ws.send_raw(Message::text("{this is not json")).await.expect("bad frame");
            String::new()
        }
        "yp_reauths" => {
            let token = f.yp.access_token.clone();
            yp.ws.send(&ClientFrame::Auth { access_token: token }).await.expect("auth");
            String::new()
        }
        "yp_pings" => {
            let r = format!("trigger-{}", unique());
            yp.ws.send(&ClientFrame::Ping { nonce: Some(json!(r)) }).await.expect("ping");
            r
        }
        "yp_opens_chat" => {
            let req = CreateConversationRequest { topic: Some("new".into()), first_message: None };
            must("open a chat", s.client.open_conversation(&f.yp.access_token, &req).await).1.id.0
        }
        "asg_requeues" => {
            let away = RequeueRequest { reason: "stepping away".into() };
            must("requeue", s.client.requeue_conversation(&w.asg.access_token, &c, &away).await);
            String::new()
        }
        "asg_duty" => {
            let asg = listeners.get_mut("asg").expect("asg listens");
            asg.ws.send(&ClientFrame::Duty { on_duty: false }).await.expect("duty");
            String::new()
        }
        "asg_escalates" => {
            let raise = RaiseEscalationRequest { severity: "medium".into(), reason: "worried".into() };
            must("escalate", s.client.raise_escalation(&w.asg.access_token, &c, &raise).await);
            String::new()
        }
        "admin_assigns_survey" => {
            let to = AssignmentRespondent::YoungPerson { user_id: f.yp.user.id.clone() };
            let req = assignment_request(f.var("survey_id"), f.var("participant_id"), to);
            must("assign a survey", s.client.create_assignment(&w.adm.access_token, &req).await).assignment.id
        }
        "mem_reports" => {
            let report = ReportRequest {
                message_id: Some(MessageId(f.var("message_id").to_owned())),
                user_id: None,
                reason: "unkind".into(),
            };
            must("report", s.client.create_report(&f.mem.access_token, &report).await).id
        }
        "mod_removes" => {
            let remove = DecisionRequest { action: ModerationAction::Remove, reason: "unkind".into(), body: None };
            must("remove", s.client.decide_item(&w.moderator.access_token, f.var("id"), &remove).await);
            String::new()
        }
        "mod_warns_yp" => {
            let warn =
                UserActionRequest { action: UserActionKind::Warn, reason: "please be kind".into(), duration_s: None };
            must("warn", s.client.act_on_user(&w.moderator.access_token, &f.yp.user.id, &warn).await);
            String::new()
        }
        other => panic!("tests/authz-matrix.toml names an unknown trigger {other:?}"),
    }
}

async fn walk_events(s: &TestServer, w: &World, rows: &[EventRow], failures: &mut Vec<String>) {
    for row in rows {
        let f = build(s, w, &row.target).await;
        let mut listeners: HashMap<&str, Listener> = HashMap::new();
        for (i, role) in ROLES.iter().enumerate() {
            match actor(role, w, &f) {
                Actor::Bearer(t) => {
                    let ws = s.client.connect(&t.access_token).await.expect("connect");
                    listeners.insert(*role, Listener { ws, log: Vec::new(), mark: 0 });
                }
                other => {
                    // No socket without a bearer token: nothing can reach them.
                    let code = match &other {
                        Actor::Code(c) => Some(c.as_str()),
                        _ => None,
                    };
                    let status = upgrade_status(s, code).await;
                    if status != "401" || row.expect[i] != "no" {
                        failures.push(format!(
                            "event {} as {role}: expected {} (socket {status})",
                            row.kind, row.expect[i]
                        ));
                    }
                }
            }
        }
        // Setup: everyone tries everything that could bring them the event.
        for (role, l) in listeners.iter_mut() {
            if let Some(c) = &f.conversation {
                l.ws.send(&ClientFrame::Subscribe { conversation_id: ConversationId(c.clone()), after_seq: 0 })
                    .await
                    .expect("subscribe");
            }
            l.ws.send(&ClientFrame::QueueWatch).await.expect("queue.watch");
            l.ws.send(&ClientFrame::ModerationWatch).await.expect("moderation.watch");
            let seen = until_pong(&mut l.ws, &format!("setup-{role}")).await;
            l.log.extend(seen);
            l.mark = if row.trigger == "setup" { 0 } else { l.log.len() };
        }
        let trigger_ref = fire(s, w, &f, &row.trigger, &mut listeners).await;
        let about = row.about.as_deref().map(|a| match a {
            "trigger_ref" => trigger_ref.clone(),
            other => f.var(other).to_owned(),
        });
        let about = about.as_deref();
        // Those who should get it, within a few seconds; then the others, after a barrier that
        // comes after the event's delivery to everyone who got it.
        let mut got: HashMap<&str, bool> = HashMap::new();
        for (i, role) in ROLES.iter().enumerate() {
            let Some(l) = listeners.get_mut(role) else { continue };
            if row.expect[i] != "yes" {
                continue;
            }
            let deadline = tokio::time::Instant::now() + WAIT;
            while l.matching(&row.kind, about).next().is_none() {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                match tokio::time::timeout(left, l.ws.recv()).await {
                    Ok(Ok(fr)) => l.log.push(fr),
                    _ => break,
                }
            }
            got.insert(*role, l.matching(&row.kind, about).next().is_some());
        }
        if got.is_empty() {
            // Nobody should get it: no delivery to wait for, so give a wrong one time to
            // arrive before the barrier (nothing to poll for an event that must not come).
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        for (i, role) in ROLES.iter().enumerate() {
            let Some(l) = listeners.get_mut(role) else { continue };
            let seen = until_pong(&mut l.ws, &format!("after-{role}")).await;
            l.log.extend(seen);
            let received = got.get(role).copied().unwrap_or(false) || l.matching(&row.kind, about).next().is_some();
            let outcome = if received { "yes" } else { "no" };
            if outcome != row.expect[i] {
                let tail = all_json(&l.log[l.mark..]);
                failures.push(format!(
                    "event {} as {role}: expected {}, got {outcome}; received: {}",
                    row.kind,
                    row.expect[i],
                    truncate(&tail)
                ));
            }
            if *role == "oyp" {
                if let Some(sec) = leaked(&all_json(&l.log), &f.secrets) {
                    failures.push(format!("event {} as oyp: {sec} reached another young person", row.kind));
                }
            }
        }
        for (_, l) in listeners.drain() {
            let _ = l.ws.close().await;
        }
        clean_up(s, w, &f).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The walk
// ---------------------------------------------------------------------------------------------

async fn the_whole_matrix_holds(backend: Backend) {
    let matrix = parse_matrix();
    let problems = coverage_problems(&matrix);
    assert!(problems.is_empty(), "the authorisation matrix is out of date:\n{}", problems.join("\n"));
    let s = TestServer::builder(backend)
        .config(|cfg| {
            // Fixture chats must stay where the fixture put them for the length of the walk.
            cfg.desk.assignment_timeout = Duration::from_secs(3600);
            cfg.desk.disconnect_grace = Duration::from_secs(3600);
            cfg.desk.chats_per_day = 1000;
            cfg.limits.user_messages_per_sec = 1000;
            cfg.limits.user_messages_burst = 1000;
            // Web Push on, so that its key route answers.
            cfg.push.vapid_subject = Some("mailto:matrix@example.org".into());
        })
        .start()
        .await;
    let w = build_world(&s).await;
    let mut failures = Vec::new();
    walk_routes(&s, &w, &matrix.route, &mut failures).await;
    walk_frames(&s, &w, &matrix.frame, &mut failures).await;
    walk_events(&s, &w, &matrix.event, &mut failures).await;
    assert!(
        failures.is_empty(),
        "{} cells of tests/authz-matrix.toml do not hold on {backend:?}:\n{}",
        failures.len(),
        failures.join("\n")
    );
    s.stop().await;
}

both_backends!(the_whole_matrix_holds);
