//! The `foi-tracker` binary: administration commands, first start, start-up errors, logs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{free_port, fresh_database, Backend};

fn foi(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .args(args)
        .env("FOI__DATABASE__URL", database_url)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .output()
        .expect("run foi-tracker")
}

fn stdout(output: &std::process::Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// What a `serve` process wrote to stderr (its log), collected as it runs.
type LogBuffer = std::sync::Arc<std::sync::Mutex<String>>;

/// Starts `serve`; returns the child, its address, what it printed on stdout at start-up and its log.
fn serve(database_url: &str, extra_env: &[(&str, &str)]) -> (std::process::Child, String, Vec<String>, LogBuffer) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .arg("serve")
        .env("FOI__DATABASE__URL", database_url)
        .env("FOI__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("FOI__SERVER__WORKERS", "1")
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .envs(extra_env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start serve");
    let address = format!("http://127.0.0.1:{port}");
    let log = LogBuffer::default();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        while stderr.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            sink.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    // Wait for readiness.
    let started = Instant::now();
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut lines = Vec::new();
    let out = child.stdout.take().unwrap();
    let mut reader = BufReader::new(out);
    // The banner, if any, is printed before the server listens; read what is there without blocking long.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            let _ = tx.send(line.trim_end().to_owned());
            line.clear();
        }
    });
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        lines.push(line);
    }
    (child, address, lines, log)
}

crate::with_each_backend!(
    first_start_prints_a_working_admin_token_once,
    cli_adds_agencies_topics_and_users_whose_token_works,
    logs_are_json_with_request_ids_and_no_personal_data,
    cli_sets_a_password_read_from_standard_input,
);

/// `foi-tracker` with `input` on its standard input.
fn foi_with_input(database_url: &str, args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .args(args)
        .env("FOI__DATABASE__URL", database_url)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run foi-tracker");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

async fn cli_sets_a_password_read_from_standard_input(backend: Backend) {
    use foi_tracker::service::accounts::{sign_in, SignIn};
    let (url, _dir) = fresh_database(backend);
    stdout(&foi(&url, &["migrate"]));
    stdout(&foi(&url, &["agency", "add", "PJ", "盘锦市人民政府"]));
    let out = stdout(&foi(&url, &["user", "add", "张伟", "--role", "clerk", "--agency", "PJ", "--login", "zhangwei"]));
    assert!(out.contains("signs in as `zhangwei`"), "{out}");
    // A one-word name is its own login by default; a namesake gets none.
    stdout(&foi(&url, &["user", "add", "李娜", "--role", "clerk", "--agency", "PJ"]));
    stdout(&foi(&url, &["user", "add", "李娜", "--role", "clerk", "--agency", "PJ"]));
    let users = stdout(&foi(&url, &["user", "list"]));
    assert_eq!(users.lines().filter(|l| l.contains(" 李娜 李娜 clerk")).count(), 1, "{users}");
    assert_eq!(users.lines().filter(|l| l.contains(" - 李娜 clerk")).count(), 1, "{users}");

    // Weak: refused, with the reason.
    let weak = foi_with_input(&url, &["user", "password", "zhangwei"], "password\n");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password:"), "{}", String::from_utf8_lossy(&weak.stderr));
    let empty = foi_with_input(&url, &["user", "password", "zhangwei"], "");
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no password on standard input"));
    let nobody = foi_with_input(&url, &["user", "password", "nobody"], "Panjin-2026-gk\n");
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no user signs in as `nobody`"));
    // The first line, without its line end (CRLF too), is the password.
    let out = stdout(&foi_with_input(&url, &["user", "password", "zhangwei"], "Panjin-2026-gk\r\nignored\n"));
    assert!(out.contains("password set for 张伟"), "{out}");

    let db = crate::helpers::open_database(&url);
    let mut conn = db.conn().unwrap();
    let attempt = |password: &str| SignIn {
        login: "zhangwei".into(),
        password: password.into(),
        client_address: None,
        user_agent: None,
    };
    let opened = sign_in(&mut conn, &attempt("Panjin-2026-gk")).expect("signs in");
    assert_eq!(opened.principal.name, "张伟");
    assert!(sign_in(&mut conn, &attempt("Panjin-2026-gk\r")).is_err());
}

async fn first_start_prints_a_working_admin_token_once(backend: Backend) {
    let (url, _dir) = fresh_database(backend);
    let (mut child, address, lines, _) = serve(&url, &[]);
    let token = lines.last().cloned().unwrap_or_default();
    assert!(token.starts_with("foi_"), "printed: {lines:?}");
    let me: Value = reqwest::Client::new()
        .get(format!("{address}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");
    child.kill().unwrap();
    child.wait().unwrap();
    // The second start has users: no new token.
    let (mut child, _, lines, _) = serve(&url, &[]);
    assert!(!lines.iter().any(|l| l.starts_with("foi_")), "printed again: {lines:?}");
    child.kill().unwrap();
    child.wait().unwrap();
}

async fn cli_adds_agencies_topics_and_users_whose_token_works(backend: Backend) {
    let (url, _dir) = fresh_database(backend);
    stdout(&foi(&url, &["migrate"]));
    stdout(&foi(&url, &["agency", "add", "PJ", "盘锦市人民政府", "--email", "gk@panjin.gov.cn"]));
    stdout(&foi(&url, &["agency", "add", "PJ-XLT", "兴隆台区", "--parent", "PJ"]));
    stdout(&foi(&url, &["agency", "topic", "PJ", "urban", "城建环保类"]));
    let list = stdout(&foi(&url, &["agency", "list"]));
    assert!(list.contains("PJ 盘锦市人民政府 gk@panjin.gov.cn") && list.contains("  PJ-XLT 兴隆台区"), "{list}");
    let out = stdout(&foi(&url, &["user", "add", "王芳", "--role", "clerk", "--agency", "PJ-XLT"]));
    let token = out.lines().last().unwrap().to_owned();
    assert!(token.starts_with("foi_"));
    // Addresses for reminders: the office mailbox and a user's, set and cleared later.
    stdout(&foi(&url, &["agency", "email", "PJ-XLT", "xlt@panjin.gov.cn"]));
    assert!(stdout(&foi(&url, &["agency", "list"])).contains("PJ-XLT 兴隆台区 xlt@panjin.gov.cn"));
    let users = stdout(&foi(&url, &["user", "list"]));
    let wang = users.lines().find(|l| l.contains("王芳")).unwrap().split(' ').next().unwrap().to_owned();
    stdout(&foi(&url, &["user", "email", &wang, "wangfang@panjin.gov.cn"]));
    assert!(stdout(&foi(&url, &["user", "list"])).contains("王芳 clerk PJ-XLT wangfang@panjin.gov.cn"));
    let bad = foi(&url, &["user", "email", &wang, "not-an-address"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("email:"), "{}", String::from_utf8_lossy(&bad.stderr));
    stdout(&foi(&url, &["agency", "email", "PJ-XLT"]));
    assert!(!stdout(&foi(&url, &["agency", "list"])).contains("xlt@panjin.gov.cn"));
    // Bad input is explained and fails.
    let bad = foi(&url, &["agency", "add", "pj", "x"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("code:"));
    let bad = foi(&url, &["user", "add", "x", "--role", "king"]);
    assert!(!bad.status.success());
    let bad = foi(&url, &["user", "add", "x", "--role", "clerk"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("must belong to an agency"));

    let (mut child, address, lines, _) = serve(&url, &[]);
    assert!(!lines.iter().any(|l| l.starts_with("foi_")), "a database with users prints no token");
    let me: Value = reqwest::Client::new()
        .get(format!("{address}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "clerk");
    assert_eq!(me["agency"], "PJ-XLT");
    child.kill().unwrap();
    child.wait().unwrap();
}

async fn logs_are_json_with_request_ids_and_no_personal_data(backend: Backend) {
    let (url, _dir) = fresh_database(backend);
    stdout(&foi(&url, &["agency", "add", "PJ", "盘锦市人民政府"]));
    let token = stdout(&foi(&url, &["user", "add", "clerk", "--role", "clerk", "--agency", "PJ"]))
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let (mut child, address, _, log) = serve(&url, &[("FOI__LOG__FORMAT", "json")]);
    let client = reqwest::Client::new();
    let body = serde_json::json!({
        "agency": "PJ", "channel": "web", "arrived_at": "2015-03-02T09:30:00+08:00",
        "applicant": {"kind": "natural_person", "name": "张三", "phone": "15704271234", "id_number": "211102198001011234"},
        "description": "道路", "delivery_form": "email"
    });
    let res = client
        .post(format!("{address}/api/v1/cases"))
        .bearer_auth(&token)
        .header("x-request-id", "trace-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = client
        .get(format!("{address}/api/v1/cases?q=15704271234"))
        .bearer_auth(&token)
        .header("x-request-id", "trace-2")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let log = log.lock().unwrap().clone();
    let request_lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["span"]["request_id"].is_string())
        .collect();
    let ids: Vec<&str> = request_lines.iter().map(|v| v["span"]["request_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"trace-1") && ids.contains(&"trace-2"), "{log}");
    for secret in ["15704271234", "211102198001011234", "张三"] {
        assert!(!log.contains(secret), "personal data in the log: {log}");
    }
}

/// Runs the binary with `env` (and no configuration directory unless given).
fn foi_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .args(args)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .envs(env.iter().copied())
        .output()
        .expect("run foi-tracker")
}

/// Misspelt settings and an environment without its file stop the start with the name at fault;
/// an unreachable or unopenable database is one clear error naming it, its password masked.
#[test]
fn operator_mistakes_are_one_clear_error_naming_what_is_wrong() {
    let refused = |out: std::process::Output, expected: &[&str]| {
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        for e in expected {
            assert!(err.contains(e), "`{e}` not in: {err}");
        }
        err
    };
    refused(foi_env(&["calendar", "list"], &[("FOI__DATABSE__URL", "x.db")]), &["unknown field `databse`"]);
    refused(foi_env(&["calendar", "list"], &[("FOI__MAIL__ENABLE", "true")]), &["unknown field `enable`", "mail"]);
    let config_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/config");
    refused(
        foi_env(&["calendar", "list"], &[("FOI_CONFIG_DIR", config_dir), ("FOI_ENV", "prodution")]),
        &["FOI_ENV=prodution", "prodution.toml", "production"],
    );
    let err = refused(
        foi_env(&["calendar", "list"], &[("FOI__DATABASE__URL", "postgres://clerk:s3cret@127.0.0.1:1/foi")]),
        &["cannot open the PostgreSQL database postgres://clerk:***@127.0.0.1:1/foi"],
    );
    assert!(!err.contains("s3cret"), "{err}");
    assert!(err.lines().filter(|l| !l.trim().is_empty()).count() <= 4, "one clear error, not a flood: {err}");
    refused(
        foi_env(&["calendar", "list"], &[("FOI__DATABASE__URL", "sqlite:///proc/no-such-dir/x.db")]),
        &["/proc/no-such-dir/x.db"],
    );
}

/// `foi-tracker calendar list | head -1`: the command ends quietly when its reader goes away.
#[test]
fn a_command_piped_into_a_reader_that_stops_ends_quietly() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pipe.db").display());
    stdout(&foi(&url, &["migrate"]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .args(["calendar", "list"])
        .env("FOI__DATABASE__URL", &url)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 8];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    assert_ne!(out.status.code(), Some(101), "no panic exit");
}

/// A notice file whose day name holds a NUL (or another control character) is refused, naming it.
#[test]
fn a_calendar_file_with_unstorable_text_is_refused_naming_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("notice.db").display());
    let file = dir.path().join("2031.json");
    std::fs::write(
        &file,
        r#"{"year":2031,"papers":[],"days":[{"name":"元\u0000旦","date":"2031-01-01","isOffDay":true}]}"#,
    )
    .unwrap();
    let out = foi(&url, &["calendar", "import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("days[0].name") && err.contains("control characters"), "{err}");
    assert!(!stdout(&foi(&url, &["calendar", "list"])).contains("2031"), "nothing imported");
}

/// `user token create|list|revoke` and `user deactivate|reactivate` from the command line.
#[test]
fn tokens_and_deactivation_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tokens.db").display());
    stdout(&foi(&url, &["agency", "add", "PJ", "盘锦市人民政府"]));
    stdout(&foi(&url, &["user", "add", "王芳", "--role", "clerk", "--agency", "PJ"]));
    let id = stdout(&foi(&url, &["user", "list"])).split(' ').next().unwrap().to_owned();
    let created = stdout(&foi(
        &url,
        &["user", "token", "create", &id, "--name", "统计导出", "--expires", "2099-01-01T00:00:00+08:00"],
    ));
    let secret = created.lines().last().unwrap().to_owned();
    assert!(secret.starts_with("foi_"), "{created}");
    let token_id = created.split(' ').nth(1).unwrap().to_owned();
    let listed = stdout(&foi(&url, &["user", "token", "list", &id]));
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.contains("统计导出") && listed.contains(&secret[..10]) && listed.contains("2098-12-31T16:00:00"),
        "{listed}"
    );
    stdout(&foi(&url, &["user", "token", "revoke", &id, &token_id]));
    assert!(stdout(&foi(&url, &["user", "token", "list", &id])).contains("(revoked)"));
    let again = foi(&url, &["user", "token", "revoke", &id, &token_id]);
    assert!(!again.status.success());
    stdout(&foi(&url, &["user", "deactivate", &id]));
    assert!(stdout(&foi(&url, &["user", "list"])).contains("(deactivated)"));
    stdout(&foi(&url, &["user", "reactivate", &id]));
    assert!(!stdout(&foi(&url, &["user", "list"])).contains("(deactivated)"));
}
