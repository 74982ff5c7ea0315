//! A plain SVG bar chart of one question's distribution, drawn from the suppressed report:
//! a suppressed bar is drawn as an empty dashed outline labelled "suppressed".

use std::fmt::Write as _;

use talkzone_mobile_api::QuestionReport;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

pub fn question_svg(q: &QuestionReport, threshold: i64, report_suppressed: bool) -> String {
    const W: i64 = 640;
    const LABEL_W: i64 = 180;
    const BAR_MAX: i64 = 360;
    const ROW: i64 = 28;
    let rows = q.distribution.len().max(1) as i64;
    let h = 60 + rows * ROW + 30;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" role=\"img\" \
         font-family=\"sans-serif\" font-size=\"13\">\n<title>{}</title>\n<text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
        esc(&q.text),
        esc(&q.text)
    );
    if report_suppressed || q.distribution.is_empty() {
        let why = if report_suppressed {
            format!("Not shown: fewer than {threshold} people, or the selection could reveal a small group")
        } else {
            "No chart for this question type".to_owned()
        };
        let _ = write!(s, "<text x=\"10\" y=\"60\">{}</text>\n</svg>\n", esc(&why));
        return s;
    }
    let max = q.distribution.iter().filter_map(|d| d.count).max().unwrap_or(0).max(1);
    for (i, d) in q.distribution.iter().enumerate() {
        let y = 44 + i as i64 * ROW;
        let _ = writeln!(s, "<text x=\"10\" y=\"{}\">{}</text>", y + 17, esc(&d.label));
        match d.count {
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
    let answered = match q.answered.value {
        Some(n) => format!("Answered: {n}"),
        None => "Answered: suppressed".to_owned(),
    };
    let _ = write!(s, "<text x=\"10\" y=\"{}\" fill=\"#333\">{}</text>\n</svg>\n", h - 10, esc(&answered));
    s
}
