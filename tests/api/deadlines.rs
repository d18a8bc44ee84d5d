//! Deadlines: the calculator, case deadlines, timeliness filters, calendar changes and recomputation.

use diesel::prelude::*;
use foi_tracker::db::schema::{calendar_days, calendar_notices, calendar_revision};
use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    calculator_reproduces_the_worked_examples_without_a_token,
    calculator_explains_skipped_and_make_up_days,
    calculator_refuses_bad_parameters,
    a_december_defined_by_the_next_years_notice_counts,
    registration_sets_the_deadline_and_the_case_explains_it,
    overdue_and_due_before_filters,
    a_national_day_edit_recomputes_open_cases_and_records_why,
    a_calendar_change_reads_only_the_open_cases_its_days_can_move,
    a_local_overlay_moves_only_its_subtree,
    unloaded_year_is_provisional_until_its_notice_is_imported,
    calendar_changes_need_the_right_role,
    cli_deadline_prints_the_same_json_as_the_api,
    a_local_regime_added_by_the_cli_governs_its_subtree_at_once,
);

async fn calc(app: &TestApp, query: &str) -> Value {
    let res = app.client.get(app.url(&format!("/api/v1/deadlines/calculate?{query}"))).send().await.unwrap();
    assert_eq!(res.status(), 200, "{query}");
    res.json().await.unwrap()
}

async fn calculator_reproduces_the_worked_examples_without_a_token(app: TestApp) {
    for (query, due, extended) in [
        ("received_on=2015-09-01&regime=ogi2008", "2015-09-23", "2015-10-20"),
        ("received_on=2015-09-30&regime=ogi2008", "2015-10-27", "2015-11-17"),
        ("received_on=2018-12-28&regime=ogi2008", "2019-01-21", "2019-02-14"),
        ("received_on=2024-09-27&regime=ogi2019", "2024-10-30", "2024-11-27"),
        // The regime follows the receipt date when not given.
        ("received_on=2024-09-27", "2024-10-30", "2024-11-27"),
    ] {
        let c = calc(&app, query).await;
        assert_eq!(c["due_on"], due, "{query}");
        assert_eq!(c["extended_due_on"], extended, "{query}");
        assert_eq!(c["provisional"], false, "{query}");
    }
    assert_eq!(calc(&app, "received_on=2019-05-14").await["regime"]["code"], "ogi2008");
    assert_eq!(calc(&app, "received_on=2019-05-15").await["regime"]["code"], "ogi2019");
}

async fn calculator_explains_skipped_and_make_up_days(app: TestApp) {
    let c = calc(&app, "received_on=2015-09-01&regime=ogi2008").await;
    let ex = &c["explanation"];
    assert_eq!(ex["counting_from"], "2015-09-01");
    let skipped = ex["skipped_days"].as_array().unwrap();
    let victory = "抗日战争暨世界反法西斯战争胜利70周年纪念日";
    for date in ["2015-09-03", "2015-09-04", "2015-09-05"] {
        assert!(skipped.contains(&json!({"date": date, "reason": "holiday", "name": victory})), "{date}");
    }
    assert!(skipped.contains(&json!({"date": "2015-09-12", "reason": "weekend", "name": null})));
    assert!(skipped.contains(&json!({"date": "2015-10-01", "reason": "holiday", "name": "国庆节"})));
    let make_up = ex["make_up_working_days"].as_array().unwrap();
    assert!(make_up.contains(&json!({"date": "2015-09-06", "name": victory})));
    assert!(make_up.contains(&json!({"date": "2015-10-10", "name": "国庆节"})));
}

async fn calculator_refuses_bad_parameters(app: TestApp) {
    for (query, path) in [
        ("", "received_on"),
        ("received_on=2015-02-30", "received_on"),
        ("received_on=2015-03-02&regime=ogi1999", "regime"),
        ("received_on=1990-01-01", "received_on"),
        ("received_on=2099-12-20&regime=ogi2019", "received_on"),
        ("received_on=2015-03-02&extra=1", "extra"),
    ] {
        let res = app.client.get(app.url(&format!("/api/v1/deadlines/calculate?{query}"))).send().await.unwrap();
        let problem = assert_problem(res, 422, "validation").await;
        assert_eq!(problem["errors"][0]["path"], path, "{query}");
    }
    let res =
        app.client.get(app.url("/api/v1/deadlines/calculate?received_on=2015-03-02&agency=NOPE")).send().await.unwrap();
    assert_problem(res, 404, "not-found").await;
}

async fn a_december_defined_by_the_next_years_notice_counts(app: TestApp) {
    // Saturday 2018-12-29 was a working day by the 2019 notice.
    let view = app.get_json(&app.admin, "/api/v1/calendar?from=2018-12-28&to=2019-01-02").await;
    let day = |date: &str| view["days"].as_array().unwrap().iter().find(|d| d["date"] == date).unwrap().clone();
    assert_eq!(day("2018-12-29")["working"], true);
    assert_eq!(day("2018-12-29")["kind"], "make_up_workday");
    assert_eq!(day("2018-12-30")["working"], false);
    assert_eq!(day("2018-12-31")["kind"], "holiday");
    assert_eq!(day("2019-01-01")["name"], "元旦");
    let loaded = view["loaded_years"].as_array().unwrap();
    assert_eq!(loaded.first().unwrap(), 2007);
    assert_eq!(loaded.last().unwrap(), 2026);
}

async fn registration_sets_the_deadline_and_the_case_explains_it(app: TestApp) {
    app.seed_city();
    let mut body = intake("PJ");
    body["arrived_at"] = json!("2015-09-01T10:00:00+08:00");
    let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
    assert_eq!(case["deadline"]["due_on"], "2015-09-23");
    assert_eq!(case["deadline"]["timeliness"]["status"], "overdue");
    let id = case["id"].as_str().unwrap();
    let d = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/deadline")).await;
    assert_eq!(d["deadline"]["regime"], "ogi2008");
    assert_eq!(d["deadline"]["due_on"], "2015-09-23");
    assert_eq!(d["deadline"]["final_due_on"], "2015-09-23");
    assert_eq!(d["deadline"]["clock"]["state"], "running");
    assert_eq!(d["timeliness"]["status"], "overdue");
    assert!(d["timeliness"]["working_days_overdue"].as_i64().unwrap() > 2000);
    assert_eq!(d["explanation"]["steps"][0]["kind"], "received");
    assert!(d["explanation"]["make_up_working_days"].as_array().unwrap().iter().any(|m| m["date"] == "2015-09-06"));
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    assert_eq!(events[2]["kind"], "deadline_set");
    assert_eq!(events[2]["payload"]["deadline"]["due_on"], "2015-09-23");
    assert_eq!(events[2]["payload"]["reason"], "registration");
}

async fn overdue_and_due_before_filters(app: TestApp) {
    app.seed_city();
    let mut old = intake("PJ");
    old["description"] = json!("old");
    app.post_case(&app.admin, &old).await;
    let mut fresh = intake("PJ");
    fresh["description"] = json!("fresh");
    fresh["arrived_at"] = json!(chrono::Utc::now().to_rfc3339());
    let fresh_case: Value = app.post_case(&app.admin, &fresh).await.json().await.unwrap();
    assert_eq!(fresh_case["deadline"]["timeliness"]["status"], "open");
    let descriptions = |list: Value| -> Vec<String> {
        list["items"].as_array().unwrap().iter().map(|c| c["description"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(descriptions(app.get_json(&app.admin, "/api/v1/cases?overdue=true").await), ["old"]);
    assert_eq!(descriptions(app.get_json(&app.admin, "/api/v1/cases?overdue=false").await), ["fresh"]);
    assert_eq!(descriptions(app.get_json(&app.admin, "/api/v1/cases?due_before=2015-03-31").await), ["old"]);
    assert_eq!(
        descriptions(app.get_json(&app.admin, "/api/v1/cases?due_before=2015-03-22").await),
        Vec::<String>::new()
    );
}

async fn put_day(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.client.put(app.url(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

async fn a_national_day_edit_recomputes_open_cases_and_records_why(app: TestApp) {
    app.seed_city();
    let mut body = intake("PJ");
    body["arrived_at"] = json!("2015-09-01T10:00:00+08:00");
    let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
    let id = case["id"].as_str().unwrap();
    let res =
        put_day(&app, &app.admin, "/api/v1/calendar/days/2015-09-07", json!({"is_off_day": true, "name": "测试假日"}))
            .await;
    assert_eq!(res.status(), 200);
    let change: Value = res.json().await.unwrap();
    assert_eq!(
        change["recomputed"],
        json!([{"tracking_number": "PJ-2015-00001", "before": "2015-09-23", "after": "2015-09-24",
                "provisional_before": false, "provisional_after": false}])
    );
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "deadline_set");
    assert_eq!(last["payload"]["previous"]["due_on"], "2015-09-23");
    assert_eq!(last["payload"]["deadline"]["due_on"], "2015-09-24");
    assert!(last["payload"]["reason"].as_str().unwrap().contains("2015-09-07"));
    // The chain still verifies and the row is still the projection of the events.
    let mut conn = app.db.conn().unwrap();
    let record = foi_tracker::db::cases::find(&mut conn, id).unwrap().unwrap();
    let rows = foi_tracker::db::cases::events(&mut conn, id).unwrap();
    assert_eq!(foi_tracker::db::cases::verify_chain(&rows), None);
    assert_eq!(foi_tracker::db::cases::rebuild_row(&record.row, &rows).unwrap(), record.row);
    drop(conn);
    // Clearing the edit moves it back.
    let res =
        app.client.delete(app.url("/api/v1/calendar/days/2015-09-07")).bearer_auth(&app.admin).send().await.unwrap();
    let change: Value = res.json().await.unwrap();
    assert_eq!(change["recomputed"][0]["after"], "2015-09-23");
    let res =
        app.client.delete(app.url("/api/v1/calendar/days/2015-09-07")).bearer_auth(&app.admin).send().await.unwrap();
    assert_problem(res, 404, "not-found").await;
}

async fn a_calendar_change_reads_only_the_open_cases_its_days_can_move(app: TestApp) {
    app.seed_city();
    // Due 2015-09-23 and 2015-03-23; one more in September at the district, one answered.
    for (agency, arrived) in
        [("PJ", "2015-09-01"), ("PJ", "2015-03-02"), ("PJ-XLT", "2015-09-01"), ("PJ", "2015-09-02")]
    {
        let mut body = intake(agency);
        body["arrived_at"] = json!(format!("{arrived}T10:00:00+08:00"));
        assert_eq!(app.post_case(&app.admin, &body).await.status(), 201);
    }
    let answered = app.get_json(&app.admin, "/api/v1/cases/by-number/PJ-2015-00003").await;
    app.reply(answered["id"].as_str().unwrap(), "PJ", "2015-09-10", json!({"kind": "disclosed"})).await;
    let change = |path: &'static str, date: &'static str| {
        let app = &app;
        async move {
            let res =
                put_day(app, &app.admin, &format!("{path}/{date}"), json!({"is_off_day": true, "name": "测试"})).await;
            assert_eq!(res.status(), 200);
            let change: Value = res.json().await.unwrap();
            (change["examined"].as_u64().unwrap(), change["recomputed"].as_array().unwrap().len())
        }
    };
    // A September day: the two open September cases (city and district), not March's, not the answered one.
    assert_eq!(change("/api/v1/calendar/days", "2015-09-07").await, (2, 2));
    // Before every receipt, or after every deadline: nothing is read.
    assert_eq!(change("/api/v1/calendar/days", "2015-02-10").await, (0, 0));
    assert_eq!(change("/api/v1/calendar/days", "2030-01-02").await, (0, 0));
    // The district's overlay: its own case only.
    assert_eq!(change("/api/v1/agencies/PJ-XLT/calendar/days", "2015-09-08").await, (1, 1));
    assert_eq!(change("/api/v1/agencies/PJ-DW/calendar/days", "2015-09-08").await, (0, 0));
}

async fn a_local_overlay_moves_only_its_subtree(app: TestApp) {
    app.seed_city();
    let mut ids = Vec::new();
    for agency in ["PJ", "PJ-XLT"] {
        let mut body = intake(agency);
        body["arrived_at"] = json!("2015-09-01T10:00:00+08:00");
        let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
        ids.push(case["id"].as_str().unwrap().to_owned());
    }
    let district_admin = app.token(Role::Admin, "PJ-XLT");
    let res = put_day(
        &app,
        &district_admin,
        "/api/v1/agencies/PJ-XLT/calendar/days/2015-09-08",
        json!({"is_off_day": true, "name": "地方节日"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let city = app.get_json(&app.admin, &format!("/api/v1/cases/{}", ids[0])).await;
    let district = app.get_json(&app.admin, &format!("/api/v1/cases/{}", ids[1])).await;
    assert_eq!(city["deadline"]["due_on"], "2015-09-23");
    assert_eq!(district["deadline"]["due_on"], "2015-09-24");
    let local = calc(&app, "received_on=2015-09-01&regime=ogi2008&agency=PJ-XLT").await;
    assert_eq!(local["due_on"], "2015-09-24");
    assert!(local["explanation"]["skipped_days"]
        .as_array()
        .unwrap()
        .contains(&json!({"date": "2015-09-08", "reason": "holiday", "name": "地方节日"})));
    // Another district's administrator does not see PJ-XLT; a clerk may not edit.
    let other_admin = app.token(Role::Admin, "PJ-DW");
    let res = put_day(
        &app,
        &other_admin,
        "/api/v1/agencies/PJ-XLT/calendar/days/2015-09-09",
        json!({"is_off_day": true, "name": "x"}),
    )
    .await;
    assert_problem(res, 404, "not-found").await;
    let clerk = app.token(Role::Clerk, "PJ-XLT");
    let res = put_day(
        &app,
        &clerk,
        "/api/v1/agencies/PJ-XLT/calendar/days/2015-09-09",
        json!({"is_off_day": true, "name": "x"}),
    )
    .await;
    assert_problem(res, 403, "forbidden").await;
}

/// Removes a loaded notice behind the service's back, as if that year had never been announced.
fn unload_year(app: &TestApp, year: i32) {
    let mut conn = app.db.conn().unwrap();
    let origin = format!("notice {year}");
    diesel::delete(calendar_days::table.filter(calendar_days::origin.eq(origin))).execute(&mut *conn).unwrap();
    diesel::delete(calendar_notices::table.find(year)).execute(&mut *conn).unwrap();
    diesel::update(calendar_revision::table)
        .set(calendar_revision::revision.eq(calendar_revision::revision + 1))
        .execute(&mut *conn)
        .unwrap();
}

async fn unloaded_year_is_provisional_until_its_notice_is_imported(app: TestApp) {
    app.seed_city();
    unload_year(&app, 2015);
    let mut body = intake("PJ");
    body["arrived_at"] = json!("2015-09-01T10:00:00+08:00");
    let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
    // Without the 2015 notice the victory-day holiday is unknown: weekdays all count.
    assert_eq!(case["deadline"]["due_on"], "2015-09-22");
    assert_eq!(case["deadline"]["provisional"], true);
    let notice: Value = serde_json::from_str(include_str!("../../calendar/holiday-cn/2015.json")).unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/calendar/notices"))
        .bearer_auth(&app.admin)
        .json(&notice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let change: Value = res.json().await.unwrap();
    assert_eq!(
        change["recomputed"],
        json!([{"tracking_number": "PJ-2015-00001", "before": "2015-09-22", "after": "2015-09-23",
                "provisional_before": true, "provisional_after": false}])
    );
    let id = case["id"].as_str().unwrap();
    let read = app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(read["deadline"]["provisional"], false);
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let last = events.as_array().unwrap().last().unwrap();
    assert!(last["payload"]["reason"].as_str().unwrap().contains("2015 notice imported"));
    // Importing it again changes nothing.
    let res = app
        .client
        .post(app.url("/api/v1/calendar/notices"))
        .bearer_auth(&app.admin)
        .json(&notice)
        .send()
        .await
        .unwrap();
    let change: Value = res.json().await.unwrap();
    assert_eq!(change["recomputed"], json!([]));
}

async fn calendar_changes_need_the_right_role(app: TestApp) {
    app.seed_city();
    let notice =
        json!({"year": 2027, "papers": [], "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]});
    let scoped_admin = app.token(Role::Admin, "PJ");
    for token in [scoped_admin.clone(), app.token(Role::Clerk, "PJ")] {
        let res = app
            .client
            .post(app.url("/api/v1/calendar/notices"))
            .bearer_auth(&token)
            .json(&notice)
            .send()
            .await
            .unwrap();
        assert_problem(res, 403, "forbidden").await;
        let res =
            put_day(&app, &token, "/api/v1/calendar/days/2027-01-04", json!({"is_off_day": true, "name": "x"})).await;
        assert_problem(res, 403, "forbidden").await;
    }
    let res = app.client.post(app.url("/api/v1/calendar/notices")).json(&notice).send().await.unwrap();
    assert_problem(res, 401, "unauthorized").await;
    // Empty placeholders and stray dates are refused.
    let empty = json!({"year": 2027, "papers": [], "days": []});
    let res =
        app.client.post(app.url("/api/v1/calendar/notices")).bearer_auth(&app.admin).json(&empty).send().await.unwrap();
    assert_problem(res, 422, "validation").await;
    let stray = json!({"year": 2027, "papers": [], "days": [{"name": "元旦", "date": "2025-01-01", "isOffDay": true}]});
    let res =
        app.client.post(app.url("/api/v1/calendar/notices")).bearer_auth(&app.admin).json(&stray).send().await.unwrap();
    assert_problem(res, 422, "validation").await;
    let res =
        put_day(&app, &app.admin, "/api/v1/calendar/days/2027-02-30", json!({"is_off_day": true, "name": "x"})).await;
    assert_problem(res, 422, "validation").await;
    let res = app
        .client
        .post(app.url("/api/v1/calendar/notices"))
        .bearer_auth(&app.admin)
        .json(&notice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let view = app.get_json(&app.admin, "/api/v1/calendar?from=2027-01-01&to=2027-01-01").await;
    assert_eq!(view["days"][0]["settled"], true);
}

async fn cli_deadline_prints_the_same_json_as_the_api(app: TestApp) {
    let api = calc(&app, "received_on=2015-09-01&regime=ogi2008").await;
    let (url, _dir) = crate::helpers::fresh_database(if app.db.backend_name() == "postgres" {
        crate::helpers::Backend::Postgres
    } else {
        crate::helpers::Backend::Sqlite
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .args(["deadline", "--received-on", "2015-09-01", "--regime", "ogi2008"])
        .env("FOI__DATABASE__URL", &url)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, api);
}

fn foi(app: &TestApp, args: &[&str]) -> std::process::Output {
    app.cli(args)
}

async fn a_local_regime_added_by_the_cli_governs_its_subtree_at_once(app: TestApp) {
    app.seed_city();
    let out = foi(
        &app,
        &[
            "regime",
            "add",
            "xlt10",
            "兴隆台区十日答复规定",
            "--from",
            "2015-01-01",
            "--reply-days",
            "10",
            "--max-extension-days",
            "10",
            "--agency",
            "PJ-XLT",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = String::from_utf8(foi(&app, &["regime", "list"]).stdout).unwrap();
    assert!(list.contains("xlt10 /PJ/PJ-XLT/ from 2015-01-01"), "{list}");
    let duplicate = foi(
        &app,
        &["regime", "add", "xlt10", "x", "--from", "2015-01-01", "--reply-days", "10", "--max-extension-days", "10"],
    );
    assert!(!duplicate.status.success());
    let bad = foi(
        &app,
        &["regime", "add", "zero", "x", "--from", "2015-01-01", "--reply-days", "0", "--max-extension-days", "10"],
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("reply_days"));
    // The running service picks it up without a restart.
    for (agency, regime, due) in [("PJ-XLT", "xlt10", "2015-09-16"), ("PJ", "ogi2008", "2015-09-23")] {
        let mut body = intake(agency);
        body["arrived_at"] = json!("2015-09-01T10:00:00+08:00");
        let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
        assert_eq!(case["regime"], regime, "{agency}");
        assert_eq!(case["deadline"]["due_on"], due, "{agency}");
    }
    let c = calc(&app, "received_on=2015-09-01&agency=PJ-XLT").await;
    assert_eq!(c["regime"]["code"], "xlt10");
}
