//! Text normalisation for risk matching.
//!
//! The pipeline turns the way teenagers type into a canonical word stream while remembering, for
//! every word, where it came from in the original text (byte offsets on char boundaries):
//!
//! 1. **fold** each char: ASCII lowercase fast path; otherwise drop invisible chars (zero-width
//!    joiners, variation selectors, skin tones), map Cyrillic/Greek look-alikes to Latin, map curly
//!    apostrophes, keep emoji and symbols as they are, and for letters apply compatibility
//!    decomposition (NFKD), drop combining marks and lowercase (`𝐊𝐈𝐋𝐋` → `kill`, `kíll` → `kill`).
//! 2. **tokenise** into words: letters and digits, with leet symbols (`@ $ ! *`) kept when they sit
//!    inside a word (`h@rm`, `sh!t`, `f*ck`) and apostrophes dropped inside words (`don't` → `dont`).
//!    Each emoji is a word of its own. Clause punctuation (`. , ? ! ; :` and new lines) is remembered
//!    as a boundary before the next word (used to scope negation).
//! 3. **leet**: in words that contain letters and only leet digits (0 1 3 4 5 7), digits map to
//!    letters (`k1ll` → `kill`, `s3lf` → `self`); ordinals and times (`2am`, `18th`) are left alone.
//! 4. **squeeze** repeated letters to one letter, remembering the run length (`sooooo` → `so`×5). The
//!    matcher compares run lengths so `weed` and `wed` stay different while `killlll` still matches
//!    `kill`.
//!
//! The matching text is `" w1 w2 w3 "` (single spaces, padded) so that a phrase `" kill myself "`
//! only matches whole words.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use crate::words::{word_list, word_pairs, Pairs, Words};

/// One word of the normalised stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    /// Start of the squeezed word inside [`Normalised::text`].
    pub norm_start: u32,
    /// Byte range of the word (after leet mapping, before squeezing) inside [`Normalised::raw`].
    pub raw_start: u32,
    pub raw_end: u32,
    /// Byte range of the word in the original text (char boundaries).
    pub orig_start: u32,
    pub orig_end: u32,
    /// A clause boundary (`.`, `,`, `?`, `!`, `;`, `:`, new line) sits between the previous word and this one.
    pub clause_before: bool,
}

impl Token {
    pub fn single_letter(&self) -> bool {
        self.raw_end - self.raw_start == 1
    }
}

/// The normalised form of a text.
#[derive(Debug, Default)]
pub(crate) struct Normalised {
    /// `" w1 w2 … "`: squeezed words joined by single spaces, padded with one space on each side.
    pub text: String,
    /// Run length of each byte of `text` (1 for spaces, digits and non-ASCII bytes).
    pub runs: Vec<u8>,
    /// Words after leet mapping but before squeezing, concatenated without separators.
    pub raw: String,
    pub tokens: Vec<Token>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    Leet,
    Apos,
    Space,
    Newline,
    Clause,
    Emoji,
    Other,
}

#[derive(Clone, Copy)]
struct FChar {
    c: char,
    s: u32,
    e: u32,
}

fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x200B..=0x200F | 0x2060..=0x2064 | 0xFE00..=0xFE0F | 0xFEFF
        | 0x1F3FB..=0x1F3FF | 0xE0000..=0xE007F | 0x180E)
}

fn homoglyph(c: char) -> Option<char> {
    Some(match c {
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' | 'є' => 'e',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'ӏ' => 'l',
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'ι' => 'i',
        'κ' => 'k',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'ν' => 'v',
        'χ' => 'x',
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{00B4}' | '\u{2032}' => '\'',
        '\u{201C}' | '\u{201D}' => '"',
        '\u{2013}' | '\u{2014}' | '\u{2212}' => '-',
        '\u{2026}' => '.',
        _ => return None,
    })
}

fn fold_into(text: &str, out: &mut Vec<FChar>) {
    if text.is_ascii() {
        out.extend(text.bytes().enumerate().map(|(i, b)| FChar {
            c: b.to_ascii_lowercase() as char,
            s: i as u32,
            e: i as u32 + 1,
        }));
        return;
    }
    for (i, ch) in text.char_indices() {
        let s = i as u32;
        let e = (i + ch.len_utf8()) as u32;
        if ch.is_ascii() {
            out.push(FChar { c: ch.to_ascii_lowercase(), s, e });
            continue;
        }
        // Combining marks go however high they are: those at U+FE20 and above used to be kept
        // as symbols and split words (`k︠ill`), found by the property tests.
        if is_invisible(ch) || is_combining_mark(ch) {
            continue;
        }
        let lower = ch.to_lowercase().next().unwrap_or(ch);
        if let Some(m) = homoglyph(lower) {
            out.push(FChar { c: m, s, e });
            continue;
        }
        if ch.is_whitespace() {
            out.push(FChar { c: ' ', s, e });
            continue;
        }
        if !ch.is_alphanumeric() && (ch as u32) >= 0x2190 {
            // emoji, pictographs and other symbols: keep as they are
            out.push(FChar { c: ch, s, e });
            continue;
        }
        decompose_compatible(ch, |d| {
            if !is_combining_mark(d) {
                for l in d.to_lowercase() {
                    let l = homoglyph(l).unwrap_or(l);
                    out.push(FChar { c: l, s, e });
                }
            }
        });
    }
}

/// Classes of the ASCII chars, for the common case.
const ASCII_CLASS: [Class; 128] = {
    let mut t = [Class::Other; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = match b {
            b'a'..=b'z' | b'0'..=b'9' => Class::Word,
            b'@' | b'$' | b'!' | b'*' => Class::Leet,
            b'\'' => Class::Apos,
            b'\n' | b'\r' => Class::Newline,
            b' ' | b'\t' => Class::Space,
            b'.' | b',' | b'?' | b';' | b':' => Class::Clause,
            _ => Class::Other,
        };
        i += 1;
    }
    t
};

#[inline]
fn class(c: char) -> Class {
    if (c as u32) < 128 {
        return ASCII_CLASS[c as usize];
    }
    class_slow(c)
}

fn class_slow(c: char) -> Class {
    if c.is_ascii() {
        match c {
            'a'..='z' | '0'..='9' => Class::Word,
            '@' | '$' | '!' | '*' => Class::Leet,
            '\'' => Class::Apos,
            '\n' | '\r' => Class::Newline,
            ' ' | '\t' => Class::Space,
            '.' | ',' | '?' | ';' | ':' => Class::Clause,
            _ => Class::Other,
        }
    } else if c.is_alphanumeric() {
        Class::Word
    } else if matches!(c, '£' | '€') {
        // currency is a word of its own ("£50" -> "£ 50"), like an emoji
        Class::Emoji
    } else if c.is_whitespace() {
        Class::Space
    } else if (c as u32) >= 0x2190 {
        Class::Emoji
    } else {
        Class::Other
    }
}

/// A leet digit read as a letter (`3` → `e`); other chars unchanged.
pub(crate) fn leet_digit(c: char) -> char {
    if c.is_ascii_digit() {
        leet(c)
    } else {
        c
    }
}

fn leet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '@' => 'a',
        '$' => 's',
        '!' => 'i',
        other => other,
    }
}

/// Units and ordinal endings after a number (`2am`, `18th`): data, `policy/words/ordinal_suffixes.txt`.
static ORDINAL_SUFFIXES: Words = word_list!("ordinal_suffixes.txt");

/// Whether digits of this word should be read as letters (`k1ll`), i.e. the word has ASCII letters,
/// all its digits are leet digits, and it is not a number with a unit (`2am`, `18th`).
fn word_is_leet(chars: &[char]) -> bool {
    let mut has_letter = false;
    let mut has_digit = false;
    for &c in chars {
        // `@ $ !` inside a word are letters too (`1@11` is read as `iaii`, as its output would
        // be on a second pass; found by the property tests).
        if c.is_ascii_lowercase() || matches!(c, '@' | '$' | '!') {
            has_letter = true;
        } else if c.is_ascii_digit() {
            has_digit = true;
            if !matches!(c, '0' | '1' | '3' | '4' | '5' | '7') {
                return false;
            }
        }
    }
    if !has_letter || !has_digit {
        return false;
    }
    // number followed by a unit / ordinal suffix
    let nd = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    if nd > 0 {
        let rest: String = chars[nd..].iter().collect();
        if ORDINAL_SUFFIXES.contains(&rest.as_str()) {
            return false;
        }
    }
    true
}

/// Normalise a text (see the module docs).
pub(crate) fn normalise(text: &str) -> Normalised {
    let mut out = Normalised::default();
    normalise_into(text, &mut Scratch::default(), &mut out);
    out
}

/// Reusable buffers for [`normalise_into`], so that checking a message does not allocate them anew.
#[derive(Default)]
pub(crate) struct Scratch {
    f: Vec<FChar>,
    word: Vec<char>,
}

/// [`normalise`] into reused buffers (`out` is cleared first).
pub(crate) fn normalise_into(text: &str, scratch: &mut Scratch, out: &mut Normalised) {
    let Scratch { f, word } = scratch;
    f.clear();
    word.clear();
    out.text.clear();
    out.runs.clear();
    out.raw.clear();
    out.tokens.clear();
    fold_into(text, f);
    let n = f.len();
    out.text.push(' ');
    out.runs.push(1);
    let mut clause = false;
    let mut i = 0;
    while i < n {
        let c = f[i].c;
        match class(c) {
            Class::Word | Class::Leet => {
                // a leading run of leet symbols starts a word only when a letter follows
                if class(c) == Class::Leet {
                    let mut k = i;
                    while k < n && class(f[k].c) == Class::Leet {
                        k += 1;
                    }
                    if !(k < n && f[k].c.is_alphabetic()) {
                        if c == '!' {
                            clause = true;
                        }
                        i = k;
                        continue;
                    }
                }
                word.clear();
                let start = i;
                let mut j = i;
                while j < n {
                    match class(f[j].c) {
                        Class::Word => {
                            word.push(f[j].c);
                            j += 1;
                        }
                        Class::Leet => {
                            let mut k = j;
                            while k < n && class(f[k].c) == Class::Leet {
                                k += 1;
                            }
                            if k < n && class(f[k].c) == Class::Word {
                                for x in &f[j..k] {
                                    word.push(x.c);
                                }
                                j = k;
                            } else {
                                // a trailing `$` after letters is an `s` ("ky$")
                                if f[j..k].iter().all(|x| x.c == '$') && word.iter().any(|c| c.is_alphabetic()) {
                                    for x in &f[j..k] {
                                        word.push(x.c);
                                    }
                                    j = k;
                                }
                                break;
                            }
                        }
                        Class::Apos if j + 1 < n && f[j + 1].c.is_alphabetic() && !word.is_empty() => {
                            j += 1;
                        }
                        _ => break,
                    }
                }
                push_word(out, word, f[start].s, f[j - 1].e, clause);
                clause = false;
                i = j;
            }
            Class::Emoji => {
                word.clear();
                word.push(c);
                push_word(out, word, f[i].s, f[i].e, clause);
                clause = false;
                i += 1;
            }
            Class::Clause | Class::Newline => {
                clause = true;
                i += 1;
            }
            _ => i += 1,
        }
    }
}

/// Text-speak words with one meaning, rewritten before matching (`h8` → `hate`, `wiv` → `with`,
/// `2nite` → `tonight`). Sorted by key. Phrases go through the same rewriting, so writing either
/// form in the policy is fine. Data: `policy/words/aliases.txt`.
static ALIASES: Pairs = word_pairs!("aliases.txt");

/// Up to 8 ASCII bytes packed into a number (0 for longer or non-ASCII words).
fn pack(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut k: u64 = 0;
    for (i, b) in bytes.enumerate() {
        if i >= 8 || !b.is_ascii() || b == 0 {
            return 0;
        }
        k = (k << 8) | u64::from(b);
    }
    k
}

/// Repeated letters squeezed to one (`h888` is `h8`, `bouuut` is `bout`).
fn squeezed(bytes: impl Iterator<Item = u8>) -> impl Iterator<Item = u8> {
    let mut prev = None;
    bytes.filter(move |b| {
        let repeat = b.is_ascii_lowercase() && prev == Some(*b) || b.is_ascii_digit() && prev == Some(*b);
        prev = Some(*b);
        !repeat
    })
}

/// Whether a word (any case) is one of the text-speak words of `policy/words/aliases.txt`
/// (`every1`, `2nite`, `l8r`).
pub(crate) fn is_text_speak(word: &str) -> bool {
    ALIASES.iter().any(|(k, _)| k.eq_ignore_ascii_case(word))
}

fn alias(word: &[char]) -> Option<&'static str> {
    static KEYS: std::sync::OnceLock<Vec<(u64, &'static str)>> = std::sync::OnceLock::new();
    static SQUEEZED: std::sync::OnceLock<Vec<(u64, &'static str)>> = std::sync::OnceLock::new();
    if word.len() < 2 {
        return None;
    }
    let ascii = || word.iter().map(|c| if c.is_ascii() { *c as u8 } else { 0 });
    let table = |squeeze: bool| {
        let mut v: Vec<(u64, &'static str)> = ALIASES
            .iter()
            .map(|(k, v)| (if squeeze { pack(squeezed(k.bytes())) } else { pack(k.bytes()) }, *v))
            .collect();
        v.sort_unstable();
        v
    };
    let find =
        |keys: &[(u64, &'static str)], key: u64| keys.binary_search_by(|(k, _)| k.cmp(&key)).ok().map(|i| keys[i].1);
    let exact = if word.len() <= 8 { pack(ascii()) } else { 0 };
    if exact != 0 {
        if let Some(a) = find(KEYS.get_or_init(|| table(false)), exact) {
            return Some(a);
        }
    }
    // The same word with letters repeated for emphasis (`h888`, `bouuuut`): the property tests
    // found these escaped the alias, and came out of a second pass as the alias.
    let key = pack(squeezed(ascii()));
    if key == 0 || key == exact {
        return None;
    }
    find(SQUEEZED.get_or_init(|| table(true)), key)
}

fn push_word(out: &mut Normalised, word: &[char], orig_start: u32, orig_end: u32, clause_before: bool) {
    let raw_start = out.raw.len() as u32;
    let norm_start = out.text.len() as u32;
    let mut prev: Option<char> = None;
    // one pass: the rewritten char goes to `raw`, and squeezed to `text` with its run length
    let mut emit = |c: char, out: &mut Normalised| {
        out.raw.push(c);
        if c.is_ascii_lowercase() && prev == Some(c) {
            if let Some(r) = out.runs.last_mut() {
                *r = r.saturating_add(1);
            }
            return;
        }
        out.text.push(c);
        for _ in 0..c.len_utf8() {
            out.runs.push(1);
        }
        prev = Some(c);
    };
    match alias(word) {
        Some(a) => a.chars().for_each(|c| emit(c, out)),
        None => {
            let is_leet = word_is_leet(word);
            let undo = |c0: char| {
                if c0 == '*' {
                    '*'
                } else if is_leet || !c0.is_ascii_digit() {
                    leet(c0)
                } else {
                    c0
                }
            };
            if word.iter().all(|&c| undo(c) == c) {
                word.iter().for_each(|&c| emit(c, out));
            } else {
                // Undoing the disguise can make an alias ("p!x" is "pix", so "pics"): look
                // again, or a second pass would rewrite the output (the property tests found
                // this). Only disguised words get here, so the buffer is rare.
                let plain: Vec<char> = word.iter().map(|&c| undo(c)).collect();
                match alias(&plain) {
                    Some(a) => a.chars().for_each(|c| emit(c, out)),
                    None => plain.iter().for_each(|&c| emit(c, out)),
                }
            }
        }
    }
    // dropped g: "killing" and "killin" are the same word (both sides are rewritten). Judged on
    // the squeezed word, so that "killinggg" and "killiinnng" are too (the property tests found
    // that repeated letters slipped past a check on the raw word). The final `g` follows an
    // `n`, so it is one char of `text` (with its run length), and one or more of `raw`.
    let w = &out.text[norm_start as usize..];
    if w.len() >= 5 && w.ends_with("ing") && w != "thing" {
        out.text.pop();
        out.runs.pop();
        while out.raw.len() > raw_start as usize && out.raw.ends_with('g') {
            out.raw.pop();
        }
    }
    let raw_end = out.raw.len() as u32;
    out.text.push(' ');
    out.runs.push(1);
    out.tokens.push(Token { norm_start, raw_start, raw_end, orig_start, orig_end, clause_before });
}

/// Squeeze a string the way [`normalise`] squeezes words (used for the space-less evasion pass).
pub(crate) fn squeeze_into(s: &str, text: &mut String, runs: &mut Vec<u8>) {
    let mut prev: Option<char> = None;
    for c in s.chars() {
        if c.is_ascii_lowercase() && prev == Some(c) {
            if let Some(r) = runs.last_mut() {
                *r = r.saturating_add(1);
            }
            continue;
        }
        text.push(c);
        for _ in 0..c.len_utf8() {
            runs.push(1);
        }
        prev = Some(c);
    }
}

/// Whether a text run of length `t` satisfies a pattern run of length `p`.
#[inline]
pub(crate) fn run_ok(t: u8, p: u8) -> bool {
    t == p || t >= 3 || (p >= 2 && t >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> String {
        normalise(s).text
    }

    #[test]
    fn lowercases_and_squeezes() {
        assert_eq!(words("SOOOO Sad"), " so sad ");
        let n = normalise("killlll");
        assert_eq!(n.text, " kil ");
        assert_eq!(&n.runs[1..4], &[1, 1, 5]);
    }

    #[test]
    fn leet_inside_words_only() {
        assert_eq!(words("k1ll mys3lf"), " kil myself ");
        assert_eq!(words("i h8 it 2nite wiv u"), " i hate it tonight with u ");
        assert_eq!(words("thinkin bout endin it"), " thinkin about endin it ");
        assert_eq!(words("thinking about ending it"), " thinkin about endin it ");
        assert_eq!(words("ky$"), " kys ");
        assert_eq!(words("self h@rm"), " self harm ");
        assert_eq!(words("sh!t"), " shit ");
        assert_eq!(words("at 2am on the 18th"), " at 2am on the 18th ");
        assert_eq!(words("07700 900 412"), " 07700 900 412 ");
    }

    #[test]
    fn aliases_are_sorted() {
        assert!(ALIASES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn a_disguised_alias_is_the_alias() {
        assert_eq!(words("P!X"), " pics ");
        assert_eq!(words("pix"), " pics ");
        assert_eq!(words("p1x"), " pics ");
    }

    #[test]
    fn apostrophes_and_punctuation() {
        assert_eq!(words("i'm not, don’t"), " im not dont ");
        let n = normalise("hi. there");
        assert!(n.tokens[1].clause_before);
        assert_eq!(words("help!!"), " help ");
    }

    #[test]
    fn unicode_folding() {
        assert_eq!(words("𝐤𝐢𝐥𝐥 kíll"), " kil kil ");
        assert_eq!(words("kіll"), " kil "); // Cyrillic i
        assert_eq!(words("k\u{200b}ill"), " kil ");
        assert_eq!(words("❄️🔪"), " ❄ 🔪 ");
    }

    #[test]
    fn offsets_point_into_original() {
        let t = "Héllo  Wörld 🔪!";
        let n = normalise(t);
        for tok in &n.tokens {
            assert!(t.is_char_boundary(tok.orig_start as usize));
            assert!(t.is_char_boundary(tok.orig_end as usize));
        }
        assert_eq!(&t[n.tokens[1].orig_start as usize..n.tokens[1].orig_end as usize], "Wörld");
        assert_eq!(&t[n.tokens[2].orig_start as usize..n.tokens[2].orig_end as usize], "🔪");
    }
}

#[cfg(test)]
mod props;
