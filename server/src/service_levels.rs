//! The service levels as Prometheus gauges, read from the database at each scrape of
//! `/metrics`: the queue, who is on duty and free, open and overdue escalations, on-call alerts
//! waiting. They are the whole service's (every node answers the same), so alerting rules take
//! `max` over nodes (docker/prometheus/alerts.yml). The waits (queue wait, first reply) are
//! histograms recorded as they happen (`telemetry`).

use std::fmt::Write as _;

use talkzone_moderation::Severity;

use crate::error::ApiResult;
use crate::model::EscalationState;
use crate::state::AppState;

/// Escalation severities with a deadline, each always written (0 included) so that rules see it.
const SEVERITIES: [Severity; 3] = [Severity::Medium, Severity::High, Severity::Critical];

/// The gauges in Prometheus text format.
pub async fn render(state: &AppState) -> ApiResult<String> {
    let now = state.clock.now_ms();
    let (queued, on_duty, shifts_now) = state.store.desk_counts(now).await?;
    let staff = state.store.available_staff(now - crate::queue::PRESENCE_FRESH_MS).await?;
    let free: i64 = staff.iter().map(|s| (s.capacity - s.open_chats).max(0)).sum();
    let open = state.store.escalations(Some(EscalationState::Open.as_str()), None, None, 0).await?;
    let (undelivered, failing) = state.store.outbox_undelivered().await?;

    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, rows: &[(String, i64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, v) in rows {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    let one = |v: i64| [(String::new(), v)];
    gauge("talkzone_queue_length", "Support chats waiting in the queue now.", &one(queued));
    gauge("talkzone_workers_on_duty", "Staff who answer chats and are on duty.", &one(on_duty));
    gauge("talkzone_workers_connected", "Staff on duty and connected to a node.", &one(staff.len() as i64));
    gauge("talkzone_free_capacity", "Chats the connected on-duty staff can still take.", &one(free));
    gauge("talkzone_rota_shifts_now", "Rota shifts running now.", &one(shifts_now));
    let by_severity = |overdue: bool| -> Vec<(String, i64)> {
        SEVERITIES
            .iter()
            .map(|s| {
                let n = open.iter().filter(|e| e.severity == *s && (!overdue || e.deadline_at <= now)).count();
                (format!("{{severity=\"{s}\"}}"), n as i64)
            })
            .collect()
    };
    gauge("talkzone_escalations_open", "Escalations nobody has acknowledged yet.", &by_severity(false));
    gauge("talkzone_escalations_overdue", "Of those, past their deadline.", &by_severity(true));
    gauge("talkzone_oncall_undelivered", "On-call alerts not delivered yet.", &one(undelivered));
    gauge("talkzone_oncall_failing", "Of those, ones whose delivery has failed at least once.", &one(failing));
    Ok(out)
}
