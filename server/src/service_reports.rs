//! Service reports (docs/reports.md): contacts, queue waits, abandoned chats and escalations
//! over a period, broken down by hour of day and day of week, with small numbers withheld by
//! the survey reports' own rules (`surveys::reports`: the threshold, primary and secondary
//! suppression), so that both kinds of report withhold the same way.

use talkzone_mobile_api::{Role, ServiceReport, ServiceReportQuery, SeverityFigures};
use time::macros::format_description;
use time::{Date, OffsetDateTime, Weekday};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{ChatTimes, EscalationTimes};
use crate::surveys::reports::{cell, median, suppress_distribution, threshold};

/// Who may read service reports.
pub const READERS: &[Role] = &[Role::Supervisor, Role::YotAdmin];
/// The longest period one report covers (a year, leap or not).
pub const MAX_DAYS: i64 = 366;
const DAY_MS: i64 = 86_400_000;
const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_day(field: &str, s: &str) -> ApiResult<Date> {
    let f = format_description!("[year]-[month]-[day]");
    Date::parse(s, &f)
        .ok()
        .filter(|_| s.len() == 10)
        .ok_or_else(|| ApiError::Validation(format!("{field} must be a date written YYYY-MM-DD")))
}

/// The period as milliseconds `[from, to)`: `from`'s midnight to the midnight after `to`.
pub fn period(q: &ServiceReportQuery) -> ApiResult<(i64, i64)> {
    let (from, to) = (parse_day("from", &q.from)?, parse_day("to", &q.to)?);
    if from > to {
        return Err(ApiError::Validation("from must not be after to".into()));
    }
    let days = (to - from).whole_days() + 1;
    if days > MAX_DAYS {
        return Err(ApiError::Validation(format!("the period is at most {MAX_DAYS} days")));
    }
    let start = from.midnight().assume_utc().unix_timestamp() * 1000;
    Ok((start, start + days * DAY_MS))
}

/// The value at fraction `p` of a sorted list (nearest rank), `None` when fewer than `k`.
fn percentile(sorted: &[i64], p: f64, k: i64) -> Option<f64> {
    if (sorted.len() as i64) < k {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1] as f64)
}

fn med(sorted: &[i64], k: i64) -> Option<f64> {
    if (sorted.len() as i64) < k {
        None
    } else {
        median(sorted)
    }
}

fn seconds(mut ms: Vec<i64>) -> Vec<i64> {
    ms.sort_unstable();
    ms.into_iter().map(|m| m / 1000).collect()
}

fn when(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn weekday_index(d: Weekday) -> usize {
    d.number_days_from_monday() as usize
}

/// Builds the report from the rows (pure, for unit tests and the HTTP edge alike).
pub fn build(
    q: &ServiceReportQuery,
    chats: &[ChatTimes],
    escalations: &[EscalationTimes],
    now: i64,
    k: i64,
) -> ServiceReport {
    let contacts = chats.len() as i64;
    let answered: Vec<&ChatTimes> = chats.iter().filter(|c| c.assigned_at.is_some()).collect();
    let abandoned = chats.iter().filter(|c| c.assigned_at.is_none() && c.closed_at.is_some()).count() as i64;
    let waits = seconds(answered.iter().filter_map(|c| c.assigned_at.map(|a| a - c.created_at)).collect());

    let mut by_hour = vec![0i64; 24];
    let mut by_day = vec![0i64; 7];
    for c in chats {
        let t = when(c.created_at);
        by_hour[t.hour() as usize] += 1;
        by_day[weekday_index(t.weekday())] += 1;
    }
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let days: Vec<String> = WEEKDAYS.iter().map(|d| d.to_string()).collect();
    let (contacts_by_hour, _) = suppress_distribution(&hours, &by_hour, contacts, false, k);
    let (contacts_by_weekday, _) = suppress_distribution(&days, &by_day, contacts, false, k);

    let escalations = SEVERITIES
        .iter()
        .map(|s| {
            let of: Vec<&EscalationTimes> = escalations.iter().filter(|e| e.severity == *s).collect();
            let acked = of.iter().filter(|e| e.acknowledged_at.is_some()).count() as i64;
            let overdue = of.iter().filter(|e| e.acknowledged_at.unwrap_or(now) > e.deadline_at).count() as i64;
            let acks = seconds(of.iter().filter_map(|e| e.acknowledged_at.map(|a| a - e.created_at)).collect());
            SeverityFigures {
                severity: s.to_string(),
                raised: cell(of.len() as i64, k),
                acknowledged: cell(acked, k),
                overdue: cell(overdue, k),
                acknowledge_median_seconds: med(&acks, k),
            }
        })
        .collect();

    ServiceReport {
        from: q.from.clone(),
        to: q.to.clone(),
        threshold: k,
        contacts: cell(contacts, k),
        answered: cell(answered.len() as i64, k),
        abandoned: cell(abandoned, k),
        queue_wait_median_seconds: med(&waits, k),
        queue_wait_p90_seconds: percentile(&waits, 0.9, k),
        contacts_by_hour,
        contacts_by_weekday,
        escalations,
    }
}

/// `GET /v1/admin/service-report`: supervisors and the YOT admin.
pub async fn report(state: &AppState, user: &AuthUser, q: &ServiceReportQuery) -> ApiResult<ServiceReport> {
    user.require(READERS)?;
    let (from, to) = period(q)?;
    let chats = state.store.report_chats(from, to).await?;
    let escalations = state.store.report_escalations(from, to).await?;
    Ok(build(q, &chats, &escalations, state.clock.now_ms(), threshold(state)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(from: &str, to: &str) -> ServiceReportQuery {
        ServiceReportQuery { from: from.into(), to: to.into() }
    }

    #[test]
    fn periods_are_whole_days_and_refused_when_wrong() {
        let (a, b) = period(&q("2026-01-01", "2026-01-01")).unwrap();
        assert_eq!(b - a, DAY_MS);
        assert_eq!(a, 1_767_225_600_000);
        assert!(period(&q("2026-01-02", "2026-01-01")).is_err());
        assert!(period(&q("2026-01-01", "2027-01-02")).is_err(), "367 days");
        assert!(period(&q("2026-01-01", "2026-12-31")).is_ok());
        assert!(period(&q("2026-1-1", "2026-01-02")).is_err());
    }

    #[test]
    fn percentiles_use_the_nearest_rank_and_withhold_small_lists() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 0.9, 5), Some(9.0));
        assert_eq!(percentile(&v[..4], 0.9, 5), None);
        assert_eq!(med(&v, 5), Some(5.5));
    }
}
