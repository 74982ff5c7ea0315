//! Personal information: detection and redaction.
//!
//! Each detector runs on the original text and only when a cheap check says it could match
//! (enough digits for a phone number, an `@` or ` at ` for an email, a street or school word, a
//! platform name, …). Spans are byte offsets into the original text, on char boundaries, and never
//! overlap: when two detectors claim the same text, the more specific kind wins
//! (email > phone > postcode > social handle > address = school > full name).
//!
//! One file per detector, each saying what it finds: `phone.rs`, `email.rs`, `postcode.rs`,
//! `address.rs`, `school.rs`, `handle.rs` (social handles) and `name.rs` (full names). This file
//! builds them ([`PiiConfig::build`]), runs the cheap checks and the detectors ([`detect`]), keeps
//! the most specific of overlapping spans (`resolve`) and redacts ([`redact`]). The word lists are
//! data, in `policy/words/` (see `crate::words`).

mod address;
mod email;
mod handle;
mod name;
mod phone;
mod postcode;
mod school;
mod spelling;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;

use crate::words::{word_list, Words};
use crate::{Pii, PiiKind};

/// The detectors, compiled once per policy.
#[derive(Debug)]
pub(crate) struct PiiConfig {
    /// The street, school, spelt-out `at` and platform words, in that order (see [`detect`]).
    gate: AhoCorasick,
    email: email::Emails,
    postcode: postcode::Postcodes,
    address: address::Addresses,
    school: school::Schools,
    name: name::Names,
    spelling: spelling::Spelling,
}

// Gate words (data: `policy/words/gate_*.txt`), matched ASCII-case-insensitively anywhere in the
// text; the platform names (`handle::PLATFORMS`) follow them in the gate.
static GATE_STREET: Words = word_list!("gate_street.txt");
static GATE_SCHOOL: Words = word_list!("gate_school.txt");
static GATE_AT: Words = word_list!("gate_at.txt");
/// Words that cannot be part of a street or school name, nor be a family name (data:
/// `policy/words/place_stop.txt`).
static PLACE_STOP: Words = word_list!("place_stop.txt");

fn re(s: &str) -> Result<Regex, String> {
    Regex::new(s).map_err(|e| format!("internal regex: {e}"))
}

impl PiiConfig {
    pub(crate) fn build(
        schools: &[String],
        given: &[String],
        ambiguous: &[String],
        not_surnames: &[String],
    ) -> Result<PiiConfig, String> {
        let schools = school::Schools::build(schools)?;
        let mut gate_words: Vec<&str> = Vec::new();
        gate_words.extend_from_slice(&GATE_STREET);
        gate_words.extend_from_slice(&GATE_SCHOOL);
        gate_words.extend_from_slice(&GATE_AT);
        gate_words.extend_from_slice(&handle::PLATFORMS);
        let gate_owned: Vec<String> = gate_words.iter().map(|w| w.to_string()).collect();
        Ok(PiiConfig {
            name: name::Names::build(given, ambiguous, not_surnames),
            gate: AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&gate_owned)
                .map_err(|e| format!("gate words: {e}"))?,
            email: email::Emails::build()?,
            postcode: postcode::Postcodes::build()?,
            address: address::Addresses::build()?,
            school: schools,
            spelling: spelling::Spelling::build()?,
        })
    }
}

/// A span a detector found, before overlapping spans are resolved.
#[derive(Clone, Copy)]
struct Cand {
    kind: PiiKind,
    start: usize,
    end: usize,
}

fn prio(k: PiiKind) -> u8 {
    match k {
        PiiKind::Email => 7,
        PiiKind::Phone => 6,
        PiiKind::Postcode => 5,
        PiiKind::SocialHandle => 4,
        PiiKind::Address => 3,
        PiiKind::School => 3,
        PiiKind::FullName => 1,
    }
}

/// Find personal information in `text` (see the module docs). A street or school word spelt
/// by sound (`primry`, `cresant`) is looked for as if spelt as usual (`spelling.rs`).
pub(crate) fn detect(cfg: &PiiConfig, text: &str) -> Vec<Pii> {
    let Some(respelt) = cfg.spelling.respell(text) else {
        return resolve(text, candidates(cfg, text));
    };
    let mut c = candidates(cfg, &respelt.text);
    for x in &mut c {
        (x.start, x.end) = (respelt.original(x.start), respelt.original(x.end));
    }
    resolve(text, c)
}

/// The spans every detector finds in `text`, overlapping.
fn candidates(cfg: &PiiConfig, text: &str) -> Vec<Cand> {
    let bytes = text.as_bytes();
    // one pass for the cheap gates: digits, '@', a letter followed by a digit (postcodes)
    let mut digits = 0usize;
    let mut has_at = false;
    let mut letter_digit = false;
    let mut prev_letter = false;
    for &b in bytes {
        if b.is_ascii_digit() {
            digits += 1;
            letter_digit |= prev_letter;
        } else if b == b'@' {
            has_at = true;
        }
        prev_letter = b.is_ascii_alphabetic();
    }
    let mut street = false;
    let mut school = false;
    let mut spelt_at = false;
    let mut platform = false;
    let whole = |s: usize, e: usize| {
        (s == 0 || !bytes[s - 1].is_ascii_alphanumeric()) && (e == bytes.len() || !bytes[e].is_ascii_alphanumeric())
    };
    for m in cfg.gate.find_overlapping_iter(text) {
        let id = m.pattern().as_usize();
        if id < GATE_STREET.len() {
            street |= whole(m.start(), m.end());
        } else if id < GATE_STREET.len() + GATE_SCHOOL.len() {
            school |= whole(m.start(), m.end());
        } else if id < GATE_STREET.len() + GATE_SCHOOL.len() + GATE_AT.len() {
            spelt_at = true;
        } else {
            platform |= whole(m.start(), m.end());
        }
    }
    let name_cue = cfg.name.could_match(bytes);
    let mut c: Vec<Cand> = Vec::new();
    if digits >= 6 {
        phone::find(text, &mut c);
    }
    if spelt_zero(bytes) {
        phone::find_spelt(text, &mut c);
    }
    if has_at {
        cfg.email.find_plain(text, &mut c);
    }
    if spelt_at {
        cfg.email.find_spelt(text, &mut c);
    }
    if digits >= 2 && letter_digit {
        cfg.postcode.find(text, &mut c);
    }
    if street {
        cfg.address.find(text, digits > 0, &mut c);
    } else if digits > 0 && address::has_welsh_start(bytes) {
        cfg.address.find_welsh(text, &mut c);
    }
    address::find_one_word(text, &mut c);
    if digits > 0 {
        postcode::outward_after_address(text, &mut c);
        if letter_digit {
            postcode::district_after_place_word(text, &mut c);
        }
    }
    if school || cfg.school.has_list() {
        cfg.school.find(text, &mut c);
    } else {
        // `at Pennfield Girls`: "girls" and "boys" are too common to run every school pattern
        cfg.school.find_girls_boys(text, &mut c);
    }
    if has_at || platform {
        handle::find(text, &|w| cfg.name.is_given(w), &mut c);
    } else if joined_word(bytes) {
        handle::find_after_account_word(text, &mut c);
    }
    cfg.name.find(text, name_cue, cap_pair(bytes), &mut c);
    c
}

/// Whether two capitalised words stand side by side (`Olu Adebayo`): only then can
/// `Names::find` find a name by its shape.
fn cap_pair(b: &[u8]) -> bool {
    let cap_word_end = |i: usize| -> Option<usize> {
        if !b[i].is_ascii_uppercase() || (i > 0 && b[i - 1].is_ascii_alphabetic()) {
            return None;
        }
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_lowercase() {
            j += 1;
        }
        (j > i + 1).then_some(j)
    };
    (0..b.len())
        .any(|i| cap_word_end(i).is_some_and(|j| j + 1 < b.len() && b[j] == b' ' && cap_word_end(j + 1).is_some()))
}

/// Whether a letter or digit is joined to a letter by `.` or `_` (`lil.secrets`, `kid_222`): only
/// then can [`handle::find_after_account_word`] find a handle.
fn joined_word(b: &[u8]) -> bool {
    b.windows(3).any(|w| w[0].is_ascii_alphanumeric() && matches!(w[1], b'.' | b'_') && w[2].is_ascii_alphabetic())
}

/// Whether the text has `zero`, `oh` or `nought` as a word (any case): every UK number said
/// aloud starts with one of them, so only then can [`phone::find_spelt`] find one.
fn spelt_zero(b: &[u8]) -> bool {
    b.split(|c| !c.is_ascii_alphabetic())
        .any(|w| w.eq_ignore_ascii_case(b"zero") || w.eq_ignore_ascii_case(b"oh") || w.eq_ignore_ascii_case(b"nought"))
}

fn resolve(text: &str, mut c: Vec<Cand>) -> Vec<Pii> {
    if c.is_empty() {
        return Vec::new();
    }
    c.sort_by(|a, b| {
        prio(b.kind)
            .cmp(&prio(a.kind))
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
            // the same words as a street and as a school (`ma school is Sandhill View`): only a
            // school word or `school is` finds a school, so that evidence wins
            .then((b.kind == PiiKind::School).cmp(&(a.kind == PiiKind::School)))
    });
    let mut kept: Vec<Cand> = Vec::new();
    for x in c {
        if x.end <= x.start || !text.is_char_boundary(x.start) || !text.is_char_boundary(x.end) {
            continue;
        }
        if kept.iter().all(|k| x.end <= k.start || k.end <= x.start) {
            kept.push(x);
        }
    }
    kept.sort_by_key(|k| k.start);
    kept.into_iter()
        .map(|k| Pii { kind: k.kind, text: text[k.start..k.end].to_string(), start: k.start, end: k.end })
        .collect()
}

/// Replace every span with `[kind]`.
pub(crate) fn redact(text: &str, pii: &[Pii]) -> String {
    if pii.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for p in pii {
        if p.start < at {
            continue;
        }
        out.push_str(&text[at..p.start]);
        out.push('[');
        out.push_str(p.kind.as_str());
        out.push(']');
        at = p.end;
    }
    out.push_str(&text[at..]);
    out
}

// ---------------------------------------------------------------------------------------------
// street and school names (address.rs, school.rs; name.rs keeps these words out of family names)

fn is_place_stop(w: &str) -> bool {
    let w = w.trim_matches(|c: char| !c.is_alphanumeric());
    // most words are typed in lower case: no copy for them
    if w.bytes().all(|b| !b.is_ascii_uppercase() && b.is_ascii()) {
        return PLACE_STOP.contains(w);
    }
    PLACE_STOP.contains(&w.to_lowercase())
}

/// Drop leading stop words from a capitalised match; returns the new start, or None when no name
/// word is left before the suffix.
fn trim_leading_stops(text: &str, start: usize, name_end: usize) -> Option<usize> {
    let mut s = start;
    loop {
        let rest = &text[s..name_end];
        let w_end = rest.find(char::is_whitespace).map(|x| s + x)?;
        let w = &text[s..w_end];
        if !is_place_stop(w) {
            return Some(s);
        }
        let next = text[w_end..name_end].find(|c: char| !c.is_whitespace()).map(|x| w_end + x)?;
        s = next;
    }
}

#[cfg(test)]
mod tests {
    //! The helpers every detector's tests use, and the redaction test.
    use crate::{check, Draft, PiiKind, Policy};

    fn pii(text: &str) -> Vec<(PiiKind, String)> {
        check(&Policy::builtin(), &Draft::new(text)).pii.into_iter().map(|p| (p.kind, p.text)).collect()
    }

    pub(super) fn has(text: &str, kind: PiiKind, span: &str) {
        let got = pii(text);
        assert!(got.iter().any(|(k, t)| *k == kind && t == span), "{text:?}: expected {kind:?} {span:?}, got {got:?}");
    }

    pub(super) fn none_of(text: &str, kind: PiiKind) {
        let got = pii(text);
        assert!(!got.iter().any(|(k, _)| *k == kind), "{text:?}: expected no {kind:?}, got {got:?}");
    }

    #[test]
    fn redaction() {
        let v = check(&Policy::builtin(), &Draft::new("text my mum on 07700 900 309 shes picking me up"));
        assert_eq!(v.redacted, "text my mum on [phone] shes picking me up");
    }
}
