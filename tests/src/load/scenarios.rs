//! The scenarios of the load generator, each set up over REST and then driven by
//! [`traffic`](super::traffic). Callable from `tzload` and from the tests.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{anyhow, Result};
use rand::Rng;
use tokio::time::Instant;

use super::peer::{Chat, PeerSpec};
use super::probe;
use super::report::{CpuSeconds, Memory, Report};
use super::setup::{Setup, Target};
use super::traffic::{self, Disruption, Fleet, Observe, Plan};

/// Young person / worker pairs, each pair in its own support chat.
#[derive(Debug, Clone)]
pub struct Pairs {
    pub pairs: usize,
    /// Worker accounts the chats are shared among (0: one per pair). Each pair still has its
    /// own chat and its own worker connection; fewer accounts only make setup faster
    /// (every staff account costs two password hashes).
    pub workers: usize,
    /// Messages per second each sender sends.
    pub rate: f64,
    /// Workers answer at the same rate (otherwise only young people send).
    pub both_ways: bool,
    pub seconds: f64,
    /// At most this long after sending stops for late acks and deliveries.
    pub drain_s: f64,
}

/// A room with `members` young people, `senders` of whom send.
#[derive(Debug, Clone)]
pub struct Fanout {
    pub members: usize,
    pub senders: usize,
    pub rate: f64,
    pub seconds: f64,
    pub drain_s: f64,
}

/// Idle authenticated connections.
#[derive(Debug, Clone)]
pub struct Idle {
    pub connections: usize,
    /// How long to hold them once open (the server's heartbeats keep them alive).
    pub hold_s: f64,
}

/// A new tag for account names and `client_msg_id`s: six base-36 characters.
fn run_tag() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    (0..6).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

fn seconds(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// `pairs`: steady chat traffic, latency measured end to end.
pub async fn pairs(target: &Target, observe: &Observe, o: &Pairs) -> Result<Report> {
    support_traffic(target, observe, o, "pairs", None).await
}

/// `storm`: every client drops its socket at `storm_after_s` and reconnects at once, resuming
/// from its last `seq` while the others keep sending. `o.pairs` pairs = twice as many clients.
pub async fn storm(target: &Target, observe: &Observe, o: &Pairs, storm_after_s: f64) -> Result<Report> {
    let storm = Disruption::Storm { after: seconds(storm_after_s) };
    support_traffic(target, observe, o, "storm", Some(storm)).await
}

/// `failover`: clients spread over every URL; `kill_command` takes a node down at
/// `kill_after_s`, and its clients reconnect to another URL and resume.
pub async fn failover(
    target: &Target,
    observe: &Observe,
    o: &Pairs,
    kill_after_s: f64,
    kill_command: &str,
) -> Result<Report> {
    if target.urls.len() < 2 {
        return Err(anyhow!("failover needs at least two server URLs"));
    }
    let kill = Disruption::Kill { after: seconds(kill_after_s), command: kill_command.to_owned() };
    support_traffic(target, observe, o, "failover", Some(kill)).await
}

async fn support_traffic(
    target: &Target,
    observe: &Observe,
    o: &Pairs,
    scenario: &'static str,
    disruption: Option<Disruption>,
) -> Result<Report> {
    let started = Instant::now();
    let setup = Setup::new(target, &run_tag())?;
    let admin = setup.admin_token().await?;
    let workers = setup.workers(&admin, if o.workers == 0 { o.pairs } else { o.workers.min(o.pairs) }).await?;
    let young_people = setup.young_people(o.pairs).await?;
    let chats = setup.support_chats(&young_people, &workers).await?;
    let mut peers = Vec::with_capacity(2 * o.pairs);
    let nodes = target.urls.len();
    for (i, id) in chats.into_iter().enumerate() {
        let chat = Chat { id, index: i };
        let worker = &workers[i % workers.len()];
        // Young people go round the nodes; each round of workers is shifted by one more
        // node, so that some pairs share a node and others span two.
        peers.push(PeerSpec {
            index: 2 * i as u32,
            token: young_people[i].access_token.clone(),
            home: i,
            chat: Some(chat.clone()),
            rate: o.rate,
            greet: false,
        });
        peers.push(PeerSpec {
            index: 2 * i as u32 + 1,
            token: worker.access_token.clone(),
            home: i + i / nodes,
            chat: Some(chat),
            rate: if o.both_ways { o.rate } else { 0.0 },
            greet: true,
        });
    }
    let plan = Plan { scenario, peers, send_for: seconds(o.seconds), drain: seconds(o.drain_s), disruption };
    traffic::run(&setup, target.concurrency, observe, plan, started).await
}

/// `fanout`: one room; every message goes to every member.
pub async fn fanout(target: &Target, observe: &Observe, o: &Fanout) -> Result<Report> {
    let started = Instant::now();
    let setup = Setup::new(target, &run_tag())?;
    let admin = setup.admin_token().await?;
    let members = setup.young_people(o.members).await?;
    let room = setup.room(&admin, &members).await?;
    let peers = members
        .iter()
        .enumerate()
        .map(|(i, m)| PeerSpec {
            index: i as u32,
            token: m.access_token.clone(),
            home: i,
            chat: Some(Chat { id: room.clone(), index: 0 }),
            rate: if i < o.senders { o.rate } else { 0.0 },
            greet: false,
        })
        .collect();
    let plan =
        Plan { scenario: "fanout", peers, send_for: seconds(o.seconds), drain: seconds(o.drain_s), disruption: None };
    traffic::run(&setup, target.concurrency, observe, plan, started).await
}

/// `idle`: opens authenticated connections, reads the first server's resident memory
/// before and after (when its pid is given), and holds them.
pub async fn idle(target: &Target, observe: &Observe, o: &Idle) -> Result<Report> {
    let started = Instant::now();
    let setup = Setup::new(target, &run_tag())?;
    let young_people = setup.young_people(o.connections).await?;
    let pid = observe.server_pids.first().copied();
    // After the sign-ins, so that only the connections are counted.
    let before = pid.map(probe::rss_bytes).transpose()?;
    let peers = young_people
        .iter()
        .enumerate()
        .map(|(i, yp)| PeerSpec {
            index: i as u32,
            token: yp.access_token.clone(),
            home: i,
            chat: None,
            rate: 0.0,
            greet: false,
        })
        .collect();
    let fleet = Fleet::launch(&setup, peers, target.concurrency, "idle", observe.progress);
    fleet.wait_ready(traffic::connect_patience(o.connections)).await?;
    let setup_s = started.elapsed().as_secs_f64();
    // Let the server finish whatever each new connection started (presence writes).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let memory = match (pid, before) {
        (Some(pid), Some(before)) => {
            let after = probe::rss_bytes(pid)?;
            Some(Memory {
                pid,
                rss_before_bytes: before,
                rss_after_bytes: after,
                per_connection_bytes: (after as f64 - before as f64) / o.connections.max(1) as f64,
            })
        }
        _ => None,
    };
    if observe.progress {
        eprintln!("tzload idle: {} connections open; holding for {} s", o.connections, o.hold_s);
    }
    let cpu = probe::CpuMeter::start(&observe.server_pids, observe.database_pid);
    let hold = Instant::now();
    tokio::time::sleep(seconds(o.hold_s)).await;
    let (load_generator, servers) = cpu.read();
    let database = cpu.read_database();
    let measured_s = hold.elapsed().as_secs_f64();
    let connected = fleet.counters().connected.load(Ordering::Relaxed);
    let mut report = fleet.finish("idle").await?;
    // Held means never dropped: a reconnect would show up here too.
    if connected < o.connections as i64 {
        report.errors.insert("disconnected_while_idle".into(), (o.connections as i64 - connected) as u64);
    }
    report.urls = target.urls.clone();
    report.setup_s = setup_s;
    report.setup_rate_limited = setup.rate_limited.load(Ordering::Relaxed);
    report.measured_s = measured_s;
    report.memory = memory;
    report.cpu_s = CpuSeconds { load_generator, servers: servers.into_iter().collect(), database };
    Ok(report)
}
