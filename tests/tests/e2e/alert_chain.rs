//! Alerts that cannot be missed, with time controlled (ManualClock and `run_once`): an
//! unacknowledged escalation keeps re-escalating, step after step, each step audited, until a
//! supervisor acknowledges it; a critical one raised when no supervisor is connected goes to
//! on-call at once; on-call alerts are signed (checked by a receiver written from
//! docs/operations.md, which refuses a forgery and a replay) and carry none of the young
//! person's words; `/readyz` says when on-call is not configured or failing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::Value;
use sha2::Sha256;
use talkzone_mobile_api::{
    ClientFrame, CreateConversationRequest, EscalationOverdueAlert, RaiseEscalationRequest, Role, ServerFrame,
};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_server::jobs;
use talkzone_tests::{both_backends, eventually, Backend, TestServer};

const T: Duration = Duration::from_secs(10);
const SECRET: &str = "test-secret-0123456789abcdef0123456789";

/// What the receiver saw: each alert it accepted, and how many requests it refused.
#[derive(Default)]
struct Received {
    accepted: Vec<(HeaderMap, String)>,
    refused: Vec<&'static str>,
    deliveries: HashSet<String>,
}

/// The on-call contact's system, verifying as docs/operations.md says: the HMAC-SHA-256 of
/// `{timestamp}.{body}`, a timestamp within 5 minutes of its clock, a delivery id not seen.
async fn receiver(clock: Arc<ManualClock>) -> (String, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let r = received.clone();
    let app = axum::Router::new().route(
        "/oncall",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (r, clock) = (r.clone(), clock.clone());
            async move {
                let verdict = verify(&headers, &body, clock.now_ms() / 1000);
                let mut got = r.lock().unwrap();
                match verdict {
                    Err(why) => {
                        got.refused.push(why);
                        StatusCode::UNAUTHORIZED
                    }
                    Ok(delivery) if !got.deliveries.insert(delivery.clone()) => {
                        got.refused.push("replayed delivery");
                        StatusCode::CONFLICT
                    }
                    Ok(_) => {
                        got.accepted.push((headers, body));
                        StatusCode::OK
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/oncall"), received)
}

fn verify(headers: &HeaderMap, body: &str, now_s: i64) -> Result<String, &'static str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let timestamp = header("x-talkzone-timestamp").ok_or("no timestamp")?;
    let signature = header("x-talkzone-signature").ok_or("no signature")?;
    let delivery = header("x-talkzone-delivery").ok_or("no delivery id")?;
    let ts: i64 = timestamp.parse().map_err(|_| "bad timestamp")?;
    if (now_s - ts).abs() > 300 {
        return Err("timestamp outside the window");
    }
    let hex = signature.strip_prefix("sha256=").ok_or("bad signature scheme")?;
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| "bad signature hex")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    mac.verify_slice(&bytes).map_err(|_| "signature does not match")?;
    Ok(delivery)
}

fn alerts(r: &Arc<Mutex<Received>>) -> Vec<EscalationOverdueAlert> {
    r.lock().unwrap().accepted.iter().map(|(_, b)| serde_json::from_str(b).expect("documented shape")).collect()
}

async fn server(backend: Backend, clock: &Arc<ManualClock>, url: Option<String>) -> TestServer {
    TestServer::builder(backend)
        .clock(clock.clone())
        .config(move |c| {
            c.desk.oncall_webhook_url = url;
            c.desk.oncall_webhook_secret = Some(talkzone_server::config::Secret(SECRET.into()));
        })
        .start()
        .await
}

async fn ready(s: &TestServer) -> Value {
    let (status, _, body) = s.client.raw(Method::GET, "/readyz", None, vec![]).await.unwrap();
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn unacknowledged_escalations_keep_re_escalating_until_acknowledged(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let (url, got) = receiver(clock.clone()).await;
    let s = server(backend, &clock, Some(url)).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let worker = s.staff(Role::DutyWorker).await;
    // A supervisor is connected, so nothing goes to on-call at once.
    let mut sup_ws = s.client.connect(&supervisor.access_token).await.unwrap();
    sup_ws.send(&ClientFrame::Ping { nonce: None }).await.unwrap();
    sup_ws.recv_until(T, |f| matches!(f, ServerFrame::Pong { .. })).await.unwrap();
    let yp = s.young_person().await;
    let req = CreateConversationRequest { topic: None, first_message: Some("hi".into()) };
    let conv = s.client.open_conversation(&yp.access_token, &req).await.unwrap().1;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let words = "says someone is outside with a knife";
    let req = RaiseEscalationRequest { severity: "critical".into(), reason: words.into() };
    let raised = s.client.raise_escalation(&worker.access_token, &conv.id, &req).await.unwrap();
    jobs::run_once(s.state()).await;
    assert!(alerts(&got).is_empty(), "a supervisor is connected: on-call waits for the deadline");

    // 2 minutes for critical: a second before, nothing; then step 1, 2, 3, each 2 minutes on.
    clock.advance_ms(119_000);
    jobs::run_once(s.state()).await;
    assert!(alerts(&got).is_empty());
    for step in 1..=3u32 {
        clock.advance_ms(if step == 1 { 1_000 } else { 120_000 });
        jobs::run_once(s.state()).await;
        // Once only, however often the jobs run in the same instant.
        jobs::run_once(s.state()).await;
        eventually(T, "the step's alert", || async { alerts(&got).len() >= step as usize }).await;
        let seen = alerts(&got);
        assert_eq!(seen.len(), step as usize, "{seen:?} refused {:?}", got.lock().unwrap().refused);
        let a = alerts(&got).pop().unwrap();
        assert_eq!(
            (a.kind.as_str(), a.step, a.escalation_id.as_str()),
            ("talkzone.escalation.overdue", step, raised.id.as_str())
        );
        let e = s.client.escalation(&supervisor.access_token, &raised.id).await.unwrap();
        assert_eq!((e.steps, e.reescalated, e.overdue), (step, true, true));
        assert_eq!(a.next_step_at, talkzone_server::clock::rfc3339(clock.now_ms() + 120_000));
        sup_ws.recv_until(T, |f| matches!(f, ServerFrame::Escalation(e) if e.steps == step)).await.unwrap();
    }
    // None of the worker's words about the young person leave the service.
    for (headers, body) in &got.lock().unwrap().accepted {
        assert!(!body.contains("knife") && !body.contains("outside"), "{body}");
        assert_eq!(headers["content-type"], "application/json");
    }
    let trail = s.client.escalation_audit(&supervisor.access_token, &raised.id).await.unwrap();
    let steps: Vec<String> = trail
        .entries
        .iter()
        .filter(|e| e.action == "escalation_reescalated")
        .map(|e| e.details.clone().unwrap_or_default())
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    for (i, d) in steps.iter().enumerate() {
        assert!(d.starts_with(&format!("step {}: ", i + 1)), "{d}");
    }

    // Acknowledged: the chain stops.
    s.client.acknowledge_escalation(&supervisor.access_token, &raised.id).await.unwrap();
    clock.advance_ms(3_600_000);
    jobs::run_once(s.state()).await;
    jobs::run_once(s.state()).await;
    assert_eq!(alerts(&got).len(), 3);
    let e = s.client.escalation(&supervisor.access_token, &raised.id).await.unwrap();
    assert_eq!(e.steps, 3);
    assert!(got.lock().unwrap().refused.is_empty());
    assert_eq!(ready(&s).await["on_call"], "ok");
    s.stop().await;
}

async fn a_critical_escalation_with_no_supervisor_connected_goes_to_on_call_at_once(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let (url, got) = receiver(clock.clone()).await;
    let s = server(backend, &clock, Some(url.clone())).await;
    let _supervisor_not_connected = s.staff(Role::Supervisor).await;
    // Moderation raises it: an age, then a meeting (grooming, critical).
    let yp = s.young_person().await;
    let req = CreateConversationRequest { topic: None, first_message: Some("im 13".into()) };
    let conv = s.client.open_conversation(&yp.access_token, &req).await.unwrap().1;
    let mut ws = s.client.connect(&yp.access_token).await.unwrap();
    ws.send_message(&conv.id, "m1", "a man from snap wants to meet me tonight").await.unwrap();
    // No clock moves: the outbox is delivered at once.
    jobs::run_once(s.state()).await;
    eventually(T, "the unattended alert", || async { alerts(&got).len() == 1 }).await;
    let a = alerts(&got).pop().unwrap();
    assert_eq!(
        (a.kind.as_str(), a.severity.as_str(), a.source.as_str(), a.step),
        ("talkzone.escalation.unattended", "critical", "moderation", 1)
    );
    let body = got.lock().unwrap().accepted[0].1.clone();
    for word in ["snap", "meet", "tonight", "man", "13\""] {
        assert!(!body.contains(word), "the child's words must not leave: {word} in {body}");
    }
    // Its chain goes on from there: step 2 a deadline later.
    clock.advance_ms(120_000);
    jobs::run_once(s.state()).await;
    eventually(T, "step 2", || async { alerts(&got).len() == 2 }).await;
    assert_eq!(alerts(&got)[1].step, 2);

    // A forgery and a replay are refused by a receiver that checks as documented.
    let (headers, body) = got.lock().unwrap().accepted[0].clone();
    let http = reqwest::Client::new();
    let send = |body: String, ts: Option<String>| {
        let mut req = http.post(&url).body(body);
        // Only the signing headers: the rest (a length) belong to the original request.
        for (k, v) in headers.iter().filter(|(k, _)| k.as_str().starts_with("x-talkzone-")) {
            if ts.is_some() && k == "x-talkzone-timestamp" {
                continue;
            }
            req = req.header(k.as_str(), v.as_bytes());
        }
        if let Some(ts) = ts {
            req = req.header("x-talkzone-timestamp", ts);
        }
        req.send()
    };
    let forged = body.replace("\"critical\"", "\"medium\"");
    assert_eq!(send(forged, None).await.unwrap().status(), 401, "a changed body");
    let ts: i64 = headers["x-talkzone-timestamp"].to_str().unwrap().parse().unwrap();
    assert_eq!(send(body.clone(), Some((ts + 1).to_string())).await.unwrap().status(), 401, "a changed timestamp");
    assert_eq!(send(body.clone(), None).await.unwrap().status(), 409, "the same delivery again");
    assert_eq!(
        got.lock().unwrap().refused,
        vec!["signature does not match", "signature does not match", "replayed delivery"]
    );
    s.stop().await;

    // Signed with another key: the receiver refuses it, the service retries, and `/readyz`
    // says on-call is failing.
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(move |c| {
            c.desk.oncall_webhook_url = Some(url);
            c.desk.oncall_webhook_secret =
                Some(talkzone_server::config::Secret("not-the-receivers-key-0123456789abc".into()));
        })
        .start()
        .await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let conv = s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap().1;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let req = RaiseEscalationRequest { severity: "critical".into(), reason: "x".into() };
    s.client.raise_escalation(&worker.access_token, &conv.id, &req).await.unwrap();
    jobs::run_once(s.state()).await;
    let refused = || got.lock().unwrap().refused.len();
    eventually(T, "the forged-looking alert refused", || async { refused() >= 4 }).await;
    let r = ready(&s).await;
    assert_eq!(r["on_call"], "failing", "{r}");
    assert!(r["warnings"][0].as_str().unwrap().contains("failed delivery"), "{r}");
    s.stop().await;
}

async fn readiness_says_when_on_call_is_not_configured(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = server(backend, &clock, None).await;
    let r = ready(&s).await;
    assert_eq!((r["status"].as_str(), r["on_call"].as_str()), (Some("ready"), Some("not_configured")), "{r}");
    assert!(r["warnings"][0].as_str().unwrap().contains("TALKZONE_ONCALL_WEBHOOK_URL"), "{r}");
    s.stop().await;
}

both_backends!(
    unacknowledged_escalations_keep_re_escalating_until_acknowledged,
    a_critical_escalation_with_no_supervisor_connected_goes_to_on_call_at_once,
    readiness_says_when_on_call_is_not_configured,
);
