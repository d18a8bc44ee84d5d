//! Annual reports: the Panjin 2015 table reproduced from 103 cases entered through the API, and the
//! national formats' conservation law.

use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(the_seed_reports_statistics_table_is_reproduced_from_case_records, reports_check_their_input);

/// The seed's table as published: (label, unit, value) per row.
fn seed_table() -> Vec<(String, String, String)> {
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
async fn city(app: &TestApp) {
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
    // One agency alone, and the spreadsheet.
    let alone = app.get_json(&statistician, "/api/v1/reports/pre2019/2015?agency=PJ").await;
    assert_eq!(alone["tables"][0]["rows"][1]["values"], json!([26]));
    let res = app.get(&statistician, "/api/v1/reports/y2019/2015?agency=PJ&subtree=true&output=xlsx").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], foi_tracker::export::XLSX_MEDIA_TYPE);
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
