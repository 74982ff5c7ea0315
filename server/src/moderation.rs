//! The server's side of moderation: holds the current policy (swappable at run time without a
//! restart) and classifies drafts with the pure `talkzone-moderation` crate.

use std::sync::{Arc, RwLock};

use talkzone_moderation::{Action, Context, Draft, Policy, PolicyError, Verdict};

pub struct ModerationService {
    policy: RwLock<Arc<Policy>>,
    /// The TOML the current policy was built from (the built-in one when none was set).
    source: RwLock<String>,
}

/// Where an admin's policy is kept, so that it survives a restart.
pub fn policy_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("moderation-policy.toml")
}

impl ModerationService {
    pub fn new(policy: Policy) -> Self {
        Self::with_source(policy, talkzone_moderation::DEFAULT_POLICY.to_owned())
    }

    fn with_source(policy: Policy, source: String) -> Self {
        Self { policy: RwLock::new(Arc::new(policy)), source: RwLock::new(source) }
    }

    /// The policy saved in the data dir if there is one, else the built-in one.
    pub fn load(data_dir: &std::path::Path) -> Result<Self, String> {
        let path = policy_path(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(src) => {
                let policy = Policy::from_toml(&src).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(Self::with_source(policy, src))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::new(Policy::builtin())),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    pub fn source(&self) -> String {
        self.source.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn current(&self) -> Arc<Policy> {
        self.policy.read().unwrap_or_else(|p| p.into_inner()).clone()
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

    /// Replaces the policy after validating the new one; the old one stays on error.
    pub fn reload(&self, policy_toml: &str) -> Result<(), PolicyError> {
        let policy = Policy::from_toml(policy_toml)?;
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(policy);
        *self.source.write().unwrap_or_else(|p| p.into_inner()) = policy_toml.to_owned();
        Ok(())
    }
}
