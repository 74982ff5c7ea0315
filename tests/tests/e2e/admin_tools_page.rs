//! The admin page's tools (`server/web/admin-tools.js`) in a real browser, at 1366x768 (and a
//! phone's 390x844, which must not run off the side), each state checked with axe-core:
//!
//! - saved replies: listed, added (their variables explained and previewed), refused with why,
//!   changed, deleted after a confirmation;
//! - the moderation rules by version: who and when, which is in force, one viewed, one
//!   restored after a confirmation, broken rules refused with the server's reason beside the
//!   form, new rules from a file;
//! - the monitoring notice by version, and new words put in force;
//! - how well the checks do on what staff marked, as tables, and the export;
//! - the page's two scripts share one session, however often its tokens are refreshed.
//!
//! With `TALKZONE_SCREENSHOTS` set, each test leaves screenshots there to look at.

use serde_json::{json, Value};
use talkzone_tests::a11y::{axe, screenshot, viewport};
use talkzone_tests::api::{
    AuditQuery, CannedReplyRequest, CreateConversationRequest, NoticeRequest, Role, ServerFrame, VerdictMarkKind,
    VerdictMarkRequest,
};
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::{TestServer, TEST_PASSWORD};

/// A server on a port known before it starts, so that its own origin is the allowed one.
async fn server(tweak: impl FnOnce(&mut talkzone_server::config::Config) + Send + 'static) -> TestServer {
    TestServer::builder(talkzone_tests::Backend::Sqlite)
        .own_origin()
        .config(move |c| {
            tweak(c);
        })
        .start()
        .await
}

/// Every tool has loaded what it shows.
const TOOLS_LOADED: &str = "document.querySelector('#canned-list li') !== null \
    && document.getElementById('policy-versions') !== null && document.getElementById('notice-versions') !== null \
    && (document.getElementById('marks-none') !== null || document.getElementById('marks-categories') !== null)";

/// The admin page at a laptop's size, signed in as the YOT admin `username`, its tools loaded.
async fn admin_page(s: &TestServer, browser: &Browser, username: &str) -> Page {
    let mut page = browser.open(&format!("{}/admin", s.base)).await;
    viewport(&mut page, 1366, 768).await;
    page.fill("username", username).await;
    page.fill("password", TEST_PASSWORD).await;
    page.submit("login-form").await;
    page.wait_for("!document.getElementById('panels').hidden", "the admin panels").await;
    page.wait_for(TOOLS_LOADED, "the tools loaded").await;
    page
}

fn text(selector: &str) -> String {
    format!("(document.querySelector({})?.textContent ?? '')", json!(selector))
}

/// What the page says right under the element `id`: its text, its kind and its role; null when
/// nothing is said there.
async fn said_after(page: &mut Page, id: &str) -> Value {
    let js = format!(
        "(() => {{ const m = document.getElementById({}).nextElementSibling; \
         if (!m || !m.classList.contains('form-message') || m.hidden || !m.textContent) return null; \
         return {{text: m.textContent, kind: m.classList.contains('error') ? 'error' : 'info', role: m.getAttribute('role')}}; }})()",
        json!(id)
    );
    page.eval(&js).await
}

/// Waits until the page says something of `kind` under `id`, and returns its text.
async fn wait_said(page: &mut Page, id: &str, kind: &str, what: &str) -> String {
    let js = format!(
        "(() => {{ const m = document.getElementById({}).nextElementSibling; \
         return m && m.classList.contains('form-message') && m.classList.contains({}) && !m.hidden && m.textContent; }})()",
        json!(id),
        json!(kind)
    );
    page.wait_for(&js, what).await.as_str().unwrap_or_default().to_owned()
}

/// At a phone's size nothing runs off the side; then back to the laptop.
async fn fits_a_phone(page: &mut Page, state: &str, scroll_to: &str) {
    viewport(page, 390, 844).await;
    page.eval(&format!("document.getElementById({}).scrollIntoView(), true", json!(scroll_to))).await;
    let overflow = page.eval("document.documentElement.scrollWidth - innerWidth").await;
    assert!(overflow.as_f64().unwrap_or(1.0) <= 0.0, "{state}: the page runs {overflow}px off the side of a phone");
    // Every button of the section within the phone's width (none hidden in a sideways scroll).
    let off = format!(
        "[...document.getElementById({}).querySelectorAll('button')].filter((b) => b.offsetParent && b.getBoundingClientRect().right > innerWidth).map((b) => b.textContent)",
        json!(scroll_to)
    );
    assert_eq!(page.eval(&off).await, json!([]), "{state}: buttons off the side of a phone");
    let sideways = format!(
        "[...document.getElementById({}).querySelectorAll('.table-wrap')].filter((w) => w.scrollWidth > w.clientWidth + 1).map((w) => w.textContent.slice(0, 40))",
        json!(scroll_to)
    );
    assert_eq!(page.eval(&sideways).await, json!([]), "{state}: a table to scroll sideways on a phone");
    axe(page, &format!("{state} on a phone")).await;
    settle(page).await;
    screenshot(page, &format!("{state}-phone")).await;
    viewport(page, 1366, 768).await;
}

/// Two frames drawn, so that a screenshot shows the layout of the size just set.
async fn settle(page: &mut Page) {
    page.eval("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))").await;
}

#[tokio::test]
async fn saved_replies_are_listed_added_changed_and_deleted() {
    let s = server(|_| {}).await;
    let admin = s.staff_named(Role::YotAdmin, "canned-admin").await.access_token;
    let first = CannedReplyRequest { title: "Introduce myself".into(), body: "Hi, I'm {worker_name}.".into() };
    s.client.create_canned_reply(&admin, &first).await.unwrap();
    let browser = Browser::start().await;
    let mut page = admin_page(&s, &browser, "canned-admin").await;
    assert_eq!(page.eval(&text("#canned-list li strong")).await, json!("Introduce myself"));
    let explained = page.eval(&text("#canned-variables")).await;
    assert!(explained.as_str().unwrap().contains("{young_person_name}"), "the variables explained: {explained}");
    axe(&mut page, "the saved replies").await;

    // A new reply, its variables inserted and previewed as a worker would send it.
    page.fill("canned-title", "Are you safe").await;
    page.fill("canned-body", "Hi ").await;
    page.eval("document.getElementById('canned-body').setSelectionRange(3, 3); true").await;
    page.click("#tool-canned-replies button[data-insert='{young_person_name}']").await;
    page.eval("(() => { const b = document.getElementById('canned-body'); b.value += ', it is '; b.setSelectionRange(b.value.length, b.value.length); return true; })()").await;
    page.click("#tool-canned-replies button[data-insert='{worker_name}']").await;
    page.eval("(() => { const b = document.getElementById('canned-body'); b.value += '. Are you safe right now?'; b.dispatchEvent(new Event('input')); return true; })()").await;
    assert_eq!(
        page.eval(&text("#canned-preview")).await,
        json!("How it reads for a worker called Alex chatting with Sam: Hi Sam, it is Alex. Are you safe right now?")
    );
    page.submit("canned-form").await;
    assert!(wait_said(&mut page, "canned-form", "info", "added").await.contains("Added “Are you safe”"));
    let listed = s.client.list_canned_replies(&admin).await.unwrap().canned_replies;
    let safe = listed.iter().find(|c| c.title == "Are you safe").expect("the new reply stored");
    assert_eq!(safe.body, "Hi {young_person_name}, it is {worker_name}. Are you safe right now?");
    page.wait_for("document.querySelectorAll('#canned-list li[data-canned-id]').length === 2", "both listed").await;

    // A variable the console would not fill in: refused, with why, beside the form.
    page.fill("canned-title", "Typo").await;
    page.fill("canned-body", "Hi {name}").await;
    page.submit("canned-form").await;
    let why = wait_said(&mut page, "canned-form", "error", "refused").await;
    assert!(why.contains("variables"), "{why}");
    assert_eq!(said_after(&mut page, "canned-form").await["role"], json!("alert"));
    let described = page
        .eval("(() => { const b = document.getElementById('canned-body'); return [b.getAttribute('aria-invalid'), b.getAttribute('aria-describedby')]; })()")
        .await;
    assert_eq!(described, json!(["true", "canned-form-message canned-variables"]), "the box says why it was refused");
    axe(&mut page, "a saved reply refused").await;
    screenshot(&mut page, "admin-tools-canned-refused").await;
    assert_eq!(s.client.list_canned_replies(&admin).await.unwrap().canned_replies.len(), 2, "nothing stored");

    // Changed: the form takes the reply, and saving keeps its id.
    let row = |id: &str, what: &str| format!("#canned-list li[data-canned-id={}] button[data-do={what}]", json!(id));
    page.click(&row(&safe.id, "edit")).await;
    assert_eq!(page.eval("document.getElementById('canned-title').value").await, json!("Are you safe"));
    assert_eq!(page.eval(&text("#canned-save")).await, json!("Save changes"));
    assert_eq!(page.eval("document.activeElement.id").await, json!("canned-title"));
    page.fill("canned-body", "Are you safe right now, {young_person_name}?").await;
    page.submit("canned-form").await;
    assert!(wait_said(&mut page, "canned-form", "info", "saved").await.contains("Saved"));
    assert_eq!(page.eval("document.getElementById('canned-body').getAttribute('aria-invalid')").await, json!(null));
    let listed = s.client.list_canned_replies(&admin).await.unwrap().canned_replies;
    let changed = listed.iter().find(|c| c.id == safe.id).expect("the same reply");
    assert_eq!(changed.body, "Are you safe right now, {young_person_name}?");
    assert_eq!(page.eval(&text("#canned-save")).await, json!("Add the reply"), "the form is for a new one again");

    // Deleted after a confirmation; Cancel keeps it.
    let intro = listed.iter().find(|c| c.title == "Introduce myself").unwrap().id.clone();
    page.wait_for(&format!("document.querySelector({}) !== null", json!(row(&intro, "delete"))), "the row").await;
    page.click(&row(&intro, "delete")).await;
    let question = page.wait_for(&text(".confirm p"), "a confirmation").await;
    assert!(question.as_str().unwrap().contains("Delete “Introduce myself”?"), "{question}");
    assert_eq!(page.eval("document.activeElement.dataset.confirm").await, json!("no"), "Cancel has the focus");
    axe(&mut page, "a saved reply's deletion to confirm").await;
    page.click(".confirm button[data-confirm=no]").await;
    assert_eq!(s.client.list_canned_replies(&admin).await.unwrap().canned_replies.len(), 2, "Cancel keeps it");
    page.click(&row(&intro, "delete")).await;
    page.click(".confirm button[data-confirm=yes]").await;
    assert!(wait_said(&mut page, "canned-list", "info", "deleted").await.contains("Deleted “Introduce myself”"));
    let left = s.client.list_canned_replies(&admin).await.unwrap().canned_replies;
    assert_eq!(left.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), ["Are you safe"]);
    assert_eq!(page.eval("document.querySelectorAll('#canned-list li[data-canned-id]').length").await, json!(1));
    page.eval("document.getElementById('tool-canned-replies').scrollIntoView(), true").await;
    screenshot(&mut page, "admin-tools-canned").await;
    fits_a_phone(&mut page, "admin-tools-canned", "tool-canned-replies").await;
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn the_moderation_rules_by_version_viewed_restored_and_replaced_from_a_file() {
    let s = server(|_| {}).await;
    let admin = s.staff_named(Role::YotAdmin, "rules-admin").await.access_token;
    let original = s.client.moderation_policy(&admin).await.unwrap();
    s.client.replace_moderation_policy(&admin, &format!("{original}\n# first change\n")).await.unwrap();
    s.client.replace_moderation_policy(&admin, &format!("{original}\n# second change\n")).await.unwrap();
    let browser = Browser::start().await;
    let mut page = admin_page(&s, &browser, "rules-admin").await;

    // Newest first: which is in force, when, by whom.
    let rows = "[...document.querySelectorAll('#policy-versions tbody tr')].map((r) => [...r.cells].slice(0, 5).map((c) => c.textContent))";
    let shown = page.eval(rows).await;
    assert_eq!(shown[0][0], json!("2"));
    assert_eq!((shown[0][2].clone(), shown[0][4].clone()), (json!("Test yot_admin"), json!("in force")), "{shown}");
    assert_eq!((shown[1][0].clone(), shown[1][4].clone()), (json!("1"), json!("earlier")), "{shown}");
    assert_eq!(
        page.eval("document.querySelectorAll('#policy-versions tr button[data-do=restore]').length").await,
        json!(1)
    );
    page.eval("document.getElementById('tool-moderation-policy').scrollIntoView(), true").await;
    axe(&mut page, "the moderation rules' versions").await;

    // One viewed, as text.
    page.click("#policy-versions button[aria-label='View version 1']").await;
    let body = page.wait_for(&text("#policy-view-body"), "version 1 shown").await;
    assert!(body.as_str().unwrap().contains("# first change"), "version 1's rules");
    assert_eq!(page.eval("document.activeElement.id").await, json!("policy-view-title"));
    axe(&mut page, "a version of the rules on screen").await;
    screenshot(&mut page, "admin-tools-policy-view").await;

    // Restored, after a confirmation: a new version, noted, in force.
    page.click("#policy-view button[data-do=restore]").await;
    let question = page.wait_for(&text(".confirm p"), "a confirmation").await;
    assert!(question.as_str().unwrap().contains("Put version 1 back in force?"), "{question}");
    axe(&mut page, "a restore to confirm").await;
    page.click(".confirm button[data-confirm=yes]").await;
    let done = wait_said(&mut page, "policy-versions-box", "info", "restored").await;
    assert_eq!(done, "Version 1 is back in force, as version 3.");
    let versions = s.client.moderation_policy_versions(&admin).await.unwrap().versions;
    assert_eq!((versions[0].version, versions[0].in_force), (3, true));
    assert_eq!(versions[0].note.as_deref(), Some("restored from version 1"));
    let shown = page.eval(rows).await;
    assert_eq!((shown[0][0].clone(), shown[0][3].clone()), (json!("3"), json!("restored from version 1")), "{shown}");

    // Broken rules: refused with the server's reason beside the form, the box marked invalid.
    page.click("#load-policy").await;
    page.wait_for(
        "!document.getElementById('policy-form').hidden && document.getElementById('policy').value",
        "the rules",
    )
    .await;
    page.fill(
        "policy",
        &format!("{original}\n[[rule]]\nid = \"x\"\ncategory = \"weapon\"\nseverity = \"high\"\nphrases = [\"a\"]\n"),
    )
    .await;
    page.submit("policy-form").await;
    let why = wait_said(&mut page, "policy-form", "error", "the rules refused").await;
    assert!(why.contains("not valid") && why.contains("unknown category \"weapon\""), "{why}");
    let described = page.eval("(() => { const b = document.getElementById('policy'); return [b.getAttribute('aria-invalid'), document.getElementById(b.getAttribute('aria-describedby'))?.textContent]; })()").await;
    assert_eq!(described, json!(["true", why]));
    axe(&mut page, "broken rules refused").await;
    screenshot(&mut page, "admin-tools-policy-refused").await;
    assert_eq!(s.client.moderation_policy_versions(&admin).await.unwrap().versions.len(), 3, "nothing stored");

    // New rules from a file: shown to read over, then in force.
    let dir = talkzone_tests::TempDir::new();
    let file = dir.0.join("rules.toml");
    std::fs::write(&file, format!("{original}\n# from a file\n")).unwrap();
    let doc = page.call("DOM.getDocument", json!({})).await;
    let node =
        page.call("DOM.querySelector", json!({"nodeId": doc["root"]["nodeId"], "selector": "#policy-file"})).await;
    page.call("DOM.setFileInputFiles", json!({"nodeId": node["nodeId"], "files": [file.display().to_string()]})).await;
    assert!(wait_said(&mut page, "policy-form", "info", "the file loaded").await.contains("rules.toml"));
    assert_eq!(page.eval("document.getElementById('policy').getAttribute('aria-invalid')").await, json!(null));
    assert!(page.eval("document.getElementById('policy').value").await.as_str().unwrap().ends_with("# from a file\n"));
    page.submit("policy-form").await;
    let done = wait_said(&mut page, "policy-form", "info", "in force").await;
    assert!(done.starts_with("Version 4 is in force"), "{done}");
    assert!(s.client.moderation_policy(&admin).await.unwrap().ends_with("# from a file\n"));
    page.wait_for("document.querySelectorAll('#policy-versions tbody tr').length === 4", "four versions").await;
    // The same rules again change nothing.
    page.submit("policy-form").await;
    page.wait_for(&format!("{}.includes('nothing changed')", text("#policy-form + .form-message")), "no change").await;
    fits_a_phone(&mut page, "admin-tools-policy", "tool-moderation-policy").await;
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn the_monitoring_notice_by_version_and_new_words_in_force() {
    let s = server(|_| {}).await;
    let admin = s.staff_named(Role::YotAdmin, "notice-admin").await.access_token;
    let browser = Browser::start().await;
    let mut page = admin_page(&s, &browser, "notice-admin").await;
    let first = page.eval(&text("#notice-versions tbody tr")).await;
    assert!(first.as_str().unwrap().starts_with("built-in") && first.as_str().unwrap().contains("in force"), "{first}");
    page.eval("document.getElementById('tool-monitoring-notice').scrollIntoView(), true").await;
    axe(&mut page, "the monitoring notice, built in").await;

    let words = "Trained Talk Zone staff read your chats to keep you safe. We keep them for a year.";
    page.fill("notice-text", words).await;
    page.submit("notice-form").await;
    let done = wait_said(&mut page, "notice-form", "info", "the new notice").await;
    assert!(done.starts_with("Version 2 is in force"), "{done}");
    let versions = s.client.monitoring_notice_versions(&admin).await.unwrap().versions;
    assert_eq!((versions[0].version, versions[0].body.as_str(), versions[0].in_force), (2, words, true));
    page.wait_for(&format!("{}.includes('Test yot_admin')", text("#notice-versions tbody tr")), "by whom").await;
    page.click("#notice-versions details summary").await;
    assert_eq!(page.eval(&text("#notice-versions details .body")).await, json!(words));

    // Too long: the server's reason beside the form, and the notice in force stays.
    page.fill("notice-text", &"a".repeat(2001)).await;
    page.submit("notice-form").await;
    let why = wait_said(&mut page, "notice-form", "error", "too long").await;
    assert!(why.contains("2000") || why.contains("2,000"), "{why}");
    axe(&mut page, "new words refused").await;
    screenshot(&mut page, "admin-tools-notice").await;
    assert_eq!(s.client.monitoring_notice_versions(&admin).await.unwrap().versions.len(), 1);
    // The same words again change nothing.
    s.client.replace_monitoring_notice(&admin, &NoticeRequest { text: words.into() }).await.unwrap();
    page.fill("notice-text", words).await;
    page.submit("notice-form").await;
    assert!(wait_said(&mut page, "notice-form", "info", "no change").await.contains("nothing changed"));
    fits_a_phone(&mut page, "admin-tools-notice", "tool-monitoring-notice").await;
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn what_staff_marked_is_a_table_of_numbers_and_an_export() {
    let s = server(|_| {}).await;
    let admin = s.staff_named(Role::YotAdmin, "marks-admin").await.access_token;
    let sup = s.staff(Role::Supervisor).await.access_token;
    let browser = Browser::start().await;
    let mut page = admin_page(&s, &browser, "marks-admin").await;
    assert!(page.eval(&text("#marks-none")).await.as_str().unwrap().starts_with("No marks yet"));
    page.eval("document.getElementById('tool-verdict-marks').scrollIntoView(), true").await;
    axe(&mut page, "no marks yet").await;

    // A supervisor marks two messages: a grooming risk missed, and a flag on a joke.
    for (words, kind, category, severity) in [
        ("a man from snap wants to meet me tonight", VerdictMarkKind::Missed, "sexual_exploitation_grooming", "high"),
        ("this homework is killing me, i want to die lol", VerdictMarkKind::Wrong, "none", "none"),
    ] {
        let yp = s.young_person().await;
        let req = CreateConversationRequest { topic: None, first_message: None };
        let conv = s.client.open_conversation(&yp.access_token, &req).await.unwrap().1.id;
        let mut ws = s.client.connect(&yp.access_token).await.unwrap();
        let ServerFrame::Ack { message_id, .. } = ws.send_message(&conv, "m1", words).await.unwrap() else {
            panic!("not stored")
        };
        let mark = VerdictMarkRequest { kind, category: category.into(), severity: severity.into() };
        s.client.mark_verdict(&sup, &message_id, &mark).await.unwrap();
    }
    let api = s.client.verdict_mark_report(&admin).await.unwrap();
    page.click("#marks-refresh").await;
    page.wait_for("document.getElementById('marks-categories') !== null", "the report").await;
    assert_eq!(page.eval(&text("#marks-total")).await, json!("2 marks on messages still kept."));
    // In the classifier's order, as the API counts.
    let rows = page
        .eval("[...document.querySelectorAll('#marks-categories tbody tr')].map((r) => [...r.cells].map((c) => c.textContent))")
        .await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), api.categories.len(), "every category: {rows:?}");
    // "Marked as it", then "caught now" as a count and a share, whatever the classifier in
    // force makes of it, then "flagged wrongly".
    for (row, c) in rows.iter().zip(&api.categories) {
        let caught = match c.recall {
            Some(r) => format!("{} ({}%)", c.flagged, (r * 100.0).round()),
            None => "—".into(),
        };
        let expected = [c.should_have.to_string(), caught, c.false_positives.to_string()].map(|t| json!(t));
        assert_eq!(row.as_array().unwrap()[1..], expected, "{c:?}");
    }
    let grooming = rows.iter().find(|r| r[0] == json!("sexual exploitation or grooming")).expect("grooming, in words");
    assert_eq!(grooming[1], json!("1"), "one marked message should have it: {grooming}");
    let unmeasured = rows.iter().find(|r| r[0] == json!("weapons")).expect("weapons, in words");
    assert_eq!(unmeasured[2], json!("—"), "nothing should have it: nothing to measure");
    // The row headers are headers, for a screen reader reading the table.
    assert_eq!(page.eval("document.querySelectorAll('#marks-categories tbody th[scope=row]').length").await, json!(12));
    let months = page.eval("[...document.querySelectorAll('#marks-months tbody tr')].map((r) => [...r.cells].map((c) => c.textContent))").await;
    assert_eq!(months, json!([[api.months[0].month, "1", "1", "2"]]));
    axe(&mut page, "the verdict marks report").await;
    screenshot(&mut page, "admin-tools-marks").await;

    // The export: a link that downloads the marked messages, audited.
    assert_eq!(
        page.eval("document.getElementById('marks-export').getAttribute('download')").await,
        json!("talkzone-verdict-marks.jsonl")
    );
    page.click("#marks-export").await;
    assert!(wait_said(&mut page, "marks-export-row", "info", "downloaded").await.starts_with("Downloaded"));
    let audit = s.client.audit_log(&admin, &AuditQuery { days: Some(1) }).await.unwrap();
    assert!(audit.entries.iter().any(|e| e.action == "verdict_marks_exported"), "audited");
    fits_a_phone(&mut page, "admin-tools-marks", "tool-verdict-marks").await;
    browser.stop().await;
    s.stop().await;
}

/// admin.js and admin-tools.js each hold a Session on the same key, and each call may refresh
/// the access token; a refresh token works once (a second use ends the session). With access
/// tokens of 30 s every call refreshes: the page still works throughout.
#[tokio::test]
async fn the_page_and_its_tools_share_one_session_through_refreshes() {
    let s = server(|c| c.access_token_ttl = std::time::Duration::from_secs(30)).await;
    let admin = s.staff_named(Role::YotAdmin, "refresh-admin").await.access_token;
    let first = CannedReplyRequest { title: "Hello".into(), body: "Hello.".into() };
    s.client.create_canned_reply(&admin, &first).await.unwrap();
    let browser = Browser::start().await;
    let mut page = admin_page(&s, &browser, "refresh-admin").await;
    page.wait_for("document.querySelectorAll('#staff li').length > 0", "admin.js's lists").await;
    // One from each script, after both loaded.
    page.fill("canned-title", "Goodbye").await;
    page.fill("canned-body", "Take care, {young_person_name}.").await;
    page.submit("canned-form").await;
    assert!(wait_said(&mut page, "canned-form", "info", "added").await.contains("Added"));
    page.fill("room-topic", "Music").await;
    page.fill("room-ages", "16-17").await;
    page.submit("room-form").await;
    page.wait_for(&format!("{}.includes('Music')", text("#rooms")), "the room, made by admin.js").await;
    page.reload().await;
    page.wait_for(TOOLS_LOADED, "signed in still, after a reload").await;
    assert_eq!(page.eval("document.getElementById('error').hidden").await, json!(true), "no error on the page");
    browser.stop().await;
    s.stop().await;
}
