//! Print the full verdict (flags with rule ids and spans, PII, redaction) for each line of stdin.
//!
//! Both stages run (rules and the built-in model); `--rules-only` runs the rules alone.
//!
//! `echo "k i l l  m y s 3 l f" | cargo run -p talkzone-moderation --example explain`

use std::io::BufRead;

use talkzone_moderation::{check, Draft, Model, Policy};

fn main() {
    let policy = if std::env::args().any(|a| a == "--rules-only") {
        Policy::builtin()
    } else {
        match Model::builtin() {
            Ok(m) => Policy::builtin().with_model(m),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        }
    };
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let text = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(v) if v.get("text").is_some() => v["text"].as_str().unwrap_or_default().to_string(),
            _ => line,
        };
        let v = check(&policy, &Draft::new(&text));
        println!("{text}\n  severity={} labels={:?}", v.severity, v.labels);
        for f in &v.flags {
            println!("  {:<28} {:<9} {:<40} {:?}", f.category.as_str(), f.severity.as_str(), f.rule, f.matched);
        }
        for p in &v.pii {
            println!("  pii {:<13} {:?}", p.kind.as_str(), p.text);
        }
    }
}
