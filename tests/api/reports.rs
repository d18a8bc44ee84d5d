//! Annual reports: the Panjin 2015 table reproduced from 103 cases entered through the API, and the
//! national formats' conservation law.

use foi_tracker::db::calendar::CalendarCache;
use foi_tracker::domain::report::ReportFormat;
use foi_tracker::domain::role::Role;
use foi_tracker::service::reports::{self, ReportRequest};
use foi_tracker::service::Caller;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    the_seed_reports_statistics_table_is_reproduced_from_case_records,
    reports_check_their_input,
    a_locked_year_keeps_its_published_numbers,
    carry_over_counts_long_open_cases_at_every_years_boundary,
);

/// The seed's table as published: (label, unit, value) per row.
pub(crate) fn seed_table() -> Vec<(String, String, String)> {
    include_str!("../fixtures/panjin-2015-statistics.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            (cells[0].to_owned(), cells[1].to_owned(), cells[2].to_owned())
        })
        .collect()
}

async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let res = app.client.post(app.url(path)).bearer_auth(&app.admin).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "POST {path}: {}", res.status());
    res.json().await.unwrap()
}

async fn put(app: &TestApp, path: &str, body: Value) {
    let res = app.client.put(app.url(path)).bearer_auth(&app.admin).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "PUT {path}: {}", res.status());
}

/// The city of the seed, through the API: the government, two districts, a department, the topics.
pub(crate) async fn city(app: &TestApp) {
    post(app, "/api/v1/agencies", json!({"code": "PJ", "name": "盘锦市人民政府"})).await;
    for (code, name) in
        [("PJ-XLT", "兴隆台区人民政府"), ("PJ-DW", "大洼区人民政府"), ("PJ-ZJJ", "盘锦市住房和城乡建设局")]
    {
        post(app, "/api/v1/agencies", json!({"code": code, "name": name, "parent": "PJ"})).await;
    }
    for (code, label) in [
        ("urban", "城建环保类"),
        ("farming", "农林水类"),
        ("livelihood", "民本民生类"),
        ("labour", "劳动人事类"),
        ("other", "其他类"),
    ] {
        put(app, &format!("/api/v1/agencies/PJ/topics/{code}"), json!({ "label": label })).await;
    }
}

async fn the_seed_reports_statistics_table_is_reproduced_from_case_records(app: TestApp) {
    city(&app).await;
    let agencies = ["PJ", "PJ-XLT", "PJ-DW", "PJ-ZJJ"];
    let topic_of = |i: usize| match i {
        0..64 => "urban",
        64..75 => "farming",
        75..87 => "livelihood",
        87..98 => "labour",
        _ => "other",
    };
    let mut ids = Vec::new();
    for i in 0..103usize {
        let agency = agencies[i % agencies.len()];
        let mut body = intake(agency);
        body["channel"] = json!(match i {
            0..3 => "fax",
            3..13 => "web",
            _ => "letter",
        });
        let arrived = chrono::NaiveDate::from_ymd_opt(2015, 3, 2).unwrap() + chrono::Duration::days(2 * i as i64);
        body["arrived_at"] = json!(format!("{arrived}T10:00:00+08:00"));
        body["topic"] = json!(topic_of(i));
        body["applicant"]["name"] = json!(format!("申请人{i}"));
        let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
        let id = case["id"].as_str().unwrap().to_owned();
        let mut serve_on = case["deadline"]["due_on"].as_str().unwrap().to_owned();
        // Ten replies under an approved extension (延期办结), the rest by the plain deadline.
        if (50..60).contains(&i) {
            let approver = app.token(Role::Approver, agency);
            let res = app
                .client
                .post(app.url(&format!("/api/v1/cases/{id}/clock-events")))
                .bearer_auth(&approver)
                .header("If-Match", app.etag(&id).await)
                .json(&json!({"event": {"type": "extension_approved", "on": case["received_on"], "days": 5, "reason": "需调取档案", "applicant_notified_on": case["received_on"]}}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            let extended: Value = res.json().await.unwrap();
            serve_on = extended["deadline"]["final_due_on"].as_str().unwrap().to_owned();
        }
        let outcome = match i {
            100 => json!({"kind": "partly_disclosed"}),
            101 => json!({"kind": "withheld", "reason": "not_government_information"}),
            102 => json!({"kind": "unable", "reason": "does_not_exist"}),
            _ => json!({"kind": "disclosed", "already_public": true}),
        };
        app.reply(&id, agency, &serve_on, outcome).await;
        ids.push((id, agency));
    }
    // Five reconsiderations: three upheld, two corrected.
    for (n, &(ref id, agency)) in [&ids[100], &ids[101], &ids[102], &ids[0], &ids[1]].into_iter().enumerate() {
        let handler = app.token(Role::Handler, agency);
        let file = json!({"action": {"type": "file_appeal", "kind": "reconsideration", "filed_on": "2015-12-01"}});
        app.act_ok(&handler, id, file).await;
        let outcome = if n < 3 { "upheld" } else { "corrected" };
        let decide =
            json!({"action": {"type": "decide_appeal", "number": 1, "outcome": outcome, "decided_on": "2015-12-20"}});
        app.act_ok(&handler, id, decide).await;
    }

    // Every cell of the export equals the seed's table, in the seed's order.
    let statistician = app.token(Role::Statistician, "PJ");
    let res = app.get(&statistician, "/api/v1/reports/pre2019/2015?agency=PJ&subtree=true&output=csv").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'));
    let exported: Vec<(String, String, String)> = csv
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|cells| cells.len() == 3 && (cells[1] == "件" || cells[1] == "万元" || cells[1] == "—"))
        .map(|cells| (cells[0].clone(), cells[1].clone(), cells[2].clone()))
        .collect();
    assert_eq!(exported, seed_table());

    // The JSON: the same numbers, the checks, and the topic counts of the report text.
    let report = app.get_json(&statistician, "/api/v1/reports/pre2019/2015?agency=PJ&subtree=true").await;
    assert!(report["checks"].as_array().unwrap().iter().all(|c| c["holds"] == true), "{}", report["checks"]);
    let topics: Vec<(String, i64)> = report["extras"]["by_topic"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["label"].as_str().unwrap().to_owned(), t["count"].as_i64().unwrap()))
        .collect();
    let mut topics = topics;
    topics.sort_by_key(|(_, n)| -n);
    assert_eq!(
        topics,
        [("城建环保类", 64), ("民本民生类", 12), ("农林水类", 11), ("劳动人事类", 11), ("其他类", 5)]
            .map(|(l, n)| (l.to_owned(), n))
    );
    assert_eq!(report["extras"]["closings"]["on_time"], 93);
    assert_eq!(report["extras"]["closings"]["extended"], 10);
    assert_eq!(report["extras"]["oldest_open"], json!([]));
    assert!(report["extras"]["reply_times"]["median_working_days"].as_i64().unwrap() >= 15);

    // The 2021 table of the same year: all 103 new, all closed, nothing carried.
    let national = app.get_json(&statistician, "/api/v1/reports/y2021/2015?agency=PJ&subtree=true").await;
    let rows = national["tables"][0]["rows"].as_array().unwrap();
    let row = |code: &str| rows.iter().find(|r| r["code"] == code).unwrap()["values"].clone();
    assert_eq!(row("received"), json!([103, 0, 0, 0, 0, 0, 103]));
    assert_eq!(row("disclosed"), json!([100, 0, 0, 0, 0, 0, 100]));
    assert_eq!(row("unable_not_held"), json!([2, 0, 0, 0, 0, 0, 2]));
    assert_eq!(row("total"), json!([103, 0, 0, 0, 0, 0, 103]));
    assert_eq!(row("carried_forward"), json!([0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(national["tables"][1]["rows"][0]["values"].as_array().unwrap()[0..5], [3, 2, 0, 0, 5].map(|n| json!(n)));
    assert!(national["checks"].as_array().unwrap().iter().all(|c| c["holds"] == true));
    // Read in one connection, or in two halves at once (PostgreSQL, with a second connection for
    // the closings): the same report as the API's.
    let request =
        ReportRequest { agency: "PJ".to_owned(), subtree: true, format: ReportFormat::Y2021, year: 2015, live: false };
    let calendars = CalendarCache::default();
    let mut conn = app.db.conn().unwrap();
    let mut helper = app.db.helper();
    assert_eq!(helper.is_some(), app.db.backend_name() == "postgres");
    let in_halves = reports::report(&mut conn, helper.as_deref_mut(), &calendars, Caller::Operator, &request).unwrap();
    let in_one = reports::report(&mut conn, None, &calendars, Caller::Operator, &request).unwrap();
    assert_eq!(in_halves, in_one);
    assert_eq!(serde_json::to_value(&in_one).unwrap(), national);
    drop((conn, helper));
    // One agency alone, and the spreadsheet.
    let alone = app.get_json(&statistician, "/api/v1/reports/pre2019/2015?agency=PJ").await;
    assert_eq!(alone["tables"][0]["rows"][1]["values"], json!([26]));
    let res = app.get(&statistician, "/api/v1/reports/y2019/2015?agency=PJ&subtree=true&output=xlsx").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], foi_tracker::service::reports::XLSX_MEDIA_TYPE);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));
}

async fn reports_check_their_input(app: TestApp) {
    app.seed_city();
    let district = app.token(Role::Statistician, "PJ-XLT");
    for (path, status, slug) in [
        ("/api/v1/reports/pre2020/2015?agency=PJ", 404, "not-found"),
        ("/api/v1/reports/y2021/1999?agency=PJ", 422, "validation"),
        ("/api/v1/reports/y2021/20x5?agency=PJ", 422, "validation"),
        ("/api/v1/reports/y2021/2021", 422, "validation"),
        ("/api/v1/reports/y2021/2021?agency=NOPE", 422, "validation"),
        ("/api/v1/reports/y2021/2021?agency=PJ-XLT&output=pdf", 422, "validation"),
        ("/api/v1/reports/y2021/2021?agency=PJ", 403, "forbidden"),
    ] {
        assert_problem(app.get(&district, path).await, status, slug).await;
    }
    let empty = app.get_json(&district, "/api/v1/reports/y2021/2021?agency=PJ-XLT").await;
    assert!(empty["checks"].as_array().unwrap().iter().all(|c| c["holds"] == true));
    assert_eq!(empty["agency"], "PJ-XLT");
    assert_eq!(empty["subtree"], false);
    // A case carried over from 2020 into 2021 and still open at the end of 2021.
    let mut body = intake("PJ-XLT");
    body["arrived_at"] = json!("2020-12-28T10:00:00+08:00");
    assert_eq!(app.post_case(&app.admin, &body).await.status(), 201);
    let r = app.get_json(&district, "/api/v1/reports/y2021/2021?agency=PJ-XLT").await;
    let rows = r["tables"][0]["rows"].as_array().unwrap();
    let row = |code: &str| rows.iter().find(|r| r["code"] == code).unwrap()["values"][6].clone();
    assert_eq!(
        (row("received"), row("carried_in"), row("total"), row("carried_forward")),
        (json!(0), json!(1), json!(0), json!(1))
    );
    assert_eq!(r["extras"]["oldest_open"][0]["tracking_number"], "PJ-XLT-2020-00001");
}

fn cli_report(app: &TestApp, args: &[&str], output: &std::path::Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .arg("report")
        .args(args)
        .arg("--output")
        .arg(output)
        .env("FOI__DATABASE__URL", &app.database_url)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn a_locked_year_keeps_its_published_numbers(app: TestApp) {
    app.seed_city();
    let statistician = app.token(Role::Statistician, "PJ");
    let approver = app.token(Role::Approver, "PJ");
    let me = app.user_id(&approver).await;
    let new_case = |date: &str| {
        let mut body = intake("PJ");
        body["arrived_at"] = json!(format!("{date}T10:00:00+08:00"));
        body
    };
    let replied: Value = app.post_case(&app.admin, &new_case("2015-03-02")).await.json().await.unwrap();
    app.reply(replied["id"].as_str().unwrap(), "PJ", "2015-03-10", json!({"kind": "disclosed"})).await;
    let open: Value = app.post_case(&app.admin, &new_case("2015-11-02")).await.json().await.unwrap();
    let open = open["id"].as_str().unwrap().to_owned();

    // Who may lock, and what.
    let lock = |year: i32| json!({"agency": "PJ", "year": year, "subtree": true});
    let post_lock = |token: String, body: Value| {
        let request = app.client.post(app.url("/api/v1/reports/locks")).bearer_auth(token).json(&body);
        async move { request.send().await.unwrap() }
    };
    assert_problem(post_lock(app.token(Role::Clerk, "PJ"), lock(2015)).await, 403, "forbidden").await;
    assert_problem(post_lock(statistician.clone(), lock(2099)).await, 422, "validation").await;
    assert_problem(post_lock(app.token(Role::Statistician, "PJ-XLT"), lock(2015)).await, 403, "forbidden").await;
    let res = post_lock(statistician.clone(), lock(2015)).await;
    assert_eq!(res.status(), 201);
    assert_problem(post_lock(statistician.clone(), lock(2015)).await, 409, "conflict").await;
    let path = "/api/v1/reports/pre2019/2015?agency=PJ&subtree=true";
    let published = app.get_json(&statistician, path).await;
    assert_eq!(published["lock"]["published_numbers"], true);

    // Work that leaves 2015's numbers alone goes on; a reply back-dated into 2015 does not.
    for action in [
        json!({"type": "assign", "handler_id": me}),
        json!({"type": "draft_reply", "outcome": {"kind": "disclosed"}}),
        json!({"type": "approve_reply"}),
    ] {
        app.act_ok(&approver, &open, json!({ "action": action })).await;
    }
    let events_before = app.get_json(&app.admin, &format!("/api/v1/cases/{open}/events")).await;
    let serve = |on: &str| json!({"action": {"type": "serve", "on": on, "method": "post"}});
    let problem = assert_problem(app.act(&approver, &open, serve("2015-12-20")).await, 409, "report-locked").await;
    assert!(problem["detail"].as_str().unwrap().contains("2015"), "{problem}");
    assert_eq!(app.get_json(&app.admin, &format!("/api/v1/cases/{open}/events")).await, events_before);
    // A request registered now with a 2015 receipt date would change it too.
    assert_problem(app.post_case(&app.admin, &new_case("2015-06-01")).await, 409, "report-locked").await;
    assert_eq!(app.case_count(), 2);
    // Only an administrator may override, with a reason; the change is recorded as a correction.
    let reason = reqwest::header::HeaderValue::from_bytes("补录：2015年漏登的来信".as_bytes()).unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/cases"))
        .bearer_auth(app.token(Role::Clerk, "PJ"))
        .header("Report-Lock-Override", reason.clone())
        .json(&new_case("2015-06-01"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .client
        .post(app.url("/api/v1/cases"))
        .bearer_auth(&app.admin)
        .header("Report-Lock-Override", reason)
        .json(&new_case("2015-06-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // Replying in 2016 leaves 2015 alone (the case was carried forward either way).
    app.act_ok(&approver, &open, serve("2016-01-05")).await;

    let after = app.get_json(&statistician, path).await;
    assert_eq!(after["tables"], published["tables"], "the published numbers stay as published");
    let corrections = after["lock"]["corrections"].as_array().unwrap();
    assert_eq!(corrections.len(), 1);
    assert_eq!(corrections[0]["reason"], "补录：2015年漏登的来信");
    assert_eq!(corrections[0]["events"], "registered");
    let live = app.get_json(&statistician, &format!("{path}&live=true")).await;
    assert_eq!(live["lock"]["published_numbers"], false);
    assert_eq!(live["tables"][0]["rows"][1]["values"], json!([3]), "received, now with the late registration");
    assert_eq!(published["tables"][0]["rows"][1]["values"], json!([2]));

    // The command line exports the same report as the API.
    let dir = tempfile::tempdir().unwrap();
    let json_file = dir.path().join("pj-2015.json");
    let printed =
        cli_report(&app, &["--format", "pre2019", "--year", "2015", "--agency", "PJ", "--subtree"], &json_file);
    assert!(printed.contains("0 check(s) failing"), "{printed}");
    let from_cli: Value = serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    assert_eq!(from_cli, after);
    let csv_file = dir.path().join("pj-2021.csv");
    cli_report(&app, &["--format", "y2021", "--year", "2016", "--agency", "PJ"], &csv_file);
    let api_csv = app.get(&statistician, "/api/v1/reports/y2021/2016?agency=PJ&output=csv").await.text().await.unwrap();
    assert_eq!(std::fs::read_to_string(&csv_file).unwrap(), api_csv);
    let xlsx_file = dir.path().join("pj.xlsx");
    cli_report(&app, &["--format", "y2019", "--year", "2016", "--agency", "PJ"], &xlsx_file);
    assert!(std::fs::read(&xlsx_file).unwrap().starts_with(b"PK"));
}

/// Carried in and forward across several years: a case still open after two years, one closed 455
/// days after receipt (both read through the long-lived index), one crossing a single New Year and
/// one opened and closed within a year.
async fn carry_over_counts_long_open_cases_at_every_years_boundary(app: TestApp) {
    app.seed_city();
    let register = |arrived: &'static str| {
        let app = &app;
        async move {
            let mut body = intake("PJ-XLT");
            body["arrived_at"] = json!(format!("{arrived}T10:00:00+08:00"));
            let res = app.post_case(&app.admin, &body).await;
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        }
    };
    let disclosed = json!({"kind": "disclosed"});
    register("2019-06-03").await; // never answered
    let long_lived = register("2019-06-04").await;
    app.reply(&long_lived, "PJ-XLT", "2020-09-01", disclosed.clone()).await;
    let new_year = register("2020-12-28").await;
    app.reply(&new_year, "PJ-XLT", "2021-01-05", disclosed.clone()).await;
    let within = register("2021-03-01").await;
    app.reply(&within, "PJ-XLT", "2021-03-05", disclosed.clone()).await;
    // Open at New Year 2022: one received more than 90 days before (read from the long-lived
    // index), one received within them (read from the receipts).
    let slow = register("2021-09-01").await;
    app.reply(&slow, "PJ-XLT", "2022-02-08", disclosed.clone()).await;
    let late_autumn = register("2021-11-01").await;
    app.reply(&late_autumn, "PJ-XLT", "2022-01-20", disclosed).await;

    let statistician = app.token(Role::Statistician, "PJ-XLT");
    let mut numbers = Vec::new();
    for year in [2019, 2020, 2021, 2022] {
        let r = app.get_json(&statistician, &format!("/api/v1/reports/y2021/{year}?agency=PJ-XLT")).await;
        let rows = r["tables"][0]["rows"].as_array().unwrap();
        let row = |code: &str| rows.iter().find(|r| r["code"] == code).unwrap()["values"][6].as_i64().unwrap();
        let oldest: Vec<String> = r["extras"]["oldest_open"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["tracking_number"].as_str().unwrap().to_owned())
            .collect();
        numbers.push((year, row("received"), row("carried_in"), row("carried_forward"), oldest));
    }
    let n = |seq: &str| format!("PJ-XLT-{seq}");
    assert_eq!(
        numbers,
        [
            (2019, 2, 0, 2, vec![n("2019-00001"), n("2019-00002")]),
            (2020, 1, 2, 2, vec![n("2019-00001"), n("2020-00001")]),
            (2021, 3, 2, 3, vec![n("2019-00001"), n("2021-00002"), n("2021-00003")]),
            (2022, 0, 3, 1, vec![n("2019-00001")]),
        ]
    );
}
