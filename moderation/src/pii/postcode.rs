//! **postcode**: full UK postcodes, with or without the space, checked against the letter rules.

use regex::Regex;

use super::{re, Cand};
use crate::PiiKind;

#[derive(Debug)]
pub(super) struct Postcodes {
    re: Regex,
}

impl Postcodes {
    pub(super) fn build() -> Result<Postcodes, String> {
        Ok(Postcodes { re: re(r"(?i)\b([a-z]{1,2}[0-9][a-z0-9]?)[ \t]?([0-9][a-z]{2})\b")? })
    }

    /// Run when the text has two digits and a letter followed by a digit.
    pub(super) fn find(&self, text: &str, out: &mut Vec<Cand>) {
        for caps in self.re.captures_iter(text) {
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
            if matches!(&inw[1..], "ST" | "ND" | "RD" | "TH")
                && !inward.as_str().bytes().any(|b| b.is_ascii_uppercase())
            {
                continue;
            }
            out.push(Cand { kind: PiiKind::Postcode, start: m.start(), end: m.end() });
        }
    }
}

/// A postcode district alone (`se6`, `BT14`) right after an address that was found: `14 carlton
/// grove se6`. Alone it is not a postcode (`valid for BB1 postcodes`), after a street it is the
/// end of someone's address.
pub(super) fn outward_after_address(text: &str, out: &mut Vec<Cand>) {
    let ends: Vec<usize> = out.iter().filter(|c| c.kind == PiiKind::Address).map(|c| c.end).collect();
    for end in ends {
        let rest = &text[end..];
        let lead = rest.len() - rest.trim_start_matches([' ', ',']).len();
        if lead == 0 || lead > 2 {
            continue;
        }
        let word_len = rest[lead..].find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len() - lead);
        let w = &rest.as_bytes()[lead..lead + word_len];
        let letters = w.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let outward = (1..=2).contains(&letters)
            && w.len() > letters
            && w.len() - letters <= 2
            && w[letters].is_ascii_digit()
            && w[letters + 1..].iter().all(|b| b.is_ascii_alphanumeric())
            && !matches!(w[0].to_ascii_uppercase(), b'Q' | b'V' | b'X');
        if outward {
            let s = end + lead;
            out.push(Cand { kind: PiiKind::Postcode, start: s, end: s + w.len() });
        }
    }
}

/// The two-letter postcode areas (of Royal Mail's 124, with Guernsey, Jersey and the Isle of
/// Man; the one-letter areas `B`, `E`, `G`, `L`, `M`, `N`, `S`, `W` are left out, as `in S3` is a
/// Scottish school year, `M1` a motorway and `B12` a vitamin).
const AREAS: [&str; 116] = [
    "AB", "AL", "BA", "BB", "BD", "BH", "BL", "BN", "BR", "BS", "BT", "CA", "CB", "CF", "CH", "CM", "CO", "CR", "CT",
    "CV", "CW", "DA", "DD", "DE", "DG", "DH", "DL", "DN", "DT", "DY", "EC", "EH", "EN", "EX", "FK", "FY", "GL", "GU",
    "GY", "HA", "HD", "HG", "HP", "HR", "HS", "HU", "HX", "IG", "IM", "IP", "IV", "JE", "KA", "KT", "KW", "KY", "LA",
    "LD", "LE", "LL", "LN", "LS", "LU", "ME", "MK", "ML", "NE", "NG", "NN", "NP", "NR", "NW", "OL", "OX", "PA", "PE",
    "PH", "PL", "PO", "PR", "RG", "RH", "RM", "SA", "SE", "SG", "SK", "SL", "SM", "SN", "SO", "SP", "SR", "SS", "ST",
    "SW", "SY", "TA", "TD", "TF", "TN", "TQ", "TR", "TS", "TW", "UB", "WA", "WC", "WD", "WF", "WN", "WR", "WS", "WV",
    "YO", "ZE",
];

/// A postcode district alone after `in`, `round`, `near`, `from` or `around` (`crashing at my
/// nans in NE29`, `we moved from cf14`): a district of a two-letter area ([`AREAS`]) and one or
/// two digits, where someone says where they live.
pub(super) fn district_after_place_word(text: &str, out: &mut Vec<Cand>) {
    let mut prev = "";
    for w in text.split_ascii_whitespace() {
        let after_place = ["in", "round", "near", "from", "around"].iter().any(|p| prev.eq_ignore_ascii_case(p));
        prev = w;
        if !after_place {
            continue;
        }
        let word = w.trim_end_matches(|c: char| c.is_ascii_punctuation());
        let b = word.as_bytes();
        let district = (3..=4).contains(&b.len())
            && b[..2].iter().all(u8::is_ascii_alphabetic)
            && b[2..].iter().all(u8::is_ascii_digit)
            && AREAS.iter().any(|a| a.as_bytes().eq_ignore_ascii_case(&b[..2]))
            // `a rise in CO2`: carbon dioxide
            && !word.eq_ignore_ascii_case("co2");
        if district {
            let start = word.as_ptr() as usize - text.as_ptr() as usize;
            out.push(Cand { kind: PiiKind::Postcode, start, end: start + word.len() });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::{has, none_of};
    use crate::PiiKind;

    #[test]
    fn postcodes() {
        has("BB11 3NU is my postcode, the old one was la3 1rz", PiiKind::Postcode, "BB11 3NU");
        has("BB11 3NU is my postcode, the old one was la3 1rz", PiiKind::Postcode, "la3 1rz");
        has("flat 2b, pr77lh", PiiKind::Postcode, "pr77lh");
        has("SW1A 1AA", PiiKind::Postcode, "SW1A 1AA");
        none_of("valid for BB1 postcodes", PiiKind::Postcode);
        none_of("on the 2nd floor at 3pm", PiiKind::Postcode);
        // a district alone after an address is its postcode; alone it is not
        has("im locked in w my lil bro. 14 carlton grove se6 pls", PiiKind::Postcode, "se6");
        has("send it to 3 Crown Terrace, BT14", PiiKind::Postcode, "BT14");
        none_of("14 carlton grove at 6", PiiKind::Postcode);
        // a district alone after a place word is where someone lives
        has("crashing at my nans in NE29 this week", PiiKind::Postcode, "NE29");
        has("we moved from cf14.", PiiKind::Postcode, "cf14");
        none_of("im in S3 at braeview", PiiKind::Postcode);
        none_of("in ks3 we did that", PiiKind::Postcode);
        none_of("in 5 mins", PiiKind::Postcode);
        none_of("the rise in CO2 since 1990", PiiKind::Postcode);
    }
}
