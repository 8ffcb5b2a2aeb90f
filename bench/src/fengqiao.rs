//! The Fengqiao side: the real `fengqiao` binary as a child process on a SQLite database of its
//! own (WAL, synchronous=FULL: the defaults), an organisation made for the benchmark, and
//! authoring devices that put cases on it through the real sync path.

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use fengqiao_client::ops::{NewParty, NewSession};
use fengqiao_client::{Client, ClientOptions};
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::time::Instant;
use fengqiao_schema::vocab::CaseKind;
use tokio::process::{Child, Command};

/// Every benchmark user's password.
pub const PASSWORD: &str = "bench-password-2026";

/// The benchmark county: `townships` townships (`bench.t0`, `bench.t1`, …), each with
/// `mediators` mediators (`t0.m0`, `t0.m1`, …).
pub fn org_file(townships: usize, mediators: usize) -> String {
    let mut out = String::from("[[units]]\nid = \"bench\"\nname = \"测试县\"\nkind = \"county\"\n\n");
    for t in 0..townships {
        let _ = writeln!(out, "[[units]]\nid = \"bench.t{t}\"\nname = \"测试{t}镇\"\nkind = \"township\"\nparent = \"bench\"\n");
    }
    for t in 0..townships {
        for m in 0..mediators {
            let _ = writeln!(
                out,
                "[[users]]\nid = \"{}\"\nname = \"调解员{t}-{m}\"\nunit = \"bench.t{t}\"\nroles = [\"mediator\"]\npassword = \"{PASSWORD}\"\n",
                user(t, m)
            );
        }
    }
    out
}

/// The id of mediator `m` of township `t`.
pub fn user(t: usize, m: usize) -> String {
    format!("t{t}.m{m}")
}

/// A `fengqiao serve` process.
pub struct Server {
    child: Child,
    address: SocketAddr,
    bin: PathBuf,
    database: PathBuf,
}

impl Server {
    /// Imports the organisation into a new database in `dir` (when not there yet) and starts the
    /// server on it.
    pub async fn start(bin: &Path, dir: &Path, org: Option<&str>) -> Result<Server> {
        std::fs::create_dir_all(dir)?;
        let database = dir.join("fengqiao.sqlite3");
        if let Some(org) = org {
            let file = dir.join("org.toml");
            std::fs::write(&file, org)?;
            let status = Command::new(bin)
                .arg("--database-url")
                .arg(&database)
                .arg("--log")
                .arg("warn")
                .args(["org", "import"])
                .arg(&file)
                .stdout(Stdio::null())
                .status()
                .await
                .context("importing the benchmark county")?;
            if !status.success() {
                bail!("fengqiao org import failed: {status}");
            }
        }
        Server::spawn(bin, &database).await
    }

    async fn spawn(bin: &Path, database: &Path) -> Result<Server> {
        let address = free_address()?;
        let child = Command::new(bin)
            .arg("--database-url")
            .arg(database)
            .arg("--log")
            .arg("warn")
            .arg("serve")
            .arg("--listen")
            .arg(address.to_string())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let server = Server { child, address, bin: bin.to_path_buf(), database: database.to_path_buf() };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&self) -> Result<()> {
        let http = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(response) = http.get(format!("{}/readyz", self.url())).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the server did not become ready on {}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// A counter or gauge of `/metrics` (summed over its labels).
    pub async fn metric(&self, name: &str) -> Result<f64> {
        let text = reqwest::get(format!("{}/metrics", self.url())).await?.text().await?;
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (key, value) = l.rsplit_once(' ')?;
                let bare = key.split('{').next()?;
                (bare == name).then(|| value.parse::<f64>().ok()).flatten()
            })
            .sum())
    }

    /// Stops the server (SIGTERM, then waits) and starts it again on the same database.
    pub async fn restart(self) -> Result<Server> {
        let (bin, database) = (self.bin.clone(), self.database.clone());
        self.stop().await?;
        Server::spawn(&bin, &database).await
    }

    pub async fn stop(mut self) -> Result<()> {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill has no memory preconditions; the pid is our own child's.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => self.child.kill().await?,
        }
        Ok(())
    }
}

fn free_address() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// A device of `user` with its replica in `dir`, logged in through `server_url`.
pub async fn device(dir: &Path, server_url: &str, user: &str) -> Result<Client> {
    let mut options = ClientOptions::new(dir, server_url);
    options.exchange_timeout = Duration::from_secs(300);
    let client = Client::open(options)?;
    client.login(user, PASSWORD).await?;
    Ok(client)
}

/// How much a generated case holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// What a mediated case holds after a few weeks: two parties, the facts, a session and an
    /// agreement (about 5 changes, a few KiB).
    Full,
    /// A case just recorded: one party and the facts (2 changes).
    Intake,
}

const FACTS: &str = "申请人与被申请人系相邻村民，因宅基地边界及排水沟走向发生争执。申请人称被申请人于今年三月翻建房屋时，\
将排水沟向东移动约一米，雨季积水流入申请人院内，造成墙体受潮；被申请人称排水沟系按原址修复，并无侵占。\
村委会曾两次组织协商未果，双方请求镇人民调解委员会调解。";
const SESSION: &str = "调解员分别听取双方陈述，现场查看排水沟走向并测量，双方同意以原宅基地证四至为准，由村委会见证重新确定边界。";
const AGREEMENT: &str = "一、被申请人于本协议签订之日起十五日内将排水沟恢复至原址；二、所需费用由被申请人承担；\
三、申请人不再就墙体受潮主张赔偿；四、双方今后和睦相处，不再因此事发生纠纷。";

/// One edit of a generated case's content, after its intake.
pub enum Step {
    Party(NewParty),
    Facts(&'static str),
    Session(NewSession),
    Agreement(&'static str),
}

/// The edits that give the `serial`-th generated case its `content`, in order.
pub fn case_content(content: Content, serial: usize) -> Vec<Step> {
    let i = serial;
    let mut steps = vec![
        Step::Party(NewParty {
            role: None,
            kind: None,
            name: format!("张{}", ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊"][i % 8]),
            id_number: format!("3301021980{:08}", i),
            phone: format!("138{:08}", i),
            address: "测试县测试镇东村三组".into(),
        }),
        Step::Facts(FACTS),
    ];
    if content == Content::Full {
        steps.push(Step::Party(NewParty {
            role: None,
            kind: None,
            name: format!("李{}", ["军", "洋", "勇", "艳", "杰", "涛"][i % 6]),
            id_number: format!("3301021975{:08}", i),
            phone: format!("139{:08}", i),
            address: "测试县测试镇东村三组".into(),
        }));
        steps.push(Step::Session(NewSession {
            held_at: Instant::from_unix(1_780_000_000 + i as i64 * 60),
            place: "镇人民调解委员会调解室".into(),
            notes: SESSION.into(),
        }));
        steps.push(Step::Agreement(AGREEMENT));
    }
    steps
}

/// Opens `n` cases on `client` (which must be a mediator's device) and syncs them to the server
/// every `batch` cases. Their ids, in order.
pub async fn author_cases(client: &Client, n: usize, content: Content, batch: usize) -> Result<Vec<CaseId>> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let case_id = client.open_case(CaseKind::Dispute, &format!("宅基地边界纠纷 {i}")).await?;
        for step in case_content(content, i) {
            match step {
                Step::Party(party) => {
                    client.add_party(case_id, party).await?;
                }
                Step::Facts(text) => client.append_facts(case_id, text).await?,
                Step::Session(session) => {
                    client.add_session(case_id, session).await?;
                }
                Step::Agreement(text) => client.append_agreement(case_id, text).await?,
            }
        }
        ids.push(case_id);
        if (i + 1) % batch == 0 {
            client.sync().await?;
        }
    }
    client.sync().await?;
    Ok(ids)
}
