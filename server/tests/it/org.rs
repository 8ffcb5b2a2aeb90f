//! Organisation import: the example county file goes in, twice without change, and users can log
//! in with their initial passwords; files whose units do not form a tree (alone or with the units
//! already stored), or that are otherwise wrong, are refused whole.

use expect_test::expect;
use fengqiao_schema::ids::UserId;
use fengqiao_schema::units::UnitTree;
use fengqiao_server::auth::password::Password;
use fengqiao_server::auth::{Auth, AuthSettings, LoginRequest};
use fengqiao_server::clock::Timestamp;
use fengqiao_server::org::OrgFile;
use fengqiao_server::store::Store;

use crate::common::*;

const EXAMPLE: &str = include_str!("../../examples/county.toml");

async fn import(store: &Store, text: &str) -> String {
    match OrgFile::parse(text) {
        Ok(file) => match file.import(store, Timestamp::now()).await {
            Ok(summary) => format!("{summary:?}"),
            Err(error) => format!("{} {}", error.code(), error.message()),
        },
        Err(error) => format!("{} {}", error.code(), error.message()),
    }
}

async fn can_log_in(store: &Store, user: &str, password: &str) -> bool {
    let auth = Auth::start(store.clone(), AuthSettings::default(), Timestamp::now()).await.expect("auth");
    let request = LoginRequest {
        user_id: UserId::new(user),
        password: Password::new(password),
        device_id: device(&format!("{user}-tablet")),
        device_name: "平板".into(),
    };
    auth.login(request, Timestamp::now()).await.is_ok()
}

#[tokio::test]
async fn the_example_county_imports_idempotently() {
    on_each_backend(|_, store| async move {
        expect![[r#"ImportSummary { units_created: 7, units_updated: 0, units_unchanged: 0, users_created: 8, users_updated: 0, users_unchanged: 0 }"#]]
            .assert_eq(&import(&store, EXAMPLE).await);
        expect![[r#"ImportSummary { units_created: 0, units_updated: 0, units_unchanged: 7, users_created: 0, users_updated: 0, users_unchanged: 8 }"#]]
            .assert_eq(&import(&store, EXAMPLE).await);
        let file = OrgFile::parse(EXAMPLE).expect("the example parses");
        let mut expected: Vec<fengqiao_schema::units::Unit> = file.units.iter().map(Into::into).collect();
        expected.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(store.units().await.expect("units"), expected);
        let tree = UnitTree::new(store.units().await.expect("units")).expect("a tree");
        assert!(tree.is_within("qingshan.xiahe", "qingshan"));
        assert!(can_log_in(&store, "wang.fang", "xiahe-tiaojie-2026").await);
        let chen = store.user(&UserId::new("chen.jun")).await.expect("user").expect("exists");
        assert_eq!(chen.roles.iter().map(|r| r.code()).collect::<Vec<_>>(), ["mediator", "petition_officer"]);

        // A changed file updates names, units and roles, and never resets a password.
        let changed = EXAMPLE
            .replace("name = \"下河镇\"", "name = \"下河镇（新）\"")
            .replace("unit = \"qingshan.xiahe\"\nroles = [\"mediator\"]\npassword = \"xiahe-tiaojie-2026\"", "unit = \"qingshan.shangping\"\nroles = [\"mediator\", \"supervisor\"]\npassword = \"a-new-password\"");
        expect![[r#"ImportSummary { units_created: 0, units_updated: 1, units_unchanged: 6, users_created: 0, users_updated: 1, users_unchanged: 7 }"#]]
            .assert_eq(&import(&store, &changed).await);
        let wang = store.user(&UserId::new("wang.fang")).await.expect("user").expect("exists");
        assert_eq!(wang.unit.as_str(), "qingshan.shangping");
        assert_eq!(wang.roles.len(), 2);
        assert!(can_log_in(&store, "wang.fang", "xiahe-tiaojie-2026").await, "the password stays");
        assert!(!can_log_in(&store, "wang.fang", "a-new-password").await);
    })
    .await;
}

#[tokio::test]
async fn files_that_are_not_a_tree_or_are_wrong_are_refused_whole() {
    let unit = |id: &str, kind: &str, parent: Option<&str>| match parent {
        Some(p) => format!("[[units]]\nid = \"{id}\"\nname = \"{id}\"\nkind = \"{kind}\"\nparent = \"{p}\"\n"),
        None => format!("[[units]]\nid = \"{id}\"\nname = \"{id}\"\nkind = \"{kind}\"\n"),
    };
    let user = |id: &str, unit: &str, roles: &str, password: &str| {
        format!("[[users]]\nid = \"{id}\"\nname = \"{id}\"\nunit = \"{unit}\"\nroles = {roles}\npassword = \"{password}\"\n")
    };
    let cases = [
        ("cycle", unit("a", "township", Some("b")) + &unit("b", "county", Some("a"))),
        ("unknown parent", unit("a", "township", Some("nowhere"))),
        ("duplicate unit", unit("a", "county", None) + &unit("a", "county", None)),
        ("cycle with stored units", unit("qingshan", "county", Some("qingshan.xiahe"))),
        ("user in unknown unit", unit("a", "county", None) + &user("u", "b", "[\"mediator\"]", "long enough")),
        ("unknown role", unit("a", "county", None) + &user("u", "a", "[\"mayor\"]", "long enough")),
        ("no role", unit("a", "county", None) + &user("u", "a", "[]", "long enough")),
        ("short password", unit("a", "county", None) + &user("u", "a", "[\"mediator\"]", "short")),
        (
            "duplicate user",
            unit("a", "county", None)
                + &user("u", "a", "[\"mediator\"]", "long enough")
                + &user("u", "a", "[\"admin\"]", "long enough"),
        ),
        ("unknown kind", unit("a", "province", None)),
        ("unknown field", "[[units]]\nid = \"a\"\nname = \"a\"\nkind = \"county\"\ncolour = \"red\"\n".to_string()),
        (
            "case number format",
            "[[units]]\nid = \"a\"\nname = \"a\"\nkind = \"county\"\ncase_number_format = \"{unit}第{number}号\"\n".to_string(),
        ),
    ];
    on_each_backend(|_, store| {
        let cases = cases.clone();
        async move {
            import(&store, EXAMPLE).await;
            let units_before = store.units().await.expect("units");
            let users_before = store.user_ids().await.expect("users");
            let mut table = String::new();
            for (name, text) in cases {
                let outcome = import(&store, &text).await;
                // Parser messages quote the file at length: keep their first line.
                table += &format!("{name:<24} {}\n", outcome.lines().next().unwrap_or_default());
                assert_eq!(store.units().await.expect("units"), units_before, "{name}: nothing written");
                assert_eq!(store.user_ids().await.expect("users"), users_before, "{name}: nothing written");
            }
            expect![[r#"
                cycle                    units_not_a_tree 单位「a」的上下级关系形成了环
                unknown parent           units_not_a_tree 单位「a」的上级单位「nowhere」不存在
                duplicate unit           units_not_a_tree 单位「a」重复
                cycle with stored units  units_not_a_tree 单位「qingshan」的上下级关系形成了环
                user in unknown unit     invalid_org_file 组织架构文件有误：用户「u」所属单位「b」不存在
                unknown role             invalid_org_file 组织架构文件有误：第 9 行：「mayor」不是role中的代码
                no role                  invalid_org_file 组织架构文件有误：用户「u」没有任何角色
                short password           invalid_org_file 组织架构文件有误：用户「u」的初始密码少于 8 个字符
                duplicate user           invalid_org_file 组织架构文件有误：用户「u」重复
                unknown kind             invalid_org_file 组织架构文件有误：第 4 行：「province」不是unit_kind中的代码
                unknown field            invalid_org_file 组织架构文件有误：第 5 行：unknown field `colour`, expected one of `id`, `name`, `kind`, `parent`, `case_number_format`
                case number format       invalid_org_file 组织架构文件有误：单位「a」的案号格式有误：案号格式必须包含 {year}（年度）和 {number}（序号）：序号每年从 1 重新编起，缺少任一项案号都会重复
            "#]].assert_eq(&table);
        }
    })
    .await;
}

/// The unit tree a server keeps (`Store::unit_tree`) follows every change of the units, including
/// one made by another process on the same database (here a second `Store`, as `fengqiao org
/// import` beside a running server), and is not read again while nothing changed.
#[tokio::test]
async fn the_kept_unit_tree_follows_changes_made_by_another_process() {
    on_each_backend(|database, store| async move {
        import(&store, EXAMPLE).await;
        let first = store.unit_tree().await.expect("a tree");
        assert!(first.is_within("qingshan.xiahe", "qingshan"));
        let again = store.unit_tree().await.expect("a tree");
        assert!(std::sync::Arc::ptr_eq(&first, &again), "nothing changed: the same tree");

        let other = database.open().await;
        let renamed = EXAMPLE.replace("name = \"下河镇\"", "name = \"下河镇（新）\"");
        import(&other, &renamed).await;
        let after = store.unit_tree().await.expect("a tree");
        assert_eq!(after.get("qingshan.xiahe").map(|u| u.name.as_str()), Some("下河镇（新）"));

        other
            .add_unit(&fengqiao_schema::units::Unit {
                id: "qingshan.beishan".into(),
                name: "北山镇".into(),
                kind: fengqiao_schema::vocab::UnitKind::Township,
                parent: Some("qingshan".into()),
            })
            .await
            .expect("a new township");
        let grown = store.unit_tree().await.expect("a tree");
        assert!(grown.is_within("qingshan.beishan", "qingshan"), "the new township is in the tree");
    })
    .await;
}
