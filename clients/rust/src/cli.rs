//! The `fengqiao-client` command line: arguments (clap, Chinese help) parsed once into a
//! [`Cli`], then one command run against a [`Client`], writing Chinese text to the given output.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use fengqiao_schema::document::Case;
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::time::Instant;
use fengqiao_schema::vocab::{CaseKind, HandoffVerdict, PartyKind, PartyRole, Track};

use crate::client::{Client, ClientOptions, ProgressFn, SyncProgress, SyncReport, WatchEvent};
use crate::error::ClientError;
use crate::ops::{NewParty, NewSession};
use crate::transport::TransportKind;

/// 枫桥离线客户端：在本机保存案件，离线编辑，联网时与服务器同步。
#[derive(Debug, Parser)]
#[command(name = "fengqiao-client", version)]
pub struct Cli {
    /// 本机数据目录（案件、同步状态、暂存区、通知和登录信息）
    #[arg(
        long,
        env = "FENGQIAO_CLIENT_DATA_DIR",
        default_value = "fengqiao-client-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// 服务器地址，例如 http://127.0.0.1:8080
    #[arg(
        long,
        env = "FENGQIAO_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// 同步方式：websocket（默认）或 http
    #[arg(long, env = "FENGQIAO_CLIENT_TRANSPORT", value_enum, default_value_t = Transport::Websocket, global = true)]
    pub transport: Transport,
    /// 本设备的名称（首次登录时登记）
    #[arg(
        long,
        env = "FENGQIAO_DEVICE_NAME",
        default_value = "平板",
        global = true
    )]
    pub device_name: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    Websocket,
    Http,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 登录（密码取自 --password、环境变量 FENGQIAO_PASSWORD 或标准输入的第一行）
    Login {
        /// 用户名
        #[arg(long)]
        user: String,
        /// 密码
        #[arg(long, env = "FENGQIAO_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// 显示当前登录的用户和设备
    Whoami,
    /// 列出本机保存的案件
    Cases,
    /// 查看一个案件
    Show {
        /// 案件标识、案件编号或标题
        case: String,
    },
    /// 在本机登记新案件（离线亦可，联网同步后由服务器编号）
    New {
        /// 案件类型：dispute（矛盾纠纷）或 petition（信访事项）
        #[arg(long, default_value = "dispute")]
        kind: String,
        /// 标题，例如“张某与李某宅基地纠纷”
        #[arg(long)]
        title: String,
    },
    /// 修改一个字段，例如 set <案件> mediation.result failed；空值清除可选字段
    Set {
        case: String,
        /// 字段路径，例如 meta.dispute_type、parties.<当事人标识>.phone、mediation.agreement.terms
        path: String,
        value: String,
    },
    /// 修改案件标题
    Title { case: String, title: String },
    /// 追加事实与理由
    Facts { case: String, text: String },
    /// 追加调解协议条款
    Agreement { case: String, text: String },
    /// 添加当事人
    AddParty(AddPartyArgs),
    /// 添加调解记录
    AddSession(AddSessionArgs),
    /// 移交：申请、接收、拒绝、撤回
    #[command(subcommand)]
    Handoff(HandoffCommand),
    /// 与服务器同步
    Sync {
        /// 连接中断或服务器暂不可用时最多尝试的次数
        #[arg(long, default_value_t = 3)]
        attempts: u32,
    },
    /// 保持连接，服务器有变化时自动同步（Ctrl-C 结束）
    Watch {
        /// 本机有未同步修改时，每隔多少秒同步一次
        #[arg(long, default_value_t = 30)]
        poll_seconds: u64,
    },
    /// 查看通知（被拒绝或被撤销的修改、移交结果等）
    Notices {
        /// 也显示已确认的通知
        #[arg(long)]
        all: bool,
    },
    /// 确认通知（确认后不再显示）
    Ack {
        /// 通知编号
        ids: Vec<i64>,
        /// 确认全部通知
        #[arg(long)]
        all: bool,
    },
    /// 查看暂存区（被服务器拒绝的修改副本）
    Stash,
    /// 把本机所有案件、暂存区和通知导出到目录
    Export { dir: PathBuf },
    /// 查看服务器上的移交待办和临期事项
    Inbox,
}

#[derive(Debug, Args)]
pub struct AddPartyArgs {
    pub case: String,
    /// 姓名或名称
    #[arg(long)]
    pub name: String,
    /// 身份：applicant（申请人）、respondent（被申请人）、third_party（第三人）、agent（代理人）
    #[arg(long, default_value = "applicant")]
    pub role: String,
    /// 类别：person（自然人）等
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long, default_value = "")]
    pub phone: String,
    /// 身份证号或统一社会信用代码
    #[arg(long, default_value = "")]
    pub id_number: String,
    #[arg(long, default_value = "")]
    pub address: String,
}

#[derive(Debug, Args)]
pub struct AddSessionArgs {
    pub case: String,
    /// 地点
    #[arg(long)]
    pub place: String,
    /// 时间（RFC 3339，例如 2026-03-01T09:00:00+08:00；默认现在）
    #[arg(long)]
    pub at: Option<String>,
    /// 调解记录
    #[arg(long, default_value = "")]
    pub notes: String,
}

#[derive(Debug, Subcommand)]
pub enum HandoffCommand {
    /// 申请把案件移交到其他渠道和单位
    Request {
        case: String,
        /// 目标渠道：mediation、petition、reconsideration、litigation
        #[arg(long)]
        to_track: String,
        /// 接收单位标识
        #[arg(long)]
        to_unit: String,
        /// 移交理由
        #[arg(long)]
        reason: String,
    },
    /// 接收移交
    Accept {
        case: String,
        /// 移交申请标识
        handoff: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 拒绝移交（须写明理由）
    Reject {
        case: String,
        handoff: String,
        #[arg(long)]
        note: String,
    },
    /// 撤回本单位提出的移交申请
    Withdraw { case: String, handoff: String },
}

fn code<T>(
    vocabulary: &str,
    value: &str,
    parse: impl Fn(&str) -> Option<T>,
    all: &[(&str, &str)],
) -> Result<T, ClientError> {
    parse(value).ok_or_else(|| {
        let known: Vec<String> = all.iter().map(|(c, l)| format!("{c}（{l}）")).collect();
        ClientError::EditRefused(format!(
            "「{value}」不是有效的{vocabulary}，可选：{}",
            known.join("、")
        ))
    })
}

fn track(value: &str) -> Result<Track, ClientError> {
    let all: Vec<(&str, &str)> = Track::ALL.iter().map(|t| (t.code(), t.label())).collect();
    code("办理渠道", value, Track::from_code, &all)
}

/// The options for a client from the command line.
pub fn options(cli: &Cli) -> ClientOptions {
    let mut options = ClientOptions::new(cli.data_dir.clone(), cli.server.clone());
    options.transport = match cli.transport {
        Transport::Websocket => TransportKind::WebSocket,
        Transport::Http => TransportKind::Http,
    };
    options.device_name = cli.device_name.clone();
    options
}

/// Runs one command, writing what the user reads to `out`.
pub async fn run(cli: Cli, out: &mut (dyn Write + Send)) -> Result<(), ClientError> {
    let client = Client::open(options(&cli))?;
    let w = |out: &mut (dyn Write + Send), text: String| {
        let _ = writeln!(out, "{text}");
    };
    match cli.command {
        Command::Login { user, password } => {
            let password = match password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|e| ClientError::Local(format!("无法读取密码：{e}")))?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let me = client.login(&user, &password).await?;
            let pending = client.pending_cases().await?.len();
            w(
                out,
                format!("登录成功：{}（{}），单位 {}", me.name, me.id, me.unit),
            );
            if pending > 0 {
                w(
                    out,
                    format!("本机有 {pending} 个案件的修改尚未同步，请运行 fengqiao-client sync"),
                );
            }
        }
        Command::Whoami => {
            let credentials = client
                .credentials()
                .await?
                .ok_or(ClientError::NotLoggedIn)?;
            let roles: Vec<&str> = credentials.user.roles.iter().map(|r| r.label()).collect();
            w(
                out,
                format!("用户：{}（{}）", credentials.user.name, credentials.user.id),
            );
            w(out, format!("单位：{}", credentials.user.unit));
            w(out, format!("角色：{}", roles.join("、")));
            w(out, format!("设备：{}", credentials.device_id));
            let state = match credentials.state {
                crate::LoginState::Active => "有效",
                crate::LoginState::LoginRequired => "已过期，请重新登录",
                crate::LoginState::DeviceRevoked => "本设备已被停用",
            };
            w(out, format!("登录状态：{state}"));
        }
        Command::Cases => {
            let cases = client.cases().await?;
            if cases.is_empty() {
                w(out, "本机还没有案件。请先同步（fengqiao-client sync）或登记新案件（fengqiao-client new）。".into());
            }
            w(out, format!("共 {} 个案件", cases.len()));
            for case in cases {
                let track = case
                    .track
                    .as_deref()
                    .and_then(Track::from_code)
                    .map(|t| t.label())
                    .unwrap_or("未定");
                let mut flags = Vec::new();
                if case.pending {
                    flags.push("未同步".to_string());
                }
                if case.read_only.is_some() {
                    flags.push("只读".to_string());
                }
                if case.pending_handoffs > 0 {
                    flags.push(format!("移交待办 {}", case.pending_handoffs));
                }
                if case.open_review_items > 0 {
                    flags.push(format!("待核查 {}", case.open_review_items));
                }
                w(
                    out,
                    format!(
                        "{}  {}  编号：{}  渠道：{}  管辖：{}{}",
                        case.case_id,
                        case.display_title(),
                        case.case_number.as_deref().unwrap_or("（待编号）"),
                        track,
                        case.custody_unit,
                        if flags.is_empty() {
                            String::new()
                        } else {
                            format!("  [{}]", flags.join("，"))
                        }
                    ),
                );
            }
        }
        Command::Show { case } => {
            let case_id = client.resolve_case(&case).await?;
            let c = client.case(case_id).await?;
            let user = client.user().await?;
            let pending = client.pending_cases().await?.contains(&case_id);
            show_case(out, case_id, &c, &user, pending);
        }
        Command::New { kind, title } => {
            let kinds: Vec<(&str, &str)> = CaseKind::ALL
                .iter()
                .map(|k| (k.code(), k.label()))
                .collect();
            let kind = code("案件类型", &kind, CaseKind::from_code, &kinds)?;
            let case_id = client.open_case(kind, &title).await?;
            w(
                out,
                format!("已在本机登记案件「{title}」：{case_id}（同步后由服务器编号）"),
            );
        }
        Command::Set { case, path, value } => {
            let case_id = client.resolve_case(&case).await?;
            client.set_field(case_id, &path, &value).await?;
            w(out, format!("已修改「{path}」，将在下次同步时上传"));
        }
        Command::Title { case, title } => {
            let case_id = client.resolve_case(&case).await?;
            client.set_title(case_id, &title).await?;
            w(out, "已修改标题，将在下次同步时上传".into());
        }
        Command::Facts { case, text } => {
            let case_id = client.resolve_case(&case).await?;
            client.append_facts(case_id, &text).await?;
            w(out, "已追加事实与理由，将在下次同步时上传".into());
        }
        Command::Agreement { case, text } => {
            let case_id = client.resolve_case(&case).await?;
            client.append_agreement(case_id, &text).await?;
            w(out, "已追加调解协议条款，将在下次同步时上传".into());
        }
        Command::AddParty(args) => {
            let case_id = client.resolve_case(&args.case).await?;
            let roles: Vec<(&str, &str)> = PartyRole::ALL
                .iter()
                .map(|r| (r.code(), r.label()))
                .collect();
            let role = code("当事人身份", &args.role, PartyRole::from_code, &roles)?;
            let kind = match &args.kind {
                Some(kind) => {
                    let kinds: Vec<(&str, &str)> = PartyKind::ALL
                        .iter()
                        .map(|k| (k.code(), k.label()))
                        .collect();
                    Some(code("当事人类别", kind, PartyKind::from_code, &kinds)?)
                }
                None => None,
            };
            let party = NewParty {
                role: Some(role),
                kind,
                name: args.name.clone(),
                id_number: args.id_number,
                phone: args.phone,
                address: args.address,
            };
            let id = client.add_party(case_id, party).await?;
            w(
                out,
                format!("已添加{}「{}」（标识 {id}）", role.label(), args.name),
            );
        }
        Command::AddSession(args) => {
            let case_id = client.resolve_case(&args.case).await?;
            let held_at = match &args.at {
                Some(at) => at.parse::<Instant>().map_err(|_| {
                    ClientError::EditRefused(format!("「{at}」不是有效的时间，请用 RFC 3339 格式"))
                })?,
                None => client.options().clock.now(),
            };
            let id = client
                .add_session(
                    case_id,
                    NewSession {
                        held_at,
                        place: args.place,
                        notes: args.notes,
                    },
                )
                .await?;
            w(out, format!("已添加调解记录（标识 {id}）"));
        }
        Command::Handoff(command) => match command {
            HandoffCommand::Request {
                case,
                to_track,
                to_unit,
                reason,
            } => {
                let case_id = client.resolve_case(&case).await?;
                let to = track(&to_track)?;
                let id = client
                    .request_handoff(case_id, to, &to_unit, &reason)
                    .await?;
                w(out, format!("已提出移交申请（标识 {id}）：移交至「{to_unit}」（{}），同步后由服务器确认", to.label()));
            }
            HandoffCommand::Accept {
                case,
                handoff,
                note,
            } => {
                let case_id = client.resolve_case(&case).await?;
                client
                    .decide_handoff(case_id, &handoff, HandoffVerdict::Accept, &note)
                    .await?;
                w(out, "已接收移交，同步后生效".into());
            }
            HandoffCommand::Reject {
                case,
                handoff,
                note,
            } => {
                let case_id = client.resolve_case(&case).await?;
                client
                    .decide_handoff(case_id, &handoff, HandoffVerdict::Reject, &note)
                    .await?;
                w(out, "已拒绝移交，同步后生效".into());
            }
            HandoffCommand::Withdraw { case, handoff } => {
                let case_id = client.resolve_case(&case).await?;
                client.withdraw_handoff(case_id, &handoff).await?;
                w(out, "已撤回移交申请，同步后生效".into());
            }
        },
        Command::Sync { attempts } => {
            let before = last_notice_id(&client).await?;
            let bar = ProgressBarSink::new();
            let report = client
                .sync_retrying(attempts.max(1), Some(bar.progress_fn()))
                .await;
            bar.finish();
            let report = report?;
            write_report(out, &report);
            write_new_notices(out, &client, before).await?;
        }
        Command::Watch { poll_seconds } => {
            w(out, "正在保持与服务器的连接，按 Ctrl-C 结束".into());
            let _ = out.flush();
            let stop = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            let mut last = last_notice_id(&client).await?;
            let (events, mut receive) = tokio::sync::mpsc::unbounded_channel();
            let watching = client.watch(
                stop,
                Duration::from_secs(poll_seconds.max(1)),
                move |event| {
                    let _ = events.send(event);
                },
            );
            tokio::pin!(watching);
            loop {
                tokio::select! {
                    result = &mut watching => {
                        result?;
                        w(out, "已停止".into());
                        break;
                    }
                    Some(event) = receive.recv() => {
                        match event {
                            WatchEvent::Connected => w(out, "已连接服务器".into()),
                            WatchEvent::Synced(report) => {
                                if report.cases_in_play > 0 || report.notices > 0 {
                                    write_report(out, &report);
                                }
                                let newest = last_notice_id(&client).await?;
                                write_new_notices(out, &client, last).await?;
                                last = newest;
                            }
                            WatchEvent::Disconnected { reason, retry_in } => w(
                                out,
                                format!("与服务器的连接中断（{reason}），{} 秒后重连", retry_in.as_secs()),
                            ),
                        }
                        let _ = out.flush();
                    }
                }
            }
        }
        Command::Notices { all } => {
            let notices = client.notices(all).await?;
            if notices.is_empty() {
                w(out, "没有待确认的通知".into());
            }
            for n in notices {
                let acked = if n.acknowledged_at.is_some() {
                    "（已确认）"
                } else {
                    ""
                };
                w(
                    out,
                    format!("[{}] {}{}：{}", n.id, n.kind.label(), acked, n.message),
                );
            }
        }
        Command::Ack { ids, all } => {
            if all {
                let n = client.acknowledge_all().await?;
                w(out, format!("已确认 {n} 条通知"));
            } else if ids.is_empty() {
                return Err(ClientError::EditRefused(
                    "请给出要确认的通知编号，或使用 --all".into(),
                ));
            } else {
                for id in ids {
                    if client.acknowledge(id).await? {
                        w(out, format!("已确认通知 {id}"));
                    } else {
                        w(out, format!("没有编号为 {id} 的待确认通知"));
                    }
                }
            }
        }
        Command::Stash => {
            let stash = client.stash().await?;
            if stash.is_empty() {
                w(out, "暂存区为空".into());
            }
            for entry in stash {
                w(
                    out,
                    format!(
                        "[{}] 案件「{}」（{}）：{}（{}）",
                        entry.id, entry.title, entry.case_id, entry.reason, entry.code
                    ),
                );
            }
        }
        Command::Export { dir } => {
            let summary = client.export(&dir).await?;
            w(
                out,
                format!(
                    "已导出到 {}：案件 {} 个（其中 {} 个有未同步的修改），暂存区 {} 份，通知 {} 条",
                    dir.display(),
                    summary.cases,
                    summary.pending,
                    summary.stashed,
                    summary.notices
                ),
            );
        }
        Command::Inbox => {
            let inbox = client.api_get("/v1/inbox").await?;
            w(
                out,
                serde_json::to_string_pretty(&inbox).unwrap_or_default(),
            );
        }
    }
    Ok(())
}

async fn last_notice_id(client: &Client) -> Result<i64, ClientError> {
    Ok(client
        .notices(true)
        .await?
        .last()
        .map(|n| n.id)
        .unwrap_or(0))
}

async fn write_new_notices(
    out: &mut (dyn Write + Send),
    client: &Client,
    after: i64,
) -> Result<(), ClientError> {
    let new: Vec<_> = client
        .notices(false)
        .await?
        .into_iter()
        .filter(|n| n.id > after)
        .collect();
    if !new.is_empty() {
        let _ = writeln!(
            out,
            "新通知 {} 条（确认：fengqiao-client ack <编号>）：",
            new.len()
        );
        for n in new {
            let _ = writeln!(out, "[{}] {}：{}", n.id, n.kind.label(), n.message);
        }
    }
    Ok(())
}

fn write_report(out: &mut (dyn Write + Send), report: &SyncReport) {
    let _ = writeln!(
        out,
        "同步完成：处理 {} 个案件，新收到 {} 个，更新 {} 个；新通知 {} 条；移入暂存区 {} 份；共 {} 轮，发送 {} 字节，接收 {} 字节",
        report.cases_in_play,
        report.cases_received,
        report.cases_updated,
        report.notices,
        report.stashed,
        report.rounds,
        report.bytes_sent,
        report.bytes_received
    );
}

/// A progress bar on standard error for long syncs; hidden when standard error is not a terminal.
struct ProgressBarSink {
    bar: indicatif::ProgressBar,
}

impl ProgressBarSink {
    fn new() -> ProgressBarSink {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} 正在同步 [{bar:30}] {pos}/{len} 个案件，已接收 {msg}",
            )
            .expect("a valid progress template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        ProgressBarSink { bar }
    }

    fn progress_fn(&self) -> ProgressFn {
        let bar = self.bar.clone();
        Arc::new(move |p: &SyncProgress| {
            bar.set_length(p.cases_total as u64);
            bar.set_position(p.cases_done as u64);
            bar.set_message(format!("{} KB", p.bytes_received / 1024));
        })
    }

    fn finish(self) {
        self.bar.finish_and_clear();
    }
}

fn show_case(
    out: &mut (dyn Write + Send),
    case_id: CaseId,
    c: &Case,
    user: &crate::LocalUser,
    pending: bool,
) {
    let mut lines = Vec::new();
    let (unit, track) = fengqiao_schema::policy::custodian(c);
    lines.push(format!("案件：{}", crate::local::display_title(case_id, c)));
    lines.push(format!("标识：{case_id}"));
    lines.push(format!(
        "编号：{}",
        c.meta.case_number.as_deref().unwrap_or("（待编号）")
    ));
    lines.push(format!(
        "类型：{}",
        c.meta.kind.map(|k| k.label()).unwrap_or("未知")
    ));
    lines.push(format!(
        "管辖：{unit}（{}）",
        track.map(|t| t.label()).unwrap_or("未定")
    ));
    if let Some(t) = c.meta.dispute_type {
        lines.push(format!("纠纷类型：{}", t.label()));
    }
    match crate::local::read_only_reason(c, user) {
        Some(reason) => lines.push(format!("状态：{reason}")),
        None => lines.push("状态：可编辑".into()),
    }
    if pending {
        lines.push("本机有未同步的修改".into());
    }
    lines.push(format!("当事人（{}）：", c.parties.len()));
    for p in &c.parties {
        lines.push(format!(
            "  - {}：{}（标识 {}）",
            p.role.map(|r| r.label()).unwrap_or("未定"),
            p.name,
            p.id
        ));
    }
    if !c.claims.claims.as_str().is_empty() {
        lines.push(format!("诉求：{}", c.claims.claims.as_str()));
    }
    if !c.claims.facts.as_str().is_empty() {
        lines.push(format!("事实与理由：{}", c.claims.facts.as_str()));
    }
    if let Some(result) = c.mediation.result {
        lines.push(format!("调解结果：{}", result.label()));
    }
    if !c.mediation.agreement.terms.as_str().is_empty() {
        lines.push(format!(
            "调解协议：{}",
            c.mediation.agreement.terms.as_str()
        ));
    }
    for s in &c.mediation.sessions {
        lines.push(format!(
            "调解记录 {}：{} {} {}",
            s.id,
            s.held_at.map(|t| t.to_string()).unwrap_or_default(),
            s.place,
            s.notes.as_str()
        ));
    }
    for h in &c.handoffs {
        lines.push(format!(
            "移交 {}：至「{}」（{}），状态：{}{}",
            h.id,
            h.to_unit,
            h.to_track.map(|t| t.label()).unwrap_or("未定"),
            h.status.map(|s| s.label()).unwrap_or("未知"),
            if h.status_reason.is_empty() {
                String::new()
            } else {
                format!("（{}）", h.status_reason)
            }
        ));
    }
    for r in c.review.iter().filter(|r| !r.done) {
        lines.push(format!("待核查 {}：{}", r.id, r.summary));
    }
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
}
