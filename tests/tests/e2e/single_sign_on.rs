//! Single sign-on for staff (issue 21) against a real OpenID Connect provider the test starts
//! (`oidc-provider`, `tests/oidc/`): the code flow with PKCE, state and nonce; accounts made at
//! the first sign-in only for a mapped role, the role following the claim; refusals of a wrong
//! issuer, a wrong audience, an expired ID token, a wrong nonce, a replayed or missing state, a
//! code from another attempt (PKCE), an unmapped role and a suspended account; logout.

use reqwest::StatusCode;
use serde_json::{json, Value};
use talkzone_mobile_api::{AccountActionRequest, Role, SsoPage, TokenResponse};
use talkzone_server::model::AuditAction;
use talkzone_tests::a11y::{axe, screenshot, viewport};
use talkzone_tests::browser::Browser;
use talkzone_tests::oidc::{sign_in_at_provider, Idp, IdpPlan, SUPERVISORS, WORKERS};
use talkzone_tests::{both_backends, Backend, TestServer};

fn accounts() -> Value {
    json!({
        "wendy": { "groups": ["everyone", WORKERS], "name": "Wendy Worker", "preferred_username": "wendy@council.example" },
        "sam": { "groups": [SUPERVISORS], "name": "Sam Supervisor" },
        "vic": { "groups": ["everyone", "tz-visitors"], "name": "Vic Visitor" },
    })
}

/// A server with single sign-on through `plan`'s provider (not started yet).
async fn sso_server(backend: Backend, plan: &IdpPlan) -> TestServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let sso = plan.sso_config(&base);
    TestServer::builder(backend)
        .config(move |c| {
            c.listen = ([127, 0, 0, 1], port).into();
            c.allowed_origins = vec![base];
            c.sso = Some(sso);
        })
        .start()
        .await
}

/// A server and its provider, `extra` in the provider's settings (see provider.js).
async fn with_provider(backend: Backend, extra: Value) -> (TestServer, Idp) {
    let plan = Idp::reserve();
    let s = sso_server(backend, &plan).await;
    let idp = Idp::start(&plan, &s.base, accounts(), extra).await;
    (s, idp)
}

/// Signs `who` in at the provider from a new start; the callback's query string.
async fn at_provider(s: &TestServer, who: &str) -> String {
    let to = s.client.sso_start(SsoPage::Console).await.expect("sso start");
    sign_in_at_provider(&to, who, &format!("{}/v1/auth/sso/callback", s.base)).await
}

/// The whole sign-in: the callback's answer (status, Location, page).
async fn sign_in(s: &TestServer, who: &str) -> (StatusCode, Option<String>, String) {
    let query = at_provider(s, who).await;
    s.client.sso_callback(&query).await.unwrap()
}

/// A successful sign-in's session: the page's fragment spent on `POST /v1/auth/refresh`.
async fn signed_in(s: &TestServer, who: &str) -> TokenResponse {
    let (status, location, body) = sign_in(s, who).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = location.unwrap();
    let refresh = location.strip_prefix("/console#sso=").unwrap_or_else(|| panic!("to the console: {location}"));
    s.client.refresh(refresh).await.expect("the fragment's refresh token works")
}

async fn audited(s: &TestServer, action: AuditAction) -> Vec<String> {
    let events = s.state().store.audit_since(0, 1000).await.unwrap();
    events.into_iter().filter(|e| e.action == action).map(|e| e.details.unwrap_or_default()).collect()
}

async fn a_worker_signs_in_through_the_provider_and_gets_a_session(backend: Backend) {
    let (s, idp) = with_provider(backend, json!({})).await;
    let to = s.client.sso_start(SsoPage::Console).await.unwrap();
    assert!(to.starts_with(&format!("{}/auth?", idp.issuer)), "{to}");
    for part in ["code_challenge_method=S256", "code_challenge=", "state=", "nonce=", "response_type=code"] {
        assert!(to.contains(part), "{part} in {to}");
    }

    let tokens = signed_in(&s, "wendy").await;
    assert_eq!((tokens.user.role, tokens.user.display_name.as_str()), (Role::DutyWorker, "Wendy Worker"));
    let me = s.client.me(&tokens.access_token).await.unwrap();
    assert_eq!(me.id, tokens.user.id);
    let sessions = s.client.my_sessions(&tokens.access_token).await.unwrap().sessions;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0].method, "oidc");
    assert_eq!(audited(&s, AuditAction::UserCreated).await.len(), 1, "provisioned, audited");

    // The second sign-in is the same account (bound to the provider's subject), a new session.
    let again = signed_in(&s, "wendy").await;
    assert_eq!(again.user.id, tokens.user.id);
    assert_eq!(s.client.my_sessions(&again.access_token).await.unwrap().sessions.len(), 2);

    // Logout ends that session like any other: its access token is refused at once.
    s.client.logout(&again.refresh_token).await.unwrap();
    assert_eq!(s.client.me(&again.access_token).await.unwrap_err().status(), Some(401));
    s.client.me(&tokens.access_token).await.expect("the other session goes on");
}

async fn the_admin_page_gets_its_own_way_back(backend: Backend) {
    let (s, _idp) = with_provider(backend, json!({})).await;
    let to = s.client.sso_start(SsoPage::Admin).await.unwrap();
    let query = sign_in_at_provider(&to, "sam", &format!("{}/v1/auth/sso/callback", s.base)).await;
    let (status, location, _) = s.client.sso_callback(&query).await.unwrap();
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().starts_with("/admin#sso="));
}

async fn only_mapped_roles_are_provisioned_and_the_role_follows_the_claim(backend: Backend) {
    let (s, idp) = with_provider(backend, json!({})).await;
    let (status, _, page) = sign_in(&s, "vic").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("no Talk Zone role"), "{page}");
    assert!(page.contains("<a href=\"/console\">"), "a way back: {page}");
    let refused = audited(&s, AuditAction::SsoRefused).await;
    assert_eq!(refused.len(), 1);
    assert!(refused[0].contains("no mapped role"), "{refused:?}");
    assert!(audited(&s, AuditAction::UserCreated).await.is_empty(), "no account was made");

    let worker = signed_in(&s, "wendy").await;
    assert_eq!(worker.user.role, Role::DutyWorker);
    // The council moves Wendy to the supervisors: her next sign-in is a supervisor's, audited,
    // and her worker's session ends (it carries the old role).
    idp.set_account("wendy", json!({ "groups": [SUPERVISORS], "name": "Wendy Worker" })).await;
    let promoted = signed_in(&s, "wendy").await;
    assert_eq!((promoted.user.id.clone(), promoted.user.role), (worker.user.id.clone(), Role::Supervisor));
    let changes = audited(&s, AuditAction::RoleChanged).await;
    assert_eq!(changes, vec!["duty_worker -> supervisor: the identity provider's claim".to_owned()]);
    assert_eq!(s.client.me(&worker.access_token).await.unwrap_err().status(), Some(401));
    // Out of every Talk Zone group: refused, though the account exists.
    idp.set_account("wendy", json!({ "groups": ["everyone"], "name": "Wendy Worker" })).await;
    let (status, _, page) = sign_in(&s, "wendy").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
}

async fn a_suspended_account_is_refused(backend: Backend) {
    let (s, _idp) = with_provider(backend, json!({})).await;
    let worker = signed_in(&s, "wendy").await;
    let admin = s.staff(Role::YotAdmin).await;
    s.client.suspend_user(&admin.access_token, &worker.user.id, &AccountActionRequest { reason: None }).await.unwrap();
    let (status, _, page) = sign_in(&s, "wendy").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("suspended or offboarded"), "{page}");
    assert!(audited(&s, AuditAction::SsoRefused).await[0].contains("suspended"));
}

async fn a_state_is_good_once_and_needed(backend: Backend) {
    let (s, _idp) = with_provider(backend, json!({})).await;
    let query = at_provider(&s, "wendy").await;
    let (status, _, _) = s.client.sso_callback(&query).await.unwrap();
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) = s.client.sso_callback(&query).await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "replayed: {page}");
    assert!(page.contains("expired or was used already"), "{page}");

    let query = at_provider(&s, "wendy").await;
    let without_state: Vec<&str> = query.split('&').filter(|p| !p.starts_with("state=")).collect();
    let (status, _, page) = s.client.sso_callback(&without_state.join("&")).await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("no code or state"), "{page}");
    let (status, _, _) = s.client.sso_callback("state=made-up&code=made-up").await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = s.client.sso_callback("error=access_denied&state=x").await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// PKCE: a code is worth nothing with another attempt's state (its verifier does not match the
/// code's challenge), so a code stolen from one browser cannot be played into another's.
async fn a_code_from_another_attempt_is_refused(backend: Backend) {
    let (s, _idp) = with_provider(backend, json!({})).await;
    let first = at_provider(&s, "wendy").await;
    let second = at_provider(&s, "wendy").await;
    let param = |q: &str, name: &str| q.split('&').find(|p| p.starts_with(&format!("{name}="))).unwrap().to_owned();
    let crossed = format!("{}&{}", param(&first, "code"), param(&second, "state"));
    let (status, _, page) = s.client.sso_callback(&crossed).await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    assert!(page.contains("did not confirm"), "{page}");
}

/// Each bad ID token the provider can be made to sign is refused, with why.
async fn bad_id_tokens_are_refused(backend: Backend) {
    for (tamper, why) in [
        ("issuer", "an identity provider this service does not trust"),
        ("audience", "made for another application"),
        ("expired", "had expired"),
        ("nonce", "does not belong to this attempt"),
    ] {
        let (s, _idp) = with_provider(backend, json!({ "tamper": tamper })).await;
        let (status, _, page) = sign_in(&s, "wendy").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{tamper}: {page}");
        assert!(page.contains(why), "{tamper}: {page}");
        assert!(audited(&s, AuditAction::UserCreated).await.is_empty(), "{tamper}: no account");
    }
}

/// A provider whose discovery document names another issuer than the configured one is not
/// used at all.
async fn a_provider_with_another_issuer_is_not_used(backend: Backend) {
    let plan = Idp::reserve();
    let s = sso_server(backend, &plan).await;
    let other = format!("http://localhost:{}", plan.port);
    let _idp = Idp::start(&plan, &s.base, accounts(), json!({ "issuer": other })).await;
    let e = s.client.sso_start(SsoPage::Console).await.unwrap_err();
    assert_eq!(e.status(), Some(503), "{e}");
}

async fn without_a_provider_there_is_no_single_sign_on(backend: Backend) {
    let s = TestServer::start(backend).await;
    assert_eq!(s.client.sso_start(SsoPage::Console).await.unwrap_err().status(), Some(404));
    let (status, _, _) = s.client.sso_callback("code=a&state=b").await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The console's "Sign in with your council account", in chromium: to the provider and back,
/// signed in (the fragment's token spent and gone from the address bar). Without single
/// sign-on configured the page has no such button.
#[tokio::test]
async fn the_console_signs_in_with_the_council_account() {
    let plan = Idp::reserve();
    let s = sso_server(Backend::Sqlite, &plan).await;
    let _idp = Idp::start(&plan, &s.base, accounts(), json!({ "default_account": "wendy" })).await;
    let browser = Browser::start().await;
    let mut page = browser.open(&format!("{}/console", s.base)).await;
    let shown = "!document.getElementById('sso').hidden";
    assert_eq!(page.eval(shown).await, json!(true));
    axe(&mut page, "the sign-in page with single sign-on").await;
    for (w, h) in [(390, 844), (1280, 800)] {
        viewport(&mut page, w, h).await;
        screenshot(&mut page, &format!("sso-sign-in-{w}x{h}")).await;
    }
    page.click("#sso-sign-in").await;
    page.wait_for("!document.getElementById('desk').hidden", "the desk, signed in").await;
    assert_eq!(page.eval("location.hash").await, json!(""), "the token left the address bar");
    assert_eq!(page.eval("location.pathname").await, json!("/console"));

    let plain = TestServer::builder(Backend::Sqlite).own_origin().start().await;
    let mut page = browser.open(&format!("{}/console", plain.base)).await;
    assert_eq!(page.eval(shown).await, json!(false), "no button without an identity provider");
    browser.stop().await;
}

both_backends!(
    a_worker_signs_in_through_the_provider_and_gets_a_session,
    the_admin_page_gets_its_own_way_back,
    only_mapped_roles_are_provisioned_and_the_role_follows_the_claim,
    a_suspended_account_is_refused,
    a_state_is_good_once_and_needed,
    a_code_from_another_attempt_is_refused,
    bad_id_tokens_are_refused,
    a_provider_with_another_issuer_is_not_used,
    without_a_provider_there_is_no_single_sign_on,
);
