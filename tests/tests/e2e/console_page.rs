//! The staff console in a real browser (headless chromium), as a worker and a supervisor on a
//! busy night would use it:
//!
//! - a new chat cannot be missed: a chime (Web Audio; a switch turns it off, remembered), the
//!   count in the title, a content-free desktop notification, an announcement for screen
//!   readers, and a banner still on screen after scrolling down;
//! - accepting opens the chat, even with another (open or closed) on screen; the first-reply
//!   clock counts down and stops at the first reply; Enter sends, Shift+Enter does not;
//! - a high-risk message turns the risk badge to its colour and words in the chat header,
//!   "My chats", the queue and the supervisor's list, live, at AA contrast;
//! - escalations as a worklist: the young person, the worker, a countdown, OVERDUE in red;
//!   open the chat, record an action, resolve;
//! - saved replies with their variables filled in; escalation severity has no default;
//!   closing asks first and keeps the tags; messages beside the action, until dismissed;
//! - earlier chats (outcome, tags) and unread counts; keyboard shortcuts;
//! - moderation items with their room, the messages around them and how long they waited.
//!
//! With `TALKZONE_SCREENSHOT_DIR` set, the last test leaves screenshots there at 390x844 and
//! 1366x768 (a queue, an accepted chat, an escalation), for people to look at.

use std::time::Duration;

use serde_json::json;
use talkzone_mobile_api::{
    CannedReplyRequest, CloseRequest, ConversationView, CreateConversationRequest, CreateRoomRequest,
    EscalationListQuery, PersonalInfoMode, ReportRequest, Role, RoomModeration, ServerFrame, TagsRequest,
    TokenResponse,
};
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::{TestServer, TEST_PASSWORD};

/// A server on a port known before it starts, so that its own origin is the allowed one.
async fn server(tweak: impl FnOnce(&mut talkzone_server::config::Config) + Send + 'static) -> TestServer {
    talkzone_tests::TestServer::builder(talkzone_tests::Backend::Sqlite)
        .own_origin()
        .config(move |c| {
            tweak(c);
        })
        .start()
        .await
}

fn text(selector: &str) -> String {
    format!("(document.querySelector({})?.textContent ?? '')", json!(selector))
}

async fn console_as(s: &TestServer, browser: &Browser, username: &str) -> Page {
    let mut page = browser.open(&format!("{}/console", s.base)).await;
    spy_on_alerts(&mut page).await;
    page.fill("username", username).await;
    page.fill("password", TEST_PASSWORD).await;
    page.submit("login-form").await;
    let live =
        "!document.getElementById('desk').hidden && document.getElementById('connection').textContent === 'live'";
    page.wait_for(live, "the desk, live").await;
    page
}

/// Counts the chimes (oscillators started) and keeps the desktop notifications the page makes,
/// in place of the browser's own (which headless chromium does not show).
async fn spy_on_alerts(page: &mut Page) {
    page.eval(
        "(() => {
          window.spy = { oscillators: 0, notes: [] };
          const real = AudioContext.prototype.createOscillator;
          AudioContext.prototype.createOscillator = function () { window.spy.oscillators += 1; return real.call(this); };
          class FakeNotification { constructor(title, opts) { window.spy.notes.push({ title, body: opts.body }); } }
          FakeNotification.permission = 'default';
          FakeNotification.requestPermission = async () => { FakeNotification.permission = 'granted'; return 'granted'; };
          window.Notification = FakeNotification;
          return true;
        })()",
    )
    .await;
}

async fn open_chat(s: &TestServer, yp: &TokenResponse, first: &str) -> ConversationView {
    let req = CreateConversationRequest { topic: None, first_message: Some(first.into()) };
    s.client.open_conversation(&yp.access_token, &req).await.expect("open a chat").1
}

/// Presses a key (with Alt, Shift) on `target` (a selector, or the document).
async fn press(page: &mut Page, target: Option<&str>, key: &str, code: &str, alt: bool, shift: bool) {
    let on = target.map_or("document".to_owned(), |t| format!("document.querySelector({})", json!(t)));
    page.eval(&format!(
        "{on}.dispatchEvent(new KeyboardEvent('keydown', {{ key: {}, code: {}, altKey: {alt}, shiftKey: {shift}, bubbles: true, cancelable: true }})), true",
        json!(key),
        json!(code)
    ))
    .await;
}

/// The WCAG contrast ratio of an element's text on its own background.
const CONTRAST: &str = "((e) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const s = getComputedStyle(e);
  const [a, b] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
})";

#[tokio::test]
async fn a_new_chat_cannot_be_missed() {
    let s = server(|_| {}).await;
    s.staff_named(Role::DutyWorker, "alert-worker").await;
    let browser = Browser::start().await;
    let mut console = console_as(&s, &browser, "alert-worker").await;
    console.set_viewport(390, 844, true).await;
    assert_eq!(console.eval(&text("#notify")).await, json!("Turn on desktop alerts"));
    console.click("#notify").await;
    console.wait_for(&format!("{} === 'Desktop alerts on'", text("#notify")), "desktop alerts allowed").await;
    console.click("#duty").await;
    console.wait_for(&format!("{} === 'Go off duty'", text("#duty")), "on duty").await;
    assert_eq!(console.eval("document.title").await, json!("Talk Zone: duty console"));
    assert_eq!(console.eval("document.getElementById('alert-banner').hidden").await, json!(true));
    // The worker has scrolled to the bottom of a long page.
    console
        .eval(
            "document.querySelector('main').append(Object.assign(document.createElement('div'), { style: 'height: 3000px' })); \
             window.scrollTo(0, document.body.scrollHeight); true",
        )
        .await;

    let yp = s.young_person().await;
    let words = "I have nowhere to stay tonight and I want to kill myself";
    open_chat(&s, &yp, words).await;
    console.wait_for("document.title.startsWith('(1 waiting) ')", "the count waiting in the tab's title").await;
    let banner = console
        .wait_for(
            "(() => { const b = document.getElementById('alert-banner'); const r = b.getBoundingClientRect(); \
             return !b.hidden && r.top >= 0 && r.bottom <= innerHeight && r.height > 0 && b.textContent; })()",
            "the banner on screen, scrolled down",
        )
        .await;
    let banner = banner.as_str().unwrap_or_default();
    assert!(banner.contains("1 chat waiting") && banner.contains("CRITICAL risk"), "{banner}");
    assert!(console.eval("window.scrollY").await.as_f64().unwrap_or(0.0) > 1000.0, "still scrolled down");
    console.wait_for("window.spy.oscillators > 0", "a chime").await;
    let notes = console.wait_for("window.spy.notes.length && window.spy.notes", "a desktop notification").await;
    assert_eq!(notes, json!([{"title": "Talk Zone", "body": "New chat waiting (CRITICAL risk)"}]));
    assert!(!notes.to_string().contains("nowhere"), "nothing the child wrote in a notification");
    let said = console.wait_for(&text("#announce-urgent"), "an announcement for screen readers").await;
    assert_eq!(said, json!("New chat waiting (CRITICAL risk)."));
    assert_eq!(
        console.eval("document.getElementById('announce-urgent').getAttribute('aria-live')").await,
        json!("assertive")
    );
    // The banner's button accepts it.
    console.click("#alert-banner button[data-do=accept-next]").await;
    console.wait_for(&format!("{}.includes('kill myself')", text("#messages")), "the accepted chat").await;

    // Sound off: remembered on this device, after a reload; the other alerts still come.
    console.click("#sound").await;
    assert_eq!(console.eval("[localStorage.getItem('talkzone.console.sound'), document.getElementById('sound').getAttribute('aria-pressed')]").await, json!(["off", "false"]));
    console.reload().await;
    console.wait_for(&format!("{} === 'live'", text("#connection")), "live again").await;
    assert_eq!(console.eval(&text("#sound")).await, json!("Sound off"));
    console.eval("window.spy = { oscillators: 0 }; const real = AudioContext.prototype.createOscillator; AudioContext.prototype.createOscillator = function () { window.spy.oscillators += 1; return real.call(this); }; true").await;
    open_chat(&s, &s.young_person().await, "hello?").await;
    console.wait_for("document.title.startsWith('(1 waiting) ')", "the title, with the sound off").await;
    console.wait_for(&format!("{}.includes('New chat waiting')", text("#announce-polite")), "announced").await;
    assert_eq!(console.eval("window.spy.oscillators").await, json!(0), "no chime with the sound off");
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn accepting_opens_the_chat_and_the_first_reply_clock_runs() {
    let s = server(|_| {}).await;
    let worker = s.staff_named(Role::DutyWorker, "accept-worker").await;
    let browser = Browser::start().await;
    let mut console = console_as(&s, &browser, "accept-worker").await;

    // A first chat, accepted and then closed: it stays on screen, closed.
    let a = s.young_person().await;
    let first = open_chat(&s, &a, "first chat").await;
    let row = |id: &str| format!("#queue li[data-conversation-id={}] button", json!(id));
    console
        .wait_for(&format!("document.querySelector({}) !== null", json!(row(first.id.as_str()))), "the first chat")
        .await;
    console.click(&row(first.id.as_str())).await;
    console.wait_for(&format!("{}.includes('first chat')", text("#messages")), "the first chat open").await;
    let close = CloseRequest { outcome: "resolved".into(), tags: vec![] };
    s.client.close_conversation(&worker.access_token, &first.id, &close).await.unwrap();
    console
        .wait_for(&format!("{}.startsWith('closed')", text("#chat-state")), "the first chat closed, on screen")
        .await;

    // A second: accepting it opens it, with the clock counting down.
    let b = s.young_person().await;
    let second = open_chat(&s, &b, "is anyone there").await;
    console
        .wait_for(&format!("document.querySelector({}) !== null", json!(row(second.id.as_str()))), "the second chat")
        .await;
    console.click(&row(second.id.as_str())).await;
    console
        .wait_for(&format!("{}.includes('is anyone there')", text("#messages")), "the second chat open at once")
        .await;
    let b_name = second.young_person.as_ref().unwrap().display_name.clone();
    assert_eq!(console.eval(&text("#chat-title")).await, json!(b_name));
    assert_eq!(console.eval("document.activeElement.id").await, json!("text"), "ready to reply");
    let clock = console
        .wait_for(
            "!document.getElementById('reply-clock').hidden && document.getElementById('reply-clock').textContent",
            "the clock",
        )
        .await;
    assert!(clock.as_str().unwrap().starts_with("Reply within 1:"), "90 s, counting down: {clock}");
    let mine = console.eval(&text("#mine li.current .console-due")).await;
    assert!(mine.as_str().unwrap().starts_with("reply within 1:"), "in My chats too: {mine}");

    // A third arrives while the second is open: Alt+A takes the next, and opens it.
    let c = s.young_person().await;
    let third = open_chat(&s, &c, "third one here").await;
    console
        .wait_for(&format!("document.querySelector({}) !== null", json!(row(third.id.as_str()))), "the third chat")
        .await;
    press(&mut console, None, "a", "KeyA", true, false).await;
    console.wait_for(&format!("{}.includes('third one here')", text("#messages")), "Alt+A opened the third").await;

    // Shift+Enter is a new line; Enter sends. The first reply stops the clock.
    console.fill("text", "Hi, I'm here").await;
    press(&mut console, Some("#text"), "Enter", "Enter", false, true).await;
    assert_eq!(
        console.eval("document.querySelectorAll('#messages li.mine').length").await,
        json!(0),
        "Shift+Enter does not send"
    );
    press(&mut console, Some("#text"), "Enter", "Enter", false, false).await;
    console.wait_for(&format!("{}.includes(\"Hi, I'm here\")", text("#messages li.mine")), "Enter sent it").await;
    console.wait_for("document.getElementById('reply-clock').hidden", "the clock stopped by the first reply").await;
    assert_eq!(console.eval("document.getElementById('text').value").await, json!(""));
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_chat_given_to_a_worker_raises_the_alarm() {
    let s = server(|_| {}).await;
    let a = s.staff(Role::DutyWorker).await;
    let b = s.staff_named(Role::DutyWorker, "given-worker").await;
    let browser = Browser::start().await;
    let mut console = console_as(&s, &browser, "given-worker").await;
    console.click("#notify").await;
    let yp = s.young_person().await;
    let conv = open_chat(&s, &yp, "please can someone talk").await;
    s.client.accept(&a.access_token, &conv.id).await.unwrap();
    let transfer = talkzone_mobile_api::TransferRequest { to: b.user.id.clone(), reason: "end of my shift".into() };
    s.client.transfer_conversation(&a.access_token, &conv.id, &transfer).await.unwrap();
    console
        .wait_for(
            &format!(
                "document.querySelector({}) !== null",
                json!(format!("#mine li[data-conversation-id={}]", json!(conv.id)))
            ),
            "the chat in My chats",
        )
        .await;
    let said = console.wait_for(&text("#announce-urgent"), "announced").await;
    assert!(said.as_str().unwrap().contains("has been given to you"), "{said}");
    console.wait_for("window.spy.oscillators > 0", "a chime").await;
    let notes = console.wait_for("window.spy.notes.length && window.spy.notes", "a notification").await;
    assert_eq!(notes, json!([{"title": "Talk Zone", "body": "A chat has been given to you (no risk flagged)"}]));
    // Nothing else on screen: it opens by itself, with its clock running.
    console.wait_for(&format!("{}.includes('please can someone talk')", text("#messages")), "the chat open").await;
    console.wait_for("!document.getElementById('reply-clock').hidden", "the clock").await;
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn risk_shows_everywhere_live_and_escalations_are_a_worklist() {
    let s = server(|c| c.desk.escalation_critical = Duration::from_secs(2)).await;
    s.staff_named(Role::DutyWorker, "risk-worker").await;
    s.staff_named(Role::Supervisor, "risk-supervisor").await;
    let browser = Browser::start().await;
    let mut worker = console_as(&s, &browser, "risk-worker").await;
    let mut sup = console_as(&s, &browser, "risk-supervisor").await;

    let yp = s.young_person().await;
    let conv = open_chat(&s, &yp, "hi").await;
    let row = format!("#queue li[data-conversation-id={}] button", json!(conv.id));
    worker.wait_for(&format!("document.querySelector({}) !== null", json!(row)), "the chat in the queue").await;
    assert_eq!(
        worker.eval(&text(&format!("#queue li[data-conversation-id={}] .console-risk", json!(conv.id)))).await,
        json!("no risk flagged")
    );
    worker.click(&row).await;
    worker.wait_for(&format!("{} === 'no risk flagged'", text("#chat-risk")), "the header, before").await;
    let live_row = format!("#live-chats li[data-conversation-id={}] .console-risk", json!(conv.id));
    sup.wait_for(&format!("{} === 'no risk flagged'", text(&live_row)), "the supervisor's list, before").await;

    // The young person says something that puts them at risk.
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.subscribe(&conv.id, 0).await.unwrap();
    let ack =
        ws.send_message(&conv.id, "r1", "i'm going to kill myself tonight, i've got the rope ready").await.unwrap();
    assert!(matches!(ack, ServerFrame::Ack { .. }), "{ack:?}");
    worker.wait_for(&format!("{} === 'CRITICAL risk'", text("#chat-risk")), "the chat header, live").await;
    worker.wait_for(&format!("{} === 'CRITICAL risk'", text("#mine li .console-risk")), "My chats, live").await;
    sup.wait_for(&format!("{} === 'CRITICAL risk'", text(&live_row)), "the supervisor's list, live").await;
    // Colour and words, at AA contrast, in every badge on both screens.
    for page in [&mut worker, &mut sup] {
        let ratios = page
            .eval(&format!(
                "[...document.querySelectorAll('.console-risk')].map((e) => [e.textContent, {CONTRAST}(e)])"
            ))
            .await;
        for pair in ratios.as_array().unwrap() {
            assert!(pair[1].as_f64().unwrap() >= 4.5, "badge {pair} below AA");
        }
    }
    let bg = worker.eval("getComputedStyle(document.querySelector('#chat-risk .console-risk')).backgroundColor").await;
    assert_eq!(bg, json!("rgb(179, 38, 30)"), "critical is red");

    // The automatic escalation in the supervisor's worklist: which chat, whose, the countdown.
    let item = "#escalations li.console-escalation";
    sup.wait_for(&format!("{}.includes('acknowledge within')", text(item)), "the escalation with its countdown").await;
    let shown = sup.eval(&text(item)).await;
    let shown = shown.as_str().unwrap();
    assert!(
        shown.contains(&conv.young_person.as_ref().unwrap().display_name) && shown.contains("with Test duty_worker"),
        "{shown}"
    );
    assert!(sup.eval("document.title").await.as_str().unwrap().contains("1 escalation"), "in the title too");
    // Its 2 s pass: OVERDUE, in red (not grey), and the banner says so.
    sup.wait_for(&format!("{}.startsWith('OVERDUE by')", text(&format!("{item} .console-deadline"))), "OVERDUE").await;
    let overdue = sup.eval(&format!("(() => {{ const e = document.querySelector('{item} .console-deadline'); return [getComputedStyle(e).backgroundColor, {CONTRAST}(e)]; }})()")).await;
    assert_eq!(overdue[0], json!("rgb(179, 38, 30)"), "{overdue}");
    assert!(overdue[1].as_f64().unwrap() >= 4.5, "{overdue}");
    sup.wait_for(&format!("{}.includes('OVERDUE')", text("#alert-banner")), "the banner says it is overdue").await;
    // Not acknowledged, it goes on up its chain every deadline's length, and each step sounds.
    sup.eval("window.spy = { oscillators: 0 }; const real = AudioContext.prototype.createOscillator; AudioContext.prototype.createOscillator = function () { window.spy.oscillators += 1; return real.call(this); }; true").await;
    sup.wait_for("window.spy.oscillators > 0", "the next step of the chain, heard").await;

    // Open the chat from the item; acknowledge; record an action; resolve.
    sup.click(&format!("{item} button[data-do=open]")).await;
    sup.wait_for(&format!("{}.includes('rope')", text("#messages")), "the chat opened from the escalation").await;
    assert_eq!(
        sup.eval("!document.getElementById('chat-join').hidden && document.getElementById('send-form').hidden").await,
        json!(true),
        "reading until they join"
    );
    sup.click(&format!("{item} button[data-do=acknowledge]")).await;
    sup.wait_for(
        &format!("{}.includes('Acknowledged')", text(&format!("{item} .console-say.info"))),
        "acknowledged, said beside it",
    )
    .await;
    sup.eval(&format!("document.querySelector('{item} form[data-form=action] select').value = 'mash_referral'; true"))
        .await;
    sup.fill_selector(&format!("{item} form[data-form=action] input"), "referred to MASH at 02:14").await;
    sup.eval(&format!("document.querySelector('{item} form[data-form=action]').requestSubmit(); true")).await;
    sup.wait_for(
        &format!("{}.includes('mash referral: referred to MASH')", text(&format!("{item} .actions"))),
        "the action recorded",
    )
    .await;
    sup.fill_selector(&format!("{item} form[data-form=resolve] input"), "safety plan agreed, MASH informed").await;
    sup.eval(&format!("document.querySelector('{item} form[data-form=resolve]').requestSubmit(); true")).await;
    sup.wait_for(
        "document.querySelectorAll('#escalations li.console-escalation').length === 0",
        "resolved, off the list",
    )
    .await;
    let sup_token = s.client.login("risk-supervisor", TEST_PASSWORD).await.unwrap().access_token;
    let query = EscalationListQuery { state: Some("resolved".into()), limit: None, offset: None };
    let resolved = s.client.list_escalations(&sup_token, &query).await.unwrap().escalations;
    assert_eq!(resolved[0].outcome.as_deref(), Some("safety plan agreed, MASH informed"));
    assert_eq!(resolved[0].actions[0].action, "mash_referral");
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn replies_escalations_and_closing_as_a_worker_needs_them() {
    let s = server(|_| {}).await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff_named(Role::DutyWorker, "tools-worker").await;
    let canned = CannedReplyRequest {
        title: "Introduce myself".into(),
        body: "Hi {young_person_name}, I'm {worker_name} from Talk Zone.".into(),
    };
    s.client.create_canned_reply(&admin.access_token, &canned).await.unwrap();
    let browser = Browser::start().await;
    let mut console = console_as(&s, &browser, "tools-worker").await;
    let yp = s.young_person().await;
    let conv = open_chat(&s, &yp, "can i talk to someone").await;
    let name = conv.young_person.as_ref().unwrap().display_name.clone();
    let row = format!("#queue li[data-conversation-id={}] button", json!(conv.id));
    console.wait_for(&format!("document.querySelector({}) !== null", json!(row)), "the chat").await;
    console.click(&row).await;
    console.wait_for("!document.getElementById('canned-row').hidden", "the saved replies").await;

    // A saved reply goes into the box with its variables filled in, for the worker to send.
    console.eval("(() => { const c = document.getElementById('canned'); c.value = c.options[1].value; c.dispatchEvent(new Event('change')); return true; })()").await;
    let filled = console.eval("document.getElementById('text').value").await;
    assert_eq!(filled, json!(format!("Hi {name}, I'm Test duty_worker from Talk Zone.")));
    press(&mut console, Some("#text"), "Enter", "Enter", false, false).await;
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    let (backlog, _) = ws.subscribe(&conv.id, 0).await.unwrap();
    let got = backlog.iter().any(|m| m.body == format!("Hi {name}, I'm Test duty_worker from Talk Zone."));
    if !got {
        ws.recv_until(Duration::from_secs(10), |f| matches!(f, ServerFrame::Message(m) if m.body.starts_with("Hi ")))
            .await
            .expect("the saved reply");
    }

    // Escalating needs a severity: there is no default (it was "critical").
    assert_eq!(console.eval("document.getElementById('severity').value").await, json!(""));
    console.fill("reason", "worried about home").await;
    console.submit("escalate-form").await;
    assert_eq!(console.eval("document.getElementById('severity').validity.valueMissing").await, json!(true));
    let listed = s
        .client
        .list_escalations(
            &s.staff(Role::Supervisor).await.access_token,
            &EscalationListQuery { state: None, limit: None, offset: None },
        )
        .await
        .unwrap();
    assert!(listed.escalations.is_empty(), "nothing raised without a severity");
    console.eval("document.getElementById('severity').value = 'medium'; true").await;
    console.submit("escalate-form").await;
    console
        .wait_for(
            &format!(
                "{}.includes('supervisors have been alerted')",
                text("#escalate-form + .console-say[role=status]")
            ),
            "confirmed beside the form",
        )
        .await;

    // An error stays beside its form, announced, until dismissed.
    let too_many: Vec<String> = (0..30).map(|i| format!("tag{i}")).collect();
    console.fill("tags", &too_many.join(", ")).await;
    console.submit("tags-form").await;
    let said = console.wait_for(&text("#tags-form + .console-say[role=alert]"), "the error beside the tags").await;
    assert!(said.as_str().unwrap().contains("at most 20 tags"), "{said}");
    console.click("#tags-form + .console-say button.dismiss").await;
    assert_eq!(console.eval("document.querySelector('#tags-form + .console-say') === null").await, json!(true));
    console.fill("tags", "school, housing").await;
    console.submit("tags-form").await;
    console.wait_for(&format!("{}.includes('tags: school, housing')", text("#chat-state")), "tags saved").await;

    // Closing asks first; "Cancel" keeps it open; "Yes" closes it, and the tags stay.
    console.eval("document.getElementById('outcome').value = 'signposted'; true").await;
    console.submit("close-form").await;
    console.wait_for("document.querySelector('.console-confirm') !== null", "a confirmation").await;
    assert!(console.eval(&text(".console-confirm p")).await.as_str().unwrap().contains(&name));
    console.click(".console-confirm button[data-confirm=no]").await;
    let open = s.client.conversation(&worker.access_token, &conv.id).await.unwrap();
    assert_eq!(open.state, talkzone_mobile_api::ConversationState::Assigned, "cancel keeps it open");
    console.submit("close-form").await;
    console.click(".console-confirm button[data-confirm=yes]").await;
    console.wait_for(&format!("{}.startsWith('closed')", text("#chat-state")), "closed").await;
    let closed = s.client.conversation(&worker.access_token, &conv.id).await.unwrap();
    assert_eq!(
        (closed.outcome.as_deref(), closed.tags),
        (Some("signposted"), vec!["school".to_owned(), "housing".to_owned()]),
        "closing kept the tags"
    );
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn earlier_chats_unread_counts_and_the_next_chat() {
    let s = server(|_| {}).await;
    let worker = s.staff_named(Role::DutyWorker, "cont-worker").await;
    let yp = s.young_person().await;
    // An earlier chat of theirs, closed with an outcome and tags.
    let before = open_chat(&s, &yp, "last week").await;
    s.client.accept(&worker.access_token, &before.id).await.unwrap();
    s.client.set_tags(&worker.access_token, &before.id, &TagsRequest { tags: vec!["exclusion".into()] }).await.unwrap();
    s.client
        .close_conversation(
            &worker.access_token,
            &before.id,
            &CloseRequest { outcome: "referred_to_service".into(), tags: vec![] },
        )
        .await
        .unwrap();
    let now = open_chat(&s, &yp, "it's me again").await;
    let other = s.young_person().await;
    let second = open_chat(&s, &other, "hello").await;
    s.client.accept(&worker.access_token, &now.id).await.unwrap();
    s.client.accept(&worker.access_token, &second.id).await.unwrap();

    let browser = Browser::start().await;
    let mut console = console_as(&s, &browser, "cont-worker").await;
    console.wait_for("document.querySelectorAll('#mine li').length === 2", "both chats").await;
    console.click(&format!("#mine li[data-conversation-id={}] button", json!(now.id))).await;
    let earlier = console
        .wait_for(
            &format!("!document.getElementById('earlier').hidden && {}", text("#earlier-list")),
            "their earlier chats",
        )
        .await;
    let earlier = earlier.as_str().unwrap();
    assert!(earlier.contains("referred to service") && earlier.contains("tags: exclusion"), "{earlier}");
    assert_eq!(console.eval("document.getElementById('earlier').open").await, json!(true));

    // The other young person writes while the worker is on this chat: counted as new on theirs.
    let mut ws = s.client.connect(&other.access_token).await.unwrap();
    ws.subscribe(&second.id, 0).await.unwrap();
    ws.send_message(&second.id, "o1", "are you there").await.unwrap();
    ws.send_message(&second.id, "o2", "hello??").await.unwrap();
    let unread = format!("#mine li[data-conversation-id={}] .console-unread", json!(second.id));
    // Three: their first message too, which nobody has answered yet.
    console.wait_for(&format!("{} === '3 new'", text(&unread)), "new messages on the other chat").await;
    console.wait_for("document.title.includes('3 new')", "and in the title").await;
    // Alt+N goes to it, and they are read.
    press(&mut console, None, "n", "KeyN", true, false).await;
    console
        .wait_for(&format!("{}.includes('hello??')", text("#messages")), "Alt+N opened the chat with new messages")
        .await;
    assert_eq!(console.eval(&format!("document.querySelector({}) === null", json!(unread))).await, json!(true));
    assert!(!console.eval("document.title").await.as_str().unwrap().contains("new"));
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_joined_supervisor_sees_the_close_and_moderation_items_have_context() {
    let s = server(|_| {}).await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff(Role::DutyWorker).await;
    s.staff_named(Role::Supervisor, "ctx-supervisor").await;
    let yp = s.young_person().await;
    let conv = open_chat(&s, &yp, "hello").await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let browser = Browser::start().await;
    let mut sup = console_as(&s, &browser, "ctx-supervisor").await;
    let join = format!("#live-chats li[data-conversation-id={}] button[data-do=join]", json!(conv.id));
    sup.wait_for(&format!("document.querySelector({}) !== null", json!(join)), "the live chat").await;
    sup.click(&join).await;
    // Joined once the join has been answered: the chat is on screen, open, with no "Join" left
    // (the composer alone is no sign: it is not hidden on its own, and closing the chat before
    // the join's answer would refuse the join).
    sup.wait_for(
        &format!(
            "!document.getElementById('chat').hidden && document.getElementById('chat-join').hidden && {}.startsWith('assigned')",
            text("#chat-state")
        ),
        "joined, writing",
    )
    .await;
    s.client
        .close_conversation(&worker.access_token, &conv.id, &CloseRequest { outcome: "resolved".into(), tags: vec![] })
        .await
        .unwrap();
    sup.wait_for(&format!("{}.startsWith('closed')", text("#chat-state")), "the supervisor sees it closed").await;
    assert_eq!(sup.eval("document.getElementById('send-form').hidden").await, json!(true));

    // A report in a room: its room, the messages around it, how long it has waited.
    let room = CreateRoomRequest {
        topic: "Football".into(),
        age_band: "13-15".into(),
        moderation: RoomModeration::Post,
        personal_info: PersonalInfoMode::Hold,
    };
    let room = s.client.create_room(&admin.access_token, &room).await.unwrap();
    let (a, b) = (s.young_person().await, s.young_person().await);
    for p in [&a, &b] {
        s.client.join_room(&p.access_token, &room.id).await.unwrap();
    }
    let mut ws = s.client.connect(&a.access_token).await.unwrap();
    ws.subscribe(&room.id, 0).await.unwrap();
    let mut reported = None;
    for (i, t) in ["who plays saturday", "i think that pass was offside", "anyway see you"].iter().enumerate() {
        if let ServerFrame::Ack { message_id, .. } = ws.send_message(&room.id, &format!("f{i}"), t).await.unwrap() {
            if i == 1 {
                reported = Some(message_id);
            }
        }
    }
    let report = ReportRequest { message_id: reported, user_id: None, reason: "unkind".into() };
    s.client.create_report(&b.access_token, &report).await.unwrap();
    let item = "#moderation-items li.console-moderation";
    sup.wait_for(&format!("{}.includes('in Football')", text(item)), "the item with its room").await;
    let ctx = sup
        .wait_for(
            &format!(
                "{}.includes('anyway see you') && {}",
                text(&format!("{item} .console-context")),
                text(&format!("{item} .console-context"))
            ),
            "the messages around it",
        )
        .await;
    assert!(ctx.as_str().unwrap().contains("who plays saturday"), "{ctx}");
    assert_eq!(
        sup.eval(&text(&format!("{item} .console-context li.this .body"))).await,
        json!("i think that pass was offside")
    );
    assert!(sup.eval(&text(&format!("{item} .console-waited"))).await.as_str().unwrap().starts_with("waiting "));
    browser.stop().await;
    s.stop().await;
}

/// The console on a busy night, at a phone's size and a laptop's: nothing runs off the side,
/// and (with `TALKZONE_SCREENSHOT_DIR`) screenshots to look at.
#[tokio::test]
async fn the_console_on_a_busy_night_at_phone_and_laptop_sizes() {
    // A high escalation's 10 minutes pass in 1 s: the worklist shows it OVERDUE.
    let s = server(|c| c.desk.escalation_high = Duration::from_secs(1)).await;
    s.staff_named(Role::DutyWorker, "night-worker").await;
    let sup_token = s.staff_named(Role::Supervisor, "night-supervisor").await;
    let dir = std::env::var_os("TALKZONE_SCREENSHOT_DIR").map(std::path::PathBuf::from);
    let browser = Browser::start().await;
    let mut worker = console_as(&s, &browser, "night-worker").await;
    worker.click("#duty").await;
    let mut people = Vec::new();
    for first in [
        "i dont feel safe at home",
        "I've been kicked out and have nowhere to stay, my phone is on 5%",
        "can you help with a school exclusion appeal",
        "hi",
    ] {
        let yp = s.young_person().await;
        people.push((open_chat(&s, &yp, first).await, yp));
    }
    let mut yp_ws = s.client.connect(&people[1].1.access_token).await.unwrap();
    yp_ws.subscribe(&people[1].0.id, 0).await.unwrap();
    yp_ws.send_message(&people[1].0.id, "n1", "honestly i just want to end it").await.unwrap();
    worker.wait_for("document.querySelectorAll('#queue li').length === 4", "four waiting").await;
    let shot = |name: &str| dir.as_ref().map(|d| d.join(name));
    for (w, h, mobile, tag) in [(390, 844, true, "phone"), (1366, 768, false, "laptop")] {
        worker.set_viewport(w, h, mobile).await;
        let overflow = worker.eval("document.documentElement.scrollWidth - innerWidth").await;
        assert!(overflow.as_f64().unwrap() <= 0.0, "{tag}: the queue runs {overflow}px off the side");
        if let Some(p) = shot(&format!("console-queue-{tag}.png")) {
            worker.screenshot(&p).await;
        }
    }
    // The worker takes the most urgent chat.
    worker.click("#alert-banner button[data-do=accept-next]").await;
    worker.wait_for(&format!("{}.includes('end it')", text("#messages")), "the most urgent chat").await;
    worker.fill("text", "Hi, I'm here with you. Are you safe right now?").await;
    for (w, h, mobile, tag) in [(390, 844, true, "phone"), (1366, 768, false, "laptop")] {
        worker.set_viewport(w, h, mobile).await;
        worker.eval("document.getElementById('chat').scrollIntoView(); true").await;
        let overflow = worker.eval("document.documentElement.scrollWidth - innerWidth").await;
        assert!(overflow.as_f64().unwrap() <= 0.0, "{tag}: the chat runs {overflow}px off the side");
        if let Some(p) = shot(&format!("console-chat-{tag}.png")) {
            worker.screenshot(&p).await;
        }
    }
    let mut sup = console_as(&s, &browser, "night-supervisor").await;
    sup.wait_for(
        &format!("{}.startsWith('OVERDUE')", text("#escalations .console-deadline")),
        "the escalation, overdue",
    )
    .await;
    for (w, h, mobile, tag) in [(390, 844, true, "phone"), (1366, 768, false, "laptop")] {
        sup.set_viewport(w, h, mobile).await;
        sup.eval("document.getElementById('escalations-section').scrollIntoView(); true").await;
        let overflow = sup.eval("document.documentElement.scrollWidth - innerWidth").await;
        assert!(overflow.as_f64().unwrap() <= 0.0, "{tag}: the worklist runs {overflow}px off the side");
        if let Some(p) = shot(&format!("console-escalation-{tag}.png")) {
            sup.screenshot(&p).await;
        }
    }
    drop(sup_token);
    browser.stop().await;
    s.stop().await;
}
