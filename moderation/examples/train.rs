//! Train the learned stage from labelled corpus files and write `model/model.bin`.
//!
//! ```sh
//! cargo run --release -j 2 -p talkzone-moderation --example train -- \
//!     --out moderation/model/model.bin \
//!     ../shared/data/moderation/dev.jsonl moderation/corpus/tune/a1.jsonl \
//!     moderation/corpus/tune/b1.jsonl moderation/corpus/tune/c1.jsonl
//! ```
//!
//! Each file is a batch (JSON Lines in the schema of `dev.jsonl`). The decision thresholds are
//! chosen on held-out predictions: every batch is predicted by a model trained on the other
//! batches (leave one batch out), and the severity thresholds that reach the most recall at
//! critical and high+ with at most `--fp-budget` (default 0.02) of benign messages flagged by
//! the model alone are kept (the rules were written while reading these batches, so with them
//! the figures would look far better than on fresh text); each category's threshold is the one
//! with the best F1. The final model is then trained on every batch with those thresholds.
//!
//! `--holdout NAME` leaves the batch `NAME` (its file stem, e.g. `c1`) out of everything above,
//! then predicts it with rules + model and prints its figures; `--pred FILE` writes those
//! predictions as evaluation records for `eval/score.py`. Training is deterministic: the same
//! files and options give the same bytes.
//!
//! Options: `--bits N` (feature buckets, `1 << N`), `--min-features N`, `--epochs N`, `--lr X`,
//! `--l2 X`, `--posw X` (the cap on the positive examples' weight), `--seed N`, `--bags N`,
//! `--fp-budget X`. With `--holdout`, `TZ_ORACLE=1` also prints what the best thresholds for the
//! held-out batch itself would reach (how well the model ranks, apart from how well its
//! thresholds transfer) and `TZ_DUMP=FILE` writes each message's severity logits.

use std::io::Write;

use talkzone_moderation::model::{train, Example, TrainConfig, OUTPUTS};
use talkzone_moderation::{check, eval_record, Category, Draft, Model, Policy, Severity};

struct Msg {
    id: String,
    text: String,
    labels: Vec<Category>,
    severity: Severity,
    weight: f32,
}

struct Batch {
    name: String,
    msgs: Vec<Msg>,
}

fn load(path: &str) -> Result<Batch, String> {
    let src = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut msgs = Vec::new();
    for (n, line) in src.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("{path}:{}: {e}", n + 1))?;
        let severity = v["severity"].as_str().and_then(Severity::parse).ok_or(format!("{path}:{}: severity", n + 1))?;
        let labels = v["labels"]
            .as_array()
            .map_or(vec![], |a| a.iter().filter_map(|l| l.as_str()).filter_map(Category::parse).collect());
        msgs.push(Msg {
            id: v["id"].as_str().unwrap_or_default().to_string(),
            text: v["text"].as_str().unwrap_or_default().to_string(),
            labels,
            severity,
            weight: 1.0,
        });
    }
    let name = std::path::Path::new(path).file_stem().map_or(path.to_string(), |s| s.to_string_lossy().into_owned());
    Ok(Batch { name, msgs })
}

fn examples<'a>(batches: &[&'a Batch]) -> Vec<Example<'a>> {
    batches
        .iter()
        .flat_map(|b| b.msgs.iter())
        .map(|m| Example { text: &m.text, labels: m.labels.clone(), severity: m.severity, weight: m.weight })
        .collect()
}

/// A held-out prediction: the rules' severity, the model's logits and the gold answer.
struct Oof {
    rules: Severity,
    logits: [f32; OUTPUTS],
    gold: Severity,
    gold_labels: Vec<Category>,
}

fn level(logits: &[f32; OUTPUTS], t: &[f32; 4]) -> Severity {
    let levels = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];
    (0..4).rev().find(|&j| logits[12 + j] >= t[j]).map_or(Severity::None, |j| levels[j])
}

struct Figures {
    crit_flag: f64,
    crit_rated: f64,
    high_flag: f64,
    high_rated: f64,
    benign_fp: f64,
    over_rated: f64,
}

fn figures(oof: &[Oof], t: &[f32; 4]) -> Figures {
    let (mut cn, mut cf, mut cr, mut hn, mut hf, mut hr, mut bn, mut bf, mut on, mut or) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for o in oof {
        let p = o.rules.max(level(&o.logits, t));
        if o.gold == Severity::Critical {
            cn += 1.0;
            cf += f64::from(u8::from(p > Severity::None));
            cr += f64::from(u8::from(p == Severity::Critical));
        }
        if o.gold >= Severity::High {
            hn += 1.0;
            hf += f64::from(u8::from(p > Severity::None));
            hr += f64::from(u8::from(p >= Severity::High));
        }
        if o.gold == Severity::None {
            bn += 1.0;
            bf += f64::from(u8::from(p > Severity::None));
        }
        if o.gold > Severity::None && o.gold < Severity::Critical {
            on += 1.0;
            or += f64::from(u8::from(p > o.gold.max(Severity::Medium)));
        }
    }
    let r = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    Figures {
        crit_flag: r(cf, cn),
        crit_rated: r(cr, cn),
        high_flag: r(hf, hn),
        high_rated: r(hr, hn),
        benign_fp: r(bf, bn),
        over_rated: r(or, on),
    }
}

fn objective(f: &Figures, fp_budget: f64) -> f64 {
    let over = (f.benign_fp - fp_budget).max(0.0);
    2.0 * f.crit_flag + f.crit_rated + 2.0 * f.high_flag + f.high_rated - 0.5 * f.over_rated - 100.0 * over
}

/// The severity thresholds with the most recall within the benign budget: coordinate ascent over
/// a grid on the logits, starting from the rules alone (every threshold out of reach).
fn choose_severity(oof: &[Oof], fp_budget: f64) -> [f32; 4] {
    let grid: Vec<f32> = (-24..=48).map(|i| i as f32 * 0.25).chain([f32::MAX]).collect();
    let mut t = [f32::MAX; 4];
    let mut best = objective(&figures(oof, &t), fp_budget);
    for _ in 0..8 {
        let mut moved = false;
        for j in [0, 3, 2, 1] {
            for &g in &grid {
                let mut c = t;
                c[j] = g;
                let s = objective(&figures(oof, &c), fp_budget);
                if s > best + 1e-9 {
                    best = s;
                    t = c;
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
    t
}

/// Per category, the threshold with the best F1 of the model's own label on held-out predictions.
fn choose_categories(oof: &[Oof]) -> [f32; 12] {
    let mut out = [0f32; 12];
    for c in Category::ALL {
        let k = c as usize;
        let mut best = (0f32, -1.0f64);
        for i in -16..=16 {
            let t = i as f32 * 0.25;
            let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
            for o in oof {
                let gold = o.gold > Severity::None && o.gold_labels.contains(&c);
                let pred = o.logits[k] >= t;
                match (gold, pred) {
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

/// Leave-one-batch-out predictions over `batches`, each from a model trained on the others.
fn out_of_fold(batches: &[&Batch], cfg: &TrainConfig, rules: &Policy) -> Vec<Oof> {
    let mut oof = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        let rest: Vec<&Batch> = batches.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, b)| *b).collect();
        let m = train(&examples(&rest), cfg);
        for msg in &b.msgs {
            oof.push(Oof {
                rules: check(rules, &Draft::new(&msg.text)).severity,
                logits: m.logits(&msg.text),
                gold: msg.severity,
                gold_labels: msg.labels.clone(),
            });
        }
    }
    oof
}

fn calibrated(batches: &[&Batch], cfg: &TrainConfig, rules: &Policy, fp_budget: f64) -> Model {
    let oof = out_of_fold(batches, cfg, rules);
    // The thresholds are chosen on the model's own held-out predictions, not on the combination
    // with the rules: the rules were written while reading these batches, so here they look far
    // better than on fresh text, and the model would be tuned to add almost nothing.
    let alone: Vec<Oof> = oof
        .iter()
        .map(|o| Oof { rules: Severity::None, logits: o.logits, gold: o.gold, gold_labels: o.gold_labels.clone() })
        .collect();
    let sev = choose_severity(&alone, fp_budget);
    let m = figures(&alone, &sev);
    eprintln!(
        "  model alone: critical flagged {:.3} rated {:.3}, high+ flagged {:.3} rated {:.3}, benign fp {:.3}",
        m.crit_flag, m.crit_rated, m.high_flag, m.high_rated, m.benign_fp
    );
    let cats = choose_categories(&oof);
    let f = figures(&oof, &sev);
    eprintln!(
        "  thresholds on {} held-out predictions: severity {sev:?}; critical flagged {:.3} rated {:.3}, high+ flagged {:.3} rated {:.3}, benign fp {:.3}",
        oof.len(),
        f.crit_flag,
        f.crit_rated,
        f.high_flag,
        f.high_rated,
        f.benign_fp
    );
    let mut t = [0f32; OUTPUTS];
    t[..12].copy_from_slice(&cats);
    t[12..].copy_from_slice(&sev);
    train(&examples(batches), cfg).with_thresholds(t)
}

fn arg<T: std::str::FromStr>(args: &mut Vec<String>, name: &str) -> Result<Option<T>, String> {
    let Some(i) = args.iter().position(|a| a == name) else { return Ok(None) };
    if i + 1 >= args.len() {
        return Err(format!("{name} needs a value"));
    }
    let v = args.remove(i + 1);
    args.remove(i);
    v.parse().map(Some).map_err(|_| format!("{name}: bad value {v:?}"))
}

fn run() -> Result<(), String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = TrainConfig::default();
    cfg.bits = arg(&mut args, "--bits")?.unwrap_or(cfg.bits);
    cfg.epochs = arg(&mut args, "--epochs")?.unwrap_or(cfg.epochs);
    cfg.min_features = arg(&mut args, "--min-features")?.unwrap_or(cfg.min_features);
    cfg.learning_rate = arg(&mut args, "--lr")?.unwrap_or(cfg.learning_rate);
    cfg.l2 = arg(&mut args, "--l2")?.unwrap_or(cfg.l2);
    cfg.positive_weight = arg(&mut args, "--posw")?.unwrap_or(cfg.positive_weight);
    cfg.seed = arg(&mut args, "--seed")?.unwrap_or(cfg.seed);
    cfg.bags = arg(&mut args, "--bags")?.unwrap_or(cfg.bags);
    let fp_budget: f64 = arg(&mut args, "--fp-budget")?.unwrap_or(0.02);
    let holdout: Option<String> = arg(&mut args, "--holdout")?;
    let out: Option<String> = arg(&mut args, "--out")?;
    let pred: Option<String> = arg(&mut args, "--pred")?;
    if args.is_empty() || args.iter().any(|a| a.starts_with("--")) {
        return Err(format!("usage: train [options] FILE.jsonl...; unknown or missing: {args:?}"));
    }
    let all: Vec<Batch> = args.iter().map(|p| load(p)).collect::<Result<_, _>>()?;
    let rules = Policy::builtin();
    eprintln!("config: {cfg:?}, fp budget {fp_budget}");
    let train_on: Vec<&Batch> = all.iter().filter(|b| Some(&b.name) != holdout.as_ref()).collect();
    eprintln!(
        "training on {} ({} messages)",
        train_on.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(" "),
        train_on.iter().map(|b| b.msgs.len()).sum::<usize>()
    );
    let model = calibrated(&train_on, &cfg, &rules, fp_budget);
    if let Some(name) = &holdout {
        let b = all.iter().find(|b| &b.name == name).ok_or(format!("no batch named {name}"))?;
        let both = rules.clone().with_model(model.clone());
        let mut w: Option<std::io::BufWriter<std::fs::File>> = match &pred {
            Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p).map_err(|e| format!("{p}: {e}"))?)),
            None => None,
        };
        let oof: Vec<Oof> = b
            .msgs
            .iter()
            .map(|m| {
                let v = check(&both, &Draft::new(&m.text));
                if let Some(w) = w.as_mut() {
                    let _ = writeln!(w, "{}", eval_record(&m.id, &v));
                }
                // the verdict's severity stands for "rules", and no model level on top
                Oof { rules: v.severity, logits: [-1e9; OUTPUTS], gold: m.severity, gold_labels: m.labels.clone() }
            })
            .collect();
        let f = figures(&oof, &[f32::MAX; 4]);
        let alone: Vec<Oof> = b
            .msgs
            .iter()
            .map(|m| Oof {
                rules: Severity::None,
                logits: model.logits(&m.text),
                gold: m.severity,
                gold_labels: vec![],
            })
            .collect();
        let a = figures(&alone, &model.thresholds()[12..].try_into().unwrap_or([f32::MAX; 4]));
        println!(
            "model alone on {name}: critical flagged {:.3} rated {:.3}, high+ flagged {:.3} rated {:.3}, benign fp {:.3}",
            a.crit_flag, a.crit_rated, a.high_flag, a.high_rated, a.benign_fp
        );
        {
            // threshold-free ranking: one score per message (how far the most passing severity
            // output is above its threshold), then recall at a fixed rate of benign flagged
            let t = model.thresholds();
            let score: Vec<(f32, Severity)> = alone
                .iter()
                .map(|o| ((0..4).map(|j| o.logits[12 + j] - t[12 + j]).fold(f32::MIN, f32::max), o.gold))
                .collect();
            let mut benign: Vec<f32> = score.iter().filter(|(_, g)| *g == Severity::None).map(|(s, _)| *s).collect();
            benign.sort_by(|a, b| b.total_cmp(a));
            let mut line = format!("ranking on {name}:");
            for rate in [0.02f64, 0.05] {
                let k = (rate * benign.len() as f64).floor() as usize;
                let cut = benign.get(k).copied().unwrap_or(f32::MIN);
                let rec = |lvl: Severity| {
                    let n = score.iter().filter(|(_, g)| *g >= lvl).count().max(1);
                    score.iter().filter(|(s, g)| *g >= lvl && *s > cut).count() as f64 / n as f64
                };
                line += &format!(
                    " at fp {rate}: critical {:.3} high+ {:.3};",
                    rec(Severity::Critical),
                    rec(Severity::High)
                );
            }
            println!("{line}");
        }
        if std::env::var("TZ_ORACLE").is_ok() {
            // what the best thresholds for this very batch would reach (not a fair figure: a
            // measure of how well the model ranks, apart from how well its thresholds transfer)
            let raw: Vec<Oof> = b
                .msgs
                .iter()
                .map(|m| Oof {
                    rules: check(&rules, &Draft::new(&m.text)).severity,
                    logits: model.logits(&m.text),
                    gold: m.severity,
                    gold_labels: m.labels.clone(),
                })
                .collect();
            if let Ok(path) = std::env::var("TZ_DUMP") {
                let mut d = String::new();
                for (m, o) in b.msgs.iter().zip(&raw) {
                    let l = &o.logits;
                    d.push_str(&format!(
                        "{}\t{}\t{}\t{:.2}\t{:.2}\t{:.2}\t{:.2}\t{}\n",
                        m.id, o.gold, o.rules, l[12], l[13], l[14], l[15], m.text
                    ));
                }
                let _ = std::fs::write(path, d);
            }
            for budget in [0.03, 0.05] {
                let t = choose_severity(&raw, budget);
                let o = figures(&raw, &t);
                println!(
                    "  oracle at fp {budget}: critical flagged {:.3} rated {:.3}, high+ flagged {:.3} rated {:.3}, benign fp {:.3} (t {t:?} vs chosen {:?})",
                    o.crit_flag, o.crit_rated, o.high_flag, o.high_rated, o.benign_fp, &model.thresholds()[12..]
                );
            }
        }
        println!(
            "held out {name}: critical flagged {:.3} rated {:.3}, high+ flagged {:.3} rated {:.3}, benign fp {:.3}",
            f.crit_flag, f.crit_rated, f.high_flag, f.high_rated, f.benign_fp
        );
    }
    if let Some(path) = out {
        let bytes = model.to_bytes();
        std::fs::write(&path, &bytes).map_err(|e| format!("{path}: {e}"))?;
        eprintln!("wrote {path}: {} bytes, crc32 {:08x}", bytes.len(), model.checksum());
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("train: {e}");
        std::process::exit(2);
    }
}
