//! Two factors for staff (issue 21): TOTP (RFC 6238) with recovery codes, set up at the first
//! sign-in, asked of every staff role by default (a setting relaxes it for moderators only);
//! a code works once, wrong codes are throttled like passwords, a recovery code works once,
//! and a YOT admin's reset makes the account set one up again.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use talkzone_mobile_api::client::{Client, ClientError};
use talkzone_mobile_api::{AccountActionRequest, CreateUserRequest, Role, SecondFactorChallenge, SecondFactorKind};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_server::config::SecondFactorPolicy;
use talkzone_tests::{both_backends, totp_code, Backend, TestServer, TEST_PASSWORD};

async fn asking(backend: Backend, policy: SecondFactorPolicy) -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(move |c| {
            c.second_factor = policy;
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        })
        .start()
        .await;
    (s, clock)
}

/// A client behind the trusted proxy whose requests come from `ip`.
fn from(s: &TestServer, ip: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_str(ip).unwrap());
    Client::with_headers(&s.base, headers).unwrap()
}

async fn account(s: &TestServer, role: Role, username: &str) {
    let req = CreateUserRequest { username: username.into(), password: TEST_PASSWORD.into(), role, display_name: None };
    talkzone_server::accounts::create_account(s.state().store.as_ref(), 0, req, None).await.expect("create");
}

/// The password step: the challenge (panics on tokens or an error).
async fn challenge(client: &Client, username: &str) -> SecondFactorChallenge {
    match client.login(username, TEST_PASSWORD).await {
        Err(ClientError::SecondFactorRequired(step)) => *step,
        other => panic!("expected a second step, got {other:?}"),
    }
}

fn status(e: ClientError) -> u16 {
    e.status().unwrap_or_else(|| panic!("{e}"))
}

/// Enrolment at first sign-in: the secret comes with the challenge; a wrong code keeps nothing;
/// a right one starts the session and shows ten recovery codes once. After that, the same
/// code is refused within its step (replay), and the next step's code works.
async fn staff_enrol_at_first_sign_in_and_a_code_works_once(backend: Backend) {
    let (s, clock) = asking(backend, SecondFactorPolicy::Required).await;
    account(&s, Role::DutyWorker, "first-night").await;
    let step = challenge(&s.client, "first-night").await;
    assert_eq!(step.kind, SecondFactorKind::Enrol);
    let enrolment = step.enrolment.clone().expect("the secret to set up");
    assert!(enrolment.otpauth_url.starts_with("otpauth://totp/") && enrolment.otpauth_url.contains("issuer=Talk"));
    assert_eq!(status(s.client.login_second_factor(&step.challenge, "000000").await.unwrap_err()), 401);
    let code = totp_code(&enrolment.secret, clock.now_ms());
    let tokens = s.client.login_second_factor(&step.challenge, &code).await.expect("enrolled");
    let codes = tokens.recovery_codes.clone().expect("recovery codes, shown once");
    assert_eq!(codes.len(), 10);
    s.client.me(&tokens.access_token).await.expect("signed in");
    assert_eq!(status(s.client.login_second_factor(&step.challenge, &code).await.unwrap_err()), 401, "challenge spent");

    // Set up now: the next sign-in asks for a code, and offers no secret.
    let step = challenge(&s.client, "first-night").await;
    assert_eq!((step.kind, step.enrolment.is_none()), (SecondFactorKind::Totp, true));
    let e = s.client.login_second_factor(&step.challenge, &code).await.unwrap_err();
    assert_eq!(status(e), 401, "the enrolment's code, replayed within its step");
    clock.advance_ms(30_000);
    let next = totp_code(&enrolment.secret, clock.now_ms());
    let again = s.client.login_second_factor(&step.challenge, &next).await.expect("the next step's code");
    assert!(again.recovery_codes.is_none(), "recovery codes are shown only at enrolment");
    let step = challenge(&s.client, "first-night").await;
    assert_eq!(status(s.client.login_second_factor(&step.challenge, &next).await.unwrap_err()), 401, "replayed");
    let sessions = s.client.my_sessions(&again.access_token).await.unwrap().sessions;
    assert!(sessions.iter().any(|x| x.method == "password+totp"), "{sessions:?}");
    let audit = s.state().store.audit_for_target("user", tokens.user.id.as_str()).await.unwrap();
    assert!(audit.iter().any(|e| e.action.as_str() == "second_factor_enrolled"), "audited");
    s.stop().await;
}

/// Wrong codes: five free from a source, then that source waits (429) even with the right
/// code; another source is not refused. A challenge takes a few tries, then it is spent.
async fn wrong_codes_are_refused_and_throttled(backend: Backend) {
    let (s, clock) = asking(backend, SecondFactorPolicy::Required).await;
    account(&s, Role::Supervisor, "careful-sup").await;
    let step = challenge(&s.client, "careful-sup").await;
    let secret = step.enrolment.unwrap().secret;
    let code = totp_code(&secret, clock.now_ms());
    s.client.login_second_factor(&step.challenge, &code).await.expect("enrolled");
    clock.advance_ms(30_000);

    let thief = from(&s, "203.0.113.5");
    let step = challenge(&thief, "careful-sup").await;
    let mut answers = Vec::new();
    for n in 0..6 {
        answers.push(status(
            thief.login_second_factor(&step.challenge, &format!("{:06}", 100_000 + n)).await.unwrap_err(),
        ));
    }
    assert_eq!(answers, [401, 401, 401, 401, 401, 429], "five free, then a wait");
    let right = totp_code(&secret, clock.now_ms());
    let e = thief.login_second_factor(&step.challenge, &right).await.unwrap_err();
    assert_eq!(status(e), 429, "the right code waits too, from that source");

    let worker = from(&s, "198.51.100.20");
    let step = challenge(&worker, "careful-sup").await;
    worker.login_second_factor(&step.challenge, &right).await.expect("another source is not refused");

    // One challenge, many tries: after the fifth it is spent, whatever comes.
    clock.advance_ms(30_000);
    let office = from(&s, "198.51.100.30");
    let step = challenge(&office, "careful-sup").await;
    for n in 0..4 {
        let _ = office.login_second_factor(&step.challenge, &format!("{:06}", 200_000 + n)).await;
    }
    let e = office.login_second_factor(&step.challenge, "999999").await.unwrap_err();
    assert_eq!(status(e), 401);
    let e = from(&s, "198.51.100.31").login_second_factor(&step.challenge, &totp_code(&secret, clock.now_ms())).await;
    assert_eq!(status(e.unwrap_err()), 401, "the challenge is spent after five tries");
    s.stop().await;
}

/// With the password, guessing codes from many addresses: each gets its five, and after
/// twenty wrong codes on the account, from anywhere, every source waits.
async fn codes_guessed_from_many_addresses_are_slowed_too(backend: Backend) {
    let (s, clock) = asking(backend, SecondFactorPolicy::Required).await;
    account(&s, Role::YotAdmin, "many-addresses").await;
    let step = challenge(&s.client, "many-addresses").await;
    let secret = step.enrolment.unwrap().secret;
    s.client.login_second_factor(&step.challenge, &totp_code(&secret, clock.now_ms())).await.expect("enrolled");
    clock.advance_ms(30_000);
    let mut answers = Vec::new();
    for n in 0..5 {
        let botnet = from(&s, &format!("203.0.113.{}", 10 + n));
        let step = challenge(&botnet, "many-addresses").await;
        for k in 0..5 {
            let e = botnet.login_second_factor(&step.challenge, &format!("{:06}", 300_000 + n * 10 + k)).await;
            answers.push(status(e.unwrap_err()));
        }
    }
    assert_eq!(answers.iter().filter(|a| **a == 401).count(), 20, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| **a == 429).count(), 5, "{answers:?}");
    let worker = from(&s, "198.51.100.99");
    let step = challenge(&worker, "many-addresses").await;
    let right = totp_code(&secret, clock.now_ms());
    assert_eq!(status(worker.login_second_factor(&step.challenge, &right).await.unwrap_err()), 429);
    clock.advance_ms(2_000);
    worker.login_second_factor(&step.challenge, &right).await.expect("after the wait");
    s.stop().await;
}

/// A recovery code signs in once in place of a code; then it is refused.
async fn a_recovery_code_works_once(backend: Backend) {
    let (s, clock) = asking(backend, SecondFactorPolicy::Required).await;
    account(&s, Role::YotAdmin, "lost-phone").await;
    let step = challenge(&s.client, "lost-phone").await;
    let code = totp_code(&step.enrolment.unwrap().secret, clock.now_ms());
    let codes = s.client.login_second_factor(&step.challenge, &code).await.unwrap().recovery_codes.unwrap();

    let step = challenge(&s.client, "lost-phone").await;
    let typed = format!(" {} ", codes[3].to_uppercase());
    let tokens = s.client.login_second_factor(&step.challenge, &typed).await.expect("a recovery code");
    let sessions = s.client.my_sessions(&tokens.access_token).await.unwrap().sessions;
    assert!(sessions.iter().any(|x| x.method == "recovery_code"), "{sessions:?}");
    let step = challenge(&s.client, "lost-phone").await;
    assert_eq!(status(s.client.login_second_factor(&step.challenge, &codes[3]).await.unwrap_err()), 401, "used");
    assert_eq!(status(s.client.login_second_factor(&step.challenge, "abcde-fghjk").await.unwrap_err()), 401);
    s.client.login_second_factor(&step.challenge, &codes[4]).await.expect("another one");
    s.stop().await;
}

/// Required by default for every staff role; `optional-for-moderators` relaxes it for
/// moderators only (one who set it up is still asked). Young people are never asked.
async fn the_setting_relaxes_it_for_moderators_only(backend: Backend) {
    let (s, _) = asking(backend, SecondFactorPolicy::Required).await;
    for (role, name) in [(Role::Moderator, "mod-a"), (Role::DutyWorker, "dw-a"), (Role::Supervisor, "sup-a")] {
        account(&s, role, name).await;
        assert_eq!(challenge(&s.client, name).await.kind, SecondFactorKind::Enrol, "{name}");
    }
    s.client.anonymous().await.expect("young people sign in as before");
    s.stop().await;

    let (s, clock) = asking(backend, SecondFactorPolicy::OptionalForModerators).await;
    account(&s, Role::Moderator, "mod-b").await;
    s.client.login("mod-b", TEST_PASSWORD).await.expect("a moderator without one signs in with the password");
    for (role, name) in [(Role::DutyWorker, "dw-b"), (Role::Supervisor, "sup-b"), (Role::YotAdmin, "adm-b")] {
        account(&s, role, name).await;
        assert_eq!(challenge(&s.client, name).await.kind, SecondFactorKind::Enrol, "{name} is still asked");
    }
    // A moderator who set one up (while it was required) is asked for it.
    let (s2, _) = (&s, ());
    let store = s2.state().store.clone();
    let id = talkzone_server::accounts::staff_id_by_username(store.as_ref(), "mod-b").await.unwrap();
    store.enrol_totp(&id, "JBSWY3DPEHPK3PXP", 0, &[], clock.now_ms(), audit_stub(&id)).await.unwrap();
    assert_eq!(challenge(&s.client, "mod-b").await.kind, SecondFactorKind::Totp);
    s.stop().await;
}

fn audit_stub(id: &str) -> talkzone_server::store::AuditEvent {
    talkzone_server::audit::event(
        0,
        Some(id),
        talkzone_server::model::AuditAction::SecondFactorEnrolled,
        talkzone_server::model::AuditTarget::User,
        id,
        None,
    )
}

/// A YOT admin's reset (a lost phone): the factor and the recovery codes are forgotten, the
/// sessions end, and the next sign-in sets one up again.
async fn an_admins_reset_makes_the_account_enrol_again(backend: Backend) {
    let (s, clock) = asking(backend, SecondFactorPolicy::Required).await;
    account(&s, Role::DutyWorker, "reset-me").await;
    account(&s, Role::YotAdmin, "the-admin").await;
    let enrol = |name: &'static str| {
        let (s, clock) = (&s, clock.clone());
        async move {
            let step = challenge(&s.client, name).await;
            let code = totp_code(&step.enrolment.unwrap().secret, clock.now_ms());
            s.client.login_second_factor(&step.challenge, &code).await.unwrap()
        }
    };
    let worker = enrol("reset-me").await;
    let admin = enrol("the-admin").await;
    let codes = worker.recovery_codes.clone().unwrap();
    let req = AccountActionRequest { reason: Some("lost phone".into()) };
    let e = s.client.reset_second_factor(&worker.access_token, &worker.user.id, &req).await.unwrap_err();
    assert_eq!(status(e), 403, "not the worker's to do");
    let view = s.client.reset_second_factor(&admin.access_token, &worker.user.id, &req).await.expect("reset");
    assert!(!view.second_factor);
    assert_eq!(status(s.client.me(&worker.access_token).await.unwrap_err()), 401, "sessions ended");
    let step = challenge(&s.client, "reset-me").await;
    assert_eq!(step.kind, SecondFactorKind::Enrol, "set up again");
    assert_eq!(status(s.client.login_second_factor(&step.challenge, &codes[0]).await.unwrap_err()), 401, "old codes");

    // The same from the server's command line (the admin's own lost phone, say).
    clock.advance_ms(30_000);
    let admin_again = s.client.login_second_factor(&challenge(&s.client, "the-admin").await.challenge, "x").await;
    assert_eq!(status(admin_again.unwrap_err()), 401);
    let out = std::process::Command::new(talkzone_tests::talkzone_binary())
        .args(["admin", "reset-second-factor", "--username", "the-admin"])
        .env("TALKZONE_DATABASE_URL", &s.database_url)
        .env("TALKZONE_DATA_DIR", &s.dir.0)
        .env("TALKZONE_JWT_SECRET", "cli-test-secret-cli-test-secret-cli-test-0123")
        .output()
        .expect("run talkzone");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(status(s.client.me(&admin.access_token).await.unwrap_err()), 401, "its sessions ended");
    assert_eq!(challenge(&s.client, "the-admin").await.kind, SecondFactorKind::Enrol);
    s.stop().await;
}

both_backends!(
    staff_enrol_at_first_sign_in_and_a_code_works_once,
    wrong_codes_are_refused_and_throttled,
    codes_guessed_from_many_addresses_are_slowed_too,
    a_recovery_code_works_once,
    the_setting_relaxes_it_for_moderators_only,
    an_admins_reset_makes_the_account_enrol_again,
);
