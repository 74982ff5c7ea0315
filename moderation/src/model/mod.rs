//! The learned second stage: a linear (logistic) model over hashed word and character n-grams
//! (`features.rs`), one output per category plus four ordinal severity outputs, trained by
//! `examples/train.rs` (`train.rs` holds the pure training code) and shipped as data,
//! `model/model.bin`.
//!
//! The rules explain; the model catches what no rule names. [`Model::assess`] turns the outputs
//! into the categories and the severity the model would give, with the words that weighed most,
//! and `engine.rs` adds them to the rules' verdict as flags named `model:<category>`.
//!
//! # File format (version 2)
//!
//! All numbers little-endian.
//!
//! | bytes | what |
//! | --- | --- |
//! | 8 | magic `TZMODEL\0` |
//! | 4 | format version, `u32` = 2 |
//! | 4 | `bits`: the model has `1 << bits` feature buckets (10 ..= 24) |
//! | 4 | outputs, `u32` = 16 (12 categories in [`Category`] order, then severity ≥ low, ≥ medium, ≥ high, critical) |
//! | 4 | `rows`: how many buckets have weights (the others are zero) |
//! | 4 | `min_features`: `n` below is at least this (a short text's few features are not amplified) |
//! | 16 × 4 | per output, the `f32` scale of its `i8` weights |
//! | 16 × 4 | per output, the `f32` bias |
//! | 16 × 4 | the `f32` decision thresholds: for each category, on its logit; then the cut on the risk score ([`risk`]) past which the model flags a text, and the cuts on the ≥ medium, ≥ high and critical logits that set the level of a flagged text |
//! | rows × 20 | per row: bucket `u32` (strictly increasing, below `1 << bits`), then 16 `i8` weights |
//! | 4 | CRC-32 (IEEE, as zlib's `crc32`) of every byte before it |
//!
//! An output's logit is `bias + scale × Σ weights / sqrt(max(n, min_features))` over the `n`
//! features of the text.
//!
//! Version 1 had the same layout, but each severity output flagged a text on its own past its
//! threshold; version 2 flags on one risk score (the mean of the four severity logits and half
//! the strongest category's logit): held out, it ranks risky above benign messages better than
//! any one output (see `docs/moderation.md`), so the thresholds of a version 1 file mean
//! something else and it is refused.

mod features;
mod train;

use std::sync::{Arc, OnceLock};

use crate::normalise::{normalise_into, Normalised, Scratch};
use crate::{Category, Severity};

pub(crate) use features::words;
pub use train::{train, Example, TrainConfig};

/// Outputs of the model: 12 categories, then 4 severity levels (≥ low, ≥ medium, ≥ high, critical).
pub const OUTPUTS: usize = 16;
/// The index of the first severity output.
pub(crate) const SEV0: usize = 12;

const MAGIC: &[u8; 8] = b"TZMODEL\0";
const VERSION: u32 = 2;
const HEADER: usize = 8 + 5 * 4 + OUTPUTS * 4 * 3;
const ROW: usize = 4 + OUTPUTS;

/// The model shipped with the crate (`moderation/model/model.bin`).
pub const BUILTIN_MODEL: &[u8] = include_bytes!("../../model/model.bin");

/// A model file that could not be loaded: what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub message: String,
}

impl ModelError {
    fn new(message: impl Into<String>) -> ModelError {
        ModelError { message: message.into() }
    }
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "moderation model error: {}", self.message)
    }
}

impl std::error::Error for ModelError {}

/// The learned stage. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Model {
    inner: Arc<Inner>,
}

struct Inner {
    bits: u32,
    /// The feature count a text's weights are divided by is at least this (its square root).
    min_features: u32,
    /// `1 << bits` rows of weights.
    weights: Vec<[i8; OUTPUTS]>,
    scale: [f32; OUTPUTS],
    bias: [f32; OUTPUTS],
    threshold: [f32; OUTPUTS],
    rows: u32,
    checksum: u32,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("bits", &self.inner.bits)
            .field("rows", &self.inner.rows)
            .field("checksum", &format_args!("{:08x}", self.inner.checksum))
            .finish()
    }
}

/// What the model says about a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The severity the model gives (see [`level`]; `None`: the model does not flag the text).
    pub severity: Severity,
    /// The categories whose outputs passed their thresholds; when the severity passed but no
    /// category did, the category nearest its threshold. In [`Category`] order.
    pub categories: Vec<Category>,
    /// The raw logits, in output order.
    pub logits: [f32; OUTPUTS],
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    static TABLE: OnceLock<[u32; 256]> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *e = c;
        }
        t
    });
    !bytes.iter().fold(!0u32, |c, &b| table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8))
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn read_f32s(b: &[u8], at: usize) -> [f32; OUTPUTS] {
    let mut out = [0f32; OUTPUTS];
    for (k, v) in out.iter_mut().enumerate() {
        *v = f32::from_bits(read_u32(b, at + 4 * k));
    }
    out
}

impl Model {
    /// The built-in model (`model/model.bin`, compiled in), checked and expanded once per process.
    pub fn builtin() -> Result<Model, ModelError> {
        static BUILTIN: OnceLock<Result<Model, ModelError>> = OnceLock::new();
        BUILTIN.get_or_init(|| Model::from_bytes(BUILTIN_MODEL)).clone()
    }

    /// Load a model file (see the module docs for the format). Every field is checked, and the
    /// checksum: a truncated or corrupt file is an error saying what is wrong.
    pub fn from_bytes(b: &[u8]) -> Result<Model, ModelError> {
        if b.len() < 8 || &b[..8] != MAGIC {
            return Err(ModelError::new("not a Talk Zone model file (the magic bytes TZMODEL are missing)"));
        }
        if b.len() < HEADER + 4 {
            return Err(ModelError::new(format!(
                "truncated: {} bytes, the header alone takes {}",
                b.len(),
                HEADER + 4
            )));
        }
        let version = read_u32(b, 8);
        if version != VERSION {
            return Err(ModelError::new(format!("format version {version}; this build reads version {VERSION}")));
        }
        let (bits, outputs, rows, min_features) = (read_u32(b, 12), read_u32(b, 16), read_u32(b, 20), read_u32(b, 24));
        if !(10..=24).contains(&bits) {
            return Err(ModelError::new(format!("{bits} bucket bits; expected 10 to 24")));
        }
        if outputs as usize != OUTPUTS {
            return Err(ModelError::new(format!("{outputs} outputs; this build has {OUTPUTS}")));
        }
        if u64::from(rows) > 1u64 << bits {
            return Err(ModelError::new(format!("{rows} rows for {} buckets", 1u64 << bits)));
        }
        let want = HEADER + rows as usize * ROW + 4;
        if b.len() != want {
            let what = if b.len() < want { "truncated" } else { "too long" };
            return Err(ModelError::new(format!("{what}: {} bytes, expected {want} for {rows} rows", b.len())));
        }
        let stored = read_u32(b, want - 4);
        let actual = crc32(&b[..want - 4]);
        if stored != actual {
            return Err(ModelError::new(format!(
                "checksum mismatch (stored {stored:08x}, computed {actual:08x}): the file is corrupt"
            )));
        }
        let scale = read_f32s(b, 28);
        let bias = read_f32s(b, 28 + OUTPUTS * 4);
        let threshold = read_f32s(b, 28 + OUTPUTS * 8);
        if scale.iter().chain(&bias).chain(&threshold).any(|v| !v.is_finite()) {
            return Err(ModelError::new("a scale, bias or threshold is not a finite number"));
        }
        let mut weights = vec![[0i8; OUTPUTS]; 1usize << bits];
        let mut last: Option<u32> = None;
        for r in 0..rows as usize {
            let at = HEADER + r * ROW;
            let bucket = read_u32(b, at);
            if bucket >> bits != 0 || last.is_some_and(|l| bucket <= l) {
                return Err(ModelError::new(format!("row {r}: bucket {bucket} out of order or out of range")));
            }
            last = Some(bucket);
            for (k, w) in weights[bucket as usize].iter_mut().enumerate() {
                *w = b[at + 4 + k] as i8;
            }
        }
        Ok(Model {
            inner: Arc::new(Inner { bits, min_features, weights, scale, bias, threshold, rows, checksum: actual }),
        })
    }

    /// Build a model from its parts (training); rows that are all zero are not stored.
    pub(crate) fn from_parts(
        bits: u32,
        min_features: u32,
        weights: Vec<[i8; OUTPUTS]>,
        scale: [f32; OUTPUTS],
        bias: [f32; OUTPUTS],
        threshold: [f32; OUTPUTS],
    ) -> Model {
        let rows = weights.iter().filter(|w| w.iter().any(|&x| x != 0)).count() as u32;
        let mut m = Inner { bits, min_features, weights, scale, bias, threshold, rows, checksum: 0 };
        m.checksum = crc32(&encode_body(&m));
        Model { inner: Arc::new(m) }
    }

    /// The model with other decision thresholds (one per output, on the logit).
    pub fn with_thresholds(&self, threshold: [f32; OUTPUTS]) -> Model {
        let i = &self.inner;
        Model::from_parts(i.bits, i.min_features, i.weights.clone(), i.scale, i.bias, threshold)
    }

    /// The decision thresholds (one per output, on the logit).
    pub fn thresholds(&self) -> [f32; OUTPUTS] {
        self.inner.threshold
    }

    /// The model file's bytes (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = encode_body(&self.inner);
        let c = crc32(&b);
        b.extend_from_slice(&c.to_le_bytes());
        b
    }

    /// The CRC-32 of the model file, to log which model is in use.
    pub fn checksum(&self) -> u32 {
        self.inner.checksum
    }

    /// The logits of every output for a text.
    pub fn logits(&self, text: &str) -> [f32; OUTPUTS] {
        let mut norm = Normalised::default();
        normalise_into(text, &mut Scratch::default(), &mut norm);
        self.logits_of(&norm)
    }

    /// What the model says about a text.
    pub fn assess(&self, text: &str) -> Assessment {
        self.assessment(self.logits(text))
    }

    pub(crate) fn logits_of(&self, norm: &Normalised) -> [f32; OUTPUTS] {
        let m = &*self.inner;
        let mut acc = [0i32; OUTPUTS];
        let mut n = 0u32;
        features::for_each(norm, m.bits, |_, bucket| {
            // as a zip of two fixed-size arrays, so that the compiler adds the row as vectors
            for (a, &w) in acc.iter_mut().zip(m.weights[bucket as usize].iter()) {
                *a += i32::from(w);
            }
            n += 1;
        });
        let inv = if n == 0 { 0.0 } else { 1.0 / (n.max(m.min_features) as f32).sqrt() };
        let mut out = m.bias;
        for k in 0..OUTPUTS {
            out[k] += m.scale[k] * acc[k] as f32 * inv;
        }
        out
    }

    pub(crate) fn assessment(&self, logits: [f32; OUTPUTS]) -> Assessment {
        let t = &self.inner.threshold;
        let severity = level(&logits, &t[SEV0..].try_into().unwrap_or([f32::MAX; 4]));
        let mut categories: Vec<Category> =
            Category::ALL.into_iter().filter(|c| logits[c.index()] >= t[c.index()]).collect();
        if categories.is_empty() && severity > Severity::None {
            let best = Category::ALL
                .into_iter()
                .max_by(|a, b| (logits[a.index()] - t[a.index()]).total_cmp(&(logits[b.index()] - t[b.index()])));
            categories.extend(best);
        }
        Assessment { severity, categories, logits }
    }

    /// The words (indices into the normalised word stream) that weighed most for an output, best
    /// first, at most `n`, each with a positive weight.
    pub(crate) fn top_words(&self, norm: &Normalised, output: usize, n: usize) -> Vec<usize> {
        let m = &*self.inner;
        let mut per_word = vec![0i32; norm.tokens.len()];
        features::for_each(norm, m.bits, |i, bucket| per_word[i] += i32::from(m.weights[bucket as usize][output]));
        let mut idx: Vec<usize> = (0..per_word.len()).filter(|&i| per_word[i] > 0).collect();
        idx.sort_by(|a, b| per_word[*b].cmp(&per_word[*a]).then(a.cmp(b)));
        idx.truncate(n);
        idx
    }
}

/// How much the strongest category's logit counts in the [`risk`] score, beside the mean of
/// the four severity logits. Chosen held out (leave one batch out over the tuning corpus): 0.5
/// and 1 rank alike, and both far better than the severity outputs alone.
pub const RISK_CATEGORY_WEIGHT: f32 = 0.5;

/// The model's risk score for a text from its logits: the mean of the four severity logits
/// plus [`RISK_CATEGORY_WEIGHT`] × the highest category logit (profanity aside: swearing is not
/// a risk). The model flags a text when this passes the first severity threshold. Evidence that
/// a text is serious and evidence of what it is about come from outputs trained apart, so their
/// sum ranks better than either (an average of related classifiers).
pub fn risk(logits: &[f32; OUTPUTS]) -> f32 {
    let sev = (logits[SEV0] + logits[SEV0 + 1] + logits[SEV0 + 2] + logits[SEV0 + 3]) / 4.0;
    let cat = Category::ALL
        .into_iter()
        .filter(|c| *c != Category::Profanity)
        .map(|c| logits[c.index()])
        .fold(f32::MIN, f32::max);
    sev + RISK_CATEGORY_WEIGHT * cat
}

/// The severity the model gives a text from its logits and the four severity thresholds: none
/// below the risk cut `t[0]`; past it, the highest of medium, high and critical whose output
/// passes its threshold `t[1..]`, else low.
pub fn level(logits: &[f32; OUTPUTS], t: &[f32; 4]) -> Severity {
    if risk(logits) < t[0] {
        return Severity::None;
    }
    let levels = [Severity::Medium, Severity::High, Severity::Critical];
    (0..3).rev().find(|&j| logits[SEV0 + 1 + j] >= t[1 + j]).map_or(Severity::Low, |j| levels[j])
}

fn encode_body(m: &Inner) -> Vec<u8> {
    let mut b = Vec::with_capacity(HEADER + m.rows as usize * ROW + 4);
    b.extend_from_slice(MAGIC);
    for v in [VERSION, m.bits, OUTPUTS as u32, m.rows, m.min_features] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for arr in [&m.scale, &m.bias, &m.threshold] {
        for v in arr.iter() {
            b.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }
    for (bucket, w) in m.weights.iter().enumerate() {
        if w.iter().any(|&x| x != 0) {
            b.extend_from_slice(&(bucket as u32).to_le_bytes());
            b.extend(w.iter().map(|&x| x as u8));
        }
    }
    b
}

#[cfg(test)]
mod tests;
