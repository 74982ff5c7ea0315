//! **full_name**: a given name (from the policy's list) followed by a family name (`Jess
//! Openshaw`, `Tilly Rose Henderson`, `tilly henderson`), two names after a title (`Mrs Helen
//! Marsden` gives `Helen Marsden`), or two names after `my name is`.

use std::borrow::Cow;

use rustc_hash::FxHashSet;

use super::{is_place_stop, Cand};
use crate::words::{word_list, Words};
use crate::PiiKind;

/// Common words that are not family names (data: `policy/words/common_words.txt`).
pub(super) static COMMON: Words = word_list!("common_words.txt");
/// Titles before a name (data: `policy/words/titles.txt`).
static TITLES: Words = word_list!("titles.txt");
/// Kinship and role words before a name (data: `policy/words/kin_words.txt`): `my grandad
/// Desmond Clarke`, `my social worker is Deborah Nwosu`.
static KIN: Words = word_list!("kin_words.txt");
/// Words after which two capitalised names are a full name even when the given name is not in
/// the list (`is called Dean Hurley`, `im Lowri Pritchard`, `named Tomasz Nowak`).
const INTRO: [&str; 5] = ["called", "named", "im", "am", "calls"];

#[derive(Debug)]
pub(super) struct Names {
    /// The policy's given names (`[pii] given_names`), lower case.
    given: FxHashSet<String>,
    /// Given names, titles and "name": the set of their word hashes, to decide cheaply
    /// whether the name scanner needs to run.
    hashes: FxHashSet<u64>,
    /// `[pii] ambiguous_given_names`, lower case.
    ambiguous: FxHashSet<String>,
    /// `[pii] not_surnames`, lower case.
    not_surnames: FxHashSet<String>,
}

impl Names {
    pub(super) fn build(given: &[String], ambiguous: &[String], not_surnames: &[String]) -> Names {
        let lower = |v: &[String]| -> FxHashSet<String> {
            v.iter().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect()
        };
        // an ambiguous given name is a given name too, one that counts only when capitalised
        // ("Mo Rahman", never "wait a mo")
        let mut given = lower(given);
        given.extend(lower(ambiguous));
        // given names, titles and "name": a set of word hashes, to decide cheaply whether the
        // name scanner needs to run
        let mut hashes: FxHashSet<u64> = given.iter().map(|w| word_hash(w.bytes())).collect();
        hashes.extend(TITLES.iter().map(|w| word_hash(w.bytes())));
        hashes.insert(word_hash("name".bytes()));
        // "is called Dean Hurley", "im Lowri Pritchard": two capitalised names after a cue
        for cue in INTRO.iter().chain(KIN.iter()) {
            hashes.insert(word_hash(cue.bytes()));
        }
        Names { given, hashes, ambiguous: lower(ambiguous), not_surnames: lower(not_surnames) }
    }

    /// Whether `word` (lower case) is one of the policy's given names.
    pub(super) fn is_given(&self, word: &str) -> bool {
        self.given.contains(word)
    }

    /// Whether the text has a given name, a title or "name" as a whole word: only then does
    /// [`Names::find`] run.
    pub(super) fn could_match(&self, bytes: &[u8]) -> bool {
        !self.hashes.is_empty() && has_name_word(&self.hashes, bytes)
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

/// Whether any whole ASCII word of the text hashes to one of `hashes`.
fn has_name_word(hashes: &FxHashSet<u64>, bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() {
            let s = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            if hashes.contains(&word_hash(bytes[s..i].iter().copied())) {
                return true;
            }
        } else {
            i += 1;
        }
    }
    false
}

/// "put my name down as Tuan Nguyen Van", "registered as …", "my name as …": a form's name.
fn named_as(ws: &[Word<'_>], i: usize) -> bool {
    i >= 2 && ws[i - 1].lower == "as" && matches!(ws[i - 2].lower.as_ref(), "down" | "name" | "registered" | "signed")
}

struct Word<'a> {
    s: usize,
    e: usize,
    w: &'a str,
    lower: Cow<'a, str>,
}

/// Words after which two capitalised words name a place, a team, a show or a game, not a person.
const SHAPE_NOT_AFTER: [&str; 26] = [
    "in",
    "at",
    "to",
    "from",
    "near",
    "on",
    "of",
    "the",
    "new",
    "watching",
    "watched",
    "watch",
    "played",
    "playing",
    "play",
    "vs",
    "support",
    "supports",
    "supporting",
    "visit",
    "visiting",
    "went",
    "love",
    "listen",
    "listening",
    "by",
];

fn is_cap(w: &str) -> bool {
    let mut cs = w.chars();
    let Some(f) = cs.next() else { return false };
    let mut rest = cs.filter(|c| c.is_alphabetic()).peekable();
    f.is_uppercase() && (rest.peek().is_none() || rest.any(|c| c.is_lowercase()))
}

fn name_words(text: &str) -> Vec<Word<'_>> {
    // about one word in five bytes of chat: room for most texts at once
    let mut v = Vec::with_capacity(text.len() / 4 + 1);
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
    // trailing apostrophes/hyphens are not part of the word, nor is a possessive `'s`
    // (`Jess Openshaw's` names `Jess Openshaw`)
    let w = text[s..e].trim_end_matches(['\'', '’', '-']);
    let w = w.strip_suffix("'s").or_else(|| w.strip_suffix("’s")).filter(|x| x.chars().count() >= 2).unwrap_or(w);
    if w.is_empty() {
        return;
    }
    v.push(Word { s, e: s + w.len(), w, lower: fold(w) });
}

/// Lower case without accents, so `Siobhán` finds `siobhan` in the list.
fn fold(w: &str) -> Cow<'_, str> {
    // most words are typed in lower case: no copy for them
    if w.bytes().all(|b| b.is_ascii_lowercase() || !b.is_ascii_alphabetic() && b.is_ascii()) {
        return Cow::Borrowed(w);
    }
    if w.is_ascii() {
        return Cow::Owned(w.to_ascii_lowercase());
    }
    let mut out = String::with_capacity(w.len());
    for c in w.chars().flat_map(char::to_lowercase) {
        unicode_normalization::char::decompose_canonical(c, |d| {
            if !unicode_normalization::char::is_combining_mark(d) {
                out.push(d);
            }
        });
    }
    Cow::Owned(out)
}

/// A word in capitals (`JESS`): names typed in capitals count when the given name is listed.
fn is_upper(w: &str) -> bool {
    w.chars().count() >= 2 && w.chars().all(|c| !c.is_alphabetic() || c.is_uppercase())
}

/// Words `a` and `b` are separated by spaces only.
fn adjacent(text: &str, a: &Word<'_>, b: &Word<'_>) -> bool {
    let gap = &text[a.e..b.s];
    !gap.is_empty() && gap.len() <= 2 && gap.chars().all(|c| c == ' ')
}

impl Names {
    /// Whether word `i` follows `my`/`his`/`her`/`our`/`their` and a kinship or role word, with
    /// at most `is`/`was`/`called` between (`my grandad Desmond Clarke`, `her social worker is
    /// Deborah Nwosu`): two capitalised words there are a full name.
    fn after_kin(&self, text: &str, ws: &[Word<'_>], i: usize) -> bool {
        let mut k = i;
        // at most one linking word, then the kinship word right before it
        if k >= 1 && matches!(ws[k - 1].lower.as_ref(), "is" | "was" | "called" | "named") {
            k -= 1;
        }
        if k < 2
            || !KIN.contains(&ws[k - 1].lower.as_ref())
            || !adjacent(text, &ws[k - 1], &ws[k])
            || (k < i && !adjacent(text, &ws[k], &ws[i]))
        {
            return false;
        }
        // a possessive within the two words before the kinship word ("my social worker", "my mum")
        // (`ma` is `my` in Scots and in the North: `ma pal jordan mcafee`)
        let owner =
            |x: &Word<'_>| matches!(x.lower.as_ref(), "my" | "ma" | "his" | "her" | "our" | "their" | "ur" | "your");
        owner(&ws[k - 2]) || (k >= 3 && owner(&ws[k - 3]))
    }

    /// Two capitalised words side by side in a message typed mostly in lower case (`Olu Adebayo
    /// in 8G is…`): young people capitalise little but names, so the pair is a full name even
    /// when the given name is not in the list, unless a word is common, a place or street word,
    /// or the pair follows a word that names a place or a show (`at`, `in`, `watching`).
    fn find_by_shape(&self, text: &str, ws: &[Word<'_>], out: &mut Vec<Cand>) {
        if ws.len() < 4 {
            return;
        }
        let lower_start = ws.iter().filter(|w| w.w.starts_with(|c: char| c.is_lowercase())).count();
        if lower_start * 2 < ws.len() {
            return;
        }
        let common = |w: &str| COMMON.contains(&w) || TITLES.contains(&w);
        let plain_cap = |w: &Word<'_>| is_cap(w.w) && !is_upper(w.w) && w.w.chars().count() >= 2;
        let ok = |w: &Word<'_>| {
            plain_cap(w) && !common(&w.lower) && !self.not_surnames.contains(&*w.lower) && !is_place_stop(w.w)
        };
        for i in 0..ws.len() - 1 {
            let (a, b) = (&ws[i], &ws[i + 1]);
            if !(ok(a) && ok(b) && adjacent(text, a, b)) {
                continue;
            }
            if i > 0 && SHAPE_NOT_AFTER.contains(&ws[i - 1].lower.as_ref()) {
                continue;
            }
            // the town after a street: "9 Ferry Lane, Kings Lynn"
            if i > 0 && self.not_surnames.contains(&*ws[i - 1].lower) && text[ws[i - 1].e..a.s].contains(',') {
                continue;
            }
            // a third capitalised word makes it a title or a place (`Love Island Games`), not a name
            if ws.get(i + 2).is_some_and(|c| adjacent(text, b, c) && plain_cap(c))
                || (i > 0 && plain_cap(&ws[i - 1]) && adjacent(text, &ws[i - 1], a))
            {
                continue;
            }
            out.push(Cand { kind: PiiKind::FullName, start: a.s, end: b.e });
        }
    }

    /// Full names in `text`: by a listed given name, a title or a cue when `listed` (the text has
    /// one, [`Names::could_match`]), and by their shape when `shape` (two capitalised words side
    /// by side). The text is split into words once for both. A policy without given names finds
    /// no names at all.
    pub(super) fn find(&self, text: &str, listed: bool, shape: bool, out: &mut Vec<Cand>) {
        if self.given.is_empty() || !(listed || shape) {
            return;
        }
        let ws = name_words(text);
        if listed {
            self.find_listed(text, &ws, out);
        }
        if shape {
            self.find_by_shape(text, &ws, out);
        }
    }

    fn find_listed(&self, text: &str, ws: &[Word<'_>], out: &mut Vec<Cand>) {
        let common = |w: &str| COMMON.contains(&w) || TITLES.contains(&w);
        let surname_ok = |w: &Word<'_>| {
            !common(&w.lower)
                && !self.not_surnames.contains(&*w.lower)
                && !is_place_stop(w.w)
                && w.w.chars().count() >= 2
        };
        let mut i = 0;
        while i < ws.len() {
            let w = &ws[i];
            // title + given + family: "Mrs Helen Marsden" -> "Helen Marsden"
            if TITLES.contains(&w.lower.as_ref()) && i + 2 < ws.len() {
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
                || (i >= 1 && matches!(ws[i - 1].lower.as_ref(), "name's" | "name’s"));
            // "called/named/im/i am" + two capitalised names
            let intro = i >= 1 && INTRO.contains(&ws[i - 1].lower.as_ref()) && adjacent(text, &ws[i - 1], w)
                || self.after_kin(text, ws, i)
                || named_as(ws, i);
            // a family name first, in capitals, as on a form: `HASSAN Abdirahman Ali`, `I am BOGDAN
            // Marian`, `my name is NGUYEN Van Minh`
            let cap = || is_cap(w.w) || (is_upper(w.w) && w.w.chars().count() >= 3);
            if intro && i + 1 < ws.len() && cap() && !common(&w.lower) && !self.not_surnames.contains(&*w.lower) {
                let nx = &ws[i + 1];
                if adjacent(text, w, nx) && is_cap(nx.w) && surname_ok(nx) && !is_place_stop(w.w) {
                    // a third capitalised name: "Abdul Rahman Qureshi"
                    let third = ws.get(i + 2).filter(|t| adjacent(text, nx, t) && is_cap(t.w) && surname_ok(t));
                    let end = third.map_or(nx.e, |t| t.e);
                    out.push(Cand { kind: PiiKind::FullName, start: w.s, end });
                    i += if third.is_some() { 3 } else { 2 };
                    continue;
                }
            }
            // a double-barrelled given name counts by its first part: "Lacey-Mae"
            let given = self.given.contains(&*w.lower)
                || w.lower.split_once('-').is_some_and(|(first, _)| first.len() >= 2 && self.given.contains(first));
            if (given || (cue && !common(&w.lower))) && i + 1 < ws.len() {
                let cap = cap();
                // an ambiguous given name in lower case counts after `my mate`, `her stepdad` …
                // (`my mate jade kershaw`), where it can only be a name; not a modal verb (`my mum
                // will email`)
                let modal = matches!(w.lower.as_ref(), "will" | "may" | "can" | "might" | "must");
                let nx = &ws[i + 1];
                // a double-barrelled family name is a family name (`kai treloar-hughes`)
                let barrelled = nx.lower.split_once('-').is_some_and(|(a, b)| {
                    a.len() >= 2 && b.len() >= 2 && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_lowercase())
                });
                let lower_ok =
                    !self.ambiguous.contains(&*w.lower) || cue || barrelled || (!modal && self.after_kin(text, ws, i));
                if adjacent(text, w, nx) && surname_ok(nx) {
                    let both_cap = (cap && is_cap(nx.w)) || (given && is_upper(w.w) && is_upper(nx.w));
                    let both_lower = w.w.chars().all(|c| !c.is_uppercase())
                        && nx.w.chars().all(|c| !c.is_uppercase())
                        && lower_ok
                        && !nx.lower.ends_with("ing")
                        && !nx.lower.ends_with("ed")
                        && !self.given.contains(&*nx.lower);
                    if both_cap || both_lower || (cue && !common(&nx.lower)) {
                        let mut end = nx.e;
                        let mut k = i + 2;
                        // a middle name: "Tilly Rose Henderson"
                        if both_cap
                            && k < ws.len()
                            && adjacent(text, nx, &ws[k])
                            && is_cap(ws[k].w)
                            && surname_ok(&ws[k])
                        {
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
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::{has, none_of};
    use crate::PiiKind;

    #[test]
    fn full_names() {
        has("letter to Mrs Helen Marsden, can u", PiiKind::FullName, "Helen Marsden");
        has("put my name down as Tuan Nguyen Van", PiiKind::FullName, "Tuan Nguyen Van");
        none_of("put my name down as well", PiiKind::FullName);
        has("put Jess Openshaw on the list", PiiKind::FullName, "Jess Openshaw");
        has("should say Tilly Rose Henderson not tilly henderson", PiiKind::FullName, "Tilly Rose Henderson");
        has("should say Tilly Rose Henderson not tilly henderson", PiiKind::FullName, "tilly henderson");
        has("Callum O'Neill from school", PiiKind::FullName, "Callum O'Neill");
        has("its megan price, i need to move", PiiKind::FullName, "megan price");
        has("my name is kacper nowak", PiiKind::FullName, "kacper nowak");
        none_of("jess said hi", PiiKind::FullName);
        none_of("told Mrs Smith", PiiKind::FullName);
        none_of("will be late", PiiKind::FullName);
        has("the man is called Dean Hurley, he", PiiKind::FullName, "Dean Hurley");
        has("im Lowri Pritchard, i had a session", PiiKind::FullName, "Lowri Pritchard");
        none_of("im Going Home Now", PiiKind::FullName);
        none_of("its called Mario Kart", PiiKind::FullName);
        has("that was Jess Openshaw's idea", PiiKind::FullName, "Jess Openshaw");
        has("ask Siobhán Kelly", PiiKind::FullName, "Siobhán Kelly");
        has("TELL JESS OPENSHAW NOW", PiiKind::FullName, "JESS OPENSHAW");
        // an ambiguous given name counts when capitalised, never in lower case
        has("ask Mo Okonkwo about it", PiiKind::FullName, "Mo Okonkwo");
        none_of("wait a mo okay", PiiKind::FullName);
        has("tell Chidinma Obi i said hi", PiiKind::FullName, "Chidinma Obi");
        // lower case: a verb or a tool after a given name is not a family name
        none_of("everyone goes quiet when jodie talks", PiiKind::FullName);
        none_of("he keeps a stanley knife in the van", PiiKind::FullName);
        none_of("told lewis id be there", PiiKind::FullName);
        has("hi its Lacey-Mae Barraclough again", PiiKind::FullName, "Lacey-Mae Barraclough");
    }

    #[test]
    fn full_names_after_kinship_and_role_words() {
        // the given name need not be listed when a kinship or role word names the person
        has("my grandad Desmond Clarke is coming", PiiKind::FullName, "Desmond Clarke");
        has("my friend Saffron Hale cut herself", PiiKind::FullName, "Saffron Hale");
        has("my social worker is Deborah Nwosu and", PiiKind::FullName, "Deborah Nwosu");
        has("her stepdad Gareth Pryce shouts", PiiKind::FullName, "Gareth Pryce");
        has("my key worker is Mohammed Ali Hussain now", PiiKind::FullName, "Mohammed Ali Hussain");
        // look-alikes: one name, lower case, no possessive, a capitalised common word
        none_of("my grandad Desmond is coming", PiiKind::FullName);
        none_of("my friend saffron hale", PiiKind::FullName);
        none_of("a friend Said Nothing", PiiKind::FullName);
        none_of("my mum Went Mad", PiiKind::FullName);
        // without a possessive, two capitalised names are still found by their shape
        has("the worker Saffron Hale", PiiKind::FullName, "Saffron Hale");
        // an ambiguous given name in lower case, after a kinship word
        has("my mate jade kershaw sez shes", PiiKind::FullName, "jade kershaw");
        none_of("my mate jade said", PiiKind::FullName);
        none_of("a jade necklace", PiiKind::FullName);
        none_of("my mum will email u", PiiKind::FullName);
    }

    #[test]
    fn full_names_by_shape_in_lower_case_text() {
        // names of any heritage, the given name not in the list
        has("Olu Adebayo in 8G is a dirty tramp", PiiKind::FullName, "Olu Adebayo");
        has("me and Hamid Rahimi got jumped after school", PiiKind::FullName, "Hamid Rahimi");
        has("this lad Tesfay Gebremedhin keeps messaging my sister", PiiKind::FullName, "Tesfay Gebremedhin");
        // places, shows, artists and brands after the words that name them; text in title case;
        // three capitalised words; a town after a street; common words
        none_of("we went to Alton Towers and it was sick", PiiKind::FullName);
        none_of("im watching Love Island tonight with my mum", PiiKind::FullName);
        none_of("that new Central Cee tune is hard", PiiKind::FullName);
        none_of("he picks her up from the Kwik Fit on the corner", PiiKind::FullName);
        none_of("Going To The Shops Later With Mum", PiiKind::FullName);
        none_of("my fave is Grand Theft Auto tbh", PiiKind::FullName);
        none_of("our flat is at 9 Ferry Lane, Kings Lynn now", PiiKind::FullName);
        none_of("My Mum said no to the party", PiiKind::FullName);
    }

    #[test]
    fn full_names_as_forms_and_friends_give_them() {
        // the family name first, in capitals
        has("HASSAN Abdirahman Ali, I am 16", PiiKind::FullName, "HASSAN Abdirahman Ali");
        has("I am BOGDAN Marian, 14", PiiKind::FullName, "BOGDAN Marian");
        has("my name is NGUYEN Van Minh", PiiKind::FullName, "NGUYEN Van Minh");
        none_of("OMG Jess is here", PiiKind::FullName);
        // a double-barrelled family name after an ambiguous given name
        has("its kai treloar-hughes btw", PiiKind::FullName, "kai treloar-hughes");
        // `ma pal` in Scots
        has("ma pal jordan mcafee says", PiiKind::FullName, "jordan mcafee");
        none_of("i cant see chloe anymore", PiiKind::FullName);
    }
}
