//! Personal information: detection and redaction.
//!
//! Each detector runs on the original text and only when a cheap check says it could match
//! (enough digits for a phone number, an `@` or ` at ` for an email, a street or school word, a
//! platform name, …). Spans are byte offsets into the original text, on char boundaries, and never
//! overlap: when two detectors claim the same text, the more specific kind wins
//! (email > phone > postcode > social handle > address = school > full name).
//!
//! * **phone**: UK numbers in any common format: `07700 900 412`, `077009 00624`, `07700900 731`,
//!   `+44 (0)7700 900882`, `+447700900882`, `0044 …`, `0117 496 0582`, dashes and dots, and `o`/`O`
//!   typed for zero (`o7700900215`). Mobile (07), geographic (01, 02) and non-geographic (03, 05,
//!   08, 09) numbers; the national number must have 11 digits (10 for some 01 numbers).
//! * **email**: `name@host.tld`, and spelt out: `name at gmail dot com`, `name (at) host (dot) co (dot) uk`.
//! * **postcode**: full UK postcodes, with or without the space, checked against the letter rules.
//! * **address**: house or flat number and street (`flat 2b, 88 church street`, `number 4 kensington
//!   close`), capitalised street names (`Marsh Lane`, `Brierfield Way, block C`), and lower-case
//!   street names after `on`/`off`/`near`. Towns are not addresses.
//! * **social_handle**: `@name`, or a handle next to a platform (`my snap is jord.xo_`,
//!   `zayyy.07 on snapchat`, `ig - nadiaa.xo`). A handle without `@` must look like one (a dot,
//!   underscore, digit or mixed case), so `my snap is down` is not a handle.
//! * **school**: names from the policy's list, `<Name> Academy/High School/Primary/College/…`
//!   when capitalised, and lower-case after `go to`/`at`/`from`/`into`.
//! * **full_name**: a given name (from the policy's list) followed by a family name (`Jess
//!   Openshaw`, `Tilly Rose Henderson`, `tilly henderson`), two names after a title (`Mrs Helen
//!   Marsden` gives `Helen Marsden`), or two names after `my name is`.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;

use crate::words::{word_list, Words};
use crate::{Pii, PiiKind};

#[derive(Debug)]
pub(crate) struct PiiConfig {
    schools: Option<AhoCorasick>,
    given: HashSet<String>,
    name_hashes: Vec<u64>,
    ambiguous: HashSet<String>,
    not_surnames: HashSet<String>,
    gate: AhoCorasick,
    re_email: Regex,
    re_email_obf: Regex,
    re_email_provider: Regex,
    re_postcode: Regex,
    re_addr_num: Regex,
    re_addr_cap: Regex,
    re_addr_cue: Regex,
    re_school_cap: Regex,
    re_school_cue: Regex,
}

// The word lists are data: `policy/words/*.txt` (each file says what its list is for).
static GATE_STREET: Words = word_list!("gate_street.txt");
static GATE_SCHOOL: Words = word_list!("gate_school.txt");
static GATE_AT: Words = word_list!("gate_at.txt");
static PLACE_STOP: Words = word_list!("place_stop.txt");
static COMMON: Words = word_list!("common_words.txt");
static TITLES: Words = word_list!("titles.txt");
static PLATFORMS: Words = word_list!("platforms.txt");
static HANDLE_FILLERS: Words = word_list!("handle_fillers.txt");
static SCHOOL_SUFFIX_WORDS: Words = word_list!("school_suffix_words.txt");

const STREET_SUFFIX: &str = "street|st|road|rd|lane|ln|avenue|ave|close|drive|dr|way|crescent|cres|court|ct|place|grove|gardens|gdns|terrace|walk|row|brow|green|mews|view|rise|square|sq|parade|fold|vale|croft|hill|lea|wharf|heights|boulevard|gate";

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
        let schools: Vec<String> = schools.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let schools = if schools.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&schools)
                    .map_err(|e| format!("schools: {e}"))?,
            )
        };
        let lower = |v: &[String]| v.iter().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect();
        let mut gate_words: Vec<&str> = Vec::new();
        gate_words.extend_from_slice(&GATE_STREET);
        gate_words.extend_from_slice(&GATE_SCHOOL);
        gate_words.extend_from_slice(&GATE_AT);
        gate_words.extend_from_slice(&PLATFORMS);
        let given_l: HashSet<String> = lower(given);
        let gate_owned: Vec<String> = gate_words.iter().map(|w| w.to_string()).collect();
        // given names, titles and "name": a sorted list of word hashes, to decide cheaply
        // whether the name scanner needs to run
        let mut name_hashes: Vec<u64> = given_l.iter().map(|w| word_hash(w.bytes())).collect();
        name_hashes.extend(TITLES.iter().map(|w| word_hash(w.bytes())));
        name_hashes.push(word_hash("name".bytes()));
        name_hashes.sort_unstable();
        name_hashes.dedup();
        let sep_dot = r"(?:\s*(?:\.|\(dot\)|\[dot\])\s*|\s+dot\s+)";
        let sep_at = r"(?:\s+@\s+|\s*\(at\)\s*|\s*\[at\]\s*|\s+at\s+)";
        let word = r"[a-z0-9_\-]+";
        let tld =
            format!(r"(?:com|co{sep_dot}uk|org{sep_dot}uk|ac{sep_dot}uk|sch{sep_dot}uk|org|net|uk|me|io|info|ie)");
        Ok(PiiConfig {
            schools,
            given: given_l,
            name_hashes,
            ambiguous: lower(ambiguous),
            not_surnames: lower(not_surnames),
            gate: AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&gate_owned)
                .map_err(|e| format!("gate words: {e}"))?,
            re_email: re(r"(?i)\b[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}\b")?,
            re_email_obf: re(&format!(
                r"(?i)\b{word}(?:{sep_dot}{word})*{sep_at}[a-z0-9\-]+(?:{sep_dot}[a-z0-9\-]+)*?{sep_dot}{tld}\b"
            ))?,
            re_email_provider: re(&format!(
                r"(?i)\b{word}(?:{sep_dot}{word})*{sep_at}(?:gmail|googlemail|hotmail|yahoo|outlook|icloud|live|aol|btinternet|protonmail|msn)\b"
            ))?,
            re_postcode: re(r"(?i)\b([a-z]{1,2}[0-9][a-z0-9]?)[ \t]?([0-9][a-z]{2})\b")?,
            re_addr_num: re(&format!(
                r"(?i)\b(?:(?:flat|apartment|apt|unit)\s*[0-9]+[a-z]?,?\s+(?:[0-9]{{1,4}}[a-z]?,?\s+)?|(?:(?:number|no\.?|num)\s*)?[0-9]{{1,4}}[a-z]?,?\s+)((?:[a-z][a-z'’\-]*\s+){{1,3}}?)(?:{STREET_SUFFIX})\b(?:,?\s*(?:block|flat)\s+[a-z0-9]{{1,3}}\b)?"
            ))?,
            re_addr_cap: re(
                r"\b((?:[A-Z][a-z'’]+(?:-[A-Z][a-z]+)?\s+){1,3}?)(Street|Road|Lane|Avenue|Close|Drive|Way|Crescent|Court|Place|Grove|Gardens|Terrace|Walk|Row|Brow|Mews|Rise|Square|Parade|Fold|Vale|Croft|Lea|Wharf|Heights|Boulevard|St|Rd)\b(?:,?\s*(?:[Bb]lock|[Ff]lat)\s+[A-Za-z0-9]{1,3}\b)?",
            )?,
            re_addr_cue: re(
                r"(?i)\b(?:on|off|near|down)\s+((?:[a-z][a-z'’\-]+\s+){1,2}?(?:street|road|lane|avenue|close|drive|crescent|grove|gardens|terrace|mews))\b",
            )?,
            re_school_cap: re(
                r"\b((?:(?:St\.?|Saint)\s+)?(?:[A-Z][A-Za-z'’\-]+\s+){1,4}?(?:High School|Secondary School|Primary School|Junior School|Infant School|Infants School|Grammar School|Community College|Sixth Form College|Catholic High|Catholic College|Academy|College|High|Primary|Grammar|School|Juniors|Infants|UTC))\b",
            )?,
            re_school_cue: re(
                r"(?i)\b(?:go to|goes to|went to|going to|at|attend|attends|attended|from|into|in)\s+((?:[a-z][a-z'’\-]+\s+){1,3}?(?:academy|high school|primary school|secondary school|grammar school|community college|college|high|primary|grammar|school))\b",
            )?,
        })
    }
}

/// FNV-1a of a word, lower-cased.
fn word_hash(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Whether any whole ASCII word of the text hashes to one of `hashes` (sorted).
fn has_name_word(hashes: &[u64], bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() {
            let s = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            if hashes.binary_search(&word_hash(bytes[s..i].iter().copied())).is_ok() {
                return true;
            }
        } else {
            i += 1;
        }
    }
    false
}

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

/// Find personal information in `text` (see the module docs).
pub(crate) fn detect(cfg: &PiiConfig, text: &str) -> Vec<Pii> {
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
    let name_cue = !cfg.name_hashes.is_empty() && has_name_word(&cfg.name_hashes, bytes);
    let mut c: Vec<Cand> = Vec::new();
    if digits >= 6 {
        phones(text, &mut c);
    }
    if has_at {
        for m in cfg.re_email.find_iter(text) {
            c.push(Cand { kind: PiiKind::Email, start: m.start(), end: m.end() });
        }
    }
    if spelt_at {
        for m in cfg.re_email_obf.find_iter(text) {
            c.push(Cand { kind: PiiKind::Email, start: m.start(), end: m.end() });
        }
        for m in cfg.re_email_provider.find_iter(text) {
            c.push(Cand { kind: PiiKind::Email, start: m.start(), end: m.end() });
        }
    }
    if digits >= 2 && letter_digit {
        postcodes(cfg, text, &mut c);
    }
    if street {
        addresses(cfg, text, digits > 0, &mut c);
    }
    if school || cfg.schools.is_some() {
        schools(cfg, text, &mut c);
    }
    if has_at || platform {
        handles(text, &mut c);
    }
    if name_cue {
        names(cfg, text, &mut c);
    }
    resolve(text, c)
}

fn resolve(text: &str, mut c: Vec<Cand>) -> Vec<Pii> {
    if c.is_empty() {
        return Vec::new();
    }
    c.sort_by(|a, b| {
        prio(b.kind).cmp(&prio(a.kind)).then((b.end - b.start).cmp(&(a.end - a.start))).then(a.start.cmp(&b.start))
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
// phone numbers

fn is_o(b: u8) -> bool {
    b == b'o' || b == b'O'
}

fn phones(text: &str, out: &mut Vec<Cand>) {
    let b = text.as_bytes();
    let n = b.len();
    let mut i = 0;
    while i < n {
        let c = b[i];
        let boundary = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'+');
        let startish = c.is_ascii_digit()
            || (c == b'+' && i + 1 < n && b[i + 1].is_ascii_digit())
            || (c == b'(' && i + 1 < n && b[i + 1] == b'0')
            || (is_o(c) && i + 1 < n && (b[i + 1].is_ascii_digit()));
        if !(boundary && startish) {
            i += 1;
            continue;
        }
        // collect digits (o/O as 0 next to digits) with short separator runs
        let mut ds: Vec<u8> = Vec::with_capacity(16);
        let mut ends: Vec<usize> = Vec::with_capacity(16);
        let mut j = i;
        let plus = c == b'+';
        if plus {
            j += 1;
        }
        let mut sep = 0;
        while j < n && ds.len() < 16 {
            let d = b[j];
            if d.is_ascii_digit() {
                ds.push(d);
                ends.push(j + 1);
                sep = 0;
                j += 1;
            } else if is_o(d)
                && ((j + 1 < n && (b[j + 1].is_ascii_digit() || is_o(b[j + 1])))
                    || (j > 0 && (b[j - 1].is_ascii_digit() || is_o(b[j - 1]))))
                && !(j + 1 < n && b[j + 1].is_ascii_alphabetic() && !is_o(b[j + 1]))
            {
                ds.push(b'0');
                ends.push(j + 1);
                sep = 0;
                j += 1;
            } else if matches!(d, b' ' | b'-' | b'.' | b'(' | b')') && sep < 3 {
                sep += 1;
                j += 1;
            } else {
                break;
            }
        }
        // national digits and, for each, the index in `ds` (None for an implied leading 0)
        let mut nat: Vec<(u8, Option<usize>)> = Vec::with_capacity(16);
        let intl_at = if plus && ds.starts_with(b"44") {
            Some(2)
        } else if ds.starts_with(b"0044") {
            Some(4)
        } else if ds.starts_with(b"44") && ds.len() >= 12 && ds[2] != b'0' {
            Some(2)
        } else {
            None
        };
        match intl_at {
            Some(k) => {
                let k = if ds.get(k) == Some(&b'0') { k + 1 } else { k };
                nat.push((b'0', None));
                for (x, d) in ds.iter().enumerate().skip(k) {
                    nat.push((*d, Some(x)));
                }
            }
            None => {
                for (x, d) in ds.iter().enumerate() {
                    nat.push((*d, Some(x)));
                }
            }
        }
        let valid_prefix =
            nat.len() >= 2 && nat[0].0 == b'0' && matches!(nat[1].0, b'1' | b'2' | b'3' | b'5' | b'7' | b'8' | b'9');
        let take = if !valid_prefix {
            0
        } else if nat.len() >= 11 {
            11
        } else if nat.len() == 10 && nat[1].0 == b'1' {
            10
        } else {
            0
        };
        if take > 0 {
            if let Some(last) = nat[take - 1].1 {
                let end = ends[last];
                let too_long = end < n && b[end].is_ascii_digit();
                if !too_long {
                    out.push(Cand { kind: PiiKind::Phone, start: i, end });
                    i = end;
                    continue;
                }
            }
        }
        // skip the rest of this run of digits
        i = j.max(i + 1);
    }
}

// ---------------------------------------------------------------------------------------------
// postcodes

fn postcodes(cfg: &PiiConfig, text: &str, out: &mut Vec<Cand>) {
    for caps in cfg.re_postcode.captures_iter(text) {
        let (Some(m), Some(outward), Some(inward)) = (caps.get(0), caps.get(1), caps.get(2)) else {
            continue;
        };
        let o = outward.as_str().to_ascii_uppercase();
        let inw = inward.as_str().to_ascii_uppercase();
        let ob = o.as_bytes();
        if matches!(ob[0], b'Q' | b'V' | b'X') {
            continue;
        }
        if ob.len() > 1 && ob[1].is_ascii_alphabetic() && matches!(ob[1], b'I' | b'J' | b'Z') {
            continue;
        }
        if inw[1..].bytes().any(|x| matches!(x, b'C' | b'I' | b'K' | b'M' | b'O' | b'V')) {
            continue;
        }
        // "2nd", "8th" typed in lower case are ordinals, not postcodes ("B33 8TH" is a postcode)
        if matches!(&inw[1..], "ST" | "ND" | "RD" | "TH") && !inward.as_str().bytes().any(|b| b.is_ascii_uppercase()) {
            continue;
        }
        out.push(Cand { kind: PiiKind::Postcode, start: m.start(), end: m.end() });
    }
}

// ---------------------------------------------------------------------------------------------
// addresses and schools

fn is_place_stop(w: &str) -> bool {
    let l = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    PLACE_STOP.contains(&l.as_str())
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

fn addresses(cfg: &PiiConfig, text: &str, has_digit: bool, out: &mut Vec<Cand>) {
    if has_digit {
        for caps in cfg.re_addr_num.captures_iter(text) {
            let (Some(m), Some(name)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            if name.as_str().split_whitespace().any(is_place_stop) {
                continue;
            }
            out.push(Cand { kind: PiiKind::Address, start: m.start(), end: m.end() });
        }
    }
    for caps in cfg.re_addr_cap.captures_iter(text) {
        let (Some(m), Some(name), Some(suffix)) = (caps.get(0), caps.get(1), caps.get(2)) else {
            continue;
        };
        if suffix.as_str() == "St" {
            // `St Mary's`: saint, not street
            let after = &text[suffix.end()..];
            if after.trim_start().starts_with(|c: char| c.is_uppercase()) {
                continue;
            }
        }
        let Some(s) = trim_leading_stops(text, name.start(), name.end()) else {
            continue;
        };
        if text[s..name.end()].split_whitespace().any(is_place_stop) {
            continue;
        }
        out.push(Cand { kind: PiiKind::Address, start: s, end: m.end() });
    }
    for caps in cfg.re_addr_cue.captures_iter(text) {
        let Some(g) = caps.get(1) else { continue };
        let words: Vec<&str> = g.as_str().split_whitespace().collect();
        if words.len() < 2 || words[..words.len() - 1].iter().any(|w| is_place_stop(w)) {
            continue;
        }
        out.push(Cand { kind: PiiKind::Address, start: g.start(), end: g.end() });
    }
}

fn schools(cfg: &PiiConfig, text: &str, out: &mut Vec<Cand>) {
    if let Some(ac) = &cfg.schools {
        let b = text.as_bytes();
        for m in ac.find_iter(text) {
            let before_ok = m.start() == 0 || !b[m.start() - 1].is_ascii_alphanumeric();
            let after_ok = m.end() == b.len() || !b[m.end()].is_ascii_alphanumeric();
            if before_ok && after_ok {
                out.push(Cand { kind: PiiKind::School, start: m.start(), end: m.end() });
            }
        }
    }
    for caps in cfg.re_school_cap.captures_iter(text) {
        let Some(m) = caps.get(1) else { continue };
        let s = m.start();
        // the name part is everything before the last suffix word(s): require one non-stop word
        let Some(s) = trim_leading_stops(text, s, m.end()) else {
            continue;
        };
        let words: Vec<&str> = text[s..m.end()].split_whitespace().collect();
        let name_words = words
            .iter()
            .filter(|w| {
                let l = w.to_lowercase();
                !SCHOOL_SUFFIX_WORDS.contains(&l.as_str())
                    && !is_place_stop(w)
                    && l != "st"
                    && l != "st."
                    && l != "saint"
            })
            .count();
        if name_words == 0 {
            continue;
        }
        out.push(Cand { kind: PiiKind::School, start: s, end: m.end() });
    }
    for caps in cfg.re_school_cue.captures_iter(text) {
        let Some(g) = caps.get(1) else { continue };
        let words: Vec<&str> = g.as_str().split_whitespace().collect();
        let n_suffix = if g.as_str().to_lowercase().ends_with(" school") && words.len() >= 2 {
            let w = words[words.len() - 2].to_lowercase();
            if matches!(w.as_str(), "high" | "primary" | "secondary" | "grammar") {
                2
            } else {
                1
            }
        } else if g.as_str().to_lowercase().ends_with("community college") {
            2
        } else {
            1
        };
        if words.len() <= n_suffix || words[..words.len() - n_suffix].iter().any(|w| is_place_stop(w)) {
            continue;
        }
        out.push(Cand { kind: PiiKind::School, start: g.start(), end: g.end() });
    }
}

// ---------------------------------------------------------------------------------------------
// social handles

/// Whitespace-separated pieces of the text, trimmed of surrounding punctuation (keeping a leading `@`).
fn pieces(text: &str) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if ch.is_whitespace() {
            if let Some(s) = start.take() {
                let w = &text[s..i];
                let lead = w.find(|c: char| c.is_alphanumeric() || c == '_' || c == '@').unwrap_or(w.len());
                let trail = w
                    .char_indices()
                    .rev()
                    .find(|(_, c)| c.is_alphanumeric() || *c == '_')
                    .map(|(x, c)| x + c.len_utf8())
                    .unwrap_or(lead);
                if trail > lead {
                    v.push((s + lead, s + trail));
                } else {
                    v.push((s, s)); // punctuation-only piece, e.g. "-"
                }
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    v
}

fn looks_like_handle(h: &str) -> bool {
    let body = h.strip_prefix('@').unwrap_or(h);
    if body.len() < 2
        || body.len() > 37
        || !body.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '#'))
    {
        return false;
    }
    if !body.chars().any(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    let b = body.as_bytes();
    let mixed = b.windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    h.starts_with('@') || body.contains(['.', '_', '#']) || body.chars().any(|c| c.is_ascii_digit()) || mixed
}

fn handles(text: &str, out: &mut Vec<Cand>) {
    let has_at = text.contains('@');
    let ps = pieces(text);
    // @name anywhere (not inside an email: the piece starts with '@')
    if has_at {
        for &(s, e) in &ps {
            let w = &text[s..e];
            if w.starts_with('@') && !w[1..].contains('@') && looks_like_handle(w) {
                out.push(Cand { kind: PiiKind::SocialHandle, start: s, end: e });
            }
        }
    }
    let lower: Vec<String> = ps.iter().map(|&(s, e)| text[s..e].to_ascii_lowercase()).collect();
    for (k, l) in lower.iter().enumerate() {
        if !PLATFORMS.contains(&l.as_str()) {
            continue;
        }
        if l == "x" && !(k > 0 && lower[k - 1] == "on") {
            continue;
        }
        // forward: platform [fillers] handle
        for j in k + 1..(k + 5).min(ps.len()) {
            let w = &text[ps[j].0..ps[j].1];
            if HANDLE_FILLERS.contains(&lower[j].as_str()) {
                continue;
            }
            if looks_like_handle(w) {
                out.push(Cand { kind: PiiKind::SocialHandle, start: ps[j].0, end: ps[j].1 });
            }
            break;
        }
        // backward: handle on/via platform
        if k >= 2 && matches!(lower[k - 1].as_str(), "on" | "via" | "in") {
            let (s, e) = ps[k - 2];
            if looks_like_handle(&text[s..e]) {
                out.push(Cand { kind: PiiKind::SocialHandle, start: s, end: e });
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// full names

struct Word<'a> {
    s: usize,
    e: usize,
    w: &'a str,
    lower: String,
}

fn is_cap(w: &str) -> bool {
    let mut cs = w.chars();
    let Some(f) = cs.next() else { return false };
    let rest: Vec<char> = cs.filter(|c| c.is_alphabetic()).collect();
    f.is_uppercase() && (rest.is_empty() || rest.iter().any(|c| c.is_lowercase()))
}

fn name_words(text: &str) -> Vec<Word<'_>> {
    let mut v = Vec::new();
    let mut start: Option<usize> = None;
    let mut last_end = 0;
    for (i, ch) in text.char_indices() {
        let inword = ch.is_alphabetic() || (start.is_some() && matches!(ch, '\'' | '’' | '-'));
        if inword {
            if start.is_none() {
                start = Some(i);
            }
            last_end = i + ch.len_utf8();
        } else if let Some(s) = start.take() {
            push_word(text, s, last_end, &mut v);
        }
    }
    if let Some(s) = start {
        push_word(text, s, last_end, &mut v);
    }
    v
}

fn push_word<'a>(text: &'a str, s: usize, e: usize, v: &mut Vec<Word<'a>>) {
    // trailing apostrophes/hyphens are not part of the word
    let w = text[s..e].trim_end_matches(['\'', '’', '-']);
    if w.is_empty() {
        return;
    }
    v.push(Word { s, e: s + w.len(), w, lower: w.to_lowercase() });
}

/// Words `a` and `b` are separated by spaces only.
fn adjacent(text: &str, a: &Word<'_>, b: &Word<'_>) -> bool {
    let gap = &text[a.e..b.s];
    !gap.is_empty() && gap.len() <= 2 && gap.chars().all(|c| c == ' ')
}

fn names(cfg: &PiiConfig, text: &str, out: &mut Vec<Cand>) {
    if cfg.given.is_empty() {
        return;
    }
    let ws = name_words(text);
    let common = |w: &str| COMMON.contains(&w) || TITLES.contains(&w);
    let surname_ok = |w: &Word<'_>| {
        !common(&w.lower) && !cfg.not_surnames.contains(&w.lower) && !is_place_stop(w.w) && w.w.chars().count() >= 2
    };
    let mut i = 0;
    while i < ws.len() {
        let w = &ws[i];
        // title + given + family: "Mrs Helen Marsden" -> "Helen Marsden"
        if TITLES.contains(&w.lower.as_str()) && i + 2 < ws.len() {
            let (a, b) = (&ws[i + 1], &ws[i + 2]);
            if adjacent(text, w, a)
                && adjacent(text, a, b)
                && is_cap(a.w)
                && is_cap(b.w)
                && surname_ok(b)
                && !common(&a.lower)
            {
                out.push(Cand { kind: PiiKind::FullName, start: a.s, end: b.e });
                i += 3;
                continue;
            }
        }
        // "my name is X Y" / "name's X Y"
        let cue = (i >= 3 && ws[i - 3].lower == "my" && ws[i - 2].lower == "name" && ws[i - 1].lower == "is")
            || (i >= 1 && matches!(ws[i - 1].lower.as_str(), "name's" | "name’s"));
        let given = cfg.given.contains(&w.lower);
        if (given || (cue && !common(&w.lower))) && i + 1 < ws.len() {
            let cap = is_cap(w.w);
            let lower_ok = !cfg.ambiguous.contains(&w.lower) || cue;
            let nx = &ws[i + 1];
            if adjacent(text, w, nx) && surname_ok(nx) {
                let both_cap = cap && is_cap(nx.w);
                let both_lower = w.w.chars().all(|c| !c.is_uppercase())
                    && nx.w.chars().all(|c| !c.is_uppercase())
                    && lower_ok
                    && !nx.lower.ends_with("ing")
                    && !nx.lower.ends_with("ed")
                    && !cfg.given.contains(&nx.lower);
                if both_cap || both_lower || (cue && !common(&nx.lower)) {
                    let mut end = nx.e;
                    let mut k = i + 2;
                    // a middle name: "Tilly Rose Henderson"
                    if both_cap && k < ws.len() && adjacent(text, nx, &ws[k]) && is_cap(ws[k].w) && surname_ok(&ws[k]) {
                        end = ws[k].e;
                        k += 1;
                    }
                    out.push(Cand { kind: PiiKind::FullName, start: w.s, end });
                    i = k;
                    continue;
                }
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::{check, Draft, PiiKind, Policy};

    fn pii(text: &str) -> Vec<(PiiKind, String)> {
        check(&Policy::builtin(), &Draft::new(text)).pii.into_iter().map(|p| (p.kind, p.text)).collect()
    }

    fn has(text: &str, kind: PiiKind, span: &str) {
        let got = pii(text);
        assert!(got.iter().any(|(k, t)| *k == kind && t == span), "{text:?}: expected {kind:?} {span:?}, got {got:?}");
    }

    fn none_of(text: &str, kind: PiiKind) {
        let got = pii(text);
        assert!(!got.iter().any(|(k, _)| *k == kind), "{text:?}: expected no {kind:?}, got {got:?}");
    }

    #[test]
    fn phone_formats() {
        for (t, s) in [
            ("ring me on 07700 900 412 later", "07700 900 412"),
            ("its 077009 00624", "077009 00624"),
            ("07700900 731 pls", "07700900 731"),
            ("my numbers +44 (0)7700 900882", "+44 (0)7700 900882"),
            ("+447911123456", "+447911123456"),
            ("0044 7911 123456", "0044 7911 123456"),
            ("o7700900215 thats my new one", "o7700900215"),
            ("O79ll", "none"),
            ("nan: 0117 496 0582", "0117 496 0582"),
            ("07911-123-456", "07911-123-456"),
            ("07911.123.456", "07911.123.456"),
            ("(01632) 960 123", "(01632) 960 123"),
            ("020 7946 0000", "020 7946 0000"),
            ("0161 496 0000", "0161 496 0000"),
            ("o79oo 123 456", "o79oo 123 456"),
        ] {
            if s == "none" {
                none_of(t, PiiKind::Phone);
            } else {
                has(t, PiiKind::Phone, s);
            }
        }
        none_of("i owe him 2000 quid", PiiKind::Phone);
        none_of("order 12345678901234", PiiKind::Phone);
        none_of("on the 12.05.2024 at 10.30", PiiKind::Phone);
    }

    #[test]
    fn email_formats() {
        has("its b.okafor@yahoo.co.uk", PiiKind::Email, "b.okafor@yahoo.co.uk");
        has("danny dot kerr10 at gmail dot com is my email", PiiKind::Email, "danny dot kerr10 at gmail dot com");
        has("email jo (at) school (dot) org (dot) uk", PiiKind::Email, "jo (at) school (dot) org (dot) uk");
        has("its tillyrose at hotmail", PiiKind::Email, "tillyrose at hotmail");
        none_of("see you at the park", PiiKind::Email);
        none_of("meet me at tesco", PiiKind::Email);
    }

    #[test]
    fn postcodes() {
        has("BB11 3NU is my postcode, the old one was la3 1rz", PiiKind::Postcode, "BB11 3NU");
        has("BB11 3NU is my postcode, the old one was la3 1rz", PiiKind::Postcode, "la3 1rz");
        has("flat 2b, pr77lh", PiiKind::Postcode, "pr77lh");
        has("SW1A 1AA", PiiKind::Postcode, "SW1A 1AA");
        none_of("valid for BB1 postcodes", PiiKind::Postcode);
        none_of("on the 2nd floor at 3pm", PiiKind::Postcode);
    }

    #[test]
    fn addresses() {
        has("flat 2b, 88 church street, pr77lh", PiiKind::Address, "flat 2b, 88 church street");
        has("im at 19 St Pauls Road now", PiiKind::Address, "19 St Pauls Road");
        has("number 4 kensington close is my dads", PiiKind::Address, "number 4 kensington close");
        has("flat 12, Ribble Court", PiiKind::Address, "flat 12, Ribble Court");
        has("we live in the flats on Brierfield Way, block C", PiiKind::Address, "Brierfield Way, block C");
        has("the centre on Marsh Lane", PiiKind::Address, "Marsh Lane");
        has("i live on ashworth road", PiiKind::Address, "ashworth road");
        none_of("its a 5 min walk from mine", PiiKind::Address);
        none_of("theres a man on my road", PiiKind::Address);
        none_of("running up that hill", PiiKind::Address);
        none_of("by the way im fine", PiiKind::Address);
    }

    #[test]
    fn handles() {
        has("my snap is jord.xo_ if thats easier", PiiKind::SocialHandle, "jord.xo_");
        has("zayyy.07 on snapchat", PiiKind::SocialHandle, "zayyy.07");
        has("ig - nadiaa.xo, follow back", PiiKind::SocialHandle, "nadiaa.xo");
        has("my tiktok is @stxrm.b i post", PiiKind::SocialHandle, "@stxrm.b");
        has("insta: @abc", PiiKind::SocialHandle, "@abc");
        has("called xXRyanXx on discord", PiiKind::SocialHandle, "xXRyanXx");
        has("discord is shadowkid#1234", PiiKind::SocialHandle, "shadowkid#1234");
        none_of("my snap is down again", PiiKind::SocialHandle);
        none_of("sent it on snap", PiiKind::SocialHandle);
        none_of("email me b.okafor@yahoo.co.uk", PiiKind::SocialHandle);
    }

    #[test]
    fn schools() {
        has("my brother is at Brook Lea Primary", PiiKind::School, "Brook Lea Primary");
        has("hi i go to Kingsfold Community College, yr 10", PiiKind::School, "Kingsfold Community College");
        has("Callum from St Mary's Catholic High", PiiKind::School, "St Mary's Catholic High");
        has("got into Larkhill Academy sixth form", PiiKind::School, "Larkhill Academy");
        has("i go to oakfield high school", PiiKind::School, "oakfield high school");
        none_of("i go to college on mondays", PiiKind::School);
        none_of("at big school now", PiiKind::School);
        none_of("went to sixth form college", PiiKind::School);
    }

    #[test]
    fn configured_schools() {
        let p = Policy::from_toml("version = 1\n[pii]\nschools = [\"Moor Park\"]\n").unwrap_or_else(|e| panic!("{e}"));
        let v = check(&p, &Draft::new("i go to moor park now"));
        assert_eq!(v.pii.len(), 1);
        assert_eq!(v.pii[0].kind, PiiKind::School);
        assert_eq!(v.redacted, "i go to [school] now");
    }

    #[test]
    fn full_names() {
        has("letter to Mrs Helen Marsden, can u", PiiKind::FullName, "Helen Marsden");
        has("put Jess Openshaw on the list", PiiKind::FullName, "Jess Openshaw");
        has("should say Tilly Rose Henderson not tilly henderson", PiiKind::FullName, "Tilly Rose Henderson");
        has("should say Tilly Rose Henderson not tilly henderson", PiiKind::FullName, "tilly henderson");
        has("Callum O'Neill from school", PiiKind::FullName, "Callum O'Neill");
        has("its megan price, i need to move", PiiKind::FullName, "megan price");
        has("my name is kacper nowak", PiiKind::FullName, "kacper nowak");
        none_of("jess said hi", PiiKind::FullName);
        none_of("told Mrs Smith", PiiKind::FullName);
        none_of("will be late", PiiKind::FullName);
    }

    #[test]
    fn redaction() {
        let v = check(&Policy::builtin(), &Draft::new("text my mum on 07700 900 309 shes picking me up"));
        assert_eq!(v.redacted, "text my mum on [phone] shes picking me up");
    }
}
