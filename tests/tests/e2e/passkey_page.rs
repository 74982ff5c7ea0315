//! Passkeys in the staff pages (issue 21), in a real chromium with its virtual authenticator
//! (CTAP2, internal, resident keys, user verification): a duty worker adds a passkey from the
//! console, signs out, signs in with the password and the passkey, and reaches the desk. The
//! page is on `localhost` (a secure context, and WebAuthn takes no IP address as the RP id).
//! axe-core checks each state; screenshots go to `TALKZONE_SCREENSHOTS`.

use std::sync::Arc;

use serde_json::json;
use talkzone_mobile_api::{CreateUserRequest, Role};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_server::config::SecondFactorPolicy;
use talkzone_tests::a11y::{axe, screenshot, viewport};
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::{totp_code, TestServer, TEST_PASSWORD};

const LIVE: &str = "!document.getElementById('desk').hidden";

async fn shots(page: &mut Page, name: &str) {
    for (w, h) in [(390, 844), (1280, 800)] {
        viewport(page, w, h).await;
        screenshot(page, &format!("{name}-{w}x{h}")).await;
    }
}

async fn sign_in_with_password(page: &mut Page) {
    page.wait_for("document.getElementById('username') && !document.getElementById('login-form').hidden", "the form")
        .await;
    page.fill("username", "key-worker").await;
    page.fill("password", TEST_PASSWORD).await;
    page.submit("login-form").await;
}

#[tokio::test]
async fn a_worker_adds_a_passkey_and_signs_in_with_it() {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(talkzone_tests::Backend::Sqlite)
        .clock(clock.clone())
        .own_origin()
        .config(|c| c.second_factor = SecondFactorPolicy::Required)
        .start()
        .await;
    let req = CreateUserRequest {
        username: "key-worker".into(),
        password: TEST_PASSWORD.into(),
        role: Role::DutyWorker,
        display_name: Some("Kim".into()),
    };
    talkzone_server::accounts::create_account(s.state().store.as_ref(), 0, req, None).await.unwrap();
    let browser = Browser::start().await;
    let mut page = browser.open(&format!("{}/console", s.base.replace("127.0.0.1", "localhost"))).await;
    page.call("WebAuthn.enable", json!({})).await;
    let authenticator = page
        .call(
            "WebAuthn.addVirtualAuthenticator",
            json!({"options": {"protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                "hasUserVerification": true, "isUserVerified": true}}),
        )
        .await;
    let authenticator = authenticator["authenticatorId"].as_str().expect("an authenticator").to_owned();

    // The first sign-in sets up the app (as ever); then the console offers "Add a passkey".
    sign_in_with_password(&mut page).await;
    let secret = page.wait_for("document.getElementById('second-factor-secret')?.textContent", "the key").await;
    let code = totp_code(&secret.as_str().unwrap().replace(' ', ""), clock.now_ms());
    page.fill("second-factor-code", &code).await;
    page.submit("second-factor-form").await;
    page.wait_for("document.getElementById('recovery-codes-saved')", "the recovery codes").await;
    page.click("#recovery-codes-saved").await;
    page.wait_for(LIVE, "the desk").await;
    page.wait_for("document.getElementById('add-passkey')", "the passkey button").await;
    axe(&mut page, "the console with its passkey button").await;
    page.click("#add-passkey").await;
    let said = page
        .wait_for(
            "!document.getElementById('error').hidden && document.getElementById('error').textContent",
            "the passkey's outcome",
        )
        .await;
    assert!(said.as_str().is_some_and(|t| t.contains("Passkey added")), "{said}");
    shots(&mut page, "passkey-added").await;
    let worker = talkzone_server::accounts::staff_id_by_username(s.state().store.as_ref(), "key-worker").await.unwrap();
    assert_eq!(s.state().store.passkeys_of(&worker).await.unwrap().len(), 1, "stored");
    let held = page.call("WebAuthn.getCredentials", json!({"authenticatorId": authenticator})).await;
    assert_eq!(held["credentials"].as_array().map(Vec::len), Some(1), "the authenticator holds it");

    // Sign out; sign in with the password, then the passkey: the desk, no code typed.
    // Signing out reloads the page: wait for the new one, or the password goes into the old.
    page.eval("window.beforeSignOut = true").await;
    page.click("#sign-out").await;
    page.wait_for(
        "window.beforeSignOut === undefined && document.readyState === 'complete' && !document.getElementById('login').hidden",
        "the sign-in page again",
    )
    .await;
    sign_in_with_password(&mut page).await;
    page.wait_for("document.getElementById('second-factor-passkey')", "the passkey choice").await;
    axe(&mut page, "the second step with a passkey").await;
    shots(&mut page, "passkey-second-step").await;
    page.click("#second-factor-passkey").await;
    page.wait_for(LIVE, "the desk, signed in with the passkey").await;
    let sessions = s.state().store.live_sessions_of(&worker, clock.now_ms()).await.unwrap();
    assert!(sessions.iter().any(|x| x.method.as_deref() == Some("password+passkey")), "{sessions:?}");
    let used = s.state().store.passkeys_of(&worker).await.unwrap();
    assert!(used[0].last_used_at.is_some(), "its use is kept");
    browser.stop().await;
    s.stop().await;
}
