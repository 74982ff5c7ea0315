//! "Verdict wrong?" in the console (`server/web/console-verdict.js`), in a real browser, as a
//! duty worker in a chat and a moderator at the moderation queue would use it: the control
//! under a young person's message (and under a held message), a short form that opens on
//! request and closes with Escape, a refusal shown beside the form, the mark stored as the
//! YOT admin then counts and exports it. Each state checked with axe-core, at a laptop's and a
//! phone's size (nothing runs off the side). With `TALKZONE_SCREENSHOTS` set, screenshots.

use serde_json::{json, Value};
use talkzone_tests::a11y::{axe, press, screenshot, viewport};
use talkzone_tests::api::{
    AckStatus, CreateConversationRequest, CreateRoomRequest, PersonalInfoMode, Role, RoomModeration, ServerFrame,
};
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::{TestServer, TEST_PASSWORD};

/// A server on a port known before it starts, so that its own origin is the allowed one.
async fn server() -> TestServer {
    TestServer::builder(talkzone_tests::Backend::Sqlite).own_origin().start().await
}

fn text(selector: &str) -> String {
    format!("(document.querySelector({})?.textContent ?? '')", json!(selector))
}

async fn console_as(s: &TestServer, browser: &Browser, username: &str) -> Page {
    let mut page = browser.open(&format!("{}/console", s.base)).await;
    viewport(&mut page, 1366, 768).await;
    page.fill("username", username).await;
    page.fill("password", TEST_PASSWORD).await;
    page.submit("login-form").await;
    let live =
        "!document.getElementById('desk').hidden && document.getElementById('connection').textContent === 'live'";
    page.wait_for(live, "the desk, live").await;
    page
}

/// What the console says beside the element `selector` (console-ui.js `say`).
async fn said_beside(page: &mut Page, selector: &str, what: &str) -> Value {
    let js = format!(
        "(() => {{ const m = document.querySelector({})?.nextElementSibling; \
         return m && m.classList.contains('console-say') && {{text: m.firstChild.textContent, \
         kind: m.classList.contains('error') ? 'error' : 'info', role: m.getAttribute('role')}}; }})()",
        json!(selector)
    );
    page.wait_for(&js, what).await
}

/// At a phone's size, with `selector` in view, nothing runs off the side; then a laptop again.
async fn fits_a_phone(page: &mut Page, state: &str, selector: &str) {
    viewport(page, 390, 844).await;
    page.eval(&format!("document.querySelector({}).scrollIntoView({{block: 'center'}}), true", json!(selector))).await;
    let overflow = page.eval("document.documentElement.scrollWidth - innerWidth").await;
    assert!(overflow.as_f64().unwrap_or(1.0) <= 0.0, "{state}: the page runs {overflow}px off the side of a phone");
    inside_its_message(page, state, selector).await;
    axe(page, &format!("{state} on a phone")).await;
    settle(page).await;
    screenshot(page, &format!("{state}-phone")).await;
    viewport(page, 1366, 768).await;
    page.eval(&format!("document.querySelector({}).scrollIntoView({{block: 'center'}}), true", json!(selector))).await;
    inside_its_message(page, state, selector).await;
    settle(page).await;
    screenshot(page, &format!("{state}-laptop")).await;
}

/// The control and its form lie inside the message (or item) they are about, none of their
/// parts outside it.
async fn inside_its_message(page: &mut Page, state: &str, selector: &str) {
    let js = format!(
        "(() => {{ const e = document.querySelector({}); const box = e.closest('li').getBoundingClientRect(); \
         return [...e.closest('.verdict').querySelectorAll('*')].filter((n) => n.offsetParent).filter((n) => {{ \
           const r = n.getBoundingClientRect(); return r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5; }}) \
           .map((n) => n.tagName + ' ' + n.textContent.slice(0, 30)); }})()",
        json!(selector)
    );
    assert_eq!(page.eval(&js).await, json!([]), "{state}: parts of the control outside its message");
}

/// Two frames drawn, so that a screenshot shows the layout of the size just set.
async fn settle(page: &mut Page) {
    page.eval("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))").await;
}

#[tokio::test]
async fn a_worker_marks_a_missed_risk_on_a_message_in_the_chat() {
    let s = server().await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    s.staff_named(Role::DutyWorker, "verdict-worker").await;
    let browser = Browser::start().await;
    let mut page = console_as(&s, &browser, "verdict-worker").await;
    let yp = s.young_person().await;
    let words = "my mums boyfriend takes my phone and wont let me out of my room";
    let req = CreateConversationRequest { topic: None, first_message: Some(words.into()) };
    let conv = s.client.open_conversation(&yp.access_token, &req).await.unwrap().1;
    let accept = format!("#queue li[data-conversation-id={}] button", json!(conv.id));
    page.wait_for(&format!("document.querySelector({}) !== null", json!(accept)), "the chat waiting").await;
    page.click(&accept).await;
    page.wait_for(&format!("{}.includes('wont let me out')", text("#messages li.theirs")), "the chat open").await;

    // One small control under the young person's message; none under Talk Zone's own.
    let toggle = "#messages li.theirs button.verdict-toggle";
    assert_eq!(page.eval(&text(toggle)).await, json!("Verdict wrong?"));
    assert_eq!(
        page.eval("document.querySelectorAll('#messages li.system button.verdict-toggle').length").await,
        json!(0)
    );
    assert_eq!(
        page.eval(&format!("document.querySelector({}).getAttribute('aria-expanded')", json!(toggle))).await,
        json!("false")
    );
    axe(&mut page, "a chat with the verdict control").await;

    // Opened on request: the check's verdict in words, the focus on the first choice.
    page.click(toggle).await;
    let form = "#messages li.theirs form.verdict-form";
    page.wait_for(&format!("!document.querySelector({}).hidden", json!(form)), "the form").await;
    assert_eq!(
        page.eval(&format!("document.querySelector({}).getAttribute('aria-expanded')", json!(toggle))).await,
        json!("true")
    );
    assert_eq!(page.eval("document.activeElement.value").await, json!("missed"), "the focus on the first choice");
    let verdict = page.eval(&text(&format!("{form} p"))).await;
    assert!(verdict.as_str().unwrap().starts_with("The check "), "what the check said: {verdict}");
    axe(&mut page, "the verdict form open").await;
    fits_a_phone(&mut page, "console-verdict-form", form).await;

    // Escape closes it, and the focus goes back to the control.
    press(&mut page, "Escape").await;
    page.wait_for(&format!("document.querySelector({}).hidden", json!(form)), "the form closed").await;
    assert_eq!(page.eval("document.activeElement.classList.contains('verdict-toggle')").await, json!(true));

    // A missed risk with no category: the server's reason beside the form's buttons.
    page.click(toggle).await;
    page.click(&format!("{form} input[value=missed]")).await;
    page.eval(&format!(
        "(() => {{ const c = document.querySelector({}); c.value = 'none'; c.dispatchEvent(new Event('change')); return true; }})()",
        json!(format!("{form} select[id^=verdict-category]"))
    ))
    .await;
    assert_eq!(
        page.eval(&format!("document.querySelector({}).value", json!(format!("{form} select[id^=verdict-severity]"))))
            .await,
        json!("none")
    );
    page.click(&format!("{form} button[type=submit]")).await;
    let refused = said_beside(&mut page, &format!("{form} .verdict-buttons"), "the refusal").await;
    assert_eq!((refused["kind"].clone(), refused["role"].clone()), (json!("error"), json!("alert")), "{refused}");
    assert!(refused["text"].as_str().unwrap().contains("names the category"), "{refused}");
    axe(&mut page, "a verdict mark refused").await;
    screenshot(&mut page, "console-verdict-refused-laptop").await;
    assert_eq!(s.client.verdict_mark_report(&admin).await.unwrap().marks, 0, "nothing stored");

    // The category and severity it should have had: stored, said beside the control.
    for (select, value) in [("verdict-category", "abuse_disclosure"), ("verdict-severity", "high")] {
        page.eval(&format!(
            "(() => {{ const c = document.querySelector({}); c.value = {}; c.dispatchEvent(new Event('change')); return true; }})()",
            json!(format!("{form} select[id^={select}]")),
            json!(value)
        ))
        .await;
    }
    page.click(&format!("{form} button[type=submit]")).await;
    let done = said_beside(&mut page, toggle, "the mark confirmed").await;
    assert_eq!(done["kind"], json!("info"), "{done}");
    assert!(
        done["text"].as_str().unwrap().starts_with("Marked as a missed risk: should be abuse disclosed, high."),
        "{done}"
    );
    assert_eq!(page.eval(&text(toggle)).await, json!("Verdict marked (change)"));
    assert_eq!(page.eval(&format!("document.querySelector({}).hidden", json!(form))).await, json!(true));
    assert_eq!(
        page.eval("document.activeElement.classList.contains('verdict-toggle')").await,
        json!(true),
        "the focus not lost"
    );
    assert_eq!(
        page.eval(&format!(
            "document.querySelectorAll({}).length",
            json!(format!("{form} + .console-say, .verdict-buttons + .console-say"))
        ))
        .await,
        json!(0),
        "the old refusal gone"
    );
    axe(&mut page, "a verdict marked").await;
    fits_a_phone(&mut page, "console-verdict-marked", toggle).await;

    // A message that arrives live has its own control, and its own form.
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.subscribe(&conv.id, 0).await.unwrap();
    ws.send_message(&conv.id, "v2", "he did it again last night").await.unwrap();
    let live = "#messages li.theirs:last-of-type button.verdict-toggle";
    page.wait_for(
        &format!("{}.includes('did it again')", text("#messages li.theirs:last-of-type")),
        "the live message",
    )
    .await;
    assert_eq!(page.eval(&text(live)).await, json!("Verdict wrong?"));
    assert_eq!(page.eval("document.querySelectorAll('#messages button.verdict-toggle').length").await, json!(2));

    // What the YOT admin sees: one mark, the category it should have had, and the export.
    let report = s.client.verdict_mark_report(&admin).await.unwrap();
    assert_eq!(report.marks, 1);
    assert_eq!((report.months[0].missed, report.months[0].wrong), (1, 0));
    let abuse = report.categories.iter().find(|c| c.category == "abuse_disclosure").unwrap();
    assert_eq!(abuse.should_have, 1);
    let export = s.client.verdict_mark_export(&admin).await.unwrap();
    let line: Value = serde_json::from_str(export.lines().next().expect("one line")).unwrap();
    assert_eq!((line["text"].clone(), line["severity"].clone()), (json!(words), json!("high")), "{line}");
    assert!(line["labels"].as_array().unwrap().contains(&json!("abuse_disclosure")), "{line}");
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_moderator_marks_a_missed_risk_on_a_held_message() {
    let s = server().await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    s.staff_named(Role::Moderator, "verdict-moderator").await;
    let room = CreateRoomRequest {
        topic: "Gaming".into(),
        age_band: "13-15".into(),
        moderation: RoomModeration::Pre,
        personal_info: PersonalInfoMode::Hold,
    };
    let room = s.client.create_room(&admin, &room).await.unwrap();
    let browser = Browser::start().await;
    let mut page = console_as(&s, &browser, "verdict-moderator").await;
    let yp = s.young_person().await;
    s.client.join_room(&yp.access_token, &room.id).await.unwrap();
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.subscribe(&room.id, 0).await.unwrap();
    let ack = ws.send_message(&room.id, "g1", "ur so ugly nobody in this group even likes u just leave").await.unwrap();
    let ServerFrame::Ack { status: AckStatus::Held, message_id, .. } = ack else { panic!("not held: {ack:?}") };

    let toggle = format!(
        "#moderation-items li.console-moderation button.verdict-toggle[data-verdict-for={}]",
        json!(message_id)
    );
    page.wait_for(&format!("document.querySelector({}) !== null", json!(toggle)), "the held message's control").await;
    page.click(&toggle).await;
    let form = "#moderation-items form.verdict-form";
    page.wait_for(&format!("!document.querySelector({}).hidden", json!(form)), "the form").await;
    axe(&mut page, "the verdict form on a moderation item").await;
    // What the check said, in words, from the item.
    let said = page.eval(&text(&format!("{form} p"))).await;
    assert!(said.as_str().unwrap().starts_with("The check said: "), "{said}");
    page.click(&format!("{form} input[value=missed]")).await;
    for (select, value) in [("verdict-category", "bullying_harassment"), ("verdict-severity", "high")] {
        page.eval(&format!(
            "(() => {{ const c = document.querySelector({}); c.value = {}; c.dispatchEvent(new Event('change')); return true; }})()",
            json!(format!("{form} select[id^={select}]")),
            json!(value)
        ))
        .await;
    }
    fits_a_phone(&mut page, "console-verdict-moderation", form).await;
    page.click(&format!("{form} button[type=submit]")).await;
    let done = said_beside(&mut page, &toggle, "the mark confirmed").await;
    assert!(
        done["text"].as_str().unwrap().starts_with("Marked as a missed risk: should be bullying or harassment, high."),
        "{done}"
    );
    axe(&mut page, "a held message's verdict marked").await;
    let report = s.client.verdict_mark_report(&admin).await.unwrap();
    assert_eq!((report.marks, report.months[0].missed, report.months[0].wrong), (1, 1, 0));
    let bullying = report.categories.iter().find(|c| c.category == "bullying_harassment").unwrap();
    assert_eq!(bullying.should_have, 1);
    // The item itself is still there to decide.
    assert_eq!(
        page.eval("document.querySelectorAll('#moderation-items li.console-moderation').length").await,
        json!(1)
    );
    browser.stop().await;
    s.stop().await;
}
