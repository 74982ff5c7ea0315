//! The staff sign-in page's second step (issue 21), in a real chromium at phone and laptop
//! sizes: the first sign-in sets up the authenticator (the key as text, a link for a phone), a
//! wrong code is said beside the form, the recovery codes are shown once, and the next sign-in
//! asks for a code; a YOT admin sets up their own on the admin page and resets the worker's.
//! axe-core checks each state. Screenshots go to `TALKZONE_SCREENSHOTS`.

use std::sync::Arc;

use serde_json::json;
use talkzone_mobile_api::{CreateUserRequest, Role};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_server::config::SecondFactorPolicy;
use talkzone_tests::a11y::{axe, screenshot, viewport};
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::{totp_code, TestServer, TEST_PASSWORD};

const LIVE: &str = "!document.getElementById('desk').hidden";
const ERROR: &str = "!document.getElementById('error').hidden && document.getElementById('error').textContent";

async fn shots(page: &mut Page, name: &str) {
    for (w, h) in [(390, 844), (1366, 768)] {
        viewport(page, w, h).await;
        screenshot(page, &format!("{name}-{w}x{h}")).await;
    }
}

#[tokio::test]
async fn the_console_sets_up_and_asks_for_the_second_factor() {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(talkzone_tests::Backend::Sqlite)
        .clock(clock.clone())
        .own_origin()
        .config(move |c| {
            c.second_factor = SecondFactorPolicy::Required;
        })
        .start()
        .await;
    let req = CreateUserRequest {
        username: "two-step".into(),
        password: TEST_PASSWORD.into(),
        role: Role::DutyWorker,
        display_name: Some("Sam".into()),
    };
    talkzone_server::accounts::create_account(s.state().store.as_ref(), 0, req, None).await.unwrap();
    let browser = Browser::start().await;
    let mut page = browser.open(&format!("{}/console", s.base)).await;
    page.fill("username", "two-step").await;
    page.fill("password", TEST_PASSWORD).await;
    page.submit("login-form").await;

    // First sign-in: set it up.
    let secret = page.wait_for("document.getElementById('second-factor-secret')?.textContent", "the key").await;
    let secret = secret.as_str().expect("text").replace(' ', "");
    assert_eq!(page.eval("document.getElementById('login-form').hidden").await, json!(true));
    let link = page.eval("document.getElementById('second-factor-link').getAttribute('href')").await;
    assert!(link.as_str().is_some_and(|l| l.starts_with("otpauth://totp/")), "{link}");
    axe(&mut page, "setting up the second factor").await;
    shots(&mut page, "second-factor-enrol").await;
    page.fill("second-factor-code", "000000").await;
    page.submit("second-factor-form").await;
    let said = page.wait_for(ERROR, "the wrong code said").await;
    assert!(said.as_str().is_some_and(|t| t.contains("not right")), "{said}");
    shots(&mut page, "second-factor-wrong").await;
    page.fill("second-factor-code", &totp_code(&secret, clock.now_ms())).await;
    page.submit("second-factor-form").await;
    page.wait_for("document.querySelectorAll('#recovery-codes li').length === 10", "ten recovery codes").await;
    assert_eq!(page.eval(LIVE).await, json!(false), "the codes come before the desk");
    assert_eq!(page.eval("document.getElementById('error').hidden").await, json!(true), "the wrong code is past");
    axe(&mut page, "the recovery codes").await;
    shots(&mut page, "second-factor-recovery-codes").await;
    page.click("#recovery-codes-saved").await;
    page.wait_for(LIVE, "the desk").await;
    assert_eq!(page.eval("document.getElementById('recovery-codes')").await, json!(null), "shown once");

    // The next sign-in asks for a code, with no key shown.
    clock.advance_ms(30_000);
    let mut again = browser.open(&format!("{}/console", s.base)).await;
    again.fill("username", "two-step").await;
    again.fill("password", TEST_PASSWORD).await;
    again.submit("login-form").await;
    again.wait_for("document.getElementById('second-factor-code')", "the code field").await;
    assert_eq!(again.eval("document.getElementById('second-factor-secret')").await, json!(null));
    axe(&mut again, "asking for the code").await;
    shots(&mut again, "second-factor-code").await;
    again.fill("second-factor-code", &totp_code(&secret, clock.now_ms())).await;
    again.submit("second-factor-form").await;
    again.wait_for(LIVE, "the desk").await;

    // A YOT admin (who sets up their own on the admin page) resets the worker's lost one.
    let req = CreateUserRequest {
        username: "page-boss".into(),
        password: TEST_PASSWORD.into(),
        role: Role::YotAdmin,
        display_name: Some("Alex".into()),
    };
    talkzone_server::accounts::create_account(s.state().store.as_ref(), 0, req, None).await.unwrap();
    let mut admin = browser.open(&format!("{}/admin", s.base)).await;
    admin.fill("username", "page-boss").await;
    admin.fill("password", TEST_PASSWORD).await;
    admin.submit("login-form").await;
    let key = admin.wait_for("document.getElementById('second-factor-secret')?.textContent", "the key").await;
    admin.fill("second-factor-code", &totp_code(&key.as_str().unwrap().replace(' ', ""), clock.now_ms())).await;
    admin.submit("second-factor-form").await;
    admin.wait_for("document.getElementById('recovery-codes-saved')", "the admin's codes").await;
    admin.click("#recovery-codes-saved").await;
    admin.wait_for("!document.getElementById('panels').hidden", "the admin panels").await;
    let worker = talkzone_server::accounts::staff_id_by_username(s.state().store.as_ref(), "two-step").await.unwrap();
    admin
        .wait_for(
            &format!(
                "[...document.getElementById('identity-user').options].some((o) => o.value === {})",
                json!(worker)
            ),
            "the worker listed",
        )
        .await;
    admin.eval(&format!("document.getElementById('identity-user').value = {}", json!(worker))).await;
    admin.eval("document.getElementById('identity-user').dispatchEvent(new Event('change')), true").await;
    admin
        .wait_for(
            "document.getElementById('identity-state').textContent.includes('second factor set up')",
            "shown as set up",
        )
        .await;
    admin.click("#identity-reset-factor").await;
    admin.wait_for("document.getElementById('identity-state').textContent.includes('no second factor')", "reset").await;
    let record = s.state().store.user(&worker).await.unwrap().unwrap();
    assert!(record.totp_secret.is_none(), "forgotten");
    browser.stop().await;
    s.stop().await;
}
