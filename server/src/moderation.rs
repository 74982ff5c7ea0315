//! The server's side of moderation: holds the current policy (swappable at run time without a
//! restart) and classifies drafts with the pure `talkzone-moderation` crate.

use std::sync::{Arc, RwLock};

use talkzone_moderation::{Context, Draft, Policy, PolicyError, Verdict};

pub struct ModerationService {
    policy: RwLock<Arc<Policy>>,
}

impl ModerationService {
    pub fn new(policy: Policy) -> Self {
        Self { policy: RwLock::new(Arc::new(policy)) }
    }

    fn current(&self) -> Arc<Policy> {
        self.policy.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Classifies a message (pure and fast: microseconds, so it runs inline).
    pub fn check(&self, text: &str, context: Context) -> Verdict {
        let policy = self.current();
        talkzone_moderation::check(&policy, &Draft { text, context })
    }

    /// Replaces the policy after validating the new one; the old one stays on error.
    pub fn reload(&self, policy_toml: &str) -> Result<(), PolicyError> {
        let policy = Policy::from_toml(policy_toml)?;
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(policy);
        Ok(())
    }
}
