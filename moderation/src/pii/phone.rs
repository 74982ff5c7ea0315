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
}
