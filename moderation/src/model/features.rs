//! The learned stage's features: hashed word unigrams and bigrams and hashed character 3- to
//! 5-grams inside word boundaries, all taken from the crate's normalised word stream (case,
//! look-alikes, leet, text speak, dropped `g` and repeated letters already undone), so that
//! `killin`, `k1lling` and `killlling` share their shapes with `killing`, and a misspelling keeps
//! most of the n-grams of the word it misspells.
//!
//! A feature is a bucket number below `1 << bits`: the top bits of a 64-bit FNV-1a hash of the
//! feature's bytes, seeded by its kind. Every feature of a message has the same value,
//! `1 / sqrt(number of features)`, so long and short messages weigh alike.

use crate::normalise::Normalised;

/// The longest word (in bytes) whose character n-grams are taken in full; longer words are cut.
const MAX_WORD: usize = 40;

const SEED_CHAR: u64 = 0xcbf2_9ce4_8422_2325;
const SEED_WORD: u64 = 0x8422_2325_cbf2_9ce4;
const SEED_BIGRAM: u64 = 0x9ce4_8422_cbf2_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
}

#[inline]
fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(seed, |h, &b| step(h, b))
}

#[inline]
fn finish(h: u64, bits: u32) -> u32 {
    // a final mix so that the top bits depend on every byte
    let h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let h = h ^ (h >> 32);
    (h >> (64 - bits)) as u32
}

/// The squeezed words of a normalised text, in order.
pub(crate) fn words(norm: &Normalised) -> impl Iterator<Item = &str> {
    let text = norm.text.as_str();
    norm.tokens.iter().map(move |t| {
        let s = t.norm_start as usize;
        let e = text[s..].find(' ').map_or(text.len(), |k| s + k);
        &text[s..e]
    })
}

/// Call `f(word_index, bucket)` for every feature of the text, in a fixed order.
pub(crate) fn for_each(norm: &Normalised, bits: u32, mut f: impl FnMut(usize, u32)) {
    let mut buf = [0u8; MAX_WORD + 2];
    let mut prev: Option<u64> = None;
    for (i, w) in words(norm).enumerate() {
        let wb = w.as_bytes();
        let wh = hash_bytes(SEED_WORD, wb);
        f(i, finish(wh, bits));
        if let Some(p) = prev {
            f(i, finish(hash_bytes(SEED_BIGRAM ^ p.rotate_left(17), wb), bits));
        }
        prev = Some(wh);
        // character n-grams of `<word>`
        let n = wb.len().min(MAX_WORD);
        buf[0] = b'<';
        buf[1..=n].copy_from_slice(&wb[..n]);
        buf[n + 1] = b'>';
        let b = &buf[..n + 2];
        for s in 0..b.len() {
            let mut h = SEED_CHAR;
            for (k, &byte) in b[s..b.len().min(s + 5)].iter().enumerate() {
                h = step(h, byte);
                if k >= 2 {
                    f(i, finish(h, bits));
                }
            }
        }
    }
}

/// The features of a text as a list (training and tests; the model adds them up in place).
pub(crate) fn collect(norm: &Normalised, bits: u32) -> Vec<u32> {
    let mut v = Vec::with_capacity(norm.tokens.len() * 12);
    for_each(norm, bits, |_, b| v.push(b));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::normalise;

    #[test]
    fn words_are_the_normalised_words() {
        let n = normalise("I'm KILLLLING it, m8 🔪");
        assert_eq!(words(&n).collect::<Vec<_>>(), vec!["im", "kilin", "it", "mate", "🔪"]);
    }

    #[test]
    fn counts_and_range() {
        // "<ab>": 2 three-grams, 1 four-gram; one unigram; no bigram
        let n = normalise("ab");
        let f = collect(&n, 16);
        assert_eq!(f.len(), 4);
        assert!(f.iter().all(|&b| b < (1 << 16)));
        // two words: unigram + bigram + n-grams of each
        let n = normalise("ab cd");
        assert_eq!(collect(&n, 16).len(), 4 + 5);
    }

    #[test]
    fn disguises_share_features() {
        let a = collect(&normalise("kill myself"), 20);
        let b = collect(&normalise("K1LLL MYS3LF"), 20);
        assert_eq!(a, b);
        // a dropped letter keeps most character shapes
        let a = collect(&normalise("suicidal"), 20);
        let c = collect(&normalise("sucidal"), 20);
        let shared = c.iter().filter(|x| a.contains(x)).count();
        assert!(shared * 2 > c.len(), "{shared} of {}", c.len());
    }
}
