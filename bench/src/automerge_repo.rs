//! The automerge-repo side of the comparison: the sync server of bench/automerge-repo/server.mjs
//! (automerge-repo with NodeFS storage and the WebSocket server adapter) and its clients
//! (client.mjs), run as Node processes on the same documents and edits as Fengqiao.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// bench/automerge-repo, with its npm packages installed from the lock file when missing.
///
/// `npm install --no-save` rather than `npm ci`: npm leaves the platform-specific optional
/// packages of cbor-extract (a dependency of automerge-repo) out of the lock file it writes, and
/// `npm ci` then refuses the lock as out of step. Every version in the lock is still the one
/// installed; the lock file is not rewritten.
pub fn prepare(dir: &Path) -> Result<PathBuf> {
    if !dir.join("node_modules/@automerge/automerge-repo").exists() {
        let status = std::process::Command::new("npm")
            .args(["install", "--no-save", "--no-audit", "--no-fund"])
            .current_dir(dir)
            .status()
            .context("installing the npm packages of the automerge-repo comparison (is Node.js installed?)")?;
        if !status.success() {
            bail!("npm install failed in {}", dir.display());
        }
    }
    Ok(dir.to_path_buf())
}

/// One edit, in the JSON bench/automerge-repo/edits.mjs reads.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum EditOp {
    /// Text appended at the end of a Text.
    Append { path: Vec<String>, text: String },
    /// A scalar string written.
    Set { path: Vec<String>, value: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct DocEdits {
    pub id: String,
    pub ops: Vec<EditOp>,
}

/// The automerge-repo sync server, a child process.
pub struct RepoServer {
    child: Child,
    port: u16,
    http: reqwest::Client,
}

impl RepoServer {
    pub async fn start(dir: &Path, storage: &Path) -> Result<RepoServer> {
        let mut child = Command::new("node")
            .arg(dir.join("server.mjs"))
            .arg("--port")
            .arg("0")
            .arg("--storage")
            .arg(storage)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the automerge-repo server")?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next_line().await?.context("the automerge-repo server exited before listening")?;
        #[derive(Deserialize)]
        struct Ready {
            ready: u16,
        }
        let Ready { ready: port } = serde_json::from_str(&line).with_context(|| format!("unexpected {line:?}"))?;
        Ok(RepoServer { child, port, http: reqwest::Client::new() })
    }

    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    async fn post<T: Serialize + ?Sized, R: for<'de> Deserialize<'de>>(&self, path: &str, body: &T) -> Result<R> {
        let response = self.http.post(format!("http://{}{path}", self.address())).json(body).send().await?;
        if !response.status().is_success() {
            bail!("automerge-repo server {path}: {} {}", response.status(), response.text().await?);
        }
        Ok(response.json().await?)
    }

    /// Imports saved documents (files); their automerge-repo document ids, in order.
    pub async fn import(&self, files: &[PathBuf]) -> Result<Vec<String>> {
        #[derive(Serialize)]
        struct File<'a> {
            file: &'a Path,
        }
        #[derive(Deserialize)]
        struct Imported {
            id: String,
        }
        let body: Vec<File> = files.iter().map(|f| File { file: f }).collect();
        let imported: Vec<Imported> = self.post("/import", &body).await?;
        Ok(imported.into_iter().map(|i| i.id).collect())
    }

    /// Makes edits on the server's copies (as another device's changes would arrive) and flushes.
    pub async fn edit(&self, edits: &[DocEdits]) -> Result<()> {
        let _: serde_json::Value = self.post("/edit", edits).await?;
        Ok(())
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// What a client.mjs run reported.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ClientRun {
    pub mode: String,
    pub documents: usize,
    pub wall_ms: f64,
    pub cpu_ms: f64,
    pub peak_rss_bytes: u64,
}

/// Runs client.mjs once: `mode` with `--flag value` arguments.
pub async fn run_client(dir: &Path, mode: &str, args: &[(&str, String)]) -> Result<ClientRun> {
    let mut command = Command::new("node");
    command.arg(dir.join("client.mjs")).arg(mode);
    for (flag, value) in args {
        command.arg(format!("--{flag}")).arg(value);
    }
    let output = command.stderr(Stdio::inherit()).output().await.context("running the automerge-repo client")?;
    if !output.status.success() {
        bail!("automerge-repo client {mode} failed: {}", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().context("the automerge-repo client printed nothing")?;
    serde_json::from_str(line).with_context(|| format!("unexpected {line:?}"))
}
