//! **address**: house or flat number and street (`flat 2b, 88 church street`, `number 4 kensington
//! close`), capitalised street names (`Marsh Lane`, `Brierfield Way, block C`), and lower-case
//! street names after `on`/`off`/`near`. Towns are not addresses.

use regex::Regex;

use super::{is_place_stop, re, trim_leading_stops, Cand};
use crate::words::{word_list, Words};
use crate::PiiKind;

/// The street words of the numbered pattern (a regex alternation, so it stays beside the pattern).
/// Issue 19 added the street types of Royal Mail's address guidance and Ordnance Survey's open
/// names that were missing (`mount`, `chase`, `garth`, `wynd`, `brae`, `vennel`, …).
const STREET_SUFFIX: &str = "street|st|road|rd|lane|ln|avenue|ave|close|drive|dr|way|crescent|cres|court|ct|place|grove|gardens|gdns|terrace|walk|row|brow|green|mews|view|rise|square|sq|parade|fold|vale|croft|hill|lea|wharf|heights|boulevard|gate|mount|chase|dale|garth|ridge|wynd|brae|vennel|loan|approach|meadow|meadows|cresent|cresant|crecent|avenu|terace|streat|yard|bank";

/// The building words a block of flats may end in after a bare house number (`42 Marlowe
/// House`); not `Court`, `Hall`, `Block` or `Point`, which after a number are more often a time
/// and a place (`at 2 Town Hall`, `at 10 Crown Court`).
const BARE_BLOCKS: [&str; 6] = ["House", "Tower", "Towers", "Lodge", "Mansions", "Buildings"];

/// A second street word after the first, in names such as `Harbour View Terrace` or `Park Row
/// Road` (the first is then part of the name).
const SECOND_SUFFIX: &str =
    "street|road|lane|avenue|close|drive|crescent|court|place|grove|gardens|terrace|walk|row|mews|rise|square|parade";

#[derive(Debug)]
pub(super) struct Addresses {
    /// A house or flat number, then a street.
    num: Regex,
    /// A capitalised street name.
    cap: Regex,
    /// A street name, in any case, after `on`/`off`/`near`/`down`/`from`/`along` (and their Scots
    /// `aff`, `doon`, `fae`, `ootside`), the street word also abbreviated (`on Elm st`, `from
    /// hessle road`, `aff holburn st`, `on glenwood pl`).
    cue: Regex,
    /// A flat number and a named building: `flat 12 Denholme House`; a house number and a named
    /// block of flats ([`BARE_BLOCKS`]), with its estate: `42 Marlowe House, Penfold Estate`.
    building: Regex,
    /// A farm's name right before its road (`Tregenna Farm, Polgooth Lane`, `higher penhale farm
    /// on lanvean lane`): how rural addresses are given. Matched on the text before a street.
    farm: Regex,
    /// A Welsh street name, the street word first: `22b Heol y Nant`, `Ffordd Las` (street
    /// elements from the Welsh Language Commissioner's guidance on naming streets); with a house
    /// number, also the words that begin Welsh street names without being street words (`9 Maes
    /// y Dref`, `4 Llwyn Onn`, `12 Bryn Glas`, `9 Glan yr Afon`, `3 Nant-y-Coed`), as alone they
    /// are also places and given names.
    welsh: Regex,
    /// A Welsh street typed in lower case: `14 heol y felin`, `22 ffordd y parc`, `lives on lon
    /// las` (`heol`, `ffordd` and `stryd` are only street words; `lôn`/`lon` needs a house number
    /// or `on`/`off` before it).
    welsh_lower: Regex,
    /// A flat number and a named building in lower case (`flat 6 kestrel house`), and a home in a
    /// named block or street (`his flat in sunbridge court`).
    building_lower: Regex,
    home_in: Regex,
}

impl Addresses {
    pub(super) fn build() -> Result<Addresses, String> {
        Ok(Addresses {
            num: re(&format!(
                r"(?i)\b(?:(?:flat|apartment|apt|unit|room)\s*[0-9]+(?:/[0-9]+)?[a-z]?,?\s+(?:[0-9]{{1,4}}[a-z]?,?\s+)?|(?:(?:number|no\.?|num)\s*)?(?:[0-9]{{1,2}}/[0-9]{{1,2}},?\s+)?[0-9]{{1,4}}(?:/[0-9]{{1,2}})?[a-z]?,?\s+)((?:[a-z][a-z'’\-]*\s+){{1,3}}?)(?:{STREET_SUFFIX})\b(?:\s+(?:{SECOND_SUFFIX})\b)?(?:,?\s*(?:block|flat|room)\s+[a-z0-9]{{1,3}}\b)?"
            ))?,
            cap: re(
                r"\b((?:[A-Z][a-z'’]+(?:-[A-Z][a-z]+)?\s+){1,3}?)(Street|Road|Lane|Avenue|Close|Drive|Way|Crescent|Court|Place|Grove|Gardens|Terrace|Walk|Row|Brow|Mews|Rise|Square|Parade|Fold|Vale|Croft|Lea|Wharf|Heights|Boulevard|View|Mount|Chase|Garth|Wynd|Brae|Vennel|Approach|Meadows|Cresent|St|Rd)\b(?:\s+(?:Street|Road|Lane|Avenue|Close|Drive|Crescent|Court|Place|Grove|Gardens|Terrace|Walk|Row|Mews|Rise|Square|Parade)\b)?(?:,?\s*(?:[Bb]lock|[Ff]lat)\s+[A-Za-z0-9]{1,3}\b)?",
            )?,
            cue: re(
                r"(?i)\b(?:on|off|near|down|from|along|behind|by|opposite|outside|past|aff|doon|fae|ootside)\s+((?:[a-z][a-z'’\-]+\s+){1,2}?(?:street|road|lane|avenue|close|drive|crescent|cresent|grove|gardens|terrace|mews|parade|st|rd|ave|pl|cl|dr|cres|gdns|tce))\b",
            )?,
            building: re(&format!(
                r"\b(?:(?i:flat|apartment|apt|unit|number|no\.?)\s*[0-9]{{1,4}}(?:/[0-9]+)?[A-Za-z]?,?\s+(?:[A-Z][a-z'’\-]+\s+){{1,2}}(?:House|Court|Tower|Towers|Point|Lodge|Heights|Mansions|Buildings|Hall|Block)|[0-9]{{1,4}}[A-Za-z]?,?\s+(?:[A-Z][a-z'’\-]+\s+){{1,2}}(?:{}))\b(?:,?\s+(?:[A-Z][a-z'’\-]+\s+){{1,2}}Estate\b)?",
                BARE_BLOCKS.join("|")
            ))?,
            farm: re(r"(?i)\b((?:[a-z][a-z'’\-]+\s+){1,3})farm,?\s+(?:(?:on|off)\s+)?$")?,
            welsh: re(
                r"\b(?:(?:[0-9]{1,4}[A-Za-z]?,?\s+)?(?:Heol|Ffordd|Stryd|Lôn|Rhodfa|Cilgant|Teras)|[0-9]{1,4}[A-Za-z]?,?\s+(?:Maes|Llwyn|Cae|Bryn|Clos|Parc|Gerddi|Erw|Coed|Bro|Plas|Pant|Cwrt|Llys|Tan|Ael|Glan|Nant|Pen|Cefn|Gwel|Trem|Dol|Cwm|Allt|Fron|Rhiw|Tir))(?:[\s\-]+(?:y|yr|'r)[\s\-]+|\s+|-)[A-Z][a-zâêîôûŵŷ'’\-]+(?:\s+[A-Z][a-zâêîôûŵŷ'’\-]+)?",
            )?,
            welsh_lower: re(
                r"(?i)\b(?:[0-9]{1,4}[a-z]?,?\s+(?:heol|ffordd|stryd|lôn|lon|rhodfa|cilgant|teras)|(?:heol|ffordd|stryd)|(?:on|off)\s+(?:lôn|lon))\s+(?:(?:y|yr|'r)\s+)?[a-zâêîôûŵŷ'’\-]{3,}",
            )?,
            building_lower: re(
                r"(?i)\b(?:flat|apartment|apt|unit)\s*[0-9]{1,4}[a-z]?,?\s+((?:[a-z][a-z'’\-]+\s+){1,2})(?:house|court|tower|towers|point|lodge|heights|mansions|buildings)\b",
            )?,
            home_in: re(
                r"(?i)\b(?:flat|flats|house|maisonette|bungalow)\s+(?:in|on|at|off)\s+((?:[a-z][a-z'’\-]+\s+){1,2}?(?:court|house|tower|towers|lodge|heights|mansions|gardens|mews|close|street|road|lane|avenue|drive|crescent|grove|terrace|parade|square))\b",
            )?,
        })
    }

    /// Only the Welsh street patterns: run on a text with a digit and a word that begins Welsh
    /// street names ([`has_welsh_start`]) but no street word.
    pub(super) fn find_welsh(&self, text: &str, out: &mut Vec<Cand>) {
        let first = out.len();
        self.find_welsh_parts(text, out);
        merge_adjacent(text, out, first);
    }

    fn find_welsh_parts(&self, text: &str, out: &mut Vec<Cand>) {
        for m in self.welsh.find_iter(text) {
            out.push(Cand { kind: PiiKind::Address, start: m.start(), end: m.end() });
        }
        if !has_welsh_street_word(text.as_bytes()) {
            return;
        }
        for m in self.welsh_lower.find_iter(text) {
            let t = m.as_str();
            // `on lon las`: the street, not the word before it
            let lead = t.split_whitespace().next().unwrap_or("");
            let start = if lead.eq_ignore_ascii_case("on") || lead.eq_ignore_ascii_case("off") {
                m.start() + t[lead.len()..].find(|c: char| !c.is_whitespace()).map_or(0, |x| x + lead.len())
            } else {
                m.start()
            };
            if !is_place_stop(text[start..m.end()].rsplit(char::is_whitespace).next().unwrap_or("")) {
                out.push(Cand { kind: PiiKind::Address, start, end: m.end() });
            }
        }
    }

    /// Run when the text has a street word (`policy/words/gate_street.txt`); the numbered form
    /// only when it has a digit.
    pub(super) fn find(&self, text: &str, has_digit: bool, out: &mut Vec<Cand>) {
        let first = out.len();
        self.find_parts(text, has_digit, out);
        merge_adjacent(text, out, first);
        self.find_farms(text, out, first);
    }

    /// A farm named before an address found (its own span: it is written apart from the road).
    fn find_farms(&self, text: &str, out: &mut Vec<Cand>, first: usize) {
        for i in first..out.len() {
            let before = &text[..out[i].start];
            let tail = before.trim_end().to_ascii_lowercase();
            if !["farm", "farm,", "farm on", "farm off"].iter().any(|e| tail.ends_with(e)) {
                continue;
            }
            let Some(name) = self.farm.captures(before).and_then(|c| c.get(1)) else { continue };
            let Some(s) = trim_leading_stops(text, name.start(), name.end()) else { continue };
            if s == name.end() || text[s..name.end()].split_whitespace().any(is_place_stop) {
                continue;
            }
            // the name's words, then `farm` right after them
            out.push(Cand { kind: PiiKind::Address, start: s, end: name.end() + "farm".len() });
        }
    }

    fn find_parts(&self, text: &str, has_digit: bool, out: &mut Vec<Cand>) {
        if has_digit {
            for m in self.building.find_iter(text) {
                // after a bare number, the block's name must be a name (`2 Big House tickets` is not)
                let bare = m.as_str().starts_with(|c: char| c.is_ascii_digit());
                if bare && !block_name_ok(m.as_str()) {
                    continue;
                }
                out.push(Cand { kind: PiiKind::Address, start: number_start(m), end: m.end() });
            }
        }
        self.find_welsh_parts(text, out);
        if has_digit {
            for caps in self.building_lower.captures_iter(text) {
                let (Some(m), Some(name)) = (caps.get(0), caps.get(1)) else { continue };
                if !name.as_str().split_whitespace().any(is_place_stop) {
                    out.push(Cand { kind: PiiKind::Address, start: m.start(), end: m.end() });
                }
            }
        }
        if has_home_word(text.as_bytes()) {
            for caps in self.home_in.captures_iter(text) {
                let Some(g) = caps.get(1) else { continue };
                let words: Vec<&str> = g.as_str().split_whitespace().collect();
                if words.len() >= 2 && !words[..words.len() - 1].iter().any(|w| is_place_stop(w)) {
                    out.push(Cand { kind: PiiKind::Address, start: g.start(), end: g.end() });
                }
            }
        }
        if has_digit {
            for caps in self.num.captures_iter(text) {
                let (Some(m), Some(name)) = (caps.get(0), caps.get(1)) else {
                    continue;
                };
                if name.as_str().split_whitespace().any(is_place_stop) {
                    continue;
                }
                out.push(Cand { kind: PiiKind::Address, start: number_start(m), end: m.end() });
            }
        }
        for caps in self.cap.captures_iter(text) {
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
        for caps in self.cue.captures_iter(text) {
            let Some(g) = caps.get(1) else { continue };
            let words: Vec<&str> = g.as_str().split_whitespace().collect();
            if words.len() < 2 || words[..words.len() - 1].iter().any(|w| is_place_stop(w)) {
                continue;
            }
            out.push(Cand { kind: PiiKind::Address, start: g.start(), end: g.end() });
        }
    }
}

/// Whether the text has one of `words` as a whole word (any ASCII case; a word is what lies
/// between spaces, punctuation and digits, so `lôn` stays whole).
fn has_word(bytes: &[u8], words: &[&[u8]]) -> bool {
    bytes
        .split(|b| b.is_ascii_whitespace() || b.is_ascii_punctuation() || b.is_ascii_digit())
        .any(|w| words.iter().any(|s| s.eq_ignore_ascii_case(w)))
}

/// Whether the text has `flat`, `flats`, `house`, `maisonette` or `bungalow`: only then can
/// `home_in` match.
fn has_home_word(bytes: &[u8]) -> bool {
    has_word(bytes, &[b"flat", b"flats", b"house", b"maisonette", b"bungalow"])
}

/// Whether the text has a Welsh street word (`heol`, `ffordd`, `lon` …): only then can a Welsh
/// street typed in lower case be in it.
fn has_welsh_street_word(bytes: &[u8]) -> bool {
    has_word(bytes, &[b"heol", b"ffordd", b"stryd", b"lon", "lôn".as_bytes(), b"rhodfa", b"cilgant", b"teras"])
}

/// Words that begin Welsh street names (data: `policy/words/welsh_street_starts.txt`).
static WELSH_STARTS: Words = word_list!("welsh_street_starts.txt");

/// Whether the text has a word that begins Welsh street names (any ASCII case) right after a
/// house number (`9 Maes`, `22b, Nant`, `3 nant`). Called for every text with a digit, so it
/// looks only at the word after each number.
pub(super) fn has_welsh_start(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // past the number, an optional letter (`22b`) and a comma, then spaces
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        i = j;
        if j < bytes.len()
            && bytes[j].is_ascii_alphabetic()
            && bytes.get(j + 1).is_some_and(|b| !b.is_ascii_alphabetic())
        {
            j += 1;
        }
        if bytes.get(j) == Some(&b',') {
            j += 1;
        }
        let spaces = j;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if j == spaces {
            continue;
        }
        let end = bytes[j..].iter().position(|b| !b.is_ascii_alphabetic()).map_or(bytes.len(), |n| j + n);
        let w = &bytes[j..end];
        if (2..=6).contains(&w.len()) && WELSH_STARTS.iter().any(|s| s.as_bytes().eq_ignore_ascii_case(w)) {
            return true;
        }
    }
    false
}

/// Whether the words between the house number and `House`/`Tower`/… are a name: neither
/// common words nor place stop words.
fn block_name_ok(m: &str) -> bool {
    m.split_whitespace()
        .skip(1)
        .take_while(|w| !BARE_BLOCKS.contains(&w.trim_end_matches(',')))
        .all(|w| !super::name::COMMON.contains(&w.to_lowercase()) && !is_place_stop(w))
}

/// The house number, not the word for it: `number 6 Beech Grove` is `6 Beech Grove` (the
/// annotation rules mark "house or flat numbers"); `flat 2b` keeps its word.
fn number_start(m: regex::Match<'_>) -> usize {
    let t = m.as_str();
    if t.starts_with(['n', 'N']) {
        t.find(|c: char| c.is_ascii_digit()).map_or(m.start(), |d| m.start() + d)
    } else {
        m.start()
    }
}

/// Endings of one-word street names (`Kingsway`, `Kirkgate`, `Briggate`, `Cheyne Row` as one
/// word): Ordnance Survey's open names and Royal Mail's street types (`way`, `gate` from the Norse
/// for street, `row`).
const ONE_WORD_ENDS: [&str; 3] = ["way", "gate", "row"];
/// Capitalised words with those endings that are not streets: things, countries and regions,
/// and verbs (`on Runway`, `in Norway`, `Navigate`, `Tomorrow`).
const NOT_ONE_WORD_STREETS: [&str; 24] = [
    "anyway",
    "someway",
    "halfway",
    "midway",
    "highway",
    "motorway",
    "railway",
    "subway",
    "runway",
    "gateway",
    "hallway",
    "doorway",
    "stairway",
    "walkway",
    "driveway",
    "fairway",
    "freeway",
    "pathway",
    "norway",
    "galloway",
    "getaway",
    "takeaway",
    "giveaway",
    "breakaway",
];

/// A capitalised one-word street name after `on`, `off` or `along` (`the sports hall on
/// Kingsway`, `the one on Kirkgate`), in any case after a house number (`12 kingsway`, with the
/// number); not after `in`, where such words are towns (`in
/// Harrogate`, `in Margate`), and not the words in [`NOT_ONE_WORD_STREETS`], verbs in `-igate`,
/// `-agate`, `-ugate` (`investigate`, `propagate`, `subjugate`) or `-rrow` (`tomorrow`, `arrow`).
pub(super) fn find_one_word(text: &str, out: &mut Vec<Cand>) {
    // The words are slices of `text`, so their offsets come from their addresses (searching for
    // each word again cost a substring searcher per word of every message).
    let offset = |w: &str| w.as_ptr() as usize - text.as_ptr() as usize;
    let mut words = text.split_ascii_whitespace().peekable();
    while let Some(w) = words.next() {
        // after a house number the name may be in lower case (`flat 2, 12 kingsway`)
        let number = (1..=4).contains(&w.len()) && w.bytes().all(|c| c.is_ascii_digit());
        if !(number || w.eq_ignore_ascii_case("on") || w.eq_ignore_ascii_case("off") || w.eq_ignore_ascii_case("along"))
        {
            continue;
        }
        let Some(next) = words.peek() else { break };
        let name = next.trim_end_matches(|c: char| !c.is_ascii_alphabetic());
        let l = name.to_ascii_lowercase();
        let ok = name.len() >= 6
            && name.starts_with(|c: char| c.is_ascii_uppercase() || (number && c.is_ascii_lowercase()))
            && name[1..].bytes().all(|c| c.is_ascii_lowercase())
            && ONE_WORD_ENDS.iter().any(|e| l.ends_with(e) && l.len() >= e.len() + 3)
            && !NOT_ONE_WORD_STREETS.contains(&l.as_str())
            && !["igate", "agate", "ugate", "rrow"].iter().any(|e| l.ends_with(e))
            && !is_place_stop(name);
        if ok {
            let end = offset(name) + name.len();
            let s = if number { flat_before(text, offset(w)) } else { offset(name) };
            out.push(Cand { kind: PiiKind::Address, start: s, end });
        }
    }
}

/// The start of `flat 2, ` (or `room`, `apartment`, `unit`) right before a house number at `at`,
/// or `at`: `flat 2, 12 kingsway` is one address.
fn flat_before(text: &str, at: usize) -> usize {
    let before = text[..at].trim_end_matches([' ', ',']);
    let num = before.trim_end_matches(|c: char| c.is_ascii_alphanumeric());
    let digits = &before[num.len()..];
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return at;
    }
    let word = num.trim_end_matches(' ');
    let head = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let w = &word[head.len()..];
    if word.len() < num.len() && ["flat", "room", "apartment", "apt", "unit"].iter().any(|f| w.eq_ignore_ascii_case(f))
    {
        head.len()
    } else {
        at
    }
}

/// Address parts found from `first` on that follow each other with only a comma or spaces
/// between them are one address: `flat 12 Langley House, Pembury Road`.
fn merge_adjacent(text: &str, out: &mut Vec<Cand>, first: usize) {
    let mut found: Vec<Cand> = out.drain(first..).collect();
    found.sort_by_key(|c| (c.start, std::cmp::Reverse(c.end)));
    let mut merged: Vec<Cand> = Vec::with_capacity(found.len());
    for c in found {
        if let Some(last) = merged.last_mut() {
            let joined = c.start <= last.end
                || text[last.end..c.start].chars().all(|ch| ch == ',' || ch == ' ') && c.start - last.end <= 3;
            if joined {
                last.end = last.end.max(c.end);
                continue;
            }
        }
        merged.push(c);
    }
    out.extend(merged);
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::{has, none_of};
    use crate::PiiKind;

    #[test]
    fn blocks_and_farms() {
        has(
            "address for letters now is 42 Marlowe House, Penfold Estate, LS9 4QT",
            PiiKind::Address,
            "42 Marlowe House, Penfold Estate",
        );
        has("im at 7 Ashby Tower", PiiKind::Address, "7 Ashby Tower");
        none_of("meet at 2 Town Hall", PiiKind::Address);
        none_of("got 2 Big House tickets", PiiKind::Address);
        has("were at Tregenna Farm, Polgooth Lane, PL26 7XY", PiiKind::Address, "Tregenna Farm");
        has("were at Tregenna Farm, Polgooth Lane, PL26 7XY", PiiKind::Address, "Polgooth Lane");
        has("they come to higher penhale farm on lanvean lane", PiiKind::Address, "higher penhale farm");
        none_of("helping at the farm on Saturday", PiiKind::Address);
        has("we went past the farm on Mill Lane", PiiKind::Address, "Mill Lane");
        none_of("we went past the farm on Mill Lane", PiiKind::FullName);
    }

    #[test]
    fn addresses() {
        // a Glasgow flat (floor/position), and a street named with two street words
        has("its flat 3/2, 41 Rosebank Wynd if u need it", PiiKind::Address, "flat 3/2, 41 Rosebank Wynd");
        has("the flat is 2/1 Cathcart Road, ring twice", PiiKind::Address, "2/1 Cathcart Road");
        has("send it to 27 Harbour View Terrace, thats my nans", PiiKind::Address, "27 Harbour View Terrace");
        has("we live at 9 Mill View Road now", PiiKind::Address, "9 Mill View Road");
        has("im at 14 Park View, by the shop", PiiKind::Address, "14 Park View");
        has("flat 2b, 88 church street, pr77lh", PiiKind::Address, "flat 2b, 88 church street");
        has("im at 19 St Pauls Road now", PiiKind::Address, "19 St Pauls Road");
        has("number 4 kensington close is my dads", PiiKind::Address, "4 kensington close");
        has("the man at number 6 Beech Grove keeps", PiiKind::Address, "6 Beech Grove");
        has("no. 12 Orchard Rise", PiiKind::Address, "12 Orchard Rise");
        has("flat 12, Ribble Court", PiiKind::Address, "flat 12, Ribble Court");
        has("we live in the flats on Brierfield Way, block C", PiiKind::Address, "Brierfield Way, block C");
        has("the centre on Marsh Lane", PiiKind::Address, "Marsh Lane");
        has("i live on ashworth road", PiiKind::Address, "ashworth road");
        none_of("its a 5 min walk from mine", PiiKind::Address);
        none_of("theres a man on my road", PiiKind::Address);
        none_of("running up that hill", PiiKind::Address);
        none_of("by the way im fine", PiiKind::Address);
        has("flat 12 Denholme House M13 9RT", PiiKind::Address, "flat 12 Denholme House");
        has(
            "my address is flat 12 Langley House, Pembury Road E5 8LP",
            PiiKind::Address,
            "flat 12 Langley House, Pembury Road",
        );
        has("were at 9 Colenso Mount now", PiiKind::Address, "9 Colenso Mount");
        has("they found my address, 22b Heol y Nant, and", PiiKind::Address, "22b Heol y Nant");
        has("send it to 9 Maes y Dref, thats my nans", PiiKind::Address, "9 Maes y Dref");
        has("we moved to 4 Llwyn Onn last year", PiiKind::Address, "4 Llwyn Onn");
        none_of("we went up Bryn Glas on the bikes", PiiKind::Address);
        has("the flat is 2/1, 60 Wharf Lane", PiiKind::Address, "2/1, 60 Wharf Lane");
        has("the party on Kirkwood View", PiiKind::Address, "Kirkwood View");
        has("flat 5 Mulberry Court", PiiKind::Address, "flat 5 Mulberry Court");
        has("number 5 Mulberry Court", PiiKind::Address, "5 Mulberry Court");
        none_of("my house is a mess", PiiKind::Address);
        none_of("flat 3 was empty", PiiKind::Address);
        // the street word abbreviated after `on`, `from` before a street
        has("were on Elm st behind the offy", PiiKind::Address, "Elm st");
        has("at the chippy on garston rd after school", PiiKind::Address, "garston rd");
        has("the dealer from hessle road keeps", PiiKind::Address, "hessle road");
        none_of("im on my st now", PiiKind::Address);
        none_of("a trip down memory lane", PiiKind::Address);
        none_of("from the road you can see it", PiiKind::Address);
        // Welsh street names after a house number, hyphenated or not
        has("i'm living at 9 Glan yr Afon, SA31 2PQ now", PiiKind::Address, "9 Glan yr Afon");
        has("our address is 3 Nant-y-Coed, Llanidloes", PiiKind::Address, "3 Nant-y-Coed");
        has("my nan is 12 Pen y Bryn", PiiKind::Address, "12 Pen y Bryn");
        none_of("we got 2 Pen pals", PiiKind::Address);
        // Welsh streets in lower case, misspelt street words, a street after `behind`
        has("my adress is 14 heol y felin, pontypridd", PiiKind::Address, "14 heol y felin");
        has("she lives at 22 ffordd y parc", PiiKind::Address, "22 ffordd y parc");
        has("she lives on lon las, her email is", PiiKind::Address, "lon las");
        has("we r at 7 glebe cresent bt5 6qx", PiiKind::Address, "7 glebe cresent");
        has("hidin in the park behind carmel rd its dark", PiiKind::Address, "carmel rd");
        none_of("the lon way round", PiiKind::Address);
        none_of("stood by the road", PiiKind::Address);
        // a flat in a named building in lower case, a home in a named court, a parade
        has("party at mine sat, flat 6 kestrel house bd3 9px", PiiKind::Address, "flat 6 kestrel house");
        has("shes been at his flat in sunbridge court since friday", PiiKind::Address, "sunbridge court");
        has("got a job at greggs on barwick parade saturdays", PiiKind::Address, "barwick parade");
        none_of("flat 2 in the house is empty", PiiKind::Address);
        none_of("his flat in the court was raided", PiiKind::Address);
        has("is it 5 tanners yard or the church one", PiiKind::Address, "5 tanners yard");
        none_of("about 5 yard away", PiiKind::Address);
        has("party at mine sat!! 9 Holly Bank, Whitehaven", PiiKind::Address, "9 Holly Bank");
        has("post them to Nia, 3 Ael y Bryn, CF14 6QA", PiiKind::Address, "3 Ael y Bryn");
        none_of("paid 20 into the bank", PiiKind::Address);
    }

    #[test]
    fn one_word_streets() {
        has("the sports hall on Kingsway or the other one", PiiKind::Address, "Kingsway");
        has("is it the one on Kirkgate next to greggs", PiiKind::Address, "Kirkgate");
        has("meet me off Briggate, by the shops", PiiKind::Address, "Briggate");
        // look-alikes: towns after `in`, things and verbs with the same endings, lower case
        none_of("we moved to a flat in Harrogate", PiiKind::Address);
        none_of("he lives on Norway time lol", PiiKind::Address);
        none_of("were on Highway 2 in the game", PiiKind::Address);
        none_of("on Tomorrow x Together merch", PiiKind::Address);
        none_of("lets go on kingsway", PiiKind::Address);
        none_of("carry on anyway", PiiKind::Address);
        none_of("on Investigate mode", PiiKind::Address);
    }

    #[test]
    fn addresses_of_hostels_and_in_scots() {
        has("i live now 12 clarence road room 5 newport", PiiKind::Address, "12 clarence road room 5");
        has("am in a flat aff holburn st wi two guys", PiiKind::Address, "holburn st");
        has("the youth club on glenwood pl", PiiKind::Address, "glenwood pl");
        has("7 glebe cresant", PiiKind::Address, "7 glebe cresant");
        has("room 3, 27 marine parade, CT9 1XX", PiiKind::Address, "room 3, 27 marine parade");
        has("post it to flat 2, 12 kingsway, lowestoft", PiiKind::Address, "flat 2, 12 kingsway");
        has("its 4 highgate", PiiKind::Address, "4 highgate");
        none_of("got 3 takeaway boxes and 2 tomorrow", PiiKind::Address);
    }
}
