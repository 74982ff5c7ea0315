//! Train the learned stage from labelled corpus files and write `model/model.bin`.
//!
//! ```sh
//! cargo run --release -j 2 -p talkzone-moderation --example train -- \
//!     --out moderation/model/model.bin \
//!     ../shared/data/moderation/dev.jsonl moderation/corpus/tune/*.jsonl
//! ```
//!
//! Each file is a batch (JSON Lines in the schema of `dev.jsonl`). The decision thresholds are
//! chosen on held-out predictions: every batch is predicted by a model trained on the other
//! batches (leave one batch out); the cut on the risk score is the one that lets the model
//! alone flag at most `--fp-budget` (default 0.02) of the benign messages (the rules were
//! written while reading these batches, so with them the figures would look far better than on
//! fresh text); the level cuts are those that miss the fewest level steps on the messages the
//! model flags (`select.rs`); each category's threshold is the one with the best F1. The final
//! model is then trained on every batch with those thresholds.
//!
//! `--holdout NAME` leaves the batch `NAME` (its file stem, e.g. `c1`) out of everything above,
//! then predicts it with rules + model and prints its figures; `--pred FILE` writes those
//! predictions as evaluation records for `eval/score.py` (`eval/lobo.py` does this for every
//! batch). Training is deterministic: the same files and options give the same bytes.
//!
//! Options: `--bits N` (feature buckets, `1 << N`), `--min-features N`, `--epochs N`, `--lr X`,
//! `--l2 X`, `--posw X` (the cap on the positive examples' weight), `--seed N`, `--bags N`,
//! `--fp-budget X`, `--augment N` (noisy copies of each training text, `noise.rs`), `--noise P`,
//! `--augment-weight X`. `--lobo` is an experiment instead: each batch predicted once by a model
//! trained on the others, and what rules + model reach on the pooled predictions (`lobo.rs`);
//! with `--misses` it also lists the high+ messages missed and the benign ones flagged.

mod lobo;
mod noise;
mod select;

use std::io::Write;

use select::{choose_categories, choose_severity, figures, Oof};
use talkzone_moderation::model::{train, Example, TrainConfig, OUTPUTS};
use talkzone_moderation::{check, eval_record, Category, Draft, Model, Policy, Severity};

pub struct Msg {
    pub id: String,
    pub text: String,
    pub labels: Vec<Category>,
    pub severity: Severity,
    /// Noisy copies of `text` for training (`--augment`, `noise.rs`); empty by default.
    pub noisy: Vec<String>,
}

/// The weight of each noisy copy (`--augment-weight`), set once before training.
static AUG_WEIGHT: std::sync::OnceLock<f32> = std::sync::OnceLock::new();

pub struct Batch {
    pub name: String,
    pub msgs: Vec<Msg>,
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
            noisy: Vec::new(),
        });
    }
    let name = std::path::Path::new(path).file_stem().map_or(path.to_string(), |s| s.to_string_lossy().into_owned());
    Ok(Batch { name, msgs })
}

fn examples<'a>(batches: &[&'a Batch]) -> Vec<Example<'a>> {
    batches
        .iter()
        .flat_map(|b| b.msgs.iter())
        .flat_map(|m| {
            let w = AUG_WEIGHT.get().copied().unwrap_or(1.0);
            std::iter::once(Example { text: &m.text, labels: m.labels.clone(), severity: m.severity, weight: 1.0 })
                .chain(m.noisy.iter().map(move |t| Example {
                    text: t,
                    labels: m.labels.clone(),
                    severity: m.severity,
                    weight: w,
                }))
        })
        .collect()
}

/// Leave-one-batch-out predictions over `batches`, each from a model trained on the others.
pub fn out_of_fold(batches: &[&Batch], cfg: &TrainConfig, rules: &Policy) -> Vec<Oof> {
    let mut oof = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        let rest: Vec<&Batch> = batches.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, b)| *b).collect();
        let m = train(&examples(&rest), cfg);
        for msg in &b.msgs {
            oof.push(Oof {
                batch: i,
                rules: check(rules, &Draft::new(&msg.text)).severity,
                logits: m.logits(&msg.text),
                gold: msg.severity,
                gold_labels: msg.labels.clone(),
            });
        }
    }
    oof
}

fn print_figures(what: &str, f: &select::Figures) {
    println!(
        "{what}: critical flagged {:.3} rated {:.3}, high+ flagged {:.3} rated {:.3}, benign fp {:.3}, low/medium rated high+ {:.3}",
        f.crit_flag, f.crit_rated, f.high_flag, f.high_rated, f.benign_fp, f.over_rated
    );
}

fn calibrated(batches: &[&Batch], cfg: &TrainConfig, rules: &Policy, fp_budget: f64) -> Model {
    let oof = out_of_fold(batches, cfg, rules);
    // The thresholds are chosen on the model's own held-out predictions, not on the combination
    // with the rules: the rules were written while reading these batches, so here they look far
    // better than on fresh text, and the model would be tuned to add almost nothing.
    let sev = choose_severity(&oof, fp_budget);
    print_figures("  model alone, held out", &figures(&oof, &sev, false));
    print_figures("  rules + model, held out", &figures(&oof, &sev, true));
    eprintln!("  thresholds on {} held-out predictions: risk cut {}, levels {:?}", oof.len(), sev[0], &sev[1..]);
    let mut t = [0f32; OUTPUTS];
    t[..12].copy_from_slice(&choose_categories(&oof));
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

/// Predict the held-out batch `b` with rules + `model`, print its figures, write its records.
fn report_holdout(b: &Batch, model: &Model, rules: &Policy, pred: Option<&str>) -> Result<(), String> {
    let both = rules.clone().with_model(model.clone());
    let mut w = match pred {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p).map_err(|e| format!("{p}: {e}"))?)),
        None => None,
    };
    let mut oof = Vec::new();
    for m in &b.msgs {
        let v = check(&both, &Draft::new(&m.text));
        if let Some(w) = w.as_mut() {
            writeln!(w, "{}", eval_record(&m.id, &v)).map_err(|e| e.to_string())?;
        }
        oof.push(Oof {
            batch: 0,
            rules: v.severity,
            logits: model.logits(&m.text),
            gold: m.severity,
            gold_labels: m.labels.clone(),
        });
    }
    let t: [f32; 4] = model.thresholds()[12..].try_into().unwrap_or([f32::MAX; 4]);
    print_figures(&format!("model alone on {}", b.name), &figures(&oof, &t, false));
    // the verdict's severity already holds the model's: no model level on top
    print_figures(&format!("held out {}", b.name), &figures(&oof, &[f32::MAX; 4], true));
    Ok(())
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
    let augment: u32 = arg(&mut args, "--augment")?.unwrap_or(0);
    let noise_p: f64 = arg(&mut args, "--noise")?.unwrap_or(0.15);
    let aug_weight: f32 = arg(&mut args, "--augment-weight")?.unwrap_or(0.5);
    let _ = AUG_WEIGHT.set(aug_weight);
    let holdout: Option<String> = arg(&mut args, "--holdout")?;
    let out: Option<String> = arg(&mut args, "--out")?;
    let pred: Option<String> = arg(&mut args, "--pred")?;
    let lobo = args.iter().any(|a| a == "--lobo");
    let misses = args.iter().any(|a| a == "--misses");
    args.retain(|a| a != "--lobo" && a != "--misses");
    if args.is_empty() || args.iter().any(|a| a.starts_with("--")) {
        return Err(format!("usage: train [options] FILE.jsonl...; unknown or missing: {args:?}"));
    }
    if args.iter().any(|a| a.contains("frozen/")) {
        return Err("the frozen batches are never trained or tuned on".into());
    }
    if args.iter().any(|a| a.contains("fresh/")) {
        return Err("the fresh batches are scored before anything is trained on them: move them to tune/ first".into());
    }
    let mut all: Vec<Batch> = args.iter().map(|p| load(p)).collect::<Result<_, _>>()?;
    if augment > 0 {
        for m in all.iter_mut().flat_map(|b| b.msgs.iter_mut()) {
            m.noisy = noise::noisy(&m.text, augment, noise_p, cfg.seed);
        }
    }
    let rules = Policy::builtin();
    eprintln!("config: {cfg:?}, fp budget {fp_budget}, augment {augment} (noise {noise_p}, weight {aug_weight})");
    let train_on: Vec<&Batch> = all.iter().filter(|b| Some(&b.name) != holdout.as_ref()).collect();
    eprintln!(
        "training on {} ({} messages)",
        train_on.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(" "),
        train_on.iter().map(|b| b.msgs.len()).sum::<usize>()
    );
    if lobo {
        lobo::run(&train_on, &cfg, &rules, fp_budget, misses);
        return Ok(());
    }
    let model = calibrated(&train_on, &cfg, &rules, fp_budget);
    if let Some(name) = &holdout {
        let b = all.iter().find(|b| &b.name == name).ok_or(format!("no batch named {name}"))?;
        report_holdout(b, &model, &rules, pred.as_deref())?;
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
