//! `tzload`: the Talk Zone load generator (issue 7). Drives running servers through the public
//! protocol and reports sent, acknowledged, delivered, lost, duplicated and out-of-order
//! messages, throughput, latency percentiles and CPU seconds of each side: a JSON object (on
//! stdout, or in `--json FILE`) and one human line. A progress line goes to stderr every
//! second. Exits with 3 when a message was lost, duplicated or delivered out of order.
//!
//! ```text
//! tzload --url http://127.0.0.1:8080 --admin-user admin --admin-password … --server-pid PID \
//!        pairs --pairs 1000 --rate 1 --seconds 30
//! tzload … idle --connections 9000 --hold 60
//! tzload … fanout --members 200 --senders 2 --rate 5 --seconds 20
//! tzload … storm --pairs 5000 --rate 0.2 --seconds 30 --storm-at 10
//! tzload --url http://127.0.0.1:8081 --url http://127.0.0.1:8082 … failover --pairs 500 \
//!        --rate 1 --seconds 30 --kill-at 10 --kill-cmd 'kill -9 1234'
//! ```
//!
//! The server must run with raised limits (`TALKZONE_AUTH_PER_IP_PER_MIN`,
//! `TALKZONE_USER_MESSAGES_PER_SEC`, …): every client comes from 127.0.0.1. Refusals are
//! reported, never hidden. `scripts/bench.sh` starts a suitable server and runs a scenario.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use talkzone_tests::load::scenarios::{self, Fanout, Idle, Pairs};
use talkzone_tests::load::{probe, Observe, Report, Target};

#[derive(Parser)]
#[command(about = "Load generator for Talk Zone: pairs, idle, fanout, storm, failover")]
struct Cli {
    /// A server's base URL; repeat for several nodes (clients are spread over them).
    #[arg(long = "url", global = true, default_value = "http://127.0.0.1:8080")]
    urls: Vec<String>,
    /// A yot_admin account, to create staff and rooms.
    #[arg(long, global = true, env = "TZLOAD_ADMIN_USER", default_value = "admin")]
    admin_user: String,
    #[arg(long, global = true, env = "TZLOAD_ADMIN_PASSWORD", default_value = "")]
    admin_password: String,
    /// A server process to report CPU seconds (and for `idle`, memory) of; repeatable.
    #[arg(long = "server-pid", global = true)]
    server_pids: Vec<u32>,
    /// PostgreSQL's postmaster: report the CPU seconds of it and its backends too.
    #[arg(long = "database-pid", global = true)]
    database_pid: Option<u32>,
    /// Write the JSON report here instead of stdout.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// Setup requests and first connections in flight at once.
    #[arg(long, global = true, default_value_t = 64)]
    concurrency: usize,
    /// No progress line.
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Young person / worker pairs chatting, each pair in its own support chat.
    Pairs(Traffic),
    /// Idle authenticated connections; memory per connection from the server's RSS.
    Idle {
        #[arg(long, default_value_t = 1000)]
        connections: usize,
        /// Seconds to hold them open after measuring.
        #[arg(long, default_value_t = 10.0)]
        hold: f64,
    },
    /// One room; each message goes to every member.
    Fanout {
        #[arg(long, default_value_t = 100)]
        members: usize,
        #[arg(long, default_value_t = 1)]
        senders: usize,
        /// Messages per second per sender.
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
        #[arg(long, default_value_t = 10.0)]
        drain: f64,
    },
    /// Pairs chatting; at `--storm-at` every client drops its socket and reconnects at once.
    Storm {
        #[command(flatten)]
        traffic: Traffic,
        #[arg(long, default_value_t = 5.0)]
        storm_at: f64,
    },
    /// Pairs spread over every `--url`; `--kill-cmd` takes a node down at `--kill-at`.
    Failover {
        #[command(flatten)]
        traffic: Traffic,
        #[arg(long, default_value_t = 5.0)]
        kill_at: f64,
        /// A shell command that kills one node, e.g. `kill -9 1234`.
        #[arg(long)]
        kill_cmd: String,
    },
}

#[derive(Args)]
struct Traffic {
    /// Young person / worker pairs (each is two clients).
    #[arg(long, default_value_t = 100)]
    pairs: usize,
    /// Worker accounts shared by the pairs (0: one per pair).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Messages per second per sender.
    #[arg(long, default_value_t = 1.0)]
    rate: f64,
    #[arg(long, value_enum, default_value_t = Direction::Both)]
    direction: Direction,
    /// Seconds of sending.
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// At most this many seconds after sending for late acks and deliveries.
    #[arg(long, default_value_t = 10.0)]
    drain: f64,
}

#[derive(Clone, Copy, ValueEnum)]
enum Direction {
    /// Young people and workers both send.
    Both,
    /// Only young people send.
    YpToWorker,
}

impl Traffic {
    fn pairs(&self) -> Pairs {
        Pairs {
            pairs: self.pairs,
            workers: self.workers,
            rate: self.rate,
            both_ways: matches!(self.direction, Direction::Both),
            seconds: self.seconds,
            drain_s: self.drain,
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let files = probe::raise_open_files_limit()?;
    if !cli.quiet {
        eprintln!("tzload: open-file limit {files}");
    }
    let target = Target {
        urls: cli.urls.clone(),
        admin_user: cli.admin_user.clone(),
        admin_password: cli.admin_password.clone(),
        concurrency: cli.concurrency,
    };
    let observe =
        Observe { server_pids: cli.server_pids.clone(), database_pid: cli.database_pid, progress: !cli.quiet };
    let report = match &cli.scenario {
        Scenario::Pairs(t) => scenarios::pairs(&target, &observe, &t.pairs()).await?,
        Scenario::Idle { connections, hold } => {
            scenarios::idle(&target, &observe, &Idle { connections: *connections, hold_s: *hold }).await?
        }
        Scenario::Fanout { members, senders, rate, seconds, drain } => {
            let o = Fanout { members: *members, senders: *senders, rate: *rate, seconds: *seconds, drain_s: *drain };
            scenarios::fanout(&target, &observe, &o).await?
        }
        Scenario::Storm { traffic, storm_at } => {
            scenarios::storm(&target, &observe, &traffic.pairs(), *storm_at).await?
        }
        Scenario::Failover { traffic, kill_at, kill_cmd } => {
            scenarios::failover(&target, &observe, &traffic.pairs(), *kill_at, kill_cmd).await?
        }
    };
    output(&cli, &report)?;
    if report.lost + report.duplicated + report.out_of_order > 0 {
        std::process::exit(3);
    }
    Ok(())
}

/// JSON to the file or stdout; the human line to whichever of stdout and stderr is free.
fn output(cli: &Cli, report: &Report) -> Result<()> {
    let json = serde_json::to_string_pretty(report)?;
    match &cli.json {
        Some(path) => {
            std::fs::write(path, json + "\n")?;
            println!("{}", report.human());
        }
        None => {
            println!("{json}");
            eprintln!("{}", report.human());
        }
    }
    Ok(())
}
