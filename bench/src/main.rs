//! `fengqiao-bench`: runs the benchmark scenarios and writes `report.json` and `report.md`.
//! `make bench` builds the release server and runs it with the sizes of the benchmark issue;
//! `--quick` runs every scenario small (as the smoke test does).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Parser;
use fengqiao_bench::report::{Machine, Report};
use fengqiao_bench::scenarios::{self, Setup};

/// 枫桥性能基准：启动真实服务器与客户端，测量引导、重连、写入、推送与内存。
#[derive(Parser)]
#[command(name = "fengqiao-bench")]
struct Cli {
    /// Scenarios to run: any of a, b, c, d, e (a and b run together).
    #[arg(long, value_delimiter = ',', default_value = "a,b,c,c-full,d,e")]
    scenarios: Vec<String>,
    /// The `fengqiao` binary to benchmark (build it with --release).
    #[arg(long, default_value = "target/release/fengqiao")]
    server_bin: PathBuf,
    /// The automerge-repo comparison (package.json, server.mjs, client.mjs).
    #[arg(long, default_value = "bench/automerge-repo")]
    node_dir: PathBuf,
    /// Where report.json and report.md are written.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Where the populated database of (e) is kept between runs.
    #[arg(long, default_value = "target/bench/cache")]
    cache: PathBuf,
    /// Small sizes everywhere (a smoke run, not a measurement).
    #[arg(long)]
    quick: bool,
    /// Skip the automerge-repo side of (a) and (b).
    #[arg(long)]
    no_compare: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if !cli.server_bin.exists() {
        bail!("{} not found: build it with `cargo build --release -p fengqiao-server --bin fengqiao`", cli.server_bin.display());
    }
    let work = tempfile::tempdir()?;
    let setup = if cli.quick {
        Setup {
            server_bin: cli.server_bin.clone(),
            node_dir: cli.node_dir.clone(),
            work: work.path().to_path_buf(),
            cases: 40,
            local_changes: 5,
            server_changes: 10,
            ingest_devices: 4,
            ingest_seconds: 2,
            fanout_devices: 6,
            fanout_seconds: 4,
            stored_cases: 60,
            cache: work.path().join("cache"),
            compare: !cli.no_compare,
        }
    } else {
        Setup {
            server_bin: cli.server_bin.clone(),
            node_dir: cli.node_dir.clone(),
            work: work.path().to_path_buf(),
            cases: 1000,
            local_changes: 50,
            server_changes: 100,
            ingest_devices: 100,
            ingest_seconds: 15,
            fanout_devices: 500,
            fanout_seconds: 30,
            stored_cases: 100_000,
            cache: cli.cache.clone(),
            compare: !cli.no_compare,
        }
    };
    let mut report = Report {
        started_at: chrono_like_now(),
        machine: Machine::this(),
        settings: BTreeMap::from([
            ("cases".to_string(), setup.cases.to_string()),
            ("ingest_devices".to_string(), setup.ingest_devices.to_string()),
            ("fanout_devices".to_string(), setup.fanout_devices.to_string()),
            ("stored_cases".to_string(), setup.stored_cases.to_string()),
            ("quick".to_string(), cli.quick.to_string()),
        ]),
        measurements: Vec::new(),
        targets: Vec::new(),
        notes: Vec::new(),
    };
    let wants = |s: &str| cli.scenarios.iter().any(|x| x == s);
    if wants("a") || wants("b") {
        scenarios::bootstrap_and_reconnect(&setup, &mut report).await?;
    }
    if wants("c") {
        scenarios::ingest(&setup, &mut report).await?;
    }
    if wants("c-full") {
        scenarios::ingest_full_clients(&setup, &mut report).await?;
    }
    if wants("d") {
        scenarios::fanout(&setup, &mut report).await?;
    }
    if wants("e") {
        scenarios::memory(&setup, &mut report).await?;
    }
    report.write(&cli.out)?;
    print!("{}", report.markdown());
    eprintln!("报告已写入 {}", cli.out.join("report.md").display());
    Ok(())
}

fn chrono_like_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("unix {secs}")
}
