//! Service reports (docs/reports.md): contacts, queue waits, abandoned chats and escalations
//! over a period, broken down by hour of day and day of week, with small numbers withheld by
//! the survey reports' own rules (`surveys::reports`: the threshold, primary and secondary
//! suppression), so that both kinds of report withhold the same way.

pub mod csv;
pub mod summary;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use talkzone_mobile_api::{
    DistributionCell, EscalationSeverity, ModerationFigures, ReportCell, RiskCategory, RiskCategoryFigures, Role,
    ServiceReport, ServiceReportQuery, SeverityFigures,
};
use talkzone_moderation::Category;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Weekday};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::model::Severity;
use crate::state::AppState;
use crate::store::surveys::Release;
use crate::store::{ChatTimes, EscalationTimes, FlaggedMessage, ItemTimes};
use crate::surveys::differencing::{differencing_refuses, Cells, Population};
use crate::surveys::reports::{cell, median, suppress_distribution, threshold};

/// Who may read service reports.
pub const READERS: &[Role] = &[Role::Supervisor, Role::YotAdmin];
/// The longest period one report covers (a year, leap or not).
pub const MAX_DAYS: i64 = 366;
const DAY_MS: i64 = 86_400_000;
/// The disclosure log's scope for service reports (one scope: any two periods may be compared).
const SCOPE: &str = "service";
/// How many earlier releases a new report is compared with.
const RELEASES_CHECKED: i64 = 1_000;
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

/// A service report's population for the differencing rules: its period (days since the
/// epoch, both ends included) and the chats opened on each day of it. Per-day counts rather
/// than chat ids keep the record small on a year of data and hold nobody's identity; they
/// still show every chat that differs between two releases, including one erased since.
#[derive(Debug, Clone, PartialEq)]
pub struct DayCounts {
    pub first: i64,
    pub last: i64,
    /// Day → chats opened that day (days with none left out).
    pub counts: BTreeMap<i64, i64>,
}

impl DayCounts {
    pub fn of(from_ms: i64, to_ms: i64, chats: &[ChatTimes]) -> Self {
        let mut counts = BTreeMap::new();
        for c in chats {
            *counts.entry(c.created_at.div_euclid(DAY_MS)).or_insert(0) += 1;
        }
        DayCounts { first: from_ms.div_euclid(DAY_MS), last: (to_ms - 1).div_euclid(DAY_MS), counts }
    }

    /// `first..last;day:count,…`
    pub fn encode(&self) -> String {
        let days: Vec<String> = self.counts.iter().map(|(d, n)| format!("{d}:{n}")).collect();
        format!("{}..{};{}", self.first, self.last, days.join(","))
    }

    /// `None` when the record is not ours (refused by the caller: fail closed).
    pub fn decode(s: &str) -> Option<Self> {
        let (period, days) = s.split_once(';')?;
        let (first, last) = period.split_once("..")?;
        let mut counts = BTreeMap::new();
        for d in days.split(',').filter(|d| !d.is_empty()) {
            let (day, n) = d.split_once(':')?;
            counts.insert(day.parse().ok()?, n.parse().ok()?);
        }
        Some(DayCounts { first: first.parse().ok()?, last: last.parse().ok()?, counts })
    }

    fn within(&self, other: &Self) -> bool {
        other.first <= self.first && self.last <= other.last
    }
}

/// Chats differ by the sum over days of the difference in counts (a day outside a period
/// counts 0 there); periods are nested when one contains the other, and then every number is
/// comparable: the chats of the smaller period are all among those of the larger.
impl Population for DayCounts {
    fn people_differing(&self, other: &Self) -> i64 {
        let days: std::collections::BTreeSet<&i64> = self.counts.keys().chain(other.counts.keys()).collect();
        let n = |p: &Self, d: &i64| p.counts.get(d).copied().unwrap_or(0);
        days.into_iter().map(|d| (n(self, d) - n(other, d)).abs()).sum()
    }

    fn comparable<'a>(&'a self, other: &'a Self) -> Box<dyn Fn(&str) -> bool + 'a> {
        let nested = self.within(other) || other.within(self);
        Box::new(move |_| nested)
    }
}

/// Whether `new` may be released after a release recorded as (`old`, `old_cells`).
pub fn service_refuses(new: &DayCounts, cells: &Cells, old: &str, old_cells: Option<&str>, k: i64) -> bool {
    match DayCounts::decode(old) {
        Some(old) => differencing_refuses(new, cells, &old, old_cells, k),
        None => {
            tracing::error!("service report release log: unreadable population; refusing the report");
            true
        }
    }
}

/// The numbers a report shows, named so that each cell sits under the total it adds up to.
pub fn report_cells(r: &ServiceReport) -> Cells {
    let mut c = Cells::new();
    let mut put = |key: String, v: Option<i64>| {
        if let Some(v) = v {
            c.insert(key, v);
        }
    };
    put("contacts".into(), r.contacts.value);
    put("contacts/answered".into(), r.answered.value);
    put("contacts/abandoned".into(), r.abandoned.value);
    for d in &r.contacts_by_hour {
        put(format!("contacts/hour:{}", d.label), d.count);
    }
    for d in &r.contacts_by_weekday {
        put(format!("contacts/weekday:{}", d.label), d.count);
    }
    put("young_people".into(), r.young_people.value);
    put("young_people/first_time".into(), r.first_time.value);
    put("young_people/returning".into(), r.returning.value);
    put("contacts/closed".into(), r.closed.value);
    put("closed".into(), r.closed.value);
    for d in &r.outcomes {
        put(format!("closed/outcome:{}", d.label), d.count);
    }
    put("transfers".into(), r.transfers.value);
    for e in &r.escalations {
        let s = e.severity.as_str();
        put(format!("escalations:{s}"), e.raised.value);
        put(format!("escalations:{s}/acknowledged"), e.acknowledged.value);
        put(format!("escalations:{s}/overdue"), e.overdue.value);
        put(format!("escalations:{s}/resolved"), e.resolved.value);
    }
    let m = &r.moderation;
    put("moderation".into(), m.items.value);
    put("moderation/decided".into(), m.decided.value);
    put("decided".into(), m.decided.value);
    for d in &m.decisions {
        put(format!("decided/decision:{}", d.label), d.count);
    }
    for rc in &r.risk_categories {
        let c = rc.category.as_str();
        put(format!("risk:{c}"), rc.chats.value);
        for d in &rc.by_day {
            put(format!("risk:{c}/day:{}", d.label), d.count);
        }
    }
    c
}

fn refusal(k: i64) -> String {
    format!(
        "this period's report differs from one already released by fewer than {k} chats (in all, or in one of its \
         numbers), so comparing the two could reveal a small group; widen or change the period"
    )
}

/// What a report is built from: the store's rows for the period.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub chats: Vec<ChatTimes>,
    pub escalations: Vec<EscalationTimes>,
    pub items: Vec<ItemTimes>,
    pub transfers: i64,
    pub flagged: Vec<FlaggedMessage>,
}

/// Moderation decisions as stored, in the order they are reported.
const DECISIONS: [&str; 5] = ["approve", "redact", "reject", "remove", "dismiss"];

fn severity_of(s: Severity) -> Option<EscalationSeverity> {
    match s {
        Severity::None => None,
        Severity::Low => Some(EscalationSeverity::Low),
        Severity::Medium => Some(EscalationSeverity::Medium),
        Severity::High => Some(EscalationSeverity::High),
        Severity::Critical => Some(EscalationSeverity::Critical),
    }
}

fn category_of(c: Category) -> Option<RiskCategory> {
    RiskCategory::ALL.into_iter().find(|r| r.as_str() == c.as_str())
}

/// The categories of a stored verdict (nothing else of it is read).
fn categories(verdict: &str) -> Vec<Category> {
    #[derive(serde::Deserialize)]
    struct Labels {
        #[serde(default)]
        labels: Vec<Category>,
    }
    serde_json::from_str::<Labels>(verdict).map(|l| l.labels).unwrap_or_default()
}

fn day_label(day: i64) -> String {
    Date::from_julian_day(UNIX_EPOCH_JULIAN + day as i32).map(|d| d.to_string()).unwrap_or_default()
}

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN: i32 = 2_440_588;

fn escalation_figures(escalations: &[EscalationTimes], now: i64, k: i64) -> Vec<SeverityFigures> {
    EscalationSeverity::ALL
        .into_iter()
        .map(|s| {
            let of: Vec<&EscalationTimes> = escalations.iter().filter(|e| severity_of(e.severity) == Some(s)).collect();
            let acked = of.iter().filter(|e| e.acknowledged_at.is_some()).count() as i64;
            let resolved = of.iter().filter(|e| e.resolved_at.is_some()).count() as i64;
            let overdue = of.iter().filter(|e| e.acknowledged_at.unwrap_or(now) > e.deadline_at).count() as i64;
            let acks = seconds(of.iter().filter_map(|e| e.acknowledged_at.map(|a| a - e.created_at)).collect());
            let resolves = seconds(of.iter().filter_map(|e| e.resolved_at.map(|a| a - e.created_at)).collect());
            SeverityFigures {
                severity: s,
                raised: cell(of.len() as i64, k),
                acknowledged: cell(acked, k),
                overdue: cell(overdue, k),
                resolved: cell(resolved, k),
                acknowledge_median_seconds: med(&acks, k),
                resolve_median_seconds: med(&resolves, k),
            }
        })
        .collect()
}

fn moderation_figures(items: &[ItemTimes], k: i64) -> ModerationFigures {
    let decided: Vec<&ItemTimes> = items.iter().filter(|i| i.decided_at.is_some()).collect();
    let counts: Vec<i64> =
        DECISIONS.iter().map(|d| decided.iter().filter(|i| i.decision.as_deref() == Some(*d)).count() as i64).collect();
    let labels: Vec<String> = DECISIONS.iter().map(|d| d.to_string()).collect();
    let (decisions, _) = suppress_distribution(&labels, &counts, decided.len() as i64, false, k);
    let times = seconds(decided.iter().filter_map(|i| i.decided_at.map(|d| d - i.created_at)).collect());
    ModerationFigures {
        items: cell(items.len() as i64, k),
        decided: cell(decided.len() as i64, k),
        decisions,
        decision_median_seconds: med(&times, k),
    }
}

/// Each chat counted once per category, on the day of its first such message in the period.
fn risk_figures(flagged: &[FlaggedMessage], first_day: i64, last_day: i64, k: i64) -> Vec<RiskCategoryFigures> {
    let mut first: BTreeMap<(Category, &str), i64> = BTreeMap::new();
    for m in flagged {
        for c in categories(&m.verdict) {
            let at = first.entry((c, m.conversation_id.as_str())).or_insert(m.sent_at);
            *at = (*at).min(m.sent_at);
        }
    }
    let labels: Vec<String> = (first_day..=last_day).map(day_label).collect();
    Category::ALL
        .into_iter()
        .filter_map(|c| Some((c, category_of(c)?)))
        .map(|(c, category)| {
            let mut by_day = vec![0i64; labels.len()];
            for ((_, _), at) in first.range((c, "")..).take_while(|((x, _), _)| *x == c) {
                let d = at.div_euclid(DAY_MS) - first_day;
                if let Some(n) = usize::try_from(d).ok().and_then(|d| by_day.get_mut(d)) {
                    *n += 1;
                }
            }
            let chats: i64 = by_day.iter().sum();
            let (by_day, _) = suppress_distribution(&labels, &by_day, chats, false, k);
            RiskCategoryFigures { category, chats: cell(chats, k), by_day }
        })
        .collect()
}

/// Builds the report from the rows (pure, for unit tests and the HTTP edge alike).
/// `outcomes` are the configured close outcomes; `first_day`/`last_day` the period's days.
pub fn build(q: &ServiceReportQuery, rows: &Rows, outcomes: &[String], now: i64, k: i64) -> ServiceReport {
    let chats = &rows.chats;
    let contacts = chats.len() as i64;
    let answered: Vec<&ChatTimes> = chats.iter().filter(|c| c.assigned_at.is_some()).collect();
    let abandoned: Vec<&ChatTimes> =
        chats.iter().filter(|c| c.assigned_at.is_none() && c.closed_at.is_some()).collect();
    let waits = seconds(answered.iter().filter_map(|c| c.assigned_at.map(|a| a - c.created_at)).collect());
    let gave_up = seconds(abandoned.iter().filter_map(|c| c.closed_at.map(|a| a - c.created_at)).collect());
    let replies = seconds(chats.iter().filter_map(|c| c.first_reply_at.map(|r| r - c.created_at)).collect());
    let lengths = seconds(answered.iter().filter_map(|c| Some(c.closed_at? - c.assigned_at?)).collect());

    // Young people: each counted once; first-time when their first support chat ever is in
    // the period (it cannot be later than a chat of theirs in the period).
    let period = period(q).unwrap_or((0, 0));
    let mut people: BTreeMap<&str, bool> = BTreeMap::new();
    for c in chats {
        if let Some(owner) = c.owner_id.as_deref() {
            people.insert(owner, c.owner_first_at.is_some_and(|f| f >= period.0));
        }
    }
    let young_people = people.len() as i64;
    let first_time = people.values().filter(|f| **f).count() as i64;
    let yp_labels = ["first_time".to_owned(), "returning".to_owned()];
    let (yp, _) = suppress_distribution(&yp_labels, &[first_time, young_people - first_time], young_people, false, k);

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

    // Outcomes of the closed chats: the configured ones, then `none` for anything else.
    let closed: Vec<&ChatTimes> = chats.iter().filter(|c| c.closed_at.is_some()).collect();
    let mut outcome_labels: Vec<String> = outcomes.to_vec();
    outcome_labels.push("none".into());
    let mut outcome_counts = vec![0i64; outcome_labels.len()];
    for c in &closed {
        let i = c.outcome.as_deref().and_then(|o| outcomes.iter().position(|x| x == o)).unwrap_or(outcomes.len());
        outcome_counts[i] += 1;
    }
    let (outcomes, _) = suppress_distribution(&outcome_labels, &outcome_counts, closed.len() as i64, false, k);

    let (first_day, last_day) = (period.0.div_euclid(DAY_MS), (period.1 - 1).div_euclid(DAY_MS));
    let cell_of = |d: &DistributionCell| ReportCell { value: d.count, suppressed: d.suppressed };
    ServiceReport {
        from: q.from.clone(),
        to: q.to.clone(),
        threshold: k,
        suppressed: false,
        suppression_reason: None,
        contacts: cell(contacts, k),
        answered: cell(answered.len() as i64, k),
        abandoned: cell(abandoned.len() as i64, k),
        abandoned_after_median_seconds: med(&gave_up, k),
        young_people: cell(young_people, k),
        first_time: cell_of(&yp[0]),
        returning: cell_of(&yp[1]),
        queue_wait_median_seconds: med(&waits, k),
        queue_wait_p90_seconds: percentile(&waits, 0.9, k),
        first_reply_median_seconds: med(&replies, k),
        first_reply_p90_seconds: percentile(&replies, 0.9, k),
        chat_length_median_seconds: med(&lengths, k),
        closed: cell(closed.len() as i64, k),
        outcomes,
        transfers: cell(rows.transfers, k),
        contacts_by_hour,
        contacts_by_weekday,
        escalations: escalation_figures(&rows.escalations, now, k),
        moderation: moderation_figures(&rows.items, k),
        risk_categories: risk_figures(&rows.flagged, first_day, last_day, k),
    }
}

/// `GET /v1/admin/service-report`: supervisors and the YOT admin.
pub async fn report(state: &AppState, user: &AuthUser, q: &ServiceReportQuery) -> ApiResult<ServiceReport> {
    user.require(READERS)?;
    let (from, to) = period(q)?;
    let rows = Rows {
        chats: state.store.report_chats(from, to).await?,
        escalations: state.store.report_escalations(from, to).await?,
        items: state.store.report_moderation_items(from, to).await?,
        transfers: state.store.report_transfers(from, to).await?,
        flagged: state.store.report_flagged(from, to).await?,
    };
    let (now, k) = (state.clock.now_ms(), threshold(state));
    let outcomes = &state.config.desk.close_outcomes;
    let report = build(q, &rows, outcomes, now, k);
    // Built as it would be released; now checked against earlier releases (docs/reports.md).
    let pop = DayCounts::of(from, to, &rows.chats);
    let cells = report_cells(&report);
    let encoded = pop.encode();
    let cells_json = serde_json::to_string(&cells).map_err(|e| ApiError::Internal(e.to_string()))?;
    // The digest covers the numbers too: the same chats with other numbers (an escalation
    // acknowledged since) is another release, recorded so later ones are checked against it.
    let digest = format!("{:x}", Sha256::digest(format!("{encoded}|{cells_json}").as_bytes()));
    let release =
        Release { scope: SCOPE, population: &encoded, digest: &digest, cells: &cells_json, by: &user.id.0, now };
    let refuse = |old: &str, old_cells: Option<&str>| service_refuses(&pop, &cells, old, old_cells, k);
    if state.store.service_release_checked(&release, RELEASES_CHECKED, &refuse).await? {
        return Ok(report);
    }
    // Everything withheld: the report of nothing, with the reason.
    let mut withheld = build(q, &Rows::default(), outcomes, now, k);
    withheld.suppressed = true;
    withheld.suppression_reason = Some(refusal(k));
    Ok(withheld)
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

    fn days(first: i64, last: i64, counts: &[(i64, i64)]) -> DayCounts {
        DayCounts { first, last, counts: counts.iter().copied().collect() }
    }

    fn json(c: &[(&str, i64)]) -> String {
        serde_json::to_string(&c.iter().map(|(k, v)| (k.to_string(), *v)).collect::<Cells>()).unwrap()
    }

    #[test]
    fn day_counts_survive_the_log_and_unreadable_records_refuse() {
        let d = days(10, 12, &[(10, 3), (12, 7)]);
        assert_eq!(DayCounts::decode(&d.encode()), Some(d.clone()));
        assert_eq!(DayCounts::decode(&days(10, 10, &[]).encode()), Some(days(10, 10, &[])));
        assert!(service_refuses(&d, &Cells::new(), "garbage", None, 3));
    }

    #[test]
    fn periods_differing_by_a_few_chats_are_refused() {
        let k = 3;
        // Mon..Tue released (5 + 2 chats); Mon alone would give Tuesday's 2 away.
        let mon_tue = days(0, 1, &[(0, 5), (1, 2)]);
        let mon = days(0, 0, &[(0, 5)]);
        assert_eq!(mon.people_differing(&mon_tue), 2);
        assert!(service_refuses(&mon, &Cells::new(), &mon_tue.encode(), None, k));
        // Tuesday with 3 chats: differs by 3, allowed (no numbers compared).
        let mon_tue3 = days(0, 1, &[(0, 5), (1, 3)]);
        assert!(!service_refuses(&mon, &Cells::new(), &mon_tue3.encode(), None, k));
        // The same period again after a chat on Monday was erased: differs by 1.
        let erased = days(0, 1, &[(0, 4), (1, 3)]);
        assert!(service_refuses(&erased, &Cells::new(), &mon_tue3.encode(), None, k));
        // The same period, the same chats: fine.
        assert!(!service_refuses(&mon_tue3, &Cells::new(), &mon_tue3.encode(), None, k));
        // Disjoint periods differ by all their chats.
        assert_eq!(days(5, 6, &[(5, 1)]).people_differing(&mon), 6);
    }

    #[test]
    fn nested_periods_compare_every_number() {
        let k = 3;
        let old = days(0, 1, &[(0, 5), (1, 5)]);
        let old_cells = json(&[("contacts", 10), ("contacts/answered", 9)]);
        // Mon..Wed: 3 more chats, but only 1 more answered: the 2 unanswered are revealed.
        let new = days(0, 2, &[(0, 5), (1, 5), (2, 3)]);
        let cells: Cells = [("contacts".to_owned(), 13), ("contacts/answered".to_owned(), 10)].into();
        assert!(service_refuses(&new, &cells, &old.encode(), Some(&old_cells), k));
        // All 3 answered: every difference is 0 or 3.
        let cells: Cells = [("contacts".to_owned(), 13), ("contacts/answered".to_owned(), 12)].into();
        assert!(!service_refuses(&new, &cells, &old.encode(), Some(&old_cells), k));
        // The same period asked again once one more escalation was acknowledged.
        let old_cells = json(&[("escalations:high", 5), ("escalations:high/acknowledged", 4)]);
        let cells: Cells = [("escalations:high".to_owned(), 5), ("escalations:high/acknowledged".to_owned(), 5)].into();
        assert!(service_refuses(&old, &cells, &old.encode(), Some(&old_cells), k));
        // Periods that only overlap are not compared number by number.
        let overlap = days(1, 3, &[(1, 5), (2, 5), (3, 5)]);
        assert!(!service_refuses(&overlap, &cells, &old.encode(), Some(&old_cells), k));
    }

    const D: i64 = 1_767_225_600_000; // 2026-01-01, a Thursday

    fn flagged(chat: &str, at: i64, labels: &str) -> FlaggedMessage {
        FlaggedMessage {
            conversation_id: chat.into(),
            sent_at: at,
            verdict: format!("{{\"labels\":{labels},\"redacted\":\"x\"}}"),
        }
    }

    fn item(created_at: i64, decided_after: Option<i64>, decision: &str) -> ItemTimes {
        ItemTimes {
            created_at,
            decided_at: decided_after.map(|s| created_at + s * 1000),
            decision: Some(decision.into()),
        }
    }

    #[test]
    fn moderation_transfers_outcomes_and_risk_by_day_are_counted_and_withheld() {
        let k = 3;
        let outcomes = vec!["resolved".to_owned(), "signposted".to_owned()];
        let chat = |outcome: Option<&str>| ChatTimes {
            created_at: D,
            closed_at: Some(D + 60_000),
            outcome: outcome.map(str::to_owned),
            ..Default::default()
        };
        let rows = Rows {
            chats: vec![
                chat(Some("resolved")),
                chat(Some("resolved")),
                chat(Some("resolved")),
                chat(Some("gone")),
                chat(None),
            ],
            escalations: vec![],
            items: vec![
                item(D, Some(10), "approve"),
                item(D, Some(20), "approve"),
                item(D, Some(30), "approve"),
                item(D, Some(40), "remove"),
                item(D, None, ""),
            ],
            transfers: 4,
            flagged: vec![
                // Weapons: chats a, b, c on day 1 (a twice: counted once), d and e on day 2,
                // f on day 2 and again on day 1 (counted on day 1, its first).
                flagged("a", D + 1000, "[\"weapons\"]"),
                flagged("a", D + 2000, "[\"weapons\",\"hate\"]"),
                flagged("b", D + 3000, "[\"weapons\"]"),
                flagged("c", D + 4000, "[\"weapons\"]"),
                flagged("d", D + DAY_MS, "[\"weapons\"]"),
                flagged("e", D + DAY_MS, "[\"weapons\"]"),
                flagged("f", D + DAY_MS + 5, "[\"weapons\"]"),
                flagged("f", D + 5, "[\"weapons\"]"),
                // Outside the period (day 4): not counted.
                flagged("g", D + 3 * DAY_MS, "[\"weapons\"]"),
                // Not a verdict we can read: no categories.
                FlaggedMessage { conversation_id: "h".into(), sent_at: D, verdict: "nonsense".into() },
            ],
        };
        let r = build(&q("2026-01-01", "2026-01-03"), &rows, &outcomes, D, k);
        assert_eq!(r.transfers.value, Some(4));
        assert_eq!(r.closed.value, Some(5));
        let got: Vec<_> = r.outcomes.iter().map(|o| (o.label.as_str(), o.count)).collect();
        // resolved 3; signposted 0 and none 2 withheld (two withheld: no secondary).
        assert_eq!(got, [("resolved", Some(3)), ("signposted", None), ("none", None)]);
        let m = &r.moderation;
        assert_eq!((m.items.value, m.decided.value), (Some(5), Some(4)));
        let got: Vec<_> = m.decisions.iter().map(|d| (d.label.as_str(), d.count)).collect();
        assert_eq!(
            got,
            [("approve", Some(3)), ("redact", None), ("reject", None), ("remove", None), ("dismiss", None)]
        );
        assert_eq!(m.decision_median_seconds, Some(25.0));
        let weapons = r.risk_categories.iter().find(|c| c.category == RiskCategory::Weapons).unwrap();
        assert_eq!(weapons.chats.value, Some(6));
        let days: Vec<_> = weapons.by_day.iter().map(|d| (d.label.as_str(), d.count)).collect();
        // Day 1: a, b, c, f (4); day 2: d, e (2) and day 3 (0) withheld: two withheld, so
        // day 1 can stand (no secondary suppression).
        assert_eq!(days, [("2026-01-01", Some(4)), ("2026-01-02", None), ("2026-01-03", None)]);
        let hate = r.risk_categories.iter().find(|c| c.category == RiskCategory::Hate).unwrap();
        assert!(hate.chats.suppressed, "1 chat");
        // Too few to show at a higher threshold.
        let r = build(&q("2026-01-01", "2026-01-03"), &rows, &outcomes, D, 5);
        assert!(r.transfers.suppressed && r.moderation.decision_median_seconds.is_none());
    }

    #[test]
    fn percentiles_use_the_nearest_rank_and_withhold_small_lists() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 0.9, 5), Some(9.0));
        assert_eq!(percentile(&v[..4], 0.9, 5), None);
        assert_eq!(med(&v, 5), Some(5.5));
    }
}
