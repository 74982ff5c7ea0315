//! The server's side of moderation: holds this node's copy of the policy in force (swappable
//! at run time without a restart) and classifies drafts with the pure `talkzone-moderation`
//! crate. Which version is in force is decided in the database (`policies`); this is only the
//! node's compiled copy of it.

use std::sync::{Arc, RwLock};

use talkzone_moderation::{Action, Context, Draft, Policy, PolicyError, Verdict};

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
}

impl Default for ModerationService {
    fn default() -> Self {
        Self::builtin()
    }
}

impl ModerationService {
    /// The built-in policy (version 0), until the database says otherwise.
    pub fn builtin() -> Self {
        Self::with(0, Policy::builtin(), talkzone_moderation::DEFAULT_POLICY)
    }

    fn with(version: i64, policy: Policy, source: &str) -> Self {
        Self { in_force: RwLock::new(InForce { version, policy: Arc::new(policy), source: Arc::from(source) }) }
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

    /// Checks a policy without putting it in force.
    pub fn validate(policy_toml: &str) -> Result<(), PolicyError> {
        Policy::from_toml(policy_toml).map(drop)
    }

    /// Puts `version` in force after compiling it; the old one stays on error. An older
    /// version than the one in force is ignored (a late reload must not undo a newer one).
    pub fn install(&self, version: i64, policy_toml: &str) -> Result<bool, PolicyError> {
        let policy = Policy::from_toml(policy_toml)?;
        let mut in_force = self.in_force.write().unwrap_or_else(|p| p.into_inner());
        if version < in_force.version {
            return Ok(false);
        }
        *in_force = InForce { version, policy: Arc::new(policy), source: Arc::from(policy_toml) };
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_older_version_does_not_undo_a_newer_one() {
        let m = ModerationService::builtin();
        assert_eq!(m.version(), 0);
        let src = talkzone_moderation::DEFAULT_POLICY;
        assert!(matches!(m.install(3, src), Ok(true)));
        assert!(matches!(m.install(2, src), Ok(false)));
        assert_eq!(m.version(), 3);
        assert!(m.install(4, "not = [valid").is_err());
        assert_eq!(m.version(), 3, "a bad policy leaves the old one in force");
    }
}
