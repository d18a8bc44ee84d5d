//! Statutory fidelity: the rules the annual tables depend on, each played through the API and
//! checked in the response and in the report cell it decides.

use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::clock::{case, case_received, clock, clock_ok};
use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    a_late_extension_is_refused_and_an_overridden_one_leaves_the_reply_late,
    an_extension_of_a_stopped_clock_or_beyond_the_cap_is_refused_unless_overridden,
    a_2008_case_has_no_art35_delay_and_other_agencies_do_not_stop_its_clock,
    a_replayed_registration_repeats_status_body_and_headers_for_any_equal_json,
    a_repeat_request_names_an_answered_case_or_an_earlier_reference,
    allowed_actions_are_exactly_what_this_caller_could_do,
    fees_count_when_paid_in_the_year_paid_and_waivers_apart,
    back_entered_steps_keep_their_business_dates,
    a_reply_corrected_on_appeal_is_answered_again_and_counted_once,
    the_spreadsheet_reproduces_the_official_layout,
    a_history_the_regime_no_longer_allows_is_a_conflict_not_an_error,
);

/// The values of the row `code` in the first table of a report.
async fn report_row(app: &TestApp, format: &str, year: i32, code: &str) -> Value {
    let report = app.get_json(&app.admin, &format!("/api/v1/reports/{format}/{year}?agency=PJ")).await;
    let rows = report["tables"][0]["rows"].as_array().unwrap();
    rows.iter().find(|r| r["code"] == code).unwrap_or_else(|| panic!("no row {code}"))["values"].clone()
}

async fn report(app: &TestApp, format: &str, year: i32) -> Value {
    app.get_json(&app.admin, &format!("/api/v1/reports/{format}/{year}?agency=PJ")).await
}

fn extension(on: &str, days: u32, notified: &str) -> Value {
    json!({"event": {"type": "extension_approved", "on": on, "days": days, "reason": "需调取档案", "applicant_notified_on": notified}})
}

async fn a_late_extension_is_refused_and_an_overridden_one_leaves_the_reply_late(app: TestApp) {
    app.seed_city();
    let approver = app.token(Role::Approver, "PJ");
    // 2008: received 2015-09-01, due 2015-09-23.
    let id = case_received(&app, "2015-09-01").await;
    let problem =
        assert_problem(clock(&app, &approver, &id, extension("2015-09-24", 15, "2015-09-24")).await, 422, "validation")
            .await;
    assert!(problem["detail"].as_str().unwrap().contains("2015-09-23"), "{problem}");
    // Approved in time but notified late: refused too.
    let problem =
        assert_problem(clock(&app, &approver, &id, extension("2015-09-22", 15, "2015-09-25")).await, 422, "validation")
            .await;
    assert!(problem["detail"].as_str().unwrap().contains("notified"), "{problem}");
    assert_eq!(case(&app, &id).await["deadline"]["final_due_on"], "2015-09-23", "nothing changed");
    // The office head insists: recorded with the reason, the deadline stays.
    let mut late = extension("2015-09-24", 15, "2015-09-24");
    late["override_reason"] = json!("负责人9月24日补签延期审批单");
    let d = clock_ok(&app, &approver, &id, late).await;
    assert_eq!(d["deadline"]["final_due_on"], "2015-09-23");
    assert_eq!(d["deadline"]["extension_days_used"], 0);
    let step = d["explanation"]["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(step["kind"], "extension_overridden", "{step}");
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let recorded = events.as_array().unwrap().iter().find(|e| e["kind"] == "clock").unwrap().clone();
    assert_eq!(recorded["payload"]["event"]["overridden"], true, "{recorded}");
    assert_eq!(recorded["payload"]["override_reason"], "负责人9月24日补签延期审批单");
    // A client cannot mark an extension overridden itself.
    let in_time = case_received(&app, "2015-09-01").await;
    let mut sneaky = extension("2015-09-21", 10, "2015-09-21");
    sneaky["event"]["overridden"] = json!(true);
    let d = clock_ok(&app, &approver, &in_time, sneaky).await;
    assert_eq!(d["deadline"]["final_due_on"], "2015-10-13", "an extension in time moves the deadline");
    app.reply(&in_time, "PJ", "2015-10-12", json!({"kind": "disclosed"})).await;
    // Replied after the original date: a late reply, never 延期办结.
    app.reply(&id, "PJ", "2015-10-12", json!({"kind": "disclosed"})).await;
    let c = case(&app, &id).await;
    assert_eq!(c["deadline"]["timeliness"]["status"], "late_reply", "{}", c["deadline"]);
    assert_eq!(report_row(&app, "pre2019", 2015, "closed_extended").await, json!([1]));
    assert_eq!(report_row(&app, "pre2019", 2015, "closed_on_time").await, json!([0]));
    let r = report(&app, "pre2019", 2015).await;
    assert_eq!(r["extras"]["closings"]["late_reply"], 1);
    assert_eq!(r["extras"]["closings"]["extended"], 1);
}

async fn an_extension_of_a_stopped_clock_or_beyond_the_cap_is_refused_unless_overridden(app: TestApp) {
    app.seed_city();
    let approver = app.token(Role::Approver, "PJ");
    let handler = app.token(Role::Handler, "PJ");
    // 2019: received 2024-09-27, due 2024-10-30.
    let id = case_received(&app, "2024-09-27").await;
    clock_ok(&app, &approver, &id, extension("2024-10-08", 20, "2024-10-08")).await;
    let problem =
        assert_problem(clock(&app, &approver, &id, extension("2024-10-09", 1, "2024-10-09")).await, 422, "validation")
            .await;
    assert!(problem["detail"].as_str().unwrap().contains("at most 20"), "{problem}");
    let mut over = extension("2024-10-09", 1, "2024-10-09");
    over["override_reason"] = json!("另行审批");
    let d = clock_ok(&app, &approver, &id, over).await;
    assert_eq!(
        (d["deadline"]["extension_days_used"].clone(), d["deadline"]["final_due_on"].clone()),
        (json!(20), json!("2024-11-27"))
    );

    let stopped = case_received(&app, "2024-09-27").await;
    clock_ok(
        &app,
        &handler,
        &stopped,
        json!({"event": {"type": "consultation_sent", "on": "2024-10-08", "party": "third_party"}}),
    )
    .await;
    let problem = assert_problem(
        clock(&app, &approver, &stopped, extension("2024-10-09", 5, "2024-10-09")).await,
        422,
        "validation",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("stopped"), "{problem}");
    let mut anyway = extension("2024-10-09", 5, "2024-10-09");
    anyway["override_reason"] = json!("征求意见期间已批准延期");
    let d = clock_ok(&app, &approver, &stopped, anyway).await;
    assert_eq!(d["deadline"]["extension_days_used"], 0);
    let kinds: Vec<&str> =
        d["explanation"]["steps"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds[..3], ["received", "paused", "extension_overridden"]);
    // An override reason does not let a handler approve extensions.
    let mut by_handler = extension("2024-10-09", 5, "2024-10-09");
    by_handler["override_reason"] = json!("x");
    assert_problem(clock(&app, &handler, &stopped, by_handler).await, 403, "forbidden").await;
}

async fn a_2008_case_has_no_art35_delay_and_other_agencies_do_not_stop_its_clock(app: TestApp) {
    app.seed_city();
    let approver = app.token(Role::Approver, "PJ");
    let handler = app.token(Role::Handler, "PJ");
    let old = case_received(&app, "2015-09-01").await;
    let delay = json!({"event": {"type": "delay_set", "on": "2015-09-10", "until": "2015-12-01"}});
    let problem = assert_problem(clock(&app, &approver, &old, delay).await, 422, "validation").await;
    assert!(problem["detail"].as_str().unwrap().contains("ogi2008"), "{problem}");
    // Consulting another agency: recorded (evidence kept), the clock keeps running, and the answer says so.
    let d = clock_ok(&app, &handler, &old, json!({"event": {"type": "consultation_sent", "on": "2015-09-08", "party": "other_agency"}, "evidence": "征求意见函 2015-7"})).await;
    assert_eq!(d["deadline"]["clock"]["state"], "running");
    assert_eq!(d["deadline"]["final_due_on"], "2015-09-23");
    let step = d["explanation"]["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(step["kind"], "consultation_not_pausing");
    assert!(step["detail"].as_str().unwrap().contains("keeps running"), "{step}");
    assert_eq!(case(&app, &old).await["state"], "consulting");
    let d =
        clock_ok(&app, &handler, &old, json!({"event": {"type": "consultation_answered", "on": "2015-09-18"}})).await;
    assert_eq!(d["deadline"]["final_due_on"], "2015-09-23");
    // Replied on 09-24: late, as the consultation's days counted.
    app.reply(&old, "PJ", "2015-09-24", json!({"kind": "disclosed"})).await;
    assert_eq!(case(&app, &old).await["deadline"]["timeliness"]["status"], "late_reply");
    assert_eq!(report_row(&app, "pre2019", 2015, "closed_on_time").await, json!([0]));
    // Under 2019 the same consultation pauses the clock, and a delay may be set.
    let new = case_received(&app, "2024-09-27").await;
    let d = clock_ok(
        &app,
        &handler,
        &new,
        json!({"event": {"type": "consultation_sent", "on": "2024-10-08", "party": "other_agency"}}),
    )
    .await;
    assert_eq!(d["explanation"]["steps"][1]["kind"], "paused");
    clock_ok(&app, &handler, &new, json!({"event": {"type": "consultation_answered", "on": "2024-10-10"}})).await;
    clock_ok(&app, &approver, &new, json!({"event": {"type": "delay_set", "on": "2024-10-11", "until": "2024-12-31"}}))
        .await;
}

async fn a_replayed_registration_repeats_status_body_and_headers_for_any_equal_json(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let send = |body: String| {
        app.client
            .post(app.url("/api/v1/cases"))
            .bearer_auth(&clerk)
            .header("Idempotency-Key", "letter-2015-0042")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let compact = serde_json::to_string(&intake("PJ")).unwrap();
    let first = send(compact.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    let (location, etag) = (first.headers()["location"].clone(), first.headers()["etag"].clone());
    let first_body = first.text().await.unwrap();
    // The case moves on after registration; a retry still gets the first answer exactly.
    let id = serde_json::from_str::<Value>(&first_body).unwrap()["id"].as_str().unwrap().to_owned();
    let approver = app.token(Role::Approver, "PJ");
    let me = app.user_id(&approver).await;
    app.act_ok(&approver, &id, json!({"action": {"type": "assign", "handler_id": me}})).await;
    // The same JSON, pretty-printed, keys reordered, Chinese as \u escapes.
    let mut pretty = serde_json::to_string_pretty(&intake("PJ")).unwrap();
    pretty = pretty.replace("张三", "\\u5f20\\u4e09");
    let reordered: String = {
        let value: Value = serde_json::from_str(&compact).unwrap();
        let map = value.as_object().unwrap();
        let mut keys: Vec<&String> = map.keys().collect();
        keys.reverse();
        let parts: Vec<String> = keys.iter().map(|k| format!("{}: {}", json!(k), map[k.as_str()])).collect();
        format!("{{ {} }}", parts.join(", "))
    };
    for body in [compact, pretty, reordered] {
        let retry = send(body.clone()).await.unwrap();
        assert_eq!(retry.status(), 201, "{body}");
        assert_eq!(retry.headers()["idempotent-replayed"], "true");
        assert_eq!(retry.headers()["location"], location);
        assert_eq!(retry.headers()["etag"], etag);
        assert_eq!(retry.text().await.unwrap(), first_body);
    }
    assert_eq!(app.case_count(), 1);
}

async fn a_repeat_request_names_an_answered_case_or_an_earlier_reference(app: TestApp) {
    app.seed_city();
    let approver = app.token(Role::Approver, "PJ");
    let me = app.user_id(&approver).await;
    let open = case_received(&app, "2024-03-01").await;
    let repeat = case_received(&app, "2024-03-11").await;
    let screen = |repeat: Value| {
        let mut action = json!({"type": "not_process", "on": "2024-03-12", "ground": "repeat_request"});
        for (k, v) in repeat.as_object().unwrap() {
            action[k] = v.clone();
        }
        json!({"action": action, "reason": "重复申请"})
    };
    // An earlier case still open, withdrawn or transferred is no answer to repeat.
    let problem =
        assert_problem(app.act(&approver, &repeat, screen(json!({"repeat_of": open}))).await, 422, "validation").await;
    assert!(problem["detail"].as_str().unwrap().contains("not answered"), "{problem}");
    let withdrawn = case_received(&app, "2024-03-01").await;
    app.act_ok(
        &approver,
        &withdrawn,
        json!({"action": {"type": "withdraw", "on": "2024-03-04"}, "reason": "申请人撤回"}),
    )
    .await;
    assert_problem(app.act(&approver, &repeat, screen(json!({"repeat_of": withdrawn}))).await, 422, "validation").await;
    // Both ways at once, or an earlier reference answered after this request arrived: refused.
    let earlier = json!({"reference": "盘政公开〔2023〕15号", "answered_on": "2023-11-20", "note": "纸质台账第12页"});
    let problem = assert_problem(
        app.act(&approver, &repeat, screen(json!({"repeat_of": open, "repeat_of_earlier": earlier}))).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(problem["errors"][0]["path"], "action.repeat_of_earlier");
    let future = json!({"reference": "x", "answered_on": "2024-03-20"});
    assert_problem(app.act(&approver, &repeat, screen(json!({"repeat_of_earlier": future}))).await, 422, "validation")
        .await;
    let blank = json!({"reference": " ", "answered_on": "2023-11-20"});
    assert_problem(app.act(&approver, &repeat, screen(json!({"repeat_of_earlier": blank}))).await, 422, "validation")
        .await;
    // A request answered before the office used this service, by its reference.
    let c = app.act_ok(&approver, &repeat, screen(json!({"repeat_of_earlier": earlier}))).await;
    assert_eq!(c["outcome"]["repeat_of_earlier"], earlier);
    assert_eq!(case(&app, &repeat).await["outcome"]["repeat_of_earlier"], earlier, "kept on later reads");
    assert_eq!(c["report_rows"]["y2021"], "2.重复申请");
    // Once the earlier case is answered, it can be named.
    app.act_ok(&approver, &open, json!({"action": {"type": "assign", "handler_id": me}})).await;
    app.reply(&open, "PJ", "2024-03-08", json!({"kind": "disclosed"})).await;
    let again = case_received(&app, "2024-03-11").await;
    app.act_ok(&approver, &again, screen(json!({"repeat_of": open}))).await;
    let report = app.get_json(&app.admin, "/api/v1/reports/y2021/2024?agency=PJ").await;
    let row =
        report["tables"][0]["rows"].as_array().unwrap().iter().find(|r| r["code"] == "not_processed_repeat").cloned();
    assert_eq!(row.expect("repeat row")["values"][6], 2);
}

async fn allowed_actions_are_exactly_what_this_caller_could_do(app: TestApp) {
    app.seed_city();
    let approver = app.token(Role::Approver, "PJ");
    let handler = app.token(Role::Handler, "PJ");
    let clerk = app.token(Role::Clerk, "PJ");
    let statistician = app.token(Role::Statistician, "PJ");
    let actions = |v: &Value| -> Vec<String> {
        v["allowed_actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect()
    };
    let read = |token: String, id: String| {
        let app = &app;
        async move { app.get_json(&token, &format!("/api/v1/cases/{id}")).await }
    };
    // A 2008 letter received long ago: past its period, no Art. 35 delay, no on-the-spot reply.
    let old = case_received(&app, "2015-09-01").await;
    let head = actions(&read(approver.clone(), old.clone()).await);
    for absent in ["answer_on_the_spot", "extension_approved", "delay_set", "decide_appeal", "fee_notice_sent", "serve"]
    {
        assert!(!head.iter().any(|a| a == absent), "{absent} in {head:?}");
    }
    for present in
        ["assign", "withdraw", "not_process", "transfer", "correction_notice_sent", "consultation_sent", "file_appeal"]
    {
        assert!(head.iter().any(|a| a == present), "{present} missing from {head:?}");
    }
    assert!(actions(&read(statistician.clone(), old.clone()).await).is_empty());
    let by_clerk = actions(&read(clerk.clone(), old.clone()).await);
    assert!(by_clerk.iter().all(|a| ["withdraw", "amend_registration"].contains(&a.as_str())), "{by_clerk:?}");
    // Every listed action works, and one not listed is refused: the list is exact.
    let mut request = intake("PJ");
    request["channel"] = json!("in_person");
    let now = chrono::Utc::now();
    request["arrived_at"] = json!(now.format("%Y-%m-%dT%H:%M:%S+00:00").to_string());
    let china_today = (now + chrono::Duration::hours(8)).format("%Y-%m-%d").to_string();
    let res = app.post_case(&clerk, &request).await;
    assert_eq!(res.status(), 201);
    let fresh: Value = res.json().await.unwrap();
    let id = fresh["id"].as_str().unwrap().to_owned();
    assert!(
        actions(&fresh).contains(&"answer_on_the_spot".to_owned()),
        "the registration answer lists it for the clerk"
    );
    let head = actions(&read(approver.clone(), id.clone()).await);
    for present in ["answer_on_the_spot", "extension_approved", "delay_set"] {
        assert!(head.iter().any(|a| a == present), "{present} missing from {head:?}");
    }
    // A handler sees the fee notice only once a fee is assessed, and the appeal decision only with an appeal pending.
    let me = app.user_id(&handler).await;
    app.act_ok(&handler, &id, json!({"action": {"type": "assign", "handler_id": me}})).await;
    assert!(!actions(&read(handler.clone(), id.clone()).await).contains(&"fee_notice_sent".to_owned()));
    app.act_ok(&handler, &id, json!({"action": {"type": "assess_fee", "basis": {"method": "per_page", "pages": 40}}}))
        .await;
    assert!(actions(&read(handler.clone(), id.clone()).await).contains(&"fee_notice_sent".to_owned()));
    let served = app.reply(&id, "PJ", &china_today, json!({"kind": "disclosed"})).await;
    assert_eq!(actions(&served), ["archive", "file_appeal", "amend_registration"]);
    let filed = app
        .act_ok(
            &approver,
            &id,
            json!({"action": {"type": "file_appeal", "kind": "reconsideration", "filed_on": china_today}}),
        )
        .await;
    assert_eq!(actions(&filed), ["archive", "file_appeal", "decide_appeal", "amend_registration"]);
    assert_eq!(actions(&read(clerk.clone(), id.clone()).await), ["archive", "amend_registration"]);
}

/// The values of the row `code` in the report table whose title contains `table`.
async fn table_row(app: &TestApp, format: &str, year: i32, table: &str, code: &str) -> Value {
    let report = report(app, format, year).await;
    let tables = report["tables"].as_array().unwrap();
    let t = tables.iter().find(|t| t["title"].as_str().unwrap().contains(table)).expect("table");
    t["rows"].as_array().unwrap().iter().find(|r| r["code"] == code).expect("row")["values"].clone()
}

async fn fees_count_when_paid_in_the_year_paid_and_waivers_apart(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let approver = app.token(Role::Approver, "PJ");
    let me = app.user_id(&handler).await;
    let assign = json!({"action": {"type": "assign", "handler_id": me}});
    // 2008 cost fees: one search and twelve pages (5 元 + 12 × 0.2 元 = 7.40 元), paid in December
    // 2015 with a receipt; the case is answered in January 2016.
    let paid = case_received(&app, "2015-12-14").await;
    app.act_ok(&handler, &paid, assign.clone()).await;
    let cost = json!({"action": {"type": "assess_fee", "basis": {"method": "cost", "search_items": 1, "pages": 12}}, "effective_on": "2015-12-15"});
    assert_eq!(app.act_ok(&handler, &paid, cost.clone()).await["fee"]["charged_fen"], 740);
    clock_ok(&app, &handler, &paid, json!({"event": {"type": "fee_notice_sent", "on": "2015-12-15"}})).await;
    let wrong =
        json!({"event": {"type": "fee_paid", "on": "2015-12-28", "amount_fen": 700, "receipt_number": "辽财0012345"}});
    let problem = assert_problem(clock(&app, &handler, &paid, wrong).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "event.amount_fen");
    clock_ok(
        &app,
        &handler,
        &paid,
        json!({"event": {"type": "fee_paid", "on": "2015-12-28", "receipt_number": "辽财0012345"}}),
    )
    .await;
    let c = case(&app, &paid).await;
    assert_eq!(c["fee"]["paid"], json!({"on": "2015-12-28", "amount_fen": 740, "receipt_number": "辽财0012345"}));
    // A paid fee is not assessed again.
    assert_problem(app.act(&handler, &paid, cost.clone()).await, 409, "conflict").await;
    app.reply(&paid, "PJ", "2016-01-05", json!({"kind": "disclosed"})).await;
    // Assessed and notified, then withdrawn: never paid, counted nowhere.
    let withdrawn = case_received(&app, "2015-12-14").await;
    app.act_ok(&handler, &withdrawn, assign.clone()).await;
    app.act_ok(&handler, &withdrawn, cost).await;
    clock_ok(&app, &handler, &withdrawn, json!({"event": {"type": "fee_notice_sent", "on": "2015-12-15"}})).await;
    app.act_ok(
        &handler,
        &withdrawn,
        json!({"action": {"type": "withdraw", "on": "2015-12-20"}, "reason": "申请人撤回"}),
    )
    .await;
    assert_eq!(report_row(&app, "pre2019", 2015, "fees").await, json!(["0.00074"]), "collected in 2015");
    assert_eq!(report_row(&app, "pre2019", 2016, "fees").await, json!(["0"]), "not where the case closed");
    assert_eq!(report(&app, "pre2019", 2015).await["extras"]["fees"]["requests_charged"], 1);

    // 2020 processing fee: 40 pages = 100 元, half waived by the office head in 2024, the rest paid.
    let waived = case_received(&app, "2024-09-27").await;
    app.act_ok(&handler, &waived, assign.clone()).await;
    let fee = |waived_fen: i64| json!({"action": {"type": "assess_fee", "basis": {"method": "per_page", "pages": 40}, "waived_fen": waived_fen, "waiver_reason": "低保户，负责人同意减半"}, "effective_on": "2024-10-08"});
    assert_problem(app.act(&handler, &waived, fee(5_000)).await, 403, "forbidden").await;
    app.act_ok(&approver, &waived, fee(5_000)).await;
    clock_ok(&app, &handler, &waived, json!({"event": {"type": "fee_notice_sent", "on": "2024-10-08"}})).await;
    clock_ok(
        &app,
        &handler,
        &waived,
        json!({"event": {"type": "fee_paid", "on": "2024-10-15", "amount_fen": 5000, "receipt_number": "R-2024-88"}}),
    )
    .await;
    // A fee that lapses is never collected.
    let lapsed = case_received(&app, "2024-09-27").await;
    app.act_ok(&handler, &lapsed, assign).await;
    app.act_ok(&handler, &lapsed, fee(0)).await;
    clock_ok(&app, &handler, &lapsed, json!({"event": {"type": "fee_notice_sent", "on": "2024-10-08"}})).await;
    clock_ok(&app, &handler, &lapsed, json!({"event": {"type": "fee_lapsed", "on": "2024-11-08"}})).await;
    for format in ["y2019", "y2021"] {
        assert_eq!(table_row(&app, format, 2024, "信息处理费", "fees_collected").await, json!(["0.005"]), "{format}");
        assert_eq!(table_row(&app, format, 2024, "信息处理费", "fees_requests_charged").await, json!([1]));
        assert_eq!(table_row(&app, format, 2024, "信息处理费", "fees_waived").await, json!(["0.005"]));
        assert_eq!(table_row(&app, format, 2024, "信息处理费", "fees_requests_waived").await, json!([1]));
    }
    let csv = app.get(&app.admin, "/api/v1/reports/y2021/2024?agency=PJ&output=csv").await.text().await.unwrap();
    assert!(csv.contains("六、其他需要报告的事项：信息处理费"), "{csv}");
    assert!(csv.contains("收取信息处理费金额,万元,0.005"), "{csv}");
}

async fn back_entered_steps_keep_their_business_dates(app: TestApp) {
    app.seed_city();
    let approver = app.token(Role::Approver, "PJ");
    let me = app.user_id(&approver).await;
    let id = case_received(&app, "2015-09-01").await;
    let step = |action: Value, on: &str| json!({"action": action, "effective_on": on});
    let assign = json!({"type": "assign", "handler_id": me});
    // Not before receipt, not in the future.
    let problem =
        assert_problem(app.act(&approver, &id, step(assign.clone(), "2015-08-31")).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "effective_on");
    assert_problem(app.act(&approver, &id, step(assign.clone(), "2099-01-01")).await, 422, "validation").await;
    app.act_ok(&approver, &id, step(assign, "2015-09-02")).await;
    let draft = json!({"type": "draft_reply", "outcome": {"kind": "disclosed"}});
    // Not before the previous step.
    let problem =
        assert_problem(app.act(&approver, &id, step(draft.clone(), "2015-09-01")).await, 422, "validation").await;
    assert!(problem["detail"].as_str().unwrap().contains("2015-09-02"), "{problem}");
    app.act_ok(&approver, &id, step(draft, "2015-09-10")).await;
    app.act_ok(&approver, &id, step(json!({"type": "approve_reply"}), "2015-09-15")).await;
    // The reply cannot be served before it was approved.
    let early = json!({"action": {"type": "serve", "on": "2015-09-14", "method": "post"}});
    assert_problem(app.act(&approver, &id, early).await, 422, "validation").await;
    // Steps with their own date take no effective_on.
    let both = json!({"action": {"type": "serve", "on": "2015-09-16", "method": "post"}, "effective_on": "2015-09-16"});
    let problem = assert_problem(app.act(&approver, &id, both).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "effective_on");
    app.act_ok(&approver, &id, json!({"action": {"type": "serve", "on": "2015-09-16", "method": "post"}})).await;
    app.act_ok(&approver, &id, step(json!({"type": "archive"}), "2015-09-30")).await;
    // The timeline keeps both dates: when it happened and when it was recorded.
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let dated: Vec<(String, Value)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "workflow")
        .map(|e| (e["payload"]["type"].as_str().unwrap().to_owned(), e["payload"]["effective_on"].clone()))
        .collect();
    assert_eq!(
        dated,
        [
            ("handler_assigned".to_owned(), json!("2015-09-02")),
            ("reply_drafted".to_owned(), json!("2015-09-10")),
            ("reply_approved".to_owned(), json!("2015-09-15")),
            ("served".to_owned(), Value::Null),
            ("archived".to_owned(), json!("2015-09-30")),
        ]
    );
    assert!(events.as_array().unwrap().iter().all(|e| e["occurred_at"].as_str().unwrap().starts_with("20")));
    // The report reads as if the office had worked live: answered on time in 2015.
    assert_eq!(report_row(&app, "pre2019", 2015, "closed_on_time").await, json!([1]));
    let r = report(&app, "pre2019", 2015).await;
    // 2015-09-02, the 6th (a make-up working day) to the 11th, the 14th to the 16th: 10 working days.
    assert_eq!(r["extras"]["reply_times"]["median_working_days"], 10);
}

async fn a_reply_corrected_on_appeal_is_answered_again_and_counted_once(app: TestApp) {
    app.seed_city();
    let approver = app.token(Role::Approver, "PJ");
    let handler = app.token(Role::Handler, "PJ");
    let id = case_received(&app, "2024-09-27").await;
    let withheld = json!({"kind": "withheld", "reason": "process_information"});
    app.reply(&id, "PJ", "2024-10-29", withheld.clone()).await;
    let reopen = |number: i32| json!({"action": {"type": "reopen_for_new_reply", "appeal_number": number, "on": "2025-01-10", "period": {"kind": "working_days", "from": "2025-01-10", "days": 15}}});
    // Only a decided appeal that corrected the reply orders a new one.
    assert_problem(app.act(&approver, &id, reopen(1)).await, 422, "validation").await;
    app.act_ok(&handler, &id, json!({"action": {"type": "file_appeal", "kind": "reconsideration", "filed_on": "2024-11-10", "reference": "盘政复〔2024〕31号"}})).await;
    app.act_ok(
        &handler,
        &id,
        json!({"action": {"type": "file_appeal", "kind": "complaint", "filed_on": "2024-11-12"}}),
    )
    .await;
    app.act_ok(
        &handler,
        &id,
        json!({"action": {"type": "decide_appeal", "number": 2, "outcome": "corrected", "decided_on": "2024-12-01"}}),
    )
    .await;
    let problem = assert_problem(app.act(&approver, &id, reopen(2)).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "action.appeal_number", "a complaint orders no new reply");
    let decided = app
        .act_ok(&handler, &id, json!({"action": {"type": "decide_appeal", "number": 1, "outcome": "corrected", "decided_on": "2025-01-08"}}))
        .await;
    assert!(decided["allowed_actions"].as_array().unwrap().contains(&json!("reopen_for_new_reply")));
    // The period the decision set: 15 working days from 2025-01-10 (Sunday 01-26 a make-up working
    // day, the Spring Festival 01-28 to 02-04 off): 2025-02-07.
    let c = app.act_ok(&approver, &id, reopen(1)).await;
    assert_eq!(c["state"], "under_review");
    assert_eq!(c["deadline"]["final_due_on"], "2025-02-07");
    assert_eq!(c["re_replies"][0]["due_on"], "2025-02-07");
    assert_eq!(c["outcome"], withheld, "the first reply's outcome stays");
    assert_eq!(c["deadline"]["timeliness"]["status"], "on_time", "and its timeliness");
    // Nothing but review, drafting, approval, service and appeals while the new reply is prepared.
    assert!(!c["allowed_actions"].as_array().unwrap().contains(&json!("withdraw")));
    let problem = assert_problem(
        app.act(&approver, &id, json!({"action": {"type": "withdraw", "on": "2025-01-11"}, "reason": "x"})).await,
        409,
        "conflict",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("new reply"), "{problem}");
    assert_problem(clock(&app, &approver, &id, extension("2025-01-13", 5, "2025-01-13")).await, 409, "conflict").await;
    // The new reply goes through drafting, approval and service again.
    app.act_ok(&approver, &id, json!({"action": {"type": "draft_reply", "outcome": {"kind": "partly_disclosed"}}}))
        .await;
    app.act_ok(&approver, &id, json!({"action": {"type": "approve_reply"}})).await;
    let served =
        app.act_ok(&approver, &id, json!({"action": {"type": "serve", "on": "2025-01-20", "method": "post"}})).await;
    assert_eq!(served["state"], "replied");
    assert_eq!(served["outcome"], withheld);
    assert_eq!(served["served_on"], "2024-10-29");
    assert_eq!(served["re_replies"][0]["outcome"], json!({"kind": "partly_disclosed", "already_public": false}));
    assert_eq!(served["re_replies"][0]["served_on"], "2025-01-20");
    assert_eq!(served["deadline"]["timeliness"], json!({"status": "on_time", "replied_on": "2024-10-29"}));
    // Counted once, in 2024 under its first outcome; 2025 shows the new reply among the extras.
    let total = |r: &Value| {
        r["tables"][0]["rows"].as_array().unwrap().iter().find(|row| row["code"] == "total").unwrap()["values"][6]
            .clone()
    };
    let y2024 = report(&app, "y2021", 2024).await;
    assert_eq!(total(&y2024), 1);
    assert_eq!(y2024["extras"]["re_replies_issued"], 0);
    let y2025 = report(&app, "y2021", 2025).await;
    assert_eq!(total(&y2025), 0);
    assert_eq!(y2025["extras"]["re_replies_issued"], 1);
    let withheld_2024 = y2024["tables"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "withheld_process_information")
        .cloned();
    assert_eq!(withheld_2024.expect("row")["values"][6], 1);
    // Archive as usual.
    app.act_ok(&approver, &id, json!({"action": {"type": "archive"}})).await;
}

/// The XML of each sheet of an XLSX file, and its shared strings.
fn sheets(bytes: &[u8]) -> (Vec<String>, String) {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        archive.by_name(name).ok()?.read_to_string(&mut text).unwrap();
        Some(text)
    };
    let strings = read("xl/sharedStrings.xml").unwrap();
    let sheets = (1..).map_while(|i| read(&format!("xl/worksheets/sheet{i}.xml"))).collect();
    (sheets, strings)
}

async fn the_spreadsheet_reproduces_the_official_layout(app: TestApp) {
    app.seed_city();
    case_received(&app, "2024-09-27").await;
    let xlsx = |format: &str| {
        let app = &app;
        let path = format!("/api/v1/reports/{format}/2024?agency=PJ&output=xlsx");
        async move { app.get(&app.admin, &path).await.bytes().await.unwrap().to_vec() }
    };
    let (national, strings) = sheets(&xlsx("y2021").await);
    // Table 三: the two-level applicant header as merged cells under the corner note.
    for merged in ["B3:H3", "B4:B5", "C4:G4", "H4:H5", "A3:A5"] {
        assert!(national[0].contains(&format!("<mergeCell ref=\"{merged}\"/>")), "{merged} in {}", national[0]);
    }
    // Table 四: 行政复议 over five columns, 行政诉讼 over ten, split by how the suit came.
    for merged in ["A3:E3", "F3:O3", "F4:J4", "K4:O4", "A4:A5"] {
        assert!(national[1].contains(&format!("<mergeCell ref=\"{merged}\"/>")), "{merged}");
    }
    for sheet in &national {
        assert!(sheet.contains("orientation=\"landscape\""), "landscape");
        assert!(sheet.contains("paperSize=\"9\""), "A4");
        assert!(sheet.contains("fitToPage=\"1\""), "fitted to the page width");
    }
    for text in [
        "申请人情况",
        "法人或其他组织",
        "未经复议直接起诉",
        "复议后起诉",
        "六、其他需要报告的事项：信息处理费",
        "勾稽关系（总计）",
    ] {
        assert!(strings.contains(text), "{text}");
    }
    assert!(strings.contains("2024年政府信息公开工作年度报告") && !strings.contains("y2021"), "the official title");
    let (_, strings) = sheets(&xlsx("pre2019").await);
    assert!(
        strings.contains("2024年政府信息公开情况统计表")
            && strings.contains("统计指标")
            && strings.contains("填报单位")
    );
    // The CSV keeps one header row per column for machines.
    let csv = app.get(&app.admin, "/api/v1/reports/y2021/2024?agency=PJ&output=csv").await.text().await.unwrap();
    assert!(csv.contains("项目,自然人,商业企业,科研机构,社会公益组织,法律服务机构,其他,总计"), "{csv}");
}

/// Sets whether `ogi2008` allows an Art. 35 delay, as an older release's data did, and tells the
/// running service's cache.
fn allow_2008_delay(app: &TestApp, allowed: bool) {
    use diesel::prelude::*;
    use foi_tracker::db::schema::{calendar_revision, regimes};
    let mut conn = app.db.conn().expect("connection");
    diesel::update(regimes::table.filter(regimes::code.eq("ogi2008")))
        .set(regimes::agency_delay_allowed.eq(allowed))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(calendar_revision::table)
        .set(calendar_revision::revision.eq(calendar_revision::revision + 1))
        .execute(&mut *conn)
        .unwrap();
}

async fn a_history_the_regime_no_longer_allows_is_a_conflict_not_an_error(app: TestApp) {
    app.seed_city();
    let approver = app.token(Role::Approver, "PJ");
    let id = case_received(&app, "2015-09-01").await;
    // An Art. 35 delay recorded on a 2008 case before the regime said it has none.
    allow_2008_delay(&app, true);
    clock_ok(&app, &approver, &id, json!({"event": {"type": "delay_set", "on": "2015-09-10", "until": "2015-12-01"}}))
        .await;
    allow_2008_delay(&app, false);
    let res = app.get(&app.admin, &format!("/api/v1/cases/{id}/deadline")).await;
    let problem = assert_problem(res, 409, "conflict").await;
    assert!(problem["detail"].as_str().unwrap().contains("2015-12-01"), "{problem}");
    // The case itself still reads, with its stored deadline, and offers no clock events.
    let c = case(&app, &id).await;
    assert_eq!(c["deadline"]["final_due_on"], "2015-12-01");
    assert!(!c["allowed_actions"].as_array().unwrap().contains(&json!("consultation_sent")));
}
