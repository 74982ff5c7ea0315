//! Throttling guesses without handing anyone a way to lock a worker out: failures are counted
//! per account and source together (the client's address; IPv6 by /64), kept in the database
//! so every node and a restart see the same count. The first [`FREE_FAILURES`] cost nothing;
//! after that each failure doubles the wait before that source may try that account again (1
//! s, 2 s, 4 s … up to [`MAX_WAIT`]); a success from the source forgets its failures. Someone
//! else's failures, from another address, never refuse the right password: the per-username
//! limit this replaces did (the night-shift worker got in 2 times out of 5).
//!
//! The same throttle guards the current password of `POST /v1/me/password` and second-factor
//! codes. Guessing one account from many addresses meets the per-address limit on `/v1/auth/*`,
//! argon2's cost, the refusal of common passwords, and (for staff) the second factor.

use std::net::IpAddr;
use std::time::Duration;

use super::Auth;
use crate::error::ApiError;

/// Failures from one source on one account before the waits begin.
pub const FREE_FAILURES: i64 = 5;
/// The longest wait between guesses.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Failures older than this (with none since) are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// What is being guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guess {
    /// A password at sign-in; the subject is the username as typed (lower case), whether or not
    /// the account exists.
    SignIn,
    /// The current password when changing it; the subject is the account.
    CurrentPassword,
    /// A second-factor code (or recovery code); the subject is the account.
    SecondFactor,
    /// The same, from every source together (source `*`): whoever gets this far has the
    /// password, so a guesser spread over many addresses is slowed too, after
    /// [`FREE_CODE_FAILURES_PER_ACCOUNT`].
    SecondFactorAnySource,
}

impl Guess {
    fn scope(self) -> &'static str {
        match self {
            Guess::SignIn => "sign_in",
            Guess::CurrentPassword => "current_password",
            Guess::SecondFactor => "second_factor",
            Guess::SecondFactorAnySource => "second_factor_account",
        }
    }

    /// When the waits begin for this guess.
    pub(crate) fn block(self) -> fn(i64, i64) -> Option<i64> {
        match self {
            Guess::SecondFactorAnySource => wait_after_account_codes,
            _ => wait_after,
        }
    }
}

/// Wrong second-factor codes on one account, from anywhere, before its waits begin: enough
/// that the worker's own slips never matter; few enough that guessing a 6-digit code from many
/// addresses with a stolen password gets nowhere.
pub const FREE_CODE_FAILURES_PER_ACCOUNT: i64 = 20;

fn wait_after_account_codes(failures: i64, now: i64) -> Option<i64> {
    wait_after(failures - (FREE_CODE_FAILURES_PER_ACCOUNT - FREE_FAILURES), now)
}

/// The wait after the `failures`th failure (none within the free ones), from `now`.
pub fn wait_after(failures: i64, now: i64) -> Option<i64> {
    if failures < FREE_FAILURES {
        return None;
    }
    let doublings = (failures - FREE_FAILURES).min(20) as u32;
    let wait = Duration::from_secs(1u64 << doublings).min(MAX_WAIT);
    Some(now + wait.as_millis() as i64)
}

/// A source as the throttle counts it: an address, IPv6 grouped by /64; or `*`, the account
/// from anywhere.
pub fn source_of(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "*".to_owned(), |ip| crate::limits::ip_bucket(ip).to_string())
}

impl Auth {
    /// Refuses (429, with when to try again) while `source` must wait before guessing again.
    pub(crate) async fn check_throttle(&self, guess: Guess, subject: &str, source: &str) -> Result<(), ApiError> {
        let now = self.clock.now_ms();
        match self.store.auth_blocked_until(guess.scope(), subject, source).await? {
            Some(until) if until > now => {
                metrics::counter!(crate::telemetry::RATE_LIMITED).increment(1);
                Err(ApiError::RateLimited { retry_after: Duration::from_millis((until - now) as u64) })
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed guess; returns how many in a row.
    pub(crate) async fn guessed_wrong(&self, guess: Guess, subject: &str, source: &str) -> Result<i64, ApiError> {
        let now = self.clock.now_ms();
        let forget_before = now - FORGET_AFTER.as_millis() as i64;
        Ok(self.store.record_auth_failure(guess.scope(), subject, source, now, forget_before, guess.block()).await?)
    }

    /// Forgets the failures of a source that got it right.
    pub(crate) async fn guessed_right(&self, guess: Guess, subject: &str, source: &str) -> Result<(), ApiError> {
        Ok(self.store.clear_auth_failures(guess.scope(), subject, source).await?)
    }

    /// Forgets failures nobody has repeated for [`FORGET_AFTER`] (the scheduler's housekeeping).
    pub async fn forget_old_failures(&self) -> Result<u64, ApiError> {
        Ok(self.store.forget_auth_failures(self.clock.now_ms() - FORGET_AFTER.as_millis() as i64).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_failures_and_double_up_to_the_cap() {
        let waits: Vec<_> = (1..=16).map(|n| wait_after(n, 0).map(|t| t / 1000)).collect();
        assert_eq!(&waits[..4], &[None, None, None, None]);
        assert_eq!(&waits[4..10], &[Some(1), Some(2), Some(4), Some(8), Some(16), Some(32)]);
        assert_eq!(waits[15], Some(900), "capped at 15 minutes");
        assert_eq!(wait_after(i64::MAX, 0), Some(900_000));
    }

    #[test]
    fn sources_are_addresses_with_ipv6_by_64() {
        assert_eq!(source_of(Some("203.0.113.9".parse().unwrap())), "203.0.113.9");
        assert_eq!(source_of(Some("2001:db8:1:2:aaaa::1".parse().unwrap())), "2001:db8:1:2::");
        assert_eq!(source_of(None), "*");
    }
}
