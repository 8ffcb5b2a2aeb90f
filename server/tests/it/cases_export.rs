//! Per-unit case-number formats (set in the organisation file or `fengqiao unit add`, checked at
//! input, used when a case opened on a device is registered) and the CSV export of the case list
//! (UTF-8 with BOM, Chinese headers, personal data masked for readers who do not handle the case).

use fengqiao_schema::fixtures;
use fengqiao_schema::vocab::*;
use fengqiao_server::clock::Timestamp;
use fengqiao_server::numbering::CaseNumberFormat;
use fengqiao_server::org::OrgFile;
use fengqiao_server::sync::ingest_message;
use fengqiao_server::{AppState, Services, Settings};

use crate::annual_report::{get, login, principal, template};
use crate::common::*;
use crate::tablet::seed_county;

/// What each format renders for the 12th dispute of 2026 in 东溪镇, or why it is refused.
#[test]
fn formats_render_or_are_refused_in_chinese() {
    let check = |format: &str| match CaseNumberFormat::parse(format) {
        Ok(f) => f.render(2026, "东溪镇", Some(CaseKind::Dispute), 12),
        Err(e) => format!("错误：{e}"),
    };
    let table = [
        "（{year}）{unit}{word}字第{number}号",
        "{unit}{word}〔{year}〕{number:04}号",
        "QS-{year}-{number:06}",
        "{unit}调字第{number}号",
        "（{year}）第{num}号",
        "（{year}）第{number:4}号",
        "（{year）第{number}号",
        "（{year}}第{number}号",
        "",
    ];
    let rendered: Vec<String> = table.iter().map(|f| format!("{f} => {}", check(f))).collect();
    expect_test::expect![[r#"
        （{year}）{unit}{word}字第{number}号 => （2026）东溪镇调字第12号
        {unit}{word}〔{year}〕{number:04}号 => 东溪镇调〔2026〕0012号
        QS-{year}-{number:06} => QS-2026-000012
        {unit}调字第{number}号 => 错误：案号格式必须包含 {year}（年度）和 {number}（序号）：序号每年从 1 重新编起，缺少任一项案号都会重复
        （{year}）第{num}号 => 错误：案号格式中的占位符「{num}」无法识别；可用 {year}、{unit}、{word}、{number} 或补零的 {number:04}
        （{year}）第{number:4}号 => 错误：序号位数「4」无效：应写作 {number:0N}，N 为 1 到 9（如 {number:04}）
        （{year）第{number}号 => 错误：案号格式中的「{」没有配对的「}」
        （{year}}第{number}号 => 错误：案号格式中的「}」没有配对的「{」
         => 错误：案号格式不能为空"#]]
    .assert_eq(&rendered.join("\n"));
    assert_eq!(CaseNumberFormat::default().as_str(), fengqiao_server::numbering::DEFAULT_FORMAT);
}

async fn start(database: &TestDatabase, store: &fengqiao_server::store::Store) -> Services {
    seed_county(store).await;
    Services::start_on(store.clone(), &Settings::with_database(database.url.clone())).await.expect("services")
}

/// Opens a case as `user` through ingest and returns the number the server wrote.
async fn open(
    state: &AppState,
    user: &str,
    unit: &str,
    role: Role,
    kind: CaseKind,
    fill: impl FnOnce(&mut fengqiao_schema::document::Case),
) -> String {
    let who = principal(user, unit, role);
    let town = if kind == CaseKind::Dispute { unit } else { fixtures::TOWN_A };
    let message = template(&who, kind, town, "张秀兰与李国强邻里纠纷", fill);
    let id = random_case();
    let outcome = ingest_message(state, who, id, message).await.expect("ingest runs");
    assert_eq!(outcome, Ok(()));
    let case: fengqiao_schema::document::Case = state
        .documents
        .with_document(id, |d| autosurgeon::hydrate(d).expect("hydrates"))
        .await
        .expect("read")
        .expect("stored");
    case.meta.case_number.expect("a case number")
}

const ORG: &str = r#"
[[units]]
id = "qingshan.dongxi"
name = "东溪镇"
kind = "township"
parent = "qingshan"
case_number_format = "{unit}{word}〔{year}〕{number:04}号"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_numbers_cases_in_its_own_format() {
    on_each_backend(|database, store| async move {
        let services = start(&database, &store).await;
        let state = services.state();
        for user in ["a1", "p1"] {
            login(&state, user).await;
        }
        let year = &fengqiao_schema::time::Instant::from_unix(Timestamp::now().secs()).china_date().to_string()[..4];

        let refused = OrgFile::parse(&ORG.replace("{number:04}", "{n}")).expect_err("an unknown placeholder");
        assert!(refused.to_string().contains("单位「qingshan.dongxi」的案号格式有误"), "{refused}");
        let summary = OrgFile::parse(ORG).expect("parses").import(&store, Timestamp::now()).await.expect("imports");
        assert_eq!((summary.units_updated, summary.units_unchanged), (1, 0), "only the format changed: {summary:?}");
        let again = OrgFile::parse(ORG).expect("parses").import(&store, Timestamp::now()).await.expect("imports");
        assert_eq!((again.units_updated, again.units_unchanged), (0, 1), "importing twice changes nothing");

        let dispute = open(&state, "a1", fixtures::TOWN_A, Role::Mediator, CaseKind::Dispute, |_| {}).await;
        assert_eq!(dispute, format!("东溪镇调〔{year}〕0001号"));
        let second = open(&state, "a1", fixtures::TOWN_A, Role::Mediator, CaseKind::Dispute, |_| {}).await;
        assert_eq!(second, format!("东溪镇调〔{year}〕0002号"));
        let petition = open(&state, "p1", fixtures::PETITION, Role::PetitionOfficer, CaseKind::Petition, |_| {}).await;
        assert_eq!(petition, format!("（{year}）县信访局信字第1号"), "a unit without a format numbers by default");
        services.stop().await;

        // `fengqiao unit add` checks the format before anything is written.
        if let fengqiao_server::store::DatabaseUrl::Sqlite(path) = &database.url {
            let add = |id: &str, format: &str| {
                std::process::Command::new(env!("CARGO_BIN_EXE_fengqiao"))
                    .args(["--database-url", path, "unit", "add", "--id", id, "--name", "西岭乡", "--kind", "township"])
                    .args(["--parent", fixtures::COUNTY, "--case-number-format", format])
                    .output()
                    .expect("fengqiao runs")
            };
            let bad = add("qingshan.xiling", "西岭乡调字第{number}号");
            assert!(!bad.status.success());
            assert!(String::from_utf8_lossy(&bad.stderr).contains("案号格式必须包含 {year}"), "{bad:?}");
            let good = add("qingshan.xiling", "（{year}）西岭调{number:03}号");
            assert!(good.status.success(), "{good:?}");
            let stored =
                store.case_number_format(&fengqiao_schema::ids::UnitId::new("qingshan.xiling")).await.expect("read");
            assert_eq!(stored.map(|f| f.to_string()).as_deref(), Some("（{year}）西岭调{number:03}号"));
        }
    })
    .await;
}

const NAME: &str = "张秀兰";
const ID_NUMBER: &str = "330102197805061234";
const PHONE: &str = "13912345678";
const ADDRESS: &str = "东溪镇上村七组十八号";

fn parties(case: &mut fengqiao_schema::document::Case) {
    use fengqiao_schema::document::Party;
    case.meta.dispute_type = Some(DisputeType::Neighbour);
    case.mediation.source = Some(MediationSource::Application);
    case.parties = vec![
        Party {
            id: "p1".into(),
            role: Some(PartyRole::Applicant),
            kind: Some(PartyKind::Person),
            name: NAME.into(),
            id_number: ID_NUMBER.into(),
            phone: PHONE.into(),
            address: ADDRESS.into(),
            represents: None,
        },
        Party {
            id: "p2".into(),
            role: Some(PartyRole::Respondent),
            kind: Some(PartyKind::Person),
            name: "李国强".into(),
            id_number: "330102198001019876".into(),
            phone: "13800001111".into(),
            address: "东溪镇下村二组".into(),
            represents: None,
        },
    ];
}

/// The records of a CSV body after its BOM (no cell in these tests holds a line break).
fn records(body: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(body).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    assert!(text.ends_with("\r\n"), "CRLF line ends");
    text.split("\r\n").filter(|l| !l.is_empty()).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_export_masks_personal_data_for_readers_who_do_not_handle_the_case() {
    on_each_backend(|database, store| async move {
        let services = start(&database, &store).await;
        let state = services.state();
        let mediator = login(&state, "a1").await;
        let number = open(&state, "a1", fixtures::TOWN_A, Role::Mediator, CaseKind::Dispute, parties).await;

        let (status, headers, body) = get(&state, "/v1/cases.csv", &mediator).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        let disposition = headers["content-disposition"].to_str().expect("ASCII");
        assert_eq!(
            disposition,
            "attachment; filename=\"cases.csv\"; filename*=UTF-8''%E6%A1%88%E4%BB%B6%E6%B8%85%E5%8D%95.csv"
        );
        let rows = records(&body);
        assert_eq!(rows[0][..4], ["案号", "案件名称", "类别", "办理渠道"]);
        assert_eq!(rows.len(), 2, "{rows:?}");
        let full = &rows[1];
        assert_eq!(full[0], number);
        assert_eq!(full[1], "张秀兰与李国强邻里纠纷");
        assert_eq!(full[2..9], ["矛盾纠纷", "人民调解", "东溪镇", "东溪镇", "邻里", "办理中", ""]);
        assert_eq!(full[12], "申请");
        assert_eq!(full[13], "申请人 张秀兰；被申请人 李国强", "the handling mediator sees the parties in full");
        assert_eq!(full[14], format!("{ID_NUMBER}；330102198001019876"));
        assert_eq!(full[15], format!("{PHONE}；13800001111"));
        assert_eq!(full[16], format!("{ADDRESS}；东溪镇下村二组"));
        assert_eq!(full[17], "完整");

        // The county supervisor reads the case but does not handle it: masked.
        let chief = login(&state, "chief").await;
        let (status, _, body) = get(&state, "/v1/cases.csv", &chief).await;
        assert_eq!(status, 200);
        let text = String::from_utf8(body.clone()).expect("UTF-8");
        for personal in [NAME, ID_NUMBER, PHONE, ADDRESS, "李国强", "13800001111"] {
            assert!(!text.contains(personal), "the supervisor's export shows {personal}:\n{text}");
        }
        let rows = records(&body);
        let masked = &rows[1];
        assert_eq!(masked[1], "张**与李**邻里纠纷", "names in the title are masked too");
        assert_eq!(masked[13], "申请人 张**；被申请人 李**");
        assert_eq!(masked[14], "330***********1234；330***********9876");
        assert_eq!(masked[15], "139****5678；138****1111");
        assert_eq!(masked[16], "东溪镇上村****；东溪镇****");
        assert_eq!(masked[17], "已脱敏");

        // The same filters as /v1/cases; another township reads nothing.
        let (_, _, body) = get(&state, "/v1/cases.csv?track=petition", &mediator).await;
        assert_eq!(records(&body).len(), 1, "only the header row");
        let (_, _, body) = get(&state, "/v1/cases.csv?limit=1", &chief).await;
        assert_eq!(records(&body).len(), 2);
        let other = login(&state, "b1").await;
        let (_, _, body) = get(&state, "/v1/cases.csv", &other).await;
        assert_eq!(records(&body).len(), 1, "another township's mediator reads no case");
        let (status, _, _) = get(&state, "/v1/cases.csv", "not-a-token").await;
        assert_eq!(status, 401);
        let (_, openapi) = call(&state, "GET", "/v1/openapi.json", None, None).await;
        assert!(openapi["paths"].get("/v1/cases.csv").is_some(), "the export is in the OpenAPI document");
        services.stop().await;
    })
    .await;
}
