//! Clock events on cases: corrections, consultations, extensions, delays, fees and replies.

use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    a_correction_stops_the_clock_and_its_arrival_restarts_the_full_period,
    a_late_correction_notice_needs_an_approvers_override,
    a_lapsed_correction_deems_the_case_abandoned,
    consultation_days_do_not_count,
    extensions_need_an_approver_a_reason_and_stay_within_the_cap,
    fee_notice_and_art35_delay,
    the_reply_date_decides_on_time_extended_or_late,
    bad_clock_events_are_refused_and_change_nothing,
    the_lapse_job_deems_unanswered_corrections_abandoned_once,
    changes_need_the_current_etag,
    concurrent_clock_events_on_one_case_never_both_succeed,
    evidence_is_masked_for_the_statistician,
);

/// A case received on `date` (China time, 10:00) at PJ.
pub(crate) async fn case_received(app: &TestApp, date: &str) -> String {
    let mut body = intake("PJ");
    body["arrived_at"] = json!(format!("{date}T10:00:00+08:00"));
    let res = app.post_case(&app.admin, &body).await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    case["id"].as_str().unwrap().to_owned()
}

/// The case's current ETag.
async fn etag(app: &TestApp, id: &str) -> String {
    let res = app.get(&app.admin, &format!("/api/v1/cases/{id}")).await;
    res.headers()["etag"].to_str().unwrap().to_owned()
}

/// Posts a clock event with the case's current ETag as If-Match.
pub(crate) async fn clock(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    let tag = etag(app, id).await;
    post_clock(app, token, id, &body, Some(&tag)).await
}

async fn post_clock(app: &TestApp, token: &str, id: &str, body: &Value, if_match: Option<&str>) -> reqwest::Response {
    let mut request =
        app.client.post(app.url(&format!("/api/v1/cases/{id}/clock-events"))).bearer_auth(token).json(body);
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    request.send().await.unwrap()
}

pub(crate) async fn clock_ok(app: &TestApp, token: &str, id: &str, body: Value) -> Value {
    let res = clock(app, token, id, body.clone()).await;
    assert_eq!(res.status(), 201, "{body}");
    res.json().await.unwrap()
}

pub(crate) async fn case(app: &TestApp, id: &str) -> Value {
    app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await
}

async fn a_correction_stops_the_clock_and_its_arrival_restarts_the_full_period(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let id = case_received(&app, "2024-03-01").await;
    let d = clock_ok(&app, &handler, &id, json!({"event": {"type": "correction_notice_sent", "on": "2024-03-04", "respond_by": "2024-03-18"}, "evidence": "补正告知书 2024-001"})).await;
    assert_eq!(d["deadline"]["clock"]["state"], "awaiting_correction");
    assert_eq!(d["deadline"]["due_on"], Value::Null);
    let c = case(&app, &id).await;
    assert_eq!(c["deadline"]["timeliness"]["status"], "stopped");
    assert_eq!(c["deadline"]["final_due_on"], Value::Null);
    // A stopped clock is never overdue.
    let overdue = app.get_json(&app.admin, "/api/v1/cases?overdue=true").await;
    assert!(overdue["items"].as_array().unwrap().is_empty());
    let d = clock_ok(&app, &handler, &id, json!({"event": {"type": "correction_received", "on": "2024-03-11"}})).await;
    assert_eq!(d["deadline"]["counting_from"], "2024-03-11");
    assert_eq!(d["deadline"]["due_on"], "2024-04-09");
    assert_eq!(case(&app, &id).await["deadline"]["final_due_on"], "2024-04-09");
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let kinds: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["received", "registered", "deadline_set", "clock", "deadline_set", "clock", "deadline_set"]);
    assert_eq!(events[3]["payload"]["evidence"], "补正告知书 2024-001");
    assert_eq!(events[6]["payload"]["previous"]["due_on"], Value::Null);
    assert_eq!(events[6]["payload"]["deadline"]["due_on"], "2024-04-09");
}

async fn a_late_correction_notice_needs_an_approvers_override(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let approver = app.token(Role::Approver, "PJ");
    let id = case_received(&app, "2024-09-27").await;
    // The window closes on Saturday 2024-10-12 (a make-up working day).
    let late = json!({"type": "correction_notice_sent", "on": "2024-10-14", "respond_by": "2024-10-28"});
    let problem = assert_problem(clock(&app, &handler, &id, json!({"event": late})).await, 422, "validation").await;
    assert!(problem["detail"].as_str().unwrap().contains("2024-10-12"));
    let res =
        clock(&app, &handler, &id, json!({"event": late, "override_reason": "申请人地址变更，无法及时送达"})).await;
    assert_problem(res, 403, "forbidden").await;
    let res = clock(&app, &approver, &id, json!({"event": late, "override_reason": "  "})).await;
    assert_problem(res, 422, "validation").await;
    let d =
        clock_ok(&app, &approver, &id, json!({"event": late, "override_reason": "申请人地址变更，无法及时送达"})).await;
    assert_eq!(d["deadline"]["clock"]["state"], "awaiting_correction");
    // Within the window a handler needs nobody.
    let id2 = case_received(&app, "2024-09-27").await;
    clock_ok(
        &app,
        &handler,
        &id2,
        json!({"event": {"type": "correction_notice_sent", "on": "2024-10-12", "respond_by": "2024-10-28"}}),
    )
    .await;
}

async fn a_lapsed_correction_deems_the_case_abandoned(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let id = case_received(&app, "2024-03-01").await;
    clock_ok(
        &app,
        &handler,
        &id,
        json!({"event": {"type": "correction_notice_sent", "on": "2024-03-04", "respond_by": "2024-03-18"}}),
    )
    .await;
    let d = clock_ok(&app, &handler, &id, json!({"event": {"type": "correction_lapsed", "on": "2024-03-19"}})).await;
    assert_eq!(d["timeliness"]["status"], "deemed_abandoned");
    let c = case(&app, &id).await;
    assert_eq!(c["state"], "deemed_abandoned");
    assert_eq!(c["deadline"]["timeliness"]["status"], "deemed_abandoned");
    let res = clock(&app, &handler, &id, json!({"event": {"type": "replied", "on": "2024-03-20"}})).await;
    assert_problem(res, 409, "conflict").await;
}

async fn consultation_days_do_not_count(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let id = case_received(&app, "2015-03-06").await;
    assert_eq!(case(&app, &id).await["deadline"]["due_on"], "2015-03-27");
    let d = clock_ok(
        &app,
        &handler,
        &id,
        json!({"event": {"type": "consultation_sent", "on": "2015-03-13", "party": "third_party"}}),
    )
    .await;
    assert_eq!(d["deadline"]["clock"]["state"], "paused");
    assert_eq!(d["deadline"]["clock"]["remaining_days"], 10);
    assert_eq!(case(&app, &id).await["deadline"]["timeliness"]["status"], "stopped");
    let d =
        clock_ok(&app, &handler, &id, json!({"event": {"type": "consultation_answered", "on": "2015-03-20"}})).await;
    assert_eq!(d["deadline"]["due_on"], "2015-04-03");
    let kinds: Vec<&str> =
        d["explanation"]["steps"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["received", "paused", "resumed"]);
}

async fn extensions_need_an_approver_a_reason_and_stay_within_the_cap(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let approver = app.token(Role::Approver, "PJ");
    let id = case_received(&app, "2015-09-01").await;
    let ext = |days: u32, reason: &str| json!({"event": {"type": "extension_approved", "on": "2015-09-21", "days": days, "reason": reason, "applicant_notified_on": "2015-09-22"}});
    assert_problem(clock(&app, &handler, &id, ext(15, "材料较多")).await, 403, "forbidden").await;
    assert_problem(clock(&app, &approver, &id, ext(15, " ")).await, 422, "validation").await;
    assert_problem(clock(&app, &approver, &id, ext(16, "材料较多")).await, 422, "validation").await;
    let d = clock_ok(&app, &approver, &id, ext(10, "材料较多")).await;
    assert_eq!(d["deadline"]["due_on"], "2015-09-23");
    assert_eq!(d["deadline"]["extended_due_on"], "2015-10-13");
    let problem = assert_problem(clock(&app, &approver, &id, ext(6, "再次延期")).await, 422, "validation").await;
    assert!(problem["detail"].as_str().unwrap().contains("at most 15"));
    let d = clock_ok(&app, &approver, &id, ext(5, "再次延期")).await;
    assert_eq!(d["deadline"]["extended_due_on"], "2015-10-20");
    assert_eq!(d["deadline"]["extension_days_used"], 15);
    let c = case(&app, &id).await;
    assert_eq!(c["deadline"]["due_on"], "2015-09-23", "the original deadline is kept");
    assert_eq!(c["deadline"]["final_due_on"], "2015-10-20");
}

async fn fee_notice_and_art35_delay(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let approver = app.token(Role::Approver, "PJ");
    let id = case_received(&app, "2024-09-27").await;
    // A fee notice needs a fee: 40 pages under the 2020 rules, 10 of them at 10 元.
    let me = app.user_id(&handler).await;
    app.act_ok(&handler, &id, json!({"action": {"type": "assign", "handler_id": me}})).await;
    let problem = assert_problem(
        clock(&app, &handler, &id, json!({"event": {"type": "fee_notice_sent", "on": "2024-10-08"}})).await,
        409,
        "conflict",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("assess_fee"), "{problem}");
    let fee = json!({"action": {"type": "assess_fee", "basis": {"method": "per_page", "pages": 40}}});
    assert_eq!(app.act_ok(&handler, &id, fee.clone()).await["fee"], json!({"charged_fen": 10_000, "waived_fen": 0}));
    clock_ok(&app, &handler, &id, json!({"event": {"type": "fee_notice_sent", "on": "2024-10-08"}})).await;
    assert_eq!(case(&app, &id).await["state"], "awaiting_fee");
    let d = clock_ok(&app, &handler, &id, json!({"event": {"type": "fee_paid", "on": "2024-10-15"}})).await;
    assert_eq!(d["deadline"]["due_on"], "2024-11-07");
    assert_eq!(case(&app, &id).await["state"], "under_review");
    let delay = json!({"event": {"type": "delay_set", "on": "2024-10-16", "until": "2024-12-31"}});
    assert_problem(clock(&app, &handler, &id, delay.clone()).await, 403, "forbidden").await;
    let d = clock_ok(&app, &approver, &id, delay).await;
    assert_eq!(d["deadline"]["final_due_on"], "2024-12-31");
    assert_eq!(case(&app, &id).await["deadline"]["final_due_on"], "2024-12-31");
    // A fee that is not paid ends the request.
    let id2 = case_received(&app, "2024-09-27").await;
    app.act_ok(&handler, &id2, json!({"action": {"type": "assign", "handler_id": me}})).await;
    app.act_ok(&handler, &id2, fee).await;
    clock_ok(&app, &handler, &id2, json!({"event": {"type": "fee_notice_sent", "on": "2024-10-08"}})).await;
    clock_ok(&app, &handler, &id2, json!({"event": {"type": "fee_lapsed", "on": "2024-11-08"}})).await;
    let abandoned = case(&app, &id2).await;
    assert_eq!(abandoned["state"], "deemed_abandoned");
    assert_eq!(abandoned["outcome"], json!({"kind": "other", "reason": "fee_lapsed"}));
}

async fn the_reply_date_decides_on_time_extended_or_late(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let approver = app.token(Role::Approver, "PJ");
    let disclosed = || json!({"kind": "disclosed"});
    let on_time = case_received(&app, "2015-09-01").await;
    app.reply(&on_time, "PJ", "2015-09-23", disclosed()).await;
    let c = case(&app, &on_time).await;
    assert_eq!(c["state"], "replied");
    assert_eq!(c["deadline"]["timeliness"], json!({"status": "on_time", "replied_on": "2015-09-23"}));
    let extended = case_received(&app, "2015-09-01").await;
    clock_ok(&app, &approver, &extended, json!({"event": {"type": "extension_approved", "on": "2015-09-21", "days": 15, "reason": "r", "applicant_notified_on": "2015-09-21"}})).await;
    app.reply(&extended, "PJ", "2015-10-20", disclosed()).await;
    assert_eq!(
        case(&app, &extended).await["deadline"]["timeliness"],
        json!({"status": "extended", "replied_on": "2015-10-20"})
    );
    let late = case_received(&app, "2015-09-01").await;
    app.reply(&late, "PJ", "2015-09-24", disclosed()).await;
    assert_eq!(
        case(&app, &late).await["deadline"]["timeliness"],
        json!({"status": "late_reply", "replied_on": "2015-09-24", "days_late": 1})
    );
    // Closed cases are neither overdue nor open.
    let overdue = app.get_json(&app.admin, "/api/v1/cases?overdue=true").await;
    assert!(overdue["items"].as_array().unwrap().is_empty());
    // A reply is served by the workflow, never posted as a clock event.
    let replied = json!({"event": {"type": "replied", "on": "2015-09-25"}});
    let problem = assert_problem(clock(&app, &handler, &late, replied).await, 409, "conflict").await;
    assert!(problem["detail"].as_str().unwrap().contains("serve"), "{problem}");
}

async fn bad_clock_events_are_refused_and_change_nothing(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let id = case_received(&app, "2015-09-01").await;
    let before = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    for (body, status, path) in [
        (
            json!({"event": {"type": "consultation_sent", "on": "2099-01-01", "party": "third_party"}}),
            422,
            Some("event.on"),
        ),
        (
            json!({"event": {"type": "consultation_sent", "on": "2015-08-31", "party": "third_party"}}),
            422,
            Some("event"),
        ),
        (json!({"event": {"type": "teleported", "on": "2015-09-02"}}), 422, Some("event.type")),
        (json!({"event": {"type": "consultation_sent", "party": "third_party"}}), 422, Some("event.on")),
        (json!({"event": {"type": "consultation_answered", "on": "2015-09-02"}}), 409, None),
        (json!({"event": {"type": "correction_received", "on": "2015-09-02"}}), 409, None),
        (json!({"event": {"type": "replied", "on": "2015-09-02"}}), 409, None),
        (json!({"event": {"type": "withdrawn", "on": "2015-09-02"}}), 409, None),
        (json!({"event": {"type": "fee_notice_sent", "on": "2015-09-02"}}), 409, None),
        (
            json!({"event": {"type": "consultation_sent", "on": "2015-09-02", "party": "third_party"}, "colour": "red"}),
            422,
            Some("colour"),
        ),
    ] {
        let res = clock(&app, &handler, &id, body.clone()).await;
        let slug = match (status, body["event"]["type"].as_str()) {
            (409, Some("consultation_answered" | "correction_received" | "fee_notice_sent")) => "illegal-transition",
            (409, _) => "conflict",
            _ => "validation",
        };
        let problem = assert_problem(res, status, slug).await;
        if let Some(path) = path {
            assert_eq!(problem["errors"][0]["path"], path, "{body}");
        }
    }
    for role in [Role::Clerk, Role::Statistician] {
        let res =
            clock(&app, &app.token(role, "PJ"), &id, json!({"event": {"type": "replied", "on": "2015-09-02"}})).await;
        assert_problem(res, 403, "forbidden").await;
    }
    let outsider = app.token(Role::Handler, "PJ-XLT");
    let res = clock(&app, &outsider, &id, json!({"event": {"type": "replied", "on": "2015-09-02"}})).await;
    assert_problem(res, 404, "not-found").await;
    let after = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    assert_eq!(before, after);
}

fn run_lapses(app: &TestApp) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .arg("lapses")
        .env("FOI__DATABASE__URL", &app.database_url)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn the_lapse_job_deems_unanswered_corrections_abandoned_once(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let waiting = case_received(&app, "2024-03-01").await;
    clock_ok(
        &app,
        &handler,
        &waiting,
        json!({"event": {"type": "correction_notice_sent", "on": "2024-03-04", "respond_by": "2024-03-18"}}),
    )
    .await;
    let answered = case_received(&app, "2024-03-01").await;
    clock_ok(
        &app,
        &handler,
        &answered,
        json!({"event": {"type": "correction_notice_sent", "on": "2024-03-04", "respond_by": "2024-03-18"}}),
    )
    .await;
    clock_ok(&app, &handler, &answered, json!({"event": {"type": "correction_received", "on": "2024-03-15"}})).await;
    let out = run_lapses(&app);
    assert!(out.contains("PJ-2024-00001: correction lapsed") && out.ends_with("1 case(s) deemed abandoned\n"), "{out}");
    let c = case(&app, &waiting).await;
    assert_eq!(c["state"], "deemed_abandoned");
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{waiting}/events")).await;
    let lapse = &events.as_array().unwrap()[5];
    assert_eq!(lapse["payload"]["event"], json!({"type": "correction_lapsed", "on": "2024-03-19"}));
    assert_eq!(lapse["actor_id"], Value::Null);
    assert_eq!(case(&app, &answered).await["state"], "registered");
    assert!(run_lapses(&app).ends_with("0 case(s) deemed abandoned\n"));
}

async fn changes_need_the_current_etag(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let id = case_received(&app, "2015-09-01").await;
    let body = json!({"event": {"type": "consultation_sent", "on": "2015-09-02", "party": "other_agency"}});
    assert_problem(post_clock(&app, &handler, &id, &body, None).await, 428, "precondition-required").await;
    assert_problem(post_clock(&app, &handler, &id, &body, Some("\"stale\"")).await, 412, "precondition-failed").await;
    let before = etag(&app, &id).await;
    let res = post_clock(&app, &handler, &id, &body, Some(&before)).await;
    assert_eq!(res.status(), 201);
    let after = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(after, before);
    assert_eq!(after, etag(&app, &id).await);
    // The old ETag is stale now.
    let answer = json!({"event": {"type": "consultation_answered", "on": "2015-09-03"}});
    assert_problem(post_clock(&app, &handler, &id, &answer, Some(&before)).await, 412, "precondition-failed").await;
    assert_eq!(post_clock(&app, &handler, &id, &answer, Some(&after)).await.status(), 201);
}

async fn concurrent_clock_events_on_one_case_never_both_succeed(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let id = case_received(&app, "2015-09-01").await;
    let tag = etag(&app, &id).await;
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let request = app
                .client
                .post(app.url(&format!("/api/v1/cases/{id}/clock-events")))
                .bearer_auth(&handler)
                .header("If-Match", &tag)
                .json(&json!({"event": {"type": "consultation_sent", "on": format!("2015-09-{:02}", 10 + i), "party": "third_party"}}));
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 412), "{statuses:?}");
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    assert_eq!(events.as_array().unwrap().len(), 5, "one clock event and its deadline_set");
}

async fn evidence_is_masked_for_the_statistician(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let statistician = app.token(Role::Statistician, "PJ");
    let mut body = intake("PJ");
    body["received_on"] = json!("2015-03-03");
    body["receipt_basis"] = json!("ordinary_mail_confirmed");
    body["receipt_evidence"] = json!("电话 15704271234 确认");
    let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
    let id = case["id"].as_str().unwrap();
    clock_ok(&app, &handler, id, json!({"event": {"type": "consultation_sent", "on": "2015-03-20", "party": "third_party"}, "evidence": "挂号信 XA123456789CN，申请人电话 15704271234"})).await;
    let read = app.get_json(&statistician, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(read["receipt_evidence"], "电话 157******** 确认");
    let events = app.get_json(&statistician, &format!("/api/v1/cases/{id}/events")).await;
    let text = events.to_string();
    assert!(!text.contains("15704271234") && !text.contains("123456789"), "{text}");
    assert_eq!(events[3]["payload"]["evidence"], "挂号信 XA123******CN，申请人电话 157********");
    // Case workers see the evidence whole.
    let events = app.get_json(&handler, &format!("/api/v1/cases/{id}/events")).await;
    assert_eq!(events[3]["payload"]["evidence"], "挂号信 XA123456789CN，申请人电话 15704271234");
    assert_eq!(
        app.get_json(&handler, &format!("/api/v1/cases/{id}")).await["receipt_evidence"],
        "电话 15704271234 确认"
    );
}
