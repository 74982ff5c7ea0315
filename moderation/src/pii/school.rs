//! **school**: names from the policy's list, `<Name> Academy/High School/Primary/College/…`
//! when capitalised, and lower-case after `go to`/`at`/`from`/`into`. The kinds of school are
//! those of the DfE's "Types of school" (gov.uk), with alternative provision (`Ashgrove PRU`,
//! `… Pupil Referral Unit`, `… Learning Centre`), sixth forms, free, studio and special schools.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;

use super::name::COMMON;
use super::{is_place_stop, re, trim_leading_stops, Cand};
use crate::words::{word_list, Words};
use crate::PiiKind;

/// The words of a school's kind (`Academy`, `High`, `Sixth Form`, …): data,
/// `policy/words/school_suffix_words.txt`.
static SCHOOL_SUFFIX_WORDS: Words = word_list!("school_suffix_words.txt");

#[derive(Debug)]
pub(super) struct Schools {
    /// The policy's own list of school names (`[pii] schools`), if it has one.
    listed: Option<AhoCorasick>,
    /// A capitalised name and a school suffix.
    cap: Regex,
    /// A name and a suffix, in any case, after `go to`/`at`/`from`/`into`/….
    cue: Regex,
    /// The school word first, in Welsh and Irish: `Ysgol Glan Morfa`, `Coleg Gwent`,
    /// `Gaelscoil na Bóinne`.
    prefix: Regex,
    /// A saint's name after `go`/`at`/`from`: `i go st bede's`; without the apostrophe after `go
    /// to` or `outside` (`i go to st bedes`).
    saint: Regex,
    /// Capitalised words after `my school is` / `college is` / `school was` / `school's`: `my
    /// school is St Columb's`, `college is Dundee and Angus`, `my old school was Parkwood E-ACT`.
    named: Regex,
    /// A girls' or boys' school after `at`/`goes to`: `at Pennfield Girls`.
    girls_boys: Regex,
    /// A saint's school with its church or kind, in any case: `st peters c of e`, `st annes rc`.
    saint_church: Regex,
    /// A lower-case name and a school word where a new phrase begins (the start of the text, after
    /// a comma or a full stop, or after `and`): `its ellie-may lol, launceston college`.
    bare: Regex,
    /// `ysgol` and the Welsh words after it, all in lower case: `ysgol gynradd glan y mor`
    /// (capitalised, `prefix` finds it).
    ysgol: Regex,
}

impl Schools {
    pub(super) fn build(schools: &[String]) -> Result<Schools, String> {
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
        Ok(Schools {
            listed: schools,
            cap: re(
                r"\b((?:(?:St\.?|Saint)\s+)?(?:(?:[A-Z][A-Za-z'’\-]+\s+and|[A-Z][A-Za-z'’\-]+|C of E|CofE|C\.E\.|CE|R\.C\.|RC|Church of England|on|upon|under|in)\s+){1,5}?(?:Colleges Group|College Group|High School|High [Ss]cool|High [Ss]kool|Primary [Ss]cool|Primary [Ss]kool|High [Ss]chool|Primary [Ss]chool|Secondary School|Primary School|Junior School|Infant School|Infants School|Grammar School|Community College|Sixth Form College|Sixth Form Centre|Sixth Form|Pupil Referral Unit|Learning Centre|Education Centre|Free School|Studio School|Special School|Catholic High|Catholic College|Comprehensive School|Comprehensive|Secondary|Academy|Primery|Acadamy|Accademy|College|Institute|High|Primary|Grammar|School|Juniors|Infants|Comp|UTC|PRU|college|academy|primary school|primary|grammar school|high school|secondary school))\b",
            )?,
            cue: re(
                r"(?i)\b(?:go to|goes to|went to|going to|go|goes|went|to|at|attend|attends|attended|from|into|in|before|after|outside|near|by|behind|school is|school was|school['’]s|intae|ootside|fae|tae|gates of|gate of)\s+((?:[a-z][a-z'’\-]+\s+){1,3}?(?:academy|high school|primary school|secondary school|grammar school|community college|sixth form college|sixth form|pupil referral unit|learning centre|college|high|primary|grammar|school|pru|primery|primry|acadamy|accademy|acadmy|academey|collage|colledge|secondry))\b",
            )?,
            prefix: re(
                r"\b((?:Ysgol|Coleg|Gaelscoil|Gaelcholáiste|Scoil|Coláiste)(?:\s+(?:y|yr|na|an|'r|[A-Z][A-Za-zâêîôûŵŷáéíóú'’\-]+)\b){1,3})",
            )?,
            saint: re(
                r"(?i)\b(go|go to|goes to|went to|going to|at|attend|attends|from|into|outside|gates at|gates of)\s+((?:st\.?|saint)\s+([a-z]+)(['’])?s)\b",
            )?,
            named: re(
                r"\b(?i:(?:(?:my|ma|our|his|her|their|the)\s+)?(?:school|college|sixth form|academy)(?:\s+is|\s+was|['’]s)(?:\s+called)?)\s+((?:St\.?\s+)?[A-Z][A-Za-z'’\-]+(?:\s+(?:and\s+)?[A-Z][A-Za-z'’\-]+){0,3})",
            )?,
            girls_boys: re(
                r"\b(?i:at|go to|goes to|went to|attends|attend)\s+((?:[A-Z][a-z'’\-]+\s+){1,2}(?:Girls|Boys)['’]?(?:\s+(?:School|Academy|High|Grammar))?)\b",
            )?,
            ysgol: re(r"\bysgol(?:\s+[a-zâêîôûŵŷ'’\-]+){1,5}")?,
            saint_church: re(
                r"(?i)\b((?:st\.?|saint)\s+[a-z]+['’]?s\s+(?:c\s?of\s?e|cofe|c\.?e\.?|r\.?c\.?|catholic|primary|school|academy|high|juniors|infants))\b",
            )?,
            bare: re(
                r"(?:^|[,.;:!?]\s*|\band\s+)([a-z][a-z'’\-]{3,})\s+(?:college|academy|primary school|primary|grammar school|high school|secondary school)\b",
            )?,
        })
    }

    /// Whether the policy lists schools of its own (then [`Schools::find`] always runs).
    pub(super) fn has_list(&self) -> bool {
        self.listed.is_some()
    }

    /// A girls' or boys' school after `at`/`goes to` (`at Pennfield Girls`); run on its own when
    /// the text has `Girls` or `Boys` but no school word.
    pub(super) fn find_girls_boys(&self, text: &str, out: &mut Vec<Cand>) {
        if !(text.contains("Girls") || text.contains("Boys")) {
            return;
        }
        for caps in self.girls_boys.captures_iter(text) {
            if let Some(m) = caps.get(1) {
                if !m.as_str().split_whitespace().next().is_some_and(is_place_stop) {
                    out.push(Cand { kind: PiiKind::School, start: m.start(), end: m.end() });
                }
            }
        }
    }

    /// Run when the text has a school word (`policy/words/gate_school.txt`) or the policy lists
    /// schools.
    pub(super) fn find(&self, text: &str, out: &mut Vec<Cand>) {
        for caps in self.named.captures_iter(text) {
            let Some(m) = caps.get(1) else { continue };
            if !m.as_str().split_whitespace().all(is_place_stop) {
                out.push(Cand { kind: PiiKind::School, start: m.start(), end: m.end() });
            }
        }
        self.find_girls_boys(text, out);
        if text.contains("ysgol") {
            for m in self.ysgol.find_iter(text) {
                // the name ends before the first English word (`… glan y mor in year 6`); the
                // pattern's words are lower case, and slices of `text`, so their ends are offsets
                let mut end = m.start() + "ysgol".len();
                for w in m.as_str()["ysgol".len()..].split_whitespace() {
                    if COMMON.contains(&w) && !matches!(w, "y" | "yr" | "bro") || is_place_stop(w) {
                        break;
                    }
                    end = w.as_ptr() as usize - text.as_ptr() as usize + w.len();
                }
                if end > m.start() + "ysgol".len() {
                    out.push(Cand { kind: PiiKind::School, start: m.start(), end });
                }
            }
        }
        for caps in self.bare.captures_iter(text) {
            let (Some(m), Some(name)) = (caps.get(0), caps.get(1)) else { continue };
            let w = name.as_str();
            if !COMMON.contains(&w) && !is_place_stop(w) && !SCHOOL_SUFFIX_WORDS.contains(&w) && !w.ends_with("ing") {
                out.push(Cand { kind: PiiKind::School, start: name.start(), end: m.end() });
            }
        }
        for caps in self.saint.captures_iter(text) {
            let (Some(cue), Some(m), Some(saint)) = (caps.get(1), caps.get(2), caps.get(3)) else { continue };
            // without the apostrophe a saint's name is a school only after `go to` or `outside`,
            // and not a town or a hospital (`at st margarets` is a church, `st helens` a town)
            let s = format!("{}s", saint.as_str().to_ascii_lowercase());
            let going = !matches!(cue.as_str().to_ascii_lowercase().as_str(), "at" | "from" | "into");
            if caps.get(4).is_some() || (going && !SAINT_PLACES.contains(&s.as_str())) {
                out.push(Cand { kind: PiiKind::School, start: m.start(), end: m.end() });
            }
        }
        for caps in self.prefix.captures_iter(text).chain(self.saint_church.captures_iter(text)) {
            if let Some(m) = caps.get(1) {
                out.push(Cand { kind: PiiKind::School, start: m.start(), end: m.end() });
            }
        }
        if let Some(ac) = &self.listed {
            let b = text.as_bytes();
            for m in ac.find_iter(text) {
                let before_ok = m.start() == 0 || !b[m.start() - 1].is_ascii_alphanumeric();
                let after_ok = m.end() == b.len() || !b[m.end()].is_ascii_alphanumeric();
                if before_ok && after_ok {
                    out.push(Cand { kind: PiiKind::School, start: m.start(), end: m.end() });
                }
            }
        }
        for caps in self.cap.captures_iter(text) {
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
            if name_words == 0 || comp_of_a_contest(&words) {
                continue;
            }
            out.push(Cand { kind: PiiKind::School, start: s, end: m.end() });
        }
        for caps in self.cue.captures_iter(text) {
            let Some(g) = caps.get(1) else { continue };
            let words: Vec<&str> = g.as_str().split_whitespace().collect();
            let n_suffix = if g.as_str().to_lowercase().ends_with(" school") && words.len() >= 2 {
                let w = words[words.len() - 2].to_lowercase();
                if matches!(w.as_str(), "high" | "primary" | "secondary" | "grammar") {
                    2
                } else {
                    1
                }
            } else if g.as_str().to_lowercase().ends_with("sixth form college") {
                3
            } else if g.as_str().to_lowercase().ends_with(" sixth form")
                || g.as_str().to_lowercase().ends_with("community college")
            {
                2
            } else {
                1
            };
            // `altrincham girls grammar`: a girls' or boys' school keeps the word
            let mut name_end = words.len().saturating_sub(n_suffix);
            if name_end >= 2 && matches!(words[name_end - 1].to_lowercase().as_str(), "girls" | "boys") {
                name_end -= 1;
            }
            if words.len() <= n_suffix || words[..name_end].iter().any(|w| is_place_stop(w)) {
                continue;
            }
            out.push(Cand { kind: PiiKind::School, start: g.start(), end: g.end() });
        }
    }
}

/// Saints' names ending in `s` that name towns, hospitals and grounds more often than schools
/// (`St Helens`, `St Albans`, `St Ives`, `St Thomas'`, `St James' Park`, `St Georges`).
const SAINT_PLACES: [&str; 10] =
    ["helens", "albans", "ives", "andrews", "neots", "thomas", "james", "georges", "davids", "pancras"];

/// Words before `Comp` that make it a competition, not a comprehensive school (`Fortnite Comp`,
/// `Maths Comp`): `Comp` alone is what Welsh pupils call their school (`Penygraig Comp`).
const CONTESTS: [&str; 22] = [
    "fortnite",
    "fifa",
    "valorant",
    "apex",
    "warzone",
    "cod",
    "rocket",
    "league",
    "dance",
    "gym",
    "gymnastics",
    "football",
    "photo",
    "art",
    "writing",
    "spelling",
    "maths",
    "chess",
    "boxing",
    "talent",
    "quiz",
    "baking",
];

fn comp_of_a_contest(words: &[&str]) -> bool {
    words.len() >= 2
        && words[words.len() - 1] == "Comp"
        && CONTESTS.contains(&words[words.len() - 2].to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::{has, none_of};
    use crate::{check, Draft, PiiKind, Policy};

    #[test]
    fn schools() {
        // a town of several words, and a college group
        has(
            "my college is Stoke on Trent Sixth Form College and",
            PiiKind::School,
            "Stoke on Trent Sixth Form College",
        );
        has("i got into Shrewsbury Colleges Group for motor vehicle", PiiKind::School, "Shrewsbury Colleges Group");
        has("sat in Maths at Oakfield High today", PiiKind::School, "Oakfield High");
        has("my brother is at Brook Lea Primary", PiiKind::School, "Brook Lea Primary");
        has("hi i go to Kingsfold Community College, yr 10", PiiKind::School, "Kingsfold Community College");
        has("Callum from St Mary's Catholic High", PiiKind::School, "St Mary's Catholic High");
        has("got into Larkhill Academy sixth form", PiiKind::School, "Larkhill Academy");
        has("i go to oakfield high school", PiiKind::School, "oakfield high school");
        none_of("i go to college on mondays", PiiKind::School);
        none_of("at big school now", PiiKind::School);
        none_of("went to sixth form college", PiiKind::School);
        has("im going to Ysgol Glan Morfa in september", PiiKind::School, "Ysgol Glan Morfa");
        has("my teacher from Penygraig Comp wants a meeting", PiiKind::School, "Penygraig Comp");
        has("he goes Cwmtawe Comprehensive School", PiiKind::School, "Cwmtawe Comprehensive School");
        none_of("signed up for the Fortnite Comp tonight", PiiKind::School);
        has("i got into Coleg Gwent to do mechanics", PiiKind::School, "Coleg Gwent");
        has("i go st bede's and", PiiKind::School, "st bede's");
        has("its called Bishop Hooper C of E Academy", PiiKind::School, "Bishop Hooper C of E Academy");
        has("picking me up from outside Parkside Academy", PiiKind::School, "Parkside Academy");
        none_of("see u at st pauls road", PiiKind::School);
        // alternative provision and sixth forms (DfE, "Types of school")
        has("i got moved to Oakfield PRU last year", PiiKind::School, "Oakfield PRU");
        has("shes at Hillside Pupil Referral Unit now", PiiKind::School, "Hillside Pupil Referral Unit");
        has("meet me outside Westgate Learning Centre", PiiKind::School, "Westgate Learning Centre");
        has("starting Beacon Sixth Form in september", PiiKind::School, "Beacon Sixth Form");
        none_of("Sixth Form is so much better", PiiKind::School);
        // named after "my school is", "X and Y College", an institute, Welsh "Coleg" before "and"
        has("my school is St Columb's and we got a half day", PiiKind::School, "St Columb's");
        has("college is Dundee and Angus, doing hair", PiiKind::School, "Dundee and Angus");
        has("open day at Cardiff and Vale College sat", PiiKind::School, "Cardiff and Vale College");
        has("any courses at Grimsby Institute?", PiiKind::School, "Grimsby Institute");
        has("my college is Coleg Gwent and i do carpentry", PiiKind::School, "Coleg Gwent");
        none_of("my school is closed today", PiiKind::School);
        none_of("me and Tom went to the college", PiiKind::School);
        // `school's`, `school was`, `ma school`; a school that is also a street's shape; a name
        // and `Secondary`; lower case after `school is`
        has("my school's Beechwood Secondary, ring the office", PiiKind::School, "Beechwood Secondary");
        has("ma school is Sandhill View, we're doing a bake sale", PiiKind::School, "Sandhill View");
        has("my old school was Parkwood E-ACT", PiiKind::School, "Parkwood E-ACT");
        has("my school is st brendans high, the head", PiiKind::School, "st brendans high");
        has("shes year 8 at Kelvin Secondary", PiiKind::School, "Kelvin Secondary");
        none_of("my school was rubbish", PiiKind::School);
        none_of("my school's shut for snow", PiiKind::School);
        none_of("Secondary school is harder", PiiKind::School);
        // as children spell them, after `to`, and Welsh in lower case
        has("i go to st brigids primery in derry", PiiKind::School, "st brigids primery");
        has("takin it to heathfeild academy tmrw", PiiKind::School, "heathfeild academy");
        has("my new school is Glenbrook High scool", PiiKind::School, "Glenbrook High scool");
        has("shes in yr 8 at Pennfield Girls and hes at uni", PiiKind::School, "Pennfield Girls");
        has("the one who did it goes kingsmead school. monday", PiiKind::School, "kingsmead school");
        has("zoot before riverside college again", PiiKind::School, "riverside college");
        none_of("at the Spice Girls concert", PiiKind::School);
        none_of("i go school on mondays", PiiKind::School);
        none_of("after big school", PiiKind::School);
        has("i go to ysgol gynradd glan y mor in year 6", PiiKind::School, "ysgol gynradd glan y mor");
        none_of("i go to ysgol in the morning", PiiKind::School);
        has("its Ysgol Bryn Castell he'll be there", PiiKind::School, "Ysgol Bryn Castell");
        none_of("back to big school", PiiKind::School);
        none_of("i made a collage", PiiKind::School);
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
    fn schools_as_young_people_type_them() {
        // a misspelt school word (`pii/spelling.rs`)
        has("i go to St Brigets primry in derry", PiiKind::School, "St Brigets primry");
        has("new skool is Oakfield Acadamy", PiiKind::School, "Oakfield Acadamy");
        // a lower-case name and school word where a phrase begins
        has("its ellie lol, launceston college", PiiKind::School, "launceston college");
        none_of("dont see the point in going college", PiiKind::School);
        none_of("i want to move school", PiiKind::School);
        // a saint's school without the apostrophe, and with its church
        has("i go to st bedes, is this private", PiiKind::School, "st bedes");
        has("hes outside st bedes rn", PiiKind::School, "st bedes");
        has("waits outside the gates at st brendans", PiiKind::School, "st brendans");
        none_of("got confirmed at st margarets on sunday", PiiKind::School);
        none_of("my nan is in st helens", PiiKind::School);
        has("year 8 at st peters c of e", PiiKind::School, "st peters c of e");
        // a capitalised name with a lower-case school word
        has("help with my form for Tawe Valley college", PiiKind::School, "Tawe Valley college");
        // girls' schools and sixth-form colleges in lower case, Welsh `bro`, Scots `intae`
        has("year 10 at altrincham girls grammar", PiiKind::School, "altrincham girls grammar");
        has("picks her up from ashton sixth form college", PiiKind::School, "ashton sixth form college");
        has("got sent home from Northbrook sixth form lol", PiiKind::School, "Northbrook sixth form");
        none_of("got sent home from sixth form lol", PiiKind::School);
        has("ysgol gyfun bro tawe year 9 me", PiiKind::School, "ysgol gyfun bro tawe");
        has("a cannae face goin intae northfield high", PiiKind::School, "northfield high");
        has("by the gates of east coast college tmrw", PiiKind::School, "east coast college");
    }
}
