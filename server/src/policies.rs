//! The texts the whole service runs on, by version, in the database: the moderation policy and
//! the monitoring notice. A new version is audited and put in force on every node: the node
//! that stored it at once, the others when the broker tells them (`Event::PolicyChanged`) or,
//! if that event is lost, at their next look at the database ([`refresh`], twice a second by
//! `jobs`). Earlier versions stay listed and can be put back (as a new version).
//!
//! Before versions lived here, an admin's policy and notice were files in the data directory;
//! [`adopt_policy_file`] (and `privacy::notice::adopt_file`) take them in once, when the
//! database has none.

use talkzone_mobile_api::{PolicyInForce, PolicyVersion, PolicyVersionList, Role, UserId};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget, PolicyKind};
use crate::moderation::ModerationService;
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::{PolicyVersionRecord, Store};

const ADMIN: &[Role] = &[Role::YotAdmin];

/// Where an admin's moderation policy used to be kept (taken in by [`adopt_policy_file`]).
pub fn legacy_policy_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("moderation-policy.toml")
}

/// Stores `body` as the next version of `kind` (above `floor`), audited; another writer taking
/// the same number first makes this one the number after.
#[allow(clippy::too_many_arguments)] // each is a column or the audit entry's: no natural group
pub async fn store_next(
    store: &dyn Store,
    kind: PolicyKind,
    body: &str,
    at: i64,
    by: Option<&str>,
    note: Option<String>,
    action: AuditAction,
    floor: i64,
) -> ApiResult<i64> {
    for _ in 0..5 {
        let version = store.latest_policy_version(kind).await?.unwrap_or(0).max(floor) + 1;
        let record = PolicyVersionRecord {
            kind,
            version,
            body: body.to_owned(),
            created_at: at,
            created_by: by.map(str::to_owned),
            note: note.clone(),
        };
        let details = Some(match &note {
            Some(n) => format!("version {version} ({n})"),
            None => format!("version {version}"),
        });
        let audit = crate::audit::event(at, by, action, AuditTarget::Policy, kind.as_str(), details);
        if store.insert_policy_version(&record, audit).await? {
            return Ok(version);
        }
    }
    Err(ApiError::Conflict("the policy was changed at the same time; try again".into()))
}

/// At start, before the node serves: the policy file an earlier version of the service kept in
/// the data directory becomes the first stored version, once. One that does not compile stops
/// the start (as it always did).
pub async fn adopt_policy_file(store: &dyn Store, data_dir: &std::path::Path, now: i64) -> Result<(), String> {
    let path = legacy_policy_path(data_dir);
    if store.latest_policy_version(PolicyKind::Moderation).await.map_err(|e| e.to_string())?.is_none() {
        match std::fs::read_to_string(&path) {
            Ok(src) => {
                ModerationService::validate(&src).map_err(|e| format!("{}: {e}", path.display()))?;
                let note = Some(format!("taken in from {}", path.display()));
                store_next(
                    store,
                    PolicyKind::Moderation,
                    &src,
                    now,
                    None,
                    note,
                    AuditAction::ModerationPolicyReplaced,
                    0,
                )
                .await
                .map_err(|e| e.to_string())?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
    }
    Ok(())
}

/// Puts the newest stored moderation policy in force on this node if it is not already;
/// `true` when it changed. A stored version always compiled when it was stored; one that does
/// not (a newer binary's rules on an older one) is logged and the old one stays.
pub async fn refresh(state: &AppState) -> ApiResult<bool> {
    let Some(latest) = state.store.latest_policy_version(PolicyKind::Moderation).await? else { return Ok(false) };
    if latest <= state.moderation.version() {
        return Ok(false);
    }
    let Some(record) = state.store.policy_version(PolicyKind::Moderation, latest).await? else { return Ok(false) };
    let compiled = compile(state, record.body.clone()).await?;
    match compiled.map(|policy| state.moderation.install_compiled(record.version, policy, &record.body)) {
        Ok(changed) => {
            if changed {
                tracing::info!(version = record.version, "moderation policy in force");
            }
            Ok(changed)
        }
        Err(e) => {
            tracing::error!(version = record.version, error = %e, "stored moderation policy does not compile here; the old one stays");
            Ok(false)
        }
    }
}

/// Stores and puts in force a new moderation policy (checked first: a bad one is refused with
/// what is wrong, and the old one stays). Roles: yot_admin.
pub async fn replace_moderation(state: &AppState, user: &AuthUser, toml: &str) -> ApiResult<PolicyInForce> {
    user.require(ADMIN)?;
    put_moderation(state, user, toml, None).await
}

/// Compiles a policy on a blocking thread: it takes long enough to stall a runtime worker.
async fn compile(
    state: &AppState,
    toml: String,
) -> ApiResult<Result<talkzone_moderation::Policy, talkzone_moderation::PolicyError>> {
    let moderation = state.moderation.clone();
    tokio::task::spawn_blocking(move || moderation.compile(&toml))
        .await
        .map_err(|e| ApiError::Internal(format!("compiling the policy: {e}")))
}

async fn put_moderation(
    state: &AppState,
    user: &AuthUser,
    toml: &str,
    note: Option<String>,
) -> ApiResult<PolicyInForce> {
    // The policy in force sent again (or put back) is no change: no new version.
    let in_force = latest(state, PolicyKind::Moderation).await?;
    let (version, body) = in_force.unwrap_or_else(|| (0, talkzone_moderation::DEFAULT_POLICY.to_owned()));
    if body == toml {
        return Ok(PolicyInForce { status: "in_force".into(), version });
    }
    let policy =
        compile(state, toml.to_owned()).await?.map_err(|e| ApiError::Validation(format!("policy not valid: {e}")))?;
    let at = state.clock.now_ms();
    let action = AuditAction::ModerationPolicyReplaced;
    let version =
        store_next(state.store.as_ref(), PolicyKind::Moderation, toml, at, Some(user.id.as_str()), note, action, 0)
            .await?;
    state.moderation.install_compiled(version, policy, toml);
    state.hub.publish(Event::PolicyChanged { kind: PolicyKind::Moderation });
    Ok(PolicyInForce { status: "in_force".into(), version })
}

/// Puts an earlier moderation policy back, as a new version. Roles: yot_admin.
pub async fn restore_moderation(state: &AppState, user: &AuthUser, version: i64) -> ApiResult<PolicyInForce> {
    user.require(ADMIN)?;
    let old = state.store.policy_version(PolicyKind::Moderation, version).await?.ok_or(ApiError::NotFound)?;
    put_moderation(state, user, &old.body, Some(format!("restored from version {version}"))).await
}

/// The newest stored version of `kind`, if any: `(version, body)`.
pub async fn latest(state: &AppState, kind: PolicyKind) -> ApiResult<Option<(i64, String)>> {
    Ok(state.store.latest_policy(kind).await?.map(|r| (r.version, r.body)))
}

/// Every stored version of `kind`, newest first. Roles: yot_admin.
pub async fn versions(state: &AppState, user: &AuthUser, kind: PolicyKind) -> ApiResult<PolicyVersionList> {
    user.require(ADMIN)?;
    let rows = state.store.policy_versions(kind).await?;
    let in_force = rows.first().map(|r| r.version);
    let versions = rows
        .into_iter()
        .map(|r| PolicyVersion {
            in_force: Some(r.version) == in_force,
            version: r.version,
            body: r.body,
            created_at: rfc3339(r.created_at),
            created_by: r.created_by.map(UserId),
            note: r.note,
        })
        .collect();
    Ok(PolicyVersionList { versions })
}
