//! Service reports (issue 24): known chats on a `ManualClock`, then every number of the report
//! compared with what it must be, which are withheld (threshold 3 here) and why; and the
//! period's bad input refused with 422.

use std::sync::Arc;

use talkzone_mobile_api::client::ClientError;
use talkzone_mobile_api::{
    AuditQuery, Capacity, CloseRequest, CreateConversationRequest, EndChatRequest, EscalationSeverity,
    RaiseEscalationRequest, ReportCell, ResolveEscalationRequest, RiskCategory, Role, ServiceReportQuery, ShiftRequest,
    SurveyDefinition,
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
    // Yesterday, then now (tokens are checked against the real time too); the report's hour
    // and weekday are this instant's.
    let t0 = SystemClock.now_ms();
    let clock = Arc::new(ManualClock::new(t0 - DAY));
    let s = TestServer::builder(backend)
        .clock(clock.clone())
        .config(|c| {
            c.surveys.suppression_threshold = K;
            c.access_token_ttl = std::time::Duration::from_secs(72 * 3600);
        })
        .start()
        .await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff(Role::DutyWorker).await;
    let supervisor = s.staff(Role::Supervisor).await;
    s.client.set_capacity(&admin.access_token, &worker.user.id, &Capacity { capacity: 4 }).await.unwrap();
    let end = EndChatRequest { reason: Default::default() };

    // Yesterday three young people came and left; today they come back, swearing (profanity
    // is a risk category the moderation step detects; it raises no escalation).
    let mut returning = Vec::new();
    for _ in 0..3 {
        let yp = s.young_person().await;
        let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
        let c = s.client.open_conversation(&yp.access_token, &req).await.unwrap().1;
        s.client.end_conversation(&yp.access_token, &c.id, &end).await.unwrap();
        returning.push(yp);
    }
    clock.advance_ms(DAY);
    for yp in &returning {
        let req = CreateConversationRequest { topic: None, first_message: Some("this is fucking shit".into()) };
        s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    }
    let shift = ShiftRequest {
        user_id: worker.user.id.clone(),
        starts_at: rfc3339(t0 - 60_000),
        ends_at: rfc3339(t0 + 8 * 3_600_000),
    };
    s.client.add_shift(&admin.access_token, &shift).await.unwrap();

    // Four young people open chats for the first time.
    let mut chats = Vec::new();
    let mut yps = Vec::new();
    for _ in 0..4 {
        let yp = s.young_person().await;
        let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
        chats.push(s.client.open_conversation(&yp.access_token, &req).await.unwrap().1);
        yps.push(yp);
    }
    // The fourth gives up before anyone answers.
    s.client.end_conversation(&yps[3].access_token, &chats[3].id, &end).await.unwrap();

    // The worker takes the others after 60, 130 and 320 seconds and replies 10 seconds later.
    s.client.set_duty(&worker.access_token, true).await.unwrap();
    let mut ws = s.client.connect(&worker.access_token).await.unwrap();
    ws.round_trip().await.unwrap();
    for (i, wait) in [60_000, 60_000, 180_000].into_iter().enumerate() {
        clock.advance_ms(wait);
        s.client.accept(&worker.access_token, &chats[i].id).await.unwrap();
        clock.advance_ms(10_000);
        ws.send_message(&chats[i].id, &format!("r{i}"), "hi, I'm here").await.unwrap();
    }
    // Three medium escalations, each acknowledged 30 seconds after it was raised (at 330, 360
    // and 390 s), all resolved at 1020 s; then the three chats are closed, resolved.
    let mut sup_ws = s.client.connect(&supervisor.access_token).await.unwrap();
    sup_ws.round_trip().await.unwrap();
    jobs::run_once(s.state()).await;
    let mut escalations = Vec::new();
    for chat in &chats[..3] {
        let req = RaiseEscalationRequest { severity: "medium".into(), reason: "x".into() };
        let e = s.client.raise_escalation(&worker.access_token, &chat.id, &req).await.unwrap();
        clock.advance_ms(30_000);
        s.client.acknowledge_escalation(&supervisor.access_token, &e.id).await.unwrap();
        escalations.push(e);
    }
    clock.advance_ms(600_000);
    for e in &escalations {
        let req = ResolveEscalationRequest { outcome: "advice_given".into(), note: None };
        s.client.resolve_escalation(&supervisor.access_token, &e.id, &req).await.unwrap();
    }
    for chat in &chats[..3] {
        let req = CloseRequest { outcome: "resolved".into(), tags: vec![] };
        s.client.close_conversation(&worker.access_token, &chat.id, &req).await.unwrap();
    }

    let today = rfc3339(t0)[..10].to_owned();
    let yesterday = rfc3339(t0 - DAY)[..10].to_owned();
    let hour = format!("{:02}", (t0 % DAY) / 3_600_000);
    let weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][((t0 / DAY + 3) % 7) as usize];
    for token in [&admin.access_token, &supervisor.access_token] {
        let r = s.client.service_report(token, &q(&today, &today)).await.unwrap();
        assert_eq!(r.threshold, K);
        assert!(!r.suppressed);
        assert_eq!(r.contacts, shown(7));
        assert_eq!(r.answered, shown(3));
        assert_eq!(r.abandoned, withheld(), "1 is under the threshold");
        assert_eq!(r.abandoned_after_median_seconds, None, "1 value is under the threshold");
        assert_eq!(r.young_people, shown(7));
        assert_eq!(r.first_time, shown(4));
        assert_eq!(r.returning, shown(3), "their first chat was yesterday");
        assert_eq!(r.queue_wait_median_seconds, Some(130.0));
        assert_eq!(r.queue_wait_p90_seconds, Some(320.0), "nearest rank: the 3rd of 3");
        assert_eq!(r.first_reply_median_seconds, Some(140.0));
        assert_eq!(r.first_reply_p90_seconds, Some(330.0));
        assert_eq!(r.chat_length_median_seconds, Some(890.0), "closed at 1020 s, taken at 60, 130, 320");
        assert_eq!(r.closed, shown(4));
        for o in &r.outcomes {
            let want = if o.label == "resolved" { Some(3) } else { None };
            assert_eq!(o.count, want, "outcome {} (young_person_left is 1, withheld)", o.label);
        }
        assert_eq!(r.outcomes.last().map(|o| o.label.as_str()), Some("none"));
        assert_eq!(r.transfers, withheld(), "none");
        assert_eq!(r.contacts_by_hour.len(), 24);
        for c in &r.contacts_by_hour {
            if c.label == hour {
                assert_eq!((c.count, c.suppressed), (Some(7), false));
            } else {
                assert_eq!((c.count, c.suppressed), (None, true), "hour {} has 0, under 3", c.label);
            }
        }
        let days: Vec<_> = r.contacts_by_weekday.iter().map(|c| (c.label.as_str(), c.count)).collect();
        let want: Vec<_> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .into_iter()
            .map(|d| (d, if d == weekday { Some(7) } else { None }))
            .collect();
        assert_eq!(days, want);
        let sev: Vec<_> = r.escalations.iter().map(|e| e.severity).collect();
        assert_eq!(sev, EscalationSeverity::ALL);
        for e in &r.escalations {
            if e.severity == EscalationSeverity::Medium {
                assert_eq!(e.raised, shown(3));
                assert_eq!(e.acknowledged, shown(3));
                assert_eq!(e.resolved, shown(3));
                assert_eq!(e.overdue, withheld(), "none overdue: 0 is under the threshold");
                assert_eq!(e.acknowledge_median_seconds, Some(30.0));
                assert_eq!(e.resolve_median_seconds, Some(660.0), "1020 − 360");
            } else {
                assert_eq!((&e.raised, &e.acknowledged, &e.overdue), (&withheld(), &withheld(), &withheld()));
                assert_eq!((e.acknowledge_median_seconds, e.resolve_median_seconds), (None, None));
            }
        }
        assert_eq!(r.moderation.items, withheld(), "no room messages held or reported");
        assert_eq!(r.moderation.decision_median_seconds, None);
        let cats: Vec<_> = r.risk_categories.iter().map(|c| c.category).collect();
        assert_eq!(cats, RiskCategory::ALL);
        for c in &r.risk_categories {
            assert_eq!(c.by_day.len(), 1);
            assert_eq!(c.by_day[0].label, today);
            if c.category == RiskCategory::Profanity {
                assert_eq!((&c.chats, c.by_day[0].count), (&shown(3), Some(3)));
            } else {
                assert_eq!((&c.chats, c.by_day[0].count), (&withheld(), None), "{:?}", c.category);
            }
        }
    }
    // The same report as CSV: the same numbers, withheld ones empty and marked.
    let csv = s.client.service_report_csv(&supervisor.access_token, &q(&today, &today)).await.unwrap();
    assert!(csv.starts_with("section,figure,label,value,withheld\r\n"), "{csv}");
    for line in [
        "report,whole_report_withheld,,false,false",
        "contacts,count,contacts,7,false",
        "contacts,count,abandoned,,true",
        "contacts,count,transfers,,true",
        "young_people,count,returning,3,false",
        "times,seconds,queue_wait_median,130,false",
        "times,seconds,chat_length_median,890,false",
        "times,seconds,abandoned_after_median,,true",
        "outcomes,closed,resolved,3,false",
        "outcomes,closed,young_person_left,,true",
        &format!("contacts_by_hour,contacts,{hour},7,false"),
        "escalations,medium,resolve_median_seconds,660,false",
        "escalations,critical,raised,,true",
        "moderation,count,items,,true",
        "risk,profanity,chats,3,false",
        &format!("risk_by_day,profanity,{today},3,false"),
        "risk,weapons,chats,,true",
    ] {
        assert!(csv.lines().any(|l| l == line), "{line} missing from\n{csv}");
    }
    assert_eq!(status(s.client.service_report_csv(&worker.access_token, &q(&today, &today)).await), 403);
    assert_eq!(status(s.client.service_report_csv(&admin.access_token, &q(&today, "2026-13-01")).await), 422);

    // Who looked at which period is in the audit log, and whether it carried numbers.
    let log = s.client.audit_log(&admin.access_token, &AuditQuery { days: Some(3) }).await.unwrap();
    let of = |action: &str, who: &talkzone_mobile_api::UserId| {
        log.entries.iter().filter(|e| e.action == action && e.actor_id.as_ref() == Some(who)).count()
    };
    assert_eq!(of("service_report_viewed", &admin.user.id), 1);
    assert_eq!(of("service_report_viewed", &supervisor.user.id), 1);
    assert_eq!(of("service_report_exported", &supervisor.user.id), 1);
    let viewed = log.entries.iter().find(|e| e.action == "service_report_viewed").unwrap();
    assert_eq!(viewed.target.as_deref(), Some("report:service"));
    assert_eq!(viewed.details.as_deref(), Some(format!("{today} to {today}; released").as_str()));

    // The day before: 3 chats, every one abandoned.
    let r = s.client.service_report(&admin.access_token, &q(&yesterday, &yesterday)).await.unwrap();
    assert!(!r.suppressed, "{:?}", r.suppression_reason);
    assert_eq!((r.contacts, r.abandoned, r.young_people), (shown(3), shown(3), shown(3)));
    // None returning (0, withheld), so first-time is withheld too: young people minus it
    // would give the 0 back (secondary suppression).
    assert_eq!((r.first_time, r.returning), (withheld(), withheld()));
    assert_eq!(r.abandoned_after_median_seconds, Some(0.0), "they left at once");
    assert_eq!(r.queue_wait_median_seconds, None);
    assert!(r.risk_categories.iter().all(|c| c.chats == withheld()));

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
    let csv = s.client.service_report_csv(&admin.access_token, &q(&day(1), &day(1))).await.unwrap();
    assert!(csv.lines().any(|l| l == "report,whole_report_withheld,,true,false"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("report,reason,,\"this period's report differs")), "{csv}");
    assert!(csv.lines().any(|l| l == "contacts,count,contacts,,true"), "{csv}");
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

/// The summary document: one HTML page with the service report and the surveys' distance
/// travelled for the period, every withheld number withheld, nothing anyone wrote in it, and
/// the survey's words escaped. The YOT admin's alone (the matrix tries every role).
async fn the_summary_document_holds_both_reports(backend: Backend) {
    let s = TestServer::builder(backend).config(|c| c.surveys.suppression_threshold = K).start().await;
    let admin = s.staff(Role::YotAdmin).await;
    for _ in 0..4 {
        let yp = s.young_person().await;
        let words = "my secret words <script>alert(1)</script>";
        let req = CreateConversationRequest { topic: None, first_message: Some(words.into()) };
        s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    }
    let def: SurveyDefinition = serde_json::from_value(serde_json::json!({
        "title": "After <b>support</b>",
        "audience": "young_person",
        "questions": [
            {"id": "safe", "kind": "scale_0_10", "text": "How safe do you feel? <i>honestly</i>"},
            {"id": "why", "kind": "free_text", "text": "Anything else?"}
        ]
    }))
    .unwrap();
    let survey = s.client.create_survey(&admin.access_token, &def).await.unwrap();
    s.client.publish_survey(&admin.access_token, &survey.id).await.unwrap();

    let today = rfc3339(SystemClock.now_ms())[..10].to_owned();
    let url = format!("{}/v1/admin/service-summary?from={today}&to={today}", s.base);
    let r = reqwest::Client::new().get(&url).bearer_auth(&admin.access_token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let disposition = format!("attachment; filename=\"talk-zone-summary-{today}-{today}.html\"");
    assert_eq!(r.headers()["content-disposition"], disposition.as_str());
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("<h1>Talk Zone service summary, {today} to {today}</h1>")), "{html}");
    let row = |figure: &str, value: &str| format!("<tr><th scope=\"row\">{figure}</th><td>{value}</td></tr>");
    let hidden = "<span class=\"withheld\">withheld</span>";
    for (figure, value) in [
        ("Support chats opened", "4"),
        ("Young people", "4"),
        // Returning (0) is under the threshold, and first time would give it back from the
        // young people's 4: both withheld.
        ("First time", hidden),
        ("Returning", hidden),
        ("Answered by staff", hidden),
        ("Gave up before an answer", hidden),
        ("Wait for a worker, median", hidden),
        ("Answered at both stages", hidden),
        ("Better", hidden),
    ] {
        assert!(html.contains(&row(figure, value)), "{figure}: {value} in\n{html}");
    }
    // The survey's scale question, escaped; its free-text question is not a distance.
    assert!(
        html.contains(
            "After &lt;b&gt;support&lt;/b&gt;: \u{201c}How safe do you feel? &lt;i&gt;honestly&lt;/i&gt;\u{201d}"
        ),
        "{html}"
    );
    assert!(!html.contains("Anything else?"));
    assert!(!html.contains("secret words") && !html.contains("<script") && !html.contains("<b>"), "{html}");

    // The same for the client, and the period's checks.
    // The same document but for its footer's time of making (to the second: the two requests
    // may fall either side of one).
    let undated = |doc: &str| doc.lines().filter(|l| !l.starts_with("<p><small>Made ")).collect::<Vec<_>>().join("\n");
    let again = s.client.service_summary(&admin.access_token, &q(&today, &today)).await.unwrap();
    assert_eq!(undated(&again), undated(&html));
    assert!(again.contains("<p><small>Made ") && again.len() == html.len(), "{again}");
    assert_eq!(status(s.client.service_summary(&admin.access_token, &q(&today, "2020-01-01")).await), 422);
    assert_eq!(status(s.client.service_summary(&admin.access_token, &q("yesterday", &today)).await), 422);
    let supervisor = s.staff(Role::Supervisor).await;
    assert_eq!(status(s.client.service_summary(&supervisor.access_token, &q(&today, &today)).await), 403);
}

both_backends!(
    the_report_counts_known_chats,
    reports_that_could_be_subtracted_are_withheld,
    the_summary_document_holds_both_reports
);
