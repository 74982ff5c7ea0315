//! The young person's web chat, in a real browser at a phone's size (390 x 844), with what it
//! promises a child: an honest wait from the rota; the quick exit and help always on screen
//! (after a scroll, with the keyboard open or the page zoomed), Esc as the quick exit, no
//! history left and no chat left waiting; crisis numbers as large tap targets; topic buttons;
//! an alert when a worker joins or writes while the tab is hidden; "End chat" (the worker is
//! told); no error after a normal close; a room's house rules; a rejected room message said so.
//! axe-core checks every state these tests reach (`talkzone_tests::a11y`).

use serde_json::json;
use talkzone_mobile_api::{
    ClientFrame, CloseRequest, ConversationState, CreateRoomRequest, DecisionRequest, ModerationAction,
    PersonalInfoMode, Role, RoomModeration, ServerFrame, ShiftRequest,
};
use talkzone_server::clock::rfc3339;
use talkzone_tests::a11y::{axe, press, screenshot, viewport};
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::TestServer;

const T: std::time::Duration = std::time::Duration::from_secs(10);

/// A server on a port known before it starts, so that its own origin is the allowed one.
async fn server() -> TestServer {
    TestServer::builder(talkzone_tests::Backend::Sqlite).own_origin().start().await
}

/// The chat page on a phone.
async fn phone(browser: &Browser, s: &TestServer) -> Page {
    let mut page = browser.open(&format!("{}/", s.base)).await;
    viewport(&mut page, 390, 844).await;
    page
}

fn status_has(text: &str) -> String {
    format!("document.getElementById('status').textContent.includes({})", json!(text))
}

/// Starts a chat from the page (with `topic`'s button pressed, if any) and acknowledges the
/// monitoring notice; returns the chat's id.
async fn start_chat(page: &mut Page, topic: Option<&str>, first: &str) -> String {
    if let Some(t) = topic {
        page.click(&format!("#topics button[data-topic={}]", json!(t))).await;
    }
    page.fill("first", first).await;
    page.submit("start-form").await;
    page.wait_for("!document.getElementById('chat').hidden", "the chat").await;
    page.wait_for("!document.getElementById('notice').hidden", "the monitoring notice").await;
    page.click("#notice-ok").await;
    page.wait_for("document.getElementById('notice').hidden", "the notice acknowledged").await;
    page.wait_for("document.getElementById('status').dataset.connection === 'connected'", "connected").await;
    let id = page.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).extra.conversation_id").await;
    id.as_str().expect("the chat's id").to_owned()
}

/// Whether the element `selector` finds is wholly inside what the screen shows (the visual
/// viewport, in the layout viewport's coordinates that `getBoundingClientRect` uses).
fn on_screen(selector: &str) -> String {
    format!(
        "(() => {{ const r = document.querySelector({}).getBoundingClientRect(); const v = window.visualViewport; \
         const eps = 1; return r.width > 0 && r.top >= v.offsetTop - eps && r.left >= v.offsetLeft - eps \
         && r.bottom <= v.offsetTop + v.height + eps && r.right <= v.offsetLeft + v.width + eps; }})()",
        json!(selector)
    )
}

#[tokio::test]
async fn nobody_on_duty_is_said_with_the_next_shift_and_the_wait_turns_live() {
    let s = server().await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff(Role::DutyWorker).await;
    let now = s.state().clock.now_ms();
    let shift = ShiftRequest {
        user_id: worker.user.id.clone(),
        starts_at: rfc3339(now + 12 * 3_600_000 + 60_000),
        ends_at: rfc3339(now + 20 * 3_600_000),
    };
    s.client.add_shift(&admin.access_token, &shift).await.unwrap();
    let browser = Browser::start().await;
    let mut page = phone(&browser, &s).await;
    axe(&mut page, "the start page").await;
    screenshot(&mut page, "chat-1-start").await;

    let id = start_chat(&mut page, Some("home and family"), "I can't stay at home tonight").await;
    let said = page.wait_for(&status_has("Nobody is on duty until"), "the honest wait").await;
    let status = page.eval("document.getElementById('status').textContent").await;
    let status = status.as_str().unwrap_or_default().to_owned();
    assert!(said == json!(true) && status.contains("in 12 hours") && status.contains("leave a message"), "{status}");
    assert!(!status.contains("min"), "no minute count with nobody on duty: {status}");
    axe(&mut page, "queued with nobody on duty").await;
    screenshot(&mut page, "chat-2-queued-nobody-on-duty").await;
    let conv = s.client.conversation(&admin.access_token, &talkzone_mobile_api::ConversationId(id.clone())).await;
    // An admin may not read chats; the topic is checked as the worker sees the queue.
    assert!(conv.is_err());
    let queue = s.client.list_conversations(&worker.access_token, Some(ConversationState::Queued)).await.unwrap();
    let mine = queue.conversations.iter().find(|c| c.id.as_str() == id).expect("in the queue");
    assert_eq!(mine.topic.as_deref(), Some("home and family"), "the topic button's topic");

    // The worker connects and comes on duty: the page says so without a reload.
    let mut desk = s.client.connect(&worker.access_token).await.unwrap();
    desk.round_trip().await.unwrap();
    s.client.set_duty(&worker.access_token, true).await.unwrap();
    page.wait_for(&status_has("You're number 1 in the queue. A worker will be with you soon"), "the live wait").await;
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn the_quick_exit_stays_on_screen_answers_esc_and_leaves_nothing_waiting() {
    let s = server().await;
    let worker = s.staff(Role::DutyWorker).await;
    let browser = Browser::start().await;
    let mut page = phone(&browser, &s).await;

    // Crisis numbers: each a tap target of at least 44 x 44 px.
    let sizes = page.eval("[...document.querySelectorAll('.crisis a')].map((a) => { const r = a.getBoundingClientRect(); return [a.textContent, r.width, r.height]; })").await;
    let sizes = sizes.as_array().expect("the numbers").clone();
    assert_eq!(sizes.len(), 4, "{sizes:?}");
    for s in &sizes {
        assert!(s[1].as_f64() >= Some(44.0) && s[2].as_f64() >= Some(44.0), "a tap target of 44 x 44 px or more: {s}");
    }
    // The hint for the key is on the page.
    let hint = page.eval("document.getElementById('exit-hint').textContent").await;
    assert!(hint.as_str().is_some_and(|h| h.contains("Esc")), "{hint}");

    // After a scroll, the quick exit and help are still on screen, and help opens over the page.
    page.eval("window.scrollTo(0, document.documentElement.scrollHeight)").await;
    page.wait_for("window.scrollY > 100", "the page scrolled").await;
    assert_eq!(page.eval(&on_screen("#quick-exit")).await, json!(true), "quick exit on screen after a scroll");
    assert_eq!(page.eval(&on_screen("#help-now")).await, json!(true), "help on screen after a scroll");
    screenshot(&mut page, "chat-3-start-scrolled").await;
    page.click("#help-now").await;
    page.wait_for(&on_screen(".crisis li:last-child a"), "the numbers over the page").await;
    axe(&mut page, "help open over the page").await;
    screenshot(&mut page, "chat-4-help-open").await;
    page.click("#help-now").await;
    page.eval("window.scrollTo(0, 0)").await;

    let id = start_chat(&mut page, None, "someone might come in").await;
    let conv_id = talkzone_mobile_api::ConversationId(id.clone());
    // The keyboard open (the layout viewport shrinks, as on Android) ...
    page.click("#text").await;
    viewport(&mut page, 390, 420).await;
    page.wait_for("window.innerHeight < 500", "the smaller viewport").await;
    assert_eq!(page.eval(&on_screen("#quick-exit")).await, json!(true), "quick exit with the keyboard open");
    screenshot(&mut page, "chat-5-keyboard-open").await;
    // ... or the page zoomed, where only part of it is on screen (as with iOS's keyboard):
    // the bar follows the visual viewport.
    page.call("Emulation.setPageScaleFactor", json!({"pageScaleFactor": 2})).await;
    page.wait_for("window.visualViewport.scale > 1.5", "the page zoomed").await;
    page.wait_for(&on_screen("#quick-exit"), "quick exit inside the zoomed view").await;
    page.call("Emulation.setPageScaleFactor", json!({"pageScaleFactor": 1})).await;
    viewport(&mut page, 390, 844).await;

    // Esc, with the focus in the message box: away, with nothing to come back to.
    let before = page.eval("history.length").await;
    page.eval("document.getElementById('text').focus()").await;
    press(&mut page, "Escape").await;
    // A queued chat any worker could read; ended, it is no longer theirs to read.
    talkzone_tests::eventually(T, "the quick exit to end the waiting chat", || async {
        s.client.conversation(&worker.access_token, &conv_id).await.err()
    })
    .await;
    let ended = s.client.list_conversations(&worker.access_token, Some(ConversationState::Queued)).await.unwrap();
    assert!(ended.conversations.iter().all(|c| c.id.as_str() != id), "no chat left waiting with nobody there");
    page.wait_for("!location.href.startsWith('http://127.0.0.1')", "the page left").await;
    assert_eq!(page.eval("history.length").await, before, "no history entry to go back to");
    page.call("Page.navigate", json!({"url": format!("{}/", s.base)})).await;
    page.wait_for("location.href.startsWith('http://127.0.0.1') && document.readyState === 'complete'", "back").await;
    page.wait_for("document.getElementById('start') && !document.getElementById('start').hidden", "the start").await;
    assert_eq!(page.eval("sessionStorage.getItem('talkzone.chat')").await, json!(null), "the session is forgotten");
    assert_eq!(page.eval("document.getElementById('chat').hidden").await, json!(true), "no chat comes back");
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_worker_joining_and_writing_alerts_a_hidden_tab_and_end_chat_tells_the_worker() {
    let s = server().await;
    let worker = s.staff(Role::DutyWorker).await;
    let browser = Browser::start().await;
    let mut page = phone(&browser, &s).await;
    let id = start_chat(&mut page, Some("staying safe"), "are you there").await;
    let conv_id = talkzone_mobile_api::ConversationId(id.clone());

    // The tab is hidden (another app in front): a buzz and the title tell them a worker came.
    page.eval(
        "window.buzzes = 0; navigator.vibrate = () => { window.buzzes += 1; return true; }; \
         Object.defineProperty(document, 'hidden', {configurable: true, get: () => true}); \
         Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'}); \
         document.dispatchEvent(new Event('visibilitychange')); true",
    )
    .await;
    s.client.accept(&worker.access_token, &conv_id).await.unwrap();
    page.wait_for("document.title.startsWith('(1) A worker has joined')", "the title says a worker joined").await;
    let mut ws = s.client.connect(&worker.access_token).await.unwrap();
    ws.subscribe(&conv_id, 0).await.unwrap();
    ws.send_message(&conv_id, "w-1", "Hi, I'm here. Are you safe right now?").await.unwrap();
    page.wait_for("document.title.startsWith('(2) New message')", "the title counts a new message").await;
    let title = page.eval("document.title").await;
    assert!(!title.as_str().unwrap_or("").contains("safe"), "what was written never shows in the title: {title}");
    assert_eq!(page.eval("window.buzzes").await, json!(2), "a buzz for each");
    page.eval(
        "delete document.hidden; delete document.visibilityState; \
         Object.defineProperty(document, 'hidden', {configurable: true, get: () => false}); \
         document.dispatchEvent(new Event('visibilitychange')); true",
    )
    .await;
    page.wait_for("document.title === 'Talk Zone'", "the title back once they look").await;
    page.wait_for(&status_has("talking to"), "talking").await;
    // Enough messages for the list to scroll.
    for i in 0..12 {
        ws.send_message(&conv_id, &format!("w-more-{i}"), &format!("message number {i}, to make the chat long"))
            .await
            .unwrap();
    }
    page.wait_for("document.querySelectorAll('#messages li').length >= 15", "a long chat").await;
    axe(&mut page, "chatting").await;
    screenshot(&mut page, "chat-6-chatting").await;
    page.eval("window.scrollTo(0, document.documentElement.scrollHeight)").await;
    assert_eq!(page.eval(&on_screen("#quick-exit")).await, json!(true), "quick exit while chatting, scrolled");
    screenshot(&mut page, "chat-7-chatting-scrolled").await;

    page.click("#end-chat").await;
    page.wait_for("!document.getElementById('end-confirm').hidden", "are you sure").await;
    axe(&mut page, "ending, asked to confirm").await;
    page.click("#end-yes").await;
    page.wait_for(&status_has("You ended this chat"), "ended").await;
    let told = ws.recv_until(T, |f| matches!(f, ServerFrame::Message(m) if m.body.contains("ended the chat"))).await;
    assert!(told.is_ok(), "the worker reads that the young person ended it");
    // The page marks the closing message read, and that is no error.
    let read = ws.recv_until(T, |f| matches!(f, ServerFrame::Read { .. })).await;
    assert!(read.is_ok(), "the read marker after the end is taken: {read:?}");
    assert_eq!(page.eval("document.getElementById('error').hidden").await, json!(true), "no error shown");
    assert_eq!(page.eval("document.getElementById('send-form').hidden").await, json!(true));
    axe(&mut page, "ended by the young person").await;
    screenshot(&mut page, "chat-8-ended").await;
    let record = s.client.conversation(&worker.access_token, &conv_id).await.unwrap();
    assert_eq!(record.outcome.as_deref(), Some("young_person_left"));
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_normal_close_shows_no_error() {
    let s = server().await;
    let worker = s.staff(Role::DutyWorker).await;
    let browser = Browser::start().await;
    let mut page = phone(&browser, &s).await;
    let id = start_chat(&mut page, None, "hello").await;
    let conv_id = talkzone_mobile_api::ConversationId(id);
    s.client.accept(&worker.access_token, &conv_id).await.unwrap();
    let mut ws = s.client.connect(&worker.access_token).await.unwrap();
    ws.subscribe(&conv_id, 0).await.unwrap();
    page.wait_for(&status_has("talking to"), "talking").await;
    let close = CloseRequest { outcome: "resolved".into(), tags: vec!["school".into()] };
    let closed = s.client.close_conversation(&worker.access_token, &conv_id, &close).await.unwrap();
    page.wait_for(&status_has("This chat has ended"), "ended").await;
    let read = ws.recv_until(T, |f| matches!(f, ServerFrame::Read { seq, .. } if *seq == closed.last_seq)).await;
    assert!(read.is_ok(), "the closing message, marked read without an error: {read:?}");
    ws.send(&ClientFrame::Ping { nonce: None }).await.unwrap();
    ws.recv_until(T, |f| matches!(f, ServerFrame::Pong { .. })).await.unwrap();
    let error =
        page.eval("[document.getElementById('error').hidden, document.getElementById('error').textContent]").await;
    assert_eq!(error[0], json!(true), "no red error after a normal close: {error}");
    assert_eq!(page.eval("document.getElementById('end-chat').hidden").await, json!(true), "nothing to end");
    axe(&mut page, "closed by the worker").await;
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_room_shows_its_rules_and_says_when_a_message_was_not_shared() {
    let s = server().await;
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let moderator = s.staff(Role::Moderator).await.access_token;
    let req = CreateRoomRequest {
        topic: "Exams".into(),
        age_band: "13-15".into(),
        moderation: RoomModeration::Pre,
        personal_info: PersonalInfoMode::Hold,
    };
    let room = s.client.create_room(&admin, &req).await.unwrap();
    let browser = Browser::start().await;
    let mut page = phone(&browser, &s).await;
    page.click("#show-rooms").await;
    let join = format!("#rooms li[data-room-id={}] button", json!(room.id));
    page.wait_for(&format!("document.querySelector({}) !== null", json!(join)), "the room listed").await;
    page.click(&join).await;
    let rules = page
        .wait_for(
            "!document.getElementById('rules').hidden && document.getElementById('rules-list').textContent",
            "the house rules",
        )
        .await;
    assert!(rules.as_str().is_some_and(|r| r.contains("13-15") && r.contains("before others see it")), "{rules}");
    axe(&mut page, "a room's rules on joining").await;
    screenshot(&mut page, "chat-9-room-rules").await;
    page.click("#rules-ok").await;
    page.wait_for("document.getElementById('status').dataset.connection === 'connected'", "connected").await;

    page.fill("text", "does anyone else panic before maths").await;
    page.submit("send-form").await;
    page.wait_for("[...document.querySelectorAll('#messages li.mine .meta')].some((m) => m.textContent.includes('waiting for a moderator'))", "held").await;
    let queue = s.client.moderation_queue(&moderator).await.unwrap();
    let item = queue.items.iter().find(|i| i.kind == "hold").expect("the held message");
    s.client.claim_item(&moderator, &item.id).await.unwrap();
    let reject = DecisionRequest { action: ModerationAction::Reject, reason: "off topic".into(), body: None };
    s.client.decide_item(&moderator, &item.id, &reject).await.unwrap();
    page.wait_for("[...document.querySelectorAll('#messages li.rejected .meta')].some((m) => m.textContent.includes('not shared'))", "the rejection on the message").await;
    let waiting = page.eval("[...document.querySelectorAll('#messages .meta')].some((m) => m.textContent.includes('waiting for a moderator'))").await;
    assert_eq!(waiting, json!(false), "no longer waiting for ever");
    axe(&mut page, "a room message not shared").await;
    screenshot(&mut page, "chat-10-room-rejected").await;
    page.click("#show-rules").await;
    page.wait_for("!document.getElementById('rules').hidden", "the rules again").await;
    browser.stop().await;
    s.stop().await;
}
