//! CSV export of a [`ServiceReport`]: the same numbers as the JSON report, after the same
//! withholding (a withheld number is an empty `value` with `withheld` = `true`), one figure a
//! row, so a spreadsheet can filter by `section`.

use std::fmt::Write as _;

use talkzone_mobile_api::{DistributionCell, ReportCell, ServiceReport};

use crate::surveys::csv::{field, float, num};

pub fn report_csv(r: &ServiceReport) -> String {
    let mut out = String::from("section,figure,label,value,withheld\r\n");
    let mut row = |section: &str, figure: &str, label: &str, value: String, withheld: bool| {
        let _ = write!(out, "{},{},{},{},{}\r\n", field(section), field(figure), field(label), field(&value), withheld);
    };
    let cell = |c: &ReportCell| (num(c.value), c.suppressed);
    let time = |v: Option<f64>| (float(v), v.is_none());
    row("report", "from", "", r.from.clone(), false);
    row("report", "to", "", r.to.clone(), false);
    row("report", "threshold", "", r.threshold.to_string(), false);
    row("report", "whole_report_withheld", "", r.suppressed.to_string(), false);
    if let Some(reason) = &r.suppression_reason {
        row("report", "reason", "", reason.clone(), false);
    }
    let mut cells = |section: &str, figure: &str, list: &[(&str, &ReportCell)]| {
        for (label, c) in list {
            let (v, w) = cell(c);
            row(section, figure, label, v, w);
        }
    };
    cells(
        "contacts",
        "count",
        &[
            ("contacts", &r.contacts),
            ("answered", &r.answered),
            ("abandoned", &r.abandoned),
            ("closed", &r.closed),
            ("transfers", &r.transfers),
        ],
    );
    cells(
        "young_people",
        "count",
        &[("young_people", &r.young_people), ("first_time", &r.first_time), ("returning", &r.returning)],
    );
    let mut times = |section: &str, list: &[(&str, Option<f64>)]| {
        for (label, v) in list {
            let (v, w) = time(*v);
            row(section, "seconds", label, v, w);
        }
    };
    times(
        "times",
        &[
            ("queue_wait_median", r.queue_wait_median_seconds),
            ("queue_wait_p90", r.queue_wait_p90_seconds),
            ("first_reply_median", r.first_reply_median_seconds),
            ("first_reply_p90", r.first_reply_p90_seconds),
            ("chat_length_median", r.chat_length_median_seconds),
            ("abandoned_after_median", r.abandoned_after_median_seconds),
        ],
    );
    let mut dist = |section: &str, figure: &str, list: &[DistributionCell]| {
        for d in list {
            row(section, figure, &d.label, num(d.count), d.suppressed);
        }
    };
    dist("outcomes", "closed", &r.outcomes);
    dist("contacts_by_hour", "contacts", &r.contacts_by_hour);
    dist("contacts_by_weekday", "contacts", &r.contacts_by_weekday);
    for e in &r.escalations {
        let s = e.severity.as_str();
        for (label, c) in [
            ("raised", &e.raised),
            ("acknowledged", &e.acknowledged),
            ("overdue", &e.overdue),
            ("resolved", &e.resolved),
        ] {
            let (v, w) = cell(c);
            row("escalations", s, label, v, w);
        }
        let (v, w) = time(e.acknowledge_median_seconds);
        row("escalations", s, "acknowledge_median_seconds", v, w);
        let (v, w) = time(e.resolve_median_seconds);
        row("escalations", s, "resolve_median_seconds", v, w);
    }
    let m = &r.moderation;
    for (label, c) in [("items", &m.items), ("decided", &m.decided)] {
        let (v, w) = cell(c);
        row("moderation", "count", label, v, w);
    }
    for d in &m.decisions {
        row("moderation", "decision", &d.label, num(d.count), d.suppressed);
    }
    let (v, w) = time(m.decision_median_seconds);
    row("moderation", "seconds", "decision_median", v, w);
    for c in &r.risk_categories {
        let (v, w) = cell(&c.chats);
        row("risk", c.category.as_str(), "chats", v, w);
        for d in &c.by_day {
            row("risk_by_day", c.category.as_str(), &d.label, num(d.count), d.suppressed);
        }
    }
    out
}
