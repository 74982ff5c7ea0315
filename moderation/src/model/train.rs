//! Training the learned stage (pure: examples in, [`Model`] out; `examples/train.rs` reads the
//! corpus files and writes `model/model.bin`).
//!
//! One logistic regression per output over the hashed features, trained together by AdaGrad
//! with L2 regularisation, in a fixed order (a fixed-seed shuffle per epoch), so that the same
//! examples and configuration always give the same bytes. Positive examples of an output are
//! weighted up (`positive_weight`) because every category is rare. The weights are then
//! quantised to `i8` per output.

use super::{features, Model, OUTPUTS, SEV0};
use crate::normalise::normalise;
use crate::{Category, Severity};

/// One labelled message.
#[derive(Debug, Clone)]
pub struct Example<'a> {
    pub text: &'a str,
    /// The gold categories (empty for a benign message).
    pub labels: Vec<Category>,
    pub severity: Severity,
    /// How much the example counts (1 for a labelled message).
    pub weight: f32,
}

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// `1 << bits` feature buckets.
    pub bits: u32,
    /// A text's weights are divided by `sqrt(max(features, min_features))`: a short text's few
    /// features are not amplified (without it "sorry" or "bye" alone scored like a goodbye).
    pub min_features: u32,
    pub epochs: u32,
    pub learning_rate: f32,
    /// L2 regularisation, per update of a weight.
    pub l2: f32,
    /// Positive examples of an output weigh `min(positive_weight, sqrt(negatives / positives))`.
    pub positive_weight: f32,
    /// The seed of the per-epoch shuffle.
    pub seed: u64,
    /// How many models (seeds `seed`, `seed + 1`, …) are trained and averaged: one model's
    /// weights depend much on the order of its examples, the average far less.
    pub bags: u32,
}

impl Default for TrainConfig {
    fn default() -> TrainConfig {
        TrainConfig {
            bits: 16,
            min_features: 400,
            epochs: 30,
            learning_rate: 0.1,
            l2: 1e-4,
            positive_weight: 3.0,
            seed: 19,
            bags: 5,
        }
    }
}

/// The 16 targets of an example: its categories, then severity ≥ low, ≥ medium, ≥ high, critical.
pub(crate) fn targets(e: &Example<'_>) -> [f32; OUTPUTS] {
    let mut y = [0f32; OUTPUTS];
    if e.severity > Severity::None {
        for c in &e.labels {
            y[c.index()] = 1.0;
        }
    }
    let levels = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];
    for (j, l) in levels.iter().enumerate() {
        if e.severity >= *l {
            y[SEV0 + j] = 1.0;
        }
    }
    y
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// A small deterministic generator (xorshift64*) for the shuffle.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Train a model; its thresholds are 0 (probability ½) until set with [`Model::with_thresholds`].
pub fn train(examples: &[Example<'_>], cfg: &TrainConfig) -> Model {
    let bits = cfg.bits.clamp(10, 24);
    let data: Vec<(Vec<u32>, [f32; OUTPUTS], f32)> =
        examples.iter().map(|e| (features::collect(&normalise(e.text), bits), targets(e), e.weight)).collect();
    let mut pos_w = [1f32; OUTPUTS];
    for (k, w) in pos_w.iter_mut().enumerate() {
        let pos = data.iter().filter(|(_, y, _)| y[k] > 0.5).count() as f32;
        let neg = data.len() as f32 - pos;
        if pos > 0.0 {
            *w = (neg / pos).sqrt().clamp(1.0, cfg.positive_weight.max(1.0));
        }
    }
    let n_buckets = 1usize << bits;
    let mut w = vec![[0f32; OUTPUTS]; n_buckets];
    let mut bias = [0f32; OUTPUTS];
    let bags = cfg.bags.max(1);
    for bag in 0..bags {
        let (bw, bb) = sgd(&data, &pos_w, n_buckets, cfg, cfg.seed.wrapping_add(u64::from(bag)));
        for (acc, x) in w.iter_mut().zip(&bw) {
            for k in 0..OUTPUTS {
                acc[k] += x[k] / bags as f32;
            }
        }
        for k in 0..OUTPUTS {
            bias[k] += bb[k] / bags as f32;
        }
    }
    // quantise to i8 per output
    let mut scale = [0f32; OUTPUTS];
    for (k, s) in scale.iter_mut().enumerate() {
        let max = w.iter().map(|r| r[k].abs()).fold(0f32, f32::max);
        *s = if max > 0.0 { max / 127.0 } else { 1.0 };
    }
    let q: Vec<[i8; OUTPUTS]> = w
        .iter()
        .map(|r| {
            let mut out = [0i8; OUTPUTS];
            for k in 0..OUTPUTS {
                out[k] = (r[k] / scale[k]).round().clamp(-127.0, 127.0) as i8;
            }
            out
        })
        .collect();
    Model::from_parts(bits, cfg.min_features, q, scale, bias, [0f32; OUTPUTS])
}

type Data = [(Vec<u32>, [f32; OUTPUTS], f32)];

/// One model by AdaGrad over the examples, shuffled per epoch from `seed`.
fn sgd(
    data: &Data,
    pos_w: &[f32; OUTPUTS],
    n_buckets: usize,
    cfg: &TrainConfig,
    seed: u64,
) -> (Vec<[f32; OUTPUTS]>, [f32; OUTPUTS]) {
    let mut w = vec![[0f32; OUTPUTS]; n_buckets];
    let mut g2 = vec![[0f32; OUTPUTS]; n_buckets];
    let mut bias = [0f32; OUTPUTS];
    let mut bias_g2 = [0f32; OUTPUTS];
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut rng = Rng(seed.max(1));
    let eps = 1e-6f32;
    for _ in 0..cfg.epochs {
        for i in (1..order.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for &i in &order {
            let (feats, y, weight) = &data[i];
            if feats.is_empty() {
                continue;
            }
            let x = 1.0 / (feats.len().max(cfg.min_features as usize) as f32).sqrt();
            let mut z = bias;
            for &f in feats {
                for (zk, wk) in z.iter_mut().zip(&w[f as usize]) {
                    *zk += wk * x;
                }
            }
            let mut g = [0f32; OUTPUTS];
            for k in 0..OUTPUTS {
                let p = sigmoid(z[k]);
                g[k] = (p - y[k]) * if y[k] > 0.5 { pos_w[k] } else { 1.0 } * weight;
            }
            for k in 0..OUTPUTS {
                bias_g2[k] += g[k] * g[k];
                bias[k] -= cfg.learning_rate * g[k] / (bias_g2[k] + eps).sqrt();
            }
            for &f in feats {
                let (wf, gf) = (&mut w[f as usize], &mut g2[f as usize]);
                for k in 0..OUTPUTS {
                    let grad = g[k] * x + cfg.l2 * wf[k];
                    gf[k] += grad * grad;
                    wf[k] -= cfg.learning_rate * grad / (gf[k] + eps).sqrt();
                }
            }
        }
    }
    (w, bias)
}
