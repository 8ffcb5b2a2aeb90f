//! The client without a server: the replica, edits through the schema types, the local refusals
//! (read-only cases, values outside the schema), notices kept until acknowledged, the stash and
//! the export. Sync against a real server is in the workspace's `tests/` crate.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use fengqiao_client::local::LocalUser;
use fengqiao_client::ops::NewParty;
use fengqiao_client::replica::{Credentials, LoginState, NewNotice, NoticeKind, Replica};
use fengqiao_client::{Client, ClientError, ClientOptions};
use fengqiao_schema::document::Case;
use fengqiao_schema::ids::{CaseId, DeviceId, UnitId, UserId};
use fengqiao_schema::vocab::{CaseKind, PartyRole, Role, Track};

const TOWN: &str = "qingshan.dongxi";

/// A client whose replica already holds a login (no server needed for local work).
fn client(dir: &tempfile::TempDir) -> Client {
    let replica =
        Replica::open(&dir.path().join(fengqiao_client::client::REPLICA_FILE)).expect("open");
    replica
        .set_credentials(&Credentials {
            user: LocalUser {
                id: UserId::new("a1"),
                name: "调解员甲".into(),
                unit: UnitId::new(TOWN),
                roles: vec![Role::Mediator],
            },
            device_id: DeviceId::new("tablet-test"),
            access_token: "token".into(),
            expires_at: 0,
            refresh_token: "refresh".into(),
            refresh_expires_at: 0,
            state: LoginState::Active,
        })
        .expect("credentials");
    drop(replica);
    // Port 9 (discard): nothing listens, so a sync would fail at once rather than reach anything.
    Client::open(ClientOptions::new(dir.path(), "http://127.0.0.1:9")).expect("client")
}

#[tokio::test]
async fn a_case_opened_offline_is_pending_and_edits_go_through_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let client = client(&dir);
    let case_id = client
        .open_case(CaseKind::Dispute, "张某与李某宅基地纠纷")
        .await
        .unwrap();
    assert_eq!(client.pending_cases().await.unwrap(), vec![case_id]);
    client
        .append_facts(case_id, "围墙越界约三十厘米。")
        .await
        .unwrap();
    client
        .append_facts(case_id, "双方均同意调解。")
        .await
        .unwrap();
    let party = client
        .add_party(
            case_id,
            NewParty {
                role: Some(PartyRole::Applicant),
                name: "张某".into(),
                ..NewParty::default()
            },
        )
        .await
        .unwrap();
    client
        .set_field(case_id, &format!("parties.{party}.phone"), "13800000000")
        .await
        .unwrap();
    client
        .set_field(case_id, "meta.dispute_type", "housing_homestead")
        .await
        .unwrap();
    client
        .set_field(case_id, "mediation.agreement.amount_fen", "500000")
        .await
        .unwrap();
    client
        .set_field(case_id, "mediation.labour_dispute", "是")
        .await
        .unwrap();
    client
        .set_field(case_id, "mediation.agreement.terms", "一、拆除越界部分。")
        .await
        .unwrap();

    let case = client.case(case_id).await.unwrap();
    assert_eq!(
        case.claims.facts.as_str(),
        "围墙越界约三十厘米。\n双方均同意调解。"
    );
    assert_eq!(case.parties[0].phone, "13800000000");
    assert_eq!(
        case.meta.dispute_type.map(|d| d.code()),
        Some("housing_homestead")
    );
    assert_eq!(case.mediation.agreement.amount_fen, Some(500_000));
    assert!(case.mediation.labour_dispute);
    assert_eq!(
        case.mediation.agreement.terms.as_str(),
        "一、拆除越界部分。"
    );

    let listing = &client.cases().await.unwrap()[0];
    assert!(listing.pending && listing.read_only.is_none());
    assert_eq!(listing.track.as_deref(), Some("mediation"));
    assert_eq!(
        client.resolve_case("张某与李某宅基地纠纷").await.unwrap(),
        case_id
    );
}

#[tokio::test]
async fn values_outside_the_schema_are_refused_in_chinese_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let client = client(&dir);
    let case_id = client
        .open_case(CaseKind::Dispute, "借款纠纷")
        .await
        .unwrap();
    let heads = client.heads(case_id).await.unwrap();
    for (path, value, expected) in [
        (
            "mediation.result",
            "差不多成功",
            "不是字段「mediation.result」的有效取值",
        ),
        (
            "mediation.accepted_on",
            "三月一日",
            "不是字段「mediation.accepted_on」的有效取值",
        ),
        ("mediation.labour_dispute", "也许", "须填“是”或“否”"),
        ("custody.unit", "qingshan", "只能由服务器写入"),
        ("nonsense.field", "x", "不是案件的组成部分"),
        ("mediation.no_such_object.field", "x", "案件中没有字段"),
        ("mediation", "x", "不能整体替换"),
    ] {
        let error = client
            .set_field(case_id, path, value)
            .await
            .expect_err(path);
        assert!(
            matches!(error, ClientError::EditRefused(_)),
            "{path}: {error:?}"
        );
        assert!(error.to_string().contains(expected), "{path}: {error}");
    }
    assert_eq!(
        client.heads(case_id).await.unwrap(),
        heads,
        "nothing was written"
    );
}

#[tokio::test]
async fn a_case_in_another_units_custody_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let client = client(&dir);
    // A case handed from this township to the justice bureau, as the server would have written it.
    let mut case = Case::default();
    case.meta.kind = Some(CaseKind::Dispute);
    case.meta.title = "已移交的案件".into();
    case.meta.opened_by_unit = TOWN.into();
    case.custody.unit = "qingshan.justice".into();
    case.custody.track = Some(Track::Reconsideration);
    case.custody.version = 1;
    case.custody
        .history
        .push(fengqiao_schema::document::CustodyEpoch {
            track: Some(Track::Mediation),
            unit: TOWN.into(),
            ..Default::default()
        });
    case.meta.schema_version = fengqiao_schema::document::SCHEMA_VERSION;
    let mut doc = AutoCommit::new();
    autosurgeon::reconcile(&mut doc, &case).unwrap();
    let case_id = CaseId::from_bytes([9; 16]);
    let replica = Replica::open(&dir.path().join(fengqiao_client::client::REPLICA_FILE)).unwrap();
    replica
        .write_document(case_id, &doc.save(), &doc.get_heads(), false)
        .unwrap();

    let error = client
        .append_facts(case_id, "补记")
        .await
        .expect_err("claims belong to the custodian");
    assert!(error.to_string().contains("只读"), "{error}");
    let error = client
        .set_field(case_id, "meta.title", "改名")
        .await
        .expect_err("meta too");
    assert!(error.to_string().contains("只读"), "{error}");
    // The township's own earlier mediation stays writable for late entries (a follow-up visit).
    client
        .set_field(case_id, "mediation.follow_up.visited_on", "2026-04-01")
        .await
        .unwrap();
    let writable = client.writable_sections(case_id).await.unwrap();
    assert_eq!(
        writable.iter().map(|s| s.code()).collect::<Vec<_>>(),
        ["mediation"]
    );
    let listing = client
        .cases()
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.case_id == case_id)
        .unwrap();
    assert!(listing.read_only.is_none(), "one section is still writable");
}

/// The pitfall of autosurgeon's Text: an edit after the document moved on (the server built on a
/// device change) must reconcile against the current heads.
#[tokio::test]
async fn a_text_edit_after_a_merge_builds_on_the_merged_text() {
    let dir = tempfile::tempdir().unwrap();
    let client = client(&dir);
    let case_id = client
        .open_case(CaseKind::Dispute, "合同纠纷")
        .await
        .unwrap();
    client
        .append_agreement(case_id, "一、甲方付款。")
        .await
        .unwrap();
    // Another device appends, and its change is merged into the replica.
    let mut other = client
        .document(case_id)
        .await
        .unwrap()
        .with_actor(automerge::ActorId::from([7; 16]));
    let (_, mediation) = automerge::ReadDoc::get(&other, ROOT, "mediation")
        .unwrap()
        .unwrap();
    let (_, agreement) = automerge::ReadDoc::get(&other, &mediation, "agreement")
        .unwrap()
        .unwrap();
    let (_, terms) = automerge::ReadDoc::get(&other, &agreement, "terms")
        .unwrap()
        .unwrap();
    let mut tx = other.transaction();
    let len = automerge::ReadDoc::length(&tx, &terms);
    tx.splice_text(&terms, len, 0, "\n二、乙方交货。").unwrap();
    tx.commit();
    let replica = Replica::open(&dir.path().join(fengqiao_client::client::REPLICA_FILE)).unwrap();
    replica
        .write_document(case_id, &other.save(), &other.get_heads(), true)
        .unwrap();

    client
        .append_agreement(case_id, "三、争议由调解委员会调解。")
        .await
        .unwrap();
    let terms = client
        .case(case_id)
        .await
        .unwrap()
        .mediation
        .agreement
        .terms;
    assert_eq!(
        terms.as_str(),
        "一、甲方付款。\n二、乙方交货。\n三、争议由调解委员会调解。"
    );
}

#[tokio::test]
async fn notices_stay_until_acknowledged_and_a_revoked_device_can_export_everything() {
    let dir = tempfile::tempdir().unwrap();
    let client = client(&dir);
    let case_id = client
        .open_case(CaseKind::Dispute, "噪音纠纷")
        .await
        .unwrap();
    client.append_facts(case_id, "夜间施工。").await.unwrap();
    let replica = Replica::open(&dir.path().join(fengqiao_client::client::REPLICA_FILE)).unwrap();
    let notice = |kind, message: &str| NewNotice {
        case_id,
        kind,
        title: "噪音纠纷".into(),
        code: None,
        section: Some("claims".into()),
        review_item: Some("review-1".into()),
        reverted: vec!["ab".repeat(32)],
        message: message.into(),
    };
    let first = replica
        .add_notice(&notice(NoticeKind::Compensated, "修改已被撤回"), 1)
        .unwrap();
    replica
        .add_notice(&notice(NoticeKind::Rejected, "修改未被接受"), 2)
        .unwrap();
    // A refused copy in the stash.
    let other = client
        .open_case(CaseKind::Dispute, "被拒绝的案件")
        .await
        .unwrap();
    assert!(replica
        .stash_document(other, "no_write_access", "您没有修改该案件的权限", 3)
        .unwrap());
    drop(replica);

    let notices = client.notices(false).await.unwrap();
    assert_eq!(notices.len(), 2);
    assert_eq!(notices[0].reverted, vec!["ab".repeat(32)]);
    assert!(client.acknowledge(first).await.unwrap());
    assert!(
        !client.acknowledge(first).await.unwrap(),
        "already acknowledged"
    );
    assert_eq!(client.notices(false).await.unwrap().len(), 1);
    assert_eq!(
        client.notices(true).await.unwrap().len(),
        2,
        "acknowledged notices are kept"
    );
    assert_eq!(client.acknowledge_all().await.unwrap(), 1);

    let stash = client.stash().await.unwrap();
    assert_eq!(stash.len(), 1);
    assert_eq!(
        (stash[0].case_id, stash[0].title.as_str()),
        (other, "被拒绝的案件")
    );
    assert!(
        client.case(other).await.is_err(),
        "a stashed copy is not a case of the replica"
    );

    let out = tempfile::tempdir().unwrap();
    let summary = client.export(out.path()).await.unwrap();
    assert_eq!(
        (
            summary.cases,
            summary.pending,
            summary.stashed,
            summary.notices
        ),
        (1, 1, 1, 2)
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(index["stash"][0]["entry"]["code"], "no_write_access");
    let file = index["stash"][0]["file"].as_str().unwrap();
    let doc = automerge::Automerge::load(&std::fs::read(out.path().join(file)).unwrap()).unwrap();
    let stashed: Case = autosurgeon::hydrate(&doc).unwrap();
    assert_eq!(stashed.meta.title, "被拒绝的案件");
}

#[tokio::test]
async fn without_a_login_the_client_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::open(ClientOptions::new(dir.path(), "http://127.0.0.1:9")).unwrap();
    assert!(matches!(
        client.cases().await,
        Err(ClientError::NotLoggedIn)
    ));
    let error = client.sync().await.expect_err("not logged in");
    assert!(error.to_string().contains("尚未登录"), "{error}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_network_error_and_keeps_local_work() {
    let dir = tempfile::tempdir().unwrap();
    let client = client(&dir);
    let case_id = client
        .open_case(CaseKind::Dispute, "离线登记")
        .await
        .unwrap();
    // The stored access token has expired: the client tries to refresh, and cannot connect.
    let error = client.sync().await.expect_err("nothing listens");
    assert!(
        matches!(error, ClientError::Network(_)) && error.is_retryable(),
        "{error:?}"
    );
    assert!(error.to_string().contains("无法连接服务器"));
    assert_eq!(client.pending_cases().await.unwrap(), vec![case_id]);
    assert_eq!(
        client.credentials().await.unwrap().unwrap().state,
        LoginState::Active
    );
}

#[test]
fn the_command_line_parses_its_chinese_commands() {
    use clap::Parser;
    use fengqiao_client::cli::{Cli, Command, HandoffCommand};
    let cli = Cli::try_parse_from([
        "fengqiao-client",
        "--data-dir",
        "d",
        "handoff",
        "request",
        "案件",
        "--to-track",
        "reconsideration",
        "--to-unit",
        "qingshan.justice",
        "--reason",
        "调解不成",
    ])
    .unwrap();
    assert!(matches!(
        cli.command,
        Command::Handoff(HandoffCommand::Request { .. })
    ));
    let help = Cli::try_parse_from(["fengqiao-client", "--help"])
        .unwrap_err()
        .to_string();
    assert!(
        help.contains("与服务器同步") && help.contains("本机数据目录"),
        "{help}"
    );
}
