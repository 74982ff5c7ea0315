//! What the load generator reads about processes: CPU seconds and resident memory from
//! `/proc` (Linux only, like the benchmarks), and the open-file limit it raises at start.

use std::io;

/// `/proc/<pid>/stat` counts CPU time in clock ticks of `USER_HZ`, which Linux fixes at 100
/// for user space whatever the kernel's internal tick rate.
const TICKS_PER_SECOND: f64 = 100.0;

/// The fields of `/proc/<pid>/stat` we read.
struct Stat {
    ppid: u32,
    /// utime + stime, in seconds.
    own: f64,
    /// cutime + cstime: children that have exited and been waited for, in seconds.
    children: f64,
}

fn stat(path: &str) -> io::Result<Stat> {
    let stat = std::fs::read_to_string(path)?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name come state (field 3), ppid (4) … utime (14), stime (15), cutime (16),
    // cstime (17).
    let field = |n: usize| -> io::Result<u64> {
        fields
            .get(n - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc stat format"))
    };
    let seconds = |a: usize, b: usize| -> io::Result<f64> { Ok((field(a)? + field(b)?) as f64 / TICKS_PER_SECOND) };
    Ok(Stat { ppid: field(4)? as u32, own: seconds(14, 15)?, children: seconds(16, 17)? })
}

/// User plus system CPU seconds of `pid` (`None`: this process) so far.
pub fn cpu_seconds(pid: Option<u32>) -> io::Result<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    Ok(stat(&path)?.own)
}

/// CPU seconds so far of `pid` and of all its children, running or exited (PostgreSQL's
/// postmaster and its backends, which come and go).
pub fn process_tree_cpu_seconds(pid: u32) -> io::Result<f64> {
    let root = stat(&format!("/proc/{pid}/stat"))?;
    let mut total = root.own + root.children;
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let name = entry.file_name();
        let Some(child) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        // A process may exit between the listing and the read.
        if let Ok(s) = stat(&format!("/proc/{child}/stat")) {
            if s.ppid == pid {
                total += s.own + s.children;
            }
        }
    }
    Ok(total)
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

/// CPU seconds of this process, of each observed server process and of the database's
/// process tree, between two readings.
#[derive(Debug, Clone)]
pub struct CpuMeter {
    pids: Vec<u32>,
    start_self: f64,
    start_servers: Vec<Option<f64>>,
    database: Option<(u32, f64)>,
}

impl CpuMeter {
    pub fn start(pids: &[u32], database: Option<u32>) -> Self {
        Self {
            pids: pids.to_vec(),
            start_self: cpu_seconds(None).unwrap_or(0.0),
            start_servers: pids.iter().map(|p| cpu_seconds(Some(*p)).ok()).collect(),
            database: database.and_then(|pid| Some((pid, process_tree_cpu_seconds(pid).ok()?))),
        }
    }

    /// CPU seconds of the database's processes since `start`, when one was given and readable.
    pub fn read_database(&self) -> Option<f64> {
        let (pid, start) = self.database?;
        Some(process_tree_cpu_seconds(pid).ok()? - start)
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

    /// A child's CPU counts towards its parent's tree while it runs and after it has exited.
    #[test]
    fn a_process_tree_counts_its_children_running_and_exited() {
        let me = std::process::id();
        let (tree_before, own_before) =
            (process_tree_cpu_seconds(me).expect("own tree"), cpu_seconds(None).expect("own"));
        let mut child = std::process::Command::new("sh").args(["-c", "while :; do :; done"]).spawn().expect("sh");
        // Until the child has had 0.2 s of CPU, however busy the machine (it spins meanwhile).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let (running, own) = loop {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let running = process_tree_cpu_seconds(me).expect("own tree") - tree_before;
            let own = cpu_seconds(None).expect("own") - own_before;
            if running - own >= 0.2 || std::time::Instant::now() > deadline {
                break (running, own);
            }
        };
        assert!(running - own >= 0.2, "a running child's CPU counts: {running} s in all, {own} s our own");
        child.kill().expect("kill");
        child.wait().expect("reaped");
        let exited = process_tree_cpu_seconds(me).expect("own tree") - tree_before;
        assert!(exited >= running, "an exited child's CPU still counts: {exited} s against {running} s");
    }
}
