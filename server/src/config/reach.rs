//! Settings for reaching a young person after they put the phone down: coming back to an
//! anonymous account.

use super::{bad, ConfigError};

/// Coming back to an anonymous account (docs/privacy.md, "Coming back").
#[derive(Debug, Clone)]
pub struct ReturningConfig {
    /// A device credential unused this many days is forgotten.
    pub device_credential_days: u32,
}

impl Default for ReturningConfig {
    fn default() -> Self {
        // Half a year: a young person who comes back after the summer still finds their chat;
        // closed chats themselves are kept a year.
        Self { device_credential_days: 180 }
    }
}

impl ReturningConfig {
    pub(super) fn from_settings(device_credential_days: Option<u32>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let days = device_credential_days.unwrap_or(d.device_credential_days);
        if !(1..=730).contains(&days) {
            return Err(bad("device-credential-days", "must be between 1 and 730 days"));
        }
        Ok(Self { device_credential_days: days })
    }
}
