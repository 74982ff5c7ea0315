//! The `talkzone` command line: `serve`, `migrate`, `admin …` (create a user; a staff
//! account's lifecycle), `moderate`.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use talkzone_mobile_api::{CreateUserRequest, Role};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Settings};

#[derive(Debug, Parser)]
#[command(name = "talkzone", version, about = "Talk Zone: 24/7 live-chat support for young people")]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (applies migrations first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Account administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Classify JSON Lines {"id","text"} from stdin with the moderation rules and the learned
    /// model (the built-in one, or --moderation-model); one JSON line each on stdout:
    /// {"id","flagged","severity","labels","pii","redacted"}.
    Moderate {
        /// A policy file to use instead of the built-in one.
        #[arg(long)]
        policy: Option<std::path::PathBuf>,
    },
    /// Write a new VAPID key pair for Web Push: the private key (PKCS#8 PEM) to --out (created
    /// owner-only; never overwritten), the public application server key to stdout. Point
    /// --push-vapid-key-file at the file.
    PushKeys {
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an account; the password is read from standard input (one line).
    CreateUser {
        #[arg(long)]
        username: String,
        /// young_person, parent_carer, duty_worker, supervisor, moderator or yot_admin.
        #[arg(long)]
        role: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Suspend a staff account: it cannot sign in; every session ends (sockets close within a
    /// second or two on every node).
    Suspend {
        #[arg(long)]
        username: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Let a suspended staff account sign in again.
    Reactivate {
        #[arg(long)]
        username: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Offboard a leaver for good: no way in any more; the name stays on their records.
    Offboard {
        #[arg(long)]
        username: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Give a staff account another staff role (every session ends).
    SetRole {
        #[arg(long)]
        username: String,
        /// duty_worker, supervisor, moderator or yot_admin.
        #[arg(long)]
        role: String,
    },
    /// Print a one-time password reset code (and where to use it) for a staff account.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Forget a staff account's second factor: they enrol again at their next sign-in.
    ResetSecondFactor {
        #[arg(long)]
        username: String,
    },
    /// End every session of a staff account (it can sign in again).
    EndSessions {
        #[arg(long)]
        username: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("talkzone: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("talkzone: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Moderate { policy } = &cli.command {
        return moderate(policy.as_deref(), cli.settings.moderation_model.as_deref());
    }
    if let Command::PushKeys { out } = &cli.command {
        return push_keys(out);
    }
    let config = Config::load(&cli.settings)?;
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let store = crate::store::connect(&config.database_url).await.context("cannot open the database")?;
            store.migrate().await.context("migration failed")?;
            println!("migrations applied ({})", store.backend());
            Ok(())
        }
        Command::Admin { command: AdminCommand::CreateUser { username, role, display_name } } => {
            let role = Role::parse(&role).with_context(|| {
                format!("unknown role '{role}': use young_person, parent_carer, duty_worker, supervisor, moderator or yot_admin")
            })?;
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password).context("cannot read the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let store = crate::store::connect(&config.database_url).await.context("cannot open the database")?;
            store.migrate().await.context("migration failed")?;
            let req = CreateUserRequest { username, password, role, display_name };
            let user = crate::accounts::create_account(store.as_ref(), SystemClock.now_ms(), req, None)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            println!("created {} {} ({})", user.role, user.display_name, user.id);
            Ok(())
        }
        Command::Admin { command } => {
            let store = crate::store::connect(&config.database_url).await.context("cannot open the database")?;
            store.migrate().await.context("migration failed")?;
            println!("{}", lifecycle(store.as_ref(), command).await?);
            Ok(())
        }
        Command::Moderate { .. } | Command::PushKeys { .. } => unreachable!("handled above"),
    }
}

/// `talkzone push-keys`: a new VAPID key pair.
fn push_keys(out: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    let pem = crate::push::Vapid::generate_pem()?;
    let vapid = crate::push::Vapid::from_pem(&pem)?;
    let mut f = std::fs::OpenOptions::new();
    f.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
    f.open(out)
        .with_context(|| format!("cannot create {} (it must not exist already)", out.display()))?
        .write_all(pem.as_bytes())?;
    println!("{}", vapid.public_key);
    Ok(())
}

/// A staff account's lifecycle from the command line: the same paths as the admin API, audited
/// with no actor (the person at the server). Sockets of ended sessions close within a second
/// or two, as each node finds the sessions ended.
async fn lifecycle(store: &dyn crate::store::Store, command: AdminCommand) -> anyhow::Result<String> {
    use crate::store::AccountChange;
    let now = SystemClock.now_ms();
    let id = |username: String| async move {
        crate::accounts::staff_id_by_username(store, &username)
            .await
            .map_err(|_| anyhow::anyhow!("no staff account is called '{username}'"))
    };
    let change = |id: String, change: AccountChange, reason: Option<String>| async move {
        crate::accounts::change_account(store, now, None, &id, change, reason.as_deref())
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.public_message()))
    };
    let described = |a: talkzone_mobile_api::StaffAccount| {
        let state = if a.offboarded {
            "offboarded"
        } else if a.suspended {
            "suspended"
        } else {
            "active"
        };
        format!("{} ({}, {}): {state}", a.display_name, a.username.unwrap_or_default(), a.role)
    };
    Ok(match command {
        AdminCommand::CreateUser { .. } => unreachable!("handled by the caller"),
        AdminCommand::Suspend { username, reason } => {
            described(change(id(username).await?, AccountChange::Suspend, reason).await?)
        }
        AdminCommand::Reactivate { username, reason } => {
            described(change(id(username).await?, AccountChange::Reactivate, reason).await?)
        }
        AdminCommand::Offboard { username, reason } => {
            described(change(id(username).await?, AccountChange::Offboard, reason).await?)
        }
        AdminCommand::SetRole { username, role } => {
            let role = Role::parse(&role).filter(|r| r.is_staff()).with_context(|| {
                format!("'{role}' is not a staff role: duty_worker, supervisor, moderator or yot_admin")
            })?;
            described(change(id(username).await?, AccountChange::Role(role), None).await?)
        }
        AdminCommand::ResetSecondFactor { username } => {
            described(change(id(username).await?, AccountChange::ResetSecondFactor, None).await?)
        }
        AdminCommand::ResetPassword { username } => {
            let issued = crate::accounts::issue_password_reset(store, now, None, &id(username).await?)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            format!(
                "one-time code (until {}): {}\nor the link: <this server>{}\nGive it to them yourself; it works once.",
                issued.expires_at, issued.code, issued.path
            )
        }
        AdminCommand::EndSessions { username } => {
            let user_id = id(username).await?;
            let audit = crate::audit::event(
                now,
                None,
                crate::model::AuditAction::SessionsEnded,
                crate::model::AuditTarget::User,
                &user_id,
                Some("from the command line".into()),
            );
            let reason = crate::auth::end_reason::ENDED_BY_ADMIN;
            let ended = store.end_other_sessions(&user_id, None, now, reason, Some(audit)).await?;
            format!("{ended} session(s) ended")
        }
    })
}

async fn serve(config: Config) -> anyhow::Result<()> {
    crate::telemetry::init_logging(&config);
    let _ = crate::telemetry::metrics_handle();
    tracing::info!(config = ?config, "starting");
    let backend = if config.is_postgres() { "PostgreSQL" } else { "SQLite" };
    let server = crate::start_with_config(config).await?;
    let addr = server.addr;
    println!("Talk Zone is listening on http://{addr} ({backend}).");
    println!("Create the first admin with: talkzone admin create-user --username admin --role yot_admin  (password on stdin)");
    let shutdown = server.state.shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: closing connections with 1012, finishing writes");
        shutdown.cancel();
    });
    let state = server.state.clone();
    let result = server.wait().await;
    // Give connection tasks a moment to send their close frames and finish writes.
    let deadline = tokio::time::Instant::now() + crate::config::SHUTDOWN_GRACE;
    while state.hub.connection_count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    result
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[derive(serde::Deserialize)]
struct ModerateInput {
    id: serde_json::Value,
    text: String,
}

fn moderate(policy_path: Option<&std::path::Path>, model_path: Option<&std::path::Path>) -> anyhow::Result<()> {
    let model = crate::moderation::load_model(model_path).map_err(|e| anyhow::anyhow!("moderation model: {e}"))?;
    let service = crate::moderation::ModerationService::new(model);
    if let Some(p) = policy_path {
        let src = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        service.install(1, &src).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    }
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.context("cannot read stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let input: ModerateInput =
            serde_json::from_str(&line).with_context(|| format!("line {}: expected {{\"id\", \"text\"}}", n + 1))?;
        let id = match &input.id {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let verdict = service.check(&input.text, talkzone_moderation::Context::Support);
        serde_json::to_writer(&mut out, &talkzone_moderation::eval_record(&id, &verdict))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
