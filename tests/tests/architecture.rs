//! Checks the crate invariants of ARCHITECTURE.md against the real dependency graph
//! (`cargo metadata`): `schema` and `sync` pull in no IO runtime, HTTP or SQL crates, and `server`
//! and `clients/rust` never depend on each other.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use serde_json::Value;

/// Crates (and their families) that mean IO: an async runtime, HTTP, SQL, WebSockets.
const FORBIDDEN_IN_PURE_CRATES: &[&str] = &["tokio", "axum", "sqlx", "hyper", "reqwest", "tungstenite"];

struct Graph {
    /// package id -> (name, normal and build dependency ids)
    nodes: HashMap<String, (String, Vec<String>)>,
}

impl Graph {
    fn load() -> Graph {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--manifest-path"])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
            .output()
            .expect("cargo metadata runs");
        assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
        let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
        let names: HashMap<&str, &str> = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        let mut nodes = HashMap::new();
        for node in meta["resolve"]["nodes"].as_array().unwrap() {
            let id = node["id"].as_str().unwrap().to_string();
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    // Dev-dependencies are not part of what a crate pulls into its users.
                    d["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].as_str() != Some("dev"))
                })
                .map(|d| d["pkg"].as_str().unwrap().to_string())
                .collect();
            nodes.insert(id.clone(), (names[id.as_str()].to_string(), deps));
        }
        Graph { nodes }
    }

    /// Names of every crate `name` depends on, directly or not (normal and build dependencies).
    fn closure(&self, name: &str) -> BTreeSet<String> {
        let start = self
            .nodes
            .iter()
            .find(|(_, (n, _))| n == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("{name} is a workspace member"));
        let mut seen = BTreeSet::new();
        let mut names = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let (_, deps) = &self.nodes[&id];
            for dep in deps {
                names.insert(self.nodes[dep].0.clone());
                stack.push(dep.clone());
            }
        }
        names
    }
}

fn forbidden(names: &BTreeSet<String>) -> Vec<&String> {
    names
        .iter()
        .filter(|n| FORBIDDEN_IN_PURE_CRATES.iter().any(|f| n.as_str() == *f || n.starts_with(&format!("{f}-")) || n.ends_with(&format!("-{f}"))))
        .collect()
}

#[test]
fn schema_and_sync_are_pure_and_the_clients_and_server_stay_apart() {
    let graph = Graph::load();
    for pure in ["fengqiao-schema", "fengqiao-sync"] {
        let deps = graph.closure(pure);
        assert!(forbidden(&deps).is_empty(), "{pure} must not depend on {:?}", forbidden(&deps));
    }
    assert!(graph.closure("fengqiao-sync").contains("fengqiao-schema"));
    assert!(!graph.closure("fengqiao-schema").contains("fengqiao-sync"), "schema must not depend on sync");
    assert!(!graph.closure("fengqiao-server").contains("fengqiao-client"), "server must not depend on the client");
    assert!(!graph.closure("fengqiao-client").contains("fengqiao-server"), "the client must not depend on the server");
}

#[test]
fn the_check_would_catch_a_forbidden_crate() {
    let names: BTreeSet<String> =
        ["serde", "tokio", "tokio-util", "sqlx-core", "tokio-tungstenite", "hyperlocal-not"].iter().map(|s| s.to_string()).collect();
    let found: Vec<&str> = forbidden(&names).into_iter().map(|s| s.as_str()).collect();
    assert_eq!(found, ["sqlx-core", "tokio", "tokio-tungstenite", "tokio-util"]);
}
