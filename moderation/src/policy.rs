//! The policy file (TOML) and its compiled form.
//!
//! See `policy/default.toml` for the built-in policy and `docs/moderation.md` for the format. A
//! policy is validated completely when it is built: every category, severity and action name, every
//! `{variable}`, every regex and every phrase, so a policy that builds is a policy that works.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use serde::Deserialize;

use crate::normalise::{normalise, squeeze_into};
use crate::pii::PiiConfig;
use crate::{Action, Category, Context, Severity, Verdict};

/// The built-in policy, shipped with the crate.
pub const DEFAULT_POLICY: &str = include_str!("../policy/default.toml");

/// A policy that could not be built: where the problem is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// Where: e.g. `rule "suicide.intent"`, `[vars] self`, or `toml` for a syntax error.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl PolicyError {
    fn new(location: impl Into<String>, message: impl Into<String>) -> PolicyError {
        PolicyError { location: location.into(), message: message.into() }
    }
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "moderation policy error in {}: {}", self.location, self.message)
    }
}

impl std::error::Error for PolicyError {}

// ---------------------------------------------------------------------------------------------
// File format (serde)

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: u32,
    #[serde(default)]
    vars: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    negation: NegationFile,
    #[serde(default)]
    rule: Vec<RuleFile>,
    #[serde(default)]
    suppress: Vec<SuppressFile>,
    #[serde(default)]
    adjust: Vec<AdjustFile>,
    #[serde(default)]
    categories: BTreeMap<String, CategoryFile>,
    #[serde(default)]
    actions: ActionsFile,
    #[serde(default)]
    pii: PiiFile,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NegationFile {
    #[serde(default)]
    negators: Vec<String>,
    #[serde(default)]
    breakers: Vec<String>,
    window: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    category: String,
    severity: String,
    #[serde(default)]
    phrases: Vec<String>,
    #[serde(default)]
    all: Vec<Vec<String>>,
    window: Option<u32>,
    ordered: Option<bool>,
    regex: Option<String>,
    #[serde(default)]
    gate: Vec<String>,
    negatable: Option<bool>,
    #[serde(default)]
    unless: Vec<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressFile {
    id: String,
    phrases: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdjustFile {
    id: String,
    categories: Vec<String>,
    cues: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
    mode: String,
    to: String,
    min: Option<String>,
    near: Option<u32>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    #[serde(default)]
    dropped_when: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionsFile {
    escalate_at: Option<String>,
    room_hold_at: Option<String>,
    #[serde(default)]
    support: BTreeMap<String, String>,
    #[serde(default)]
    room: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PiiFile {
    #[serde(default)]
    schools: Vec<String>,
    #[serde(default)]
    given_names: Vec<String>,
    #[serde(default)]
    ambiguous_given_names: Vec<String>,
    #[serde(default)]
    not_surnames: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Compiled form

/// One phrase behind an automaton pattern.
#[derive(Debug)]
pub(crate) struct PhraseRef {
    pub list: u32,
    pub runs: Box<[u8]>,
    pub clause_end: bool,
    /// Space-less phrases shorter than [`SHORT_SPACELESS`]: they count only as a whole
    /// spaced-out word (see `collect_spaceless`).
    pub short: bool,
}

#[derive(Debug)]
pub(crate) enum RuleKind {
    Any(u32),
    All { groups: Vec<u32>, window: u32, ordered: bool },
    Regex { re: Regex, gate: Option<u32> },
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    pub kind: RuleKind,
    pub negatable: bool,
    pub unless: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct Suppress {
    pub list: u32,
    /// Empty: every category.
    pub categories: Vec<Category>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AdjustMode {
    Raise,
    Cap,
}

#[derive(Debug)]
pub(crate) struct Adjust {
    pub id: String,
    pub categories: Vec<Category>,
    pub cues: u32,
    pub unless: Option<u32>,
    pub mode: AdjustMode,
    pub to: Severity,
    pub min: Severity,
    pub near: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct Compiled {
    pub ac: AhoCorasick,
    pub pats: Vec<Vec<PhraseRef>>,
    pub sl_ac: AhoCorasick,
    pub sl_pats: Vec<Vec<PhraseRef>>,
    pub n_lists: usize,
    /// Lists whose hits can start a rule (`phrases`, the first group of `all`, regex gates, or
    /// every regex rule without a gate): when none of them is found, nothing else is evaluated.
    pub trigger: Vec<bool>,
    pub always_run: bool,
    pub rules: Vec<Rule>,
    pub negators: Option<u32>,
    pub breakers: Option<u32>,
    pub neg_window: u32,
    pub suppress: Vec<Suppress>,
    pub adjust: Vec<Adjust>,
    pub dropped_when: Vec<Vec<Category>>,
    pub support_actions: Vec<Action>,
    pub room_actions: Vec<Action>,
    pub escalate_at: Severity,
    pub room_hold_at: Severity,
    pub pii: PiiConfig,
}

/// A compiled moderation policy. Cheap to clone; build a new one to change the rules.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) inner: Arc<Compiled>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy::builtin()
    }
}

impl std::str::FromStr for Policy {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Policy, PolicyError> {
        Policy::from_toml(s)
    }
}

impl Policy {
    /// The built-in policy (`policy/default.toml`), compiled once per process.
    pub fn builtin() -> Policy {
        static BUILTIN: OnceLock<Policy> = OnceLock::new();
        BUILTIN
            .get_or_init(|| match Policy::from_toml(DEFAULT_POLICY) {
                Ok(p) => p,
                // The built-in policy is tested; failing here is a build defect.
                Err(e) => panic!("built-in moderation policy is invalid: {e}"),
            })
            .clone()
    }

    /// Build and validate a policy from TOML text.
    pub fn from_toml(src: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile = toml::from_str(src).map_err(|e| PolicyError::new("toml", e.to_string().trim_end()))?;
        compile(file).map(|c| Policy { inner: Arc::new(c) })
    }

    /// The action for a category in a support chat.
    pub fn action(&self, c: Category) -> Action {
        self.inner.support_actions[c.index()]
    }

    /// The action for a category in a given context.
    pub fn action_in(&self, c: Category, context: Context) -> Action {
        match context {
            Context::Support => self.inner.support_actions[c.index()],
            Context::Room => self.inner.room_actions[c.index()],
        }
    }

    /// The action for a whole verdict: the strongest action of its labels, at least `Escalate` at
    /// or above `escalate_at`, and in rooms at least `Hold` at or above `room_hold_at`.
    pub fn action_for(&self, verdict: &Verdict, context: Context) -> Action {
        if !verdict.flagged() {
            return Action::Allow;
        }
        let mut a = verdict.labels.iter().map(|c| self.action_in(*c, context)).max().unwrap_or(Action::Flag);
        if verdict.severity >= self.inner.escalate_at {
            a = a.max(Action::Escalate);
        }
        if context == Context::Room && verdict.severity >= self.inner.room_hold_at {
            a = a.max(Action::Hold);
        }
        a
    }

    pub(crate) fn pii_config(&self) -> &PiiConfig {
        &self.inner.pii
    }
}

// ---------------------------------------------------------------------------------------------
// Compilation

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

const MAX_EXPANSIONS: usize = 50_000;

/// Expand `{var}` placeholders (recursively) into every combination.
fn expand(
    loc: &str,
    phrase: &str,
    vars: &BTreeMap<String, Vec<String>>,
    depth: u32,
) -> Result<Vec<String>, PolicyError> {
    if depth > 8 {
        return Err(PolicyError::new(loc, format!("variables nest too deeply in {phrase:?}")));
    }
    let Some(open) = phrase.find('{') else {
        if phrase.contains('}') {
            return Err(PolicyError::new(loc, format!("unbalanced '}}' in phrase {phrase:?}")));
        }
        return Ok(vec![phrase.to_string()]);
    };
    let close = phrase[open..]
        .find('}')
        .map(|c| c + open)
        .ok_or_else(|| PolicyError::new(loc, format!("unclosed '{{' in phrase {phrase:?}")))?;
    let name = &phrase[open + 1..close];
    let values = vars.get(name).ok_or_else(|| {
        PolicyError::new(loc, format!("unknown variable {{{name}}} in phrase {phrase:?} (define it under [vars])"))
    })?;
    let mut out = Vec::new();
    for v in values {
        let substituted = format!("{}{}{}", &phrase[..open], v, &phrase[close + 1..]);
        for e in expand(loc, &substituted, vars, depth + 1)? {
            out.push(e);
            if out.len() > MAX_EXPANSIONS {
                return Err(PolicyError::new(
                    loc,
                    format!("phrase {phrase:?} expands to more than {MAX_EXPANSIONS} phrases"),
                ));
            }
        }
    }
    Ok(out)
}

#[derive(Default)]
struct TermTable {
    keys: Vec<String>,
    index: HashMap<String, usize>,
    pats: Vec<Vec<PhraseRef>>,
    sl_keys: Vec<String>,
    sl_index: HashMap<String, usize>,
    sl_pats: Vec<Vec<PhraseRef>>,
    n_lists: u32,
}

/// Minimum length of a phrase (without spaces) for the space-less evasion pass (`k i l l m y s e l f`).
const MIN_SPACELESS: usize = 3;
/// Space-less phrases shorter than this (`t o o k`, `k m s`) match only as a whole spaced-out
/// word: found anywhere in the space-less text, three or four letters match inside too much.
pub(crate) const SHORT_SPACELESS: usize = 5;

impl TermTable {
    fn add_list(
        &mut self,
        loc: &str,
        phrases: &[String],
        vars: &BTreeMap<String, Vec<String>>,
    ) -> Result<u32, PolicyError> {
        let list = self.n_lists;
        self.n_lists += 1;
        if phrases.is_empty() {
            return Err(PolicyError::new(loc, "empty phrase list"));
        }
        for p in phrases {
            for e in expand(loc, p, vars, 0)? {
                self.add_phrase(loc, list, &e, true)?;
            }
        }
        Ok(list)
    }

    /// Like [`TermTable::add_list`], and single words also match with their inner vowels masked by
    /// `*` (`f*ggot`, `p*ki`, `sh*t`), the way people dodge word filters.
    fn add_rule_list(
        &mut self,
        loc: &str,
        phrases: &[String],
        vars: &BTreeMap<String, Vec<String>>,
    ) -> Result<u32, PolicyError> {
        let list = self.add_list(loc, phrases, vars)?;
        for p in phrases {
            for e in expand(loc, p, vars, 0)? {
                for m in masked_variants(&e) {
                    self.add_phrase(loc, list, &m, false)?;
                }
            }
        }
        Ok(list)
    }

    fn add_phrase(&mut self, loc: &str, list: u32, phrase: &str, spaceless: bool) -> Result<(), PolicyError> {
        let mut p = phrase.trim();
        let mut clause_end = false;
        if let Some(stripped) = p.strip_suffix('$') {
            clause_end = true;
            p = stripped.trim_end();
        }
        let mut prefix = false;
        if let Some(stripped) = p.strip_suffix('*') {
            // `f*ck` keeps its star; only a trailing star after a letter is a prefix marker
            prefix = true;
            p = stripped;
        }
        let n = normalise(p);
        if n.tokens.is_empty() {
            return Err(PolicyError::new(loc, format!("phrase {phrase:?} has no words after normalisation")));
        }
        if prefix && n.tokens.last().is_some_and(|t| t.raw_end - t.raw_start < 3) {
            return Err(PolicyError::new(
                loc,
                format!("phrase {phrase:?}: a trailing `*` (any ending) needs at least 3 letters before it"),
            ));
        }
        let mut key = n.text.clone();
        let mut runs = n.runs.clone();
        if prefix {
            key.pop();
            runs.pop();
        }
        let r = PhraseRef { list, runs: runs.into_boxed_slice(), clause_end, short: false };
        let id = *self.index.entry(key.clone()).or_insert_with(|| {
            self.keys.push(key);
            self.pats.push(Vec::new());
            self.keys.len() - 1
        });
        self.pats[id].push(r);
        // the space-less form, for spaced-out evasions; spelt-out letters keep their final g
        // ("k i l l i n g"), so the word is added both with and without it
        if spaceless {
            let words: Vec<&str> = p.split_whitespace().collect();
            let mut with_g = String::new();
            if words.len() == n.tokens.len() {
                for (t, w) in n.tokens.iter().zip(&words) {
                    let r = &n.raw[t.raw_start as usize..t.raw_end as usize];
                    with_g.push_str(r);
                    if r.ends_with("in") && w.to_ascii_lowercase().ends_with("ing") {
                        with_g.push('g');
                    }
                }
            }
            for joined in [n.raw.clone(), with_g] {
                if joined.len() < MIN_SPACELESS || !joined.is_ascii() || joined.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                let mut sl = String::new();
                let mut slr = Vec::new();
                squeeze_into(&joined, &mut sl, &mut slr);
                let id = *self.sl_index.entry(sl.clone()).or_insert_with(|| {
                    self.sl_keys.push(sl);
                    self.sl_pats.push(Vec::new());
                    self.sl_keys.len() - 1
                });
                if !self.sl_pats[id].iter().any(|r| r.list == list && *r.runs == *slr) {
                    self.sl_pats[id].push(PhraseRef {
                        list,
                        runs: slr.into_boxed_slice(),
                        clause_end: false,
                        short: joined.len() < SHORT_SPACELESS,
                    });
                }
            }
        }
        Ok(())
    }

    fn opt_list(
        &mut self,
        loc: &str,
        phrases: &[String],
        vars: &BTreeMap<String, Vec<String>>,
    ) -> Result<Option<u32>, PolicyError> {
        if phrases.is_empty() {
            Ok(None)
        } else {
            self.add_list(loc, phrases, vars).map(Some)
        }
    }
}

/// `faggot` -> `f*ggot`, `fagg*t`, `f*gg*t`: each inner vowel masked, and all of them.
fn masked_variants(word: &str) -> Vec<String> {
    let w = word.trim();
    if w.len() < 4 || !w.bytes().all(|b| b.is_ascii_lowercase()) {
        return Vec::new();
    }
    let b = w.as_bytes();
    let inner: Vec<usize> = (1..b.len() - 1).filter(|&i| matches!(b[i], b'a' | b'e' | b'i' | b'o' | b'u')).collect();
    let mut out = Vec::new();
    for &i in &inner {
        let mut v = b.to_vec();
        v[i] = b'*';
        out.push(String::from_utf8_lossy(&v).into_owned());
    }
    if inner.len() > 1 {
        let mut v = b.to_vec();
        for &i in &inner {
            v[i] = b'*';
        }
        out.push(String::from_utf8_lossy(&v).into_owned());
    }
    out
}

fn build_ac(keys: &[String], loc: &str) -> Result<AhoCorasick, PolicyError> {
    // The contiguous NFA (the default for this many patterns) is ~2 MB; a full DFA would be
    // ~60 MB and was not faster here (cache misses).
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .build(keys)
        .map_err(|e| PolicyError::new(loc, format!("cannot build phrase automaton: {e}")))
}

fn compile(file: PolicyFile) -> Result<Compiled, PolicyError> {
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
        adjust.push(Adjust { id: a.id.clone(), categories, cues, unless, mode, to, min, near: a.near });
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

    let mut trigger = vec![false; t.n_lists as usize];
    let mut always_run = false;
    for r in &rules {
        match &r.kind {
            RuleKind::Any(l) => trigger[*l as usize] = true,
            RuleKind::All { groups, .. } => {
                for g in groups {
                    trigger[*g as usize] = true;
                }
            }
            RuleKind::Regex { gate: Some(g), .. } => trigger[*g as usize] = true,
            RuleKind::Regex { gate: None, .. } => always_run = true,
        }
    }
    let ac = build_ac(&t.keys, "phrases")?;
    let sl_ac = build_ac(&t.sl_keys, "phrases (space-less)")?;
    Ok(Compiled {
        ac,
        pats: t.pats,
        sl_ac,
        sl_pats: t.sl_pats,
        n_lists: t.n_lists as usize,
        trigger,
        always_run,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policy_parses() {
        let p = Policy::from_toml(DEFAULT_POLICY);
        assert!(p.is_ok(), "{:?}", p.err());
        let p = Policy::builtin();
        assert_eq!(p.action(Category::Suicide), Action::Escalate);
    }

    fn err(src: &str) -> PolicyError {
        match Policy::from_toml(src) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    #[test]
    fn bad_regex_names_the_rule() {
        let e = err("version = 1\n[[rule]]\nid = \"x.bad\"\ncategory = \"weapons\"\nseverity = \"high\"\nregex = \"(unclosed\"\n");
        assert!(e.location.contains("x.bad"), "{e}");
        assert!(e.to_string().contains("bad regex"), "{e}");
    }

    #[test]
    fn unknown_category_and_severity() {
        let e = err(
            "version = 1\n[[rule]]\nid = \"a\"\ncategory = \"weapon\"\nseverity = \"high\"\nphrases = [\"knife\"]\n",
        );
        assert!(e.to_string().contains("unknown category \"weapon\""), "{e}");
        let e = err(
            "version = 1\n[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"huge\"\nphrases = [\"knife\"]\n",
        );
        assert!(e.to_string().contains("unknown severity"), "{e}");
    }

    #[test]
    fn unknown_variable_and_syntax() {
        let e = err("version = 1\n[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"high\"\nphrases = [\"{nope} knife\"]\n");
        assert!(e.to_string().contains("unknown variable {nope}"), "{e}");
        let e = err("version = 1\n[[rule]\n");
        assert_eq!(e.location, "toml");
        let e = err(
            "version = 1\n[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"high\"\nphrase = [\"knife\"]\n",
        );
        assert!(e.to_string().contains("phrase"), "{e}");
    }

    #[test]
    fn rule_needs_one_kind_and_unique_id() {
        let e = err("version = 1\n[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"high\"\n");
        assert!(e.to_string().contains("exactly one"), "{e}");
        let r = "[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"high\"\nphrases = [\"knife\"]\n";
        let e = err(&format!("version = 1\n{r}{r}"));
        assert!(e.to_string().contains("duplicate"), "{e}");
    }

    #[test]
    fn small_policy_works() {
        let p = Policy::from_toml(
            "version = 1\n[vars]\nw = [\"knife\", \"blade\"]\n[[rule]]\nid = \"w\"\ncategory = \"weapons\"\nseverity = \"high\"\nphrases = [\"got a {w}\"]\n[actions.support]\ndefault = \"flag\"\nweapons = \"escalate\"\n",
        );
        let p = match p {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let v = crate::check(&p, &crate::Draft::new("i got a BLAAADE"));
        assert_eq!(v.severity, Severity::High);
        assert_eq!(v.flags[0].matched, "got a BLAAADE");
        assert_eq!(p.action(Category::Weapons), Action::Escalate);
        assert_eq!(p.action(Category::Hate), Action::Flag);
    }
}
