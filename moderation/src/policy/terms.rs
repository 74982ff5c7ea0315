//! The phrase table: every phrase of a policy, its `{variables}` expanded and normalised, as the
//! patterns of the two automatons (the normalised text, and the space-less text for spaced-out
//! evasions), each pattern with the phrase lists it belongs to.

use std::collections::{BTreeMap, HashMap};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::{PhraseRef, PolicyError};
use crate::normalise::{normalise, squeeze_into};

const MAX_EXPANSIONS: usize = 50_000;

/// Expand `{var}` placeholders (recursively) into every combination.
fn expand(
    loc: &str,
    phrase: &str,
    vars: &BTreeMap<String, Vec<String>>,
    depth: u32,
) -> Result<Vec<String>, PolicyError> {
    if depth > 8 {
        return Err(PolicyError::new(loc, format!("variables nest too deeply in {phrase:?}")));
    }
    let Some(open) = phrase.find('{') else {
        if phrase.contains('}') {
            return Err(PolicyError::new(loc, format!("unbalanced '}}' in phrase {phrase:?}")));
        }
        return Ok(vec![phrase.to_string()]);
    };
    let close = phrase[open..]
        .find('}')
        .map(|c| c + open)
        .ok_or_else(|| PolicyError::new(loc, format!("unclosed '{{' in phrase {phrase:?}")))?;
    let name = &phrase[open + 1..close];
    let values = vars.get(name).ok_or_else(|| {
        PolicyError::new(loc, format!("unknown variable {{{name}}} in phrase {phrase:?} (define it under [vars])"))
    })?;
    let mut out = Vec::new();
    for v in values {
        let substituted = format!("{}{}{}", &phrase[..open], v, &phrase[close + 1..]);
        for e in expand(loc, &substituted, vars, depth + 1)? {
            out.push(e);
            if out.len() > MAX_EXPANSIONS {
                return Err(PolicyError::new(
                    loc,
                    format!("phrase {phrase:?} expands to more than {MAX_EXPANSIONS} phrases"),
                ));
            }
        }
    }
    Ok(out)
}

#[derive(Default)]
pub(super) struct TermTable {
    pub(super) keys: Vec<String>,
    index: HashMap<String, usize>,
    pub(super) pats: Vec<Vec<PhraseRef>>,
    pub(super) sl_keys: Vec<String>,
    sl_index: HashMap<String, usize>,
    pub(super) sl_pats: Vec<Vec<PhraseRef>>,
    pub(super) n_lists: u32,
}

/// Minimum length of a phrase (without spaces) for the space-less evasion pass (`k i l l m y s e l f`).
const MIN_SPACELESS: usize = 3;
/// Space-less phrases shorter than this (`t o o k`, `k m s`) match only as a whole spaced-out
/// word: found anywhere in the space-less text, three or four letters match inside too much.
pub(crate) const SHORT_SPACELESS: usize = 5;

impl TermTable {
    pub(super) fn add_list(
        &mut self,
        loc: &str,
        phrases: &[String],
        vars: &BTreeMap<String, Vec<String>>,
    ) -> Result<u32, PolicyError> {
        let list = self.n_lists;
        self.n_lists += 1;
        if phrases.is_empty() {
            return Err(PolicyError::new(loc, "empty phrase list"));
        }
        for p in phrases {
            for e in expand(loc, p, vars, 0)? {
                self.add_phrase(loc, list, &e, true)?;
            }
        }
        Ok(list)
    }

    /// Like [`TermTable::add_list`], and single words also match with their inner vowels masked by
    /// `*` (`f*ggot`, `p*ki`, `sh*t`), the way people dodge word filters.
    pub(super) fn add_rule_list(
        &mut self,
        loc: &str,
        phrases: &[String],
        vars: &BTreeMap<String, Vec<String>>,
    ) -> Result<u32, PolicyError> {
        let list = self.add_list(loc, phrases, vars)?;
        for p in phrases {
            for e in expand(loc, p, vars, 0)? {
                for m in masked_variants(&e) {
                    self.add_phrase(loc, list, &m, false)?;
                }
            }
        }
        Ok(list)
    }

    fn add_phrase(&mut self, loc: &str, list: u32, phrase: &str, spaceless: bool) -> Result<(), PolicyError> {
        let mut p = phrase.trim();
        let mut clause_end = false;
        if let Some(stripped) = p.strip_suffix('$') {
            clause_end = true;
            p = stripped.trim_end();
        }
        let mut prefix = false;
        if let Some(stripped) = p.strip_suffix('*') {
            // `f*ck` keeps its star; only a trailing star after a letter is a prefix marker
            prefix = true;
            p = stripped;
        }
        let n = normalise(p);
        if n.tokens.is_empty() {
            return Err(PolicyError::new(loc, format!("phrase {phrase:?} has no words after normalisation")));
        }
        if prefix && n.tokens.last().is_some_and(|t| t.raw_end - t.raw_start < 3) {
            return Err(PolicyError::new(
                loc,
                format!("phrase {phrase:?}: a trailing `*` (any ending) needs at least 3 letters before it"),
            ));
        }
        let mut key = n.text.clone();
        let mut runs = n.runs.clone();
        if prefix {
            key.pop();
            runs.pop();
        }
        let r = PhraseRef { list, runs: runs.into_boxed_slice(), clause_end, short: false };
        let id = *self.index.entry(key.clone()).or_insert_with(|| {
            self.keys.push(key);
            self.pats.push(Vec::new());
            self.keys.len() - 1
        });
        self.pats[id].push(r);
        // the space-less form, for spaced-out evasions; spelt-out letters keep their final g
        // ("k i l l i n g"), so the word is added both with and without it
        if spaceless {
            let words: Vec<&str> = p.split_whitespace().collect();
            let mut with_g = String::new();
            if words.len() == n.tokens.len() {
                for (t, w) in n.tokens.iter().zip(&words) {
                    let r = &n.raw[t.raw_start as usize..t.raw_end as usize];
                    with_g.push_str(r);
                    if r.ends_with("in") && w.to_ascii_lowercase().ends_with("ing") {
                        with_g.push('g');
                    }
                }
            }
            for joined in [n.raw.clone(), with_g] {
                if joined.len() < MIN_SPACELESS || !joined.is_ascii() || joined.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                let mut sl = String::new();
                let mut slr = Vec::new();
                squeeze_into(&joined, &mut sl, &mut slr);
                let id = *self.sl_index.entry(sl.clone()).or_insert_with(|| {
                    self.sl_keys.push(sl);
                    self.sl_pats.push(Vec::new());
                    self.sl_keys.len() - 1
                });
                if !self.sl_pats[id].iter().any(|r| r.list == list && *r.runs == *slr) {
                    self.sl_pats[id].push(PhraseRef {
                        list,
                        runs: slr.into_boxed_slice(),
                        clause_end: false,
                        short: joined.len() < SHORT_SPACELESS,
                    });
                }
            }
        }
        Ok(())
    }

    pub(super) fn opt_list(
        &mut self,
        loc: &str,
        phrases: &[String],
        vars: &BTreeMap<String, Vec<String>>,
    ) -> Result<Option<u32>, PolicyError> {
        if phrases.is_empty() {
            Ok(None)
        } else {
            self.add_list(loc, phrases, vars).map(Some)
        }
    }
}

/// The ways people mask a word to dodge filters, keeping its first and last letters: each inner
/// vowel (`f*ggot`, `p*ki`), all of them (`f*gg*t`), and any run of inner letters (`n****r`,
/// `ni**as`, `p***y`, `f*g`). Words of three letters or more.
fn masked_variants(word: &str) -> Vec<String> {
    let w = word.trim();
    if w.len() < 3 || !w.bytes().all(|b| b.is_ascii_lowercase()) {
        return Vec::new();
    }
    let b = w.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let with_stars = |positions: &mut dyn Iterator<Item = usize>| {
        let mut v = b.to_vec();
        for i in positions {
            v[i] = b'*';
        }
        String::from_utf8_lossy(&v).into_owned()
    };
    for i in 1..n - 1 {
        for j in i + 1..n {
            out.push(with_stars(&mut (i..j)));
        }
    }
    let vowels: Vec<usize> = (1..n - 1).filter(|&i| matches!(b[i], b'a' | b'e' | b'i' | b'o' | b'u')).collect();
    if vowels.len() > 1 {
        out.push(with_stars(&mut vowels.iter().copied()));
    }
    out
}

pub(super) fn build_ac(keys: &[String], loc: &str) -> Result<AhoCorasick, PolicyError> {
    // The contiguous NFA (the default for this many patterns) is ~2 MB; a full DFA would be
    // ~60 MB and was not faster here (cache misses).
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .build(keys)
        .map_err(|e| PolicyError::new(loc, format!("cannot build phrase automaton: {e}")))
}
