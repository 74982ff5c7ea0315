//! Coming back in the web chat, in a real browser at a phone's size (390 x 844): the young
//! person chooses to be remembered on their own device (with the warning about shared and
//! checked devices on screen), closes the tab, and a new tab opens their chat with the
//! worker's answer; "Forget me" and the quick exit each leave nothing that opens it; the secret
//! words open it on a device that does not remember them. axe-core checks each state.

use serde_json::json;
use talkzone_mobile_api::{ConversationId, Role};
use talkzone_tests::a11y::{axe, press, screenshot, viewport};
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::TestServer;

const T: std::time::Duration = std::time::Duration::from_secs(10);
const ANSWER: &str = "Hi, it's Sam from Talk Zone. I read your message this morning.";

async fn server() -> TestServer {
    TestServer::builder(talkzone_tests::Backend::Sqlite).own_origin().start().await
}

async fn phone(browser: &Browser, s: &TestServer) -> Page {
    let mut page = browser.open(&format!("{}/", s.base)).await;
    viewport(&mut page, 390, 844).await;
    page
}

fn chat_shows(text: &str) -> String {
    format!("document.getElementById('messages').textContent.includes({})", json!(text))
}

const REMEMBERED: &str = "localStorage.getItem('talkzone.device')";

#[tokio::test]
async fn a_remembered_device_and_the_secret_words_open_the_chat_with_the_answer() {
    let s = server().await;
    let worker = s.staff(Role::DutyWorker).await;
    let browser = Browser::start().await;
    let mut page = phone(&browser, &s).await;
    page.fill("first", "I'll come back later, nobody's on now").await;
    page.submit("start-form").await;
    page.wait_for("!document.getElementById('notice').hidden", "the monitoring notice").await;
    page.click("#notice-ok").await;
    page.wait_for("document.getElementById('status').dataset.connection === 'connected'", "connected").await;
    let id = page.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).extra.conversation_id").await;
    let conv_id = ConversationId(id.as_str().expect("the chat's id").to_owned());

    // The choice, explained, under the chat.
    page.wait_for("!document.getElementById('keep').hidden", "the keep panel").await;
    page.click("#keep-open").await;
    page.wait_for("document.getElementById('keep').open", "the panel opened from beside End chat").await;
    let text = page.eval("document.getElementById('keep').textContent").await;
    let text = text.as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("your own phone") && text.contains("shared") && text.contains("they could open your chat"),
        "{text}"
    );
    axe(&mut page, "the keep panel open").await;
    screenshot(&mut page, "coming-back-1-choice").await;
    assert_eq!(page.eval(REMEMBERED).await, json!(null), "nothing remembered before the choice");
    page.click("#keep-yes").await;
    page.wait_for("!document.getElementById('keep-on').hidden", "remembered").await;
    assert!(page.eval(REMEMBERED).await.is_string());
    page.click("#phrase-make").await;
    page.wait_for("!document.getElementById('phrase-shown').hidden", "the secret words").await;
    let phrase = page.eval("document.getElementById('phrase-shown').textContent").await;
    let phrase = phrase.as_str().expect("the words").to_owned();
    assert_eq!(phrase.split(' ').count(), 10, "{phrase}");
    page.eval("document.getElementById('phrase-once').scrollIntoView(false)").await;
    axe(&mut page, "remembered, with the secret words").await;
    screenshot(&mut page, "coming-back-2-remembered-and-words").await;

    // The tab closes; a worker answers into the chat.
    page.eval("window.close()").await;
    s.client.accept(&worker.access_token, &conv_id).await.unwrap();
    let mut w = s.client.connect(&worker.access_token).await.unwrap();
    w.send_message(&conv_id, "w-1", ANSWER).await.unwrap();

    // A new tab on the same device: the chat, with the answer.
    let mut page = phone(&browser, &s).await;
    page.wait_for(&chat_shows(ANSWER), "the answer in the chat on coming back").await;
    axe(&mut page, "back in the chat").await;
    screenshot(&mut page, "coming-back-3-back-with-the-answer").await;

    // Forget me: the server forgets the device too, and a new tab starts afresh.
    page.eval("document.getElementById('keep').open = true").await;
    page.click("#keep-forget").await;
    page.wait_for("!document.getElementById('keep-choice').hidden", "forgotten").await;
    assert_eq!(page.eval(REMEMBERED).await, json!(null));
    let yp_token = page.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).access_token").await;
    let yp_token = yp_token.as_str().expect("a token").to_owned();
    talkzone_tests::eventually(T, "the server to forget the device", || async {
        s.client.device_credentials(&yp_token).await.ok().filter(|l| l.credentials.is_empty())
    })
    .await;
    let mut page = phone(&browser, &s).await;
    page.wait_for("!document.getElementById('start').hidden", "the start page").await;
    assert_eq!(page.eval("document.getElementById('chat').hidden").await, json!(true), "no chat opens");

    // The secret words, on a device that does not remember them (typed with a capital).
    page.eval(
        "document.getElementById('come-back').open = true; document.getElementById('come-back').scrollIntoView()",
    )
    .await;
    axe(&mut page, "coming back with the secret words").await;
    screenshot(&mut page, "coming-back-4-words-form").await;
    let typed = format!("{}{}", phrase[..1].to_uppercase(), &phrase[1..]);
    page.fill("phrase", &typed).await;
    page.submit("phrase-form").await;
    page.wait_for(&chat_shows(ANSWER), "the answer in the chat, with the words").await;

    // Remembered again, then the quick exit: forgotten here and on the server.
    page.eval("document.getElementById('keep').open = true").await;
    page.click("#keep-yes").await;
    page.wait_for("!document.getElementById('keep-on').hidden", "remembered again").await;
    let yp_token = page.eval("JSON.parse(sessionStorage.getItem('talkzone.chat')).access_token").await;
    let yp_token = yp_token.as_str().expect("a token").to_owned();
    assert_eq!(s.client.device_credentials(&yp_token).await.unwrap().credentials.len(), 1);
    page.eval("document.getElementById('text').focus()").await;
    press(&mut page, "Escape").await;
    talkzone_tests::eventually(T, "the quick exit to forget the device on the server", || async {
        s.client.device_credentials(&yp_token).await.ok().filter(|l| l.credentials.is_empty())
    })
    .await;
    let mut page = phone(&browser, &s).await;
    page.wait_for("!document.getElementById('start').hidden", "the start page").await;
    assert_eq!(page.eval(REMEMBERED).await, json!(null), "nothing remembered after the quick exit");
    assert_eq!(page.eval("document.getElementById('chat').hidden").await, json!(true), "no chat opens");
    browser.stop().await;
    s.stop().await;
}
