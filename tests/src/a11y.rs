//! Looking at a page as people do: accessibility checked by axe-core inside the browser, the
//! viewport of a phone or a laptop, the keyboard, and screenshots to look at.
//!
//! axe-core is a test fixture (`tests/fixtures/axe-core/`, MPL-2.0, unmodified), injected into
//! the page by the DevTools protocol, which the page's Content Security Policy does not govern:
//! the server never serves it.

use base64::Engine;
use serde_json::{json, Value};

use crate::browser::Page;

const AXE: &str = include_str!("../fixtures/axe-core/axe.min.js");

/// The WCAG 2.2 success criteria at levels A and AA (axe's tags for them).
const WCAG_AA: [&str; 6] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

/// Runs axe-core on the page as it is now and fails the test on any critical or serious
/// violation of WCAG 2.2 A/AA, naming `state` (what the page was showing), each rule, why and
/// where. Moderate and minor findings are returned for the caller to look at.
pub async fn axe(page: &mut Page, state: &str) -> Vec<String> {
    if page.eval("typeof window.axe === 'undefined'").await == json!(true) {
        let r = page.call("Runtime.evaluate", json!({"expression": AXE, "returnByValue": true})).await;
        assert!(r.get("exceptionDetails").is_none(), "axe-core did not load: {r}");
    }
    let run = format!(
        "axe.run(document, {{runOnly: {{type: 'tag', values: {}}}, resultTypes: ['violations']}})\
         .then((r) => r.violations.map((v) => ({{id: v.id, impact: v.impact, help: v.help, \
         nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary).slice(0, 5)}})))",
        json!(WCAG_AA)
    );
    let found = page.eval(&run).await;
    let found = found.as_array().cloned().unwrap_or_default();
    let describe = |v: &Value| {
        format!(
            "{} ({}): {}\n    {}",
            v["id"].as_str().unwrap_or(""),
            v["impact"].as_str().unwrap_or(""),
            v["help"].as_str().unwrap_or(""),
            v["nodes"]
                .as_array()
                .map(|n| n.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n    "))
                .unwrap_or_default()
        )
    };
    let grave: Vec<String> =
        found.iter().filter(|v| matches!(v["impact"].as_str(), Some("critical" | "serious"))).map(describe).collect();
    assert!(
        grave.is_empty(),
        "axe-core, {state}: {} critical or serious WCAG 2.2 AA violation(s):\n{}",
        grave.len(),
        grave.join("\n")
    );
    found.iter().map(describe).collect()
}

/// The page as a phone (`width` < 600: touch, mobile) or a laptop of that size shows it.
pub async fn viewport(page: &mut Page, width: u32, height: u32) {
    let mobile = width < 600;
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
    )
    .await;
    page.call("Emulation.setTouchEmulationEnabled", json!({"enabled": mobile})).await;
}

/// Presses and releases a key (`Escape`, `Enter`, `Tab` …) on whatever has the focus.
pub async fn press(page: &mut Page, key: &str) {
    let code = match key {
        "Escape" => 27,
        "Enter" => 13,
        "Tab" => 9,
        _ => 0,
    };
    for kind in ["keyDown", "keyUp"] {
        page.call(
            "Input.dispatchKeyEvent",
            json!({"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code}),
        )
        .await;
    }
}

/// Saves what the page shows now as a PNG at `path`, when `TALKZONE_SCREENSHOTS` names a
/// directory (`path` is then inside it); otherwise does nothing. For people to look at.
pub async fn screenshot(page: &mut Page, name: &str) {
    let Ok(dir) = std::env::var("TALKZONE_SCREENSHOTS") else { return };
    let shot = page.call("Page.captureScreenshot", json!({"format": "png"})).await;
    let data =
        base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().expect("PNG data")).expect("base64");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), data).expect("screenshot written");
}
