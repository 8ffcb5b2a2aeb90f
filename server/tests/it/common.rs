//! Test databases and small document helpers shared by the tests.

use std::future::Future;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ReadDoc, ScalarValue, Value, ROOT};
use fengqiao_schema::ids::{CaseId, DeviceId, UnitId, UserId};
use fengqiao_schema::units::Unit;
use fengqiao_schema::vocab::{Role, UnitKind};
use fengqiao_server::clock::Timestamp;
use fengqiao_server::store::units::NewUser;
use fengqiao_server::store::{BackendKind, DatabaseUrl, Store};
use sqlx::Connection;

/// Set to a PostgreSQL URL to run every storage and identity test on PostgreSQL too.
pub const POSTGRES_ENV: &str = "FENGQIAO_TEST_POSTGRES_URL";

/// A database of its own for one test run; removed (SQLite: with the last clone) or left in the
/// throwaway server (PostgreSQL) afterwards.
#[derive(Clone)]
pub struct TestDatabase {
    pub url: DatabaseUrl,
    pub kind: BackendKind,
    _dir: Option<std::sync::Arc<tempfile::TempDir>>,
}

impl TestDatabase {
    pub async fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("fengqiao.sqlite3");
        TestDatabase {
            url: DatabaseUrl::Sqlite(path.to_str().expect("a UTF-8 temporary path").to_string()),
            kind: BackendKind::Sqlite,
            _dir: Some(std::sync::Arc::new(dir)),
        }
    }

    /// A fresh schema on the PostgreSQL server named by `FENGQIAO_TEST_POSTGRES_URL`, and a URL
    /// whose connections use it.
    pub async fn postgres(server: &str) -> TestDatabase {
        let schema = format!("t_{}", hex(&rand_bytes()));
        let mut conn = sqlx::PgConnection::connect(server)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but the server does not answer: {e}"));
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.expect("create a test schema");
        conn.close().await.ok();
        let separator = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{separator}options[search_path]={schema}");
        TestDatabase { url: url.parse().expect("a postgres URL"), kind: BackendKind::Postgres, _dir: None }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.url).await.expect("the test database opens and migrates")
    }
}

/// SQLite always; PostgreSQL too when the environment names a server.
pub async fn test_databases() -> Vec<TestDatabase> {
    let mut databases = vec![TestDatabase::sqlite().await];
    if let Ok(server) = std::env::var(POSTGRES_ENV) {
        if !server.is_empty() {
            databases.push(TestDatabase::postgres(&server).await);
        }
    }
    databases
}

/// Runs `test` once per backend, each on a fresh, migrated database.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(TestDatabase, Store) -> Fut,
    Fut: Future<Output = ()>,
{
    for database in test_databases().await {
        eprintln!("--- on {:?}", database.kind);
        let store = database.open().await;
        // `database` outlives the test even if the test drops its clone.
        test(database.clone(), store).await;
    }
}

fn rand_bytes() -> [u8; 8] {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).expect("random bytes");
    bytes
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A case id made from a number, so tests can name their cases.
pub fn case(n: u8) -> CaseId {
    CaseId::from_bytes([n; 16])
}

/// A fresh random case id.
pub fn random_case() -> CaseId {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).expect("random bytes");
    CaseId::from_bytes(bytes)
}

pub fn actor(n: u8) -> ActorId {
    ActorId::from([n; 16])
}

/// A document written by `actor`, with a case-like first change.
pub fn new_document(actor: ActorId) -> Automerge {
    let mut doc = Automerge::new().with_actor(actor);
    let mut tx = doc.transaction();
    let meta = tx.put_object(ROOT, "meta", automerge::ObjType::Map).expect("put meta");
    tx.put(&meta, "kind", "dispute").expect("put kind");
    tx.put(&meta, "township", "qingshan.xiahe").expect("put township");
    let claims = tx.put_object(ROOT, "claims", automerge::ObjType::Text).expect("put claims");
    tx.splice_text(&claims, 0, 0, "申请人称：").expect("splice");
    tx.commit();
    doc
}

/// One more change: appends to the claims text and sets a counter-like scalar.
pub fn edit(doc: &mut Automerge, n: i64) {
    let claims = match doc.get(ROOT, "claims").expect("read claims") {
        Some((Value::Object(_), id)) => id,
        other => panic!("claims is not a text object: {other:?}"),
    };
    let len = doc.length(&claims);
    let mut tx = doc.transaction();
    tx.splice_text(&claims, len, 0, &format!("第{n}次补充。")).expect("splice");
    tx.put(ROOT, "edits", n).expect("put edits");
    tx.commit();
}

/// The integer at a root key.
pub fn root_int(doc: &Automerge, key: &str) -> Option<i64> {
    match doc.get(ROOT, key).expect("read") {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Int(n) => Some(*n),
            _ => None,
        },
        _ => None,
    }
}

/// A county with one township and a user in it (and their device is registered on first login).
pub async fn seed_people(store: &Store) {
    store
        .add_unit(&Unit { id: UnitId::new("qingshan"), name: "青山县".into(), kind: UnitKind::County, parent: None })
        .await
        .expect("add county");
    store
        .add_unit(&Unit {
            id: UnitId::new("qingshan.xiahe"),
            name: "下河镇".into(),
            kind: UnitKind::Township,
            parent: Some(UnitId::new("qingshan")),
        })
        .await
        .expect("add township");
    for user in ["wang.fang", "li.ming"] {
        add_user(store, user, "qingshan.xiahe", &[Role::Mediator], "correct horse battery").await;
    }
}

pub async fn add_user(store: &Store, id: &str, unit: &str, roles: &[Role], password: &str) {
    let password_hash =
        fengqiao_server::auth::hash_password_blocking(fengqiao_server::auth::password::Password::new(password))
            .await
            .expect("hash");
    store
        .add_user(
            &NewUser {
                id: UserId::new(id),
                name: id.to_string(),
                unit: UnitId::new(unit),
                roles: roles.iter().copied().collect(),
                password_hash,
            },
            Timestamp::now(),
        )
        .await
        .expect("add user");
}

pub fn device(id: &str) -> DeviceId {
    DeviceId::new(id)
}

/// Generous bound on anything a test waits for: reached only if the code under test hangs.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Awaits `future`, failing the test if it takes longer than `DEADLINE`.
pub async fn within_deadline<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future).await.unwrap_or_else(|_| panic!("{what} did not finish within {DEADLINE:?}"))
}

/// One request through the router (no socket): status and JSON body (`null` if none).
pub async fn call(
    state: &fengqiao_server::AppState,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    use tower::ServiceExt;
    let mut request = axum::http::Request::builder().method(method).uri(path);
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request.header("content-type", "application/json").body(axum::body::Body::from(body.to_string())),
        None => request.body(axum::body::Body::empty()),
    }
    .expect("a request");
    let response = fengqiao_server::router(state.clone()).oneshot(request).await.expect("the router answers");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

/// The `code` of an error body, or `-` for a success.
pub fn code(body: &serde_json::Value) -> String {
    body.get("code").and_then(|c| c.as_str()).unwrap_or("-").to_string()
}
