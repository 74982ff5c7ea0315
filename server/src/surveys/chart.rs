//! Plain SVG bar charts, drawn from suppressed reports (one question's distribution, and
//! distance travelled): a suppressed bar is drawn as an empty dashed outline labelled
//! "suppressed".

use std::fmt::Write as _;

use talkzone_mobile_api::{DistanceReport, QuestionReport};

/// `s` safe as HTML or SVG text and attribute values.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// One bar of a chart: its label and its count, `None` when suppressed.
struct Bar<'a> {
    label: &'a str,
    count: Option<i64>,
}

const W: i64 = 640;
const LABEL_W: i64 = 180;
const BAR_MAX: i64 = 360;
const ROW: i64 = 28;

/// The frame of a chart with `rows` bars: its height and the opening with the title.
fn open(title: &str, rows: usize) -> (i64, String) {
    let h = 60 + rows.max(1) as i64 * ROW + 30;
    let s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" role=\"img\" \
         font-family=\"sans-serif\" font-size=\"13\">\n<title>{}</title>\n<text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
        esc(title),
        esc(title)
    );
    (h, s)
}

/// A chart with no bars, only why.
fn withheld(mut s: String, why: &str) -> String {
    let _ = write!(s, "<text x=\"10\" y=\"60\">{}</text>\n</svg>\n", esc(why));
    s
}

fn suppressed_why(threshold: i64) -> String {
    format!("Not shown: fewer than {threshold} people, or the selection could reveal a small group")
}

/// The bars, then a footer line, and the end of the chart. A suppressed bar is an empty
/// dashed outline labelled "suppressed".
fn bars(mut s: String, h: i64, bars: &[Bar<'_>], threshold: i64, footer: &str) -> String {
    let max = bars.iter().filter_map(|b| b.count).max().unwrap_or(0).max(1);
    for (i, b) in bars.iter().enumerate() {
        let y = 44 + i as i64 * ROW;
        let _ = writeln!(s, "<text x=\"10\" y=\"{}\">{}</text>", y + 17, esc(b.label));
        match b.count {
            Some(n) => {
                let w = (n * BAR_MAX / max).max(1);
                let _ = writeln!(
                    s,
                    "<rect x=\"{LABEL_W}\" y=\"{y}\" width=\"{w}\" height=\"20\" fill=\"#3b6ea5\"/><text x=\"{}\" y=\"{}\">{n}</text>",
                    LABEL_W + w + 6,
                    y + 15
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "<rect x=\"{LABEL_W}\" y=\"{y}\" width=\"40\" height=\"20\" fill=\"none\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\
                     <text x=\"{}\" y=\"{}\" fill=\"#555\">suppressed (fewer than {threshold})</text>",
                    LABEL_W + 46,
                    y + 15
                );
            }
        }
    }
    let _ = write!(s, "<text x=\"10\" y=\"{}\" fill=\"#333\">{}</text>\n</svg>\n", h - 10, esc(footer));
    s
}

/// Distance travelled as a bar chart of improved / same / worse, drawn from the suppressed
/// report.
pub fn distance_svg(d: &DistanceReport) -> String {
    let title = format!("Distance travelled: {}, {} to {}", d.question_id, d.from_stage.as_str(), d.to_stage.as_str());
    let (h, s) = open(&title, 3);
    if d.suppressed {
        return withheld(s, &suppressed_why(d.threshold));
    }
    let cells = [("Improved", &d.improved), ("Same", &d.same), ("Worse", &d.worse)];
    let rows: Vec<Bar<'_>> = cells.iter().map(|(label, c)| Bar { label, count: c.count }).collect();
    let pairs = d.pairs.value.map_or("suppressed".to_owned(), |n| n.to_string());
    let mean = d.mean_change.map_or("withheld".to_owned(), |m| format!("{m:+}"));
    bars(s, h, &rows, d.threshold, &format!("Answered at both stages: {pairs}. Mean change: {mean}"))
}

/// One question's distribution as a bar chart, drawn from the suppressed report.
pub fn question_svg(q: &QuestionReport, threshold: i64, report_suppressed: bool) -> String {
    let (h, s) = open(&q.text, q.distribution.len());
    if report_suppressed {
        return withheld(s, &suppressed_why(threshold));
    }
    if q.distribution.is_empty() {
        return withheld(s, "No chart for this question type");
    }
    let rows: Vec<Bar<'_>> = q.distribution.iter().map(|d| Bar { label: &d.label, count: d.count }).collect();
    let answered = match q.answered.value {
        Some(n) => format!("Answered: {n}"),
        None => "Answered: suppressed".to_owned(),
    };
    bars(s, h, &rows, threshold, &answered)
}
