//! The service report on the admin page (`server/web/admin-reports.js`) in a real browser, at
//! 1280x800 and a phone's 390x844: the period chosen, the figures as tables, each breakdown a
//! chart with its table beside it, withheld numbers said as such, a report withheld whole
//! with its reason; each state checked with axe-core. With `TALKZONE_SCREENSHOTS` set, the
//! test leaves screenshots there to look at.

use serde_json::json;
use talkzone_server::clock::{rfc3339, Clock, SystemClock};
use talkzone_tests::a11y::{axe, screenshot, viewport};
use talkzone_tests::api::{CreateConversationRequest, Role, ServiceReportQuery};
use talkzone_tests::browser::{Browser, Page};
use talkzone_tests::{TestServer, TEST_PASSWORD};

async fn settle(page: &mut Page) {
    page.eval("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))").await;
}

async fn show(page: &mut Page, from: &str, to: &str) {
    page.eval(&format!(
        "document.getElementById('sr-from').value = {}; document.getElementById('sr-to').value = {}; \
         document.getElementById('service-report').replaceChildren(); true",
        json!(from),
        json!(to)
    ))
    .await;
    page.submit("service-report-form").await;
    page.wait_for("document.querySelector('#service-report h3') !== null", "the service report").await;
}

#[tokio::test]
async fn the_admin_page_shows_the_service_report_with_charts_and_tables() {
    let s = TestServer::builder(talkzone_tests::Backend::Sqlite)
        .own_origin()
        .config(|c| c.surveys.suppression_threshold = 3)
        .start()
        .await;
    let admin = s.staff_named(Role::YotAdmin, "report-admin").await;
    for _ in 0..4 {
        let yp = s.young_person().await;
        let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
        s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    }
    let today = rfc3339(SystemClock.now_ms())[..10].to_owned();
    let yesterday = rfc3339(SystemClock.now_ms() - 86_400_000)[..10].to_owned();

    let browser = Browser::start().await;
    let mut page = browser.open(&format!("{}/admin", s.base)).await;
    viewport(&mut page, 1280, 800).await;
    page.fill("username", "report-admin").await;
    page.fill("password", TEST_PASSWORD).await;
    page.submit("login-form").await;
    page.wait_for("!document.getElementById('panels').hidden", "the admin panels").await;

    show(&mut page, &today, &today).await;
    let rows = page.eval("[...document.querySelectorAll('#service-report table')][0].innerText").await;
    let rows = rows.as_str().unwrap_or_default().to_owned();
    assert!(rows.contains("contacts\t4"), "{rows}");
    assert!(rows.contains("answered\twithheld"), "{rows}");
    let charts = page
        .eval("document.querySelectorAll('#service-report figure.chart-with-table svg[role=img] title').length")
        .await;
    assert_eq!(charts, json!(5), "hour, weekday, outcomes, decisions, risk categories");
    let tables_beside =
        page.eval("document.querySelectorAll('#service-report figure.chart-with-table table').length").await;
    assert_eq!(tables_beside, json!(5));
    // Withheld bars are drawn empty and said.
    let withheld =
        page.eval("document.querySelector('#service-report figure svg').textContent.includes('withheld')").await;
    assert_eq!(withheld, json!(true));
    page.eval("document.getElementById('tool-service-report').scrollIntoView(), true").await;
    axe(&mut page, "the service report").await;
    settle(&mut page).await;
    screenshot(&mut page, "service-report-1280").await;
    page.eval("document.querySelectorAll('#service-report figure')[1].scrollIntoView(), true").await;
    settle(&mut page).await;
    screenshot(&mut page, "service-report-1280-chart").await;

    viewport(&mut page, 390, 844).await;
    page.eval("document.getElementById('tool-service-report').scrollIntoView(), true").await;
    let overflow = page.eval("document.documentElement.scrollWidth - innerWidth").await;
    assert!(overflow.as_f64().unwrap_or(1.0) <= 0.0, "the page runs {overflow}px off the side of a phone");
    axe(&mut page, "the service report on a phone").await;
    settle(&mut page).await;
    screenshot(&mut page, "service-report-390").await;
    page.eval("document.querySelector('#service-report figure').scrollIntoView(), true").await;
    settle(&mut page).await;
    screenshot(&mut page, "service-report-390-chart").await;

    // One more chat today: today's report again would show the newcomer by subtraction, so it
    // is withheld whole, with the reason.
    viewport(&mut page, 1280, 800).await;
    let yp = s.young_person().await;
    let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
    s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    show(&mut page, &today, &today).await;
    let why = page.eval("document.getElementById('service-report-withheld')?.textContent ?? ''").await;
    assert!(why.as_str().unwrap_or_default().contains("widen or change the period"), "{why}");
    assert_eq!(page.eval("document.querySelectorAll('#service-report table').length").await, json!(0));
    axe(&mut page, "a withheld service report").await;

    // The summary document: what the button saves is the document of the period on screen.
    page.eval(
        "window.savedBlob = null; const make = URL.createObjectURL; \
         URL.createObjectURL = (b) => { window.savedBlob = b; return make(b); }; true",
    )
    .await;
    page.click("#sr-summary").await;
    page.wait_for("window.savedBlob && window.savedBlob.size > 0", "the summary document saved").await;
    let saved = page.eval("window.savedBlob.text()").await;
    let saved = saved.as_str().unwrap_or_default();
    assert!(saved.contains(&format!("Talk Zone service summary, {today} to {today}")), "{saved}");
    assert!(saved.contains("The service figures for this period are withheld"), "the page's period, withheld: {saved}");
    // The document as a board member opens it (a file: no policy of the site's), with numbers
    // this time: 3 more chats, so that today's 8 differ from every release by 3 or more.
    for _ in 0..3 {
        let yp = s.young_person().await;
        let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
        s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    }
    let saved = s
        .client
        .service_summary(&admin.access_token, &ServiceReportQuery { from: yesterday.clone(), to: today.clone() })
        .await
        .unwrap();
    let mut doc = browser.open("about:blank").await;
    let frame = doc.call("Page.getFrameTree", json!({})).await["frameTree"]["frame"]["id"].clone();
    doc.call("Page.setDocumentContent", json!({"frameId": frame, "html": saved})).await;
    assert_eq!(
        doc.eval("document.querySelector('h1').textContent").await,
        json!(format!("Talk Zone service summary, {yesterday} to {today}"))
    );
    for (w, h) in [(1280, 800), (390, 844)] {
        viewport(&mut doc, w, h).await;
        axe(&mut doc, "the summary document").await;
        screenshot(&mut doc, &format!("service-summary-{w}")).await;
    }

    // A period the wrong way round: the API's reason beside the form, as an alert.
    page.eval(&format!(
        "document.getElementById('sr-from').value = {}; document.getElementById('sr-to').value = {}; true",
        json!(today),
        json!(yesterday)
    ))
    .await;
    page.submit("service-report-form").await;
    let said = page
        .wait_for(
            "(() => { const m = document.getElementById('service-report-form-message'); \
             return m && !m.hidden && m.getAttribute('role') === 'alert' && m.textContent; })()",
            "the refusal",
        )
        .await;
    assert!(said.as_str().unwrap_or_default().contains("from must not be after to"), "{said}");
    axe(&mut page, "a refused period").await;
    browser.stop().await;
}
