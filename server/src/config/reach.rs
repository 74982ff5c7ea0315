//! Settings for reaching a young person after they put the phone down: coming back to an
//! anonymous account, and chats they stopped answering.

use std::time::Duration;

use super::{bad, ConfigError};

/// Coming back to an anonymous account (docs/privacy.md, "Coming back") and inactive chats
/// (docs/duty-desk.md, "Inactive chats").
#[derive(Debug, Clone)]
pub struct ReturningConfig {
    /// A device credential unused this many days is forgotten.
    pub device_credential_days: u32,
    /// The young person has not answered the worker for this long: the worker is told.
    pub inactive_prompt_after: Duration,
    /// ... and for this long (from the worker's last message): the chat closes `no_response`.
    pub inactive_close_after: Duration,
}

impl Default for ReturningConfig {
    fn default() -> Self {
        // Half a year: a young person who comes back after the summer still finds their chat;
        // closed chats themselves are kept a year. A quarter of an hour's silence is worth a
        // look from the worker; half an hour frees the slot for someone waiting.
        Self {
            device_credential_days: 180,
            inactive_prompt_after: Duration::from_secs(15 * 60),
            inactive_close_after: Duration::from_secs(30 * 60),
        }
    }
}

impl ReturningConfig {
    pub(super) fn from_settings(
        device_credential_days: Option<u32>,
        inactive_prompt_minutes: Option<u32>,
        inactive_close_minutes: Option<u32>,
    ) -> Result<Self, ConfigError> {
        let d = Self::default();
        let days = device_credential_days.unwrap_or(d.device_credential_days);
        if !(1..=730).contains(&days) {
            return Err(bad("device-credential-days", "must be between 1 and 730 days"));
        }
        let minutes = |d: Duration| (d.as_secs() / 60) as u32;
        let prompt = inactive_prompt_minutes.unwrap_or(minutes(d.inactive_prompt_after));
        let close = inactive_close_minutes.unwrap_or(minutes(d.inactive_close_after));
        if !(1..=720).contains(&prompt) {
            return Err(bad("inactive-prompt-minutes", "must be between 1 and 720 minutes"));
        }
        if close <= prompt || close > 1440 {
            return Err(bad(
                "inactive-close-minutes",
                "must be more than inactive-prompt-minutes (the worker is told first) and at most 1440",
            ));
        }
        Ok(Self {
            device_credential_days: days,
            inactive_prompt_after: Duration::from_secs(u64::from(prompt) * 60),
            inactive_close_after: Duration::from_secs(u64::from(close) * 60),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_is_told_before_the_chat_closes() {
        let ok = ReturningConfig::from_settings(None, Some(5), Some(10)).unwrap();
        assert_eq!(ok.inactive_close_after, Duration::from_secs(600));
        assert!(ReturningConfig::from_settings(None, Some(10), Some(10)).is_err());
        assert!(ReturningConfig::from_settings(None, Some(0), None).is_err());
        assert!(ReturningConfig::from_settings(Some(0), None, None).is_err());
        assert!(ReturningConfig::from_settings(None, None, None).is_ok(), "the defaults");
    }
}
