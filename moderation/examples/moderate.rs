//! Read JSON Lines `{"id","text"}` on stdin, write one evaluation record per line on stdout:
//! `{"id","flagged","severity","labels","pii":[{"kind","text"}],"redacted"}`.
//!
//! `cargo run -p talkzone-moderation --example moderate --release < dev.jsonl > preds.jsonl`
//!
//! Both stages run: the rules and the built-in learned model (`model/model.bin`). Options:
//! `--model FILE` uses another model file, `--rules-only` runs the rules alone (to compare);
//! an optional argument is a policy TOML file to use instead of the built-in policy.

use std::io::{BufRead, Write};

use talkzone_moderation::{check, eval_record, Draft, Model, Policy};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let rules_only = args.iter().any(|a| a == "--rules-only");
    args.retain(|a| a != "--rules-only");
    let model_path = args.iter().position(|a| a == "--model").map(|i| {
        let p = args.get(i + 1).cloned().unwrap_or_default();
        args.drain(i..(i + 2).min(args.len()));
        p
    });
    let model = if rules_only {
        None
    } else {
        let loaded = match &model_path {
            Some(p) => std::fs::read(p)
                .map_err(|e| format!("cannot read {p}: {e}"))
                .and_then(|b| Model::from_bytes(&b).map_err(|e| format!("{p}: {e}"))),
            None => Model::builtin().map_err(|e| e.to_string()),
        };
        match loaded {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        }
    };
    let policy = match args.first() {
        Some(path) => {
            let src = match std::fs::read_to_string(path) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("cannot read {path}: {e}");
                    std::process::exit(2);
                }
            };
            match Policy::from_toml(&src) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{path}: {e}");
                    std::process::exit(2);
                }
            }
        }
        None => Policy::builtin(),
    };
    let policy = match model {
        Some(m) => policy.with_model(m),
        None => policy,
    };
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("line {}: {e}", n + 1);
                std::process::exit(2);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("line {}: not JSON: {e}", n + 1);
                continue;
            }
        };
        let id = v.get("id").and_then(|x| x.as_str()).unwrap_or_default();
        let text = v.get("text").and_then(|x| x.as_str()).unwrap_or_default();
        let verdict = check(&policy, &Draft::new(text));
        if writeln!(out, "{}", eval_record(id, &verdict)).is_err() {
            std::process::exit(1);
        }
    }
    let _ = out.flush();
}
