//! Read JSON Lines `{"id","text"}` on stdin, write one evaluation record per line on stdout:
//! `{"id","flagged","severity","labels","pii":[{"kind","text"}],"redacted"}`.
//!
//! `cargo run -p talkzone-moderation --example moderate --release < dev.jsonl > preds.jsonl`
//!
//! An optional first argument is a policy TOML file to use instead of the built-in policy.

use std::io::{BufRead, Write};

use talkzone_moderation::{check, eval_record, Draft, Policy};

fn main() {
    let policy = match std::env::args().nth(1) {
        Some(path) => {
            let src = match std::fs::read_to_string(&path) {
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
