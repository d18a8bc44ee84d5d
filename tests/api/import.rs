//! Ledger import: a realistic ledger's dry-run report, the fixed file imported with the ledger's
//! business dates, a re-import that changes nothing, the same rows from an XLSX, and the 2015 seed's
//! 103 cases imported from a ledger reproducing the seed's statistics table cell for cell.

use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::TestApp;

crate::on_both_backends!(
    a_ledger_is_checked_row_by_row_then_imported_with_its_dates_and_again_changes_nothing,
    the_seed_cases_imported_from_a_ledger_reproduce_the_seed_table,
    administrators_import_over_http_and_get_the_report,
);

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn cases_of(app: &TestApp) -> Vec<Value> {
    let list = app.get_json(&app.admin, "/api/v1/cases?agency=PJ&limit=200").await;
    list["items"].as_array().cloned().unwrap_or_default()
}

async fn a_ledger_is_checked_row_by_row_then_imported_with_its_dates_and_again_changes_nothing(app: TestApp) {
    app.seed_city();
    // The ledger with bad rows: every problem is reported, nothing is written, dry run or not.
    for dry_run in [true, false] {
        let mut args = vec!["import", "cases", "--agency", "PJ"];
        if dry_run {
            args.push("--dry-run");
        }
        let bad = fixture("ledger-bad.csv");
        args.push(&bad);
        let out = app.cli(&args);
        assert!(!out.status.success(), "invalid rows fail the run");
        let report = stdout(&out);
        for expected in [
            "第4行\t收到申请日期\t2015-02-30\t不是可识别的日期",
            "第5行\t受理渠道\t飞鸽传书\t不是可识别的受理渠道",
            "第6行\t申请人\t\t必填 / is required",
            "第6行\t理由\t重复申请\t不是“不予公开”的理由 / is not a reason for outcome withheld",
            "第8行\t联系电话\t\t尚未答复的申请须有联系电话、电子邮箱或通信地址之一（条例第二十九条） / at least one of phone",
            "7 rows: 0 imported, 3 importable, 0 skipped, 4 invalid (5 problems)",
        ] {
            assert!(report.contains(expected), "{expected}\n{report}");
        }
        assert_eq!(app.case_count(), 0, "nothing written");
    }

    // The fixed ledger: a dry run says what would happen, the real run does it.
    let fixed = fixture("ledger-fixed.csv");
    let out = app.cli(&["import", "cases", "--agency", "PJ", "--dry-run", &fixed]);
    assert!(out.status.success(), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("7 rows: 0 imported, 7 importable, 0 skipped, 0 invalid"), "{}", stdout(&out));
    assert_eq!(app.case_count(), 0);
    let out = app.cli(&["import", "cases", "--agency", "PJ", &fixed]);
    assert!(out.status.success(), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("7 rows: 7 imported"), "{}", stdout(&out));
    assert_eq!(app.case_count(), 7);

    let cases = cases_of(&app).await;
    let by_evidence = |number: &str| {
        cases.iter().find(|c| c["receipt_evidence"].as_str().is_some_and(|e| e.ends_with(number))).cloned().unwrap()
    };
    // Served on the ledger's date, on time.
    let first = by_evidence("盘政依申请〔2015〕1号");
    assert_eq!((first["received_on"].clone(), first["served_on"].clone()), (json!("2015-03-02"), json!("2015-03-20")));
    assert_eq!(first["deadline"]["timeliness"]["status"], "on_time", "{first}");
    assert_eq!(first["outcome"], json!({"kind": "disclosed", "already_public": false}));
    assert!(first["tracking_number"].as_str().unwrap().starts_with("PJ-2015-"));
    // The extension the ledger records makes it 延期办结.
    let second = by_evidence("盘政依申请〔2015〕2号");
    assert_eq!(second["received_on"], "2015-03-04");
    assert_eq!(second["deadline"]["timeliness"]["status"], "extended", "{second}");
    assert_eq!(second["applicant"]["kind"], "business");
    assert_eq!(second["channel"], "letter");
    // An Excel serial date, and a case still open: it has its deadline and waits in the queue.
    let open = by_evidence("盘政依申请〔2015〕4号");
    assert_eq!((open["received_on"].clone(), open["state"].clone()), (json!("2015-03-06"), json!("registered")));
    assert!(open["deadline"]["final_due_on"].is_string());
    // The office's own number finds the case, as its tracking number does.
    let found = app
        .get_json(
            &app.admin,
            "/api/v1/cases/by-number/%E7%9B%98%E6%94%BF%E4%BE%9D%E7%94%B3%E8%AF%B7%E3%80%942015%E3%80%951%E5%8F%B7",
        )
        .await;
    assert_eq!(found["id"], first["id"]);
    let repeat = by_evidence("盘政依申请〔2015〕5号");
    assert_eq!(repeat["outcome"]["reason"], "repeat_request");
    assert_eq!(repeat["outcome"]["repeat_of_earlier"]["reference"], "前次申请：盘政依申请〔2014〕88号");

    // The history: the ledger's business dates, by the import actor, naming the file.
    let id = first["id"].as_str().unwrap();
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let steps: Vec<&Value> = events.as_array().unwrap().iter().filter(|e| e["kind"] == "workflow").collect();
    assert_eq!(steps.len(), 4, "assigned, drafted, approved, served: {events}");
    assert!(steps.iter().take(3).all(|s| s["payload"]["effective_on"] == "2015-03-20"), "{events}");
    assert!(steps.iter().all(|s| s["payload"]["reason"].as_str().unwrap().starts_with("台账导入：文件 ")));
    let actor = steps[0]["actor_id"].as_str().unwrap();
    let user = app.get_json(&app.admin, &format!("/api/v1/users/{actor}")).await;
    assert_eq!((user["name"].clone(), user["active"].clone()), (json!("台账导入"), json!(false)), "{user}");
    assert_eq!(app.get_json(&app.admin, "/api/v1/audit/verify").await["broken"], json!([]));

    // Again: every row is skipped, nothing changes.
    let out = app.cli(&["import", "cases", "--agency", "PJ", &fixed]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("7 rows: 0 imported, 0 importable, 7 skipped, 0 invalid"), "{}", stdout(&out));
    assert_eq!(app.case_count(), 7);

    // The same ledger as an XLSX workbook (with real date cells) reads the same rows.
    let text = std::fs::read_to_string(&fixed).unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (r, line) in text.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            let iso = chrono::NaiveDate::parse_from_str(cell, "%Y-%m-%d").ok();
            match iso {
                Some(day) if r > 0 => {
                    let at =
                        rust_xlsxwriter::ExcelDateTime::from_ymd(day.year() as u16, day.month() as u8, day.day() as u8)
                            .unwrap();
                    sheet.write_datetime_with_format(r as u32, c as u16, &at, &date).unwrap();
                }
                _ => {
                    sheet.write_string(r as u32, c as u16, cell).unwrap();
                }
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("台账.xlsx");
    book.save(&xlsx).unwrap();
    let out = app.cli(&["import", "cases", "--agency", "PJ", "--dry-run", xlsx.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("7 rows: 0 imported, 0 importable, 7 skipped, 0 invalid"), "{}", stdout(&out));
    // Only administrators import; the template is written for offices to fill in.
    let template = dir.path().join("template.xlsx");
    assert!(app.cli(&["import", "template", "--output", template.to_str().unwrap()]).status.success());
    let bytes = std::fs::read(&template).unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let _ = app.token(Role::Clerk, "PJ");
}

use chrono::Datelike;

async fn the_seed_cases_imported_from_a_ledger_reproduce_the_seed_table(app: TestApp) {
    crate::reports::city(&app).await;
    let topic = |i: usize| match i {
        0..64 => "城建环保类",
        64..75 => "农林水类",
        75..87 => "民本民生类",
        87..98 => "劳动人事类",
        _ => "其他类",
    };
    let mut csv = String::from("原编号,收到申请日期,受理渠道,申请人,申请内容,提供形式,主题,延期批准日期,延期天数,答复日期,送达方式,答复结果,理由,行政复议申请日期,行政复议结果,行政复议决定日期\n");
    for i in 0..103usize {
        let received = chrono::NaiveDate::from_ymd_opt(2015, 3, 2).unwrap() + chrono::Duration::days(2 * i as i64);
        let calc = app.get_json(&app.admin, &format!("/api/v1/deadlines/calculate?received_on={received}")).await;
        let channel = match i {
            0..3 => "传真",
            3..13 => "网络",
            _ => "信函",
        };
        // Ten replies under a 15-day extension approved on the day of receipt (延期办结).
        let (extension_on, days, replied) = if (50..60).contains(&i) {
            (received.to_string(), "15", calc["extended_due_on"].as_str().unwrap().to_owned())
        } else {
            (String::new(), "", calc["due_on"].as_str().unwrap().to_owned())
        };
        let (outcome, reason) = match i {
            100 => ("部分公开", ""),
            101 => ("不予公开", "不是《条例》所指政府信息"),
            102 => ("无法提供", "信息不存在"),
            _ => ("已主动公开", ""),
        };
        let appeal = match i {
            100..=102 => "2015-12-01,维持,2015-12-20",
            0 | 1 => "2015-12-01,纠正,2015-12-20",
            _ => ",,",
        };
        csv.push_str(&format!(
            "2015-{i:03},{received},{channel},申请人{i},2014年城区道路改造工程的招标文件,纸质,{},{extension_on},{days},{replied},邮寄,{outcome},{reason},{appeal}\n",
            topic(i)
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seed.csv");
    std::fs::write(&file, csv).unwrap();
    let out = app.cli(&["import", "cases", "--agency", "PJ", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("103 rows: 103 imported"), "{}", stdout(&out));

    let statistician = app.token(Role::Statistician, "PJ");
    let res = app.get(&statistician, "/api/v1/reports/pre2019/2015?agency=PJ&subtree=true&output=csv").await;
    let csv = res.text().await.unwrap();
    let exported: Vec<(String, String, String)> = csv
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|cells| cells.len() == 3 && (cells[1] == "件" || cells[1] == "万元" || cells[1] == "—"))
        .map(|cells| (cells[0].clone(), cells[1].clone(), cells[2].clone()))
        .collect();
    assert_eq!(exported, crate::reports::seed_table());
    let report = app.get_json(&statistician, "/api/v1/reports/pre2019/2015?agency=PJ&subtree=true").await;
    assert_eq!(report["extras"]["closings"]["on_time"], 93);
    assert_eq!(report["extras"]["closings"]["extended"], 10);
    assert!(report["checks"].as_array().unwrap().iter().all(|c| c["holds"] == true), "{}", report["checks"]);

    // The round trip: the ledger export, imported into an empty database, gives the same tables.
    let export =
        app.get(&app.admin, "/api/v1/cases/export?agency=PJ&subtree=true&format=csv").await.text().await.unwrap();
    let file = dir.path().join("export.csv");
    std::fs::write(&file, &export).unwrap();
    let backend = if app.database_url.starts_with("postgres") {
        crate::helpers::Backend::Postgres
    } else {
        crate::helpers::Backend::Sqlite
    };
    let other = crate::helpers::spawn_app(backend).await;
    crate::reports::city(&other).await;
    let out = other.cli(&["import", "cases", "--agency", "PJ", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("103 rows: 103 imported"), "{}", stdout(&out));
    let other_statistician = other.token(Role::Statistician, "PJ");
    for format in ["pre2019", "y2019", "y2021"] {
        let path = format!("/api/v1/reports/{format}/2015?agency=PJ&subtree=true");
        let (before, after) =
            (app.get_json(&statistician, &path).await, other.get_json(&other_statistician, &path).await);
        let cells = before.get("rows").or_else(|| before.get("tables")).expect("the report's table");
        assert!(cells.as_array().is_some_and(|c| !c.is_empty()), "{format}: {before}");
        assert_eq!(before, after, "{format}: every cell, check and extra");
    }
}

async fn upload(app: &TestApp, who: &str, query: &str, file: &str, mapping: Option<&str>) -> reqwest::Response {
    let bytes = std::fs::read(fixture(file)).unwrap();
    let mut form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(file.to_owned()));
    if let Some(mapping) = mapping {
        form = form.text("mapping", mapping.to_owned());
    }
    app.request_as(reqwest::Method::POST, &format!("/api/v1/agencies/PJ/imports{query}"), who)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn administrators_import_over_http_and_get_the_report(app: TestApp) {
    app.seed_city();
    // A dry run answers the report, problems and all.
    let res = upload(&app, &app.admin, "?dry_run=true", "ledger-bad.csv", None).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(
        (report["rows"].clone(), report["importable"].clone(), report["imported"].clone()),
        (json!(7), json!(3), json!(0))
    );
    assert_eq!(
        report["problems"][0],
        json!({"row": 4, "column": "收到申请日期", "value": "2015-02-30", "zh": "不是可识别的日期（如2026-11-27、2026/11/27、2026年11月27日）", "en": "is not a date (e.g. 2026-11-27, 2026/11/27, 2026年11月27日)"})
    );
    // A real run with invalid rows is a problem per row, and writes nothing.
    let problem =
        crate::helpers::assert_problem(upload(&app, &app.admin, "", "ledger-bad.csv", None).await, 422, "validation")
            .await;
    assert_eq!(problem["errors"][0]["path"], "row 4: 收到申请日期");
    assert!(
        problem["errors"][0]["message"].as_str().unwrap().starts_with("「2015-02-30」不是可识别的日期"),
        "{problem}"
    );
    assert_eq!(app.case_count(), 0);
    // The fixed ledger imports; again, it is all skipped.
    let res = upload(&app, &app.admin, "", "ledger-fixed.csv", None).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["imported"], 7);
    let res = upload(&app, &app.admin, "", "ledger-fixed.csv", None).await;
    let report: Value = res.json().await.unwrap();
    assert_eq!((report["imported"].clone(), report["skipped"].as_array().unwrap().len()), (json!(0), 7));
    // A mapping for an office's own words: here a bad one.
    let res =
        upload(&app, &app.admin, "?dry_run=true", "ledger-fixed.csv", Some("[words.channel]\n\"信鸽\" = \"pigeon\"\n"))
            .await;
    let problem = crate::helpers::assert_problem(res, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "mapping");
    // Only administrators import; anyone signed in gets the template.
    let clerk = app.token(Role::Clerk, "PJ");
    crate::helpers::assert_problem(
        upload(&app, &clerk, "?dry_run=true", "ledger-fixed.csv", None).await,
        403,
        "forbidden",
    )
    .await;
    let res = app.get(&clerk, "/api/v1/imports/template").await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut strings = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("xl/sharedStrings.xml").unwrap(), &mut strings).unwrap();
    assert!(
        strings.contains("原编号") && strings.contains("收到申请日期") && strings.contains("答复结果"),
        "{strings}"
    );
}
