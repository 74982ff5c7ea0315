//! WCAG 2.2 AA on the pages, checked by axe-core inside chromium (`talkzone_tests::a11y`) on
//! the states these tests reach, and what axe cannot check, checked by hand: the admin page's
//! errors and confirmations beside the form that caused them (in view, at 1366 x 768), an old
//! "Created …" cleared by a failed try, messages that stay, field borders of 3:1 or more, and
//! the survey's free-text box named by its question.

use serde_json::json;
use talkzone_mobile_api::Role;
use talkzone_tests::a11y::{axe, screenshot, viewport};
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::{TestServer, TEST_PASSWORD};

async fn server() -> TestServer {
    TestServer::builder(talkzone_tests::Backend::Sqlite).own_origin().start().await
}

/// The message shown for the form `form`: its text, its kind (`error`/`info`), whether it is
/// in view, and how far (px) below the form's bottom edge it starts.
async fn message_for(page: &mut Page, form: &str) -> serde_json::Value {
    let js = format!(
        "(() => {{ const f = document.getElementById({0}); const m = f.nextElementSibling; \
         if (!m || !m.classList.contains('form-message') || m.hidden || !m.textContent) return null; \
         const r = m.getBoundingClientRect(); \
         return {{text: m.textContent, error: m.classList.contains('error'), info: m.classList.contains('info'), \
         in_view: r.top >= 0 && r.bottom <= innerHeight, gap: r.top - f.getBoundingClientRect().bottom}}; }})()",
        json!(form)
    );
    page.eval(&js).await
}

/// Contrast ratio (WCAG) of an element's border colour against its parent's background.
async fn border_contrast(page: &mut Page, selector: &str) -> f64 {
    let js = format!(
        "(() => {{ const e = document.querySelector({}); \
         const rgb = (c) => c.match(/[0-9.]+/g).slice(0, 3).map(Number); \
         const lum = (c) => {{ const [r, g, b] = rgb(c).map((v) => {{ v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }}); return 0.2126 * r + 0.7152 * g + 0.0722 * b; }}; \
         let p = e.parentElement; while (p && getComputedStyle(p).backgroundColor.endsWith(', 0)')) p = p.parentElement; \
         const bg = p ? getComputedStyle(p).backgroundColor : 'rgb(255, 255, 255)'; \
         const a = lum(getComputedStyle(e).borderTopColor), b = lum(bg); \
         return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); }})()",
        json!(selector)
    );
    page.eval(&js).await.as_f64().expect("a ratio")
}

#[tokio::test]
async fn the_admin_page_says_what_happened_beside_the_form_and_passes_axe() {
    let s = server().await;
    s.staff_named(Role::YotAdmin, "a11y-admin").await;
    let browser = Browser::start().await;
    let mut page = browser.open(&format!("{}/admin", s.base)).await;
    viewport(&mut page, 1366, 768).await;
    axe(&mut page, "the admin sign-in").await;
    // A wrong password: the error is where the eye is, and it stays.
    page.fill("username", "a11y-admin").await;
    page.fill("password", "not the password").await;
    page.submit("login-form").await;
    page.wait_for("!document.getElementById('error').hidden", "the sign-in refused").await;
    let r = page.eval("(() => { const r = document.getElementById('error').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()").await;
    assert_eq!(r, json!(true), "the sign-in error in view");
    axe(&mut page, "the admin sign-in refused").await;
    page.fill("password", TEST_PASSWORD).await;
    page.submit("login-form").await;
    page.wait_for("!document.getElementById('panels').hidden", "the admin panels").await;
    page.wait_for("document.querySelectorAll('#staff li').length > 0", "the staff list").await;
    assert_eq!(
        page.eval("document.getElementById('error').hidden").await,
        json!(true),
        "the sign-in error goes once signed in"
    );
    axe(&mut page, "the admin panels").await;
    screenshot(&mut page, "admin-1-panels").await;
    let ratio = border_contrast(&mut page, "#new-username").await;
    assert!(ratio >= 3.0, "a text field's border stands out at 3:1 or more (WCAG 1.4.11): {ratio:.2}");

    // An account created: said under the form.
    page.fill("new-username", "jo.a11y").await;
    page.fill("new-name", "Jo").await;
    page.fill("new-password", "a-long-enough-password").await;
    page.submit("user-form").await;
    page.wait_for("document.getElementById('user-result').textContent.includes('Created Jo')", "created").await;
    // The same again fails: the old "Created …" gives way to the error, beside the form.
    page.fill("new-username", "jo.a11y").await;
    page.fill("new-password", "a-long-enough-password").await;
    page.submit("user-form").await;
    page.wait_for("document.getElementById('user-result').classList.contains('error')", "refused").await;
    let said = message_for(&mut page, "user-form").await;
    assert_eq!(said["error"], json!(true), "{said}");
    assert!(!said["text"].as_str().unwrap_or("").contains("Created"), "the old confirmation is gone: {said}");

    // Far down the page: the rota, with an end before its start.
    page.eval("document.getElementById('shift-form').scrollIntoView({block: 'center'})").await;
    // Tomorrow, in the page's local time (the rota lists the coming week).
    let day = "(() => { const d = new Date(Date.now() + 86400000); const p = (n) => String(n).padStart(2, '0'); return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`; })()";
    let day = page.eval(day).await;
    let day = day.as_str().expect("a date").to_owned();
    page.eval(&format!("document.getElementById('shift-start').value = '{day}T18:00'")).await;
    page.eval(&format!("document.getElementById('shift-end').value = '{day}T08:00'")).await;
    page.submit("shift-form").await;
    let said = page
        .wait_for(
            "(() => { const m = document.getElementById('shift-form').nextElementSibling; return m.classList.contains('form-message') && m.textContent; })()",
            "the rota's error",
        )
        .await;
    assert!(said.as_str().is_some_and(|t| t.contains("ends after it starts")), "{said}");
    let said = message_for(&mut page, "shift-form").await;
    assert_eq!((said["error"].clone(), said["in_view"].clone()), (json!(true), json!(true)), "{said}");
    assert!(said["gap"].as_f64().is_some_and(|g| (0.0..40.0).contains(&g)), "right under the form: {said}");
    screenshot(&mut page, "admin-2-rota-error").await;
    axe(&mut page, "the admin page, the rota refused").await;
    // The right try clears it.
    page.eval(&format!("document.getElementById('shift-end').value = '{day}T23:00'")).await;
    page.submit("shift-form").await;
    page.wait_for("document.querySelectorAll('#shifts li').length === 1", "the shift").await;
    assert_eq!(message_for(&mut page, "shift-form").await, json!(null), "no stale error after it worked");
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn the_survey_code_page_and_the_console_sign_in_pass_axe() {
    let s = server().await;
    let browser = Browser::start().await;
    let mut page = browser.open(&format!("{}/survey", s.base)).await;
    viewport(&mut page, 390, 844).await;
    axe(&mut page, "the survey code page").await;
    // An error stays until the next try: slow readers and screen readers get to it. The page's
    // clock is driven rather than waited for: every timer it sets fires at once.
    page.eval("window.setTimeout = (f) => { f(); return 0; }; true").await;
    page.fill("code", "WRONG-CODE-0000").await;
    page.submit("code-form").await;
    page.wait_for("document.getElementById('error').textContent.includes(\"didn't work\")", "refused").await;
    assert_eq!(page.eval("document.getElementById('error').hidden").await, json!(false), "the error stays");
    axe(&mut page, "the survey code page, a wrong code").await;
    let mut console = browser.open(&format!("{}/console", s.base)).await;
    viewport(&mut console, 1366, 768).await;
    axe(&mut console, "the console sign-in").await;
    browser.stop().await;
    s.stop().await;
}
