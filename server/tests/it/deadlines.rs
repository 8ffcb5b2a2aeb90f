//! `GET /v1/cases/{id}/deadlines`: every deadline of a case with its article, period, counting,
//! status and Chinese explanation, to the case's readers only (anyone else gets the not-found of
//! a case that does not exist). Cases are written through the real ingest path.

use automerge::ActorId;
use autosurgeon::Text;
use fengqiao_schema::fixtures;
use fengqiao_schema::time::{Instant, LegalDate};
use fengqiao_schema::vocab::*;
use fengqiao_server::clock::Timestamp;

use crate::api::{principal, start, token, Tablet};
use crate::common::*;

fn days_after(date: LegalDate, days: i64) -> LegalDate {
    LegalDate::from(date.date() + chrono::Duration::days(days))
}

/// The listed deadline of `rule`.
fn deadline<'a>(body: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    body["deadlines"]
        .as_array()
        .and_then(|list| list.iter().find(|d| d["rule"] == rule))
        .unwrap_or_else(|| panic!("no {rule} deadline in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_lists_every_deadline_with_its_explanation_to_its_readers_only() {
    on_each_backend(|database, store| async move {
        let services = start(&database, &store).await;
        let state = services.state();
        let (a1, b1, chief) = (token(&state, "a1").await, token(&state, "b1").await, token(&state, "chief").await);
        let a1_principal = principal("a1", fixtures::TOWN_A, Role::Mediator);
        let actor = ActorId::random();
        let today = Instant::from_unix(Timestamp::now().secs()).china_date();
        let accepted = days_after(today, -10);

        // A labour dispute in mediation since ten days ago: two clocks run from its acceptance.
        let mut tablet = Tablet::open(&a1_principal, "某厂拖欠工资纠纷");
        tablet
            .push(&state, &a1_principal, &actor, |case| {
                case.meta.dispute_type = Some(DisputeType::Labour);
                case.mediation.accepted_on = Some(accepted);
                case.mediation.labour_dispute = true;
            })
            .await;
        let path = format!("/v1/cases/{}/deadlines", tablet.case_id);
        let (status, body) = call(&state, "GET", &path, Some(&a1), None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["case_id"], tablet.case_id.to_string());
        assert_eq!(body["today"], today.to_string());
        let rules: Vec<&str> = body["deadlines"].as_array().expect("a list").iter().map(|d| d["rule"].as_str().unwrap()).collect();
        assert_eq!(rules, ["mediation.period", "mediation.labour_arbitration"]);

        let period = deadline(&body, "mediation.period");
        let fields = |d: &serde_json::Value, keys: &[&str]| keys.iter().map(|k| d[*k].clone()).collect::<Vec<_>>();
        assert_eq!(
            fields(period, &["label", "track", "kind", "article", "start_on", "start_event", "period_length", "period_unit"]),
            [
                "调解期限",
                "mediation",
                "duty",
                "《人民调解工作若干规定》第三十三条",
                &accepted.to_string(),
                "受理调解之日",
            ]
            .map(serde_json::Value::from)
            .into_iter()
            .chain([serde_json::json!(30), serde_json::json!("calendar_days")])
            .collect::<Vec<_>>()
        );
        assert_eq!(
            fields(period, &["counting", "extension_days", "suspended_days", "last_day", "status", "status_label", "met_on"]),
            [
                serde_json::json!("calendar_days"),
                serde_json::json!(0),
                serde_json::json!(0),
                serde_json::json!(days_after(accepted, 30).to_string()),
                serde_json::json!("running"),
                serde_json::json!("进行中"),
                serde_json::Value::Null,
            ]
        );
        // A last day on a rest day moves to the next working day, never earlier.
        let due = period["due_on"].as_str().expect("a due date");
        assert!(due >= period["last_day"].as_str().unwrap(), "{period}");
        assert_eq!(period["shifted_from"].is_null(), due == period["last_day"].as_str().unwrap(), "{period}");
        let explanation = period["explanation"].as_str().expect("an explanation");
        assert!(explanation.contains("《人民调解工作若干规定》第三十三条"), "{explanation}");
        assert!(explanation.contains("按本地配置计为30日"), "{explanation}");
        let labour = deadline(&body, "mediation.labour_arbitration");
        assert_eq!((labour["article"].as_str(), labour["period_length"].as_u64()), (Some("《劳动争议调解仲裁法》第十四条"), Some(15)));
        assert!(labour["explanation"].as_str().unwrap().contains("可以依法申请仲裁"), "{labour}");

        // The county's supervisor reads it too; a mediator of another township gets exactly the
        // answer of a case that does not exist, and so does a malformed id.
        let (status, by_chief) = call(&state, "GET", &path, Some(&chief), None).await;
        assert_eq!((status, &by_chief["deadlines"]), (200, &body["deadlines"]));
        let (other_status, other) = call(&state, "GET", &path, Some(&b1), None).await;
        let (random_status, random) = call(&state, "GET", &format!("/v1/cases/{}/deadlines", random_case()), Some(&a1), None).await;
        let (bad_status, bad) = call(&state, "GET", "/v1/cases/not-a-case/deadlines", Some(&a1), None).await;
        assert_eq!((other_status, &other), (404, &random), "another township: {other}");
        assert_eq!((random_status, code(&random)), (404, "not_found".to_string()));
        assert_eq!((bad_status, &bad), (404, &random));
        let (status, _) = call(&state, "GET", &path, None, None).await;
        assert_eq!(status, 401, "no token, no deadlines");

        // The mediation succeeds on the fifth day: both clocks are met.
        let ended = days_after(accepted, 5);
        tablet
            .push(&state, &a1_principal, &actor, |case| {
                case.mediation.result = Some(MediationResult::Success);
                case.mediation.result_on = Some(ended);
                case.mediation.agreement.terms = Text::with_value("某厂于十日内支付拖欠工资。");
            })
            .await;
        let (status, body) = call(&state, "GET", &path, Some(&a1), None).await;
        assert_eq!(status, 200, "{body}");
        for rule in ["mediation.period", "mediation.labour_arbitration"] {
            let met = deadline(&body, rule);
            assert_eq!(
                (met["status"].as_str(), met["status_label"].as_str(), met["met_on"].as_str()),
                (Some("met"), Some("已按期完成"), Some(ended.to_string().as_str())),
                "{met}"
            );
        }

        // The endpoint is in the OpenAPI document.
        let (_, openapi) = call(&state, "GET", "/v1/openapi.json", None, None).await;
        assert!(openapi["paths"]["/v1/cases/{id}/deadlines"]["get"].is_object(), "not in the OpenAPI document");
        services.stop().await;
    })
    .await;
}
