//! Operations under faults: connections that heal after the database drops them, instances started at
//! once on an empty database. Each test prints its figures (`cargo test -- --nocapture` shows them).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::Value;

use crate::helpers::{
    free_port, fresh_database, intake, open_database, postgres_url, spawn_app, spawn_app_with, Backend,
};

crate::with_each_backend!(
    instances_started_at_once_on_an_empty_database_all_come_up_with_one_admin,
    metrics_count_requests_by_route_and_show_the_office_gauges,
    the_calculator_and_failed_authentications_are_rate_limited,
);

/// SQLite's write lock held elsewhere past the busy timeout: the registration answers 503 with
/// Retry-After (a fault to wait out, not a bug), writes nothing, and succeeds once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_database_is_503_with_retry_after_then_works() {
    use std::io::{BufRead, BufReader};
    let (url, _dir) = fresh_database(Backend::Sqlite);
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
            .args(args)
            .env("FOI__DATABASE__URL", &url)
            .env("FOI_CONFIG_DIR", "/nonexistent")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    cli(&["agency", "add", "PJ", "盘锦市人民政府"]);
    let token = cli(&["user", "add", "clerk", "--role", "clerk", "--agency", "PJ"]).lines().last().unwrap().to_owned();
    let port = free_port();
    let mut child = serve_with(&url, port, &[("FOI__DATABASE__SQLITE_BUSY_TIMEOUT_MS", "200")]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        let mut line = String::new();
        while stdout.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            line.clear();
        }
    });
    let client = reqwest::Client::new();
    let address = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while client.get(format!("{address}/readyz")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(started.elapsed() < Duration::from_secs(30), "serve did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let post = || client.post(format!("{address}/api/v1/cases")).bearer_auth(&token).json(&intake("PJ")).send();
    let path = url.strip_prefix("sqlite://").unwrap().to_owned();
    let mut holder = diesel::SqliteConnection::establish(&path).unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut holder, "BEGIN EXCLUSIVE").unwrap();
    let res = post().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "urn:foi-tracker:problem:unavailable");
    diesel::connection::SimpleConnection::batch_execute(&mut holder, "ROLLBACK").unwrap();
    let res = post().await.unwrap();
    assert_eq!(res.status(), 201, "works again once the lock is released");
    let case: Value = res.json().await.unwrap();
    assert_eq!(case["tracking_number"], "PJ-2015-00001", "the refused attempt wrote nothing");
    child.kill().unwrap();
    child.wait().unwrap();
}

fn serve(database_url: &str, port: u16) -> Child {
    serve_with(database_url, port, &[])
}

fn serve_with(database_url: &str, port: u16, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .arg("serve")
        .envs(env.iter().copied())
        .env("FOI__DATABASE__URL", database_url)
        .env("FOI__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("FOI__SERVER__WORKERS", "1")
        .env("FOI__DATABASE__POOL_SIZE", "2")
        .env("FOI__REMINDERS__SCHEDULER", "false")
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start serve")
}

/// Four `serve` processes at once on an empty database, three times over: every one comes up (its
/// `/readyz` answers 200) and exactly one administrator, printed by exactly one of them, exists.
async fn instances_started_at_once_on_an_empty_database_all_come_up_with_one_admin(backend: Backend) {
    const INSTANCES: usize = 4;
    let client = reqwest::Client::new();
    for round in 1..=3 {
        let (url, _dir) = fresh_database(backend);
        let ports: Vec<u16> = (0..INSTANCES).map(|_| free_port()).collect();
        let mut children: Vec<Child> = ports.iter().map(|&port| serve(&url, port)).collect();
        let started = Instant::now();
        let mut up = 0;
        for (i, port) in ports.iter().enumerate() {
            loop {
                if let Some(status) = children[i].try_wait().unwrap() {
                    let output = children.remove(i).wait_with_output().unwrap();
                    panic!(
                        "round {round}: instance {i} exited with {status}: {}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
                let ready = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await;
                if ready.is_ok_and(|r| r.status() == 200) {
                    up += 1;
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(60), "round {round}: instance {i} not ready");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let mut tokens = 0;
        for mut child in children {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            tokens += String::from_utf8_lossy(&output.stdout).lines().filter(|l| l.starts_with("foi_")).count();
        }
        let db = open_database(&url);
        let users: i64 = {
            use foi_tracker::db::schema::users;
            users::table.count().get_result(&mut *db.conn().unwrap()).unwrap()
        };
        println!("{backend:?} round {round}: {up}/{INSTANCES} instances up in {seconds:.1} s, {users} user(s)");
        assert_eq!(up, INSTANCES);
        assert_eq!(users, 1, "round {round}: one administrator");
        assert_eq!(tokens, 1, "round {round}: one token printed");
    }
}

/// PostgreSQL ends every connection of the service (as on a restart or a failover) while clients
/// keep asking: no request answers 500, requests succeed again at once, and `/readyz` says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_heal_after_postgresql_ends_them_under_traffic() {
    if postgres_url().is_none() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    app.seed_city();
    let case: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    // Every pooled connection is open before the cut.
    let warm: Vec<_> = (0..16).map(|_| app.get(&app.admin, &path)).collect();
    for res in futures_util::future::join_all(warm).await {
        assert_eq!(res.status(), 200);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (client, url, token, stop) = (app.client.clone(), app.url(&path), app.admin.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let status = client.get(&url).bearer_auth(&token).send().await.unwrap().status().as_u16();
                statuses.push(status);
            }
            statuses
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let terminated: i64 = {
        let mut conn = PgConnection::establish(&app.database_url).unwrap();
        let name = app.database_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
    };
    let cut = Instant::now();
    let mut recovered = None;
    while cut.elapsed() < Duration::from_secs(10) {
        if app.get(&app.admin, &path).await.status() == 200 {
            recovered = Some(cut.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap().status();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut statuses = Vec::new();
    for w in workers {
        statuses.extend(w.await.unwrap());
    }
    let count = |code: u16| statuses.iter().filter(|&&s| s == code).count();
    let recovered = recovered.expect("requests succeed again within 10 s");
    println!(
        "terminated {terminated} connection(s); recovered in {:.3} s; during the run {} requests: {} ok, {} 503, {} 500",
        recovered.as_secs_f64(),
        statuses.len(),
        count(200),
        count(503),
        count(500)
    );
    assert!(terminated > 0, "the service had connections to end");
    assert!(recovered < Duration::from_secs(5));
    assert_eq!(ready, 200, "/readyz reflects the database at once");
    assert_eq!(count(500), 0, "a lost connection is never a 500");
    assert_eq!(count(200) + count(503), statuses.len(), "only 200 or 503: {statuses:?}");
}

/// `/metrics`: requests by route pattern (not by id), the pool, open and overdue cases, the outbox;
/// with a metrics token, only for whoever sends it.
async fn metrics_count_requests_by_route_and_show_the_office_gauges(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.server.metrics_token = "scrape-secret".into()).await;
    app.seed_city();
    let case: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    for _ in 0..3 {
        assert_eq!(app.get(&app.admin, &format!("/api/v1/cases/{}", case["id"].as_str().unwrap())).await.status(), 200);
    }
    let scrape = |token: Option<&str>| {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(scrape(None).await.unwrap().status(), 401);
    assert_eq!(scrape(Some("wrong")).await.unwrap().status(), 401);
    let res = scrape(Some("scrape-secret")).await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    for expected in [
        r#"http_requests_total{method="GET",route="/api/v1/cases/{id}",status="200"} 3"#,
        r#"http_requests_total{method="POST",route="/api/v1/cases",status="201"} 1"#,
        r#"http_request_duration_seconds_count{method="GET",route="/api/v1/cases/{id}"} 3"#,
        "foi_open_cases 1",
        // Received 2015-03-02: long past its deadline.
        "foi_overdue_cases 1",
        r#"foi_reminder_outbox{state="pending"} 0"#,
        "foi_reminder_last_run_timestamp_seconds 0",
        "db_pool_connections ",
    ] {
        assert!(text.contains(expected), "`{expected}` missing from:\n{text}");
    }
    assert!(!text.contains(case["id"].as_str().unwrap()), "no ids in metric labels");
}

/// The public calculator and failed authentications are limited per address: past the limit, 429
/// with Retry-After; an address over its failed-authentication limit is refused even with a valid
/// token until the limit allows it again.
async fn the_calculator_and_failed_authentications_are_rate_limited(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.limits.calculator_per_minute = 3;
        s.limits.failed_auth_per_minute = 2;
    })
    .await;
    let calculate = || app.client.get(app.url("/api/v1/deadlines/calculate?received_on=2024-03-01")).send();
    for _ in 0..3 {
        assert_eq!(calculate().await.unwrap().status(), 200);
    }
    let res = calculate().await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "urn:foi-tracker:problem:too-many-requests");

    assert_eq!(app.get(&app.admin, "/api/v1/me").await.status(), 200);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.get("foi_guessed-token", "/api/v1/me").await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429], "refused once over the limit");
    let res = app.get(&app.admin, "/api/v1/me").await;
    assert_eq!(res.status(), 429, "a right guess after the limit is refused too");
    assert!(res.headers().contains_key("retry-after"));
}

/// `foi-tracker backup FILE` while the service registers requests: a consistent copy (its integrity
/// check and the audit of its event logs pass) holding the cases acknowledged before it began; an
/// existing file is never overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_sqlite_database_is_backed_up_consistently_while_requests_are_written() {
    let app = spawn_app(Backend::Sqlite).await;
    app.seed_city();
    for _ in 0..20 {
        assert_eq!(app.post_case(&app.admin, &intake("PJ")).await.status(), 201);
    }
    let acknowledged = app.case_count();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (client, url, token, stop) =
            (app.client.clone(), app.url("/api/v1/cases"), app.admin.clone(), stop.clone());
        tokio::spawn(async move {
            let mut written = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = client.post(&url).bearer_auth(&token).json(&intake("PJ")).send().await.unwrap();
                assert_eq!(res.status(), 201);
                written += 1;
            }
            written
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let backup = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
            .args(["backup", file.to_str().unwrap()])
            .env("FOI__DATABASE__URL", &app.database_url)
            .env("FOI_CONFIG_DIR", "/nonexistent")
            .output()
            .unwrap()
    };
    let out = backup(&file);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("integrity check passed"), "{printed}");
    let copy = open_database(&format!("sqlite://{}", file.display()));
    let mut conn = copy.conn().unwrap();
    let in_copy: i64 = {
        use foi_tracker::db::schema::cases;
        cases::table.count().get_result(&mut *conn).unwrap()
    };
    let audit = foi_tracker::service::audit::verify(&mut conn, foi_tracker::service::Caller::Operator).unwrap();
    println!("backup while writing: {in_copy} case(s) in the copy, {written} written during the run");
    assert!(in_copy >= acknowledged, "every case acknowledged before the backup is in it");
    assert_eq!(audit.cases_checked, in_copy);
    assert!(audit.broken.is_empty(), "{:?}", audit.broken);
    let again = backup(&file);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"), "never overwritten");
}
