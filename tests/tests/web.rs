//! The web pages, in a real browser (headless chromium): a young person starts a chat on the
//! website while a worker watches the queue in the console, which shows the chat without a
//! refresh; they talk both ways; what the young person typed, markup and all, shows as text
//! and runs nothing; the worker escalates and a supervisor's console shows it at once; notes
//! and the escalation never reach the young person's page; a dropped connection resumes with
//! nothing lost or doubled; the worker closes the chat and the young person is told. Also:
//! the pages' security headers, and that they hold no inline script for a policy to allow.

use reqwest::Method;
use serde_json::json;
use talkzone_mobile_api::Role;
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::{TestServer, TEST_PASSWORD};

/// A server on a port known before it starts, so that its own origin is the allowed one (as
/// `talkzone serve` allows by default).
async fn server() -> TestServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port();
    TestServer::start_with(talkzone_tests::Backend::Sqlite, move |c| {
        c.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        c.allowed_origins = vec![format!("http://127.0.0.1:{port}")];
    })
    .await
}

/// What the page shows in `selector`'s elements, joined by new lines.
fn texts(selector: &str) -> String {
    format!("[...document.querySelectorAll({})].map((e) => e.textContent).join('\\n')", json!(selector))
}

async fn sign_in(console: &mut Page, username: &str) {
    console.fill("username", username).await;
    console.fill("password", TEST_PASSWORD).await;
    console.submit("login-form").await;
    let live = "!document.getElementById('desk').hidden && document.getElementById('connection').textContent === 'live'";
    console.wait_for(live, "the desk, live").await;
}

const MARKUP: &str = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script> can someone help";

async fn nothing_ran(page: &mut Page, what: &str) {
    let found = page.eval("[typeof window.pwned, document.querySelectorAll('#messages img, #messages script').length]").await;
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
    console.wait_for("document.getElementById('queue-count').textContent.includes('nobody waiting')", "an empty queue").await;

    // A young person starts a chat on the website, with markup in the first message.
    let mut chat = browser.open(&format!("{base}/")).await;
    let help = chat.eval("document.querySelector('.help').textContent").await;
    for number in ["999", "0800 1111", "116 123", "85258"] {
        assert!(help.as_str().is_some_and(|h| h.contains(number)), "help right now, always on screen: {help}");
    }
    chat.fill("first", MARKUP).await;
    chat.submit("start-form").await;
    chat.wait_for("!document.getElementById('chat').hidden", "the chat").await;
    let notice = chat.wait_for("!document.getElementById('notice').hidden && document.getElementById('notice-text').textContent", "the monitoring notice").await;
    assert!(notice.as_str().is_some_and(|n| n.contains("supervisor")), "{notice}");
    chat.click("#notice-ok").await;
    chat.wait_for("document.getElementById('notice').hidden", "the notice acknowledged").await;
    chat.wait_for(&format!("{}.includes('can someone help')", texts("#messages li")), "their first message").await;
    chat.wait_for("document.getElementById('status').textContent.includes('in the queue')", "their place in the queue").await;
    let conv_id = chat.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).extra.conversation_id").await;
    let conv_id = conv_id.as_str().expect("the chat's id").to_owned();

    // The console shows it without a refresh, and the worker accepts it.
    let in_queue = format!("#queue li[data-conversation-id={}] button", json!(conv_id));
    console.wait_for(&format!("document.querySelector({}) !== null", json!(in_queue)), "the new chat in the queue, live").await;
    console.click(&in_queue).await;
    console.wait_for(&format!("{}.includes('can someone help')", texts("#messages li")), "the young person's message in the console").await;
    let shown = console.eval(&texts("#messages li .body")).await;
    assert!(shown.as_str().is_some_and(|t| t.contains("<script>window.pwned=2</script>")), "markup shows as the text it is: {shown}");
    nothing_ran(&mut console, "the console").await;
    nothing_ran(&mut chat, "the web chat").await;
    chat.wait_for("document.getElementById('status').textContent.includes('talking to Test duty_worker')", "who they are talking to").await;

    // They talk both ways.
    console.fill("text", "Hi, I'm here. What's happening?").await;
    console.submit("send-form").await;
    chat.wait_for(&format!("{}.includes(\"Hi, I'm here.\")", texts("#messages li.theirs")), "the worker's reply").await;
    chat.fill("text", "my stepdad shouts at me").await;
    chat.submit("send-form").await;
    chat.wait_for(&format!("{}.includes('sent')", texts("#messages li.mine .meta")), "their message acknowledged").await;
    console.wait_for(&format!("{}.includes('my stepdad shouts at me')", texts("#messages li.theirs")), "the reply in the console").await;

    // The young person's connection drops (the server asks it to reconnect and resume): what
    // the worker sends meanwhile arrives once each, in order, without a reload.
    let yp_id = chat.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).user.id").await;
    let yp_id = talkzone_mobile_api::UserId(yp_id.as_str().expect("their id").to_owned());
    s.state().hub.publish(talkzone_server::hub::Event::DisconnectUser { user_id: yp_id });
    for text in ["first while you were away", "second while you were away"] {
        console.fill("text", text).await;
        console.submit("send-form").await;
    }
    chat.wait_for(&format!("{}.includes('second while you were away')", texts("#messages li.theirs")), "the messages sent while away").await;
    chat.wait_for("document.getElementById('status').dataset.connection === 'connected'", "connected again").await;

    // Every message the server stored is on both screens once, in order.
    let stored = s.client.messages(&supervisor.access_token,
        &talkzone_mobile_api::ConversationId(conv_id.clone()), 0, None).await.expect("history").messages;
    let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
    let console_seqs = console.eval("[...document.querySelectorAll('#messages li')].map((e) => Number(e.dataset.seq))").await;
    assert_eq!(console_seqs, json!(seqs), "the console shows each stored message once, in order");
    let chat_seqs = chat.eval("[...document.querySelectorAll('#messages li')].map((e) => Number(e.dataset.seq || 0))").await;
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
    sup_console.eval(&format!("{knife}.querySelector('button').click()")).await;
    sup_console.wait_for(&format!("{knife}.textContent.includes('acknowledged')"), "the escalation acknowledged").await;
    console.fill("note", "PRIVATE-NOTE: call children's social care").await;
    console.submit("note-form").await;
    console.wait_for(&format!("{}.includes('PRIVATE-NOTE')", texts("#notes li")), "the note in the console").await;
    let seen_by_yp = chat.eval("document.body.innerText").await;
    let seen_by_yp = seen_by_yp.as_str().unwrap_or_default();
    assert!(!seen_by_yp.contains("knife") && !seen_by_yp.contains("PRIVATE-NOTE") && !seen_by_yp.contains("critical"),
        "the young person's page shows nothing of the staff record: {seen_by_yp}");

    // The worker closes the chat; the young person is told and can no longer type.
    console.eval("document.getElementById('outcome').value = 'resolved'").await;
    console.submit("close-form").await;
    chat.wait_for("document.getElementById('status').textContent.includes('This chat has ended')", "the chat ended").await;
    assert_eq!(chat.eval("document.getElementById('send-form').hidden").await, json!(true));
    nothing_ran(&mut chat, "the web chat, at the end").await;

    browser.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn pages_are_served_with_a_strict_policy_and_no_inline_script() {
    let s = server().await;
    for (path, kind) in [("/", "text/html"), ("/console", "text/html"), ("/web/chat.js", "text/javascript"),
        ("/web/console.js", "text/javascript"), ("/web/common.js", "text/javascript"), ("/web/talkzone.css", "text/css")] {
        let (status, headers, body) = s.client.raw(Method::GET, path, None, vec![]).await.expect(path);
        assert_eq!(status.as_u16(), 200, "{path}");
        let content_type = headers["content-type"].to_str().unwrap_or_default();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        if kind == "text/html" {
            let policy = headers["content-security-policy"].to_str().unwrap_or_default();
            assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
            assert!(!policy.contains("unsafe"), "{path}: {policy}");
            // Scripts only from files: no inline <script> and no on…= attributes.
            let inline = body.match_indices("<script").any(|(i, _)| !body[i..].split('>').next().unwrap_or("").contains(" src="));
            assert!(!inline, "{path} has an inline script");
            assert!(!body.contains(" onclick=") && !body.contains(" onload="), "{path} has an inline handler");
        }
    }
    // The API keeps its own policy (nothing may load), and an unknown asset is the usual 404.
    let (_, headers, _) = s.client.raw(Method::GET, "/healthz", None, vec![]).await.expect("healthz");
    assert_eq!(headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    let (status, _, body) = s.client.raw(Method::GET, "/web/../Cargo.toml", None, vec![]).await.expect("asset");
    assert_eq!(status.as_u16(), 404, "{body}");
    let (status, _, body) = s.client.raw(Method::GET, "/web/secret.js", None, vec![]).await.expect("asset");
    assert_eq!((status.as_u16(), body.contains("not_found")), (404, true), "{body}");
    s.stop().await;
}
