//! The case workflow: every outcome, every side exit, every appeal outcome, fees, illegal
//! transitions, concurrency, and that every case row is still the projection of its events.

use foi_tracker::domain::outcome::Outcome;
use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    every_outcome_is_drafted_approved_served_and_counted_in_each_format,
    a_returned_draft_goes_back_to_review_and_can_be_revised,
    an_illegal_action_names_the_state_and_the_possible_actions,
    the_side_exits_close_the_case,
    a_transfer_opens_a_linked_case_at_the_other_agency,
    a_repeat_request_names_an_earlier_case,
    on_the_spot_replies_are_for_requests_handed_in,
    every_appeal_kind_and_outcome_is_recorded,
    fees_follow_the_regime_and_count_the_applicants_month,
    actions_need_the_current_etag_and_never_both_succeed,
    handlers_are_assigned_within_scope_and_listed,
    every_case_row_is_the_projection_of_its_events,
);

/// A case at `agency` received on `date` (China time, 10:00), by letter.
async fn case_at(app: &TestApp, agency: &str, date: &str) -> String {
    let mut body = intake(agency);
    body["arrived_at"] = json!(format!("{date}T10:00:00+08:00"));
    let res = app.post_case(&app.admin, &body).await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    case["id"].as_str().unwrap().to_owned()
}

async fn read(app: &TestApp, id: &str) -> Value {
    app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await
}

async fn office(app: &TestApp) -> (String, String) {
    let head = app.token(Role::Approver, "PJ");
    let id = app.user_id(&head).await;
    (head, id)
}

async fn every_outcome_is_drafted_approved_served_and_counted_in_each_format(app: TestApp) {
    app.seed_city();
    let replies: Vec<Outcome> = Outcome::all().into_iter().filter(Outcome::is_reply).collect();
    let mut earlier = None;
    for outcome in replies {
        let id = case_at(&app, "PJ", "2015-09-01").await;
        let mut outcome = serde_json::to_value(&outcome).unwrap();
        if outcome["reason"] == "repeat_request" {
            outcome["repeat_of"] = json!(earlier.clone().unwrap());
        }
        let served = app.reply(&id, "PJ", "2015-09-23", outcome.clone()).await;
        assert_eq!(served["state"], "replied");
        assert_eq!(served["outcome"], outcome);
        assert_eq!(served["draft_outcome"], Value::Null);
        assert_eq!(served["served_on"], "2015-09-23");
        assert_eq!(served["service_method"], "post");
        assert_eq!(served["deadline"]["timeliness"], json!({"status": "on_time", "replied_on": "2015-09-23"}));
        let typed: Outcome = serde_json::from_value(outcome.clone()).unwrap();
        let rows = &served["report_rows"];
        use foi_tracker::domain::outcome::{pre2019_reply, y2019_outcome, y2021_outcome};
        assert_eq!(rows["pre2019"], pre2019_reply(&typed).def().label, "{outcome}");
        assert_eq!(rows["y2019"], y2019_outcome(&typed).def().label, "{outcome}");
        assert_eq!(rows["y2021"], y2021_outcome(&typed).def().label, "{outcome}");
        // Exactly what the office head could do now: no appeal is pending, so none can be decided.
        assert_eq!(served["allowed_actions"], json!(["archive", "file_appeal", "amend_registration"]));
        earlier.get_or_insert(id);
    }
    // The events say who did what, when and why.
    let id = earlier.unwrap();
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let steps: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "workflow")
        .map(|e| e["payload"]["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(steps, ["handler_assigned", "reply_drafted", "reply_approved", "served"]);
    assert!(events.as_array().unwrap().iter().all(|e| e["actor_id"].is_string() && e["occurred_at"].is_string()));
    // Archive, and nothing but appeals after that.
    let (head, _) = office(&app).await;
    let archived = app.act_ok(&head, &id, json!({"action": {"type": "archive"}})).await;
    assert_eq!(archived["state"], "archived");
    assert_eq!(archived["outcome"], json!({"kind": "disclosed", "already_public": false}));
    assert_eq!(archived["allowed_actions"], json!(["file_appeal", "amend_registration"]));
}

async fn a_returned_draft_goes_back_to_review_and_can_be_revised(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let me = app.user_id(&handler).await;
    let (head, _) = office(&app).await;
    let id = case_at(&app, "PJ", "2024-03-01").await;
    let c = app.act_ok(&handler, &id, json!({"action": {"type": "assign", "handler_id": me}})).await;
    assert_eq!((c["state"].as_str(), c["handler_id"].as_str()), (Some("under_review"), Some(me.as_str())));
    let draft =
        json!({"action": {"type": "draft_reply", "outcome": {"kind": "withheld", "reason": "process_information"}}});
    assert_eq!(app.act_ok(&handler, &id, draft).await["state"], "reply_drafted");
    // The handler cannot approve their own draft; the office head sends it back with a reason.
    assert_problem(app.act(&handler, &id, json!({"action": {"type": "approve_reply"}})).await, 403, "forbidden").await;
    let res = app.act(&head, &id, json!({"action": {"type": "return_draft"}})).await;
    let problem = assert_problem(res, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "reason");
    let back =
        app.act_ok(&head, &id, json!({"action": {"type": "return_draft"}, "reason": "理由不充分，请部分公开"})).await;
    assert_eq!(back["state"], "under_review");
    let redraft = json!({"action": {"type": "draft_reply", "outcome": {"kind": "partly_disclosed"}}});
    assert_eq!(
        app.act_ok(&handler, &id, redraft).await["draft_outcome"],
        json!({"kind": "partly_disclosed", "already_public": false})
    );
    app.act_ok(&head, &id, json!({"action": {"type": "approve_reply"}})).await;
    let served =
        app.act_ok(&handler, &id, json!({"action": {"type": "serve", "on": "2024-03-20", "method": "email"}})).await;
    assert_eq!(served["outcome"], json!({"kind": "partly_disclosed", "already_public": false}));
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let returned = events.as_array().unwrap().iter().find(|e| e["payload"]["type"] == "draft_returned").unwrap();
    assert_eq!(returned["payload"]["reason"], "理由不充分，请部分公开");
    assert_eq!(returned["actor_id"], json!(app.user_id(&head).await));
}

async fn an_illegal_action_names_the_state_and_the_possible_actions(app: TestApp) {
    app.seed_city();
    let (head, _) = office(&app).await;
    let id = case_at(&app, "PJ", "2015-09-01").await;
    let before = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let res = app.act(&head, &id, json!({"action": {"type": "serve", "on": "2015-09-10", "method": "post"}})).await;
    let problem = assert_problem(res, 409, "illegal-transition").await;
    assert_eq!(problem["current_state"], "registered");
    let allowed: Vec<&str> =
        problem["allowed_actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(allowed.contains(&"assign") && allowed.contains(&"withdraw") && !allowed.contains(&"serve"), "{allowed:?}");
    assert!(problem["detail"].as_str().unwrap().contains("`serve` is not possible while the case is registered"));
    // The problem names what this caller could do, as the case read by the same caller does.
    let read_by_head = app.get_json(&head, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(read_by_head["allowed_actions"], problem["allowed_actions"]);
    // Bad bodies change nothing either.
    for (body, status, path) in [
        (json!({"action": {"type": "fly"}}), 422, "action.type"),
        (json!({"action": {"type": "withdraw"}, "reason": "x"}), 422, "action.on"),
        (json!({"action": {"type": "withdraw", "on": "2099-01-01"}, "reason": "x"}), 422, "action.on"),
        (json!({"action": {"type": "withdraw", "on": "2015-08-01"}, "reason": "x"}), 422, "action.on"),
        (json!({"action": {"type": "archive"}, "colour": 1}), 422, "colour"),
        // The withholding reason is missing (serde reports it at the action: the outcome is buffered).
        (json!({"action": {"type": "draft_reply", "outcome": {"kind": "withheld"}}}), 422, "action.reason"),
    ] {
        let problem = assert_problem(app.act(&head, &id, body.clone()).await, status, "validation").await;
        assert_eq!(problem["errors"][0]["path"], path, "{body}");
    }
    assert_eq!(app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await, before);
}

async fn the_side_exits_close_the_case(app: TestApp) {
    app.seed_city();
    let (head, _) = office(&app).await;
    let handler = app.token(Role::Handler, "PJ");
    // Withdrawn while waiting for a correction: the clock ends without a timeliness verdict.
    let id = case_at(&app, "PJ", "2024-03-01").await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/cases/{id}/clock-events")))
        .bearer_auth(&handler)
        .header("If-Match", app.etag(&id).await)
        .json(&json!({"event": {"type": "correction_notice_sent", "on": "2024-03-04", "respond_by": "2024-03-18"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(read(&app, &id).await["state"], "awaiting_correction");
    let res = app.act(&handler, &id, json!({"action": {"type": "withdraw", "on": "2024-03-06"}})).await;
    assert_eq!(assert_problem(res, 422, "validation").await["errors"][0]["path"], "reason");
    let c = app
        .act_ok(&handler, &id, json!({"action": {"type": "withdraw", "on": "2024-03-06"}, "reason": "申请人来电撤回"}))
        .await;
    assert_eq!(c["state"], "withdrawn");
    assert_eq!(c["outcome"], json!({"kind": "other", "reason": "withdrawn"}));
    assert_eq!(c["deadline"]["timeliness"], json!({"status": "withdrawn", "withdrawn_on": "2024-03-06"}));
    assert_eq!(c["report_rows"]["y2021"], "3.其他");
    assert_eq!(c["report_rows"]["pre2019"], "8.告知通过其他途径办理数");
    // Not processed (Art. 39): the office head's decision, served as a reply.
    let id = case_at(&app, "PJ", "2024-03-01").await;
    let screen = json!({"action": {"type": "not_process", "on": "2024-03-05", "ground": "petition_or_complaint"}, "reason": "属于信访事项，已告知通过信访渠道反映"});
    assert_problem(app.act(&handler, &id, screen.clone()).await, 403, "forbidden").await;
    let c = app.act_ok(&head, &id, screen).await;
    assert_eq!(c["state"], "not_processed");
    assert_eq!(c["outcome"], json!({"kind": "not_processed", "reason": "petition_or_complaint", "repeat_of": null}));
    assert_eq!(c["deadline"]["timeliness"]["status"], "on_time");
    assert_eq!(c["report_rows"]["y2021"], "1.信访举报投诉类申请");
    // Deemed abandoned: a lapsed correction.
    let id = case_at(&app, "PJ", "2024-03-01").await;
    for event in [
        json!({"type": "correction_notice_sent", "on": "2024-03-04", "respond_by": "2024-03-18"}),
        json!({"type": "correction_lapsed", "on": "2024-03-19"}),
    ] {
        let res = app
            .client
            .post(app.url(&format!("/api/v1/cases/{id}/clock-events")))
            .bearer_auth(&handler)
            .header("If-Match", app.etag(&id).await)
            .json(&json!({ "event": event }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let c = read(&app, &id).await;
    assert_eq!(c["state"], "deemed_abandoned");
    assert_eq!(c["outcome"], json!({"kind": "other", "reason": "correction_lapsed"}));
    assert_eq!(c["report_rows"]["pre2019"], "7.告知作出更改补充数");
    // Every side exit is archived in the end.
    for state in ["withdrawn", "not_processed", "deemed_abandoned"] {
        let list = app.get_json(&app.admin, &format!("/api/v1/cases?state={state}")).await;
        let id = list["items"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(app.act_ok(&head, &id, json!({"action": {"type": "archive"}})).await["state"], "archived");
    }
}

async fn a_transfer_opens_a_linked_case_at_the_other_agency(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ-XLT");
    let id = case_at(&app, "PJ-XLT", "2024-03-01").await;
    let transfer = |to: &str| json!({"action": {"type": "transfer", "on": "2024-03-05", "to_agency": to}, "reason": "属于大洼区职责"});
    for (to, path) in [("NOWHERE", "action.to_agency"), ("PJ-XLT", "action.to_agency")] {
        let problem = assert_problem(app.act(&handler, &id, transfer(to)).await, 422, "validation").await;
        assert_eq!(problem["errors"][0]["path"], path);
    }
    assert_eq!(app.case_count(), 1, "a refused transfer creates nothing");
    let c = app.act_ok(&handler, &id, transfer("PJ-DW")).await;
    assert_eq!(c["state"], "transferred");
    assert_eq!(c["outcome"], json!({"kind": "unable", "reason": "another_agency"}));
    assert_eq!(c["report_rows"]["pre2019"], "5.不属于本行政机关公开数");
    let linked_id = c["transferred_to"].as_str().unwrap().to_owned();
    let linked = read(&app, &linked_id).await;
    assert_eq!(linked["agency"], "PJ-DW");
    assert_eq!(linked["state"], "registered");
    assert_eq!(linked["tracking_number"], "PJ-DW-2024-00001");
    assert_eq!(linked["received_on"], "2024-03-05");
    assert_eq!(linked["receipt_basis"], "clerk_determined");
    assert_eq!(linked["transferred_from"], json!(id));
    assert_eq!(linked["applicant"]["name"], "张三");
    // The transferring handler cannot see the other district's case.
    assert_eq!(app.get(&handler, &format!("/api/v1/cases/{linked_id}")).await.status(), 404);
}

async fn a_repeat_request_names_an_earlier_case(app: TestApp) {
    app.seed_city();
    let (head, _) = office(&app).await;
    let first = case_at(&app, "PJ", "2024-03-01").await;
    // A repeat request repeats one that was answered.
    app.reply(&first, "PJ", "2024-03-08", json!({"kind": "disclosed"})).await;
    let second = case_at(&app, "PJ", "2024-03-11").await;
    let outsider = case_at(&app, "PJ-DW", "2024-03-01").await;
    let screen = |repeat_of: Value| json!({"action": {"type": "not_process", "on": "2024-03-12", "ground": "repeat_request", "repeat_of": repeat_of}, "reason": "已于3月答复"});
    for repeat_of in [Value::Null, json!(second), json!(uuid::Uuid::now_v7())] {
        let problem = assert_problem(app.act(&head, &second, screen(repeat_of)).await, 422, "validation").await;
        assert_eq!(problem["errors"][0]["path"], "action.repeat_of");
    }
    // An earlier case outside the office head's subtree is not visible, hence unknown.
    let district_head = app.token(Role::Approver, "PJ-XLT");
    let own = case_at(&app, "PJ-XLT", "2024-03-11").await;
    let problem = assert_problem(app.act(&district_head, &own, screen(json!(outsider))).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "action.repeat_of");
    let c = app.act_ok(&head, &second, screen(json!(first))).await;
    assert_eq!(c["outcome"], json!({"kind": "not_processed", "reason": "repeat_request", "repeat_of": first}));
    assert_eq!(c["report_rows"]["y2021"], "2.重复申请");
    // Only a repeat request names one.
    let third = case_at(&app, "PJ", "2024-03-11").await;
    let wrong = json!({"action": {"type": "not_process", "on": "2024-03-12", "ground": "publication", "repeat_of": first}, "reason": "x"});
    assert_problem(app.act(&head, &third, wrong).await, 422, "validation").await;
}

async fn on_the_spot_replies_are_for_requests_handed_in(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let by_letter = case_at(&app, "PJ", "2024-03-01").await;
    let spot =
        json!({"action": {"type": "answer_on_the_spot", "outcome": {"kind": "disclosed", "already_public": true}}});
    assert_problem(app.act(&clerk, &by_letter, spot.clone()).await, 422, "validation").await;
    let mut body = intake("PJ");
    body["channel"] = json!("in_person");
    body["arrived_at"] = json!("2024-03-01T10:00:00+08:00");
    let case: Value = app.post_case(&clerk, &body).await.json().await.unwrap();
    let id = case["id"].as_str().unwrap();
    let c = app.act_ok(&clerk, id, spot).await;
    assert_eq!(c["state"], "replied");
    assert_eq!(c["served_on"], "2024-03-01");
    assert_eq!(c["service_method"], "in_person");
    assert_eq!(c["deadline"]["timeliness"], json!({"status": "on_time", "replied_on": "2024-03-01"}));
    assert_eq!(c["outcome"]["already_public"], true);
}

async fn every_appeal_kind_and_outcome_is_recorded(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let id = case_at(&app, "PJ", "2015-09-01").await;
    app.reply(&id, "PJ", "2015-09-20", json!({"kind": "withheld", "reason": "state_secret"})).await;
    let file = |kind: &str, on: &str| json!({"action": {"type": "file_appeal", "kind": kind, "filed_on": on, "reference": "盘政复〔2015〕1号"}});
    let decide = |n: i32, outcome: &str, on: &str| json!({"action": {"type": "decide_appeal", "number": n, "outcome": outcome, "decided_on": on}});
    // A lawsuit after reconsideration needs a decided reconsideration first.
    let problem = assert_problem(
        app.act(&handler, &id, file("litigation_after_reconsideration", "2015-11-01")).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(problem["errors"][0]["path"], "action.kind");
    app.act_ok(&handler, &id, file("reconsideration", "2015-10-10")).await;
    assert_problem(app.act(&handler, &id, decide(1, "pending", "2015-11-01")).await, 422, "validation").await;
    assert_problem(app.act(&handler, &id, decide(2, "upheld", "2015-11-01")).await, 422, "validation").await;
    assert_problem(app.act(&handler, &id, decide(1, "upheld", "2015-10-01")).await, 422, "validation").await;
    app.act_ok(&handler, &id, decide(1, "upheld", "2015-12-01")).await;
    assert_problem(app.act(&handler, &id, decide(1, "corrected", "2015-12-02")).await, 409, "conflict").await;
    app.act_ok(&handler, &id, file("litigation_after_reconsideration", "2015-12-10")).await;
    app.act_ok(&handler, &id, decide(2, "corrected", "2016-03-01")).await;
    app.act_ok(&handler, &id, file("litigation_direct", "2015-10-12")).await;
    app.act_ok(&handler, &id, decide(3, "other", "2016-01-05")).await;
    app.act_ok(&handler, &id, file("complaint", "2015-10-15")).await;
    let c = read(&app, &id).await;
    let appeals = c["appeals"].as_array().unwrap();
    let summary: Vec<(i64, &str, &str)> = appeals
        .iter()
        .map(|a| (a["number"].as_i64().unwrap(), a["kind"].as_str().unwrap(), a["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "reconsideration", "upheld"),
            (2, "litigation_after_reconsideration", "corrected"),
            (3, "litigation_direct", "other"),
            (4, "complaint", "pending"),
        ]
    );
    assert_eq!(appeals[0]["reference"], "盘政复〔2015〕1号");
    assert_eq!(appeals[0]["decided_on"], "2015-12-01");
    assert_eq!(c["state"], "replied", "appeals leave the state alone");
    // Appeals can be recorded against open cases too (逾期不予答复), never by the statistician.
    let open = case_at(&app, "PJ", "2015-09-01").await;
    app.act_ok(&handler, &open, file("complaint", "2015-10-15")).await;
    let res = app.act(&app.token(Role::Statistician, "PJ"), &open, file("complaint", "2015-10-16")).await;
    assert_problem(res, 403, "forbidden").await;
}

async fn fees_follow_the_regime_and_count_the_applicants_month(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let me = app.user_id(&handler).await;
    let (head, _) = office(&app).await;
    let assign = json!({"action": {"type": "assign", "handler_id": me}});
    // 2008 regime: search, copying and postage at the configured cost rates.
    let old = case_at(&app, "PJ", "2015-03-02").await;
    app.act_ok(&handler, &old, assign.clone()).await;
    let per_request = json!({"action": {"type": "assess_fee", "basis": {"method": "per_request"}}});
    assert_problem(app.act(&handler, &old, per_request.clone()).await, 422, "validation").await;
    let cost = json!({"action": {"type": "assess_fee", "basis": {"method": "cost", "search_items": 1, "pages": 12, "postage_fen": 1200}}});
    assert_eq!(
        app.act_ok(&handler, &old, cost).await["fee"],
        json!({"charged_fen": 500 + 240 + 1200, "waived_fen": 0})
    );
    // A waiver (Art. 28) is the office head's, with a reason.
    let waive = json!({"action": {"type": "assess_fee", "basis": {"method": "cost", "pages": 10}, "waived_fen": 200, "waiver_reason": "低保户"}});
    assert_problem(app.act(&handler, &old, waive.clone()).await, 403, "forbidden").await;
    assert_eq!(app.act_ok(&head, &old, waive).await["fee"], json!({"charged_fen": 0, "waived_fen": 200}));
    // 2020 processing fee per request: the same applicant's 11th request to the agency in March 2024.
    let mut ids = Vec::new();
    for day in 1..=11 {
        ids.push(case_at(&app, "PJ", &format!("2024-03-{:02}", day + 3)).await);
    }
    let other_month = case_at(&app, "PJ", "2024-04-01").await;
    for (id, expected) in [(&ids[9], 0), (&ids[10], 10_000), (&other_month, 0)] {
        app.act_ok(&handler, id, assign.clone()).await;
        let c = app.act_ok(&handler, id, per_request.clone()).await;
        assert_eq!(c["fee"]["charged_fen"], expected);
    }
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{}/events", ids[10])).await;
    let assessed = events.as_array().unwrap().iter().find(|e| e["payload"]["type"] == "fee_assessed").unwrap();
    assert_eq!(assessed["payload"]["request_number_in_month"], 11);
    assert_eq!(assessed["payload"]["lines"][0]["unit_fen"], 10_000);
}

async fn actions_need_the_current_etag_and_never_both_succeed(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let id = case_at(&app, "PJ", "2015-09-01").await;
    let url = app.url(&format!("/api/v1/cases/{id}/actions"));
    let body = json!({"action": {"type": "withdraw", "on": "2015-09-02"}, "reason": "撤回"});
    let res = app.client.post(&url).bearer_auth(&clerk).json(&body).send().await.unwrap();
    assert_problem(res, 428, "precondition-required").await;
    let res =
        app.client.post(&url).bearer_auth(&clerk).header("If-Match", "\"stale\"").json(&body).send().await.unwrap();
    assert_problem(res, 412, "precondition-failed").await;
    // Eight different actions with one ETag at once: exactly one wins.
    let (head, head_id) = office(&app).await;
    let tag = app.etag(&id).await;
    let bodies = [
        json!({"action": {"type": "withdraw", "on": "2015-09-02"}, "reason": "撤回"}),
        json!({"action": {"type": "assign", "handler_id": head_id}}),
        json!({"action": {"type": "not_process", "on": "2015-09-03", "ground": "publication"}, "reason": "出版物"}),
        json!({"action": {"type": "transfer", "on": "2015-09-03", "to_agency": "PJ-DW"}, "reason": "大洼区"}),
        json!({"action": {"type": "withdraw", "on": "2015-09-04"}, "reason": "撤回"}),
        json!({"action": {"type": "assign", "handler_id": head_id}}),
        json!({"action": {"type": "file_appeal", "kind": "complaint", "filed_on": "2015-09-05"}}),
        json!({"action": {"type": "withdraw", "on": "2015-09-05"}, "reason": "撤回"}),
    ];
    let handles: Vec<_> = bodies
        .iter()
        .map(|body| {
            let request = app.client.post(&url).bearer_auth(&head).header("If-Match", &tag).json(body);
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 412), "{statuses:?}");
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    assert!(events.as_array().unwrap().len() <= 5, "one action (and its deadline) only");
    let cases = app.case_count();
    assert!(cases <= 2, "at most one transfer created a case: {cases}");
}

async fn handlers_are_assigned_within_scope_and_listed(app: TestApp) {
    app.seed_city();
    let (head, _) = office(&app).await;
    let handler = app.token(Role::Handler, "PJ");
    let handler_id = app.user_id(&handler).await;
    let district_handler = app.user_id(&app.token(Role::Handler, "PJ-XLT")).await;
    let clerk_id = app.user_id(&app.token(Role::Clerk, "PJ")).await;
    let id = case_at(&app, "PJ", "2015-09-01").await;
    let assign = |who: &str| json!({"action": {"type": "assign", "handler_id": who}});
    for who in [district_handler.as_str(), clerk_id.as_str(), "0190b6c1-0000-7000-8000-000000000000"] {
        let problem = assert_problem(app.act(&head, &id, assign(who)).await, 422, "validation").await;
        assert_eq!(problem["errors"][0]["path"], "action.handler_id");
    }
    // A handler takes a case themselves but assigns nobody else.
    let other = app.user_id(&app.token(Role::Handler, "PJ")).await;
    assert_problem(app.act(&handler, &id, assign(&other)).await, 403, "forbidden").await;
    app.act_ok(&head, &id, assign(&handler_id)).await;
    let reassigned = app.act_ok(&head, &id, assign(&other)).await;
    assert_eq!(
        (reassigned["state"].as_str(), reassigned["handler_id"].as_str()),
        (Some("under_review"), Some(other.as_str()))
    );
    case_at(&app, "PJ", "2015-09-01").await;
    let mine = app.get_json(&app.admin, &format!("/api/v1/cases?handler={other}")).await;
    let ids: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id.as_str()]);
}

async fn every_case_row_is_the_projection_of_its_events(app: TestApp) {
    app.seed_city();
    let (head, head_id) = office(&app).await;
    // A little of everything.
    let a = case_at(&app, "PJ", "2015-09-01").await;
    app.reply(&a, "PJ", "2015-09-10", json!({"kind": "disclosed", "already_public": true})).await;
    app.act_ok(
        &head,
        &a,
        json!({"action": {"type": "file_appeal", "kind": "reconsideration", "filed_on": "2015-10-01"}}),
    )
    .await;
    app.act_ok(
        &head,
        &a,
        json!({"action": {"type": "decide_appeal", "number": 1, "outcome": "corrected", "decided_on": "2015-11-01"}}),
    )
    .await;
    app.act_ok(&head, &a, json!({"action": {"type": "archive"}})).await;
    let b = case_at(&app, "PJ-XLT", "2015-09-01").await;
    app.act_ok(
        &head,
        &b,
        json!({"action": {"type": "transfer", "on": "2015-09-02", "to_agency": "PJ-DW"}, "reason": "x"}),
    )
    .await;
    let c = case_at(&app, "PJ", "2015-09-01").await;
    app.act_ok(&head, &c, json!({"action": {"type": "assign", "handler_id": head_id}})).await;
    app.act_ok(&head, &c, json!({"action": {"type": "assess_fee", "basis": {"method": "cost", "pages": 3}}})).await;
    app.act_ok(
        &head,
        &c,
        json!({"action": {"type": "draft_reply", "outcome": {"kind": "unable", "reason": "needs_creation"}}}),
    )
    .await;
    let report = app.get_json(&app.admin, "/api/v1/audit/verify").await;
    assert_eq!(report["cases_checked"], 4);
    assert_eq!(report["broken"], json!([]));
    // And directly: every row equals the projection of its events.
    let mut conn = app.db.conn().unwrap();
    for id in [&a, &b, &c] {
        let record = foi_tracker::db::cases::find(&mut conn, id).unwrap().unwrap();
        let events = foi_tracker::db::cases::events(&mut conn, id).unwrap();
        assert_eq!(foi_tracker::db::cases::rebuild_row(&record.row, &events).unwrap(), record.row);
        assert_eq!(
            foi_tracker::db::cases::rebuild_appeals(id, &events).unwrap(),
            foi_tracker::db::cases::appeals(&mut conn, id).unwrap()
        );
    }
}
