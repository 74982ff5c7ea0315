//! What the load generator reads about processes: CPU seconds and resident memory from
//! `/proc` (Linux only, like the benchmarks), and the open-file limit it raises at start.

use std::io;

/// `/proc/<pid>/stat` counts CPU time in clock ticks of `USER_HZ`, which Linux fixes at 100
/// for user space whatever the kernel's internal tick rate.
const TICKS_PER_SECOND: f64 = 100.0;

/// User plus system CPU seconds of `pid` (`None`: this process) so far.
pub fn cpu_seconds(pid: Option<u32>) -> io::Result<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path)?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name come state (field 3) … utime (field 14) and stime (field 15).
    let tick = |i: usize| -> io::Result<f64> {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .map(|t| t as f64 / TICKS_PER_SECOND)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc stat format"))
    };
    Ok(tick(14 - 3)? + tick(15 - 3)?)
}

/// Resident memory of `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmRSS in /proc status"))
}

/// Raises this process's soft open-file limit to the hard limit: every connection is a file,
/// and the soft limit is often far below what the machine allows. Returns the new limit.
pub fn raise_open_files_limit() -> io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// CPU seconds of this process and of each observed server process, between two readings.
#[derive(Debug, Clone)]
pub struct CpuMeter {
    pids: Vec<u32>,
    start_self: f64,
    start_servers: Vec<Option<f64>>,
}

impl CpuMeter {
    pub fn start(pids: &[u32]) -> Self {
        Self {
            pids: pids.to_vec(),
            start_self: cpu_seconds(None).unwrap_or(0.0),
            start_servers: pids.iter().map(|p| cpu_seconds(Some(*p)).ok()).collect(),
        }
    }

    /// CPU seconds used since `start`: this process, then `(pid, seconds)` for each server
    /// still readable (a killed node reports what it used up to its last reading: none).
    pub fn read(&self) -> (f64, Vec<(u32, Option<f64>)>) {
        let me = cpu_seconds(None).map(|now| now - self.start_self).unwrap_or(0.0);
        let servers = self
            .pids
            .iter()
            .zip(&self.start_servers)
            .map(|(pid, start)| {
                let used = match (start, cpu_seconds(Some(*pid))) {
                    (Some(s), Ok(now)) => Some(now - s),
                    _ => None,
                };
                (*pid, used)
            })
            .collect();
        (me, servers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        assert!(cpu_seconds(None).expect("own stat") >= 0.0);
        assert!(rss_bytes(std::process::id()).expect("own status") > 0);
    }
}
