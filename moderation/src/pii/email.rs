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
            spelt_provider: re(&format!(r"(?i)\b{part}(?:{sep_local}{part})*{sep_at}(?:{})\b", PROVIDERS.join("|")))?,
        })
    }

    /// `name@host.tld`: run when the text has an `@`.
    pub(super) fn find_plain(&self, text: &str, out: &mut Vec<Cand>) {
        for m in self.plain.find_iter(text) {
            out.push(Cand { kind: PiiKind::Email, start: m.start(), end: m.end() });
        }
    }

    /// Spelt out: run when the text has a spelt-out `at` (`policy/words/gate_at.txt`), and each
    /// pattern only when what follows an `at` could begin its host (see [`after_at`]).
    pub(super) fn find_spelt(&self, text: &str, out: &mut Vec<Cand>) {
        let (dotted, provider) = after_at(text);
        if dotted {
            for m in self.spelt.find_iter(text) {
                out.push(Cand { kind: PiiKind::Email, start: m.start(), end: m.end() });
            }
        }
        if provider {
            for m in self.spelt_provider.find_iter(text) {
                out.push(Cand { kind: PiiKind::Email, start: m.start(), end: m.end() });
            }
        }
    }
}

/// Mail providers spelt out without their domain (`its tillyrose at hotmail`).
const PROVIDERS: [&str; 11] =
    ["gmail", "googlemail", "hotmail", "yahoo", "outlook", "icloud", "live", "aol", "btinternet", "protonmail", "msn"];

/// For each spelt-out `at` in the text (`at`, `@` between spaces, `(at)`, `[at]`): whether the
/// word after it is followed by a dot, spelt or not (`gmail dot`, `school (dot)`, `mail.`), as
/// the pattern with a domain needs, and whether that word is a mail provider, as the pattern
/// without one needs. Most messages with ` at ` are neither (`see u at 4`), and the patterns,
/// which may start at any word, cost more than the rest of the PII search on them. Text with
/// any non-ASCII character runs both (the patterns' spaces are Unicode's).
fn after_at(text: &str) -> (bool, bool) {
    if !text.is_ascii() {
        return (true, true);
    }
    let b = text.as_bytes();
    let (mut dotted, mut provider) = (false, false);
    let mut i = 0;
    while i < b.len() {
        // the end of an `at` separator starting at i, if one does
        let end = if b[i] == b'(' || b[i] == b'[' {
            let close = if b[i] == b'(' { b')' } else { b']' };
            (b.len() >= i + 4 && b[i + 1..i + 3].eq_ignore_ascii_case(b"at") && b[i + 3] == close).then_some(i + 4)
        } else if b[i].is_ascii_whitespace() {
            let w = if b[i + 1..].first() == Some(&b'@') {
                1
            } else if b.len() >= i + 3 && b[i + 1..i + 3].eq_ignore_ascii_case(b"at") {
                2
            } else {
                0
            };
            (w > 0 && b.get(i + 1 + w).is_some_and(u8::is_ascii_whitespace)).then_some(i + 1 + w)
        } else {
            None
        };
        let Some(mut j) = end else {
            i += 1;
            continue;
        };
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let host = j;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-') {
            j += 1;
        }
        if j > host {
            provider |= PROVIDERS.iter().any(|p| b[host..j].eq_ignore_ascii_case(p.as_bytes()));
            let mut k = j;
            while k < b.len() && b[k].is_ascii_whitespace() {
                k += 1;
            }
            let rest = &b[k..];
            dotted |= rest.first() == Some(&b'.')
                || rest.len() >= 5
                    && (rest[..5].eq_ignore_ascii_case(b"(dot)") || rest[..5].eq_ignore_ascii_case(b"[dot]"))
                || k > j && rest.len() >= 4 && rest[..3].eq_ignore_ascii_case(b"dot") && rest[3].is_ascii_whitespace();
        }
        if dotted && provider {
            break;
        }
        i += 1;
    }
    (dotted, provider)
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
        has("mail me AT Hotmail", PiiKind::Email, "me AT Hotmail");
        has("its sam [at] gmail [dot] com", PiiKind::Email, "sam [at] gmail [dot] com");
        has("its sam(at)gmail.com", PiiKind::Email, "sam(at)gmail.com");
        has("its sam @ gmail . com", PiiKind::Email, "sam @ gmail . com");
        has("see u at 4 and email jo at school dot org dot uk", PiiKind::Email, "jo at school dot org dot uk");
        has("its jo at gmail dot com 😊", PiiKind::Email, "jo at gmail dot com");
    }

    #[test]
    fn after_at_gate() {
        use super::after_at;
        assert_eq!(after_at("see u at 4"), (false, false));
        assert_eq!(after_at("at the park. at home"), (false, false));
        assert_eq!(after_at("jo at gmail dot com"), (true, true));
        assert_eq!(after_at("jo at live"), (false, true));
        assert_eq!(after_at("jo (AT) school (DOT) org"), (true, false));
        assert_eq!(after_at("jo at school.org"), (true, false));
        assert_eq!(after_at("jo at dotty"), (false, false));
        assert_eq!(after_at("ends with at"), (false, false));
    }
}
