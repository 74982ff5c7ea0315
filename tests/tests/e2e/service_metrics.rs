//! The service-level metrics: `/metrics` scraped after known events, with time controlled, and
//! every number compared. The gauges are read from this server's database, so they are exact;
//! the histograms and counters are the process's (tests run side by side in one process), so
//! they are compared as differences in buckets no other test reaches (waits of 30 to 60
//! minutes). Also: every metric the alerting rules in docker/ name is one the service exports.

use std::sync::Arc;

use reqwest::Method;
use talkzone_mobile_api::{
    Capacity, CreateConversationRequest, RaiseEscalationRequest, Role, ServerFrame, ShiftRequest,
};
use talkzone_server::clock::{rfc3339, Clock, ManualClock, SystemClock};
use talkzone_server::jobs;
use talkzone_tests::{both_backends, Backend, TestServer};

async fn scrape(s: &TestServer) -> String {
    let (status, _, body) = s.client.raw(Method::GET, "/metrics", None, vec![]).await.unwrap();
    assert_eq!(status, reqwest::StatusCode::OK);
    body
}

/// The value of the series `key` (name and labels exactly as written), 0 when absent.
fn value(text: &str, key: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.parse::<f64>().unwrap())
        .sum()
}

/// Samples of a histogram between 30 and 60 minutes (SQLite's run) or 20 and 30 minutes
/// (PostgreSQL's, which runs beside it).
fn in_band(text: &str, name: &str, backend: Backend) -> f64 {
    let (low, high) = if backend == Backend::Sqlite { (1800, 3600) } else { (1200, 1800) };
    value(text, &format!("{name}_bucket{{le=\"{high}\"}}")) - value(text, &format!("{name}_bucket{{le=\"{low}\"}}"))
}

async fn metrics_count_the_service_levels(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    // Tokens outlive the 40 minutes the clock moves.
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(|c| c.access_token_ttl = std::time::Duration::from_secs(24 * 3600))
        .start()
        .await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff(Role::DutyWorker).await;
    s.client.set_capacity(&admin.access_token, &worker.user.id, &Capacity { capacity: 4 }).await.unwrap();
    let now = clock.now_ms();
    let shift = ShiftRequest {
        user_id: worker.user.id.clone(),
        starts_at: rfc3339(now - 60_000),
        ends_at: rfc3339(now + 8 * 3_600_000),
    };
    s.client.add_shift(&admin.access_token, &shift).await.unwrap();

    let m = scrape(&s).await;
    assert_eq!(value(&m, "talkzone_queue_length"), 0.0);
    assert_eq!(value(&m, "talkzone_rota_shifts_now"), 1.0);
    assert_eq!(value(&m, "talkzone_workers_connected"), 0.0, "a shift with nobody on duty: the rule's case");
    assert_eq!(value(&m, "talkzone_escalations_open{severity=\"critical\"}"), 0.0);

    // Two young people wait; 40 minutes pass.
    let mut chats = Vec::new();
    for _ in 0..2 {
        let yp = s.young_person().await;
        let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
        chats.push(s.client.open_conversation(&yp.access_token, &req).await.unwrap().1);
    }
    assert_eq!(value(&scrape(&s).await, "talkzone_queue_length"), 2.0);
    let wait_min = if backend == Backend::Sqlite { 40 } else { 25 };
    clock.advance_ms(wait_min * 60_000);
    let before = scrape(&s).await;

    // The worker comes on duty, takes one and replies a minute later (inside the assignment
    // timeout).
    s.client.set_duty(&worker.access_token, true).await.unwrap();
    let mut ws = s.client.connect(&worker.access_token).await.unwrap();
    ws.round_trip().await.unwrap();
    s.client.accept(&worker.access_token, &chats[0].id).await.unwrap();
    clock.advance_ms(60_000);
    let ack = ws.send_message(&chats[0].id, "r1", "hi, I'm here").await.unwrap();
    assert!(matches!(ack, ServerFrame::Ack { .. }), "{ack:?}");
    jobs::run_once(s.state()).await;
    let m = scrape(&s).await;
    assert_eq!(value(&m, "talkzone_queue_length"), 1.0);
    assert_eq!(value(&m, "talkzone_workers_on_duty"), 1.0);
    assert_eq!(value(&m, "talkzone_workers_connected"), 1.0);
    assert_eq!(value(&m, "talkzone_free_capacity"), 3.0, "capacity 4, one chat");
    // The wait: 40 (or 25) minutes; the first reply: a minute more.
    let band = |m: &str, name: &str| in_band(m, name, backend);
    assert_eq!(band(&m, "talkzone_queue_wait_seconds") - band(&before, "talkzone_queue_wait_seconds"), 1.0);
    assert_eq!(band(&m, "talkzone_first_reply_seconds") - band(&before, "talkzone_first_reply_seconds"), 1.0);

    // A critical escalation (a supervisor connected, so its chain starts at the deadline):
    // open, then overdue; with no on-call webhook its alert fails.
    let supervisor = s.staff(Role::Supervisor).await;
    let mut sup_ws = s.client.connect(&supervisor.access_token).await.unwrap();
    sup_ws.round_trip().await.unwrap();
    jobs::run_once(s.state()).await; // the presence heartbeat: seen now
    let req = RaiseEscalationRequest { severity: "critical".into(), reason: "x".into() };
    s.client.raise_escalation(&worker.access_token, &chats[0].id, &req).await.unwrap();
    let m = scrape(&s).await;
    assert_eq!(value(&m, "talkzone_escalations_open{severity=\"critical\"}"), 1.0);
    assert_eq!(value(&m, "talkzone_escalations_overdue{severity=\"critical\"}"), 0.0);
    assert_eq!(value(&m, "talkzone_escalations_open{severity=\"high\"}"), 0.0);
    let failed = |m: &str| value(m, "talkzone_oncall_deliveries_total{result=\"failed\"}");
    let failed_before = failed(&m);
    clock.advance_ms(121_000);
    jobs::run_once(s.state()).await;
    talkzone_tests::eventually(std::time::Duration::from_secs(10), "the failed delivery recorded", || async {
        value(&scrape(&s).await, "talkzone_oncall_failing") == 1.0
    })
    .await;
    let m = scrape(&s).await;
    assert_eq!(value(&m, "talkzone_escalations_overdue{severity=\"critical\"}"), 1.0);
    assert_eq!(value(&m, "talkzone_oncall_undelivered"), 1.0);
    assert_eq!(value(&m, "talkzone_oncall_failing"), 1.0);
    assert!(failed(&m) - failed_before >= 1.0, "the failed delivery is counted");
    assert!(value(&m, "talkzone_escalation_steps_total{severity=\"critical\"}") >= 1.0);
    s.stop().await;
}

/// Every `talkzone_*` metric the alerting rules and the dashboard name is one `/metrics` has.
async fn alerting_rules_name_metrics_the_service_exports(backend: Backend) {
    let s = TestServer::start(backend).await;
    let m = scrape(&s).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker");
    for file in ["prometheus/alerts.yml", "grafana/dashboards/talkzone.json"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let named: std::collections::BTreeSet<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("talkzone_"))
            .map(|w| w.trim_end_matches("_bucket"))
            .collect();
        assert!(!named.is_empty(), "{file}");
        for name in named {
            // Counters and histograms appear once first recorded; their HELP-less lines still
            // carry the name. The recorder of this process has seen every one by now or the
            // name is a gauge written at each scrape.
            let known =
                m.contains(&format!("{name} ")) || m.contains(&format!("{name}{{")) || m.contains(&format!("{name}_"));
            let recorded_later = [
                "talkzone_oncall_deliveries_total",
                "talkzone_escalation_steps_total",
                "talkzone_queue_wait_seconds",
                "talkzone_first_reply_seconds",
                "talkzone_messages_stored_total",
            ];
            assert!(known || recorded_later.contains(&name), "{file} names {name}, which /metrics does not export");
        }
    }
    s.stop().await;
}

both_backends!(metrics_count_the_service_levels, alerting_rules_name_metrics_the_service_exports);
