//! A real browser for the web pages' tests: Debian's chromium, headless, driven over the
//! Chrome DevTools Protocol (a JSON WebSocket) with tokio-tungstenite. Each page is its own
//! tab, so each has its own `sessionStorage` (its own signed-in person).

use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::TempDir;

/// How long a page gets to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(15);

pub struct Browser {
    child: Child,
    endpoint: String,
    _profile: TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// One browser at a time in a test process: each is a few processes, and on CI's two cores two
/// of them side by side make a test's waits a matter of luck.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The chromium to run: `TALKZONE_TEST_CHROMIUM`, else `chromium` on the `PATH`. There is no
/// skipping: without a browser the web pages are untested, so the test fails and says how to
/// get one (`scripts/test.sh` installs it).
fn chromium() -> String {
    if let Ok(path) = std::env::var("TALKZONE_TEST_CHROMIUM") {
        return path;
    }
    if let Some(path) = which("chromium").or_else(|| which("chromium-browser")) {
        return path;
    }
    panic!("the web page tests need chromium: `apt-get install chromium`, or set TALKZONE_TEST_CHROMIUM (scripts/test.sh does)");
}

/// `name`'s path on the `PATH`, if it is there.
fn which(name: &str) -> Option<String> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|dir| std::path::Path::new(dir).join(name))
        .find(|candidate| candidate.is_file())
        .map(|p| p.display().to_string())
}

impl Browser {
    pub async fn start() -> Browser {
        let turn = ONE_AT_A_TIME.lock().await;
        let profile = TempDir::new();
        // Under `setpriv --pdeathsig KILL` (util-linux), chromium dies with the test's thread
        // even when the test process is killed outright (a CI timeout), which no destructor
        // would see.
        let mut command = if which("setpriv").is_some() {
            let mut c = Command::new("setpriv");
            c.args(["--pdeathsig", "KILL", "--"]).arg(chromium());
            c
        } else {
            Command::new(chromium())
        };
        // Its own process group, so that stopping it stops every process it started.
        let mut child = command
            .process_group(0)
            .args([
                "--headless=new",
                // Tests run as root in CI containers, where chromium's sandbox cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let endpoint = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("chromium's output") {
                // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let rest = url.trim().trim_start_matches("ws://");
                    return rest.split('/').next().expect("host:port").to_owned();
                }
            }
            panic!("chromium exited before it listened");
        })
        .await
        .expect("chromium listens within 30 s");
        // Keep draining its output so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Browser { child, endpoint, _profile: profile, _turn: turn }
    }

    /// A new tab showing `url`, ready once its document has loaded.
    pub async fn open(&self, url: &str) -> Page {
        let target: Value = reqwest::Client::new()
            .put(format!("http://{}/json/new?{url}", self.endpoint))
            .send()
            .await
            .expect("new tab")
            .json()
            .await
            .expect("tab description");
        let ws_url = target["webSocketDebuggerUrl"].as_str().expect("the tab's debugger URL");
        let (ws, _) = tokio_tungstenite::connect_async(ws_url).await.expect("attach to the tab");
        let mut page = Page { ws, next_id: 0, url: url.to_owned(), events: Vec::new() };
        // The tab starts on about:blank: wait for this URL's document, loaded.
        let loaded = format!("location.href === {} && document.readyState === 'complete'", json!(url));
        page.wait_for(&loaded, "the page loads").await;
        page
    }

    /// Stops chromium and every process it started, then removes its profile (which those
    /// processes write to until they are gone).
    pub async fn stop(mut self) {
        self.kill_group();
        let _ = self.child.wait().await;
        for _ in 0..40 {
            if std::fs::remove_dir_all(&self._profile.0).is_ok() || !self._profile.0.exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill_group(&self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
        }
    }
}

impl Drop for Browser {
    /// A test that fails never reaches `stop`: its browser goes too.
    fn drop(&mut self) {
        self.kill_group();
    }
}

pub struct Page {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    url: String,
    /// Events that came while waiting for an answer, for `event` (only domains a test enabled
    /// send them, so this stays small).
    events: Vec<Value>,
}

impl Page {
    /// One Chrome DevTools Protocol command on this tab; its error fails the test.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        match self.try_call(method, params).await {
            Ok(v) => v,
            Err(e) => panic!("{method}: {e}"),
        }
    }

    /// As `call`, with the browser's error returned rather than failing the test.
    async fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(Message::Text(request.into())).await.expect("send to the browser");
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer from the browser"))
                .expect("the tab is open")
                .expect("a message from the browser");
            let Message::Text(text) = msg else { continue };
            let v: Value = serde_json::from_str(&text).expect("JSON from the browser");
            // Events (without an id) are kept for `event`.
            if v["id"] == json!(id) {
                if let Some(e) = v.get("error") {
                    return Err(e.clone());
                }
                return Ok(v["result"].clone());
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    /// The first event `method` whose params `matches` accepts (one that came earlier
    /// included), waiting for it if need be; fails the test with `what` if none comes in time.
    pub async fn event(&mut self, method: &str, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method && matches(&e["params"])) {
            return self.events.remove(i)["params"].clone();
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("waited {PATIENCE:?} for {what} ({method}) in {}", self.url))
                .expect("the tab is open")
                .expect("a message from the browser");
            let Message::Text(text) = msg else { continue };
            let v: Value = serde_json::from_str(&text).expect("JSON from the browser");
            if v["method"] == method && matches(&v["params"]) {
                return v["params"].clone();
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    /// Runs `js` in the page (awaiting a promise) and returns its value as JSON. A thrown
    /// exception fails the test with the page's message.
    pub async fn eval(&mut self, js: &str) -> Value {
        match self.try_eval(js).await {
            Ok(v) => v,
            Err(e) => panic!("{js}\nthrew in {}: {e}", self.url),
        }
    }

    /// As `eval`, with the browser's error or the page's exception returned: while the tab is
    /// between documents (a link followed, a redirect), evaluating fails for a moment.
    async fn try_eval(&mut self, js: &str) -> Result<Value, String> {
        let r = self
            .try_call("Runtime.evaluate", json!({"expression": js, "awaitPromise": true, "returnByValue": true}))
            .await
            .map_err(|e| e.to_string())?;
        if let Some(e) = r.get("exceptionDetails") {
            return Err(e["exception"]["description"].as_str().map_or_else(|| e.to_string(), str::to_owned));
        }
        Ok(r["result"]["value"].clone())
    }

    /// Reloads the page and waits until the new one has loaded (its scripts run). Evaluating
    /// `location.reload()` instead races the navigation: the answer may never come.
    pub async fn reload(&mut self) {
        self.eval("window.talkzoneBeforeReload = true").await;
        self.call("Page.reload", json!({})).await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let fresh = "window.talkzoneBeforeReload === undefined && document.readyState === 'complete'";
        loop {
            // While the page is between documents, evaluating fails: try again.
            let r = self.try_call("Runtime.evaluate", json!({"expression": fresh, "returnByValue": true})).await;
            if r.is_ok_and(|r| r["result"]["value"] == json!(true)) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "{} did not reload in {PATIENCE:?}", self.url);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `js` is truthy in the page and returns its value; fails with `what` and
    /// the page's visible text if it does not happen in time.
    pub async fn wait_for(&mut self, js: &str, what: &str) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            // An evaluation that fails (the tab between two documents of a navigation) is
            // "not yet"; if it still fails at the deadline, its error is in the message.
            let v = self.try_eval(js).await;
            if let Ok(v) = &v {
                let truthy = !matches!(v, Value::Null | Value::Bool(false)) && *v != json!(0) && *v != json!("");
                if truthy {
                    return v.clone();
                }
            }
            if tokio::time::Instant::now() > deadline {
                let text = self.try_eval("document.body ? document.body.innerText : ''").await.unwrap_or_default();
                let last = v.err().map(|e| format!(" (last evaluation threw: {e})")).unwrap_or_default();
                panic!(
                    "waited {PATIENCE:?} for {what} ({js}) in {}{last}; the page shows:\n{}",
                    self.url,
                    text.as_str().unwrap_or("")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// As `wait_for` for at most `within`: `None` if `js` did not become truthy by then.
    pub async fn poll(&mut self, js: &str, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Ok(v) = self.try_eval(js).await {
                if !matches!(v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("") {
                    return Some(v);
                }
            }
            if tokio::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the field with id `field` (with an input event, so the page sees it).
    pub async fn fill(&mut self, field: &str, text: &str) {
        self.fill_selector(&format!("#{field}"), text).await;
    }

    /// Types `text` into the field `selector` finds.
    pub async fn fill_selector(&mut self, selector: &str, text: &str) {
        let js = format!(
            "(() => {{ const f = document.querySelector({}); f.value = {}; f.dispatchEvent(new Event('input', {{bubbles: true}})); return true; }})()",
            json!(selector),
            json!(text)
        );
        self.eval(&js).await;
    }

    /// Submits the form with id `form` as a press of its button would.
    pub async fn submit(&mut self, form: &str) {
        self.eval(&format!("document.getElementById({}).requestSubmit(), true", json!(form))).await;
    }

    /// Shows the page as a screen `width` x `height` CSS pixels would (`mobile`: as a phone,
    /// with touch-sized layout), for screenshots at the sizes people use.
    pub async fn set_viewport(&mut self, width: u32, height: u32, mobile: bool) {
        let metrics = json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile});
        self.call("Emulation.setDeviceMetricsOverride", metrics).await;
    }

    /// Writes what the viewport shows now to `path`, as a PNG.
    pub async fn screenshot(&mut self, path: &std::path::Path) {
        use base64::Engine as _;
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"})).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("the screenshot's data"))
            .expect("base64 from the browser");
        std::fs::write(path, png).expect("write the screenshot");
    }

    /// Clicks the element `selector` finds.
    pub async fn click(&mut self, selector: &str) {
        let js = format!("(() => {{ const e = document.querySelector({}); if (!e) throw new Error('nothing at ' + {0}); e.click(); return true; }})()", json!(selector));
        self.eval(&js).await;
    }

    /// Shows the page in a window of `width` x `height` CSS pixels (a phone below 600).
    pub async fn set_window(&mut self, width: u32, height: u32) {
        let metrics = json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600});
        self.call("Emulation.setDeviceMetricsOverride", metrics).await;
    }
}
