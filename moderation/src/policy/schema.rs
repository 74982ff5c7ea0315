//! The policy file's format: what an admin writes, read with serde (`deny_unknown_fields`, so a
//! misspelt key is an error). [`super::compile`] checks the values and builds the compiled form.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyFile {
    pub(super) version: u32,
    #[serde(default)]
    pub(super) vars: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub(super) negation: NegationFile,
    #[serde(default)]
    pub(super) rule: Vec<RuleFile>,
    #[serde(default)]
    pub(super) suppress: Vec<SuppressFile>,
    #[serde(default)]
    pub(super) adjust: Vec<AdjustFile>,
    #[serde(default)]
    pub(super) categories: BTreeMap<String, CategoryFile>,
    #[serde(default)]
    pub(super) actions: ActionsFile,
    #[serde(default)]
    pub(super) pii: PiiFile,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct NegationFile {
    #[serde(default)]
    pub(super) negators: Vec<String>,
    #[serde(default)]
    pub(super) breakers: Vec<String>,
    pub(super) window: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleFile {
    pub(super) id: String,
    pub(super) category: String,
    pub(super) severity: String,
    #[serde(default)]
    pub(super) phrases: Vec<String>,
    #[serde(default)]
    pub(super) all: Vec<Vec<String>>,
    pub(super) window: Option<u32>,
    pub(super) ordered: Option<bool>,
    pub(super) regex: Option<String>,
    #[serde(default)]
    pub(super) gate: Vec<String>,
    pub(super) negatable: Option<bool>,
    #[serde(default)]
    pub(super) unless: Vec<String>,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuppressFile {
    pub(super) id: String,
    pub(super) phrases: Vec<String>,
    #[serde(default)]
    pub(super) categories: Vec<String>,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AdjustFile {
    pub(super) id: String,
    pub(super) categories: Vec<String>,
    pub(super) cues: Vec<String>,
    #[serde(default)]
    pub(super) unless: Vec<String>,
    pub(super) mode: String,
    pub(super) to: String,
    pub(super) min: Option<String>,
    pub(super) near: Option<u32>,
    /// A cap that also bounds what the learned stage adds (`true` only for jest: a cue that
    /// makes any threat in the text a joke).
    #[serde(default)]
    pub(super) bounds_model: bool,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct CategoryFile {
    #[serde(default)]
    pub(super) dropped_when: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ActionsFile {
    pub(super) escalate_at: Option<String>,
    pub(super) room_hold_at: Option<String>,
    #[serde(default)]
    pub(super) support: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) room: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PiiFile {
    #[serde(default)]
    pub(super) schools: Vec<String>,
    #[serde(default)]
    pub(super) given_names: Vec<String>,
    #[serde(default)]
    pub(super) ambiguous_given_names: Vec<String>,
    #[serde(default)]
    pub(super) not_surnames: Vec<String>,
}
