//! The result of a run: one JSON object for machines and one line for people.

use std::collections::BTreeMap;

use serde::Serialize;

/// Percentiles of a set of durations, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// From samples in microseconds (sorted here).
    pub fn of_micros(mut samples: Vec<u64>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        // Nearest rank: the smallest sample with at least q of all samples at or below it.
        let at = |q: f64| {
            let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[rank - 1] as f64 / 1000.0
        };
        Self { count: samples.len(), p50: at(0.50), p90: at(0.90), p99: at(0.99), max: at(1.0) }
    }
}

/// CPU seconds used during the measured phase.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CpuSeconds {
    pub load_generator: f64,
    /// Per server pid; a node killed mid-run reports what it used until the kill, `null`
    /// when the process could not be read at all.
    pub servers: BTreeMap<u32, Option<f64>>,
    /// The database's processes (PostgreSQL's postmaster and backends), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<f64>,
}

/// Server memory around opening idle connections.
#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    pub pid: u32,
    pub rss_before_bytes: u64,
    pub rss_after_bytes: u64,
    pub per_connection_bytes: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub scenario: String,
    pub urls: Vec<String>,
    /// WebSocket clients the scenario runs.
    pub clients: usize,
    /// Clients not connected at the end: they gave up reconnecting, or were still trying.
    pub clients_gave_up: u64,
    /// Seconds spent setting up accounts and conversations, and connecting.
    pub setup_s: f64,
    /// 429 answers waited out during setup.
    pub setup_rate_limited: u64,
    /// Seconds of sending, and of the whole measured phase (sending, then draining).
    pub send_s: f64,
    pub measured_s: f64,
    /// Messages sent (first sends; resends after a reconnect are `resent`).
    pub sent: u64,
    pub resent: u64,
    /// Acknowledged by the server (`delivered` or `held`).
    pub acked: u64,
    /// Acknowledged as `held` for moderation (not delivered to others).
    pub held: u64,
    /// Sends refused with an `error` frame, by code (`rate_limited`, `unavailable`, …).
    pub refused: BTreeMap<String, u64>,
    /// Sent but never acknowledged nor refused by the end.
    pub unacked: u64,
    /// Deliveries to receivers of acknowledged messages: each message counts once per other
    /// member of its conversation that should see it.
    pub expected: u64,
    pub delivered: u64,
    /// Acknowledged as delivered, but never received by a member that should have.
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    /// Delivered messages per second over the measured phase.
    pub throughput_msg_s: f64,
    /// From the scheduled send to the frame at the other side.
    pub latency_ms: Percentiles,
    /// From the scheduled send to its `ack` at the sender (a resend's ack counts from the
    /// first schedule).
    pub ack_latency_ms: Percentiles,
    /// How late sends left the load generator against their schedule: its own timer and CPU,
    /// already inside both latencies above.
    pub send_lag_ms: Percentiles,
    /// Reconnects, and from losing a socket to being subscribed again.
    pub reconnects: u64,
    pub connect_failures: u64,
    pub resume_ms: Percentiles,
    /// `error` frames that did not refuse a send, by code.
    pub errors: BTreeMap<String, u64>,
    pub cpu_s: CpuSeconds,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
}

impl Report {
    /// One line for people.
    pub fn human(&self) -> String {
        let refused: u64 = self.refused.values().sum();
        let mut line = format!("{}: {} clients", self.scenario, self.clients);
        if self.sent > 0 || self.delivered > 0 {
            line.push_str(&format!(
                ", sent {} acked {} refused {refused} delivered {}/{} lost {} duplicated {} out of order {}, \
                 {:.0} msg/s, latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
                self.sent,
                self.acked,
                self.delivered,
                self.expected,
                self.lost,
                self.duplicated,
                self.out_of_order,
                self.throughput_msg_s,
                self.latency_ms.p50,
                self.latency_ms.p90,
                self.latency_ms.p99,
                self.latency_ms.max
            ));
            line.push_str(&format!(
                ", ack ms p50 {:.2} p99 {:.2}, send lag ms p50 {:.2} p99 {:.2}",
                self.ack_latency_ms.p50, self.ack_latency_ms.p99, self.send_lag_ms.p50, self.send_lag_ms.p99
            ));
        }
        if self.reconnects > 0 {
            line.push_str(&format!(
                ", {} resumed: ms p50 {:.0} p99 {:.0} max {:.0}",
                self.reconnects, self.resume_ms.p50, self.resume_ms.p99, self.resume_ms.max
            ));
        }
        if self.clients_gave_up > 0 {
            line.push_str(&format!(", {} clients gave up", self.clients_gave_up));
        }
        if let Some(m) = &self.memory {
            line.push_str(&format!(
                ", server RSS {:.1} -> {:.1} MiB = {:.0} bytes per connection",
                m.rss_before_bytes as f64 / 1048576.0,
                m.rss_after_bytes as f64 / 1048576.0,
                m.per_connection_bytes
            ));
        }
        line.push_str(&format!(", cpu s: load generator {:.1}", self.cpu_s.load_generator));
        for (pid, s) in &self.cpu_s.servers {
            match s {
                Some(s) => line.push_str(&format!(", server {pid} {s:.1}")),
                None => line.push_str(&format!(", server {pid} unreadable")),
            }
        }
        if let Some(s) = self.cpu_s.database {
            line.push_str(&format!(", database {s:.1}"));
        }
        line.push_str(&format!(" (measured {:.1} s)", self.measured_s));
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of_micros((1..=100).map(|i| i * 1000).collect());
        assert_eq!((p.count, p.p50, p.p90, p.p99, p.max), (100, 50.0, 90.0, 99.0, 100.0));
        assert_eq!(Percentiles::of_micros(vec![]).count, 0);
    }
}
