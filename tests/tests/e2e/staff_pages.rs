//! Staff identity on the pages (issue 21), in a real chromium: the admin page's "Staff sign-in
//! and access" section (suspend, reactivate, sessions, a password reset link), and the console
//! setting a new password from that link. Screenshots at phone and laptop sizes go to
//! `TALKZONE_SCREENSHOTS` when it names a directory.

use serde_json::json;
use talkzone_mobile_api::Role;
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::{TestServer, TEST_PASSWORD};

/// The server on a port of its own, its origin allowed (as `talkzone serve` allows its own).
async fn server() -> TestServer {
    TestServer::builder(talkzone_tests::Backend::Sqlite).own_origin().start().await
}

/// Screenshots of the part of the page `id` is in.
async fn shoot(page: &mut Page, name: &str, id: &str) {
    let Ok(dir) = std::env::var("TALKZONE_SCREENSHOTS") else { return };
    for (w, h) in [(390, 844), (1366, 768)] {
        page.set_window(w, h).await;
        page.eval(&format!("document.getElementById({}).scrollIntoView(), true", json!(id))).await;
        page.screenshot(&std::path::Path::new(&dir).join(format!("{name}-{w}x{h}.png"))).await;
    }
}

const STATE: &str = "document.getElementById('identity-state').dataset.state";

#[tokio::test]
async fn an_admin_suspends_reactivates_and_sends_a_reset_link_from_the_page() {
    let s = server().await;
    s.staff_named(Role::YotAdmin, "page-admin").await;
    let worker = s.staff_named(Role::DutyWorker, "page-worker").await;
    let browser = Browser::start().await;
    let mut admin = browser.open(&format!("{}/admin", s.base)).await;
    admin.fill("username", "page-admin").await;
    admin.fill("password", TEST_PASSWORD).await;
    admin.submit("login-form").await;
    admin.wait_for("!document.getElementById('panels').hidden", "the admin panels").await;
    admin.eval(&format!("document.getElementById('identity-user').value = {}", json!(worker.user.id))).await;
    admin.eval("document.getElementById('identity-user').dispatchEvent(new Event('change')), true").await;
    admin.wait_for("document.querySelectorAll('#identity-sessions li').length === 1", "the worker's session").await;
    shoot(&mut admin, "admin-identity", "identity").await;

    admin.fill("identity-reason", "checking something").await;
    admin.click("#identity-suspend").await;
    admin.wait_for(&format!("{STATE} === 'suspended'"), "shown as suspended").await;
    assert_eq!(
        admin.eval("document.querySelectorAll('#identity-sessions li').length").await,
        json!(0),
        "sessions ended"
    );
    assert_eq!(s.client.me(&worker.access_token).await.unwrap_err().status(), Some(401));
    admin.click("#identity-reactivate").await;
    admin.wait_for(&format!("{STATE} === 'active'"), "shown as active again").await;

    // The reset link, shown once, opens the console's form; the worker sets their own password.
    admin.click("#identity-reset-password").await;
    let link = admin.wait_for("document.getElementById('identity-reset-link').textContent", "the link").await;
    let link = link.as_str().expect("a link").to_owned();
    assert!(link.starts_with(&format!("{}/console#reset=", s.base)), "{link}");
    shoot(&mut admin, "admin-reset-link", "identity").await;
    // Opened as a person would from the link: the page takes the code out of the address bar
    // at once (so the tab is opened first, then sent to the link).
    let mut console = browser.open(&format!("{}/console", s.base)).await;
    console.eval(&format!("location.hash = {}", json!(link.split('#').nth(1).map(|h| format!("#{h}"))))).await;
    console.reload().await;
    console.wait_for("document.getElementById('reset-form')", "the reset form").await;
    assert_eq!(console.eval("location.hash").await, json!(""), "the code leaves the address bar");
    shoot(&mut console, "console-reset", "login").await;
    console.fill("reset-password", "my own new passphrase").await;
    console.fill("reset-again", "my own new passphrase").await;
    console.submit("reset-form").await;
    console
        .wait_for(
            "!document.getElementById('login-form').hidden && !document.getElementById('reset-form')",
            "back to sign-in",
        )
        .await;
    console.fill("username", "page-worker").await;
    console.fill("password", "my own new passphrase").await;
    console.submit("login-form").await;
    console.wait_for("!document.getElementById('desk').hidden", "the desk").await;

    // Offboarding needs a second click.
    admin.click("#identity-offboard").await;
    assert_eq!(admin.eval(STATE).await, json!("active"), "one click does nothing yet");
    admin.click("#identity-offboard").await;
    admin.wait_for(&format!("{STATE} === 'offboarded'"), "shown as offboarded").await;
    assert_eq!(s.client.login("page-worker", "my own new passphrase").await.unwrap_err().status(), Some(401));
    browser.stop().await;
    s.stop().await;
}
