//! **phone**: UK numbers in any common format: `07700 900 412`, `077009 00624`, `07700900 731`,
//! `+44 (0)7700 900882`, `+447700900882`, `0044 …`, `0117 496 0582`, dashes and dots, and `o`/`O`
//! typed for zero (`o7700900215`). Mobile (07), geographic (01, 02) and non-geographic (03, 05,
//! 08, 09) numbers; the national number must have 11 digits (10 for some 01 numbers).

use super::Cand;
use crate::PiiKind;

fn is_o(b: u8) -> bool {
    b == b'o' || b == b'O'
}

/// Run when the text has at least six digits.
pub(super) fn find(text: &str, out: &mut Vec<Cand>) {
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

/// A digit said as a word (`zero`, `oh`, `o`, `nought`, `one` … `nine`), or `double`/`triple`
/// (`double seven` is 77), as people read numbers aloud (BT and Ofcom's guidance on saying numbers
/// in groups; `oh` and `nought` for zero in British English).
fn digit_word(w: &str) -> Option<(u8, u8)> {
    // (digit, 0) for a digit; (0, n) for a repeat of the next digit n times
    Some(match w {
        "zero" | "oh" | "o" | "nought" | "0" => (b'0', 0),
        "one" | "1" => (b'1', 0),
        "two" | "2" => (b'2', 0),
        "three" | "3" => (b'3', 0),
        "four" | "4" => (b'4', 0),
        "five" | "5" => (b'5', 0),
        "six" | "6" => (b'6', 0),
        "seven" | "7" => (b'7', 0),
        "eight" | "8" => (b'8', 0),
        "nine" | "9" => (b'9', 0),
        "double" => (0, 2),
        "triple" => (0, 3),
        _ => return None,
    })
}

/// A phone number spelt out in words, or words and digits mixed: `zero seven seven zero zero
/// nine …`, `oh seven double seven …`, `07700 nine zero zero …`. Eleven digits starting `0` and a
/// valid second digit, as [`find`]; a run of at least three words (so `07700900215` alone is
/// [`find`]'s). Run when the text has `zero`, `oh` or `nought` (every UK number starts with 0).
pub(super) fn find_spelt(text: &str, out: &mut Vec<Cand>) {
    // words with their byte spans, lower case
    let mut ws: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if c.is_ascii_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            ws.push((s, i));
        }
    }
    let mut i = 0;
    while i < ws.len() {
        let mut ds: Vec<u8> = Vec::with_capacity(12);
        let mut ends: Vec<usize> = Vec::with_capacity(12);
        let mut words = 0;
        let mut repeat = 1u8;
        let mut j = i;
        while j < ws.len() && ds.len() < 12 {
            let (s, e) = ws[j];
            // only spaces, commas and dashes between the parts
            if j > i && !text[ws[j - 1].1..s].chars().all(|c| matches!(c, ' ' | ',' | '-')) {
                break;
            }
            let w = text[s..e].to_ascii_lowercase();
            if let Some((d, r)) = digit_word(&w) {
                if r > 0 {
                    repeat = r;
                    words += 1;
                } else {
                    for _ in 0..repeat {
                        ds.push(d);
                        ends.push(e);
                    }
                    repeat = 1;
                    words += usize::from(!w.as_bytes()[0].is_ascii_digit());
                }
            } else if w.bytes().all(|c| c.is_ascii_digit()) && w.len() <= 6 {
                ds.extend(w.bytes());
                ends.extend(std::iter::repeat_n(e, w.len()));
                repeat = 1;
            } else {
                break;
            }
            j += 1;
        }
        let valid = ds.len() == 11
            && ds[0] == b'0'
            && matches!(ds[1], b'1' | b'2' | b'3' | b'5' | b'7' | b'8' | b'9')
            && words >= 3;
        if valid && ds.len() == 11 {
            out.push(Cand { kind: PiiKind::Phone, start: ws[i].0, end: ends[10] });
        }
        // a run is a number as a whole or not at all: `zero zero seven …` is not `zero seven …`
        i = j.max(i + 1);
    }
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::{has, none_of};
    use crate::PiiKind;

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
    fn phone_spelt_out() {
        let t = "ring me on zero seven seven zero zero nine zero zero five five one when u can";
        has(t, PiiKind::Phone, "zero seven seven zero zero nine zero zero five five one");
        has(
            "its oh seven double seven zero, nine zero zero, one two three",
            PiiKind::Phone,
            "oh seven double seven zero, nine zero zero, one two three",
        );
        has("call 07700 nine zero zero three one two", PiiKind::Phone, "07700 nine zero zero three one two");
        has(
            "Zero One One Seven four nine six zero five eight two",
            PiiKind::Phone,
            "Zero One One Seven four nine six zero five eight two",
        );
        // look-alikes: counting, scores, too few digits, a number not starting with 0
        none_of("one two three four five six seven eight nine ten eleven", PiiKind::Phone);
        none_of("we lost zero two, then one one, then three zero", PiiKind::Phone);
        none_of("oh no oh no oh no", PiiKind::Phone);
        none_of("zero seven seven zero zero nine", PiiKind::Phone);
        none_of("zero zero seven one two three four five six seven eight nine", PiiKind::Phone);
    }
}
