//! Service reports (issue 24): known chats on a `ManualClock`, then every number of the report
//! compared with what it must be, which are withheld (threshold 3 here) and why; and the
//! period's bad input refused with 422.

use std::sync::Arc;

use talkzone_mobile_api::client::ClientError;
use talkzone_mobile_api::{
    Capacity, CreateConversationRequest, EndChatRequest, RaiseEscalationRequest, ReportCell, Role, ServiceReportQuery,
    ShiftRequest,
};
use talkzone_server::clock::{rfc3339, Clock, ManualClock, SystemClock};
use talkzone_server::jobs;
use talkzone_tests::{both_backends, Backend, TestServer};

const DAY: i64 = 86_400_000;
const K: i64 = 3;

fn shown(n: i64) -> ReportCell {
    ReportCell { value: Some(n), suppressed: false }
}
fn withheld() -> ReportCell {
    ReportCell { value: None, suppressed: true }
}
fn q(from: &str, to: &str) -> ServiceReportQuery {
    ServiceReportQuery { from: from.into(), to: to.into() }
}
fn status<T: std::fmt::Debug>(r: Result<T, ClientError>) -> u16 {
    r.expect_err("expected a refusal").status().expect("an HTTP status")
}

async fn the_report_counts_known_chats(backend: Backend) {
    // Now (tokens are checked against the real time too); the report's hour and weekday are
    // this instant's.
    let t0 = SystemClock.now_ms();
    let clock = Arc::new(ManualClock::new(t0));
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(|c| {
            c.surveys.suppression_threshold = K;
            c.access_token_ttl = std::time::Duration::from_secs(24 * 3600);
        })
        .start()
        .await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    s.client.set_capacity(&admin.access_token, &worker.user.id, &Capacity { capacity: 4 }).await.unwrap();
    let shift = ShiftRequest {
        user_id: worker.user.id.clone(),
        starts_at: rfc3339(t0 - 60_000),
        ends_at: rfc3339(t0 + 8 * 3_600_000),
    };
    s.client.add_shift(&admin.access_token, &shift).await.unwrap();

    // Four young people open chats.
    let mut chats = Vec::new();
    let mut yps = Vec::new();
    for _ in 0..4 {
        let yp = s.young_person().await;
        let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
        chats.push(s.client.open_conversation(&yp.access_token, &req).await.unwrap().1);
        yps.push(yp);
    }
    // The fourth gives up before anyone answers.
    let end = EndChatRequest { reason: Default::default() };
    s.client.end_conversation(&yps[3].access_token, &chats[3].id, &end).await.unwrap();

    // The worker takes the others after 60, 120 and 300 seconds.
    s.client.set_duty(&worker.access_token, true).await.unwrap();
    let mut ws = s.client.connect(&worker.access_token).await.unwrap();
    ws.round_trip().await.unwrap();
    for (i, wait) in [60_000, 60_000, 180_000].into_iter().enumerate() {
        clock.advance_ms(wait);
        s.client.accept(&worker.access_token, &chats[i].id).await.unwrap();
        // A reply at once, so that the assignment timeout does not hand it back.
        ws.send_message(&chats[i].id, &format!("r{i}"), "hi, I'm here").await.unwrap();
    }
    // Three medium escalations, each acknowledged 30 seconds after it was raised.
    let mut sup_ws = s.client.connect(&supervisor.access_token).await.unwrap();
    sup_ws.round_trip().await.unwrap();
    jobs::run_once(s.state()).await;
    for chat in &chats[..3] {
        let req = RaiseEscalationRequest { severity: "medium".into(), reason: "x".into() };
        let e = s.client.raise_escalation(&worker.access_token, &chat.id, &req).await.unwrap();
        clock.advance_ms(30_000);
        s.client.acknowledge_escalation(&supervisor.access_token, &e.id).await.unwrap();
    }

    let today = rfc3339(t0)[..10].to_owned();
    let yesterday = rfc3339(t0 - DAY)[..10].to_owned();
    let hour = format!("{:02}", (t0 % DAY) / 3_600_000);
    let weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][((t0 / DAY + 3) % 7) as usize];
    for token in [&admin.access_token, &supervisor.access_token] {
        let r = s.client.service_report(token, &q(&today, &today)).await.unwrap();
        assert_eq!(r.threshold, K);
        assert!(!r.suppressed);
        assert_eq!(r.contacts, shown(4));
        assert_eq!(r.answered, shown(3));
        assert_eq!(r.abandoned, withheld(), "1 is under the threshold");
        assert_eq!(r.queue_wait_median_seconds, Some(120.0));
        assert_eq!(r.queue_wait_p90_seconds, Some(300.0), "nearest rank: the 3rd of 3");
        assert_eq!(r.contacts_by_hour.len(), 24);
        for c in &r.contacts_by_hour {
            if c.label == hour {
                assert_eq!((c.count, c.suppressed), (Some(4), false));
            } else {
                assert_eq!((c.count, c.suppressed), (None, true), "hour {} has 0, under 3", c.label);
            }
        }
        let days: Vec<_> = r.contacts_by_weekday.iter().map(|c| (c.label.as_str(), c.count)).collect();
        let want: Vec<_> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .into_iter()
            .map(|d| (d, if d == weekday { Some(4) } else { None }))
            .collect();
        assert_eq!(days, want);
        let sev: Vec<_> = r.escalations.iter().map(|e| e.severity.as_str()).collect();
        assert_eq!(sev, ["low", "medium", "high", "critical"]);
        for e in &r.escalations {
            if e.severity == "medium" {
                assert_eq!(e.raised, shown(3));
                assert_eq!(e.acknowledged, shown(3));
                assert_eq!(e.overdue, withheld(), "none overdue: 0 is under the threshold");
                assert_eq!(e.acknowledge_median_seconds, Some(30.0));
            } else {
                assert_eq!((&e.raised, &e.acknowledged, &e.overdue), (&withheld(), &withheld(), &withheld()));
                assert_eq!(e.acknowledge_median_seconds, None);
            }
        }
    }
    // The day before holds nothing: everything withheld, no waits.
    let r = s.client.service_report(&admin.access_token, &q(&yesterday, &yesterday)).await.unwrap();
    assert_eq!(r.contacts, withheld());
    assert_eq!(r.queue_wait_median_seconds, None);

    // Bad periods: 422.
    let bad = [q("2026-03-02", "2026-03-01"), q("2026-01-01", "2027-01-02"), q("2026-3-2", "2026-03-02")];
    for b in &bad {
        assert_eq!(status(s.client.service_report(&admin.access_token, b).await), 422, "{b:?}");
    }
    // Nobody else.
    let yp = s.young_person().await;
    assert_eq!(status(s.client.service_report(&yp.access_token, &q(&today, &today)).await), 403);
    assert_eq!(status(s.client.service_report(&worker.access_token, &q(&today, &today)).await), 403);
}

/// Opens `n` support chats, each by a new young person, at the clock's time.
async fn open_chats(s: &TestServer, n: usize) {
    for _ in 0..n {
        let yp = s.young_person().await;
        let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
        s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    }
}

/// Differencing (docs/reports.md): a period whose chats differ from a released report's by
/// fewer than the threshold is withheld whole, with the reason; one differing by at least the
/// threshold is shown.
async fn reports_that_could_be_subtracted_are_withheld(backend: Backend) {
    let t0 = SystemClock.now_ms();
    // Three days: day 1 (5 chats), day 2 (2 chats), day 3, today (3 chats).
    let clock = Arc::new(ManualClock::new(t0 - 2 * DAY));
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(|c| {
            c.surveys.suppression_threshold = K;
            c.access_token_ttl = std::time::Duration::from_secs(96 * 3600);
        })
        .start()
        .await;
    let admin = s.staff(Role::YotAdmin).await;
    let supervisor = s.staff(Role::Supervisor).await;
    let day = |n: i64| rfc3339(t0 - (3 - n) * DAY)[..10].to_owned();
    open_chats(&s, 5).await;
    clock.advance_ms(DAY);
    open_chats(&s, 2).await;
    clock.advance_ms(DAY);
    open_chats(&s, 3).await;

    // Days 1..2 released: 7 chats.
    let r = s.client.service_report(&admin.access_token, &q(&day(1), &day(2))).await.unwrap();
    assert!(!r.suppressed);
    assert_eq!(r.contacts, shown(7));
    // Day 1 alone would give day 2's 2 chats away, whoever asks.
    let r = s.client.service_report(&supervisor.access_token, &q(&day(1), &day(1))).await.unwrap();
    assert!(r.suppressed, "differs by 2 chats");
    assert!(r.suppression_reason.as_deref().unwrap().contains("widen or change the period"));
    assert_eq!(r.contacts, withheld());
    assert!(r.contacts_by_weekday.iter().all(|c| c.count.is_none()));
    assert!(r.escalations.iter().all(|e| e.raised == withheld()));
    // Asking the released period again is fine.
    let r = s.client.service_report(&admin.access_token, &q(&day(1), &day(2))).await.unwrap();
    assert_eq!((r.suppressed, r.contacts), (false, shown(7)));
    // Days 1..3 differ by 3 chats (the threshold), and each shown number by 0 or 3: shown.
    let r = s.client.service_report(&admin.access_token, &q(&day(1), &day(3))).await.unwrap();
    assert!(!r.suppressed, "{:?}", r.suppression_reason);
    assert_eq!(r.contacts, shown(10));
    // Now day 3 alone is 7 away from days 1..3: shown, and day 2..3 (5) is 5 away.
    let r = s.client.service_report(&admin.access_token, &q(&day(3), &day(3))).await.unwrap();
    assert_eq!((r.suppressed, r.contacts), (false, shown(3)));
    // One more chat today: days 1..3 again differ by 1 from their release.
    open_chats(&s, 1).await;
    let r = s.client.service_report(&admin.access_token, &q(&day(1), &day(3))).await.unwrap();
    assert!(r.suppressed);
}

both_backends!(the_report_counts_known_chats, reports_that_could_be_subtracted_are_withheld);
