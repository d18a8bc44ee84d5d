//! Finding a case the way people ask for it: by tracking number, by the applicant's phone, e-mail or
//! ID number however typed, and by the list's filters and orders, page by page.

use diesel::prelude::*;
use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    a_case_is_found_by_its_tracking_number,
    a_case_is_found_by_the_applicants_phone_email_or_id_number_however_typed,
    filters_select_states_topics_kinds_closings_and_near_deadlines_with_a_total,
    every_order_pages_through_all_cases_once,
    search_keys_of_earlier_cases_are_filled_by_migrate,
    text_search_finds_chinese_substrings_and_follows_amendments,
    the_case_ledger_exports_every_selected_case_as_csv_and_xlsx,
);

/// Registers a case at PJ on `date` (09:30 China time); the case.
async fn case_on(app: &TestApp, date: &str, adjust: impl FnOnce(&mut Value)) -> Value {
    let mut body = intake("PJ");
    body["arrived_at"] = json!(format!("{date}T09:30:00+08:00"));
    adjust(&mut body);
    let res = app.post_case(&app.admin, &body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

fn numbers(list: &Value) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|c| c["tracking_number"].as_str().unwrap().to_owned()).collect()
}

async fn a_case_is_found_by_its_tracking_number(app: TestApp) {
    app.seed_city();
    let case = case_on(&app, "2024-03-01", |_| {}).await;
    let number = case["tracking_number"].as_str().unwrap();
    let res = app.get(&app.admin, &format!("/api/v1/cases/by-number/{number}")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("etag"));
    let found: Value = res.json().await.unwrap();
    assert_eq!(found["id"], case["id"]);
    assert_problem(app.get(&app.admin, "/api/v1/cases/by-number/PJ-2024-99999").await, 404, "not-found").await;
    // Outside the caller's subtree it does not exist.
    let district = app.token(Role::Clerk, "PJ-XLT");
    assert_problem(app.get(&district, &format!("/api/v1/cases/by-number/{number}")).await, 404, "not-found").await;
    // `q` matches tracking numbers too, in any case.
    let list = app.get_json(&app.admin, &format!("/api/v1/cases?q={}", number.to_lowercase())).await;
    assert_eq!(numbers(&list), [number]);
}

async fn a_case_is_found_by_the_applicants_phone_email_or_id_number_however_typed(app: TestApp) {
    app.seed_city();
    let wanted = case_on(&app, "2024-03-01", |b| {
        b["applicant"]["phone"] = json!("157 0427 1234");
        b["applicant"]["email"] = json!("Zhang.San@Example.CN");
        b["applicant"]["id_number"] = json!("21110219800101123x");
    })
    .await;
    case_on(&app, "2024-03-01", |b| {
        b["applicant"]["phone"] = json!("13800000000");
        b["applicant"]["id_number"] = json!("211102198001011234");
    })
    .await;
    for query in [
        "phone=%2B86-157-0427-1234",
        "phone=15704271234",
        "email=zhang.san%40example.cn",
        "id_number=21110219800101123X",
        "id_number=2111%200219%208001%200112%203x",
    ] {
        let list = app.get_json(&app.admin, &format!("/api/v1/cases?{query}")).await;
        assert_eq!(numbers(&list), [wanted["tracking_number"].as_str().unwrap()], "{query}");
    }
    assert!(numbers(&app.get_json(&app.admin, "/api/v1/cases?phone=1570427").await).is_empty(), "exact, not partial");
    assert_problem(app.get(&app.admin, "/api/v1/cases?phone=--").await, 422, "validation").await;
    // A role that sees personal data masked may not search by it.
    let statistician = app.token(Role::Statistician, "PJ");
    assert_problem(app.get(&statistician, "/api/v1/cases?phone=15704271234").await, 403, "forbidden").await;
}

async fn filters_select_states_topics_kinds_closings_and_near_deadlines_with_a_total(app: TestApp) {
    app.seed_city();
    let today = foi_tracker::domain::china_date(chrono::Utc::now());
    let recent = (today - chrono::Duration::days(1)).to_string();
    let open_now = case_on(&app, &recent, |b| b["topic"] = json!("urban")).await;
    let business = case_on(&app, "2024-03-01", |b| b["applicant"]["kind"] = json!("business")).await;
    let withdrawn = case_on(&app, "2024-03-01", |_| {}).await;
    let clerk = app.token(Role::Clerk, "PJ");
    app.act_ok(
        &clerk,
        withdrawn["id"].as_str().unwrap(),
        json!({"action": {"type": "withdraw", "on": "2024-03-05"}, "reason": "申请人撤回"}),
    )
    .await;
    let number = |c: &Value| c["tracking_number"].as_str().unwrap().to_owned();
    let get = |query: &'static str| app.get_json(&app.admin, query);
    assert_eq!(numbers(&get("/api/v1/cases?topic=urban").await), [number(&open_now)]);
    assert_eq!(numbers(&get("/api/v1/cases?applicant_kind=business").await), [number(&business)]);
    assert_eq!(numbers(&get("/api/v1/cases?open=false").await), [number(&withdrawn)]);
    assert_eq!(numbers(&get("/api/v1/cases?closed_from=2024-03-01&closed_to=2024-03-31").await), [number(&withdrawn)]);
    let several = get("/api/v1/cases?state=withdrawn,registered&count=true&limit=1").await;
    assert_eq!(several["total"], 3);
    assert_eq!(several["items"].as_array().unwrap().len(), 1);
    assert!(get("/api/v1/cases").await["total"].is_null(), "no total unless asked");
    // Due within 30 working days: the case received yesterday (due in about 20) and the overdue one
    // (its deadline is past, so nearer still); never the withdrawn one.
    let near = get("/api/v1/cases?due_within=30&sort=due").await;
    assert_eq!(numbers(&near), [number(&business), number(&open_now)]);
    let within_five = get("/api/v1/cases?due_within=5").await;
    assert_eq!(numbers(&within_five), [number(&business)], "only the overdue one is within five days");
    assert_problem(app.get(&app.admin, "/api/v1/cases?state=registered,asleep").await, 422, "validation").await;
    assert_problem(app.get(&app.admin, "/api/v1/cases?due_within=61").await, 422, "validation").await;
}

async fn every_order_pages_through_all_cases_once(app: TestApp) {
    app.seed_city();
    for day in ["2024-03-04", "2024-03-01", "2024-03-06", "2024-03-01", "2024-03-05"] {
        case_on(&app, day, |_| {}).await;
    }
    for sort in ["newest", "due", "received", "tracking_number"] {
        let mut seen = Vec::new();
        let mut dates = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/cases?sort={sort}&limit=2");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = app.get_json(&app.admin, &path).await;
            for c in page["items"].as_array().unwrap() {
                seen.push(c["tracking_number"].as_str().unwrap().to_owned());
                dates.push((c["received_on"].as_str().unwrap().to_owned(), c["deadline"]["final_due_on"].clone()));
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 5, "{sort}: every case once: {seen:?}");
        match sort {
            "tracking_number" => assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}"),
            "received" => assert!(dates.windows(2).all(|w| w[0].0 >= w[1].0), "{dates:?}"),
            "due" => {
                let due: Vec<&str> = dates.iter().map(|d| d.1.as_str().unwrap()).collect();
                assert!(due.windows(2).all(|w| w[0] <= w[1]), "{due:?}");
            }
            _ => {}
        }
    }
    // A cursor of one order is refused by another.
    let page = app.get_json(&app.admin, "/api/v1/cases?sort=due&limit=2").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    assert_problem(
        app.get(&app.admin, &format!("/api/v1/cases?sort=received&cursor={cursor}")).await,
        422,
        "validation",
    )
    .await;
}

async fn search_keys_of_earlier_cases_are_filled_by_migrate(app: TestApp) {
    use foi_tracker::db::schema::cases;
    app.seed_city();
    let case = case_on(&app, "2024-03-01", |b| b["applicant"]["phone"] = json!("157-0427-1234")).await;
    // As a case registered before the search keys existed.
    {
        let mut conn = app.db.conn().unwrap();
        diesel::update(cases::table)
            .set((
                cases::applicant_phone_key.eq(None::<String>),
                cases::applicant_id_number_key.eq(None::<String>),
                cases::search_terms.eq(""),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    assert!(numbers(&app.get_json(&app.admin, "/api/v1/cases?phone=15704271234").await).is_empty());
    let by_text = "/api/v1/cases?q=%E9%81%93%E8%B7%AF"; // 道路, in the description
    assert!(numbers(&app.get_json(&app.admin, by_text).await).is_empty(), "no terms, not found");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .arg("migrate")
        .env("FOI__DATABASE__URL", &app.database_url)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let found = app.get_json(&app.admin, "/api/v1/cases?phone=15704271234").await;
    assert_eq!(numbers(&found), [case["tracking_number"].as_str().unwrap()]);
    assert_eq!(numbers(&app.get_json(&app.admin, by_text).await), [case["tracking_number"].as_str().unwrap()]);
    let audit = app.get_json(&app.admin, "/api/v1/audit/verify").await;
    assert_eq!(audit["broken"], json!([]), "the filled row is its events' projection");
}

/// The ledger (台账): every case the filters select, over several pages of the export, one row each,
/// applicants masked; CSV with a BOM and XLSX; export-only parameters checked.
async fn the_case_ledger_exports_every_selected_case_as_csv_and_xlsx(app: TestApp) {
    app.seed_city();
    let pages = foi_tracker::service::ledger::PAGE as usize;
    // More cases than one page of the export reads, registered concurrently.
    let mut body = intake("PJ");
    body["arrived_at"] = json!("2024-03-01T09:30:00+08:00");
    body["applicant"]["name"] = json!("李四");
    for chunk in 0..((pages + 20) / 50 + 1) {
        let requests = (0..50).map(|_| app.post_case(&app.admin, &body));
        for res in futures_util::future::join_all(requests).await {
            assert_eq!(res.status(), 201, "chunk {chunk}");
        }
    }
    let total = app.case_count() as usize;
    assert!(total > pages);
    let res = app.get(&app.admin, "/api/v1/cases/export?sort=tracking_number").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("ledger-"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("\u{feff}受理编号,收到申请日期,受理渠道"), "{}", lines[0]);
    assert_eq!(lines.len(), total + 1, "a header and one row per case");
    assert!(lines[1].starts_with("PJ-2024-00001,2024-03-01,信函,自然人,李*,,已登记,"), "{}", lines[1]);
    assert!(lines[1].contains("已超期"), "{}", lines[1]);
    let mut numbers: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap()).collect();
    let sorted = numbers.clone();
    numbers.dedup();
    assert_eq!(numbers.len(), total, "every case once");
    assert_eq!(numbers, sorted, "in the order asked for");
    // Filters apply; export-only parameters are checked.
    let one = app.get(&app.admin, "/api/v1/cases/export?q=PJ-2024-00002").await.text().await.unwrap();
    assert_eq!(one.lines().count(), 2);
    assert_problem(app.get(&app.admin, "/api/v1/cases/export?limit=10").await, 422, "validation").await;
    assert_problem(app.get(&app.admin, "/api/v1/cases/export?format=pdf").await, 422, "validation").await;
    let district = app.token(Role::Statistician, "PJ-XLT");
    assert_problem(app.get(&district, "/api/v1/cases/export?agency=PJ-DW").await, 403, "forbidden").await;
    // XLSX: the same rows in the sheet 台账.
    let res = app.get(&app.admin, "/api/v1/cases/export?format=xlsx&q=PJ-2024-0000").await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("xl/worksheets/sheet1.xml").unwrap(), &mut sheet).unwrap();
    let mut workbook = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("xl/workbook.xml").unwrap(), &mut workbook).unwrap();
    assert!(workbook.contains("台账"));
    for n in 1..=9 {
        assert!(sheet.contains(&format!("PJ-2024-0000{n}")), "PJ-2024-0000{n} in the sheet");
    }
    assert!(sheet.contains("受理编号") && sheet.contains("李*") && !sheet.contains("李四"));
}

/// Free text is found through the search index (bigrams, single Chinese characters), then matched
/// exactly: any substring of two characters or more, a surname alone, never characters merely
/// present in another order; an amended description is found by its new words only.
async fn text_search_finds_chinese_substrings_and_follows_amendments(app: TestApp) {
    app.seed_city();
    let road = case_on(&app, "2024-03-01", |b| {
        b["description"] = json!("申请公开2023年中山路道路改造工程的环评报告");
        b["applicant"]["name"] = json!("吉祥");
    })
    .await;
    let other = case_on(&app, "2024-03-02", |b| {
        b["description"] = json!("造道路线图"); // 道路 and 改造's 造, but not 路改 or 改造
        b["applicant"]["name"] = json!("王五");
    })
    .await;
    let road_number = road["tracking_number"].as_str().unwrap().to_owned();
    let other_number = other["tracking_number"].as_str().unwrap().to_owned();
    let find = |q: &str| {
        let path = format!("/api/v1/cases?sort=tracking_number&q={}", urlencoding(q));
        let app = &app;
        async move { numbers(&app.get_json(&app.admin, &path).await) }
    };
    assert_eq!(find("环评").await, [road_number.as_str()]);
    assert_eq!(find("道路").await, [road_number.as_str(), other_number.as_str()]);
    assert_eq!(find("路改造").await, [road_number.as_str()]);
    assert_eq!(find("道路改造工程").await, [road_number.as_str()]);
    assert!(find("改道").await.is_empty(), "both characters present, never adjacent");
    assert!(find("造路").await.is_empty());
    assert_eq!(find("吉").await, [road_number.as_str()], "a surname alone");
    assert_eq!(find("2023").await, [road_number.as_str()]);
    assert_eq!(find(&road_number.to_lowercase()[3..]).await, [road_number.as_str()]);
    assert!(find("审计").await.is_empty());

    // An amended description is found by its new words, no longer by the old ones.
    let clerk = app.token(Role::Clerk, "PJ");
    let amend = json!({"action": {"type": "amend_registration", "description": "申请公开征地补偿方案"},
        "reason": "申请内容录入错误"});
    let res = app.act(&clerk, road["id"].as_str().unwrap(), amend).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(find("征地").await, [road_number.as_str()]);
    assert!(find("环评").await.is_empty());
    assert_eq!(find("道路").await, [other_number.as_str()]);
}

/// Percent-encodes a query value.
fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
