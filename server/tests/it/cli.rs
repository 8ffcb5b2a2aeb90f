//! The `fengqiao` command line: administration commands with flags and `FENGQIAO_*` variables on
//! a fresh SQLite file, and `serve` answering on a port it chose and stopping on SIGTERM.

use std::process::Stdio;

use expect_test::expect;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::common::*;

const BINARY: &str = env!("CARGO_BIN_EXE_fengqiao");

/// Runs the binary with only the given environment; returns "ok: stdout" or "fail: stderr".
async fn fengqiao(database: &str, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> String {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_clear()
        .env("FENGQIAO_DATABASE_URL", database)
        .env("FENGQIAO_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.expect("write stdin");
    }
    drop(input);
    let output = within_deadline("the command", child.wait_with_output()).await.expect("output");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_string();
    if output.status.success() {
        format!("ok: {}", text(&output.stdout))
    } else {
        let stderr = text(&output.stderr);
        // Prompts and clap's hints go to stderr too: keep the error line.
        let error = stderr.lines().find(|l| l.starts_with("error:") || l.starts_with("fengqiao:"));
        format!("fail: {}", error.unwrap_or(&stderr))
    }
}

#[tokio::test]
async fn administration_commands() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = dir.path().join("admin.sqlite3");
    let database = database.to_str().expect("UTF-8");
    let county = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/county.toml");
    let password = [("FENGQIAO_PASSWORD", "long enough password")];
    // (command, environment, standard input)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (vec!["unit", "add", "--id", "qingshan", "--name", "青山县", "--kind", "county"], vec![], None),
        (
            vec!["unit", "add", "--name", "下河镇", "--kind", "township", "--parent", "qingshan"],
            vec![("FENGQIAO_UNIT_ID", "qingshan.xiahe")],
            None,
        ),
        (vec!["unit", "add", "--id", "x", "--name", "x", "--kind", "township", "--parent", "nowhere"], vec![], None),
        (vec!["unit", "add", "--id", "qingshan", "--name", "again", "--kind", "county"], vec![], None),
        (
            vec![
                "user",
                "add",
                "--id",
                "wang.fang",
                "--name",
                "王芳",
                "--unit",
                "qingshan.xiahe",
                "--role",
                "mediator",
            ],
            password.to_vec(),
            None,
        ),
        (
            vec![
                "user",
                "add",
                "--id",
                "li.ming",
                "--name",
                "李明",
                "--unit",
                "qingshan.xiahe",
                "--role",
                "mediator,supervisor",
            ],
            vec![],
            Some("from standard input\n"),
        ),
        (
            vec!["user", "add", "--id", "short", "--name", "x", "--unit", "qingshan.xiahe", "--role", "mediator"],
            vec![],
            Some("short\n"),
        ),
        (
            vec!["user", "add", "--id", "x", "--name", "x", "--unit", "qingshan.xiahe", "--role", "mayor"],
            password.to_vec(),
            None,
        ),
        (vec!["user", "revoke", "--user", "li.ming"], vec![], None),
        (vec!["device", "revoke"], vec![("FENGQIAO_DEVICE", "no-such-tablet")], None),
        (vec!["org", "import", county], vec![], None),
        (vec!["org", "import"], vec![("FENGQIAO_ORG_FILE", county)], None),
        (vec!["key", "retire", "--kid", "no-such-key"], vec![], None),
    ];
    let mut transcript = String::new();
    for (args, env, stdin) in cases {
        let outcome = fengqiao(database, &args, &env, stdin).await;
        // clap's own messages are long: their first line is enough here.
        transcript += &format!(
            "{} → {}\n",
            args.join(" ").replace(county, "county.toml"),
            outcome.lines().next().unwrap_or_default()
        );
    }
    expect![[r#"
        unit add --id qingshan --name 青山县 --kind county → ok: 已添加单位「qingshan」
        unit add --name 下河镇 --kind township --parent qingshan → ok: 已添加单位「qingshan.xiahe」
        unit add --id x --name x --kind township --parent nowhere → fail: fengqiao: 单位「nowhere」不存在
        unit add --id qingshan --name again --kind county → fail: fengqiao: 单位「qingshan」已存在
        user add --id wang.fang --name 王芳 --unit qingshan.xiahe --role mediator → ok: 已添加用户「wang.fang」
        user add --id li.ming --name 李明 --unit qingshan.xiahe --role mediator,supervisor → ok: 已添加用户「li.ming」
        user add --id short --name x --unit qingshan.xiahe --role mediator → fail: fengqiao: 密码至少需要 8 个字符
        user add --id x --name x --unit qingshan.xiahe --role mayor → fail: error: invalid value 'mayor' for '--role <ROLES>': 「mayor」不是role中的代码
        user revoke --user li.ming → ok: 已停用用户「li.ming」，其所有令牌立即失效
        device revoke → fail: fengqiao: 设备「no-such-tablet」不存在
        org import county.toml → ok: 单位：新增 5，更新 0，未变 2；用户：新增 7，更新 0，未变 1
        org import → ok: 单位：新增 0，更新 0，未变 7；用户：新增 0，更新 0，未变 8
        key retire --kid no-such-key → fail: fengqiao: 签名密钥「no-such-key」不存在
    "#]].assert_eq(&transcript);
    let keys = fengqiao(database, &["key", "list"], &[], None).await;
    assert_eq!(keys, "ok: ", "no server has started, so no key yet");
    assert!(fengqiao(database, &["key", "rotate"], &[], None).await.starts_with("ok: 新签名密钥"));
    let keys = fengqiao(database, &["key", "list"], &[], None).await;
    assert!(keys.ends_with("HS256\t") || keys.contains("\tHS256\t"), "{keys}");
}

#[tokio::test]
async fn serve_listens_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = dir.path().join("serve.sqlite3");
    let mut child = Command::new(BINARY)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_clear()
        .env("FENGQIAO_DATABASE_URL", database.to_str().expect("UTF-8"))
        .env("FENGQIAO_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary runs");
    let mut log = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let address = within_deadline("the listening line", async {
        while let Some(line) = log.next_line().await.expect("read the log") {
            if let Some((_, address)) = line.split_once("listening address=") {
                return address.trim().to_string();
            }
        }
        panic!("the server exited before listening");
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("send");
    let mut response = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut response).await.expect("receive");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");

    let pid = child.id().expect("running").to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill runs");
    assert!(killed.success());
    let status = within_deadline("the shutdown", child.wait()).await.expect("exit status");
    assert!(status.success(), "a clean exit on SIGTERM: {status:?}");
    let mut rest = Vec::new();
    while let Some(line) = log.next_line().await.expect("read the log") {
        rest.push(line);
    }
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
    assert!(database.exists(), "the SQLite file was created with no configuration");
}
