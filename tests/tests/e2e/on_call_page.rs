//! The admin page says in red when escalations cannot reach the on-call contact (no webhook
//! configured), and says nothing when they can. In a real chromium; screenshots at phone and
//! laptop sizes go to `TALKZONE_SCREENSHOTS` when it names a directory.

use serde_json::json;
use talkzone_mobile_api::Role;
use talkzone_tests::browser::Browser;
use talkzone_tests::{TestServer, TEST_PASSWORD};

async fn server(webhook: Option<&str>) -> TestServer {
    let webhook = webhook.map(str::to_owned);
    TestServer::builder(talkzone_tests::Backend::Sqlite)
        .own_origin()
        .config(move |c| {
            c.desk.oncall_webhook_secret = webhook.as_ref().map(|_| talkzone_server::config::Secret("k".repeat(32)));
            c.desk.oncall_webhook_url = webhook;
        })
        .start()
        .await
}

const WARNING: &str = "document.getElementById('on-call-warning')";

#[tokio::test]
async fn the_admin_page_says_in_red_when_on_call_is_not_configured() {
    let browser = Browser::start().await;
    for configured in [false, true] {
        let s = server(configured.then_some("http://127.0.0.1:9/oncall")).await;
        s.staff_named(Role::YotAdmin, "oncall-admin").await;
        let mut admin = browser.open(&format!("{}/admin", s.base)).await;
        admin.fill("username", "oncall-admin").await;
        admin.fill("password", TEST_PASSWORD).await;
        admin.submit("login-form").await;
        admin.wait_for("!document.getElementById('panels').hidden", "the admin panels").await;
        admin.wait_for(&format!("{WARNING}.dataset.checked === 'true'"), "the look at /readyz").await;
        if configured {
            assert_eq!(admin.eval(&format!("{WARNING}.hidden")).await, json!(true));
        } else {
            admin.wait_for(&format!("!{WARNING}.hidden"), "the on-call warning").await;
            let text = admin.eval(&format!("{WARNING}.textContent")).await;
            assert!(text.as_str().unwrap().contains("no on-call webhook is configured"), "{text}");
            let colour = admin.eval(&format!("getComputedStyle({WARNING}).backgroundColor")).await;
            assert_eq!(colour, json!("rgb(179, 38, 30)"), "red");
            if let Ok(dir) = std::env::var("TALKZONE_SCREENSHOTS") {
                for (w, h) in [(390, 844), (1366, 768)] {
                    admin.set_window(w, h).await;
                    admin.screenshot(&std::path::Path::new(&dir).join(format!("admin-on-call-{w}x{h}.png"))).await;
                }
            }
        }
        s.stop().await;
    }
    browser.stop().await;
}
