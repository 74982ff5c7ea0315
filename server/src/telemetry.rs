//! Logs and metrics. Metric names are constants here so that one place defines them.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::config::{Config, LogFormat};

pub const WS_CONNECTIONS: &str = "talkzone_ws_connections";
pub const MESSAGES_STORED: &str = "talkzone_messages_stored_total";
pub const MESSAGES_DELIVERED: &str = "talkzone_messages_delivered_total";
pub const STORE_WRITE_SECONDS: &str = "talkzone_store_write_seconds";
pub const RATE_LIMITED: &str = "talkzone_rate_limited_total";
pub const SLOW_CONSUMERS: &str = "talkzone_slow_consumers_total";
pub const HTTP_REQUESTS: &str = "talkzone_http_requests_total";
/// Events this node handed to Redis, received from other nodes, or could not queue.
/// Messages per group commit (one transaction, one durable flush).
pub const GROUP_COMMIT_SIZE: &str = "talkzone_group_commit_messages";
pub const BROKER_PUBLISHED: &str = "talkzone_broker_published_total";
pub const BROKER_RECEIVED: &str = "talkzone_broker_received_total";
pub const BROKER_DROPPED: &str = "talkzone_broker_dropped_total";
/// Times the broker subscription came back after a loss (each one re-reads from the database).
pub const BROKER_RECONNECTS: &str = "talkzone_broker_reconnects_total";

/// Seconds a support chat waited in the queue before a worker accepted it (from its opening,
/// or its return to the queue).
pub const QUEUE_WAIT_SECONDS: &str = "talkzone_queue_wait_seconds";
/// Seconds from the start of a chat's wait to its worker's first reply.
pub const FIRST_REPLY_SECONDS: &str = "talkzone_first_reply_seconds";
/// Buckets of the waits above: seconds to an hour.
const WAIT_BUCKETS: &[f64] = &[5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0];

/// On-call alert deliveries, by `result` (`delivered`, `failed`).
pub const ONCALL_DELIVERIES: &str = "talkzone_oncall_deliveries_total";
/// Steps of the escalation chain taken (re-alerts), by `severity`.
pub const ESCALATION_STEPS: &str = "talkzone_escalation_steps_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
const UPKEEP_THREAD: &str = "metrics-upkeep";
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Installs the process-wide metrics recorder once; later calls reuse it (tests boot several
/// servers in one process).
pub fn metrics_handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(STORE_WRITE_SECONDS.into()),
                    &[0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0],
                )
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(QUEUE_WAIT_SECONDS.into()), WAIT_BUCKETS))
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(FIRST_REPLY_SECONDS.into()), WAIT_BUCKETS))
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was set first; the handle still renders ours.
            let _ = metrics::set_global_recorder(recorder);
            // Histogram samples pile up in the recorder until drained: by a scrape of /metrics,
            // or by this. Without it a node nobody scrapes grows by every sample it records
            // (several per message).
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new().name(UPKEEP_THREAD.into()).spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            });
            handle
        })
        .clone()
}

/// Sets up structured logs on stderr.
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn histograms_are_drained_without_a_scrape() {
        let _ = super::metrics_handle();
        let threads = || -> Vec<String> {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .map(|n| n.trim().to_owned())
                .collect()
        };
        // A new thread names itself once it runs.
        for _ in 0..100 {
            if threads().iter().any(|n| n == super::UPKEEP_THREAD) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("no upkeep thread among {:?}", threads());
    }
}
