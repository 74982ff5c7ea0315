//! Passkeys (WebAuthn) as a staff second factor (issue 21): a signed-in staff member registers
//! one, lists and removes it (audited); at sign-in, after the password, the second step can be
//! the passkey's assertion instead of a code. The refusals: a forged assertion, one replayed
//! (the same answer twice, or an old answer to new options), an expired sign-in, another
//! account's passkey, no pending sign-in, a counter that goes backwards (a copied
//! authenticator), and wrong answers throttled like wrong codes. The authenticator is a software
//! one (`talkzone_tests::passkey`); `passkey_page.rs` uses chromium's virtual authenticator.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use talkzone_mobile_api::client::{Client, ClientError};
use talkzone_mobile_api::{
    CreateUserRequest, PasskeyRegistrationFinish, PasskeyView, Role, SecondFactorChallenge, TokenResponse,
};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_server::config::SecondFactorPolicy;
use talkzone_tests::passkey::SoftAuthenticator;
use talkzone_tests::{both_backends, totp_code, Backend, TestServer, TEST_PASSWORD};

const ORIGIN: &str = "https://staff.example.org";

async fn server(backend: Backend) -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(|c| {
            c.second_factor = SecondFactorPolicy::Required;
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            c.allowed_origins = vec![ORIGIN.into()];
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

fn status(e: ClientError) -> u16 {
    e.status().unwrap_or_else(|| panic!("{e}"))
}

async fn challenge(client: &Client, username: &str) -> SecondFactorChallenge {
    match client.login(username, TEST_PASSWORD).await {
        Err(ClientError::SecondFactorRequired(step)) => *step,
        other => panic!("expected a second step, got {other:?}"),
    }
}

/// A staff account, signed in once with the password and an authenticator app (enrolment).
async fn staff(s: &TestServer, clock: &ManualClock, role: Role, username: &str) -> TokenResponse {
    let req = CreateUserRequest { username: username.into(), password: TEST_PASSWORD.into(), role, display_name: None };
    talkzone_server::accounts::create_account(s.state().store.as_ref(), 0, req, None).await.expect("create");
    let step = challenge(&s.client, username).await;
    let secret = step.enrolment.expect("enrolment").secret;
    s.client.login_second_factor(&step.challenge, &totp_code(&secret, clock.now_ms())).await.expect("enrolled")
}

/// Registers a passkey of `authenticator` for the signed-in `tokens`.
async fn register(s: &TestServer, tokens: &TokenResponse, authenticator: &mut SoftAuthenticator) -> PasskeyView {
    let started = s.client.start_passkey_registration(&tokens.access_token).await.expect("start");
    let credential = authenticator.create(&started.options.options);
    let req = PasskeyRegistrationFinish { registration: started.registration, name: "work laptop".into(), credential };
    s.client.add_passkey(&tokens.access_token, &req).await.expect("registered")
}

async fn audited(s: &TestServer, user: &TokenResponse, action: &str) -> bool {
    let audit = s.state().store.audit_for_target("user", user.user.id.as_str()).await.unwrap();
    audit.iter().any(|e| e.action.as_str() == action)
}

/// Register, list, sign in with password + passkey (the session's method says so), remove.
async fn a_passkey_is_registered_and_signs_in(backend: Backend) {
    let (s, clock) = server(backend).await;
    let worker = staff(&s, &clock, Role::DutyWorker, "key-holder").await;
    let step = challenge(&s.client, "key-holder").await;
    assert!(!step.passkey, "no passkey yet: the step says so");
    let e = s.client.login_passkey_start(&step.challenge).await.unwrap_err();
    assert_eq!(status(e), 400, "no passkey to ask for");

    let mut key = SoftAuthenticator::new(ORIGIN);
    let view = register(&s, &worker, &mut key).await;
    assert_eq!(view.name, "work laptop");
    assert!(audited(&s, &worker, "passkey_added").await);
    let listed = s.client.my_passkeys(&worker.access_token).await.unwrap().passkeys;
    assert_eq!(listed, vec![view.clone()]);

    let step = challenge(&s.client, "key-holder").await;
    assert!(step.passkey, "the step offers the passkey");
    let options = s.client.login_passkey_start(&step.challenge).await.expect("options").options;
    let assertion = key.get(&options);
    let tokens = s.client.login_passkey(&step.challenge, assertion.clone()).await.expect("signed in");
    assert_eq!(tokens.user.id, worker.user.id);
    let sessions = s.client.my_sessions(&tokens.access_token).await.unwrap().sessions;
    assert!(sessions.iter().any(|x| x.current && x.method == "password+passkey"), "{sessions:?}");
    let listed = s.client.my_passkeys(&tokens.access_token).await.unwrap().passkeys;
    assert!(listed[0].last_used_at.is_some(), "its last use is shown");
    let e = s.client.login_passkey(&step.challenge, assertion).await.unwrap_err();
    assert_eq!(status(e), 401, "the same answer again: the sign-in is spent");

    s.client.remove_passkey(&tokens.access_token, &view.id).await.expect("removed");
    assert!(audited(&s, &worker, "passkey_removed").await);
    let e = s.client.remove_passkey(&tokens.access_token, &view.id).await.unwrap_err();
    assert_eq!(status(e), 404, "gone");
    assert!(!challenge(&s.client, "key-holder").await.passkey, "removed: codes only");
    s.stop().await;
}

/// Each refusal of the passkey step, and that none of them starts a session.
async fn passkey_sign_in_refusals(backend: Backend) {
    let (s, clock) = server(backend).await;
    let worker = staff(&s, &clock, Role::Supervisor, "careful-key").await;
    let other = staff(&s, &clock, Role::DutyWorker, "other-key").await;
    let mut key = SoftAuthenticator::new(ORIGIN);
    register(&s, &worker, &mut key).await;
    let mut others_key = SoftAuthenticator::new(ORIGIN);
    register(&s, &other, &mut others_key).await;

    // No pending sign-in: both steps refuse a challenge nobody was given.
    assert_eq!(status(s.client.login_passkey_start("no-such-challenge").await.unwrap_err()), 401);
    let options = {
        let step = challenge(&s.client, "careful-key").await;
        s.client.login_passkey_start(&step.challenge).await.unwrap().options
    };
    let e = s.client.login_passkey("no-such-challenge", key.get(&options)).await.unwrap_err();
    assert_eq!(status(e), 401, "an assertion without its sign-in");

    // A forged assertion (signed with another key); the options are then spent.
    let step = challenge(&s.client, "careful-key").await;
    let options = s.client.login_passkey_start(&step.challenge).await.unwrap().options;
    assert_eq!(status(s.client.login_passkey(&step.challenge, key.forged(&options)).await.unwrap_err()), 401);
    let e = s.client.login_passkey(&step.challenge, key.get(&options)).await.unwrap_err();
    assert_eq!(status(e), 401, "options answered once, even wrongly");

    // An old answer to new options (its challenge is another).
    let old = key.get(&options);
    s.client.login_passkey_start(&step.challenge).await.expect("new options");
    assert_eq!(status(s.client.login_passkey(&step.challenge, old).await.unwrap_err()), 401, "replayed");

    // Another account's passkey, answering this account's options (a new sign-in: the last
    // one had its five tries, starts counting as tries).
    let step = challenge(&s.client, "careful-key").await;
    let options = s.client.login_passkey_start(&step.challenge).await.unwrap().options;
    let e = s.client.login_passkey(&step.challenge, others_key.get(&options)).await.unwrap_err();
    assert_eq!(status(e), 401, "another account's passkey");

    // Expired: five minutes after the password step.
    let step = challenge(&s.client, "careful-key").await;
    let options = s.client.login_passkey_start(&step.challenge).await.unwrap().options;
    clock.advance_ms(5 * 60 * 1000 + 1);
    assert_eq!(status(s.client.login_passkey(&step.challenge, key.get(&options)).await.unwrap_err()), 401, "expired");
    let step = challenge(&s.client, "careful-key").await;
    clock.advance_ms(5 * 60 * 1000 + 1);
    assert_eq!(status(s.client.login_passkey_start(&step.challenge).await.unwrap_err()), 401, "expired");

    // A counter that goes backwards: a copy of the authenticator. Refused and audited.
    let step = challenge(&s.client, "careful-key").await;
    let options = s.client.login_passkey_start(&step.challenge).await.unwrap().options;
    s.client.login_passkey(&step.challenge, key.get(&options)).await.expect("the real one");
    key.counter = 0;
    let step = challenge(&s.client, "careful-key").await;
    let options = s.client.login_passkey_start(&step.challenge).await.unwrap().options;
    assert_eq!(status(s.client.login_passkey(&step.challenge, key.get(&options)).await.unwrap_err()), 401, "clone");
    assert!(audited(&s, &worker, "passkey_counter_regressed").await);
    let sessions = s.client.my_sessions(&worker.access_token).await.unwrap().sessions;
    assert_eq!(sessions.iter().filter(|x| x.method == "password+passkey").count(), 1, "only the real one signed in");
    s.stop().await;
}

/// Wrong answers are throttled like wrong codes: five free from a source, then it waits even
/// with the right passkey; another source is not refused.
async fn wrong_passkey_answers_are_throttled(backend: Backend) {
    let (s, clock) = server(backend).await;
    let worker = staff(&s, &clock, Role::YotAdmin, "throttled-key").await;
    let mut key = SoftAuthenticator::new(ORIGIN);
    register(&s, &worker, &mut key).await;
    let thief = from(&s, "203.0.113.9");
    let mut answers = Vec::new();
    for _ in 0..6 {
        let step = challenge(&thief, "throttled-key").await;
        let options = thief.login_passkey_start(&step.challenge).await.unwrap().options;
        answers.push(status(thief.login_passkey(&step.challenge, key.forged(&options)).await.unwrap_err()));
    }
    assert_eq!(answers, [401, 401, 401, 401, 401, 429], "five free, then a wait");
    let step = challenge(&thief, "throttled-key").await;
    let options = thief.login_passkey_start(&step.challenge).await.unwrap().options;
    assert_eq!(status(thief.login_passkey(&step.challenge, key.get(&options)).await.unwrap_err()), 429);
    let worker_client = from(&s, "198.51.100.40");
    let step = challenge(&worker_client, "throttled-key").await;
    let options = worker_client.login_passkey_start(&step.challenge).await.unwrap().options;
    worker_client.login_passkey(&step.challenge, key.get(&options)).await.expect("another source is not refused");
    s.stop().await;
}

/// Registration's refusals: a registration unknown, used or another's; an answer that does not
/// verify (another site's); a bad name; and only staff have passkeys.
async fn passkey_registration_refusals(backend: Backend) {
    let (s, clock) = server(backend).await;
    let worker = staff(&s, &clock, Role::Moderator, "reg-key").await;
    let other = staff(&s, &clock, Role::DutyWorker, "reg-other").await;
    let mut key = SoftAuthenticator::new(ORIGIN);
    let finish = |registration: &str, credential| PasskeyRegistrationFinish {
        registration: registration.into(),
        name: "phone".into(),
        credential,
    };

    let started = s.client.start_passkey_registration(&worker.access_token).await.unwrap();
    let credential = key.create(&started.options.options);
    let e = s.client.add_passkey(&worker.access_token, &finish("no-such", credential.clone())).await.unwrap_err();
    assert_eq!(status(e), 400, "an unknown registration");
    let e = s.client.add_passkey(&other.access_token, &finish(&started.registration, credential.clone())).await;
    assert_eq!(status(e.unwrap_err()), 400, "another's registration");
    let bad_name = PasskeyRegistrationFinish { name: " ".into(), ..finish(&started.registration, credential.clone()) };
    assert_eq!(status(s.client.add_passkey(&worker.access_token, &bad_name).await.unwrap_err()), 422);
    s.client.add_passkey(&worker.access_token, &finish(&started.registration, credential.clone())).await.unwrap();
    let e = s.client.add_passkey(&worker.access_token, &finish(&started.registration, credential)).await;
    assert_eq!(status(e.unwrap_err()), 400, "a registration is used once");

    // Made for another site: its origin and RP id are not ours.
    let started = s.client.start_passkey_registration(&worker.access_token).await.unwrap();
    let credential = SoftAuthenticator::new("https://phish.example.net").create(&started.options.options);
    let e = s.client.add_passkey(&worker.access_token, &finish(&started.registration, credential)).await;
    assert_eq!(status(e.unwrap_err()), 400, "another site's passkey");
    assert_eq!(s.client.my_passkeys(&worker.access_token).await.unwrap().passkeys.len(), 1);

    // Another's passkey id is not found; a young person has no passkeys at all.
    let mine = s.client.my_passkeys(&worker.access_token).await.unwrap().passkeys[0].id.clone();
    assert_eq!(status(s.client.remove_passkey(&other.access_token, &mine).await.unwrap_err()), 404);
    let yp = s.client.anonymous().await.unwrap();
    assert_eq!(status(s.client.start_passkey_registration(&yp.access_token).await.unwrap_err()), 403);
    assert_eq!(status(s.client.my_passkeys(&yp.access_token).await.unwrap_err()), 403);
    s.stop().await;
}

/// A YOT admin's reset of the second factor (a lost device) forgets the passkeys too.
async fn a_second_factor_reset_forgets_passkeys(backend: Backend) {
    let (s, clock) = server(backend).await;
    let worker = staff(&s, &clock, Role::DutyWorker, "lost-key").await;
    let mut key = SoftAuthenticator::new(ORIGIN);
    register(&s, &worker, &mut key).await;
    let admin = staff(&s, &clock, Role::YotAdmin, "reset-admin").await;
    let req = talkzone_mobile_api::AccountActionRequest { reason: Some("a lost laptop".into()) };
    s.client.reset_second_factor(&admin.access_token, &worker.user.id, &req).await.expect("reset");
    let step = challenge(&s.client, "lost-key").await;
    assert!(!step.passkey, "the passkey went with the reset");
    s.stop().await;
}

both_backends!(
    a_passkey_is_registered_and_signs_in,
    passkey_sign_in_refusals,
    wrong_passkey_answers_are_throttled,
    passkey_registration_refusals,
    a_second_factor_reset_forgets_passkeys,
);
