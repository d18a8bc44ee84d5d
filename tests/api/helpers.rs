//! `spawn_app`: a fresh database and a running service per test.

use diesel::prelude::*;
use foi_tracker::config::Settings;
use foi_tracker::db::Db;
use foi_tracker::domain::role::Role;
use foi_tracker::service::directory::{add_agency, add_user, put_topic, NewAgency};
use foi_tracker::service::Caller;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    /// A global administrator.
    pub admin: String,
    /// The database the service uses (for running the CLI against it).
    pub database_url: String,
    _dir: Option<tempfile::TempDir>,
}

/// Generates `sqlite::<test>` and `postgres::<test>` for each `async fn <test>(app: TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if $crate::helpers::postgres_url().is_some() {
                        super::$test($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await).await
                    }
                }
            )*
        }
    };
}

/// Like `on_both_backends!`, for tests that take the `Backend` and set up their own database.
#[macro_export]
macro_rules! with_each_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if $crate::helpers::postgres_url().is_some() {
                        super::$test($crate::helpers::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}

/// The PostgreSQL server for tests. In CI (CI set) its absence is an error, never a silent skip.
pub fn postgres_url() -> Option<String> {
    match std::env::var("FOI_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| !v.is_empty()) => {
            panic!("CI is set but FOI_TEST_POSTGRES_URL is not: the PostgreSQL half of the suite would not run")
        }
        _ => None,
    }
}

/// `base` with its database name replaced.
fn with_database(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let authority_start = head.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match head[authority_start..].find('/') {
        Some(i) => &head[..authority_start + i],
        None => head,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// A new, empty PostgreSQL database for one test.
fn fresh_postgres_database() -> String {
    let base = postgres_url().expect("checked by the caller");
    let name = format!("foi_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = PgConnection::establish(&base).expect("connect to FOI_TEST_POSTGRES_URL");
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create test database");
    with_database(&base, &name)
}

/// A URL for a new, empty database on `backend` (the temp dir, for SQLite, must outlive its use).
pub fn fresh_database(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (format!("sqlite://{}", dir.path().join("test.db").display()), Some(dir))
        }
        Backend::Postgres => (fresh_postgres_database(), None),
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with settings adjusted by `adjust` (rate limits are high unless a test lowers them:
/// the suite's many deliberate 401s from one address are not an attack).
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::defaults();
    settings.limits.calculator_per_minute = 1_000_000;
    settings.limits.failed_auth_per_minute = 1_000_000;
    settings.limits.failed_login_delay_ms = 0;
    adjust(&mut settings);
    settings.server.bind = "127.0.0.1:0".into();
    settings.server.workers = 2;
    settings.database.pool_size = 8;
    let (url, dir) = fresh_database(backend);
    settings.database.url = url.clone();
    let app = foi_tracker::build_app(&settings).expect("app starts");
    let db = app.db.clone();
    let address = format!("http://127.0.0.1:{}", app.port);
    tokio::spawn(app.server);
    let admin = {
        let mut conn = db.conn().expect("connection");
        add_user(&mut conn, Caller::Operator, "test admin", Role::Admin, None, None, None).expect("admin").1
    };
    TestApp { address, client: reqwest::Client::new(), db, admin, database_url: url, _dir: dir }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A city PJ with districts PJ-XLT and PJ-DW, and the seed's topic 城建环保类 at city level.
    pub fn seed_city(&self) {
        let mut conn = self.db.conn().expect("connection");
        for (code, name, parent, email) in [
            ("PJ", "盘锦市人民政府", None, Some("gk@panjin.gov.cn")),
            ("PJ-XLT", "兴隆台区人民政府", Some("PJ"), None),
            ("PJ-DW", "大洼区人民政府", Some("PJ"), None),
        ] {
            let new = NewAgency {
                code: code.into(),
                name: name.into(),
                parent: parent.map(str::to_owned),
                email: email.map(str::to_owned),
            };
            add_agency(&mut conn, Caller::Operator, &new).unwrap();
        }
        put_topic(&mut conn, Caller::Operator, "PJ", "urban", "城建环保类").unwrap();
    }

    /// A user's token.
    pub fn token(&self, role: Role, agency: &str) -> String {
        let mut conn = self.db.conn().expect("connection");
        add_user(&mut conn, Caller::Operator, &format!("{role} of {agency}"), role, Some(agency), None, None).unwrap().1
    }

    pub async fn post_case(&self, token: &str, body: &Value) -> reqwest::Response {
        self.client.post(self.url("/api/v1/cases")).bearer_auth(token).json(body).send().await.expect("request")
    }

    /// A request by `who`: a bearer token, or a signed-in browser as `session <cookie> <csrf>` (see
    /// `session`), which sends its cookie and CSRF token.
    pub fn request_as(&self, method: reqwest::Method, path: &str, who: &str) -> reqwest::RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match who.strip_prefix("session ").and_then(|rest| rest.split_once(' ')) {
            Some((cookie, csrf)) => {
                request.header("cookie", format!("foi_session={cookie}")).header("x-csrf-token", csrf)
            }
            None => request.bearer_auth(who),
        }
    }

    /// A user of `role` at `agency` signed in in a browser: `session <cookie> <csrf>` for `request_as`.
    pub async fn session(&self, role: Role, agency: &str) -> String {
        use foi_tracker::service::accounts;
        let login = format!("u{}", uuid::Uuid::now_v7().simple());
        {
            let mut conn = self.db.conn().expect("connection");
            let (user, _) =
                add_user(&mut conn, Caller::Operator, "同事", role, Some(agency), None, Some(&login)).unwrap();
            accounts::set_password(&mut conn, Caller::Operator, &user.id, "Panjin-2026-gk", None, None).unwrap();
        }
        let res = self
            .client
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({"name": login, "password": "Panjin-2026-gk"}))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
        let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let cookie = cookie.strip_prefix("foi_session=").unwrap().to_owned();
        let body: Value = res.json().await.unwrap();
        format!("session {cookie} {}", body["csrf_token"].as_str().unwrap())
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.request_as(reqwest::Method::GET, path, token).send().await.expect("request")
    }

    pub async fn get_json(&self, token: &str, path: &str) -> Value {
        let res = self.get(token, path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    /// The id of the user a token belongs to.
    pub async fn user_id(&self, token: &str) -> String {
        self.get_json(token, "/api/v1/me").await["user_id"].as_str().unwrap().to_owned()
    }

    /// A case's current ETag.
    pub async fn etag(&self, case_id: &str) -> String {
        let res = self.get(&self.admin, &format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(res.status(), 200);
        res.headers()["etag"].to_str().unwrap().to_owned()
    }

    /// Posts a workflow action with the case's current ETag as If-Match.
    pub async fn act(&self, token: &str, case_id: &str, body: Value) -> reqwest::Response {
        let tag = self.etag(case_id).await;
        self.request_as(reqwest::Method::POST, &format!("/api/v1/cases/{case_id}/actions"), token)
            .header("If-Match", tag)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// An action that must succeed; the case as it now stands.
    pub async fn act_ok(&self, token: &str, case_id: &str, body: Value) -> Value {
        let res = self.act(token, case_id, body.clone()).await;
        let status = res.status();
        let answer: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{body} -> {answer}");
        answer
    }

    /// Takes a case through review, drafting, approval and service by post on `on`, as the office
    /// head of `agency`; the served case.
    pub async fn reply(&self, case_id: &str, agency: &str, on: &str, outcome: Value) -> Value {
        let approver = self.token(Role::Approver, agency);
        let me = self.user_id(&approver).await;
        let case = self.get_json(&self.admin, &format!("/api/v1/cases/{case_id}")).await;
        if case["state"] == "registered" {
            self.act_ok(&approver, case_id, json!({"action": {"type": "assign", "handler_id": me}})).await;
        }
        self.act_ok(&approver, case_id, json!({"action": {"type": "draft_reply", "outcome": outcome}})).await;
        self.act_ok(&approver, case_id, json!({"action": {"type": "approve_reply"}})).await;
        self.act_ok(&approver, case_id, json!({"action": {"type": "serve", "on": on, "method": "post"}})).await
    }

    /// Runs the command line against this app's database (with the compiled-in settings only).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
            .args(args)
            .env("FOI__DATABASE__URL", &self.database_url)
            .env("FOI_CONFIG_DIR", "/nonexistent")
            .output()
            .expect("the command runs")
    }

    pub fn case_count(&self) -> i64 {
        use foi_tracker::db::schema::cases;
        let mut conn = self.db.conn().expect("connection");
        cases::table.count().get_result(&mut *conn).unwrap()
    }
}

/// A valid intake for agency `agency`.
pub fn intake(agency: &str) -> Value {
    json!({
        "agency": agency,
        "channel": "letter",
        "arrived_at": "2015-03-02T09:30:00+08:00",
        "applicant": {
            "kind": "natural_person",
            "name": "张三",
            "id_number": "211102198001011234",
            "phone": "15704271234",
            "address": "辽宁省盘锦市兴隆台区石油大街100号"
        },
        "description": "2014年城区道路改造工程的招标文件",
        "delivery_form": "paper"
    })
}

pub async fn assert_problem(res: reqwest::Response, status: u16, type_slug: &str) -> Value {
    assert_eq!(res.status().as_u16(), status);
    assert_eq!(res.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/problem+json"));
    assert!(res.headers().contains_key("x-request-id"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], format!("urn:foi-tracker:problem:{type_slug}"), "{body}");
    assert_eq!(body["status"], status);
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

#[test]
fn database_name_is_replaced_keeping_parameters() {
    assert_eq!(
        with_database("postgres://u:p@h:5432/foi?sslmode=disable", "t1"),
        "postgres://u:p@h:5432/t1?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The database at `url` opened directly (one connection, no migrations), to look at what a
/// `serve` process or a backup wrote.
pub fn open_database(url: &str) -> Db {
    Db::connect(&foi_tracker::config::DatabaseSettings {
        url: url.to_owned(),
        pool_size: 1,
        connect_timeout_seconds: 5,
        sqlite_busy_timeout_ms: 5000,
        run_migrations: false,
    })
    .unwrap()
}
