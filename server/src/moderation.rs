//! The server's side of moderation: holds this node's copy of the policy in force (swappable
//! at run time without a restart) and classifies drafts with the pure `talkzone-moderation`
//! crate. Which version is in force is decided in the database (`policies`); this is only the
//! node's compiled copy of it.

use std::sync::{Arc, RwLock};

use talkzone_moderation::{
    Action, Context, Conversation, Draft, InContext, Model, ModelError, Policy, PolicyError, RecentVerdict, Verdict,
};

/// The policy in force on this node, and which version it is.
struct InForce {
    /// 0 for the built-in policy; otherwise its version in the database.
    version: i64,
    policy: Arc<Policy>,
    /// The TOML it was built from.
    source: Arc<str>,
}

/// One lock for the three, so that a reader never sees the version of one policy with the
/// rules of another.
pub struct ModerationService {
    in_force: RwLock<InForce>,
    /// The learned stage, the same under every version of the rules.
    model: Model,
}

/// The model the service runs with: the file `path` names, else the one built into the binary.
/// A missing, unreadable or corrupt file is an error that says which and why: the service
/// never runs silently on the rules alone.
pub fn load_model(path: Option<&std::path::Path>) -> Result<Model, String> {
    match path {
        None => Model::builtin().map_err(|e| format!("the built-in model: {e}")),
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Model::from_bytes(&bytes).map_err(|e: ModelError| format!("{}: {e}", p.display()))
        }
    }
}

impl ModerationService {
    /// The built-in rules (version 0) with `model`, until the database says otherwise.
    pub fn new(model: Model) -> Self {
        let policy = Policy::builtin().with_model(model.clone());
        let in_force =
            InForce { version: 0, policy: Arc::new(policy), source: Arc::from(talkzone_moderation::DEFAULT_POLICY) };
        Self { in_force: RwLock::new(in_force), model }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, InForce> {
        self.in_force.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The version in force on this node (0: the built-in policy).
    pub fn version(&self) -> i64 {
        self.read().version
    }

    /// The TOML of the policy in force.
    pub fn source(&self) -> Arc<str> {
        self.read().source.clone()
    }

    fn current(&self) -> Arc<Policy> {
        self.read().policy.clone()
    }

    /// Classifies a message (pure and fast: microseconds, so it runs inline).
    pub fn check(&self, text: &str, context: Context) -> Verdict {
        let policy = self.current();
        talkzone_moderation::check(&policy, &Draft { text, context })
    }

    /// Classifies and says what the policy wants done with it in this context.
    pub fn assess(&self, text: &str, context: Context) -> (Verdict, Action) {
        let policy = self.current();
        let verdict = talkzone_moderation::check(&policy, &Draft { text, context });
        let action = policy.action_for(&verdict, context);
        (verdict, action)
    }

    /// Classifies a young person's message with their earlier ones in the same chat (oldest
    /// first): risk that builds across messages raises the verdict and the conversation's risk.
    pub fn assess_in_context(&self, text: &str, context: Context, recent: &[RecentVerdict]) -> (InContext, Action) {
        let policy = self.current();
        let draft = Draft { text, context };
        let outcome = talkzone_moderation::check_in_context(&policy, &draft, &Conversation { recent });
        let action = policy.action_for(&outcome.verdict, context);
        (outcome, action)
    }

    /// Checks a policy without putting it in force.
    pub fn validate(policy_toml: &str) -> Result<(), PolicyError> {
        Policy::from_toml(policy_toml).map(drop)
    }

    /// Compiles a policy with this service's model, ready to [`install`](Self::install_compiled).
    /// Hundreds of milliseconds of CPU for the built-in one: call it off the async threads.
    pub fn compile(&self, policy_toml: &str) -> Result<Policy, PolicyError> {
        Ok(Policy::from_toml(policy_toml)?.with_model(self.model.clone()))
    }

    /// Puts `version` in force after compiling it; the old one stays on error. An older
    /// version than the one in force is ignored (a late reload must not undo a newer one).
    pub fn install(&self, version: i64, policy_toml: &str) -> Result<bool, PolicyError> {
        let policy = self.compile(policy_toml)?;
        Ok(self.install_compiled(version, policy, policy_toml))
    }

    /// Puts a compiled policy in force as `version` (see [`install`](Self::install)).
    pub fn install_compiled(&self, version: i64, policy: Policy, policy_toml: &str) -> bool {
        let mut in_force = self.in_force.write().unwrap_or_else(|p| p.into_inner());
        if version < in_force.version {
            return false;
        }
        *in_force = InForce { version, policy: Arc::new(policy), source: Arc::from(policy_toml) };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_older_version_does_not_undo_a_newer_one() {
        let m = ModerationService::new(load_model(None).expect("the built-in model"));
        assert_eq!(m.version(), 0);
        let src = talkzone_moderation::DEFAULT_POLICY;
        assert!(matches!(m.install(3, src), Ok(true)));
        assert!(matches!(m.install(2, src), Ok(false)));
        assert_eq!(m.version(), 3);
        assert!(m.install(4, "not = [valid").is_err());
        assert_eq!(m.version(), 3, "a bad policy leaves the old one in force");
    }

    #[test]
    fn a_missing_or_corrupt_model_file_is_an_error_that_names_it() {
        let dir = std::env::temp_dir().join(format!("tz-model-{}", crate::ids::random_id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let missing = dir.join("missing.bin");
        let e = load_model(Some(&missing)).expect_err("missing");
        assert!(e.contains("missing.bin"), "{e}");
        let corrupt = dir.join("corrupt.bin");
        std::fs::write(&corrupt, b"TZMODEL\0 but then nothing a model needs").expect("write");
        let e = load_model(Some(&corrupt)).expect_err("corrupt");
        assert!(e.contains("corrupt.bin"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(load_model(None).is_ok(), "the built-in model loads");
    }
}
