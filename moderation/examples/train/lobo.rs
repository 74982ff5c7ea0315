//! `--lobo`: an experiment, not a figure to publish. Each batch is predicted once by a model
//! trained on the other batches; the predictions are pooled and the thresholds chosen on the
//! pool itself, so the figures are a little optimistic. They compare training settings quickly
//! (8 models instead of 64); `eval/lobo.py` gives the honest figures (nested: the held-out
//! batch is left out of the choice of thresholds too).

use talkzone_moderation::model::{risk, TrainConfig};
use talkzone_moderation::{Category, Policy, Severity};

use crate::select::{choose_severity, figures, Oof};
use crate::{out_of_fold, print_figures, Batch};

/// The batches whose texts the rules of round 1 were written from.
const RULES_READ: [&str; 3] = ["dev", "a1", "b1"];

/// Recall at critical and high+ of rules + `score` on `sub`, with the cut on `score` that flags
/// `rate` of the benign messages together with the rules.
fn rank_both(name: &str, sub: &[&Oof], score: &dyn Fn(&Oof) -> f32) {
    let mut benign: Vec<f32> =
        sub.iter().filter(|o| o.gold == Severity::None && o.rules == Severity::None).map(|o| score(o)).collect();
    benign.sort_by(|a, b| b.total_cmp(a));
    let nb = sub.iter().filter(|o| o.gold == Severity::None).count() as f64;
    let rules_fp = sub.iter().filter(|o| o.gold == Severity::None && o.rules > Severity::None).count() as f64;
    let mut line = format!("rules + {name}:");
    for rate in [0.03f64, 0.04, 0.05] {
        let k = (rate * nb - rules_fp).max(0.0) as usize;
        let cut = benign.get(k).copied().unwrap_or(f32::MIN);
        let rec = |l: Severity| {
            let n = sub.iter().filter(|o| o.gold >= l).count().max(1);
            sub.iter().filter(|o| o.gold >= l && (o.rules > Severity::None || score(o) > cut)).count() as f64 / n as f64
        };
        line += &format!(" at fp {rate}: critical {:.3} high+ {:.3};", rec(Severity::Critical), rec(Severity::High));
    }
    println!("{line}");
}

/// Print the high+ messages that rules + model missed and the benign ones they flagged, with the
/// risk score and its cut: reading what generalises badly (tuning batches only).
fn print_misses(batches: &[&Batch], oof: &[Oof], t: &[f32; 4]) {
    let msgs = batches.iter().flat_map(|b| b.msgs.iter());
    for (o, m) in oof.iter().zip(msgs) {
        let p = o.rules.max(talkzone_moderation::model::level(&o.logits, t));
        let missed = o.gold >= Severity::High && p == Severity::None;
        let false_alarm = o.gold == Severity::None && p > Severity::None;
        if missed || false_alarm {
            let what = if missed { "MISS" } else { "FP  " };
            let labels: Vec<&str> = o.gold_labels.iter().map(|c| c.as_str()).collect();
            println!(
                "{what} {} {:?} risk {:+.2} (cut {:+.2}) rules {:?} [{}] {}",
                m.id,
                o.gold,
                risk(&o.logits),
                t[0],
                o.rules,
                labels.join(","),
                m.text
            );
        }
    }
}

pub fn run(batches: &[&Batch], cfg: &TrainConfig, rules: &Policy, budget: f64, misses: bool) {
    let oof = out_of_fold(batches, cfg, rules);
    let fresh: Vec<&Oof> = oof.iter().filter(|o| !RULES_READ.contains(&batches[o.batch].name.as_str())).collect();
    let all: Vec<&Oof> = oof.iter().collect();
    for (what, sub) in [("all", &all), ("fresh to round 1's rules", &fresh)] {
        println!("ranking on {what} ({} messages):", sub.len());
        rank_both("risk", sub, &|o| risk(&o.logits));
        rank_both("max severity output", sub, &|o| o.logits[12].max(o.logits[14]).max(o.logits[15]));
    }
    let t = choose_severity(&oof, budget);
    println!("thresholds chosen on the pool at fp budget {budget}: {t:?}");
    if misses {
        print_misses(batches, &oof, &t);
    }
    // a second opinion: rule flags on messages the model scores far below its cut
    for cut in [-8.0f32, -6.0, -5.0, -4.0, -3.0, -2.0] {
        let low = |o: &&Oof| o.rules > Severity::None && risk(&o.logits) < cut;
        let by = |f: &dyn Fn(&Oof) -> bool| oof.iter().filter(low).filter(|o| f(o)).count();
        println!(
            "rule flags with risk < {cut}: benign {}, low/medium {}, high {}, critical {}",
            by(&|o| o.gold == Severity::None),
            by(&|o| o.gold > Severity::None && o.gold < Severity::High),
            by(&|o| o.gold == Severity::High),
            by(&|o| o.gold == Severity::Critical),
        );
    }
    print_figures("model alone, pooled", &figures(&oof, &t, false));
    print_figures("rules + model, pooled", &figures(&oof, &t, true));
    print_figures("rules + model, fresh", &figures(fresh.iter().copied(), &t, true));
    for (i, b) in batches.iter().enumerate() {
        print_figures(&format!("  {}", b.name), &figures(oof.iter().filter(|o| o.batch == i), &t, true));
    }
    // the model's own category (its best one) on the messages it flags, per category
    let mut line = String::from("model categories (recall/precision):");
    for c in Category::ALL {
        let k = c as usize;
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for o in &oof {
            let flagged = talkzone_moderation::model::level(&o.logits, &t) > Severity::None;
            let best = (0..12).max_by(|&a, &b| o.logits[a].total_cmp(&o.logits[b])).unwrap_or(0);
            let pred = flagged && best == k;
            let gold = o.gold > Severity::None && o.gold_labels.contains(&c);
            match (gold, pred) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                _ => {}
            }
        }
        let r = |a: i32, b: i32| f64::from(a) / f64::from(b.max(1));
        line += &format!(" {} {:.2}/{:.2};", c.as_str(), r(tp, tp + fn_), r(tp, tp + fp));
    }
    println!("{line}");
}
