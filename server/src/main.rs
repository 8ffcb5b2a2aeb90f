//! `fengqiao`: the server and its administration on one command line. Every flag can also come
//! from a `FENGQIAO_*` environment variable. Administration commands work on the database
//! directly (the server may be running meanwhile); each opens and migrates it first, so a fresh
//! deployment can be set up before its first `serve`.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use fengqiao_schema::ids::{DeviceId, UnitId, UserId};
use fengqiao_schema::units::Unit;
use fengqiao_schema::vocab::{Role, UnitKind};
use fengqiao_server::auth::password::Password;
use fengqiao_server::auth::tokens::KeyId;
use fengqiao_server::auth::{hash_password_blocking, new_signing_key, AuthSettings};
use fengqiao_server::clock::Timestamp;
use fengqiao_server::org::OrgFile;
use fengqiao_server::store::cache::CacheBudget;
use fengqiao_server::store::compaction::CompactionPolicy;
use fengqiao_server::store::group_commit::GroupCommitBounds;
use fengqiao_server::store::units::NewUser;
use fengqiao_server::store::{DatabaseUrl, Store};
use fengqiao_server::sync::SyncSettings;
use fengqiao_server::{serve, Services, Settings, StorageSettings};
use tracing_subscriber::EnvFilter;

/// 枫桥：基层矛盾纠纷化解的离线同步服务器。
#[derive(Parser)]
#[command(name = "fengqiao", version)]
struct Cli {
    /// The database: a SQLite file (created on first start) or a postgres:// URL.
    #[arg(long, env = "FENGQIAO_DATABASE_URL", default_value = "fengqiao.sqlite3", global = true)]
    database_url: DatabaseUrl,
    /// Log filter (tracing-subscriber `EnvFilter` syntax), e.g. `info` or `fengqiao_server=debug`.
    #[arg(long, env = "FENGQIAO_LOG", default_value = "info", global = true)]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Manage units.
    #[command(subcommand)]
    Unit(UnitCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Import a whole organisation.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage the keys that sign access tokens.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Load the demo county (units, users, devices and cases over two years) into an empty
    /// database; does nothing if the database already holds units.
    Demo(DemoArgs),
    /// Write the annual figures for the 法治政府建设情况报告 of a unit and the units below it.
    Report(ReportArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "FENGQIAO_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The `iss` of access tokens.
    #[arg(long, env = "FENGQIAO_ISSUER", default_value = "fengqiao")]
    issuer: String,
    /// Lifetime of an access token.
    #[arg(long, env = "FENGQIAO_ACCESS_TOKEN_MINUTES", default_value_t = 15)]
    access_token_minutes: u64,
    /// Lifetime of a refresh token (a device offline longer must log in again).
    #[arg(long, env = "FENGQIAO_REFRESH_TOKEN_DAYS", default_value_t = 30)]
    refresh_token_days: u64,
    /// Memory for loaded case documents, by estimate.
    #[arg(long, env = "FENGQIAO_CACHE_MEGABYTES", default_value_t = 256)]
    cache_megabytes: usize,
    /// How long the group committer waits for more commits before writing a group.
    #[arg(long, env = "FENGQIAO_GROUP_COMMIT_LINGER_MS", default_value_t = 0)]
    group_commit_linger_ms: u64,
    /// A document with more chunks than this is compacted.
    #[arg(long, env = "FENGQIAO_COMPACT_AFTER_CHUNKS", default_value_t = 64)]
    compact_after_chunks: usize,
    /// Open sync WebSockets one device may have at once.
    #[arg(long, env = "FENGQIAO_MAX_CONNECTIONS_PER_DEVICE", default_value_t = 4)]
    max_connections_per_device: usize,
    /// The built web app served at `/` (`npm run build` in clients/web); the API is served even
    /// if it is missing.
    #[arg(long, env = "FENGQIAO_WEB_DIR", default_value = "clients/web/dist")]
    web_dir: PathBuf,
}

#[derive(Args)]
struct ReportArgs {
    /// The calendar year.
    #[arg(long, env = "FENGQIAO_REPORT_YEAR")]
    year: i32,
    /// The unit (with the units below it).
    #[arg(long, env = "FENGQIAO_REPORT_UNIT")]
    unit: UnitId,
    /// text (the statistics paragraph), markdown or xlsx.
    #[arg(long, env = "FENGQIAO_REPORT_FORMAT", default_value = "text")]
    format: fengqiao_server::report::ReportFormat,
    /// Where to write it; standard output for text and Markdown when not given, and for a
    /// workbook the report's own file name in the current directory.
    #[arg(long, env = "FENGQIAO_REPORT_OUT")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct DemoArgs {
    /// About how many cases to generate.
    #[arg(long, env = "FENGQIAO_DEMO_CASES", default_value_t = 5000)]
    cases: usize,
    /// The seed: the same seed on the same day gives the same county.
    #[arg(long, env = "FENGQIAO_DEMO_SEED", default_value_t = 1)]
    seed: u64,
    /// Every demo user's password.
    #[arg(long, env = "FENGQIAO_DEMO_PASSWORD", default_value = "fengqiao-demo", hide_env_values = true)]
    password: String,
}

#[derive(Subcommand)]
enum UnitCommand {
    /// Add a unit.
    Add {
        #[arg(long, env = "FENGQIAO_UNIT_ID")]
        id: UnitId,
        #[arg(long, env = "FENGQIAO_UNIT_NAME")]
        name: String,
        /// county, township, subdistrict, petition_bureau, justice_bureau or legal_office.
        #[arg(long, env = "FENGQIAO_UNIT_KIND")]
        kind: UnitKind,
        /// The parent unit (none for a county).
        #[arg(long, env = "FENGQIAO_UNIT_PARENT")]
        parent: Option<UnitId>,
        /// The unit's case-number format, e.g. `{unit}{word}〔{year}〕{number:04}号`; placeholders
        /// {year}, {unit}, {word}, {number}, {number:04}. Default `（{year}）{unit}{word}字第{number}号`.
        #[arg(long, env = "FENGQIAO_UNIT_CASE_NUMBER_FORMAT")]
        case_number_format: Option<fengqiao_server::numbering::CaseNumberFormat>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password comes from --password, FENGQIAO_PASSWORD or the first line of
    /// standard input.
    Add {
        #[arg(long, env = "FENGQIAO_USER_ID")]
        id: UserId,
        #[arg(long, env = "FENGQIAO_USER_NAME")]
        name: String,
        #[arg(long, env = "FENGQIAO_USER_UNIT")]
        unit: UnitId,
        /// A role (repeat, or separate with commas): mediator, petition_officer,
        /// reconsideration_officer, litigation_officer, supervisor, admin.
        #[arg(long = "role", env = "FENGQIAO_USER_ROLES", value_delimiter = ',', required = true)]
        roles: Vec<Role>,
        #[arg(long, env = "FENGQIAO_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Revoke a user: every token of theirs stops working at once.
    Revoke {
        #[arg(long, env = "FENGQIAO_USER")]
        user: UserId,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Revoke a device: its sync stops at once.
    Revoke {
        #[arg(long, env = "FENGQIAO_DEVICE")]
        device: DeviceId,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Import units and users from a TOML file (see server/examples/county.toml). Idempotent.
    Import {
        #[arg(env = "FENGQIAO_ORG_FILE")]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Add a new signing key; it signs from now on, and older keys still verify.
    Rotate,
    /// Retire a key: tokens it signed stop verifying at once.
    Retire {
        #[arg(long, env = "FENGQIAO_KEY_ID")]
        kid: String,
    },
    /// List the keys (never their secrets).
    List,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo registers thousands of cases: unless asked for more, it logs warnings only, so
    // that its progress bar stays readable.
    let log = if matches!(cli.command, Command::Demo(_)) && cli.log == "info" { "warn" } else { cli.log.as_str() };
    let filter = EnvFilter::try_new(log).unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fengqiao: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Serve(args) = cli.command {
        return run_server(cli.database_url, args).await;
    }
    if let Command::Demo(args) = cli.command {
        return run_demo(cli.database_url, args).await;
    }
    let store = Store::open(&cli.database_url).await?;
    let now = Timestamp::now();
    match cli.command {
        Command::Serve(_) | Command::Demo(_) => unreachable!("handled above"),
        Command::Unit(UnitCommand::Add { id, name, kind, parent, case_number_format }) => {
            store.add_unit(&Unit { id: id.clone(), name, kind, parent }).await?;
            if let Some(format) = case_number_format {
                store.set_case_number_formats(&[(id.clone(), Some(format))]).await?;
            }
            println!("已添加单位「{id}」");
        }
        Command::User(UserCommand::Add { id, name, unit, roles, password }) => {
            let password = match password {
                Some(password) => password,
                None => read_password_from_stdin().await?,
            };
            let password_hash = hash_password_blocking(Password::new_checked(password)?).await?;
            let user = NewUser { id: id.clone(), name, unit, roles: roles.into_iter().collect(), password_hash };
            store.add_user(&user, now).await?;
            println!("已添加用户「{id}」");
        }
        Command::User(UserCommand::Revoke { user }) => {
            store.revoke_user(&user, now).await?;
            println!("已停用用户「{user}」，其所有令牌立即失效");
        }
        Command::Device(DeviceCommand::Revoke { device }) => {
            store.revoke_device(&device, now).await?;
            println!("已停用设备「{device}」，其同步立即停止");
        }
        Command::Org(OrgCommand::Import { file }) => {
            let text = tokio::task::spawn_blocking({
                let file = file.clone();
                move || std::fs::read_to_string(file)
            })
            .await?
            .with_context(|| format!("cannot read {}", file.display()))?;
            let summary = OrgFile::parse(&text)?.import(&store, now).await?;
            println!(
                "单位：新增 {}，更新 {}，未变 {}；用户：新增 {}，更新 {}，未变 {}",
                summary.units_created,
                summary.units_updated,
                summary.units_unchanged,
                summary.users_created,
                summary.users_updated,
                summary.users_unchanged
            );
        }
        Command::Key(KeyCommand::Rotate) => {
            let key = new_signing_key(now);
            store.add_signing_key(&key).await?;
            println!("新签名密钥「{}」已启用；旧密钥在退役前仍可验证", key.kid);
        }
        Command::Key(KeyCommand::Retire { kid }) => {
            store.retire_signing_key(&KeyId(kid.clone()), now).await?;
            println!("签名密钥「{kid}」已退役");
        }
        Command::Report(args) => {
            use fengqiao_server::report::{AnnualReport, ReportFormat};
            let units = fengqiao_schema::units::UnitTree::new(store.units().await?)?;
            let today = fengqiao_schema::time::Instant::from_unix(now.secs()).china_date();
            let report = AnnualReport::build(&store, &units, args.unit.as_str(), args.year, today).await?;
            let bytes = report.render(args.format)?;
            let out = match (args.out, args.format) {
                (Some(path), _) => Some(path),
                (None, ReportFormat::Xlsx) => Some(PathBuf::from(report.file_name(ReportFormat::Xlsx))),
                (None, _) => None,
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
                    println!("已写入「{}」", path.display());
                }
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
        }
        Command::Key(KeyCommand::List) => {
            for key in store.signing_keys().await? {
                let state = if key.retired_at.is_some() { "retired" } else { "active" };
                println!("{}\t{}\t{}\t{state}", key.kid, key.algorithm, key.created_at.secs());
            }
        }
    }
    store.close().await;
    Ok(())
}

async fn run_server(database: DatabaseUrl, args: ServeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.access_token_minutes > 0, "--access-token-minutes must be positive");
    anyhow::ensure!(args.refresh_token_days > 0, "--refresh-token-days must be positive");
    anyhow::ensure!(args.max_connections_per_device > 0, "--max-connections-per-device must be positive");
    let settings = Settings {
        database,
        auth: AuthSettings {
            issuer: args.issuer,
            access_token_ttl: Duration::from_secs(args.access_token_minutes * 60),
            refresh_token_ttl: Duration::from_secs(args.refresh_token_days * 24 * 60 * 60),
        },
        storage: StorageSettings {
            cache: CacheBudget { bytes: args.cache_megabytes.saturating_mul(1024 * 1024), ..CacheBudget::default() },
            group_commit: GroupCommitBounds {
                linger: Duration::from_millis(args.group_commit_linger_ms),
                ..GroupCommitBounds::default()
            },
            compaction: CompactionPolicy { max_chunks: args.compact_after_chunks, ..CompactionPolicy::default() },
        },
        sync: SyncSettings { max_connections_per_device: args.max_connections_per_device, ..SyncSettings::default() },
        web_dir: Some(args.web_dir),
    };
    let services = Services::start(&settings).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let served = serve(listener, services.state(), shutdown_signal()).await;
    services.stop().await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

async fn run_demo(database: DatabaseUrl, args: DemoArgs) -> anyhow::Result<()> {
    use fengqiao_server::demo::{self, DemoOutcome, DemoSettings};
    let store = Store::open(&database).await?;
    let units = store.units().await?.len();
    if units > 0 {
        println!("数据库中已有 {units} 个单位（演示数据或正式数据），未生成演示数据。");
        store.close().await;
        return Ok(());
    }
    let services = Services::start_on(store, &Settings::with_database(database)).await?;
    let settings = DemoSettings {
        cases: args.cases,
        seed: args.seed,
        password: args.password.clone(),
        now: Timestamp::now(),
        progress: std::io::stderr().is_terminal(),
    };
    let outcome = demo::load(&services.state(), &settings).await;
    services.stop().await;
    match outcome? {
        DemoOutcome::AlreadyLoaded { units } => {
            println!("数据库中已有 {units} 个单位（演示数据或正式数据），未生成演示数据。")
        }
        DemoOutcome::Loaded(summary) => print!("{}", demo::describe(&summary, &args.password)),
    }
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}

async fn read_password_from_stdin() -> anyhow::Result<String> {
    eprintln!("请输入密码（一行）：");
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await??;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
