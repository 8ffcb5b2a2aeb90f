//! The benchmark report: every measurement of a run as JSON (for machines and for comparing runs)
//! and as a Markdown table (for people), with the targets of the benchmark issue and the ratios
//! against the automerge-repo server.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::procstat::Usage;
use crate::proxy::Traffic;

/// One system's run of one scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    /// `a` … `e`.
    pub scenario: String,
    /// `fengqiao` or `automerge-repo`.
    pub system: String,
    pub wall_ms: f64,
    pub traffic: Traffic,
    pub server: Usage,
    pub client: Usage,
    /// Scenario-specific figures (commits per second, latency percentiles, sizes of the changes…).
    pub figures: BTreeMap<String, f64>,
}

/// A target of the issue, checked against the measurements.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub scenario: String,
    pub what: String,
    pub measured: f64,
    pub limit: f64,
    /// `true` when `measured` must stay below `limit`, `false` when it must reach it.
    pub below: bool,
    pub met: bool,
}

impl Target {
    pub fn below(scenario: &str, what: &str, measured: f64, limit: f64) -> Target {
        Target { scenario: scenario.into(), what: what.into(), measured, limit, below: true, met: measured < limit }
    }

    pub fn at_least(scenario: &str, what: &str, measured: f64, limit: f64) -> Target {
        Target { scenario: scenario.into(), what: what.into(), measured, limit, below: false, met: measured >= limit }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub started_at: String,
    pub machine: Machine,
    pub settings: BTreeMap<String, String>,
    pub measurements: Vec<Measurement>,
    pub targets: Vec<Target>,
    /// Notes written by the scenarios (why a figure is what it is).
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub kernel: String,
    pub memory_bytes: u64,
}

impl Machine {
    pub fn this() -> Machine {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
        let memory_bytes = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines().find_map(|l| l.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
            })
            .map_or(0, |kib| kib * 1024);
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            kernel,
            memory_bytes,
        }
    }
}

impl Report {
    pub fn find(&self, scenario: &str, system: &str) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.scenario == scenario && m.system == system)
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(self)? + "\n")?;
        std::fs::write(dir.join("report.md"), self.markdown())?;
        Ok(())
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(out, "# Fengqiao benchmark report\n");
        let _ = writeln!(
            out,
            "Run at {} on {} CPUs, {:.1} GiB, Linux {}, loopback.\n",
            self.started_at,
            m.cpus,
            m.memory_bytes as f64 / (1u64 << 30) as f64,
            m.kernel
        );
        if !self.settings.is_empty() {
            let settings: Vec<String> = self.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(out, "Settings: {}.\n", settings.join(", "));
        }
        let _ = writeln!(out, "## Measurements\n");
        let _ = writeln!(
            out,
            "| scenario | system | wall | bytes up | bytes down | round trips | server CPU | server peak RSS | client CPU | client peak RSS | figures |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for x in &self.measurements {
            let figures: Vec<String> = x.figures.iter().map(|(k, v)| format!("{k} {}", number(*v))).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                x.scenario,
                x.system,
                millis(x.wall_ms),
                bytes(x.traffic.bytes_up),
                bytes(x.traffic.bytes_down),
                x.traffic.round_trips,
                millis(x.server.cpu_ms),
                bytes(x.server.peak_rss_bytes),
                millis(x.client.cpu_ms),
                bytes(x.client.peak_rss_bytes),
                figures.join("; ")
            );
        }
        let ratios = self.ratios();
        if !ratios.is_empty() {
            let _ = writeln!(out, "\n## Fengqiao against the automerge-repo server\n");
            let _ = writeln!(out, "| scenario | automerge-repo wall ÷ Fengqiao wall | automerge-repo bytes ÷ Fengqiao bytes |");
            let _ = writeln!(out, "|---|---:|---:|");
            for (scenario, wall, bytes) in ratios {
                let _ = writeln!(out, "| {scenario} | {wall:.1}× | {bytes:.1}× |");
            }
        }
        if !self.targets.is_empty() {
            let _ = writeln!(out, "\n## Targets\n");
            let _ = writeln!(out, "| scenario | target | measured | met |");
            let _ = writeln!(out, "|---|---|---:|---|");
            for t in &self.targets {
                let sign = if t.below { "<" } else { "≥" };
                let _ = writeln!(
                    out,
                    "| {} | {} {sign} {} | {} | {} |",
                    t.scenario,
                    t.what,
                    number(t.limit),
                    number(t.measured),
                    if t.met { "yes" } else { "**no**" }
                );
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\n## Notes\n");
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }

    /// (scenario, wall ratio, bytes ratio) for each scenario both systems ran.
    pub fn ratios(&self) -> Vec<(String, f64, f64)> {
        let mut out = Vec::new();
        for ours in self.measurements.iter().filter(|m| m.system == "fengqiao") {
            if let Some(theirs) = self.find(&ours.scenario, "automerge-repo") {
                out.push((
                    ours.scenario.clone(),
                    theirs.wall_ms / ours.wall_ms.max(f64::MIN_POSITIVE),
                    theirs.traffic.bytes() as f64 / (ours.traffic.bytes().max(1)) as f64,
                ));
            }
        }
        out
    }
}

fn millis(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(scenario: &str, system: &str, wall_ms: f64, bytes_up: u64) -> Measurement {
        Measurement {
            scenario: scenario.into(),
            system: system.into(),
            wall_ms,
            traffic: Traffic { bytes_up, bytes_down: 0, round_trips: 3, connections: 1 },
            server: Usage::default(),
            client: Usage::default(),
            figures: BTreeMap::from([("commits_per_second".to_string(), 2500.0)]),
        }
    }

    #[test]
    fn markdown_has_ratios_and_targets() {
        let report = Report {
            started_at: "2026-11-22T20:00:00Z".into(),
            machine: Machine { cpus: 2, kernel: "6.1".into(), memory_bytes: 24 << 30 },
            settings: BTreeMap::new(),
            measurements: vec![
                measurement("a", "fengqiao", 200.0, 1000),
                measurement("a", "automerge-repo", 2000.0, 3000),
            ],
            targets: vec![Target::below("a", "wall ms", 200.0, 1000.0), Target::at_least("a", "speed-up", 10.0, 5.0)],
            notes: vec!["a note".into()],
        };
        assert_eq!(report.ratios(), vec![("a".to_string(), 10.0, 3.0)]);
        let md = report.markdown();
        assert!(md.contains("| a | fengqiao | 200.0 ms | 1000 B | 0 B | 3 |"), "{md}");
        assert!(md.contains("| a | 10.0× | 3.0× |"), "{md}");
        assert!(md.contains("| a | wall ms < 1000 | 200 | yes |"), "{md}");
        assert!(md.contains("- a note"), "{md}");
    }
}
