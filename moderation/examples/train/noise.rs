//! `--augment N`: N noisy copies of every training text, as children type on phones, so that the
//! model learns the character shapes of misspelt words and not only the words the writers spelt
//! right (issue 19, point 3). Each word of four or more letters is changed with probability
//! `--noise P`: a dropped letter (`stabed`), two letters swapped (`sucidie`), a letter doubled,
//! or a phonetic spelling (`ph`→`f`, `ck`→`k`, `ight`→`ite`, `er`→`a` at the end, `th`→`f`,
//! `tion`→`shun`, `ou`→`u`, `ee`→`ea`, `c`→`k`). Only training texts are changed; the held-out
//! batch is predicted as written. Deterministic: the copy's seed is the text's and the copy's
//! number, so the same corpus gives the same bytes.

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PHONETIC: [(&str, &str); 10] = [
    ("ph", "f"),
    ("ck", "k"),
    ("ight", "ite"),
    ("tion", "shun"),
    ("th", "f"),
    ("ou", "u"),
    ("ee", "ea"),
    ("c", "k"),
    ("s", "z"),
    ("y", "i"),
];

fn noisy_word(w: &str, rng: &mut Rng) -> String {
    let cs: Vec<char> = w.chars().collect();
    let n = cs.len();
    match rng.below(4) {
        0 => {
            // drop a letter, never the first
            let i = 1 + rng.below(n - 1);
            cs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| *c).collect()
        }
        1 => {
            let i = 1 + rng.below(n - 2);
            let mut v = cs.clone();
            v.swap(i, i + 1);
            v.into_iter().collect()
        }
        2 => {
            let i = rng.below(n);
            let mut v = cs.clone();
            v.insert(i, cs[i]);
            v.into_iter().collect()
        }
        _ => {
            if w.ends_with("er") && rng.below(2) == 0 {
                return format!("{}a", &w[..w.len() - 2]);
            }
            let found: Vec<&(&str, &str)> = PHONETIC.iter().filter(|(a, _)| w.contains(a)).collect();
            match found.get(rng.below(found.len())) {
                Some((a, b)) => w.replacen(a, b, 1),
                None => w.to_string(),
            }
        }
    }
}

/// `copies` noisy versions of `text` (see the module docs), `p` the chance each long word changes.
pub fn noisy(text: &str, copies: u32, p: f64, seed: u64) -> Vec<String> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..copies)
        .map(|k| {
            let mut rng = Rng(h ^ u64::from(k).wrapping_mul(0x9e37_79b9));
            let mut out = String::with_capacity(text.len() + 8);
            let mut word = String::new();
            for c in text.chars().chain(std::iter::once(' ')) {
                if c.is_ascii_alphabetic() {
                    word.push(c);
                    continue;
                }
                if !word.is_empty() {
                    if word.len() >= 4 && rng.unit() < p {
                        out.push_str(&noisy_word(&word, &mut rng));
                    } else {
                        out.push_str(&word);
                    }
                    word.clear();
                }
                out.push(c);
            }
            out.pop();
            out
        })
        .collect()
}
