//! CSV export of a [`SurveyReport`]: the same numbers as the JSON report, after suppression
//! (a suppressed number is an empty `value` with `suppressed` = `true`). Free-text answers are
//! not exported. Cells that a spreadsheet would run as a formula are prefixed with `'`.

use std::fmt::Write as _;

use talkzone_mobile_api::{DistanceCell, DistanceReport, ReportCell, SurveyReport};

pub(crate) fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub(crate) fn num(v: Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

pub(crate) fn float(v: Option<f64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

pub fn report_csv(r: &SurveyReport) -> String {
    let mut out = String::from("section,question_id,question,label,value,suppressed\r\n");
    let mut row = |section: &str, qid: &str, q: &str, label: &str, value: String, suppressed: bool| {
        let _ =
            write!(out, "{},{},{},{},{},{}\r\n", field(section), field(qid), field(q), field(label), value, suppressed);
    };
    let c = |cell: &ReportCell| (num(cell.value), cell.suppressed);
    row("survey", "", &r.title, "version", r.version.to_string(), false);
    row("survey", "", &r.title, "threshold", r.threshold.to_string(), false);
    row("survey", "", &r.title, "whole_report_suppressed", r.suppressed.to_string(), false);
    let (v, s) = c(&r.assigned);
    row("summary", "", "", "assigned", v, s);
    let (v, s) = c(&r.completed);
    row("summary", "", "", "completed", v, s);
    row("summary", "", "", "response_rate", float(r.response_rate), r.response_rate.is_none());
    for q in &r.questions {
        let (v, s) = c(&q.answered);
        row("question", &q.question_id, &q.text, "answered", v, s);
        for d in &q.distribution {
            row("distribution", &q.question_id, &q.text, &d.label, num(d.count), d.suppressed);
        }
        if q.mean.is_some() || q.stats_suppressed {
            row("statistic", &q.question_id, &q.text, "mean", float(q.mean), q.stats_suppressed);
            row("statistic", &q.question_id, &q.text, "median", float(q.median), q.stats_suppressed);
        }
    }
    out
}

/// Distance travelled as CSV: the same numbers as the JSON report, after suppression.
pub fn distance_csv(d: &DistanceReport) -> String {
    let mut out = String::from("measure,value,share,suppressed\r\n");
    let mut row = |measure: &str, value: String, share: String, suppressed: bool| {
        let _ = write!(out, "{},{},{},{}\r\n", field(measure), field(&value), share, suppressed);
    };
    row("survey", d.survey_id.clone(), String::new(), false);
    row("question", d.question_id.clone(), String::new(), false);
    row("from_stage", d.from_stage.as_str().to_owned(), String::new(), false);
    row("to_stage", d.to_stage.as_str().to_owned(), String::new(), false);
    row("threshold", d.threshold.to_string(), String::new(), false);
    row("whole_report_suppressed", d.suppressed.to_string(), String::new(), false);
    row("pairs", num(d.pairs.value), String::new(), d.pairs.suppressed);
    row("mean_change", float(d.mean_change), String::new(), d.mean_change.is_none());
    let cell = |c: &DistanceCell| (num(c.count), float(c.share), c.suppressed);
    for (name, c) in [("improved", &d.improved), ("same", &d.same), ("worse", &d.worse)] {
        let (v, share, s) = cell(c);
        row(name, v, share, s);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::field("plain"), "plain");
        assert_eq!(super::field("x\"y,"), "\"x\"\"y,\"");
    }
}
