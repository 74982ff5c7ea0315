//! The policy file (TOML) and its compiled form.
//!
//! See `policy/default.toml` for the built-in policy and `docs/moderation.md` for the format. A
//! policy is validated completely when it is built: every category, severity and action name, every
//! `{variable}`, every regex and every phrase, so a policy that builds is a policy that works.
//!
//! This file has the public [`Policy`] and [`PolicyError`] and the compiled form the engine reads;
//! `schema.rs` is the file format (what an admin writes, as serde types), `compile.rs` checks it
//! and builds the compiled form, and `terms.rs` turns phrases into the automatons' patterns
//! (`{variables}`, normalisation, the space-less and masked forms).

mod compile;
mod schema;
mod terms;
#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
use regex::Regex;

use crate::model::Model;
use crate::pii::PiiConfig;
use crate::{Action, Category, Context, Severity, Verdict};

/// The built-in policy, shipped with the crate.
pub const DEFAULT_POLICY: &str = include_str!("../../policy/default.toml");

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
// Compiled form

/// One phrase behind an automaton pattern.
#[derive(Debug)]
pub(crate) struct PhraseRef {
    pub list: u32,
    pub runs: Box<[u8]>,
    pub clause_end: bool,
    /// Space-less phrases shorter than [`terms::SHORT_SPACELESS`]: they count only as a whole
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
    /// A cap that also bounds the learned stage's flags of its categories (`bounds_model`).
    pub bounds_model: bool,
}

/// The rules (indices into [`Compiled::rules`], in policy order) each phrase list can start (its
/// `phrases`, the rarest group of its `all`, its regex gate), and the regex rules without a gate,
/// which start on every text. A rule is evaluated only when the list that starts it was found;
/// when no such list was found and no rule is ungated, nothing else is evaluated.
#[derive(Debug)]
pub(crate) struct RuleStarts {
    /// List `l` starts `rules[at[l]..at[l + 1]]`.
    at: Vec<u32>,
    rules: Vec<u32>,
    ungated: Vec<u32>,
}

impl RuleStarts {
    /// From the list that starts each rule, in policy order (`None`: ungated).
    pub(crate) fn new(n_lists: usize, start_of: impl Iterator<Item = Option<u32>>) -> RuleStarts {
        let mut by_list: Vec<Vec<u32>> = vec![Vec::new(); n_lists];
        let mut ungated = Vec::new();
        for (i, list) in start_of.enumerate() {
            match list {
                Some(l) => by_list[l as usize].push(i as u32),
                None => ungated.push(i as u32),
            }
        }
        let mut at = Vec::with_capacity(n_lists + 1);
        at.push(0);
        let mut rules = Vec::new();
        for r in by_list {
            rules.extend(r);
            at.push(rules.len() as u32);
        }
        RuleStarts { at, rules, ungated }
    }

    /// The rules list `list` starts.
    pub(crate) fn of(&self, list: u32) -> &[u32] {
        &self.rules[self.at[list as usize] as usize..self.at[list as usize + 1] as usize]
    }

    /// Whether list `list` starts any rule.
    pub(crate) fn any(&self, list: u32) -> bool {
        self.at[list as usize] != self.at[list as usize + 1]
    }

    /// The regex rules without a gate.
    pub(crate) fn ungated(&self) -> &[u32] {
        &self.ungated
    }
}

#[derive(Debug)]
pub(crate) struct Compiled {
    pub ac: AhoCorasick,
    pub pats: Vec<Vec<PhraseRef>>,
    pub sl_ac: AhoCorasick,
    pub sl_pats: Vec<Vec<PhraseRef>>,
    pub n_lists: usize,
    /// Which rules each phrase list can start.
    pub starts: RuleStarts,
    /// Cue lists of the caps that bound the learned stage (`bounds_model`): with one of them
    /// found, the caps are read even when no rule can start.
    pub model_cap_cue: Vec<bool>,
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

/// A compiled moderation policy, with the learned stage when one is attached
/// ([`Policy::with_model`]). Cheap to clone; build a new one to change the rules.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) inner: Arc<Compiled>,
    model: Option<Model>,
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
        let file: schema::PolicyFile =
            toml::from_str(src).map_err(|e| PolicyError::new("toml", e.to_string().trim_end()))?;
        compile::compile(file).map(|c| Policy { inner: Arc::new(c), model: None })
    }

    /// The same rules with the learned stage: [`crate::check`] then runs both (the rules first,
    /// then the model for what no rule found). Without a model, `check` runs the rules alone.
    pub fn with_model(mut self, model: Model) -> Policy {
        self.model = Some(model);
        self
    }

    /// The learned stage attached to this policy, if any.
    pub fn model(&self) -> Option<&Model> {
        self.model.as_ref()
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
