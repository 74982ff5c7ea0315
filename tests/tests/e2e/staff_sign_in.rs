//! Sign-in that cannot be turned against the user (issue 21): failures are throttled per
//! account and source together, with growing waits, so someone else's failures never refuse the
//! right password from another source; the current password of `POST /v1/me/password` is
//! throttled the same way; common and breached passwords are refused wherever a password is set.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use talkzone_mobile_api::client::{Client, ClientError};
use talkzone_mobile_api::{CreateUserRequest, ErrorCode, PasswordChange, Role};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_tests::{both_backends, Backend, TestServer, TEST_PASSWORD};

/// A client behind the trusted proxy (127.0.0.1) whose requests come from `ip`.
fn from(s: &TestServer, ip: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_str(ip).unwrap());
    Client::with_headers(&s.base, headers).unwrap()
}

async fn behind_a_proxy(backend: Backend, clock: Arc<ManualClock>) -> TestServer {
    TestServer::builder(backend)
        .clock(clock)
        .config(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()])
        .start()
        .await
}

fn refused_for(e: &ClientError) -> Option<u64> {
    match e {
        ClientError::Api { status: 429, retry_after, .. } => Some(retry_after.expect("Retry-After")),
        _ => None,
    }
}

/// The issue's scenario: one wrong password a second from one address; the real worker
/// signing in from another address got in 2 times out of 5. Now: 5 out of 5, and the guesser
/// is slowed more and more.
async fn someone_elses_failures_never_refuse_the_right_password(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = behind_a_proxy(backend, clock.clone()).await;
    s.staff_named(Role::DutyWorker, "night-shift").await;
    let attacker = from(&s, "203.0.113.66");
    let worker = from(&s, "198.51.100.7");
    // `waits`: the wait told at the first refusal after each counted failure.
    let (mut wrong, mut slowed, mut waits, mut worker_in, mut just_failed) = (0, 0, Vec::new(), 0, false);
    for second in 0..60 {
        match attacker.login("night-shift", "not the password").await.unwrap_err() {
            e if e.status() == Some(401) => {
                wrong += 1;
                just_failed = true;
            }
            e => {
                let wait = refused_for(&e).unwrap_or_else(|| panic!("unexpected: {e}"));
                slowed += 1;
                if std::mem::take(&mut just_failed) {
                    waits.push(wait);
                }
            }
        }
        if second % 12 == 11 {
            let signed_in = worker.login("night-shift", TEST_PASSWORD).await;
            assert!(signed_in.is_ok(), "second {second}: the worker was refused: {:?}", signed_in.err());
            worker_in += 1;
        }
        clock.advance_ms(1_000);
    }
    assert_eq!(worker_in, 5, "the worker got in every time");
    assert!((5..=10).contains(&wrong), "the guesser had its free tries and a few more: {wrong}");
    assert_eq!(wrong + slowed, 60);
    assert!(waits.windows(2).all(|w| w[1] >= w[0]) && waits.last() > Some(&8), "waits grow: {waits:?}");

    // While it must wait, the guesser's source is refused even the right password: it is that
    // source's throttle, not the account's.
    let e = attacker.login("night-shift", TEST_PASSWORD).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::RateLimited), "{e}");
    // Once the wait is over, its next failure waits longer still; a success forgets them all.
    clock.advance_ms(16 * 60 * 1000);
    attacker.login("night-shift", TEST_PASSWORD).await.expect("after the wait, a right password works");
    for _ in 0..4 {
        assert_eq!(attacker.login("night-shift", "wrong again").await.unwrap_err().status(), Some(401), "free again");
    }
    s.stop().await;
}

/// Unknown usernames are throttled the same way (the answers do not tell them apart), and one
/// source guessing many accounts meets the per-address limit.
async fn unknown_accounts_are_throttled_alike(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = behind_a_proxy(backend, clock.clone()).await;
    let guesser = from(&s, "203.0.113.77");
    let mut answers = Vec::new();
    for _ in 0..7 {
        let e = guesser.login("nobody-at-all", "some long password").await.unwrap_err();
        answers.push(e.status());
    }
    assert_eq!(answers, [Some(401); 5].into_iter().chain([Some(429); 2]).collect::<Vec<_>>());
    s.stop().await;
}

/// The issue's finding: 150 attempts at `POST /v1/me/password` from one anonymous account, no
/// 429 and 2.6 s of hashing; with a stolen staff session, ~40 guesses a second.
async fn the_current_password_is_throttled_like_a_sign_in(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = behind_a_proxy(backend, clock.clone()).await;
    let thief = from(&s, "203.0.113.88");
    let stolen = s.staff(Role::Supervisor).await;
    let guess = |current: &str| PasswordChange {
        current_password: current.into(),
        new_password: "kettle-orbit-lantern-7".into(),
    };
    let mut statuses = Vec::new();
    for n in 0..20 {
        let e = thief.change_password(&stolen.access_token, &guess(&format!("guess number {n}"))).await.unwrap_err();
        statuses.push(e.status().unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15, "{statuses:?}");
    let e = thief.change_password(&stolen.access_token, &guess(TEST_PASSWORD)).await.unwrap_err();
    assert!(refused_for(&e).is_some(), "the right one waits too: {e}");
    clock.advance_ms(2_000);
    thief.change_password(&stolen.access_token, &guess(TEST_PASSWORD)).await.expect("after the wait");

    // Anonymous young people have no password: refused at once, and throttled all the same.
    let yp = s.young_person().await;
    let started = std::time::Instant::now();
    let mut last = 0;
    for n in 0..150 {
        last = thief.change_password(&yp.access_token, &guess(&format!("g{n}"))).await.unwrap_err().status().unwrap();
    }
    assert_eq!(last, 429);
    println!("150 password changes of an anonymous account: {:?}", started.elapsed());
    s.stop().await;
}

/// The issue's examples: `aaaaaaaaaaaa` and `password1234` were accepted.
async fn common_and_breached_passwords_are_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    for weak in ["aaaaaaaaaaaa", "password1234", "Password2024!", "qwertyuiopas", "iloveyou12345"] {
        let req = CreateUserRequest {
            username: format!("weak-{}", ulid::Ulid::new().to_string().to_lowercase()),
            password: weak.into(),
            role: Role::DutyWorker,
            display_name: None,
        };
        let e = s.client.create_user(&admin.access_token, &req).await.unwrap_err();
        assert_eq!((e.status(), e.code()), (Some(422), Some(ErrorCode::ValidationFailed)), "{weak}: {e}");
        let change = PasswordChange { current_password: TEST_PASSWORD.into(), new_password: weak.into() };
        assert_eq!(
            s.client.change_password(&admin.access_token, &change).await.unwrap_err().status(),
            Some(422),
            "{weak}"
        );
    }
    let issued =
        s.client.issue_password_reset(&admin.access_token, &s.staff(Role::Moderator).await.user.id).await.unwrap();
    assert_eq!(s.client.reset_password(&issued.code, "football1990").await.unwrap_err().status(), Some(422));
    s.client.reset_password(&issued.code, "kettle-orbit-lantern-7").await.expect("a good one");
    s.stop().await;
}

both_backends!(
    someone_elses_failures_never_refuse_the_right_password,
    unknown_accounts_are_throttled_alike,
    the_current_password_is_throttled_like_a_sign_in,
    common_and_breached_passwords_are_refused,
);
