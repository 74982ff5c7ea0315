//! The summary document (docs/reports.md, "Summary document"): one self-contained, printable
//! HTML page for a scrutiny committee or a partnership board, with the service report of a
//! period and the surveys' distance travelled over the same days. It is built only from the two
//! reports as released, so everything withheld there is withheld here, and each release is
//! checked against differencing exactly as when it is asked for on its own.

use std::fmt::Write as _;

use talkzone_mobile_api::{
    DistanceQuery, DistanceReport, DistributionCell, QuestionKind, ReportCell, Role, ServiceReport, ServiceReportQuery,
};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::surveys::chart::esc;

/// Who may download it: the YOT admin (the survey reports it includes are the admin's).
pub const READERS: &[Role] = &[Role::YotAdmin];

/// One scale question's distance travelled, start to end, over the period.
pub struct Impact {
    pub survey: String,
    pub question: String,
    pub report: DistanceReport,
}

/// The document's parts, as released.
pub struct Summary {
    pub service: ServiceReport,
    pub impact: Vec<Impact>,
    /// When it was made (UTC, for the page's footer).
    pub made_at: String,
}

/// Builds the summary of `q`'s period: the service report, then every published survey's
/// scale questions (start to end, later stage due in the period).
pub async fn summary(state: &AppState, user: &AuthUser, q: &ServiceReportQuery) -> ApiResult<Summary> {
    user.require(READERS)?;
    let service = super::report(state, user, q).await?;
    let mut impact = Vec::new();
    for survey in crate::surveys::list_surveys(state, user).await? {
        let Some(version) = survey.latest_version else { continue };
        let published = crate::surveys::get_version(state, user, &survey.id, version).await?;
        for question in &published.definition.questions {
            if !matches!(question.kind, QuestionKind::EmojiScale | QuestionKind::Scale0To10) {
                continue;
            }
            let dq = DistanceQuery {
                question_id: question.id.clone(),
                from_stage: None,
                to_stage: None,
                intervention_type: None,
                age_band: None,
                gender: None,
                ethnicity: None,
                looked_after: None,
                from: Some(q.from.clone()),
                to: Some(q.to.clone()),
            };
            let report = crate::surveys::reports::distance(state, user, &survey.id, &dq).await?;
            impact.push(Impact { survey: published.definition.title.clone(), question: question.text.clone(), report });
        }
    }
    let made_at = time::OffsetDateTime::from_unix_timestamp(state.clock.now_ms() / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    Ok(Summary { service, impact, made_at })
}

const WITHHELD: &str = "<span class=\"withheld\">withheld</span>";

fn count(c: &ReportCell) -> String {
    c.value.map_or_else(|| WITHHELD.to_owned(), |v| v.to_string())
}

fn dist(c: &DistributionCell) -> String {
    c.count.map_or_else(|| WITHHELD.to_owned(), |v| v.to_string())
}

/// Seconds as a reader says them (`45 s`, `12 min`, `2.5 h`); withheld or none otherwise.
fn duration(s: Option<f64>) -> String {
    match s {
        None => WITHHELD.to_owned(),
        Some(s) if s < 90.0 => format!("{s:.0} s"),
        Some(s) if s < 5_400.0 => format!("{:.0} min", s / 60.0),
        Some(s) => format!("{:.1} h", s / 3_600.0),
    }
}

fn label(s: &str) -> String {
    let s = s.replace('_', " ");
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// A two-column table: a caption and (figure, value) rows (values are already HTML).
fn table(out: &mut String, caption: &str, head: &str, rows: &[(String, String)]) {
    let _ = write!(out, "<table><caption>{}</caption><thead><tr><th scope=\"col\">Figure</th><th scope=\"col\">{}</th></tr></thead><tbody>", esc(caption), esc(head));
    for (k, v) in rows {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th><td>{v}</td></tr>", esc(k));
    }
    out.push_str("</tbody></table>\n");
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}\
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid #1b1b1b}\
table{border-collapse:collapse;margin:1rem 0;width:100%}caption{text-align:left;font-weight:600;padding:.3rem 0}\
th,td{border:1px solid #767676;padding:.3rem .5rem;text-align:left}td{font-variant-numeric:tabular-nums}\
.wide{overflow-x:auto}.withheld{font-style:italic;color:#595959}.note{background:#f3f3f3;padding:.6rem .8rem;border-left:4px solid #1b1b1b}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table{break-inside:avoid}}";

/// The document: HTML with its style inline and nothing fetched, so it prints and files as is.
pub fn html(s: &Summary) -> String {
    let r = &s.service;
    let mut out = String::new();
    let title = format!("Talk Zone service summary, {} to {}", r.from, r.to);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body><main>\n<h1>{t}</h1>\n",
        t = esc(&title)
    );
    let _ = write!(
        out,
        "<p class=\"note\">Days are whole UTC days, both ends included. To protect the young people in it, any number \
         under {k} is withheld, with a second number where the first could be worked out from a total, and a whole \
         report is withheld when comparing it with one already released could reveal a smaller group. Nothing a young \
         person wrote is in this document.</p>",
        k = r.threshold
    );
    out.push_str("<h2>Contacts</h2>\n");
    if let Some(why) = &r.suppression_reason {
        let _ = writeln!(out, "<p class=\"note\">The service figures for this period are withheld: {}.</p>", esc(why));
    }
    table(
        &mut out,
        "Who came to the service",
        "Number",
        &[
            ("Support chats opened".into(), count(&r.contacts)),
            ("Young people".into(), count(&r.young_people)),
            ("First time".into(), count(&r.first_time)),
            ("Returning".into(), count(&r.returning)),
            ("Answered by staff".into(), count(&r.answered)),
            ("Gave up before an answer".into(), count(&r.abandoned)),
            ("Transfers between staff".into(), count(&r.transfers)),
        ],
    );
    table(
        &mut out,
        "Waiting and answering",
        "Time",
        &[
            ("Wait for a worker, median".into(), duration(r.queue_wait_median_seconds)),
            ("Wait for a worker, 9 in 10 within".into(), duration(r.queue_wait_p90_seconds)),
            ("First reply, median".into(), duration(r.first_reply_median_seconds)),
            ("First reply, 9 in 10 within".into(), duration(r.first_reply_p90_seconds)),
            ("Length of a chat, median".into(), duration(r.chat_length_median_seconds)),
            ("Gave up after, median".into(), duration(r.abandoned_after_median_seconds)),
        ],
    );
    let outcomes: Vec<(String, String)> = r.outcomes.iter().map(|c| (label(&c.label), dist(c))).collect();
    table(&mut out, "How chats ended", "Chats", &outcomes);

    out.push_str("<h2>Escalations</h2>\n<div class=\"wide\" tabindex=\"0\" role=\"region\" aria-label=\"Escalations by severity\"><table><caption>Escalations by severity</caption><thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Raised</th><th scope=\"col\">Acknowledged</th><th scope=\"col\">Overdue</th><th scope=\"col\">Resolved</th><th scope=\"col\">To acknowledge, median</th><th scope=\"col\">To resolve, median</th></tr></thead><tbody>");
    for e in &r.escalations {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&label(e.severity.as_str())),
            count(&e.raised),
            count(&e.acknowledged),
            count(&e.overdue),
            count(&e.resolved),
            duration(e.acknowledge_median_seconds),
            duration(e.resolve_median_seconds)
        );
    }
    out.push_str("</tbody></table></div>\n");

    out.push_str("<h2>Risks detected</h2>\n");
    let risks: Vec<(String, String)> =
        r.risk_categories.iter().map(|c| (label(c.category.as_str()), count(&c.chats))).collect();
    table(&mut out, "Support chats in which the moderation step detected each risk", "Chats", &risks);
    let m = &r.moderation;
    table(
        &mut out,
        "Moderation",
        "Number or time",
        &[
            ("Items for the moderators".into(), count(&m.items)),
            ("Decided".into(), count(&m.decided)),
            ("Time to a decision, median".into(), duration(m.decision_median_seconds)),
        ],
    );

    out.push_str("<h2>Distance travelled</h2>\n");
    if s.impact.is_empty() {
        out.push_str("<p>No published survey has a scale question.</p>\n");
    }
    for i in &s.impact {
        let d = &i.report;
        let caption = format!(
            "{}: \u{201c}{}\u{201d} ({} to {})",
            i.survey,
            i.question,
            d.from_stage.as_str(),
            d.to_stage.as_str()
        );
        let share = |c: &talkzone_mobile_api::DistanceCell| match (c.count, c.share) {
            (Some(n), Some(p)) => format!("{n} ({:.0}%)", p * 100.0),
            _ => WITHHELD.to_owned(),
        };
        let mut rows = vec![
            ("Answered at both stages".into(), count(&d.pairs)),
            (
                "Mean change (higher is better)".into(),
                d.mean_change.map_or_else(|| WITHHELD.to_owned(), |m| format!("{m:+.2}")),
            ),
            ("Better".into(), share(&d.improved)),
            ("The same".into(), share(&d.same)),
            ("Worse".into(), share(&d.worse)),
        ];
        if let Some(why) = &d.suppression_reason {
            rows.push(("Withheld because".into(), esc(why)));
        }
        table(&mut out, &caption, "Young people and carers", &rows);
    }
    let _ = writeln!(out, "<p><small>Made {} by Talk Zone.</small></p>\n</main></body></html>", esc(&s.made_at));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(Some(42.0)), "42 s");
        assert_eq!(duration(Some(600.0)), "10 min");
        assert_eq!(duration(Some(9_000.0)), "2.5 h");
        assert_eq!(duration(None), WITHHELD);
    }

    #[test]
    fn labels_and_text_are_escaped() {
        assert_eq!(label("referred_to_service"), "Referred to service");
        assert_eq!(esc("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
