//! Runs a fleet of peers through a scenario's phases — connect everyone, send for a while
//! (perhaps dropping every socket, or killing a node, on the way), then wait for every
//! acknowledged message to arrive — and adds up what they saw.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Result};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::peer::{Control, Counters, Peer, PeerOutcome, PeerSpec, Shared};
use super::probe::CpuMeter;
use super::report::{CpuSeconds, Percentiles, Report};
use super::setup::Setup;

/// What to watch besides the load generator itself.
#[derive(Debug, Clone, Default)]
pub struct Observe {
    /// Server processes whose CPU seconds (and, for `idle`, memory) are reported.
    pub server_pids: Vec<u32>,
    /// The database's main process (PostgreSQL's postmaster), whose process tree's CPU
    /// seconds are reported.
    pub database_pid: Option<u32>,
    /// A progress line on stderr every second.
    pub progress: bool,
}

/// Something done to the clients or servers mid-run.
#[derive(Debug, Clone)]
pub enum Disruption {
    /// Every client drops its socket at once and reconnects.
    Storm { after: Duration },
    /// A shell command (e.g. `kill -9 PID`) that takes a node down.
    Kill { after: Duration, command: String },
}

pub struct Plan {
    pub scenario: &'static str,
    pub peers: Vec<PeerSpec>,
    pub send_for: Duration,
    /// At most this long after sending stops for outstanding acks and deliveries.
    pub drain: Duration,
    pub disruption: Option<Disruption>,
}

/// Peers running as tasks, steered through one control channel.
pub struct Fleet {
    shared: Arc<Shared>,
    control: watch::Sender<Control>,
    tasks: Vec<JoinHandle<PeerOutcome>>,
    progress: Option<JoinHandle<()>>,
}

impl Fleet {
    /// Starts every peer; they connect (at most `concurrency` at a time) and wait.
    pub fn launch(
        setup: &Setup,
        peers: Vec<PeerSpec>,
        concurrency: usize,
        label: &'static str,
        progress: bool,
    ) -> Self {
        let chats = peers.iter().filter_map(|p| p.chat.as_ref().map(|c| c.index + 1)).max().unwrap_or(0);
        let mut members = vec![0u64; chats];
        for chat in peers.iter().filter_map(|p| p.chat.as_ref()) {
            members[chat.index] += 1;
        }
        let (control, rx) = watch::channel(Control::default());
        let shared = Arc::new(Shared {
            run: setup.run.clone(),
            clients: setup.clients.clone(),
            epoch: Instant::now(),
            control: rx,
            gate: Semaphore::new(concurrency.max(1)),
            counters: Counters::default(),
            recipients: members.iter().map(|m| m.saturating_sub(1)).collect(),
            schedule: super::schedule::Schedule::start(),
        });
        let total = peers.len();
        let tasks = peers.into_iter().map(|spec| tokio::spawn(Peer::new(spec, shared.clone()).run())).collect();
        let progress = progress.then(|| tokio::spawn(report_progress(shared.clone(), label, total)));
        Self { shared, control, tasks, progress }
    }

    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    /// Waits until every peer is connected (and subscribed), or has given up.
    pub async fn wait_ready(&self, patience: Duration) -> Result<()> {
        let n = self.tasks.len() as u64;
        let deadline = Instant::now() + patience;
        loop {
            let c = self.counters();
            let (ready, gave_up) = (c.ready.load(Ordering::Relaxed), c.gave_up.load(Ordering::Relaxed));
            if ready + gave_up >= n {
                return if ready == n {
                    Ok(())
                } else {
                    Err(anyhow!("{gave_up} of {n} clients could not connect; is the server up with raised limits?"))
                };
            }
            if Instant::now() > deadline {
                return Err(anyhow!("only {ready} of {n} clients connected within {} s", patience.as_secs()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn steer(&self, change: impl FnOnce(&mut Control)) {
        self.control.send_modify(change);
    }

    /// Ends the run: every peer closes its socket and hands in what it saw, added up.
    pub async fn finish(mut self, scenario: &str) -> Result<Report> {
        self.control.send_modify(|c| c.done = true);
        let mut outcomes = Vec::with_capacity(self.tasks.len());
        for t in std::mem::take(&mut self.tasks) {
            outcomes.push(t.await.map_err(|e| anyhow!("a client task failed: {e}"))?);
        }
        let mut report = tally(scenario, &outcomes);
        add_counters(&mut report, &self.shared.counters);
        Ok(report)
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        // On an early error, stop the peers rather than leave them connected.
        self.control.send_modify(|c| c.done = true);
        if let Some(p) = &self.progress {
            p.abort();
        }
    }
}

/// One line a second on stderr, so a long run shows where it is.
async fn report_progress(shared: Arc<Shared>, label: &'static str, total: usize) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_delivered = 0;
    loop {
        tick.tick().await;
        let c = &shared.counters;
        let delivered = c.delivered.load(Ordering::Relaxed);
        eprintln!(
            "tzload {label} {:>5.0}s connected {}/{total} ready {} sent {} acked {} refused {} delivered {} \
             ({} msg/s, slowest {:.1} ms) reconnects {} gave up {}",
            started.elapsed().as_secs_f64(),
            c.connected.load(Ordering::Relaxed),
            c.ready.load(Ordering::Relaxed),
            c.sent.load(Ordering::Relaxed),
            c.acked.load(Ordering::Relaxed),
            c.refused.load(Ordering::Relaxed),
            delivered,
            delivered - last_delivered,
            c.slowest_us.swap(0, Ordering::Relaxed) as f64 / 1000.0,
            c.reconnects.load(Ordering::Relaxed),
            c.gave_up.load(Ordering::Relaxed),
        );
        last_delivered = delivered;
    }
}

/// Runs `plan` and reports. `setup_started` is when account setup began.
pub async fn run(
    setup: &Setup,
    concurrency: usize,
    observe: &Observe,
    plan: Plan,
    setup_started: Instant,
) -> Result<Report> {
    let clients = plan.peers.len();
    let fleet = Fleet::launch(setup, plan.peers, concurrency, plan.scenario, observe.progress);
    fleet.wait_ready(connect_patience(clients)).await?;
    let setup_s = setup_started.elapsed().as_secs_f64();

    let cpu = CpuMeter::start(&observe.server_pids, observe.database_pid);
    let started = Instant::now();
    fleet.steer(|c| c.sending = true);
    let stop_sending = started + plan.send_for;
    // A killed node's CPU can only be read before the kill.
    let mut before_kill = None;
    if let Some(d) = &plan.disruption {
        let (after, what) = match d {
            Disruption::Storm { after } => (*after, None),
            Disruption::Kill { after, command } => (*after, Some(command)),
        };
        tokio::time::sleep_until(started + after.min(plan.send_for)).await;
        match what {
            None => fleet.steer(|c| c.drop_epoch += 1),
            Some(command) => {
                before_kill = Some(cpu.read().1);
                run_shell(command).await?
            }
        }
    }
    tokio::time::sleep_until(stop_sending).await;
    fleet.steer(|c| c.sending = false);
    let send_s = started.elapsed().as_secs_f64();

    // Wait until every send is answered and every acknowledged message has arrived.
    let drain_until = Instant::now() + plan.drain;
    let mut last_delivery = Instant::now();
    let mut last_delivered = 0;
    loop {
        let c = fleet.counters();
        let delivered = c.delivered.load(Ordering::Relaxed);
        if delivered != last_delivered {
            last_delivered = delivered;
            last_delivery = Instant::now();
        }
        let settled = c.unresolved.load(Ordering::SeqCst) <= 0 && delivered >= c.expected.load(Ordering::Relaxed);
        if settled || Instant::now() > drain_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Throughput counts time until the last delivery, not the idle tail of the drain.
    let measured_s = last_delivery.max(stop_sending).duration_since(started).as_secs_f64();
    let (load_generator, mut servers) = cpu.read();
    let database = cpu.read_database();
    for ((_, now), (_, then)) in servers.iter_mut().zip(before_kill.unwrap_or_default()) {
        if now.is_none() {
            *now = then;
        }
    }
    let mut report = fleet.finish(plan.scenario).await?;
    report.urls = setup.clients.iter().map(|c| c.base().to_string()).collect();
    report.setup_s = setup_s;
    report.setup_rate_limited = setup.rate_limited.load(Ordering::Relaxed);
    report.send_s = send_s;
    report.measured_s = measured_s;
    report.throughput_msg_s = if measured_s > 0.0 { report.delivered as f64 / measured_s } else { 0.0 };
    report.cpu_s = CpuSeconds { load_generator, servers: servers.into_iter().collect(), database };
    Ok(report)
}

/// How long connecting `n` clients may take: generous, since a loaded server answers slowly.
pub fn connect_patience(n: usize) -> Duration {
    Duration::from_secs(60 + n as u64 / 50)
}

async fn run_shell(command: &str) -> Result<()> {
    eprintln!("tzload: running {command:?}");
    let status = tokio::process::Command::new("sh").arg("-c").arg(command).status().await?;
    if !status.success() {
        return Err(anyhow!("{command:?} failed: {status}"));
    }
    Ok(())
}

/// Adds up what the peers saw: counts, latency, and the acknowledged messages some member of
/// their conversation never received.
fn tally(scenario: &str, outcomes: &[PeerOutcome]) -> Report {
    let mut report = Report { scenario: scenario.to_owned(), clients: outcomes.len(), ..Report::default() };
    let chats = outcomes.iter().filter_map(|o| o.chat.map(|c| c + 1)).max().unwrap_or(0);
    let mut members: Vec<Vec<&PeerOutcome>> = vec![Vec::new(); chats];
    for o in outcomes {
        if let Some(c) = o.chat {
            members[c].push(o);
        }
    }
    let mut latencies = Vec::new();
    let mut ack_latencies = Vec::new();
    let mut send_lags = Vec::new();
    let mut resumes = Vec::new();
    for o in outcomes {
        report.duplicated += o.duplicated;
        report.out_of_order += o.out_of_order;
        report.clients_gave_up += u64::from(o.gave_up);
        for (code, n) in &o.refused {
            *report.refused.entry(code.clone()).or_default() += n;
        }
        for (code, n) in &o.errors {
            *report.errors.entry(code.clone()).or_default() += n;
        }
        latencies.extend_from_slice(&o.latencies_us);
        ack_latencies.extend_from_slice(&o.ack_latencies_us);
        send_lags.extend_from_slice(&o.send_lags_us);
        resumes.extend_from_slice(&o.resumes_us);
        let Some(c) = o.chat else { continue };
        for seq in &o.acked {
            for m in members[c].iter().filter(|m| m.index != o.index) {
                report.expected += 1;
                if !m.seen.contains(*seq) {
                    report.lost += 1;
                }
            }
        }
    }
    report.delivered = latencies.len() as u64;
    report.latency_ms = Percentiles::of_micros(latencies);
    report.ack_latency_ms = Percentiles::of_micros(ack_latencies);
    report.send_lag_ms = Percentiles::of_micros(send_lags);
    report.reconnects = resumes.len() as u64;
    report.resume_ms = Percentiles::of_micros(resumes);
    report
}

/// Copies the live counters that only the fleet knows into `report`.
fn add_counters(report: &mut Report, c: &Counters) {
    report.sent = c.sent.load(Ordering::Relaxed);
    report.resent = c.resent.load(Ordering::Relaxed);
    report.acked = c.acked.load(Ordering::Relaxed);
    report.held = c.held.load(Ordering::Relaxed);
    report.unacked = c.unresolved.load(Ordering::Relaxed).max(0) as u64;
    report.connect_failures = c.connect_failures.load(Ordering::Relaxed);
}
