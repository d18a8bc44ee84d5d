//! Reads: one case, lists with filters and keyset paging, the event log, masking, scope.

use foi_tracker::db::cases;
use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    personal_data_is_whole_for_case_workers_and_masked_for_the_statistician,
    lists_are_always_masked,
    event_payloads_are_masked_for_the_statistician,
    list_filters_select_the_right_cases,
    keyset_pagination_visits_every_case_once,
    cases_outside_scope_are_invisible,
    the_case_row_is_the_projection_of_its_chained_events,
    case_reads_carry_an_etag,
);

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let res = app.post_case(token, body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn personal_data_is_whole_for_case_workers_and_masked_for_the_statistician(app: TestApp) {
    app.seed_city();
    let mut body = intake("PJ");
    body["applicant"]["email"] = json!("zhang.san@example.cn");
    let case = create(&app, &app.admin, &body).await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    for role in [Role::Clerk, Role::Handler, Role::Approver, Role::Admin] {
        let read = app.get_json(&app.token(role, "PJ"), &path).await;
        assert_eq!(read["personal_data_masked"], false, "{role}");
        assert_eq!(read["applicant"]["phone"], "15704271234", "{role}");
        assert_eq!(read["applicant"]["id_number"], "211102198001011234", "{role}");
    }
    let read = app.get_json(&app.token(Role::Statistician, "PJ"), &path).await;
    assert_eq!(read["personal_data_masked"], true);
    assert_eq!(read["applicant"]["name"], "张三");
    assert_eq!(read["applicant"]["phone"], "1570427****");
    assert_eq!(read["applicant"]["id_number"], "211102********1234");
    assert_eq!(read["applicant"]["email"], "z***@example.cn");
    assert_eq!(read["applicant"]["address"], "辽宁省盘锦市****");
}

async fn lists_are_always_masked(app: TestApp) {
    app.seed_city();
    create(&app, &app.admin, &intake("PJ")).await;
    for role in [Role::Clerk, Role::Statistician, Role::Admin] {
        let list = app.get_json(&app.token(role, "PJ"), "/api/v1/cases").await;
        let item = &list["items"][0];
        assert_eq!(item["personal_data_masked"], true, "{role}");
        assert_eq!(item["applicant"]["phone"], "1570427****", "{role}");
    }
}

async fn event_payloads_are_masked_for_the_statistician(app: TestApp) {
    app.seed_city();
    let case = create(&app, &app.admin, &intake("PJ")).await;
    let path = format!("/api/v1/cases/{}/events", case["id"].as_str().unwrap());
    let events = app.get_json(&app.token(Role::Statistician, "PJ"), &path).await;
    assert_eq!(events[0]["kind"], "received");
    assert_eq!(events[0]["payload"]["applicant"]["phone"], "1570427****");
    let events = app.get_json(&app.token(Role::Handler, "PJ"), &path).await;
    assert_eq!(events[0]["payload"]["applicant"]["phone"], "15704271234");
    assert_eq!(events[1]["kind"], "registered");
    assert_eq!(events[1]["payload"]["tracking_number"], case["tracking_number"]);
}

async fn list_filters_select_the_right_cases(app: TestApp) {
    app.seed_city();
    let specs = [
        ("PJ", "letter", "2015-03-02", "道路改造", "张三"),
        ("PJ", "web", "2015-03-10", "供水价格", "李四"),
        ("PJ-XLT", "fax", "2015-04-01", "学校招生 50%_名额", "王五"),
        ("PJ-DW", "email", "2015-05-01", "Road works", "Zhao Liu"),
    ];
    for (agency, channel, date, description, name) in specs {
        let mut body = intake(agency);
        body["channel"] = json!(channel);
        body["arrived_at"] = json!(format!("{date}T09:00:00+08:00"));
        body["description"] = json!(description);
        body["applicant"]["name"] = json!(name);
        create(&app, &app.admin, &body).await;
    }
    let numbers = |list: Value| -> Vec<String> {
        let mut v: Vec<String> =
            list["items"].as_array().unwrap().iter().map(|c| c["description"].as_str().unwrap().to_owned()).collect();
        v.sort();
        v
    };
    let admin = app.admin.clone();
    let q = |query: &'static str| {
        let admin = admin.clone();
        let app = &app;
        async move { numbers(app.get_json(&admin, &format!("/api/v1/cases?{query}")).await) }
    };
    assert_eq!(q("").await.len(), 4);
    assert_eq!(q("agency=PJ").await.len(), 4);
    assert_eq!(q("agency=PJ&subtree=false").await, ["供水价格", "道路改造"]);
    assert_eq!(q("agency=PJ-XLT").await, ["学校招生 50%_名额"]);
    assert_eq!(q("channel=web").await, ["供水价格"]);
    assert_eq!(q("state=registered").await.len(), 4);
    assert_eq!(q("state=received").await.len(), 0);
    assert_eq!(q("received_from=2015-03-10&received_to=2015-04-01").await, ["供水价格", "学校招生 50%_名额"]);
    assert_eq!(q("q=%E9%81%93%E8%B7%AF").await, ["道路改造"]); // 道路
    assert_eq!(q("q=%E6%9D%8E%E5%9B%9B").await, ["供水价格"]); // applicant 李四
    assert_eq!(q("q=road").await, ["Road works"]); // case-insensitive
    assert_eq!(q("q=ZHAO").await, ["Road works"]);
    assert_eq!(q("q=50%25_").await, ["学校招生 50%_名额"]); // wildcards match literally
                                                            // Nothing an index can look up: told so, not a scan of every case.
    let problem = assert_problem(app.get(&admin, "/api/v1/cases?q=%25").await, 422, "validation").await;
    assert!(problem["detail"].as_str().unwrap().contains("two letters or digits"), "{problem}");
}

async fn keyset_pagination_visits_every_case_once(app: TestApp) {
    app.seed_city();
    let mut created = Vec::new();
    for i in 0..7 {
        let mut body = intake("PJ");
        body["description"] = json!(format!("case {i}"));
        created.push(create(&app, &app.admin, &body).await["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/cases?limit=3&cursor={c}"),
            None => "/api/v1/cases?limit=3".to_owned(),
        };
        let page = app.get_json(&app.admin, &path).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created, "newest first, each exactly once");
}

async fn cases_outside_scope_are_invisible(app: TestApp) {
    app.seed_city();
    let city_case = create(&app, &app.admin, &intake("PJ")).await;
    let district_case = create(&app, &app.admin, &intake("PJ-XLT")).await;
    let district_clerk = app.token(Role::Clerk, "PJ-XLT");
    let city_path = format!("/api/v1/cases/{}", city_case["id"].as_str().unwrap());
    assert_problem(app.get(&district_clerk, &city_path).await, 404, "not-found").await;
    assert_problem(app.get(&district_clerk, &format!("{city_path}/events")).await, 404, "not-found").await;
    let list = app.get_json(&district_clerk, "/api/v1/cases").await;
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [district_case["id"].as_str().unwrap()]);
    assert_problem(app.get(&district_clerk, "/api/v1/cases?agency=PJ").await, 403, "forbidden").await;
    assert_problem(app.get(&district_clerk, "/api/v1/cases?agency=PJ-DW").await, 403, "forbidden").await;
    // The city's clerk sees both.
    let city_clerk = app.token(Role::Clerk, "PJ");
    assert_eq!(app.get_json(&city_clerk, "/api/v1/cases").await["items"].as_array().unwrap().len(), 2);
    // Agencies and topics follow the same scope.
    let agencies = app.get_json(&district_clerk, "/api/v1/agencies").await;
    assert_eq!(agencies.as_array().unwrap().len(), 1);
    assert_eq!(agencies[0]["parent"], "PJ");
    assert_problem(app.get(&district_clerk, "/api/v1/agencies/PJ/topics").await, 404, "not-found").await;
}

async fn the_case_row_is_the_projection_of_its_chained_events(app: TestApp) {
    app.seed_city();
    let case = create(&app, &app.admin, &intake("PJ")).await;
    let id = case["id"].as_str().unwrap().to_owned();
    let mut conn = app.db.conn().unwrap();
    let record = cases::find(&mut conn, &id).unwrap().unwrap();
    let events = cases::events(&mut conn, &id).unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(cases::verify_chain(&events), None);
    assert_eq!(cases::rebuild_row(&record.row, &events).unwrap(), record.row);
    // Tampering with a stored payload is caught at that event.
    let mut tampered = events.clone();
    tampered[0].payload = tampered[0].payload.replace("张三", "李四");
    assert_eq!(cases::verify_chain(&tampered), Some(1));
}

async fn case_reads_carry_an_etag(app: TestApp) {
    app.seed_city();
    let case = create(&app, &app.admin, &intake("PJ")).await;
    let res = app.get(&app.admin, &format!("/api/v1/cases/{}", case["id"].as_str().unwrap())).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}-3\"", case["id"].as_str().unwrap()));
}
