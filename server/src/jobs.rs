//! Each node's timekeeper: every job the service runs on a clock, in one place. Every step of
//! a job is a conditional database update (or takes a lease), so with several nodes each
//! happens once.
//!
//! The scheduler ticks every [`TICK`]; a job runs on the ticks it is due (see [`Job::every`]).
//! Tests call [`run_once`] to run every job now instead of waiting for the next tick.

use std::time::{Duration, Instant};

use crate::conversations::{inactive, lifecycle};
use crate::desk::Wellbeing;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{escalation, on_call, policies, presence, privacy, queue, returning};

/// How often the scheduler looks for work (escalation deadlines are checked at this grain).
pub const TICK: Duration = Duration::from_millis(250);

/// How often retention runs (by the service clock, so that tests moving the clock see it run).
const RETENTION_EVERY_MS: i64 = 3_600_000;

/// How often a node looks for a newer policy when nobody told it of one: with the tick, a
/// version stored on another node is in force here within 750 ms even if its event was lost.
const POLICIES_EVERY: Duration = Duration::from_millis(500);

/// How often idle rate-limit keys (and so client IPs) are forgotten.
const FORGET_IDLE_LIMITS: Duration = Duration::from_secs(60);

/// The jobs, in the order a tick runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Unacknowledged escalations take the next step of their chain when it is due.
    EscalationDeadlines,
    /// On-call alerts waiting in the outbox are delivered (retried until they are).
    OnCallOutbox,
    /// Chats with no first reply within the assignment timeout return to the queue.
    AssignmentTimeouts,
    /// Chats of workers who went offline or off duty return to the queue after the grace.
    StrandedChats,
    /// Chats the young person stopped answering: the worker is told, then the chat closes.
    InactiveChats,
    /// With `routing = auto`, waiting chats go to the worker with the most free capacity.
    AutoAssign,
    /// This node's connected staff are marked as seen.
    Presence,
    /// Waiting young people are told when who is there to answer changes with no chat moving
    /// (the last worker's connection gone, the rota's next shift changed): see [`DeskSeen`].
    DeskStaffing,
    /// Workers nearing a duty cap are warned; those past it go off duty.
    WellbeingCaps,
    /// Old data is deleted (one node per round, under a lease).
    Retention,
    /// Idle rate-limit keys are forgotten.
    ForgetIdleLimits,
    /// A newer moderation policy in the database is put in force here: at once when another
    /// node says so (`Event::PolicyChanged`, at the next tick), else within [`POLICIES_EVERY`]
    /// and a tick of it being stored.
    Policies,
}

impl Job {
    pub const ALL: [Job; 12] = [
        Job::EscalationDeadlines,
        Job::OnCallOutbox,
        Job::AssignmentTimeouts,
        Job::StrandedChats,
        Job::InactiveChats,
        Job::AutoAssign,
        Job::Presence,
        Job::DeskStaffing,
        Job::WellbeingCaps,
        Job::Retention,
        Job::ForgetIdleLimits,
        Job::Policies,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::EscalationDeadlines => "escalation deadlines",
            Job::OnCallOutbox => "on-call outbox",
            Job::AssignmentTimeouts => "assignment timeouts",
            Job::StrandedChats => "chats of workers who went away",
            Job::InactiveChats => "chats the young person stopped answering",
            Job::AutoAssign => "auto-assignment",
            Job::Presence => "presence",
            Job::DeskStaffing => "who is there to answer",
            Job::WellbeingCaps => "wellbeing caps",
            Job::Retention => "retention",
            Job::ForgetIdleLimits => "forget idle rate limits",
            Job::Policies => "policies",
        }
    }

    /// How often the job is due; `None`: every tick. Retention is due by the service clock
    /// (see [`Scheduler::due`]).
    fn every(self) -> Option<Duration> {
        match self {
            Job::Presence | Job::DeskStaffing | Job::WellbeingCaps | Job::InactiveChats => Some(presence::HEARTBEAT),
            Job::ForgetIdleLimits => Some(FORGET_IDLE_LIMITS),
            Job::Policies => Some(POLICIES_EVERY),
            _ => None,
        }
    }
}

/// What the desk looked like to waiting young people at the last look: someone free, someone
/// on duty, the rota's next shift (ms).
type DeskSeen = (bool, bool, Option<i64>);

/// The scheduler's memory between ticks: when each periodic job last ran.
pub struct Scheduler {
    http: reqwest::Client,
    wellbeing: Wellbeing,
    last_run: [Option<Instant>; Job::ALL.len()],
    last_retention: Option<i64>,
    /// The hub's count of policy changes when the policies were last read.
    policy_changes_seen: u64,
    last_desk: Option<DeskSeen>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler {
    pub fn new() -> Self {
        Scheduler {
            http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default(),
            wellbeing: Wellbeing::default(),
            last_run: [None; Job::ALL.len()],
            last_retention: None,
            policy_changes_seen: 0,
            last_desk: None,
        }
    }

    fn due(&self, state: &AppState, job: Job) -> bool {
        if job == Job::Policies && state.hub.policy_changes() != self.policy_changes_seen {
            return true;
        }
        if job == Job::Retention {
            return self.last_retention.is_none_or(|t| state.clock.now_ms() - t >= RETENTION_EVERY_MS);
        }
        match job.every() {
            None => true,
            Some(every) => self.last_run[job as usize].is_none_or(|t| t.elapsed() >= every),
        }
    }

    /// One tick: runs every job that is due. A failing job is logged and does not stop the
    /// others.
    pub async fn tick(&mut self, state: &AppState) {
        for job in Job::ALL {
            if self.due(state, job) {
                if let Err(e) = self.run(state, job).await {
                    tracing::error!(error = %e, job = job.name(), "scheduled job failed");
                }
            }
        }
    }

    /// Runs one job now, due or not.
    pub async fn run(&mut self, state: &AppState, job: Job) -> Result<(), ApiError> {
        self.last_run[job as usize] = Some(Instant::now());
        match job {
            Job::EscalationDeadlines => escalation::fire_due(state).await.map(drop),
            Job::OnCallOutbox => on_call::deliver_outbox(state, &self.http).await.map(drop),
            Job::AssignmentTimeouts => lifecycle::return_unanswered(state).await.map(drop),
            Job::StrandedChats => lifecycle::return_stranded(state).await.map(drop),
            Job::InactiveChats => inactive::check(state).await.map(drop),
            Job::AutoAssign => lifecycle::auto_assign(state).await.map(drop),
            Job::Presence => {
                presence::heartbeat(state).await;
                Ok(())
            }
            Job::DeskStaffing => {
                let seen = |d: queue::DeskNow| (d.available > 0, d.connected > 0, d.next_on_duty_at);
                let mut now = seen(queue::desk_now(state).await?);
                // The first look only remembers: every change of the desk made through the API
                // has already pushed the queue. What is remembered is what the push told (the
                // desk may change again between the look and the push); a push that failed is
                // tried again next tick.
                if self.last_desk.is_some_and(|last| last != now) {
                    now = seen(queue::push(state).await?);
                }
                self.last_desk = Some(now);
                Ok(())
            }
            Job::WellbeingCaps => self.wellbeing.check(state).await,
            Job::Retention => {
                let now = state.clock.now_ms();
                self.last_retention = Some(now);
                // One node per round: the lease outlives the run and expires before the next
                // round, so a node that died does not stop retention.
                if state.store.take_lease("retention", &state.node, now, now + RETENTION_EVERY_MS - 60_000).await? {
                    privacy::apply_retention(state).await?;
                    returning::forget_unused(state).await.map(drop)
                } else {
                    tracing::debug!("retention: another node runs it this round");
                    Ok(())
                }
            }
            Job::ForgetIdleLimits => {
                state.limits.forget_idle();
                state.auth.forget_old_failures().await.map(drop)
            }
            Job::Policies => {
                self.policy_changes_seen = state.hub.policy_changes();
                policies::refresh(state).await.map(drop)
            }
        }
    }
}

/// Runs every job once, now (for tests: instead of waiting for a tick).
pub async fn run_once(state: &AppState) {
    let mut scheduler = Scheduler::new();
    for job in Job::ALL {
        if let Err(e) = scheduler.run(state, job).await {
            tracing::error!(error = %e, job = job.name(), "scheduled job failed");
        }
    }
}

/// Starts this node's scheduler; it stops when the node shuts down.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut scheduler = Scheduler::new();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => break,
                _ = tick.tick() => scheduler.tick(&state).await,
            }
        }
    });
}
