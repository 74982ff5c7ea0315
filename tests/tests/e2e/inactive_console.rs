//! The worker's side of an inactive chat, in the console in a real browser (1366 x 768): the
//! quiet young person is announced in the header, and the closed chat says how it ended,
//! `no response` unlike a quick exit.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use talkzone_mobile_api::{CreateConversationRequest, EndChatRequest, EndReason, Role};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_server::conversations::inactive::{self, InactiveRound};
use talkzone_tests::a11y::{axe, screenshot, viewport};
use talkzone_tests::browser::Browser;
use talkzone_tests::{TestServer, TEST_PASSWORD};

fn text(selector: &str) -> String {
    format!("(document.querySelector({})?.textContent ?? '')", json!(selector))
}

#[tokio::test]
async fn the_console_announces_a_quiet_young_person_and_says_how_chats_ended() {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(talkzone_tests::Backend::Sqlite)
        .clock(clock.clone())
        .own_origin()
        .config(move |c| {
            c.access_token_ttl = Duration::from_secs(24 * 3600);
            c.returning.inactive_prompt_after = Duration::from_secs(10 * 60);
            c.returning.inactive_close_after = Duration::from_secs(20 * 60);
        })
        .start()
        .await;
    let worker = s.staff_named(Role::DutyWorker, "quiet-worker").await;
    let browser = Browser::start().await;
    let mut console = browser.open(&format!("{}/console", s.base)).await;
    viewport(&mut console, 1366, 768).await;
    console.fill("username", "quiet-worker").await;
    console.fill("password", TEST_PASSWORD).await;
    console.submit("login-form").await;
    console
        .wait_for(
            "!document.getElementById('desk').hidden && document.getElementById('connection').textContent === 'live'",
            "the desk, live",
        )
        .await;

    // A chat that goes quiet after the worker's message.
    let yp = s.young_person().await;
    let req = CreateConversationRequest { topic: None, first_message: Some("hello?".into()) };
    let conv = s.client.open_conversation(&yp.access_token, &req).await.unwrap().1;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut w = s.client.connect(&worker.access_token).await.unwrap();
    w.send_message(&conv.id, "w-1", "Hi, I'm here. What's happening?").await.unwrap();
    let row = format!("#mine li[data-conversation-id={}]", json!(conv.id.as_str()));
    console.wait_for(&format!("document.querySelector({}) !== null", json!(row)), "the chat in My chats").await;
    console.click(&format!("{row} button")).await;
    console.wait_for(&format!("{}.includes('What\\'s happening')", text("#messages")), "the chat open").await;
    clock.advance_ms(10 * 60_000);
    assert_eq!(inactive::check(s.state()).await.unwrap(), InactiveRound { prompted: 1, closed: 0 });
    console
        .wait_for(
            &format!("{}.includes(\"hasn't answered for 10 minutes\")", text("#header-notes + .console-say")),
            "told",
        )
        .await;
    axe(&mut console, "a quiet young person announced").await;
    screenshot(&mut console, "inactive-1-worker-told").await;
    clock.advance_ms(10 * 60_000);
    assert_eq!(inactive::check(s.state()).await.unwrap(), InactiveRound { prompted: 0, closed: 1 });
    console
        .wait_for(&format!("{}.includes('they stopped answering')", text("#chat-state")), "closed, no response")
        .await;
    screenshot(&mut console, "inactive-2-closed-no-response").await;

    // A quick exit reads differently.
    let other = s.young_person().await;
    let req = CreateConversationRequest { topic: None, first_message: Some("quick one".into()) };
    let gone = s.client.open_conversation(&other.access_token, &req).await.unwrap().1;
    s.client.accept(&worker.access_token, &gone.id).await.unwrap();
    let row = format!("#mine li[data-conversation-id={}]", json!(gone.id.as_str()));
    console.wait_for(&format!("document.querySelector({}) !== null", json!(row)), "the second chat").await;
    console.click(&format!("{row} button")).await;
    console.wait_for(&format!("{}.includes('quick one')", text("#messages")), "the second chat open").await;
    let end = EndChatRequest { reason: EndReason::QuickExit };
    s.client.end_conversation(&other.access_token, &gone.id, &end).await.unwrap();
    console.wait_for(&format!("{}.includes('left with the quick exit')", text("#chat-state")), "quick exit").await;
    screenshot(&mut console, "inactive-3-closed-quick-exit").await;
    browser.stop().await;
    s.stop().await;
}
