//! Correcting a registration and voiding a duplicate: events with old and new values, the deadline
//! moved with the receipt date, the report lock guard, and a voided case out of lists and reports
//! with its number kept.

use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    a_clerk_corrects_the_applicant_and_the_office_head_the_receipt_date_which_moves_the_deadline,
    amendments_of_a_published_year_meet_the_report_lock,
    a_voided_duplicate_leaves_lists_and_reports_and_keeps_its_number,
);

async fn new_case(app: &TestApp) -> Value {
    let res = app.post_case(&app.admin, &intake("PJ")).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

fn amendment(changes: Value, reason: Option<&str>) -> Value {
    let mut action = changes;
    action["type"] = json!("amend_registration");
    match reason {
        Some(reason) => json!({"action": action, "reason": reason}),
        None => json!({ "action": action }),
    }
}

async fn a_clerk_corrects_the_applicant_and_the_office_head_the_receipt_date_which_moves_the_deadline(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let head = app.token(Role::Approver, "PJ");
    let case = new_case(&app).await;
    let id = case["id"].as_str().unwrap();
    assert_eq!(case["deadline"]["due_on"], "2015-03-23");

    // A reason is required; an unknown field is named.
    let phone = json!({"applicant": {"kind": "natural_person", "name": "张三", "phone": "13904270000"}});
    assert_problem(app.act(&clerk, id, amendment(phone.clone(), None)).await, 422, "validation").await;
    let problem = assert_problem(
        app.act(&clerk, id, amendment(json!({"colour": "red"}), Some("录入错误"))).await,
        422,
        "validation",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("colour"), "{problem}");

    let res = app.act(&clerk, id, amendment(phone, Some("电话录入错误，申请人来电更正"))).await;
    assert_eq!(res.status(), 200);
    let amended: Value = res.json().await.unwrap();
    assert_eq!(amended["applicant"]["phone"], "13904270000");
    assert_eq!(amended["applicant"]["address"], Value::Null, "the applicant is replaced whole");
    assert_eq!(amended["deadline"]["due_on"], "2015-03-23", "the deadline stays");
    // Searches follow the correction.
    let found = app.get_json(&clerk, "/api/v1/cases?phone=139-0427-0000").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let old = app.get_json(&clerk, "/api/v1/cases?phone=15704271234").await;
    assert!(old["items"].as_array().unwrap().is_empty());

    // The event holds old and new values; the statistician sees them masked.
    let events = app.get_json(&clerk, &format!("/api/v1/cases/{id}/events")).await;
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "workflow");
    assert_eq!(last["payload"]["type"], "registration_amended");
    assert_eq!(last["payload"]["changes"]["applicant"]["old"]["phone"], "15704271234");
    assert_eq!(last["payload"]["changes"]["applicant"]["new"]["phone"], "13904270000");
    assert_eq!(last["payload"]["reason"], "电话录入错误，申请人来电更正");
    let statistician = app.token(Role::Statistician, "PJ");
    let masked = app.get_json(&statistician, &format!("/api/v1/cases/{id}/events")).await;
    let masked = masked.as_array().unwrap().last().unwrap().clone();
    assert_eq!(masked["payload"]["changes"]["applicant"]["old"]["phone"], "1570427****");
    assert_eq!(masked["payload"]["changes"]["applicant"]["new"]["phone"], "1390427****");

    // The receipt date: the office head's, and the deadline moves with it.
    let later = json!({"received_on": "2015-03-04", "receipt_basis": "clerk_determined", "receipt_evidence": "邮局签收单日期为3月4日"});
    assert_problem(app.act(&clerk, id, amendment(later.clone(), Some("签收日期有误"))).await, 403, "forbidden").await;
    let res = app.act(&head, id, amendment(later, Some("签收日期有误"))).await;
    assert_eq!(res.status(), 200);
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved["received_on"], "2015-03-04");
    assert_eq!(moved["receipt_basis"], "clerk_determined");
    assert_eq!(moved["deadline"]["due_on"], "2015-03-25");
    let events = app.get_json(&head, &format!("/api/v1/cases/{id}/events")).await;
    let events = events.as_array().unwrap();
    let deadline_set = &events[events.len() - 1];
    assert_eq!(deadline_set["kind"], "deadline_set");
    assert_eq!(deadline_set["payload"]["previous"]["due_on"], "2015-03-23", "{deadline_set}");
    assert_eq!(deadline_set["payload"]["deadline"]["due_on"], "2015-03-25");
    assert_eq!(app.get_json(&head, &format!("/api/v1/cases/{id}/deadline")).await["deadline"]["due_on"], "2015-03-25");

    // Not out of the tracking number's year, not before the request arrived, not after a dated step.
    for (on, why) in [("2016-01-04", "another year"), ("2015-03-01", "arrived")] {
        let problem = assert_problem(
            app.act(&head, id, amendment(json!({ "received_on": on }), Some("x"))).await,
            422,
            "validation",
        )
        .await;
        assert_eq!(problem["errors"][0]["path"], "action.received_on");
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains(why), "{problem}");
    }
    let res = app
        .client
        .post(app.url(&format!("/api/v1/cases/{id}/clock-events")))
        .bearer_auth(&head)
        .header("If-Match", app.etag(id).await)
        .json(&json!({"event": {"type": "correction_notice_sent", "on": "2015-03-06", "respond_by": "2015-03-20"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let problem = assert_problem(
        app.act(&head, id, amendment(json!({"received_on": "2015-03-09"}), Some("x"))).await,
        422,
        "validation",
    )
    .await;
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("later step"), "{problem}");
    // Nothing was changed by the refusals.
    assert_eq!(app.get_json(&head, &format!("/api/v1/cases/{id}")).await["received_on"], "2015-03-04");
    // The audit still finds every row the projection of its events.
    let audit = app.get_json(&app.admin, "/api/v1/audit/verify").await;
    assert_eq!(audit["broken"], json!([]), "{audit}");
}

async fn amendments_of_a_published_year_meet_the_report_lock(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let statistician = app.token(Role::Statistician, "PJ");
    let case = new_case(&app).await;
    let id = case["id"].as_str().unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/reports/locks"))
        .bearer_auth(&statistician)
        .json(&json!({"agency": "PJ", "year": 2015, "subtree": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // The description is not in the report: free to correct.
    let res =
        app.act(&clerk, id, amendment(json!({"description": "2014年城区道路改造工程的招标公告"}), Some("笔误"))).await;
    assert_eq!(res.status(), 200);
    // The applicant's kind is (a column of table 一): refused, and nothing changes.
    let business = json!({"applicant": {"kind": "business", "name": "盘锦某建设公司", "phone": "15704271234"}});
    let res = app.act(&clerk, id, amendment(business, Some("申请人类型录错"))).await;
    assert_problem(res, 409, "report-locked").await;
    let case = app.get_json(&clerk, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["applicant"]["kind"], "natural_person");
    // An administrator records it as a post-publication correction.
    let business = json!({"applicant": {"kind": "business", "name": "盘锦某建设公司", "phone": "15704271234"}});
    let res = app
        .client
        .post(app.url(&format!("/api/v1/cases/{id}/actions")))
        .bearer_auth(&app.admin)
        .header("If-Match", app.etag(id).await)
        .header("Report-Lock-Override", "渠道登记错误，经复核更正")
        .json(&amendment(business, Some("申请人类型录错")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let report = app.get_json(&statistician, "/api/v1/reports/y2021/2015?agency=PJ").await;
    let rows = report["tables"][0]["rows"].as_array().unwrap();
    let received = rows.iter().find(|r| r["code"] == "received").unwrap();
    assert_eq!(received["values"], json!([0, 1, 0, 0, 0, 0, 1]), "now a business: {received}");
}

async fn a_voided_duplicate_leaves_lists_and_reports_and_keeps_its_number(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let head = app.token(Role::Approver, "PJ");
    let original = new_case(&app).await;
    let duplicate = new_case(&app).await;
    let (original_id, id) = (original["id"].as_str().unwrap(), duplicate["id"].as_str().unwrap());
    assert_eq!(duplicate["tracking_number"], "PJ-2015-00002");
    let void = |named: &str, reason: Option<&str>| {
        let action = json!({"type": "void_duplicate", "duplicate_of": named});
        match reason {
            Some(reason) => json!({"action": action, "reason": reason}),
            None => json!({ "action": action }),
        }
    };
    assert_problem(app.act(&clerk, id, void("PJ-2015-00001", Some("重复登记"))).await, 403, "forbidden").await;
    assert_problem(app.act(&head, id, void("PJ-2015-00001", None)).await, 422, "validation").await;
    for named in ["PJ-2015-00002", "PJ-2015-09999", id] {
        let problem = assert_problem(app.act(&head, id, void(named, Some("重复登记"))).await, 422, "validation").await;
        assert_eq!(problem["errors"][0]["path"], "action.duplicate_of");
    }
    let res = app.act(&head, id, void("PJ-2015-00001", Some("同一申请重复登记"))).await;
    assert_eq!(res.status(), 200);
    let voided: Value = res.json().await.unwrap();
    assert_eq!(voided["state"], "voided");
    assert_eq!(voided["allowed_actions"], json!([]));
    let events = app.get_json(&head, &format!("/api/v1/cases/{id}/events")).await;
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["payload"]["type"], "voided");
    assert_eq!(last["payload"]["duplicate_of"], original_id);
    assert_eq!(last["payload"]["duplicate_of_number"], "PJ-2015-00001");
    // Nothing more happens to it; its original cannot be voided against it.
    let assign = json!({"action": {"type": "assign", "handler_id": app.user_id(&head).await}});
    assert_problem(app.act(&head, id, assign).await, 409, "illegal-transition").await;
    assert_problem(app.act(&head, original_id, void(id, Some("x"))).await, 422, "validation").await;

    // Out of the list by default; there when asked for; still found by its number.
    let listed = app.get_json(&clerk, "/api/v1/cases?agency=PJ&count=true").await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["id"], original_id);
    let asked = app.get_json(&clerk, "/api/v1/cases?state=voided").await;
    assert_eq!(asked["items"][0]["id"], id);
    assert_eq!(app.get_json(&clerk, "/api/v1/cases/by-number/PJ-2015-00002").await["state"], "voided");
    let ledger = app.get(&clerk, "/api/v1/cases/export?agency=PJ").await.text().await.unwrap();
    assert!(ledger.contains("PJ-2015-00001") && !ledger.contains("PJ-2015-00002"), "{ledger}");

    // The report counts one request.
    let report = app.get_json(&clerk, "/api/v1/reports/y2021/2015?agency=PJ").await;
    let rows = report["tables"][0]["rows"].as_array().unwrap();
    let received = rows.iter().find(|r| r["code"] == "received").unwrap();
    assert_eq!(received["values"][6], 1, "{received}");
    // Numbers stay without gaps: the next registration is 00003.
    assert_eq!(new_case(&app).await["tracking_number"], "PJ-2015-00003");
}
