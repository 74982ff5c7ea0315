//! Property tests for the normaliser and for `check`, which is built on it (proptest, under
//! plain `cargo test`; they replace a hand-rolled random test). The normaliser never panics on
//! any Unicode; its output keeps its own invariants (padding, single spaces, one run length per
//! byte, offsets on the original's char boundaries, bounded length); it is idempotent on its
//! own output; and every obfuscation the module claims to undo (case, repeated letters,
//! invisible characters, Cyrillic and Greek look-alikes, leet digits and symbols, accents,
//! compatibility forms such as 𝐛𝐨𝐥𝐝 and ｆｕｌｌｗｉｄｔｈ) gives the plain word's form. `check`
//! never panics, is deterministic, reports spans that are slices of the text, and gives a
//! disguised or spaced-out risk phrase the severity of the plain phrase.

use proptest::prelude::*;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use super::{normalise, ALIASES};
use crate::{check, Draft, Policy, Severity};

/// Words the risk rules are written in, plus ordinary ones (letters only, no aliases).
const WORDS: &[&str] = &[
    "kill",
    "killing",
    "myself",
    "suicide",
    "harm",
    "self",
    "die",
    "cut",
    "cutting",
    "hurt",
    "overdose",
    "pills",
    "rope",
    "jump",
    "bridge",
    "hang",
    "knife",
    "abuse",
    "touched",
    "secret",
    "hate",
    "scared",
    "home",
    "school",
    "nobody",
    "alone",
    "help",
    "weed",
    "wed",
    "sleep",
    "worthless",
];

/// Cyrillic and Greek look-alikes of Latin letters, lower and upper case.
fn look_alikes(c: char) -> &'static [char] {
    match c {
        'a' => &['а', 'А', 'α'],
        'b' => &['в', 'В', 'β'],
        'c' => &['с', 'С'],
        'd' => &['ԁ'],
        'e' => &['е', 'Е', 'є', 'ε'],
        'h' => &['н', 'Н'],
        'i' => &['і', 'І', 'ι'],
        'j' => &['ј'],
        'k' => &['к', 'К', 'κ'],
        'l' => &['ӏ'],
        'm' => &['м', 'М'],
        'o' => &['о', 'О', 'ο'],
        'p' => &['р', 'Р', 'ρ'],
        's' => &['ѕ', 'Ѕ'],
        't' => &['т', 'Т', 'τ'],
        'u' => &['υ'],
        'v' => &['ν'],
        'x' => &['х', 'Х', 'χ'],
        'y' => &['у', 'У'],
        _ => &[],
    }
}

const INVISIBLE: &[char] = &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{FE0F}'];
const ACCENTS: &[char] = &['\u{0301}', '\u{0300}', '\u{0308}', '\u{0327}', '\u{0303}', '\u{FE20}'];

fn leet_digit(c: char) -> Option<char> {
    Some(match c {
        'o' => '0',
        'i' => '1',
        'e' => '3',
        'a' => '4',
        's' => '5',
        't' => '7',
        _ => return None,
    })
}

fn leet_symbol(c: char) -> Option<char> {
    Some(match c {
        'a' => '@',
        's' => '$',
        'i' => '!',
        _ => return None,
    })
}

/// How one letter is disguised.
#[derive(Debug, Clone, Copy)]
enum Disguise {
    Plain,
    Upper,
    LookAlike(usize),
    /// 𝐛𝐨𝐥𝐝 (mathematical bold) letters.
    Bold,
    /// ｆｕｌｌｗｉｄｔｈ letters.
    Fullwidth,
    /// A digit (`k1ll`); never the first letter, so `1s` is not read as a number with a unit.
    LeetDigit,
    /// `@ $ !` inside a word only (at its edges they are punctuation).
    LeetSymbol,
}

/// One letter's disguise: how it is written, how often, with accents and invisible characters.
#[derive(Debug, Clone)]
struct Letter {
    disguise: Disguise,
    repeat: usize,
    accent: Option<usize>,
    invisible: Option<usize>,
}

fn letter() -> impl Strategy<Value = Letter> {
    let disguise = prop_oneof![
        3 => Just(Disguise::Plain),
        1 => Just(Disguise::Upper),
        2 => (0usize..4).prop_map(Disguise::LookAlike),
        1 => Just(Disguise::Bold),
        1 => Just(Disguise::Fullwidth),
        1 => Just(Disguise::LeetDigit),
        1 => Just(Disguise::LeetSymbol),
    ];
    (disguise, 1usize..5, proptest::option::of(0usize..ACCENTS.len()), proptest::option::of(0usize..INVISIBLE.len()))
        .prop_map(|(disguise, repeat, accent, invisible)| Letter { disguise, repeat, accent, invisible })
}

/// Writes `word` with the disguises (one per letter, cycled). Falls back to the plain letter
/// where a disguise does not apply (no look-alike, a leet digit first, a symbol at an edge,
/// or a leet digit that would leave the word without letters).
fn disguise(word: &str, letters: &[Letter]) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut letters_left = 0;
    for (i, &c) in chars.iter().enumerate() {
        let l = &letters[i % letters.len()];
        let last = i + 1 == chars.len();
        let written: char = match l.disguise {
            Disguise::Plain => c,
            Disguise::Upper => c.to_ascii_uppercase(),
            Disguise::LookAlike(k) => {
                let options = look_alikes(c);
                if options.is_empty() {
                    c
                } else {
                    options[k % options.len()]
                }
            }
            Disguise::Bold => char::from_u32(0x1D41A + (c as u32 - 'a' as u32)).unwrap_or(c),
            Disguise::Fullwidth => char::from_u32(0xFF41 + (c as u32 - 'a' as u32)).unwrap_or(c),
            // Keep at least one letter: a word of digits is a number.
            Disguise::LeetDigit if i > 0 && (letters_left > 0 || !last) => leet_digit(c).unwrap_or(c),
            Disguise::LeetSymbol if i > 0 && !last => leet_symbol(c).unwrap_or(c),
            Disguise::LeetDigit | Disguise::LeetSymbol => c,
        };
        if written.is_alphabetic() {
            letters_left += 1;
        }
        for _ in 0..l.repeat {
            out.push(written);
            if let Some(a) = l.accent {
                if written.is_alphabetic() {
                    out.push(ACCENTS[a]);
                }
            }
        }
        if let Some(z) = l.invisible {
            if !last {
                out.push(INVISIBLE[z]);
            }
        }
    }
    out
}

fn nfkd_len(s: &str) -> usize {
    let mut n = 0;
    for c in s.chars() {
        decompose_compatible(c, |d| {
            if !is_combining_mark(d) {
                n += d.to_lowercase().count();
            }
        });
    }
    n
}

/// Text built from the characters the normaliser treats specially, mixed with anything.
fn tricky_text() -> impl Strategy<Value = String> {
    let special = prop_oneof![
        Just('a'),
        Just('k'),
        Just('1'),
        Just('3'),
        Just('0'),
        Just('@'),
        Just('$'),
        Just('!'),
        Just('*'),
        Just('\''),
        Just('\u{2019}'),
        Just(' '),
        Just('\n'),
        Just('.'),
        Just(','),
        Just('?'),
        Just('\u{200B}'),
        Just('\u{FE0F}'),
        Just('\u{0301}'),
        Just('і'),
        Just('К'),
        Just('ε'),
        Just('𝐤'),
        Just('ｋ'),
        Just('🔪'),
        Just('💊'),
        Just('£'),
        Just('ß'),
        Just('İ'),
        Just('ﷺ'),
        Just('ǅ'),
        Just('\u{FE20}'),
        Just('\u{20E3}'),
        any::<char>(),
    ];
    proptest::collection::vec(special, 0..120).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any text: no panic, and the output keeps its shape.
    #[test]
    fn output_is_well_formed(text in prop_oneof![any::<String>(), tricky_text()]) {
        let n = normalise(&text);
        prop_assert!(n.text.starts_with(' ') && n.text.ends_with(' '), "{:?}", n.text);
        prop_assert!(!n.text.contains("  ") || n.text == " ", "double space in {:?}", n.text);
        prop_assert_eq!(n.runs.len(), n.text.len());
        prop_assert_eq!(n.tokens.len(), n.text.split_whitespace().count());
        prop_assert!(!n.text.chars().any(|c| c.is_ascii_uppercase() || is_combining_mark(c) || c == '\u{200B}'), "{:?}", n.text);
        // One character can decompose into several words (U+FDFA is a phrase), so tokens may
        // share a source range, but never go backwards.
        let mut last_start = 0;
        for t in &n.tokens {
            prop_assert!(t.orig_start <= t.orig_end && (t.orig_end as usize) <= text.len());
            prop_assert!(text.is_char_boundary(t.orig_start as usize) && text.is_char_boundary(t.orig_end as usize));
            prop_assert!(t.orig_start >= last_start, "tokens go backwards in {:?}", text);
            last_start = t.orig_start;
            prop_assert!(t.raw_start <= t.raw_end && (t.raw_end as usize) <= n.raw.len());
            prop_assert!(n.raw.is_char_boundary(t.raw_start as usize) && n.raw.is_char_boundary(t.raw_end as usize));
            prop_assert_eq!(&n.text[t.norm_start as usize - 1..t.norm_start as usize], " ");
        }
    }

    /// Length is bounded by the compatibility decomposition of the input: no more words than
    /// its characters, and no more text than it (at most tripled by a text-speak alias, plus one
    /// space per word).
    #[test]
    fn length_is_bounded(text in prop_oneof![any::<String>(), tricky_text()]) {
        let n = normalise(&text);
        prop_assert!(n.tokens.len() <= nfkd_len(&text));
        let ratio = ALIASES.iter().map(|(k, v)| v.len().div_ceil(k.len())).max().unwrap_or(1);
        let bound = 1 + (ratio + 1) * nfkd_len(&text);
        prop_assert!(n.text.chars().count() <= bound, "{} chars from {:?} (bound {bound})", n.text.chars().count(), text);
    }

    /// The normalised text is a fixed point: normalising it again changes nothing, so nothing
    /// the normaliser produces can itself be a disguise.
    #[test]
    fn normalising_is_idempotent(text in prop_oneof![any::<String>(), tricky_text()]) {
        let once = normalise(&text).text;
        let twice = normalise(once.trim()).text;
        prop_assert_eq!(&twice, &once, "from {:?}", text);
    }

    /// Every disguise the normaliser claims to undo gives the plain word's form.
    #[test]
    fn disguised_words_normalise_like_the_plain_word(
        word in proptest::sample::select(WORDS),
        letters in proptest::collection::vec(letter(), 1..8),
    ) {
        let disguised = disguise(word, &letters);
        let plain = normalise(word).text;
        let got = normalise(&disguised).text;
        prop_assert_eq!(&got, &plain, "{:?} (from {:?})", disguised, letters);
    }

    /// Text-speak with letters repeated for emphasis (`h888`, `bouuut`) is the same word.
    #[test]
    fn repeated_letters_keep_text_speak(alias in proptest::sample::select(ALIASES.as_slice()), repeats in proptest::collection::vec(1usize..5, 8)) {
        let (key, _) = alias;
        let stretched: String = key.chars().enumerate().flat_map(|(i, c)| std::iter::repeat_n(c, repeats[i % repeats.len()])).collect();
        prop_assert_eq!(normalise(&stretched).text, normalise(key).text, "{:?}", stretched);
    }

    /// The same for a phrase: each word disguised its own way, the spaces between them kept.
    #[test]
    fn disguised_phrases_normalise_like_the_plain_phrase(
        words in proptest::collection::vec(proptest::sample::select(WORDS), 1..6),
        letters in proptest::collection::vec(letter(), 1..12),
    ) {
        let plain = words.join(" ");
        let disguised: Vec<String> = words.iter().enumerate().map(|(i, w)| disguise(w, &letters[i % letters.len()..])).collect();
        let disguised = disguised.join(" ");
        prop_assert_eq!(normalise(&disguised).text, normalise(&plain).text, "{:?}", disguised);
    }
}

/// What the property tests found, pinned down as plain examples.
#[test]
fn found_by_the_property_tests() {
    let same = |a: &str, b: &str| assert_eq!(normalise(a).text, normalise(b).text, "{a:?} vs {b:?}");
    // Repeated letters hid the dropped g of -ing words.
    same("killinggg", "killing");
    same("cuttiinnngg", "cutting");
    // A leet symbol made a word leet only on a second pass.
    same("1@11", "iaii");
    // Combining marks above U+2190 split words.
    same("k\u{FE20}ill", "kill");
    // Text-speak with a repeated letter escaped its alias.
    same("h888", "hate");
    same("bouuut", "about");
}

/// The disguises used above really are disguises (each changes the text), so the property
/// tests cannot pass by disguising nothing.
#[test]
fn the_disguises_change_the_text() {
    let one = |d| vec![Letter { disguise: d, repeat: 1, accent: None, invisible: None }];
    for d in [
        Disguise::Upper,
        Disguise::LookAlike(0),
        Disguise::Bold,
        Disguise::Fullwidth,
        Disguise::LeetDigit,
        Disguise::LeetSymbol,
    ] {
        assert_ne!(disguise("kills", &one(d)), "kills", "{d:?}");
    }
    let extra = vec![Letter { disguise: Disguise::Plain, repeat: 3, accent: Some(0), invisible: Some(0) }];
    assert_eq!(disguise("ab", &extra).chars().count(), 2 * 3 * 2 + 1);
}

// ---------------------------------------------------------------------------------------------
// `check`
// ---------------------------------------------------------------------------------------------

/// Risk phrases of the built-in policy, each flagged at least `high` as written.
const PHRASES: &[&str] = &[
    "i want to kill myself",
    "im going to kill myself tonight",
    "i want to die",
    "i cut myself",
    "he touched me",
    "i have a knife",
    "i took all the pills",
    "i want to hurt myself",
    "nobody would care if i was dead",
    "he said to keep it a secret",
    "send me nudes",
];

fn policy() -> &'static Policy {
    static P: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    P.get_or_init(Policy::builtin)
}

/// Letters repeated once, or three times and more: exactly twice is a different word on
/// purpose (`weed` is not `wed`), so it is left out here.
fn letter_for_check() -> impl Strategy<Value = Letter> {
    (letter(), prop_oneof![Just(1usize), 3usize..6]).prop_map(|(mut l, r)| {
        l.repeat = r;
        l
    })
}

#[test]
fn the_risk_phrases_are_flagged_as_written() {
    for p in PHRASES {
        let v = check(policy(), &Draft::new(p));
        assert!(v.severity >= Severity::High, "{p}: {:?}", v.severity);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any text: no panic; the same verdict every time and from a second copy of the policy;
    /// every flag and every piece of personal information is the slice of the text it names.
    #[test]
    fn check_never_panics_and_is_deterministic(text in prop_oneof![any::<String>(), tricky_text(), risky_text()]) {
        let v = check(policy(), &Draft::new(&text));
        prop_assert_eq!(&check(policy(), &Draft::new(&text)), &v);
        prop_assert_eq!(&check(&Policy::builtin(), &Draft::new(&text)), &v);
        for f in &v.flags {
            prop_assert!(f.start <= f.end && text.is_char_boundary(f.start) && text.is_char_boundary(f.end), "{:?}", text);
            prop_assert_eq!(&text[f.start..f.end], f.matched.as_str());
        }
        for x in &v.pii {
            prop_assert!(x.start < x.end && text.is_char_boundary(x.start) && text.is_char_boundary(x.end), "{:?}", text);
            prop_assert_eq!(&text[x.start..x.end], x.text.as_str());
        }
        prop_assert_eq!(v.flagged(), v.severity != Severity::None);
    }

    /// A risk phrase written in disguise is as serious as the plain phrase.
    #[test]
    fn disguised_risk_phrases_keep_their_severity(
        phrase in proptest::sample::select(PHRASES),
        letters in proptest::collection::vec(letter_for_check(), 1..12),
    ) {
        let words: Vec<&str> = phrase.split(' ').collect();
        let disguised: Vec<String> = words.iter().enumerate().map(|(i, w)| disguise(w, &letters[i % letters.len()..])).collect();
        let disguised = disguised.join(" ");
        let plain = check(policy(), &Draft::new(phrase)).severity;
        let got = check(policy(), &Draft::new(&disguised)).severity;
        prop_assert_eq!(got, plain, "{:?}", disguised);
    }

    /// Spaced out (`m y s e l f`, `t o o k`): one word of the phrase, letter by letter. Words
    /// of three letters or more (shorter ones are matched only as a whole spaced-out word, and
    /// two letters are too few to tell a spelt-out word from letters).
    #[test]
    fn spaced_out_risk_phrases_keep_their_severity(phrase in proptest::sample::select(PHRASES), pick in any::<prop::sample::Index>()) {
        let words: Vec<&str> = phrase.split(' ').collect();
        let long: Vec<usize> = (0..words.len()).filter(|&i| words[i].len() >= 3).collect();
        prop_assume!(!long.is_empty());
        let target = long[pick.index(long.len())];
        let spaced: Vec<String> = words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == target { w.chars().map(String::from).collect::<Vec<_>>().join(" ") } else { (*w).to_owned() })
            .collect();
        let spaced = spaced.join(" ");
        let plain = check(policy(), &Draft::new(phrase)).severity;
        prop_assert_eq!(check(policy(), &Draft::new(&spaced)).severity, plain, "{:?}", spaced);
    }
}

/// Risk phrases and personal information cut up and mixed with noise (what the hand-rolled
/// test used to generate).
fn risky_text() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789 .,!?'@$*-_()+:;\n\t\u{200b}\u{fe0f}éüßкілл🔪💊❄🩹😂𝐤𝐢\u{301}£€ 07700 kill myself at gmail dot com"
        .chars()
        .collect();
    proptest::collection::vec(proptest::sample::select(alphabet), 0..80).prop_map(|v| v.into_iter().collect())
}
