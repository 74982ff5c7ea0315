//! `tzreports`: the service report's benchmark (docs/benchmarks.md, "Service reports").
//!
//! Writes a year of support chats (100,000 by default) into a fresh database through the
//! server's own store, as the service writes them: opened, waited, taken (or given up),
//! answered, the young person's messages with the moderation verdicts the server's own
//! classifier gives, automatic escalations acknowledged and resolved, transfers, closes with
//! outcomes, and moderation items decided. Then it asks the running server for the report over
//! a year, a quarter, a month, a week and a day, JSON and CSV, and prints the time of each.
//!
//! ```text
//! cargo run --release -p talkzone-tests --bin tzreports -- --backend sqlite --chats 100000
//! TALKZONE_TEST_PG_URL=postgres://… cargo run --release -p talkzone-tests --bin tzreports -- --backend postgres
//! ```

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use futures_util::{stream, StreamExt};
use rand::{Rng, SeedableRng};
use talkzone_mobile_api::{ClosedReason, MessageKind, Role};
use talkzone_moderation::{Context, Severity, Verdict};
use talkzone_server::escalation::{automatic, RiskMove};
use talkzone_server::model::{AuditAction, AuditTarget, ModerationItemKind};
use talkzone_server::state::AppState;
use talkzone_server::store::{AcceptOutcome, Handover, ItemDecision, NewMessage, NewModerationItem, NewUser};
use talkzone_tests::{fresh_database, Backend, TempDir, TestServer};

#[derive(Parser)]
#[command(about = "Seed a year of chats and time the service report")]
struct Args {
    /// `sqlite` or `postgres` (TALKZONE_TEST_PG_URL names the server; a fresh database is made).
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// Support chats to write, spread evenly over `days`.
    #[arg(long, default_value_t = 100_000)]
    chats: usize,
    /// How many days back the chats go (the last is yesterday).
    #[arg(long, default_value_t = 365)]
    days: i64,
    /// Chats written at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Timed requests per period (the first is reported apart: it fills the caches).
    #[arg(long, default_value_t = 5)]
    reps: usize,
}

const DAY_MS: i64 = 86_400_000;
const WORKERS: usize = 20;

/// What young people write, ordinary and not: each is classified once by the server's own
/// moderation, and its verdict stored with every message that uses it.
const TEXTS: &[&str] = &[
    "hi is anyone there",
    "i just need to talk to someone",
    "my mum and me keep arguing",
    "thanks that really helped",
    "ok",
    "i have exams next week and i cant sleep",
    "i want to kill myself",
    "he hits me when hes drunk",
    "they said i owe them and have to hold a package",
    "someone brought a knife to school",
    "i keep cutting again",
    "an older guy online wants to meet me and said not to tell anyone",
];

fn system(id: &str, conv: &str, body: &str, at: i64) -> NewMessage {
    NewMessage {
        id: id.to_owned(),
        conversation_id: conv.to_owned(),
        sender_id: None,
        sender_role: None,
        sender_name: None,
        client_msg_id: None,
        body: body.to_owned(),
        kind: MessageKind::System,
        sent_at: at,
        severity: Severity::None,
        conversation_risk: Severity::None,
        verdict: None,
        original_body: None,
        hold: None,
        escalation: None,
        expect: None,
    }
}

fn audit(
    at: i64,
    actor: Option<&str>,
    action: AuditAction,
    target: AuditTarget,
    id: &str,
) -> talkzone_server::store::AuditEvent {
    talkzone_server::audit::event(at, actor, action, target, id, None)
}

fn id() -> String {
    talkzone_server::ids::random_id()
}

/// What every chat is written with: the server, the classified texts and the people.
struct World {
    state: AppState,
    verdicts: Vec<(String, Verdict)>,
    young: Vec<String>,
    workers: Vec<String>,
    supervisor: String,
}

/// Chat `i`'s life, opened at `opened`, its times drawn from a generator seeded with `i`.
async fn one_chat(w: &World, i: usize, opened: i64) -> anyhow::Result<()> {
    let (state, verdicts, young, workers) = (&w.state, &w.verdicts, &w.young, &w.workers);
    let supervisor = w.supervisor.as_str();
    let store = &state.store;
    let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
    let conv = id();
    // Chat i, i + n/3 and i + 2n/3 are one young person's: months apart, never open at once.
    let owner = &young[i % young.len()];
    let (_, new) = store.open_support_conversation(&conv, owner, None, opened).await?;
    anyhow::ensure!(new, "{owner} already had an open chat");
    let wait = rng.gen_range(5_000..1_200_000);
    let mut t = opened + wait;
    if rng.gen_bool(0.06) {
        // Gave up before anyone answered.
        let close = Handover::Close { outcome: "young_person_left".into(), tags: None, reason: ClosedReason::Ended };
        let note = system(&id(), &conv, "The young person left.", t);
        let entry = audit(t, Some(owner), AuditAction::ConversationClosed, AuditTarget::Conversation, &conv);
        anyhow::ensure!(store.hand_over(&conv, None, close, note, entry, t).await?.is_some(), "abandon refused");
        return Ok(());
    }
    let mut worker = workers[i % workers.len()].clone();
    let joined = system(&id(), &conv, "A worker joined.", t);
    let entry = audit(t, Some(&worker), AuditAction::ConversationAccepted, AuditTarget::Conversation, &conv);
    match store.accept_conversation(&conv, &worker, joined, entry, t).await? {
        AcceptOutcome::Accepted(..) => {}
        other => anyhow::bail!("accept: {other:?}"),
    }
    t += rng.gen_range(10_000..180_000);
    let reply = NewMessage {
        sender_id: Some(worker.clone()),
        sender_role: Some(Role::DutyWorker),
        sender_name: Some("Worker".into()),
        kind: MessageKind::Text,
        ..system(&id(), &conv, "Hi, I'm here. What's going on?", t)
    };
    store.insert_message(reply).await?;
    store.mark_first_reply(&conv, &worker, t).await?;
    let mut risk = Severity::None;
    for _ in 0..rng.gen_range(2..6) {
        t += rng.gen_range(20_000..300_000);
        // Mostly ordinary; about one message in eight carries risk.
        let (text, verdict) = if rng.gen_bool(0.125) {
            &verdicts[rng.gen_range(6..verdicts.len())]
        } else {
            &verdicts[rng.gen_range(0..6)]
        };
        let mid = id();
        let after = risk.max(verdict.severity);
        let escalation = automatic(state, &conv, &mid, verdict, RiskMove { before: risk, after }, t);
        let escalation_id = escalation.as_ref().map(|e| e.id.clone());
        let message = NewMessage {
            sender_id: Some(owner.clone()),
            sender_role: Some(Role::YoungPerson),
            sender_name: Some("Young person".into()),
            kind: MessageKind::Text,
            severity: verdict.severity,
            conversation_risk: after,
            verdict: Some(serde_json::to_string(verdict)?),
            escalation,
            ..system(&mid, &conv, text, t)
        };
        store.insert_message(message).await?;
        risk = after;
        if let Some(e) = escalation_id {
            let ack = t + rng.gen_range(30_000..1_800_000);
            let entry = audit(ack, Some(supervisor), AuditAction::EscalationAcknowledged, AuditTarget::Escalation, &e);
            store.acknowledge_escalation(&e, supervisor, ack, entry).await?;
            if rng.gen_bool(0.9) {
                let done = ack + rng.gen_range(60_000..7_200_000);
                let entry = audit(done, Some(supervisor), AuditAction::EscalationResolved, AuditTarget::Escalation, &e);
                store.resolve_escalation(&e, supervisor, "safeguarding_referral", done, entry).await?;
            }
        }
        if rng.gen_bool(0.01) {
            let item = NewModerationItem {
                id: id(),
                kind: ModerationItemKind::Report,
                conversation_id: Some(conv.clone()),
                message_id: Some(mid.clone()),
                subject_user_id: Some(owner.clone()),
                reporter_id: Some(worker.clone()),
                reason: "reported".into(),
                severity: verdict.severity,
                evidence: None,
                created_at: t,
            };
            let item = store.create_moderation_item(item).await?;
            let decided = t + rng.gen_range(60_000..86_400_000);
            store.decide_item(&item.id, supervisor, ItemDecision::Dismiss, "no action", false, decided).await?;
        }
    }
    if rng.gen_bool(0.03) {
        let to = workers[(i + 1) % workers.len()].clone();
        t += 60_000;
        let note = system(&id(), &conv, "Transferred.", t);
        let entry = audit(t, Some(&worker), AuditAction::ConversationTransferred, AuditTarget::Conversation, &conv);
        let moved =
            store.hand_over(&conv, Some(&worker), Handover::Transfer { to: to.clone() }, note, entry, t).await?;
        anyhow::ensure!(moved.is_some(), "transfer refused");
        worker = to;
    }
    t += rng.gen_range(60_000..900_000);
    let outcomes = &state.config.desk.close_outcomes;
    let outcome = outcomes[rng.gen_range(0..outcomes.len())].clone();
    let close = Handover::Close { outcome, tags: None, reason: ClosedReason::Staff };
    let note = system(&id(), &conv, "Closed.", t);
    let entry = audit(t, Some(&worker), AuditAction::ConversationClosed, AuditTarget::Conversation, &conv);
    if store.hand_over(&conv, Some(&worker), close, note, entry, t).await?.is_none() {
        let c = store.conversation(&conv).await?;
        anyhow::bail!("close refused: {c:?} (worker {worker})");
    }
    Ok(())
}

async fn user(state: &AppState, role: Role, name: &str, at: i64) -> anyhow::Result<String> {
    let id = id();
    let new = NewUser {
        id: id.clone(),
        role,
        username: None,
        password_hash: None,
        display_name: name.to_owned(),
        created_at: at,
    };
    state.store.create_user(new, None).await?;
    Ok(id)
}

fn day(ms: i64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(ms / 1000).expect("a date");
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let backend = match args.backend.as_str() {
        "sqlite" => Backend::Sqlite,
        "postgres" => Backend::Postgres,
        other => anyhow::bail!("--backend is sqlite or postgres, not {other}"),
    };
    // Written before the server starts: its jobs (chats whose worker is gone go back to the
    // queue) would otherwise take chats back while they are written, from workers who are not
    // really there.
    let dir = TempDir::new();
    let url = fresh_database(backend, &dir.0).await;
    let config = talkzone_server::config::Config::for_tests(&dir.0, Some(url.clone()));
    let state = talkzone_server::build_state(config, Arc::new(talkzone_server::clock::SystemClock)).await?;
    let today = time::OffsetDateTime::now_utc().date().midnight().assume_utc().unix_timestamp() * 1000;
    let start = today - args.days * DAY_MS;
    let verdicts: Vec<(String, Verdict)> =
        TEXTS.iter().map(|t| ((*t).to_owned(), state.moderation.assess(t, Context::Support).0)).collect();
    let risky = verdicts.iter().filter(|(_, v)| v.severity >= Severity::High).count();
    eprintln!("{} texts, {risky} of them high or critical to the server's classifier", verdicts.len());

    let began = Instant::now();
    let mut young = Vec::new();
    // About three chats per young person: most come back.
    for n in 0..args.chats.div_ceil(3) {
        young.push(user(&state, Role::YoungPerson, &format!("Young person {n}"), start).await?);
    }
    let mut workers = Vec::new();
    for n in 0..WORKERS {
        workers.push(user(&state, Role::DutyWorker, &format!("Worker {n}"), start).await?);
    }
    let supervisor = user(&state, Role::Supervisor, "Supervisor", start).await?;
    eprintln!("{} young people and {} staff in {:.1?}", young.len(), WORKERS + 1, began.elapsed());

    let began = Instant::now();
    let span = args.days * DAY_MS - 3_600_000 * 3;
    let seeded = World { state, verdicts, young, workers, supervisor };
    let world = &seeded;
    let n = args.chats;
    let mut done = 0usize;
    let mut writes = stream::iter(0..n)
        .map(|i| async move {
            let opened = start + (span as i128 * i as i128 / n as i128) as i64;
            one_chat(world, i, opened).await
        })
        .buffer_unordered(args.concurrency);
    while let Some(r) = writes.next().await {
        r?;
        done += 1;
        if done.is_multiple_of(10_000) {
            eprintln!("{done} chats written ({:.0?})", began.elapsed());
        }
    }
    drop(writes);
    eprintln!("{n} chats written in {:.1?}", began.elapsed());

    // Its database connections closed before the server opens its own.
    drop(seeded);
    let server = TestServer::builder(backend).database(url).start().await;
    let token = Arc::new(server.staff(Role::YotAdmin).await.access_token);
    let client = reqwest::Client::new();
    let last = today - DAY_MS;
    println!("| period | days | route | first (ms) | median of the rest (ms) | withheld? |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (label, days) in [("a year", args.days), ("a quarter", 91), ("a month", 30), ("a week", 7), ("a day", 1)] {
        let from = day(last - (days - 1) * DAY_MS);
        let to = day(last);
        for route in ["service-report", "service-report.csv"] {
            let url = format!("{}/v1/admin/service-report{}?from={from}&to={to}", server.base, &route[14..]);
            let mut times = Vec::new();
            let mut body = String::new();
            for _ in 0..args.reps.max(2) {
                let t = Instant::now();
                let r = client.get(&url).bearer_auth(token.as_str()).send().await?;
                let status = r.status();
                body = r.text().await?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                anyhow::ensure!(status.is_success(), "{url}: {status} {body}");
            }
            let first = times.remove(0);
            times.sort_by(f64::total_cmp);
            let median = times[times.len() / 2];
            // The whole report withheld (differencing), as JSON says; CSV says it in its rows.
            let withheld = serde_json::from_str::<serde_json::Value>(&body)
                .map(|v| v["suppressed"] == serde_json::json!(true))
                .unwrap_or_else(|_| body.contains("whole_report_withheld,,true"));
            println!("| {label} ({from} to {to}) | {days} | {route} | {first:.0} | {median:.0} | {withheld} |");
        }
    }
    server.stop().await;
    Ok(())
}
