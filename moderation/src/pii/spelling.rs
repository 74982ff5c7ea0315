//! Street and school words as children spell them. The detectors' patterns know each word's
//! usual spelling and a few common misspellings; a misspelling they do not list (`primery`,
//! `skool`, `acadamy`, `cresant`, `terrase`) would hide the whole name. Each word here has a
//! *shape*, a pattern for the ways it is spelt by sound (doubled or dropped letters, a vowel for
//! another, `c`/`k`/`ch`), drawn so that it takes no other English word. When a text has a word
//! of that shape spelt otherwise, the detectors run on a copy with the word spelt as usual, and
//! the spans they find are moved back onto the original text, so a span is always the text as
//! written (`St Brigets primry`).

use regex::Regex;

use super::re;

/// The usual spelling and its shape. A shape must not take another English word: `road` (`rod`),
/// `lane` (`lain`) and `close` are left out; `college`'s takes `collage`, which with a name before
/// it is a college far more often than a picture, but not the Welsh `coleg` (`Coleg Gwent`).
/// A new shape needs its first letters in [`has_shape_start`] too (a test checks the usual
/// spellings pass it).
const SHAPES: [(&str, &str); 11] = [
    ("school", r"s(?:c|k|ch|kh)h?(?:o{1,3}|u|ew|oo)l"),
    ("primary", r"pr[iy]m[aeiou]{0,2}r[iey]{1,2}"),
    ("academy", r"(?:ac+|ak+)[aeiou]?d[aeiou]{0,2}m[aeiou]?[iey]{1,2}"),
    ("college", r"col+[aeiou]d?ge"),
    ("secondary", r"sec[aeiou]?nd[aeiou]?r[iey]{1,2}"),
    ("grammar", r"gram+[aeiou]r"),
    ("street", r"stre{1,3}a?t"),
    ("avenue", r"av[aei]n(?:ue|u|ew|eu|oo|y)"),
    ("crescent", r"cr[aei]s*c?[aei]nt"),
    ("terrace", r"ter+[aei](?:ce|se|ss|s)"),
    ("gardens", r"gard[aeiou]?n[sz]"),
];

#[derive(Debug)]
pub(super) struct Spelling {
    /// Any word of any shape (one pass over the text).
    any: Regex,
    /// Each shape alone, anchored, to tell which word a match is.
    each: Vec<(&'static str, Regex)>,
}

/// A copy of the text with the words respelt, and where each respelt word lies in both.
pub(super) struct Respelt {
    pub(super) text: String,
    /// (start in the copy, end in the copy, start in the original, end in the original).
    words: Vec<(usize, usize, usize, usize)>,
}

impl Spelling {
    pub(super) fn build() -> Result<Spelling, String> {
        let all: Vec<&str> = SHAPES.iter().map(|(_, s)| *s).collect();
        Ok(Spelling {
            any: re(&format!(r"(?i-u)\b(?:{})\b", all.join("|")))?,
            each: SHAPES
                .iter()
                .map(|(word, shape)| Ok((*word, re(&format!(r"(?i)^(?:{shape})$"))?)))
                .collect::<Result<_, String>>()?,
        })
    }

    /// The text with each street or school word of a known shape spelt as usual, or `None` when
    /// every such word already is (nearly always: nothing is copied then).
    pub(super) fn respell(&self, text: &str) -> Option<Respelt> {
        if !has_shape_start(text.as_bytes()) {
            return None;
        }
        let mut out: Option<Respelt> = None;
        let mut at = 0;
        for m in self.any.find_iter(text) {
            let w = m.as_str();
            let Some(usual) = self.each.iter().find(|(_, r)| r.is_match(w)).map(|(u, _)| *u) else {
                continue;
            };
            if w.eq_ignore_ascii_case(usual) {
                continue;
            }
            let r =
                out.get_or_insert_with(|| Respelt { text: String::with_capacity(text.len() + 8), words: Vec::new() });
            r.text.push_str(&text[at..m.start()]);
            let s = r.text.len();
            // keep the case the word was typed in: `Primry` -> `Primary`, `SKOOL` -> `SCHOOL`
            if w.chars().all(|c| c.is_ascii_uppercase()) {
                r.text.push_str(&usual.to_ascii_uppercase());
            } else if w.starts_with(|c: char| c.is_ascii_uppercase()) {
                r.text.push_str(&usual[..1].to_ascii_uppercase());
                r.text.push_str(&usual[1..]);
            } else {
                r.text.push_str(usual);
            }
            r.words.push((s, r.text.len(), m.start(), m.end()));
            at = m.end();
        }
        let mut r = out?;
        r.text.push_str(&text[at..]);
        Some(r)
    }
}

/// Whether a word of the text begins as a shape's words begin (`sc`, `sk`, `pri`, `ac`, `col`,
/// `sec`, `gra`, `str`, `av`, `cr`, `ter`, `gar`): a byte scan that spares a text without one the
/// pattern search.
fn has_shape_start(b: &[u8]) -> bool {
    (0..b.len().saturating_sub(3)).any(|i| {
        (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && matches!(
                [b[i].to_ascii_lowercase(), b[i + 1].to_ascii_lowercase(), b[i + 2].to_ascii_lowercase()],
                [b's', b'c' | b'k', _]
                    | [b'p', b'r', b'i' | b'y']
                    | [b'a', b'c' | b'k', _]
                    | [b'c', b'o', b'l']
                    | [b's', b'e', b'c']
                    | [b'g', b'r', b'a']
                    | [b's', b't', b'r']
                    | [b'a', b'v', _]
                    | [b'c', b'r', _]
                    | [b't', b'e', b'r']
                    | [b'g', b'a', b'r']
            )
    })
}

impl Respelt {
    /// The offset in the original text of offset `p` in the copy. Spans begin and end on word
    /// boundaries, so an offset inside a respelt word does not occur; it is taken to its start.
    pub(super) fn original(&self, p: usize) -> usize {
        // the last respelt word that starts at or before p
        let (mut copy_at, mut orig_at) = (0usize, 0usize);
        for &(cs, ce, os, oe) in &self.words {
            if cs > p {
                break;
            }
            if p < ce {
                return os;
            }
            (copy_at, orig_at) = (ce, oe);
        }
        orig_at + (p - copy_at)
    }
}

#[cfg(test)]
mod tests {
    use super::Spelling;

    fn respell(text: &str) -> Option<String> {
        Spelling::build().unwrap().respell(text).map(|r| r.text)
    }

    #[test]
    fn every_shape_begins_as_the_scan_expects() {
        for (usual, _) in super::SHAPES {
            assert!(super::has_shape_start(usual.as_bytes()), "{usual}");
        }
    }

    #[test]
    fn misspelt_street_and_school_words_are_respelt_in_their_case() {
        assert_eq!(respell("i go St Brigets primry").as_deref(), Some("i go St Brigets primary"));
        assert_eq!(respell("Oakfield Acadamy").as_deref(), Some("Oakfield Academy"));
        assert_eq!(respell("HIGH SKOOL").as_deref(), Some("HIGH SCHOOL"));
        assert_eq!(respell("7 glebe cresant and 3 mill streat").as_deref(), Some("7 glebe crescent and 3 mill street"));
        assert_eq!(respell("12 park terrase").as_deref(), Some("12 park terrace"));
        // the shortest and longest of a shape
        assert_eq!(respell("acdmy and secndry and streeeat").as_deref(), Some("academy and secondary and street"));
    }

    #[test]
    fn words_spelt_as_usual_and_other_words_are_left() {
        for text in [
            "my school is on elm street",
            "the primer and the prime minister",
            "a rod, a lane and a close call",
            "stream and straight and scale",
            "college academy primary avenue crescent gardens",
            "terse terrible grammar",
        ] {
            assert_eq!(respell(text), None, "{text}");
        }
    }

    #[test]
    fn offsets_map_back_to_the_text_as_written() {
        let text = "at St Brigets primry in yr 6, 7 glebe cresent";
        let r = Spelling::build().unwrap().respell(text).unwrap();
        let s = r.text.find("St Brigets").unwrap();
        let e = r.text.find(" in yr").unwrap();
        assert_eq!(&text[r.original(s)..r.original(e)], "St Brigets primry");
        let s = r.text.find("7 glebe").unwrap();
        assert_eq!(&text[r.original(s)..r.original(r.text.len())], "7 glebe cresent");
    }
}
