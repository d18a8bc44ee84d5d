//! The audit: tampering with stored events or case rows behind the service's back is caught.

use diesel::prelude::*;
use foi_tracker::db::schema::{case_events, cases};
use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    an_untouched_log_verifies,
    an_altered_event_is_caught_at_its_link_by_api_and_cli,
    an_altered_case_row_is_caught,
    a_stored_value_outside_the_vocabulary_is_an_error_and_an_audit_finding,
    only_administrators_run_the_audit,
);

async fn register(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let mut body = intake("PJ");
        body["description"] = json!(format!("申请 {i}"));
        let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
        ids.push(case["id"].as_str().unwrap().to_owned());
    }
    ids
}

fn cli_audit(app: &TestApp) -> (bool, String) {
    let out = app.cli(&["audit", "verify"]);
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

async fn an_untouched_log_verifies(app: TestApp) {
    app.seed_city();
    register(&app, 3).await;
    let report = app.get_json(&app.admin, "/api/v1/audit/verify").await;
    assert_eq!(report, json!({"cases_checked": 3, "events_checked": 9, "broken": []}));
    let (ok, out) = cli_audit(&app);
    assert!(ok, "{out}");
    assert!(out.contains("checked 3 case(s) and 9 event(s): 0 broken"), "{out}");
}

async fn an_altered_event_is_caught_at_its_link_by_api_and_cli(app: TestApp) {
    app.seed_city();
    let ids = register(&app, 3).await;
    {
        let mut conn = app.db.conn().unwrap();
        let payload: String = case_events::table
            .filter(case_events::case_id.eq(&ids[1]))
            .filter(case_events::seq.eq(1))
            .select(case_events::payload)
            .first(&mut *conn)
            .unwrap();
        diesel::update(case_events::table.filter(case_events::case_id.eq(&ids[1])).filter(case_events::seq.eq(1)))
            .set(case_events::payload.eq(payload.replace("张三", "李四")))
            .execute(&mut *conn)
            .unwrap();
    }
    let report = app.get_json(&app.admin, "/api/v1/audit/verify").await;
    assert_eq!(report["cases_checked"], 3);
    let broken = report["broken"].as_array().unwrap();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0]["case_id"], ids[1].as_str());
    assert_eq!(broken[0]["tracking_number"], "PJ-2015-00002");
    assert_eq!(broken[0]["first_broken_seq"], 1);
    let (ok, out) = cli_audit(&app);
    assert!(!ok, "the CLI exits non-zero on a broken chain");
    assert!(out.contains("BROKEN PJ-2015-00002") && out.contains("at event 1"), "{out}");
}

async fn an_altered_case_row_is_caught(app: TestApp) {
    app.seed_city();
    let ids = register(&app, 2).await;
    {
        let mut conn = app.db.conn().unwrap();
        diesel::update(cases::table.find(&ids[0]))
            .set(cases::applicant_phone.eq("13800000000"))
            .execute(&mut *conn)
            .unwrap();
    }
    let report = app.get_json(&app.admin, "/api/v1/audit/verify").await;
    let broken = report["broken"].as_array().unwrap();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0]["first_broken_seq"], Value::Null);
    assert!(broken[0]["detail"].as_str().unwrap().contains("projection"));
}

/// Enum columns are read as their types: a value written behind the service's back is never taken
/// for another one. Reading that case is a server error (never a panic or a guess), the rest of the
/// office's work goes on, and the audit names the case.
async fn a_stored_value_outside_the_vocabulary_is_an_error_and_an_audit_finding(app: TestApp) {
    app.seed_city();
    let ids = register(&app, 3).await;
    {
        let mut conn = app.db.conn().unwrap();
        diesel::sql_query(format!("UPDATE cases SET channel = 'pigeon' WHERE id = '{}'", ids[1]))
            .execute(&mut *conn)
            .unwrap();
    }
    assert_problem(app.get(&app.admin, &format!("/api/v1/cases/{}", ids[1])).await, 500, "internal").await;
    app.get_json(&app.admin, &format!("/api/v1/cases/{}", ids[0])).await;
    let report = app.get_json(&app.admin, "/api/v1/audit/verify").await;
    assert_eq!(report["cases_checked"], 3);
    let broken = report["broken"].as_array().unwrap();
    assert_eq!(broken.len(), 1, "{report}");
    assert_eq!(broken[0]["case_id"], ids[1].as_str());
    assert_eq!(broken[0]["tracking_number"], "PJ-2015-00002");
    let detail = broken[0]["detail"].as_str().unwrap();
    assert!(detail.contains("pigeon") && detail.contains("Channel"), "{detail}");
}

async fn only_administrators_run_the_audit(app: TestApp) {
    app.seed_city();
    for role in [Role::Clerk, Role::Handler, Role::Approver, Role::Statistician] {
        assert_problem(app.get(&app.token(role, "PJ"), "/api/v1/audit/verify").await, 403, "forbidden").await;
    }
    register(&app, 1).await;
    // A district administrator checks only its own subtree.
    let district_admin = app.token(Role::Admin, "PJ-XLT");
    let report = app.get_json(&district_admin, "/api/v1/audit/verify").await;
    assert_eq!(report["cases_checked"], 0);
}
