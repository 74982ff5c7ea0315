//! The web pages, in a real browser (headless chromium), against a real server:
//!
//! - the web chat and the console together: the queue updating without a refresh; markup a
//!   young person typed shown as text in both pages, running nothing; talking and typing both
//!   ways; a dropped connection resumed with every message once, in order; a service card,
//!   tags, notes and an escalation (live in a supervisor's console, who joins the chat), none of
//!   the staff record on the young person's page; closing, and starting again;
//! - a parent's access code, and a young person's feedback when a chat closes;
//! - a moderator's queue (a held message approved, its sender muted); group chats and a report;
//! - in both pages, a message lost on its way (a `seq` gap) re-read, and a connection dropped
//!   with an own message not yet acknowledged: resumed, sent again, everything once and in order;
//! - a young person's data rights (the export, deletion); a transfer to a colleague;
//! - the admin page (accounts, rota, directory, rooms, moderation rules, reports, audit log);
//! - the pages' security headers, and that they hold no inline script for a policy to allow.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use talkzone_mobile_api::{
    AckStatus, AssignmentListQuery, AssignmentRespondent, AssignmentStatus, AuditQuery, CloseRequest, ConversationView,
    CreateAssignmentRequest, CreateParticipantRequest, CreateRoomRequest, DistanceQuery, LookedAfter, PersonalInfoMode,
    Role, RoomModeration, RotaQuery, ServerFrame, ServiceRequest, ServiceSearchQuery, StaffAssignmentView,
    SubmitSurveyRequest, SurveyAnswer, SurveyDefinition, SurveyStage,
};
use talkzone_tests::a11y::axe;
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::{TestServer, TEST_PASSWORD};

/// A server on a port known before it starts, so that its own origin is the allowed one (as
/// `talkzone serve` allows by default).
async fn server() -> TestServer {
    TestServer::builder(talkzone_tests::Backend::Sqlite).own_origin().start().await
}

/// What the page shows in `selector`'s elements, joined by new lines.
fn texts(selector: &str) -> String {
    format!("[...document.querySelectorAll({})].map((e) => e.textContent).join('\\n')", json!(selector))
}

async fn sign_in(console: &mut Page, username: &str) {
    console.fill("username", username).await;
    console.fill("password", TEST_PASSWORD).await;
    console.submit("login-form").await;
    let live =
        "!document.getElementById('desk').hidden && document.getElementById('connection').textContent === 'live'";
    console.wait_for(live, "the desk, live").await;
}

const MARKUP: &str = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script> can someone help";

async fn nothing_ran(page: &mut Page, what: &str) {
    let found =
        page.eval("[typeof window.pwned, document.querySelectorAll('#messages img, #messages script').length]").await;
    assert_eq!(found, json!(["undefined", 0]), "{what}: markup from a message became part of the page");
}

#[tokio::test]
async fn a_young_person_and_a_worker_chat_through_the_pages() {
    let s = server().await;
    let base = s.base.clone();
    s.staff_named(Role::DutyWorker, "web-worker").await;
    let supervisor = s.staff_named(Role::Supervisor, "web-supervisor").await;
    let browser = Browser::start().await;

    // The worker signs in and goes on duty; the queue is empty.
    let mut console = browser.open(&format!("{base}/console")).await;
    sign_in(&mut console, "web-worker").await;
    console.click("#duty").await;
    console.wait_for("document.getElementById('duty').textContent === 'Go off duty'", "on duty").await;
    console
        .wait_for("document.getElementById('queue-count').textContent.includes('nobody waiting')", "an empty queue")
        .await;

    // A young person starts a chat on the website, with markup in the first message.
    let mut chat = browser.open(&format!("{base}/")).await;
    let help = chat.eval("document.querySelector('.help').textContent").await;
    for number in ["999", "0800 1111", "116 123", "85258"] {
        assert!(help.as_str().is_some_and(|h| h.contains(number)), "help right now, always on screen: {help}");
    }
    chat.fill("first", MARKUP).await;
    chat.submit("start-form").await;
    chat.wait_for("!document.getElementById('chat').hidden", "the chat").await;
    let notice = chat
        .wait_for(
            "!document.getElementById('notice').hidden && document.getElementById('notice-text').textContent",
            "the monitoring notice",
        )
        .await;
    assert!(notice.as_str().is_some_and(|n| n.contains("supervisor")), "{notice}");
    chat.click("#notice-ok").await;
    chat.wait_for("document.getElementById('notice').hidden", "the notice acknowledged").await;
    chat.wait_for(&format!("{}.includes('can someone help')", texts("#messages li")), "their first message").await;
    chat.wait_for("document.getElementById('status').textContent.includes('in the queue')", "their place in the queue")
        .await;
    let conv_id = chat.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).extra.conversation_id").await;
    let conv_id = conv_id.as_str().expect("the chat's id").to_owned();

    // The console shows it without a refresh, and the worker accepts it.
    let in_queue = format!("#queue li[data-conversation-id={}] button", json!(conv_id));
    console
        .wait_for(&format!("document.querySelector({}) !== null", json!(in_queue)), "the new chat in the queue, live")
        .await;
    console.click(&in_queue).await;
    console
        .wait_for(
            &format!("{}.includes('can someone help')", texts("#messages li")),
            "the young person's message in the console",
        )
        .await;
    let shown = console.eval(&texts("#messages li .body")).await;
    assert!(
        shown.as_str().is_some_and(|t| t.contains("<script>window.pwned=2</script>")),
        "markup shows as the text it is: {shown}"
    );
    nothing_ran(&mut console, "the console").await;
    nothing_ran(&mut chat, "the web chat").await;
    chat.wait_for(
        "document.getElementById('status').textContent.includes('talking to Test duty_worker')",
        "who they are talking to",
    )
    .await;

    // They talk both ways, and each sees the other typing.
    chat.fill("text", "I").await;
    console.wait_for("!document.getElementById('typing').hidden && document.getElementById('typing').textContent.includes('typing')", "the young person typing").await;
    chat.fill("text", "").await;
    console.fill("text", "Hi, I'm here. What's happening?").await;
    chat.wait_for("!document.getElementById('typing').hidden && document.getElementById('typing').textContent.includes('Test duty_worker is typing')", "the worker typing").await;
    console.submit("send-form").await;
    chat.wait_for(&format!("{}.includes(\"Hi, I'm here.\")", texts("#messages li.theirs")), "the worker's reply").await;
    chat.fill("text", "my stepdad shouts at me").await;
    chat.submit("send-form").await;
    chat.wait_for(&format!("{}.includes('sent')", texts("#messages li.mine .meta")), "their message acknowledged")
        .await;
    console
        .wait_for(
            &format!("{}.includes('my stepdad shouts at me')", texts("#messages li.theirs")),
            "the reply in the console",
        )
        .await;

    // The worker shares a local service from the directory; it arrives as a card, its markup
    // as text and its address as a link.
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let service = ServiceRequest {
        name: "Safe Spaces <b>Youth</b>".into(),
        category: "health".into(),
        description: "Someone to talk to about home".into(),
        area: None,
        phone: Some("08001234567".into()),
        url: Some("https://example.org/safe".into()),
        hours: None,
        min_age: None,
        max_age: None,
    };
    s.client.create_service(&admin, &service).await.expect("a directory entry");
    console.fill("service-q", "safe spaces").await;
    console.submit("service-form").await;
    console.wait_for("document.querySelector('#services li button') !== null", "the directory's answer").await;
    console.click("#services li button").await;
    let card = chat
        .wait_for("document.querySelector('#messages .card strong')?.textContent", "the card in the web chat")
        .await;
    assert_eq!(card, json!("Safe Spaces <b>Youth</b>"));
    assert_eq!(
        chat.eval("document.querySelector('#messages .card a[href^=https]').href").await,
        json!("https://example.org/safe")
    );
    nothing_ran(&mut chat, "the web chat, with a card").await;

    // The young person's connection drops (the server asks it to reconnect and resume): what
    // the worker sends meanwhile arrives once each, in order, without a reload.
    let yp_id = chat.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).user.id").await;
    let yp_id = talkzone_mobile_api::UserId(yp_id.as_str().expect("their id").to_owned());
    s.state().hub.drop_connections_of(&yp_id);
    for text in ["first while you were away", "second while you were away"] {
        console.fill("text", text).await;
        console.submit("send-form").await;
    }
    chat.wait_for(
        &format!("{}.includes('second while you were away')", texts("#messages li.theirs")),
        "the messages sent while away",
    )
    .await;
    chat.wait_for("document.getElementById('status').dataset.connection === 'connected'", "connected again").await;

    // Every message the server stored is on both screens once, in order.
    let stored = s
        .client
        .messages(&supervisor.access_token, &talkzone_mobile_api::ConversationId(conv_id.clone()), 0, None)
        .await
        .expect("history")
        .messages;
    let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
    console
        .wait_for("document.querySelectorAll('#messages li.pending').length === 0", "the worker's messages stored")
        .await;
    let console_seqs =
        console.eval("[...document.querySelectorAll('#messages li')].map((e) => Number(e.dataset.seq))").await;
    assert_eq!(console_seqs, json!(seqs), "the console shows each stored message once, in order");
    let chat_seqs =
        chat.eval("[...document.querySelectorAll('#messages li')].map((e) => Number(e.dataset.seq || 0))").await;
    assert_eq!(chat_seqs, json!(seqs), "the web chat too (its own messages included)");

    // The worker escalates from the console; a supervisor's console shows it at once and
    // acknowledges it. A private note stays on the staff side.
    let mut sup_console = browser.open(&format!("{base}/console")).await;
    sign_in(&mut sup_console, "web-supervisor").await;
    console.eval("document.getElementById('severity').value = 'critical'").await;
    console.fill("reason", "says his stepdad threatened him with a knife").await;
    console.submit("escalate-form").await;
    let raised = format!("{}.includes('threatened him with a knife')", texts("#escalations li"));
    sup_console.wait_for(&raised, "the escalation in the supervisor's console, live").await;
    let knife = "[...document.querySelectorAll('#escalations li')].find((li) => li.textContent.includes('knife'))";
    sup_console.eval(&format!("{knife}.querySelector('button[data-do=acknowledge]').click()")).await;
    sup_console.wait_for(&format!("{knife}.textContent.includes('acknowledged')"), "the escalation acknowledged").await;
    // The supervisor sees the chat among all live chats, joins it and writes in it.
    let join = format!("#live-chats li[data-conversation-id={}] button[data-do=join]", json!(conv_id));
    sup_console
        .wait_for(&format!("document.querySelector({}) !== null", json!(join)), "the chat among all live chats")
        .await;
    sup_console.click(&join).await;
    sup_console
        .wait_for(
            &format!("{}.includes('my stepdad shouts at me')", texts("#messages li")),
            "the chat's history, joined",
        )
        .await;
    sup_console.fill("text", "I'm the duty manager; I'm here too.").await;
    sup_console.submit("send-form").await;
    chat.wait_for(
        &format!("{}.includes(\"I'm the duty manager\")", texts("#messages li.theirs")),
        "the supervisor's message",
    )
    .await;
    console
        .wait_for(
            &format!("{}.includes(\"I'm the duty manager\")", texts("#messages li")),
            "the supervisor's message in the worker's console",
        )
        .await;

    console.fill("note", "PRIVATE-NOTE: call children's social care").await;
    console.submit("note-form").await;
    console.wait_for(&format!("{}.includes('PRIVATE-NOTE')", texts("#notes li")), "the note in the console").await;
    console.fill("tags", "family, home ,family").await;
    console.submit("tags-form").await;
    console
        .wait_for("document.getElementById('chat-state').textContent.includes('tags: family, home')", "the tags saved")
        .await;
    let tagged = s
        .client
        .conversation(&supervisor.access_token, &talkzone_mobile_api::ConversationId(conv_id.clone()))
        .await
        .expect("the chat");
    assert_eq!(tagged.tags, ["family", "home"]);
    let seen_by_yp = chat.eval("document.body.innerText").await;
    let seen_by_yp = seen_by_yp.as_str().unwrap_or_default();
    assert!(
        !seen_by_yp.contains("knife")
            && !seen_by_yp.contains("PRIVATE-NOTE")
            && !seen_by_yp.contains("critical")
            && !seen_by_yp.contains("family, home"),
        "the young person's page shows nothing of the staff record: {seen_by_yp}"
    );

    // The worker closes the chat; the young person is told and can no longer type.
    console.eval("document.getElementById('outcome').value = 'resolved'").await;
    console.submit("close-form").await;
    console.click(".console-confirm button[data-confirm=yes]").await;
    chat.wait_for("document.getElementById('status').textContent.includes('This chat has ended')", "the chat ended")
        .await;
    assert_eq!(chat.eval("document.getElementById('send-form').hidden").await, json!(true));
    nothing_ran(&mut chat, "the web chat, at the end").await;

    // They can start again at once; the console's queue shows the new chat.
    chat.click("#new-chat").await;
    chat.fill("first", "one more thing").await;
    chat.submit("start-form").await;
    let again =
        chat.wait_for("JSON.parse(sessionStorage.getItem('talkzone.chat')).extra.conversation_id", "a new chat").await;
    assert_ne!(again, json!(conv_id), "a new conversation");
    let queued = format!("#queue li[data-conversation-id={}]", json!(again));
    console.wait_for(&format!("document.querySelector({}) !== null", json!(queued)), "the new chat in the queue").await;
    chat.wait_for(&format!("{}.includes('one more thing')", texts("#messages li")), "the new chat's first message")
        .await;
    assert_eq!(chat.eval(&texts("#messages li .body")).await, json!("one more thing"), "only the new chat's messages");

    browser.stop().await;
    s.stop().await;
}

/// Makes the page lose the first `message` frame whose text holds `marker`, as if it never
/// arrived (the connection stays up): the page sees a `seq` gap at the next message.
async fn lose_next_message(page: &mut Page, marker: &str) {
    let js = r#"(() => {
        const get = Object.getOwnPropertyDescriptor(MessageEvent.prototype, "data").get;
        window.talkzoneLost = 0;
        Object.defineProperty(MessageEvent.prototype, "data", { configurable: true, get() {
            const data = get.call(this);
            if (!window.talkzoneLost && typeof data === "string" && data.includes('"type":"message"') && data.includes(MARKER)) {
                window.talkzoneLost += 1;
                return '{"type":"lost"}';
            }
            return data;
        } });
        return true;
    })()"#;
    page.eval(&js.replace("MARKER", &json!(marker).to_string())).await;
}

/// Makes the page's first `send` frame holding `marker` go nowhere: it stays unacknowledged.
async fn hold_back_next_send(page: &mut Page, marker: &str) {
    let js = r#"(() => {
        const send = WebSocket.prototype.send;
        window.talkzoneHeld = 0;
        WebSocket.prototype.send = function (data) {
            if (!window.talkzoneHeld && typeof data === "string" && data.includes('"type":"send"') && data.includes(MARKER)) {
                window.talkzoneHeld += 1;
                return;
            }
            return send.call(this, data);
        };
        return true;
    })()"#;
    page.eval(&js.replace("MARKER", &json!(marker).to_string())).await;
}

/// Makes the page's next `subscribe` ask for everything from the start, as when two re-reads
/// cross: the server sends again what the page already shows.
async fn rewind_next_subscribe(page: &mut Page) {
    let js = r#"(() => {
        const send = WebSocket.prototype.send;
        window.talkzoneRewound = 0;
        WebSocket.prototype.send = function (data) {
            const frame = JSON.parse(data);
            if (!window.talkzoneRewound && frame.type === "subscribe" && frame.after_seq > 0) {
                window.talkzoneRewound += 1;
                return send.call(this, JSON.stringify(Object.assign(frame, { after_seq: 0 })));
            }
            return send.call(this, data);
        };
        return true;
    })()"#;
    page.eval(js).await;
}

/// Records every state the page's connection line (`id`) shows, from now on, in
/// `window.talkzoneStates`.
async fn watch_connection(page: &mut Page, id: &str) {
    let js = r#"(() => {
        const line = document.getElementById(ID);
        window.talkzoneStates = [];
        new MutationObserver(() => window.talkzoneStates.push(line.dataset.connection || line.textContent))
            .observe(line, { attributes: true, childList: true, characterData: true, subtree: true });
        return true;
    })()"#;
    page.eval(&js.replace("ID", &json!(id).to_string())).await;
}

/// The `seq` of every message the page shows, in the order shown.
const SHOWN_SEQS: &str = "[...document.querySelectorAll('#messages li')].map((e) => Number(e.dataset.seq || 0))";

#[tokio::test]
async fn both_pages_make_good_a_lost_message_and_a_dropped_connection() {
    let s = server().await;
    let base = s.base.clone();
    s.staff_named(Role::DutyWorker, "web-worker").await;
    let supervisor = s.staff(Role::Supervisor).await;
    let browser = Browser::start().await;
    let mut console = browser.open(&format!("{base}/console")).await;
    sign_in(&mut console, "web-worker").await;
    console.click("#duty").await;
    console.wait_for("document.getElementById('duty').textContent === 'Go off duty'", "on duty").await;
    let mut chat = browser.open(&format!("{base}/")).await;
    chat.fill("first", "hello, is anyone there?").await;
    chat.submit("start-form").await;
    chat.wait_for("document.getElementById('status').dataset.connection === 'connected'", "connected").await;
    console.wait_for("document.querySelector('#queue li button') !== null", "the chat in the queue").await;
    console.click("#queue li button").await;
    console.wait_for(&format!("{}.includes('anyone there')", texts("#messages li")), "the chat open").await;
    chat.wait_for("document.getElementById('status').textContent.includes('talking to')", "the chat accepted").await;

    // A message lost on its way to the web chat: the next ones show the gap, the page reads
    // again from what it has, and shows each once, in order.
    lose_next_message(&mut chat, "LOST-IN-CHAT").await;
    for text in ["LOST-IN-CHAT one", "then two", "and three"] {
        console.fill("text", text).await;
        console.submit("send-form").await;
    }
    let theirs = texts("#messages li.theirs .body");
    let shown = chat.wait_for(&format!("{theirs}.includes('and three') && {theirs}"), "the worker's messages").await;
    assert_eq!(chat.eval("window.talkzoneLost").await, json!(1), "a message was lost on its way");
    assert!(
        shown.as_str().is_some_and(|t| t.ends_with("LOST-IN-CHAT one\nthen two\nand three")),
        "the lost message read again, each once and in order: {shown}"
    );

    // The same in the console.
    lose_next_message(&mut console, "LOST-IN-CONSOLE").await;
    for text in ["LOST-IN-CONSOLE four", "then five"] {
        chat.fill("text", text).await;
        chat.submit("send-form").await;
    }
    let theirs = texts("#messages li.theirs .body");
    let shown =
        console.wait_for(&format!("{theirs}.includes('then five') && {theirs}"), "the young person's messages").await;
    assert_eq!(console.eval("window.talkzoneLost").await, json!(1), "a message was lost on its way");
    assert!(
        shown.as_str().is_some_and(|t| t.ends_with("LOST-IN-CONSOLE four\nthen five")),
        "the lost message read again, each once and in order: {shown}"
    );

    // The web chat sends a message that goes unacknowledged, and its connection drops. It
    // reconnects, gets what the worker sent meanwhile (after what it already has, sent again),
    // and sends its own again.
    let none_pending = "document.querySelectorAll('#messages li.pending').length === 0";
    chat.wait_for(none_pending, "its own messages stored").await;
    hold_back_next_send(&mut chat, "HELD-IN-CHAT").await;
    chat.fill("text", "HELD-IN-CHAT six").await;
    chat.submit("send-form").await;
    chat.wait_for("window.talkzoneHeld === 1", "the send held back").await;
    let sending = texts("#messages li.pending .meta");
    assert_eq!(chat.eval(&sending).await, json!("sending…"), "shown as not sent yet");
    watch_connection(&mut chat, "status").await;
    rewind_next_subscribe(&mut chat).await;
    let yp_id = chat.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).user.id").await;
    let yp_id = talkzone_mobile_api::UserId(yp_id.as_str().expect("their id").to_owned());
    s.state().hub.drop_connections_of(&yp_id);
    console.fill("text", "sent while you were away").await;
    console.submit("send-form").await;
    chat.wait_for(
        "window.talkzoneStates.includes('reconnecting') && document.getElementById('status').dataset.connection === 'connected'",
        "reconnected",
    )
    .await;
    chat.wait_for(
        &format!("{}.includes('while you were away')", texts("#messages li.theirs")),
        "the message sent meanwhile",
    )
    .await;
    console
        .wait_for(
            &format!("{}.includes('HELD-IN-CHAT six')", texts("#messages li.theirs")),
            "the held message, sent again",
        )
        .await;

    // The same in the console.
    console.wait_for(none_pending, "its own messages stored").await;
    hold_back_next_send(&mut console, "HELD-IN-CONSOLE").await;
    console.fill("text", "HELD-IN-CONSOLE seven").await;
    console.submit("send-form").await;
    console.wait_for("window.talkzoneHeld === 1", "the send held back").await;
    assert_eq!(console.eval(&sending).await, json!("sending…"), "shown as not sent yet");
    watch_connection(&mut console, "connection").await;
    rewind_next_subscribe(&mut console).await;
    let worker_id = console.eval("JSON.parse(sessionStorage.getItem('talkzone.console')).user.id").await;
    let worker_id = talkzone_mobile_api::UserId(worker_id.as_str().expect("their id").to_owned());
    s.state().hub.drop_connections_of(&worker_id);
    chat.fill("text", "sent while the worker was away").await;
    chat.submit("send-form").await;
    console
        .wait_for(
            "window.talkzoneStates.includes('reconnecting') && document.getElementById('connection').textContent === 'live'",
            "reconnected",
        )
        .await;
    console
        .wait_for(
            &format!("{}.includes('while the worker was away')", texts("#messages li.theirs")),
            "the message sent meanwhile",
        )
        .await;
    chat.wait_for(
        &format!("{}.includes('HELD-IN-CONSOLE seven')", texts("#messages li.theirs")),
        "the held message, sent again",
    )
    .await;

    // Every stored message on both screens once, in order, own ones included.
    for page in [&mut chat, &mut console] {
        assert_eq!(page.eval("window.talkzoneRewound").await, json!(1), "the server sent everything again");
    }
    let conv_id = chat.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).extra.conversation_id").await;
    let conv_id = talkzone_mobile_api::ConversationId(conv_id.as_str().expect("the chat's id").to_owned());
    let stored = s.client.messages(&supervisor.access_token, &conv_id, 0, None).await.expect("history").messages;
    let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(stored.iter().filter(|m| m.body.starts_with("HELD-IN")).count(), 2, "each held message stored once");
    for page in [&mut chat, &mut console] {
        page.wait_for(none_pending, "own messages stored").await;
        page.wait_for(&format!("{SHOWN_SEQS}.length >= {}", seqs.len()), "every message").await;
        assert_eq!(page.eval(SHOWN_SEQS).await, json!(seqs), "each stored message once, in order");
    }
    nothing_ran(&mut chat, "the web chat").await;

    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn pages_are_served_with_a_strict_policy_and_no_inline_script() {
    let s = server().await;
    let served = [
        ("/", "text/html"),
        ("/console", "text/html"),
        ("/survey", "text/html"),
        ("/web/chat.js", "text/javascript"),
        ("/web/console.js", "text/javascript"),
        ("/web/common.js", "text/javascript"),
        ("/web/stream.js", "text/javascript"),
        ("/web/survey.js", "text/javascript"),
        ("/web/survey-page.js", "text/javascript"),
        ("/admin", "text/html"),
        ("/web/admin.js", "text/javascript"),
        ("/web/talkzone.css", "text/css"),
    ];
    // By hand: pages and assets are not API routes, and their headers are the point.
    for (path, kind) in served {
        let (status, headers, body) = s.client.raw(Method::GET, path, None, vec![]).await.expect(path);
        assert_eq!(status.as_u16(), 200, "{path}");
        let content_type = headers["content-type"].to_str().unwrap_or_default();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        if kind == "text/html" {
            let policy = headers["content-security-policy"].to_str().unwrap_or_default();
            assert!(
                policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"),
                "{path}: {policy}"
            );
            assert!(!policy.contains("unsafe"), "{path}: {policy}");
            // Scripts only from files: no inline <script> and no on…= attributes.
            let inline = body
                .match_indices("<script")
                .any(|(i, _)| !body[i..].split('>').next().unwrap_or("").contains(" src="));
            assert!(!inline, "{path} has an inline script");
            assert!(!body.contains(" onclick=") && !body.contains(" onload="), "{path} has an inline handler");
        }
    }
    // The API keeps its own policy (nothing may load), and an unknown asset is the usual 404.
    // (By hand, as the pages above: the headers are the point.)
    let (_, headers, _) = s.client.raw(Method::GET, "/healthz", None, vec![]).await.expect("healthz");
    assert_eq!(headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    let (status, _, body) = s.client.raw(Method::GET, "/web/../Cargo.toml", None, vec![]).await.expect("asset");
    assert_eq!(status.as_u16(), 404, "{body}");
    let (status, _, body) = s.client.raw(Method::GET, "/web/secret.js", None, vec![]).await.expect("asset");
    assert_eq!((status.as_u16(), body.contains("not_found")), (404, true), "{body}");
    s.stop().await;
}

/// A room about football, made through the API.
async fn football_room(
    s: &TestServer,
    admin: &str,
    moderation: RoomModeration,
    personal_info: PersonalInfoMode,
) -> ConversationView {
    let req = CreateRoomRequest { topic: "Football".into(), age_band: "13-15".into(), moderation, personal_info };
    s.client.create_room(admin, &req).await.expect("a room")
}

/// The admin page, signed in as a new YOT admin called `username`.
async fn admin_page(s: &TestServer, browser: &Browser, username: &str) -> Page {
    s.staff_named(Role::YotAdmin, username).await;
    let mut page = browser.open(&format!("{}/admin", s.base)).await;
    page.fill("username", username).await;
    page.fill("password", TEST_PASSWORD).await;
    page.submit("login-form").await;
    page.wait_for("!document.getElementById('panels').hidden", "the admin panels").await;
    page
}

/// A published survey (`def` in the contract's JSON form); its id.
async fn published(s: &TestServer, admin: &str, def: serde_json::Value) -> String {
    let def: SurveyDefinition = serde_json::from_value(def).expect("a survey definition");
    let survey = s.client.create_survey(admin, &def).await.expect("create the survey");
    s.client.publish_survey(admin, &survey.id).await.expect("publish it");
    survey.id
}

/// The survey's assignments as the YOT sees them, with answers.
async fn answered(s: &TestServer, admin: &str, survey: &str) -> Vec<StaffAssignmentView> {
    let query = AssignmentListQuery { status: None, answers: true };
    s.client.list_assignments(admin, survey, &query).await.expect("the assignments").assignments
}

fn answer<'a>(a: &'a StaffAssignmentView, question: &str) -> Option<&'a serde_json::Value> {
    a.answers.as_ref()?.iter().find(|x| x.question_id == question).map(|x| &x.value)
}

#[tokio::test]
async fn parents_answer_with_their_code_and_young_people_after_a_chat() {
    let s = server().await;
    let base = s.base.clone();
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let browser = Browser::start().await;

    // A parent or carer with a code from the YOT.
    let survey = published(
        &s,
        &admin,
        json!({"title": "How are things at home?", "audience": "parent_carer", "questions": [
        {"id": "mood", "kind": "emoji_scale", "text": "How is your child doing?", "required": true},
        {"id": "help", "kind": "yes_no", "text": "Has the YOT helped your family?", "required": true},
        {"id": "words", "kind": "free_text", "text": "Anything else?"}]}),
    )
    .await;
    // The YOT records the case and sends the survey from the admin page, which shows the code once.
    let mut yot = admin_page(&s, &browser, "survey-admin").await;
    yot.wait_for(
        "document.querySelector('#participant-intervention option[value=referral_order]') !== null",
        "the intervention types",
    )
    .await;
    // A name where the case reference goes is refused.
    yot.fill("participant-reference", "Smith").await;
    yot.eval("document.getElementById('participant-start').value = '2026-01-05'").await;
    yot.submit("participant-form").await;
    yot.wait_for("(() => { const m = document.getElementById('participant-form').nextElementSibling; return m !== null && m.classList.contains('form-message') && m.classList.contains('error') && !m.hidden && m.textContent.includes('reference'); })()", "a name refused, under its form").await;
    axe(&mut yot, "the admin page, a form's error").await;
    yot.fill("participant-reference", "YOT-WEB-1").await;
    yot.eval("document.getElementById('participant-intervention').value = 'referral_order'").await;
    yot.eval("document.getElementById('participant-start').value = '2026-01-05'").await;
    yot.eval("document.getElementById('participant-age_band').value = '13-15'").await;
    yot.eval("document.getElementById('participant-looked_after').value = 'looked_after'").await;
    yot.submit("participant-form").await;
    let participant = yot
        .wait_for("[...document.querySelectorAll('#assignment-participant option')].find((o) => o.textContent.startsWith('YOT-WEB-1'))?.value", "the participant to send to")
        .await;
    let recorded = s.client.list_participants(&admin).await.expect("participants");
    let recorded = &recorded.participants[0];
    assert_eq!(
        (recorded.reference.as_str(), recorded.age_band.as_deref(), recorded.looked_after, recorded.gender.as_deref()),
        ("YOT-WEB-1", Some("13-15"), Some(LookedAfter::LookedAfter), None),
        "the equality fields chosen, and none not chosen: {recorded:?}"
    );
    yot.eval(&format!("document.getElementById('assignment-participant').value = {participant}")).await;
    yot.eval(&format!("document.getElementById('assignment-survey').value = {}", json!(survey))).await;
    yot.eval("document.getElementById('assignment-stage').value = 'end'").await;
    yot.eval("document.getElementById('assignment-due').value = '2026-12-01'").await;
    yot.submit("assignment-form").await;
    let code = yot.wait_for("!document.getElementById('access-code').hidden && document.querySelector('#access-code .code').textContent", "the access code").await;
    let code = code.as_str().expect("a code").to_owned();
    let sent = answered(&s, &admin, &survey).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].participant_reference.as_deref(), sent[0].stage, sent[0].respondent_kind.as_str()),
        (Some("YOT-WEB-1"), SurveyStage::End, "parent_carer")
    );

    let mut page = browser.open(&format!("{base}/survey")).await;
    page.fill("code", "WRONG-CODE-0000").await;
    page.submit("code-form").await;
    page.wait_for("!document.getElementById('error').hidden && document.getElementById('error').textContent.includes(\"didn't work\")", "a wrong code refused").await;
    axe(&mut page, "the survey page, a wrong code").await;
    // Typed as people do: lower case, spaces for dashes.
    page.fill("code", &code.to_lowercase().replace('-', " ")).await;
    page.submit("code-form").await;
    page.wait_for("document.querySelector('form.survey h2') && document.querySelector('form.survey h2').textContent === 'How are things at home?'", "the questions").await;
    axe(&mut page, "the survey page, the questions").await;
    page.click("fieldset[data-question=mood] input[value='4']").await;
    page.fill_selector("fieldset[data-question=words] textarea", "<b>thank you</b> all").await;
    page.click("form.survey button[type=submit]").await;
    page.wait_for("document.querySelector('form.survey .error:not([hidden])') && document.querySelector('form.survey .error').textContent.includes('help')",
        "the required question left out, named").await;
    axe(&mut page, "the survey page, a question left out").await;
    page.click("fieldset[data-question=help] input[value='true']").await;
    page.click("form.survey button[type=submit]").await;
    page.wait_for("document.querySelector('form.survey h2').textContent === 'Thank you'", "thanks").await;
    axe(&mut page, "the survey page, thanks").await;
    let stored = answered(&s, &admin, &survey).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].status, AssignmentStatus::Completed);
    assert_eq!((answer(&stored[0], "mood"), answer(&stored[0], "help")), (Some(&json!(4)), Some(&json!(true))));
    assert_eq!(answer(&stored[0], "words"), Some(&json!("<b>thank you</b> all")), "text kept as typed");

    // A young person is asked how their chat went, on the page, when it closes.
    let feedback = published(
        &s,
        &admin,
        json!({"title": "How was your chat?", "audience": "young_person", "questions": [
        {"id": "rating", "kind": "emoji_scale", "text": "How was your chat today?", "required": true},
        {"id": "listened", "kind": "yes_no", "text": "Did you feel listened to?", "required": true}]}),
    )
    .await;
    // Chosen on the admin page (reloaded to offer the new survey).
    yot.reload().await;
    let offered = json!(format!("#feedback-survey option[value='{feedback}']"));
    yot.wait_for(&format!("document.querySelector({offered}) !== null"), "the survey offered").await;
    yot.eval(&format!("document.getElementById('feedback-survey').value = {}", json!(feedback))).await;
    yot.submit("feedback-form").await;
    yot.wait_for("(() => { const m = document.getElementById('feedback-form').nextElementSibling; return m !== null && m.classList.contains('form-message') && m.classList.contains('info') && !m.hidden && m.textContent.includes('asked after each chat'); })()", "saved, under its form").await;
    let setting = s.client.chat_feedback(&admin).await.expect("the chat feedback setting");
    assert_eq!(setting.survey_id.as_deref(), Some(feedback.as_str()));
    let worker = s.staff(Role::DutyWorker).await;
    let mut chat = browser.open(&format!("{base}/")).await;
    chat.fill("first", "can I talk about school").await;
    chat.submit("start-form").await;
    let id = chat
        .wait_for(
            "JSON.parse(sessionStorage.getItem('talkzone.chat') || 'null')?.extra?.conversation_id",
            "the chat's id",
        )
        .await;
    let id = talkzone_mobile_api::ConversationId(id.as_str().expect("an id").to_owned());
    chat.wait_for("document.getElementById('status').dataset.connection === 'connected'", "connected").await;
    s.client.accept(&worker.access_token, &id).await.expect("accept");
    let resolved = CloseRequest { outcome: "resolved".into(), tags: Vec::new() };
    s.client.close_conversation(&worker.access_token, &id, &resolved).await.expect("close");
    chat.wait_for("!document.getElementById('feedback').hidden && document.querySelector('#feedback h2').textContent === 'How was your chat?'",
        "the feedback questions under the closed chat").await;
    axe(&mut chat, "the web chat, feedback after a close").await;
    chat.click("#feedback fieldset[data-question=rating] input[value='5']").await;
    chat.click("#feedback fieldset[data-question=listened] input[value='true']").await;
    chat.click("#feedback form.survey button[type=submit]").await;
    chat.wait_for("document.querySelector('#feedback h2').textContent === 'Thank you'", "thanks").await;
    let stored = answered(&s, &admin, &feedback).await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].chat_feedback && stored[0].status == AssignmentStatus::Completed, "{stored:?}");
    assert_eq!(answer(&stored[0], "rating"), Some(&json!(5)));

    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_moderator_works_the_queue_in_the_console() {
    let s = server().await;
    let base = s.base.clone();
    let admin = s.staff(Role::YotAdmin).await.access_token;
    s.staff_named(Role::Moderator, "web-moderator").await;
    let browser = Browser::start().await;
    let mut console = browser.open(&format!("{base}/console")).await;
    sign_in(&mut console, "web-moderator").await;
    assert_eq!(
        console.eval("[document.getElementById('duty').hidden, document.getElementById('desk-lists').hidden]").await,
        json!([true, true]),
        "a moderator has no duty desk"
    );
    console
        .wait_for(
            "document.getElementById('moderation-count').textContent.includes('nothing to review')",
            "an empty moderation queue",
        )
        .await;

    // A message in a pre-moderated room is held; the console shows it at once, as text.
    let room = football_room(&s, &admin, RoomModeration::Pre, PersonalInfoMode::Hold).await;
    let yp = s.young_person().await;
    s.client.join_room(&yp.access_token, &room.id).await.expect("join");
    let mut ws = s.client.connect(&yp.access_token).await.expect("connect");
    ws.subscribe(&room.id, 0).await.expect("subscribe");
    let ack = ws.send_message(&room.id, "m1", MARKUP).await.expect("send");
    assert!(matches!(ack, ServerFrame::Ack { status: AckStatus::Held, .. }), "{ack:?}");
    let item = "#moderation-items li";
    console
        .wait_for(
            &format!("{}.includes('can someone help')", texts(&format!("{item} .evidence"))),
            "the held message, live",
        )
        .await;
    nothing_ran(&mut console, "the moderation queue").await;
    let evidence = console.eval(&texts(&format!("{item} .evidence"))).await;
    assert_eq!(evidence, json!(MARKUP), "shown exactly as written");

    // The sender can be muted from the item (rooms only: support chats stay open), with a reason.
    console.fill_selector(&format!("{item} input.reason"), "posting the same link again and again").await;
    console.click(&format!("{item} button[data-user-action=mute]")).await;
    console
        .wait_for(
            &format!(
                "document.querySelector({})?.textContent.includes('mute done')",
                json!(format!("{item} .console-say.info"))
            ),
            "the mute, said beside the item",
        )
        .await;
    let log = s.client.moderation_log(&admin).await.expect("the moderation log");
    assert!(
        log.entries.iter().any(|e| e.reason.as_deref() == Some("posting the same link again and again")),
        "the mute is in the moderation log: {log:?}"
    );

    // Approved from the console: delivered to the room with the next seq, and off the list.
    console.fill_selector(&format!("{item} input.reason"), "fine in context").await;
    console.click(&format!("{item} button[data-action=approve]")).await;
    console.wait_for("document.querySelectorAll('#moderation-items li').length === 0", "the item decided").await;
    let delivered =
        ws.recv_until(Duration::from_secs(10), |f| matches!(f, ServerFrame::Message(_))).await.expect("delivered");
    assert!(matches!(&delivered, ServerFrame::Message(m) if m.body == MARKUP && m.seq >= 1), "{delivered:?}");
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_young_person_downloads_and_deletes_their_data_from_the_page() {
    let s = server().await;
    let base = s.base.clone();
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let browser = Browser::start().await;
    let mut chat = browser.open(&format!("{base}/")).await;
    assert_eq!(
        chat.eval("document.getElementById('my-data').hidden").await,
        json!(true),
        "nothing to show before a chat"
    );
    chat.fill("first", "I want to know what you keep").await;
    chat.submit("start-form").await;
    let id = chat
        .wait_for("JSON.parse(sessionStorage.getItem('talkzone.chat') || 'null')?.extra?.conversation_id", "the chat")
        .await;
    let user = chat.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).user.id").await;
    let user = user.as_str().expect("their id").to_owned();

    chat.eval("document.getElementById('my-data').open = true").await;
    chat.click("#download").await;
    chat.wait_for("document.getElementById('receipt').textContent.includes('downloaded')", "the download").await;
    let audit = s.client.audit_log(&admin, &AuditQuery { days: Some(1) }).await.expect("the audit log");
    let exported =
        audit.entries.iter().any(|e| e.action == "data_exported" && e.actor_id.as_ref().is_some_and(|a| a.0 == user));
    assert!(exported, "the export was served to them (and audited)");

    chat.click("#delete").await;
    chat.click("#delete-yes").await;
    chat.wait_for("document.getElementById('receipt').textContent.includes('have been deleted')", "the receipt").await;
    assert_eq!(chat.eval("sessionStorage.getItem('talkzone.chat')").await, json!(null), "signed out of the tab");
    let supervisor = s.staff(Role::Supervisor).await;
    let gone = s
        .client
        .conversation(
            &supervisor.access_token,
            &talkzone_mobile_api::ConversationId(id.as_str().unwrap_or_default().to_owned()),
        )
        .await;
    assert_eq!(gone.map(|_| ()).unwrap_err().status(), Some(404), "their chat is gone");
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn young_people_talk_in_a_group_chat_and_report_a_message() {
    let s = server().await;
    let base = s.base.clone();
    let admin = s.staff(Role::YotAdmin).await.access_token;
    let moderator = s.staff(Role::Moderator).await.access_token;
    let room = football_room(&s, &admin, RoomModeration::Post, PersonalInfoMode::Redact).await;
    let browser = Browser::start().await;
    let join = format!("#rooms li[data-room-id={}] button", json!(room.id));
    let mut tabs = Vec::new();
    for _ in 0..2 {
        let mut tab = browser.open(&format!("{base}/")).await;
        tab.click("#show-rooms").await;
        tab.wait_for(&format!("document.querySelector({}) !== null", json!(join)), "the room listed").await;
        tab.click(&join).await;
        tab.wait_for("document.getElementById('status').textContent.includes('Group chat: Football')", "the room open")
            .await;
        tab.wait_for("document.getElementById('status').dataset.connection === 'connected'", "connected").await;
        tabs.push(tab);
    }
    let (a, b) = tabs.split_at_mut(1);
    let (a, b) = (&mut a[0], &mut b[0]);
    a.fill("text", "anyone watching the match tonight?").await;
    a.submit("send-form").await;
    b.wait_for(
        &format!("{}.includes('watching the match')", texts("#messages li.theirs")),
        "the other member's message",
    )
    .await;
    a.wait_for(&format!("{}.includes('sent')", texts("#messages li.mine .meta")), "their own, acknowledged").await;
    assert_eq!(
        a.eval("document.querySelectorAll('#messages li.theirs').length").await,
        json!(0),
        "their own message is theirs"
    );

    b.click("#messages li.theirs button.link").await;
    b.fill_selector("#messages li.theirs .report input", "they keep messaging me privately").await;
    b.click("#messages li.theirs .report button").await;
    b.wait_for(
        &format!("{}.includes('a moderator will look at it')", texts("#messages li.theirs .report")),
        "the report taken",
    )
    .await;
    let queue = s.client.moderation_queue(&moderator).await.expect("the moderation queue");
    let reported = queue.items.iter().any(|i| i.kind == "report" && i.reason == "they keep messaging me privately");
    assert!(reported, "the report is in the moderation queue: {queue:?}");

    // Leaving takes them back to the start.
    a.click("#leave-room").await;
    a.wait_for("!document.getElementById('start').hidden", "back at the start").await;
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_yot_admin_runs_accounts_services_and_rooms_from_the_admin_page() {
    let s = server().await;
    let base = s.base.clone();
    let browser = Browser::start().await;
    let mut page = admin_page(&s, &browser, "web-admin").await;

    // A staff account, which can then sign in.
    page.fill("new-username", "new.worker").await;
    page.fill("new-name", "Jo").await;
    page.eval("document.getElementById('new-role').value = 'duty_worker'").await;
    page.fill("new-password", "a long first password").await;
    page.submit("user-form").await;
    page.wait_for(
        "document.getElementById('user-result').textContent.includes('Created Jo (duty worker)')",
        "the account made",
    )
    .await;
    let jo = s.client.login("new.worker", "a long first password").await.expect("the new account signs in");
    assert_eq!(jo.user.role, Role::DutyWorker);
    page.wait_for(&format!("{}.includes('new.worker')", texts("#staff li")), "the account in the staff list").await;

    // Jo on the rota for tomorrow morning, then taken off it.
    let jo_option = format!("#shift-user option[value={}]", json!(jo.user.id));
    page.wait_for(
        &format!("document.querySelector({}) !== null", json!(jo_option)),
        "Jo among those to put on the rota",
    )
    .await;
    page.eval(&format!("document.getElementById('shift-user').value = {}", json!(jo.user.id))).await;
    let tomorrow = "(() => { const d = new Date(Date.now() + 86400000); d.setHours(9, 0, 0, 0); return d; })()";
    page.eval(&format!("(() => {{ const d = {tomorrow}; const local = (x) => new Date(x - x.getTimezoneOffset() * 60000).toISOString().slice(0, 16); \
        document.getElementById('shift-start').value = local(d); document.getElementById('shift-end').value = local(new Date(d.getTime() + 8 * 3600000)); return true; }})()")).await;
    page.submit("shift-form").await;
    page.wait_for(&format!("{}.includes('Jo')", texts("#shifts li strong")), "the shift on the rota").await;
    let rota = s.client.rota(&jo.access_token, &RotaQuery { from: None, to: None }).await.expect("the rota");
    assert_eq!(rota.shifts.len(), 1, "{rota:?}");
    page.click("#shifts li button").await;
    page.wait_for("document.querySelectorAll('#shifts li').length === 0", "the shift removed").await;

    // A directory entry (its markup kept as text), then retired.
    page.fill("svc-name", "Youth <i>Counselling</i>").await;
    page.fill("svc-category", "health").await;
    page.fill("svc-description", "Free, confidential, 11-25").await;
    page.fill("svc-url", "https://example.org/counselling").await;
    page.submit("service-form").await;
    page.wait_for(
        &format!("{}.includes('Youth <i>Counselling</i>')", texts("#services li strong")),
        "the entry listed",
    )
    .await;
    assert_eq!(page.eval("document.querySelectorAll('#services i').length").await, json!(0), "markup stays text");
    page.click("#services li button").await;
    page.wait_for(&format!("{}.includes('retired')", texts("#services li")), "the entry retired").await;
    let yp = s.young_person().await;
    let everything = ServiceSearchQuery { q: None, category: None, include_retired: None };
    let listed = s.client.search_services(&yp.access_token, &everything).await.expect("the directory");
    assert!(listed.services.is_empty(), "a retired entry is not offered: {listed:?}");

    // A group chat, which young people then see.
    page.fill("room-topic", "Music").await;
    page.fill("room-ages", "16-18").await;
    page.submit("room-form").await;
    page.wait_for(&format!("{}.includes('Music')", texts("#rooms li")), "the room listed").await;
    let rooms = s.client.list_rooms(&yp.access_token).await.expect("the rooms");
    assert_eq!(rooms.rooms[0].topic.as_deref(), Some("Music"));
    assert_eq!(
        rooms.rooms[0].room.as_ref().map(|r| r.moderation),
        Some(RoomModeration::Pre),
        "pre-moderated unless chosen otherwise"
    );

    // A survey's report, from the page: with one answer it is withheld; with five (the threshold)
    // the totals show, and a count under five is still withheld.
    let admin = s.client.login("web-admin", TEST_PASSWORD).await.expect("admin token").access_token;
    let survey = published(
        &s,
        &admin,
        json!({"title": "Home life", "audience": "parent_carer", "questions": [
        {"id": "mood", "kind": "emoji_scale", "text": "How is your child doing?", "required": true}]}),
    )
    .await;
    let report = "document.getElementById('report').textContent";
    // A parent's answer at a stage, sent and answered through the API.
    let parent_answers = |participant: String, stage: SurveyStage, mood: i64| {
        let (s, admin, survey) = (&s, &admin, &survey);
        async move {
            let assignment = CreateAssignmentRequest {
                survey_id: survey.clone(),
                participant_id: participant,
                stage,
                due_date: "2026-12-01".into(),
                respondent: AssignmentRespondent::ParentCarer,
                access_code_valid_days: None,
            };
            let created = s.client.create_assignment(admin, &assignment).await.expect("an assignment");
            let answers = vec![SurveyAnswer { question_id: "mood".into(), value: json!(mood) }];
            let submission = SubmitSurveyRequest { submission_id: "s1".into(), is_final: true, answers };
            let code = created.access_code.expect("a code");
            s.client.submit_by_access_code(&code, &submission).await.expect("answer");
        }
    };
    let mut participants = Vec::new();
    for (i, mood) in [5, 5, 4, 5, 5].into_iter().enumerate() {
        let participant = CreateParticipantRequest {
            reference: format!("YOT-WEB-{i}"),
            intervention_type: "referral_order".into(),
            start_date: "2026-01-05".into(),
            end_date: None,
            age_band: None,
            gender: None,
            ethnicity: None,
            looked_after: None,
        };
        let p = s.client.create_participant(&admin, &participant).await.expect("a participant");
        parent_answers(p.id.clone(), SurveyStage::End, mood).await;
        participants.push(p.id);
        if i == 0 {
            page.reload().await;
            page.wait_for("document.querySelector('#surveys li button[data-report]') !== null", "the survey listed")
                .await;
            page.click("#surveys li button[data-report]").await;
            let shown = page.wait_for(report, "the report").await;
            assert!(
                shown.as_str().is_some_and(|t| t.contains("Home life") && t.contains("Withheld")),
                "one answer is not shown: {shown}"
            );
        }
    }
    page.click("#surveys li button[data-report]").await;
    let shown = page.wait_for(&format!("{report}.includes('answered 5')"), "the report with five answers").await;
    assert_eq!(shown, json!(true));
    let lines = page.eval(&texts("#report .question li")).await;
    assert!(lines.as_str().is_some_and(|t| t.contains("withheld")), "the four and the one are under five: {lines}");
    // A breakdown the page's filters ask for: nobody recorded as aged 13-15, so withheld.
    page.eval("document.getElementById('filter-age_band').value = '13-15'").await;
    page.click("#surveys li button[data-report]").await;
    page.wait_for(
        &format!("{report}.includes('Withheld') && {report}.includes('Home life')"),
        "a selection of nobody, withheld",
    )
    .await;
    page.eval("document.getElementById('filter-age_band').value = ''").await;
    page.click("#surveys li button[data-report]").await;
    page.wait_for(&format!("{report}.includes('answered 5')"), "everyone again").await;

    // Distance travelled from start to end: withheld with no one answering at the start; with
    // the same five answering at the start (all lower), five pairs, all improved, and the
    // empty "same" and "worse" (and so the mean) withheld.
    page.wait_for(
        "document.querySelector('#distance-question option[value=mood]') !== null",
        "the scale question offered",
    )
    .await;
    let distance = "document.getElementById('distance').textContent";
    page.submit("distance-form").await;
    page.wait_for(&format!("{distance}.includes('Withheld')"), "no pairs, withheld").await;
    for p in &participants {
        parent_answers(p.clone(), SurveyStage::Start, 2).await;
    }
    page.submit("distance-form").await;
    let shown = page.wait_for(&format!("{distance}.includes('pairs') && {distance}"), "the distance travelled").await;
    assert_eq!(
        page.eval(&texts("#distance li")).await,
        json!("5 pairs, from start to end\nimproved: 5 (100%)\nsame: withheld\nworse: withheld\nmean change: withheld"),
        "{shown}"
    );
    let query = DistanceQuery {
        question_id: "mood".into(),
        from_stage: Some("start".into()),
        to_stage: Some("end".into()),
        intervention_type: None,
        age_band: None,
        gender: None,
        ethnicity: None,
        looked_after: None,
        from: None,
        to: None,
    };
    let api = s.client.distance(&admin, &survey, &query).await.expect("the distance travelled");
    assert_eq!((api.pairs.value, api.improved.count, api.same.suppressed), (Some(5), Some(5), true), "{api:?}");

    // The moderation rules: a broken policy is refused with why, and the old one stays; a good
    // one is in force at once.
    page.click("#load-policy").await;
    let original = page
        .wait_for(
            "!document.getElementById('policy-form').hidden && document.getElementById('policy').value",
            "the policy",
        )
        .await;
    let original = original.as_str().expect("TOML").to_owned();
    page.fill("policy", &format!("{original}\nthis is not = = toml\n")).await;
    page.submit("policy-form").await;
    page.wait_for("(() => { const m = document.getElementById('policy-form').nextElementSibling; return m !== null && m.classList.contains('form-message') && m.classList.contains('error') && !m.hidden && m.textContent.includes('not valid'); })()", "the broken policy refused, under its form").await;
    page.fill("policy", &format!("{original}\n# reviewed by the YOT on the admin page\n")).await;
    page.submit("policy-form").await;
    page.wait_for("(() => { const m = document.getElementById('policy-form').nextElementSibling; return m !== null && m.classList.contains('form-message') && m.classList.contains('info') && !m.hidden && m.textContent.includes('in force'); })()", "the policy in force, under its form").await;
    let in_force = s.client.moderation_policy(&admin).await.expect("policy");
    assert!(in_force.contains("# reviewed by the YOT on the admin page"), "the page's policy is the one in force");

    // The audit log shows what was done.
    page.click("#load-audit").await;
    page.wait_for(&format!("{}.includes('user created')", texts("#audit li")), "the audit log").await;

    // Anyone else is turned away.
    let mut other = browser.open(&format!("{base}/admin")).await;
    s.staff_named(Role::DutyWorker, "not-an-admin").await;
    other.fill("username", "not-an-admin").await;
    other.fill("password", TEST_PASSWORD).await;
    other.submit("login-form").await;
    other.wait_for("document.getElementById('error').textContent.includes('for YOT admins')", "a worker refused").await;
    assert_eq!(other.eval("document.getElementById('panels').hidden").await, json!(true));
    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_worker_passes_a_chat_to_a_colleague_from_the_console() {
    let s = server().await;
    let base = s.base.clone();
    s.staff_named(Role::DutyWorker, "web-worker-a").await;
    let b = s.staff_named(Role::DutyWorker, "web-worker-b").await;
    s.client.set_duty(&b.access_token, true).await.expect("b on duty");
    let yp = s.young_person().await;
    let (_, conv) = s
        .client
        .open_conversation(
            &yp.access_token,
            &talkzone_mobile_api::CreateConversationRequest { topic: None, first_message: Some("hello".into()) },
        )
        .await
        .expect("open");
    let browser = Browser::start().await;
    let mut console = browser.open(&format!("{base}/console")).await;
    sign_in(&mut console, "web-worker-a").await;
    let accept = format!("#queue li[data-conversation-id={}] button", json!(conv.id));
    console.wait_for(&format!("document.querySelector({}) !== null", json!(accept)), "the chat in the queue").await;
    console.click(&accept).await;
    console
        .wait_for("document.querySelectorAll('#transfer-to option').length === 1", "the colleague on duty to pass to")
        .await;
    assert_eq!(console.eval("document.querySelector('#transfer-to option').value").await, json!(b.user.id));
    console.fill("transfer-reason", "Sam knows this school well").await;
    console.submit("transfer-form").await;
    console
        .wait_for(
            "document.querySelectorAll('#mine li').length === 0 && document.getElementById('chat').hidden",
            "the chat gone from A's list",
        )
        .await;
    let now = s.client.conversation(&b.access_token, &conv.id).await.expect("b has it");
    assert_eq!(now.assigned_to.map(|u| u.id), Some(b.user.id.clone()));
    let history = s.client.messages(&yp.access_token, &conv.id, 0, None).await.expect("history").messages;
    assert!(history.iter().any(|m| m.body.contains("Sam knows this school well")), "the young person is told why");
    browser.stop().await;
    s.stop().await;
}
