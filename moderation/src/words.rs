//! The built-in word lists: data files in `policy/words/`, compiled into the crate with
//! `include_str!` and parsed once, on first use (no I/O at run time).
//!
//! A list file has one entry per line. Lines are trimmed; blank lines and lines starting with
//! `#` are skipped (each file says at its top what its list is for). An entry in double quotes
//! is taken as written, for an entry with spaces at its ends (`" at "`) or the empty entry
//! (`""`). Entries keep their order and their repeats. A pair file ([`pairs`]) has two words a
//! line, separated by spaces.

use std::ops::Deref;
use std::sync::LazyLock;

use rustc_hash::FxHashSet;

/// A word list, parsed from its file on first use.
pub(crate) type Words = LazyLock<WordList>;

/// A list's entries in file order, with a hash set beside them: the detectors ask whether a word
/// is in a list for every word of every message, and a scan of a few hundred entries each time
/// cost more than the rest of the name detector.
pub(crate) struct WordList {
    entries: Vec<&'static str>,
    set: FxHashSet<&'static str>,
}

impl WordList {
    pub(crate) fn new(entries: Vec<&'static str>) -> WordList {
        let set = entries.iter().copied().collect();
        WordList { entries, set }
    }

    /// Whether `word` is an entry (exactly as written; the lists are lower case).
    pub(crate) fn contains<S: AsRef<str> + ?Sized>(&self, word: &S) -> bool {
        self.set.contains(word.as_ref())
    }
}

impl Deref for WordList {
    type Target = [&'static str];

    fn deref(&self) -> &[&'static str] {
        &self.entries
    }
}

/// `word_list!("name.txt")`: the [`Words`] of `policy/words/name.txt`.
macro_rules! word_list {
    ($file:literal) => {
        ::std::sync::LazyLock::new(|| {
            $crate::words::WordList::new($crate::words::entries(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/policy/words/",
                $file
            ))))
        })
    };
}
pub(crate) use word_list;

/// A list of word pairs, parsed from its file on first use.
pub(crate) type Pairs = LazyLock<Vec<(&'static str, &'static str)>>;

/// `word_pairs!("name.txt")`: the [`Pairs`] of `policy/words/name.txt`.
macro_rules! word_pairs {
    ($file:literal) => {
        ::std::sync::LazyLock::new(|| {
            $crate::words::pairs(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/policy/words/", $file)))
        })
    };
}
pub(crate) use word_pairs;

/// The entries of a list file (see the module docs).
pub(crate) fn entries(src: &'static str) -> Vec<&'static str> {
    src.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
            Some(quoted) => quoted,
            None => l,
        })
        .collect()
}

/// The pairs of a pair file: two words a line (see the module docs).
pub(crate) fn pairs(src: &'static str) -> Vec<(&'static str, &'static str)> {
    entries(src)
        .into_iter()
        .map(|l| {
            let mut w = l.split_whitespace();
            match (w.next(), w.next(), w.next()) {
                (Some(a), Some(b), None) => (a, b),
                // The files are part of the crate and tested (`words::tests`): this is a build defect.
                _ => panic!("built-in word pair list: {l:?} is not two words"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format() {
        let src = "# a comment\n\n  one \n\" at \"\n\"\"\n\"\n#x\nit's\n";
        assert_eq!(entries(src), vec!["one", " at ", "", "\"", "it's"]);
        assert_eq!(pairs("# c\nh8 hate\n  wiv   with \n"), vec![("h8", "hate"), ("wiv", "with")]);
        let list = WordList::new(entries(src));
        assert!(list.contains("it's") && list.contains(&String::from(" at ")) && !list.contains("two"));
        assert_eq!(list.len(), 5);
    }
}
