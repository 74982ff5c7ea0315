//! The on-call contact: the person outside the service an escalation reaches when no
//! supervisor acknowledges it. Alerts leave through the outbox (written in the transaction of
//! the escalation step that caused them) and are POSTed to the on-call webhook, signed, until
//! it takes them.
//!
//! Signing (docs/operations.md, "Verifying on-call alerts"): `X-TalkZone-Timestamp` is the
//! send time in Unix seconds, and `X-TalkZone-Signature` is `sha256=` and the hex HMAC-SHA-256,
//! keyed with `TALKZONE_ONCALL_WEBHOOK_SECRET`, of the timestamp, a `.`, and the body exactly as
//! sent. A receiver recomputes it (refusing a forgery), refuses a timestamp more than
//! [`REPLAY_WINDOW_S`] from its own clock (a replay of an old alert), and may drop a repeated
//! `X-TalkZone-Delivery` (the same on every retry of one alert) inside that window.
//!
//! The alert's body names no words of the young person's: no reason, no message, no name (see
//! [`EscalationOverdueAlert`]).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use talkzone_mobile_api::{ConversationId, EscalationOverdueAlert};

use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::EscalationRecord;
use crate::telemetry;

pub const TIMESTAMP_HEADER: &str = "x-talkzone-timestamp";
pub const SIGNATURE_HEADER: &str = "x-talkzone-signature";
pub const DELIVERY_HEADER: &str = "x-talkzone-delivery";
/// How far a receiver should accept a timestamp from its own clock.
pub const REPLAY_WINDOW_S: i64 = 300;

/// Why the on-call contact is alerted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Not acknowledged by its deadline (or by the previous step).
    Overdue,
    /// Critical, raised when no supervisor was connected to see it.
    Unattended,
}

/// The JSON body of one step's alert.
pub fn alert_body(e: &EscalationRecord, step: i64, next_step_at: i64, why: Why) -> ApiResult<String> {
    let alert = EscalationOverdueAlert {
        kind: match why {
            Why::Overdue => "talkzone.escalation.overdue",
            Why::Unattended => "talkzone.escalation.unattended",
        }
        .into(),
        escalation_id: e.id.clone(),
        conversation_id: ConversationId(e.conversation_id.clone()),
        severity: e.severity.as_str().to_owned(),
        source: e.source.as_str().to_owned(),
        step: u32::try_from(step).unwrap_or(u32::MAX),
        raised_at: rfc3339(e.created_at),
        deadline_at: rfc3339(e.deadline_at),
        next_step_at: rfc3339(next_step_at),
    };
    serde_json::to_string(&alert).map_err(|err| ApiError::Internal(format!("alert: {err}")))
}

/// `sha256=` and the hex HMAC-SHA-256 of `{timestamp}.{body}` under `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Delivers queued on-call alerts, signed. Failed deliveries are retried with a growing wait.
pub async fn deliver_outbox(state: &AppState, http: &reqwest::Client) -> ApiResult<usize> {
    let now = state.clock.now_ms();
    let rows = state.store.claim_outbox(now, now + 30_000, 20).await?;
    let mut delivered = 0;
    let desk = &state.config.desk;
    for row in rows {
        let result = match &desk.oncall_webhook_url {
            None => Err("no on-call webhook is configured (TALKZONE_ONCALL_WEBHOOK_URL)".to_owned()),
            Some(url) => {
                let timestamp = state.clock.now_ms().div_euclid(1000);
                let mut request = http
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(TIMESTAMP_HEADER, timestamp.to_string())
                    .header(DELIVERY_HEADER, row.id.as_str());
                if let Some(secret) = &desk.oncall_webhook_secret {
                    request = request
                        .header(SIGNATURE_HEADER, signature(secret.0.as_bytes(), timestamp, row.payload.as_bytes()));
                }
                match request.body(row.payload.clone()).send().await {
                    Ok(resp) if resp.status().is_success() => Ok(()),
                    Ok(resp) => Err(format!("webhook answered {}", resp.status())),
                    // Without the URL: it may hold a token.
                    Err(e) => Err(format!("webhook unreachable: {}", e.without_url())),
                }
            }
        };
        match result {
            Ok(()) => {
                state.store.outbox_delivered(&row.id, state.clock.now_ms()).await?;
                metrics::counter!(telemetry::ONCALL_DELIVERIES, "result" => "delivered").increment(1);
                delivered += 1;
            }
            Err(why) => {
                metrics::counter!(telemetry::ONCALL_DELIVERIES, "result" => "failed").increment(1);
                let backoff_s = 2_i64.saturating_pow(row.attempts.clamp(0, 8) as u32).min(300);
                tracing::error!(outbox = %row.id, attempts = row.attempts, error = %why, "on-call alert not delivered; will retry");
                state.store.outbox_failed(&row.id, &why, state.clock.now_ms() + backoff_s * 1000).await?;
            }
        }
    }
    Ok(delivered)
}

/// Whether on-call alerts can reach anyone: `ok`, `not_configured`, `unsigned` or `failing`,
/// with what to fix in words.
pub async fn status(state: &AppState) -> (&'static str, Vec<String>) {
    let desk = &state.config.desk;
    if desk.oncall_webhook_url.is_none() {
        return ("not_configured", vec![NOT_CONFIGURED.to_owned()]);
    }
    let failing = tokio::time::timeout(Duration::from_secs(2), state.store.outbox_undelivered()).await;
    if let Ok(Ok((_, failing))) = failing {
        if failing > 0 {
            let w = format!(
                "{failing} on-call alert(s) are waiting after a failed delivery: check the webhook and the logs"
            );
            return ("failing", vec![w]);
        }
    }
    if desk.oncall_webhook_secret.is_none() {
        return ("unsigned", vec!["on-call alerts are sent unsigned: set TALKZONE_ONCALL_WEBHOOK_SECRET".to_owned()]);
    }
    ("ok", Vec::new())
}

/// Said at start, on `/readyz` and on the admin page when no webhook is configured.
pub const NOT_CONFIGURED: &str =
    "no on-call webhook is configured (TALKZONE_ONCALL_WEBHOOK_URL): an escalation nobody \
acknowledges, or a critical one raised when no supervisor is connected, reaches nobody outside the service";

/// Warns in the log at start when the on-call contact cannot be reached.
pub fn warn_at_start(state: &AppState) {
    let desk = &state.config.desk;
    if desk.oncall_webhook_url.is_none() {
        tracing::warn!("{NOT_CONFIGURED}");
    } else if desk.oncall_webhook_secret.is_none() {
        tracing::warn!("on-call alerts are sent unsigned: set TALKZONE_ONCALL_WEBHOOK_SECRET");
    }
}

#[cfg(test)]
mod tests {
    /// A known answer, so that a receiver written from the docs can check itself against it.
    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        let sig = super::signature(b"0123456789abcdef0123456789abcdef", 1_700_000_000, b"{\"a\":1}");
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
        assert_eq!(sig, "sha256=f05f2539e3ae1c49aec5f8cfdad75ef6b06480b133973ffbb7ec9e18827af177");
        assert_ne!(sig, super::signature(b"0123456789abcdef0123456789abcdef", 1_700_000_001, b"{\"a\":1}"));
        assert_ne!(sig, super::signature(b"0123456789abcdef0123456789abcdeF", 1_700_000_000, b"{\"a\":1}"));
    }
}
