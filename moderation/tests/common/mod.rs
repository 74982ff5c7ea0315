//! The table helpers of the rule tests (`rules.rs`, `rules_round2.rs`, `rules_round4.rs`): rules
//! alone, the built-in policy without the model.

#![allow(dead_code)] // each test file uses its own share of these

use talkzone_moderation::{check, Category, Draft, Policy, Severity, Verdict};

pub fn verdict(text: &str) -> Verdict {
    check(&Policy::builtin(), &Draft::new(text))
}

/// Each message is flagged with `cat` at `min` severity or above.
pub fn flags(cases: &[&str], cat: Category, min: Severity) {
    let failed: Vec<String> = cases
        .iter()
        .map(|t| (t, verdict(t)))
        .filter(|(_, v)| !(v.labels.contains(&cat) && v.severity >= min))
        .map(|(t, v)| format!("{t:?}: severity={} labels={:?}", v.severity, v.labels))
        .collect();
    assert!(failed.is_empty(), "expected {cat} at >= {min}:\n{}", failed.join("\n"));
}

/// No message is flagged at all; a failure lists the rules that fired and what they matched.
pub fn benign(cases: &[&str]) {
    let failed: Vec<String> = cases
        .iter()
        .map(|t| (t, verdict(t)))
        .filter(|(_, v)| v.flagged())
        .map(|(t, v)| {
            let why: Vec<String> = v.flags.iter().map(|f| format!("{}={:?}", f.rule, f.matched)).collect();
            format!("{t:?}: {} {:?} {}", v.severity, v.labels, why.join(", "))
        })
        .collect();
    assert!(failed.is_empty(), "expected not flagged:\n{}", failed.join("\n"));
}

/// No message carries `cat`.
pub fn not_label(cases: &[&str], cat: Category) {
    for t in cases {
        let v = verdict(t);
        assert!(!v.labels.contains(&cat), "{t:?} should not be {cat}: {:?}", v.flags);
    }
}
