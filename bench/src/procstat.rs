//! CPU time and memory of a process, read from Linux's /proc: the server under test (a child
//! process) or the harness itself (`/proc/self`).

use std::time::Duration;

use serde::Serialize;

/// A process to measure.
#[derive(Clone, Copy, Debug)]
pub enum Process {
    This,
    Pid(u32),
}

impl Process {
    fn path(&self, file: &str) -> String {
        match self {
            Process::This => format!("/proc/self/{file}"),
            Process::Pid(pid) => format!("/proc/{pid}/{file}"),
        }
    }

    /// User + system CPU time so far.
    pub fn cpu(&self) -> std::io::Result<Duration> {
        let stat = std::fs::read_to_string(self.path("stat"))?;
        // The command name (field 2) may hold spaces; the fields after its closing parenthesis
        // start at field 3, so utime and stime (fields 14 and 15) are the 12th and 13th.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Ok(Duration::from_micros(ticks * 1_000_000 / per_second))
    }

    /// Resident memory now, in bytes.
    pub fn rss(&self) -> std::io::Result<u64> {
        self.status_kib("VmRSS:").map(|kib| kib * 1024)
    }

    /// Peak resident memory since the process started or since [`Process::reset_peak`], in bytes.
    pub fn peak_rss(&self) -> std::io::Result<u64> {
        self.status_kib("VmHWM:").map(|kib| kib * 1024)
    }

    /// Starts the peak over from the current resident memory (Linux ≥ 4.0; needs the right to
    /// write the process's clear_refs, which the owner of the process has).
    pub fn reset_peak(&self) -> std::io::Result<()> {
        std::fs::write(self.path("clear_refs"), "5")
    }

    fn status_kib(&self, key: &str) -> std::io::Result<u64> {
        let status = std::fs::read_to_string(self.path("status"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(key)?.trim().strip_suffix("kB")?.trim().parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no {key} in {}", self.path("status"))))
    }
}

/// CPU used and peak memory over a stretch of work.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Usage {
    pub cpu_ms: f64,
    pub peak_rss_bytes: u64,
}

/// Measures a process from `start` to `finish`.
pub struct Meter {
    process: Process,
    cpu_before: Duration,
}

impl Meter {
    pub fn start(process: Process) -> std::io::Result<Meter> {
        process.reset_peak()?;
        Ok(Meter { process, cpu_before: process.cpu()? })
    }

    pub fn finish(self) -> std::io::Result<Usage> {
        let cpu = self.process.cpu()?.saturating_sub(self.cpu_before);
        Ok(Usage { cpu_ms: cpu.as_secs_f64() * 1000.0, peak_rss_bytes: self.process.peak_rss()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let meter = Meter::start(Process::This).unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let big = vec![1u8; 64 << 20];
        std::hint::black_box(&big);
        let usage = meter.finish().unwrap();
        assert!(usage.peak_rss_bytes >= 64 << 20, "the 64 MiB buffer shows in the peak: {usage:?}");
        assert!(Process::This.rss().unwrap() > 0);
    }
}
