//! The harness itself, run small (`--quick`) against the real server binary and the real
//! automerge-repo server: every scenario runs to the end and reports sane figures. It measures
//! nothing worth reading (`make bench` does); it keeps the harness from rotting.

use std::path::PathBuf;
use std::process::Command;

fn server_binary() -> PathBuf {
    if let Ok(bin) = std::env::var("FENGQIAO_BIN") {
        return PathBuf::from(bin);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"));
    let bin = target.join("debug/fengqiao");
    // `make test` names the one `cargo test --workspace` built (FENGQIAO_BIN, above); a run of
    // this package alone builds it here.
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "fengqiao-server", "--bin", "fengqiao"])
        .current_dir(&root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the server builds");
    bin
}

#[test]
fn every_scenario_runs_small() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_fengqiao-bench"))
        .arg("--quick")
        .arg("--server-bin")
        .arg(server_binary())
        .arg("--node-dir")
        .arg(root.join("bench/automerge-repo"))
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("the harness runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the harness failed:\n{stderr}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let measurements = report["measurements"].as_array().unwrap();
    let find = |scenario: &str, system: &str| {
        measurements
            .iter()
            .find(|m| m["scenario"] == scenario && m["system"] == system)
            .unwrap_or_else(|| panic!("no measurement of ({scenario}) for {system}: {report:#}"))
    };
    for (scenario, system) in [
        ("a", "fengqiao"),
        ("a", "automerge-repo"),
        ("b", "fengqiao"),
        ("b", "automerge-repo"),
        ("c", "fengqiao"),
        ("d", "fengqiao"),
        ("e", "fengqiao"),
    ] {
        let m = find(scenario, system);
        assert!(m["wall_ms"].as_f64().unwrap() > 0.0, "({scenario}) {system} took some time");
        assert!(m["traffic"]["bytes_down"].as_u64().unwrap() > 0, "({scenario}) {system} went over the wire");
        assert!(m["server"]["peak_rss_bytes"].as_u64().unwrap() > 0, "({scenario}) {system} server memory read");
    }
    assert_eq!(find("a", "fengqiao")["figures"]["cases"], 40.0);
    assert!(find("b", "fengqiao")["figures"]["change_bytes"].as_f64().unwrap() > 0.0);
    assert!(find("c", "fengqiao")["figures"]["durable_commits"].as_f64().unwrap() > 0.0);
    assert!(find("d", "fengqiao")["figures"]["edits_seen"].as_f64().unwrap() > 0.0);
    assert_eq!(find("e", "fengqiao")["figures"]["bootstrapped_cases"], 60.0);
    assert!(report["targets"].as_array().unwrap().len() >= 8, "every target is checked");
    let markdown = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(markdown.contains("## Fengqiao against the automerge-repo server"), "{markdown}");
}
