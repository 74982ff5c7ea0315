//! Compiling a policy file: every name, severity, action, regex and rule shape checked, with the
//! place of each problem (a rule's id, a table), and the phrases gathered into the term table.

use std::collections::HashSet;

use regex::Regex;

use super::schema::PolicyFile;
use super::terms::{build_ac, TermTable};
use super::{Adjust, AdjustMode, Compiled, PolicyError, Rule, RuleKind, RuleStarts, Suppress};
use crate::pii::PiiConfig;
use crate::{Action, Category, Severity};

fn parse_category(loc: &str, s: &str) -> Result<Category, PolicyError> {
    Category::parse(s).ok_or_else(|| {
        let all: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        PolicyError::new(loc, format!("unknown category {s:?}; expected one of {}", all.join(", ")))
    })
}

fn parse_severity(loc: &str, s: &str) -> Result<Severity, PolicyError> {
    Severity::parse(s).ok_or_else(|| {
        PolicyError::new(loc, format!("unknown severity {s:?}; expected none, low, medium, high or critical"))
    })
}

fn parse_action(loc: &str, s: &str) -> Result<Action, PolicyError> {
    Action::parse(s)
        .ok_or_else(|| PolicyError::new(loc, format!("unknown action {s:?}; expected allow, flag, hold or escalate")))
}

pub(super) fn compile(file: PolicyFile) -> Result<Compiled, PolicyError> {
    if file.version != 1 {
        return Err(PolicyError::new("version", format!("unsupported policy version {}; expected 1", file.version)));
    }
    for (name, values) in &file.vars {
        if values.is_empty() {
            return Err(PolicyError::new(format!("[vars] {name}"), "empty variable"));
        }
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(PolicyError::new(format!("[vars] {name}"), "variable names use letters, digits and '_' only"));
        }
    }
    let vars = &file.vars;
    let mut t = TermTable::default();

    let negators = t.opt_list("[negation] negators", &file.negation.negators, vars)?;
    let breakers = t.opt_list("[negation] breakers", &file.negation.breakers, vars)?;

    let mut seen_ids = HashSet::new();
    let mut rules = Vec::with_capacity(file.rule.len());
    for r in &file.rule {
        let loc = format!("rule {:?}", r.id);
        if r.id.trim().is_empty() {
            return Err(PolicyError::new("rule", "a rule has an empty id"));
        }
        if !seen_ids.insert(r.id.clone()) {
            return Err(PolicyError::new(&loc, "duplicate rule id"));
        }
        let _ = &r.note;
        let category = parse_category(&loc, &r.category)?;
        let severity = parse_severity(&loc, &r.severity)?;
        if severity == Severity::None {
            return Err(PolicyError::new(&loc, "a rule's severity cannot be none"));
        }
        let kinds = (!r.phrases.is_empty()) as u8 + (!r.all.is_empty()) as u8 + r.regex.is_some() as u8;
        if kinds != 1 {
            return Err(PolicyError::new(&loc, "a rule needs exactly one of `phrases`, `all` or `regex`"));
        }
        let kind = if !r.phrases.is_empty() {
            RuleKind::Any(t.add_rule_list(&format!("{loc} phrases"), &r.phrases, vars)?)
        } else if !r.all.is_empty() {
            if r.all.len() < 2 {
                return Err(PolicyError::new(&loc, "`all` needs at least two groups of phrases"));
            }
            let mut groups = Vec::new();
            for (i, g) in r.all.iter().enumerate() {
                groups.push(t.add_rule_list(&format!("{loc} all[{i}]"), g, vars)?);
            }
            RuleKind::All { groups, window: r.window.unwrap_or(8), ordered: r.ordered.unwrap_or(true) }
        } else {
            let src = r.regex.as_deref().unwrap_or_default();
            let re =
                Regex::new(src).map_err(|e| PolicyError::new(format!("{loc} regex"), format!("bad regex: {e}")))?;
            let gate = t.opt_list(&format!("{loc} gate"), &r.gate, vars)?;
            RuleKind::Regex { re, gate }
        };
        if !matches!(kind, RuleKind::Regex { .. }) && !r.gate.is_empty() {
            return Err(PolicyError::new(&loc, "`gate` only applies to `regex` rules"));
        }
        if !matches!(kind, RuleKind::All { .. }) && (r.window.is_some() || r.ordered.is_some()) {
            return Err(PolicyError::new(&loc, "`window` and `ordered` only apply to `all` rules"));
        }
        let unless = t.opt_list(&format!("{loc} unless"), &r.unless, vars)?;
        rules.push(Rule { id: r.id.clone(), category, severity, kind, negatable: r.negatable.unwrap_or(true), unless });
    }

    let mut suppress = Vec::new();
    for s in &file.suppress {
        let loc = format!("suppress {:?}", s.id);
        let _ = &s.note;
        let categories = s.categories.iter().map(|c| parse_category(&loc, c)).collect::<Result<Vec<_>, _>>()?;
        let list = t.add_list(&loc, &s.phrases, vars)?;
        suppress.push(Suppress { list, categories });
    }

    let mut adjust = Vec::new();
    for a in &file.adjust {
        let loc = format!("adjust {:?}", a.id);
        let _ = &a.note;
        if a.categories.is_empty() {
            return Err(PolicyError::new(&loc, "`categories` is empty"));
        }
        let categories = a.categories.iter().map(|c| parse_category(&loc, c)).collect::<Result<Vec<_>, _>>()?;
        let mode = match a.mode.as_str() {
            "raise" => AdjustMode::Raise,
            "cap" => AdjustMode::Cap,
            other => return Err(PolicyError::new(&loc, format!("unknown mode {other:?}; expected raise or cap"))),
        };
        let to = parse_severity(&loc, &a.to)?;
        let min = match &a.min {
            Some(m) => parse_severity(&loc, m)?,
            None => Severity::Low,
        };
        let cues = t.add_list(&format!("{loc} cues"), &a.cues, vars)?;
        let unless = t.opt_list(&format!("{loc} unless"), &a.unless, vars)?;
        if a.bounds_model && (mode != AdjustMode::Cap || a.near.is_some()) {
            return Err(PolicyError::new(&loc, "`bounds_model` is for a cap without `near`"));
        }
        let bounds_model = a.bounds_model;
        adjust.push(Adjust { id: a.id.clone(), categories, cues, unless, mode, to, min, near: a.near, bounds_model });
    }

    let mut dropped_when = vec![Vec::new(); Category::ALL.len()];
    for (name, c) in &file.categories {
        let loc = format!("[categories.{name}]");
        let cat = parse_category(&loc, name)?;
        dropped_when[cat.index()] =
            c.dropped_when.iter().map(|d| parse_category(&loc, d)).collect::<Result<Vec<_>, _>>()?;
    }

    let mut support_actions = vec![Action::Flag; Category::ALL.len()];
    let mut room_actions = vec![Action::Flag; Category::ALL.len()];
    for (table, actions, name) in
        [(&file.actions.support, &mut support_actions, "support"), (&file.actions.room, &mut room_actions, "room")]
    {
        for (cat, act) in table {
            let loc = format!("[actions.{name}] {cat}");
            let a = parse_action(&loc, act)?;
            if cat == "default" {
                for slot in actions.iter_mut() {
                    *slot = a;
                }
            }
        }
        for (cat, act) in table {
            if cat == "default" {
                continue;
            }
            let loc = format!("[actions.{name}] {cat}");
            actions[parse_category(&loc, cat)?.index()] = parse_action(&loc, act)?;
        }
    }
    let escalate_at = match &file.actions.escalate_at {
        Some(s) => parse_severity("[actions] escalate_at", s)?,
        None => Severity::Critical,
    };
    let room_hold_at = match &file.actions.room_hold_at {
        Some(s) => parse_severity("[actions] room_hold_at", s)?,
        None => Severity::High,
    };

    let pii = PiiConfig::build(
        &file.pii.schools,
        &file.pii.given_names,
        &file.pii.ambiguous_given_names,
        &file.pii.not_surnames,
    )
    .map_err(|m| PolicyError::new("[pii]", m))?;

    // The shortest phrase of each list, in bytes: a list whose every phrase is long is rarely
    // present.
    let mut shortest = vec![usize::MAX; t.n_lists as usize];
    for (key, refs) in t.keys.iter().zip(&t.pats) {
        for r in refs {
            let s = &mut shortest[r.list as usize];
            *s = (*s).min(key.len());
        }
    }
    let starts = RuleStarts::new(
        t.n_lists as usize,
        rules.iter().map(|r| match &r.kind {
            RuleKind::Any(l) => Some(*l),
            // Every group must be present for the rule to fire, so one group decides whether it
            // can: the one whose shortest phrase is longest. Marking every group let common
            // words in a rule's later groups (`now`, `he`, `again`) send most texts down the
            // slow path, where no rule could fire.
            RuleKind::All { groups, .. } => groups.iter().copied().max_by_key(|g| shortest[*g as usize]),
            RuleKind::Regex { gate, .. } => *gate,
        }),
    );
    let mut model_cap_cue = vec![false; t.n_lists as usize];
    for a in adjust.iter().filter(|a| a.bounds_model) {
        model_cap_cue[a.cues as usize] = true;
    }
    let ac = build_ac(&t.keys, "phrases")?;
    let sl_ac = build_ac(&t.sl_keys, "phrases (space-less)")?;
    Ok(Compiled {
        ac,
        pats: t.pats,
        sl_ac,
        sl_pats: t.sl_pats,
        n_lists: t.n_lists as usize,
        starts,
        model_cap_cue,
        rules,
        negators,
        breakers,
        neg_window: file.negation.window.unwrap_or(4),
        suppress,
        adjust,
        dropped_when,
        support_actions,
        room_actions,
        escalate_at,
        room_hold_at,
        pii,
    })
}
