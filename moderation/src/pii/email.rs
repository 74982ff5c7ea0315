//! **email**: `name@host.tld`, and spelt out: `name at gmail dot com`, `name (at) host (dot) co (dot) uk`,
//! with the name spelt out too, as voice typing writes it: `kyle underscore brodie`, `karen dot
//! ashby 74`.

use regex::Regex;

use super::{re, Cand};
use crate::PiiKind;

#[derive(Debug)]
pub(super) struct Emails {
    plain: Regex,
    spelt: Regex,
    spelt_provider: Regex,
}

impl Emails {
    pub(super) fn build() -> Result<Emails, String> {
        let sep_dot = r"(?:\s*(?:\.|\(dot\)|\[dot\])\s*|\s+dot\s+)";
        let sep_at = r"(?:\s+@\s+|\s*\(at\)\s*|\s*\[at\]\s*|\s+at\s+)";
        let word = r"[a-z0-9_\-]+";
        // The name's parts: words joined by a dot or a spelt-out underscore or dash, each maybe
        // followed by its digits after a space (`ashby 74`).
        let sep_local = format!(r"(?:{sep_dot}|\s+(?:underscore|dash|hyphen)\s+)");
        let part = format!(r"{word}(?:\s+[0-9]+)?");
        let tld =
            format!(r"(?:com|co{sep_dot}uk|org{sep_dot}uk|ac{sep_dot}uk|sch{sep_dot}uk|org|net|uk|me|io|info|ie)");
        Ok(Emails {
            plain: re(r"(?i)\b[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}\b")?,
            spelt: re(&format!(
                r"(?i)\b{part}(?:{sep_local}{part})*{sep_at}[a-z0-9\-]+(?:{sep_dot}[a-z0-9\-]+)*?{sep_dot}{tld}\b"
            ))?,
            spelt_provider: re(&format!(
                r"(?i)\b{part}(?:{sep_local}{part})*{sep_at}(?:gmail|googlemail|hotmail|yahoo|outlook|icloud|live|aol|btinternet|protonmail|msn)\b"
            ))?,
        })
    }

    /// `name@host.tld`: run when the text has an `@`.
    pub(super) fn find_plain(&self, text: &str, out: &mut Vec<Cand>) {
        for m in self.plain.find_iter(text) {
            out.push(Cand { kind: PiiKind::Email, start: m.start(), end: m.end() });
        }
    }

    /// Spelt out: run when the text has a spelt-out `at` (`policy/words/gate_at.txt`).
    pub(super) fn find_spelt(&self, text: &str, out: &mut Vec<Cand>) {
        for m in self.spelt.find_iter(text) {
            out.push(Cand { kind: PiiKind::Email, start: m.start(), end: m.end() });
        }
        for m in self.spelt_provider.find_iter(text) {
            out.push(Cand { kind: PiiKind::Email, start: m.start(), end: m.end() });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::{has, none_of};
    use crate::PiiKind;

    #[test]
    fn email_formats() {
        has("its b.okafor@yahoo.co.uk", PiiKind::Email, "b.okafor@yahoo.co.uk");
        has("danny dot kerr10 at gmail dot com is my email", PiiKind::Email, "danny dot kerr10 at gmail dot com");
        has("email jo (at) school (dot) org (dot) uk", PiiKind::Email, "jo (at) school (dot) org (dot) uk");
        has("its tillyrose at hotmail", PiiKind::Email, "tillyrose at hotmail");
        has(
            "send it to jay underscore mills at outlook dot com",
            PiiKind::Email,
            "jay underscore mills at outlook dot com",
        );
        has("write to jo dot bell 88 at yahoo dot co dot uk", PiiKind::Email, "jo dot bell 88 at yahoo dot co dot uk");
        has("reach me on sam dash t 7 at gmail", PiiKind::Email, "sam dash t 7 at gmail");
        none_of("im 14 at the moment", PiiKind::Email);
        has(
            "my mums email is karen dot ashby 74 at yahoo dot co dot uk",
            PiiKind::Email,
            "karen dot ashby 74 at yahoo dot co dot uk",
        );
        none_of("my mums email is karen dot ashby 74 at yahoo dot co dot uk", PiiKind::FullName);
        none_of("see you at the park", PiiKind::Email);
        none_of("meet me at tesco", PiiKind::Email);
    }
}
