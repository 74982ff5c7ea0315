//! Choosing the model's thresholds from held-out predictions, and the figures they reach.

use talkzone_moderation::model::{level, risk, OUTPUTS};
use talkzone_moderation::{Category, Severity};

/// A held-out prediction: the rules' severity, the model's logits and the gold answer.
pub struct Oof {
    /// The index of the message's batch.
    pub batch: usize,
    pub rules: Severity,
    pub logits: [f32; OUTPUTS],
    pub gold: Severity,
    pub gold_labels: Vec<Category>,
}

/// The headline figures of a set of predictions (the same as `eval/score.py`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Figures {
    pub crit_flag: f64,
    pub crit_rated: f64,
    pub high_flag: f64,
    pub high_rated: f64,
    pub benign_fp: f64,
    /// Of the low and medium messages, how many were rated high or critical.
    pub over_rated: f64,
}

/// The figures of rules + model (the higher severity of the two) over `oof`, with the model's
/// severity thresholds `t`; `with_rules = false` measures the model alone.
pub fn figures<'a>(oof: impl IntoIterator<Item = &'a Oof>, t: &[f32; 4], with_rules: bool) -> Figures {
    let mut n = [0f64; 10];
    for o in oof {
        let rules = if with_rules { o.rules } else { Severity::None };
        let p = rules.max(level(&o.logits, t));
        if o.gold == Severity::Critical {
            n[0] += 1.0;
            n[1] += f64::from(u8::from(p > Severity::None));
            n[2] += f64::from(u8::from(p == Severity::Critical));
        }
        if o.gold >= Severity::High {
            n[3] += 1.0;
            n[4] += f64::from(u8::from(p > Severity::None));
            n[5] += f64::from(u8::from(p >= Severity::High));
        }
        if o.gold == Severity::None {
            n[6] += 1.0;
            n[7] += f64::from(u8::from(p > Severity::None));
        }
        if o.gold > Severity::None && o.gold < Severity::High {
            n[8] += 1.0;
            n[9] += f64::from(u8::from(p >= Severity::High));
        }
    }
    let r = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    Figures {
        crit_flag: r(n[1], n[0]),
        crit_rated: r(n[2], n[0]),
        high_flag: r(n[4], n[3]),
        high_rated: r(n[5], n[3]),
        benign_fp: r(n[7], n[6]),
        over_rated: r(n[9], n[8]),
    }
}

/// The cut on the risk score that lets the model alone flag at most `budget` of the benign
/// messages: just above the risk of the benign message at that rank.
pub fn choose_flag(oof: &[Oof], budget: f64) -> f32 {
    let mut benign: Vec<f32> = oof.iter().filter(|o| o.gold == Severity::None).map(|o| risk(&o.logits)).collect();
    benign.sort_by(|a, b| b.total_cmp(a));
    let k = (budget * benign.len() as f64).floor() as usize;
    match benign.get(k) {
        // the (k+1)-th highest benign score must stay below the cut; round up to a quarter
        // hundredth so that the cut is a short number in the model's README
        Some(&s) => ((s * 400.0).floor() + 1.0) / 400.0,
        None => f32::MIN,
    }
}

/// The level cuts (on the ≥ medium, ≥ high and critical logits) for the messages the model
/// flags: the fewest level steps missed, over or under (weighting under-rated steps more rated
/// half of the medium messages high, held out). Coordinate descent over a grid of logits, from
/// critical down, deterministic.
pub fn choose_levels(oof: &[Oof], cut: f32) -> [f32; 3] {
    let flagged: Vec<&Oof> = oof.iter().filter(|o| risk(&o.logits) >= cut).collect();
    let loss = |t: &[f32; 4]| -> f64 {
        flagged
            .iter()
            .map(|o| {
                let (p, g) = (level(&o.logits, t) as i32, o.gold as i32);
                f64::from((p - g).abs())
            })
            .sum()
    };
    let grid: Vec<f32> = (-24..=32).map(|i| i as f32 * 0.25).collect();
    let mut t = [cut, 0.0, 0.0, 0.0];
    let mut best = loss(&t);
    for _ in 0..8 {
        let mut moved = false;
        for j in [3, 2, 1] {
            for &g in &grid {
                let mut c = t;
                c[j] = g;
                let l = loss(&c);
                if l < best - 1e-9 {
                    best = l;
                    t = c;
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
    [t[1], t[2], t[3]]
}

/// Per category, the threshold with the best F1 of the model's own label on held-out predictions.
pub fn choose_categories(oof: &[Oof]) -> [f32; 12] {
    let mut out = [0f32; 12];
    for c in Category::ALL {
        let k = c as usize;
        let mut best = (0f32, -1.0f64);
        for i in -16..=16 {
            let t = i as f32 * 0.25;
            let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
            for o in oof {
                let gold = o.gold > Severity::None && o.gold_labels.contains(&c);
                match (gold, o.logits[k] >= t) {
                    (true, true) => tp += 1.0,
                    (false, true) => fp += 1.0,
                    (true, false) => fn_ += 1.0,
                    _ => {}
                }
            }
            let f1 = if tp > 0.0 { 2.0 * tp / (2.0 * tp + fp + fn_) } else { 0.0 };
            if f1 > best.1 + 1e-9 {
                best = (t, f1);
            }
        }
        out[k] = best.0;
    }
    out
}

/// The four severity thresholds of the model file: the risk cut, then the level cuts.
pub fn choose_severity(oof: &[Oof], budget: f64) -> [f32; 4] {
    let cut = choose_flag(oof, budget);
    let l = choose_levels(oof, cut);
    [cut, l[0], l[1], l[2]]
}
