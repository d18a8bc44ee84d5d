//! Intake: channels, receipt dates, numbering, idempotency, concurrency, Unicode.

use std::collections::HashSet;

use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    every_channel_registers_with_a_derived_receipt_date,
    every_channel_registers_with_a_given_receipt_date,
    arrival_late_in_the_china_day_counts_on_that_china_date,
    regime_follows_the_receipt_date,
    tracking_numbers_run_per_agency_and_per_year,
    idempotent_retry_returns_the_first_response_and_creates_nothing,
    idempotency_key_reused_with_another_body_is_refused,
    concurrent_burst_of_200_intakes_gets_gap_free_unique_numbers,
    concurrent_retries_with_one_key_create_one_case,
    unicode_round_trips_byte_exact,
    topic_must_be_in_the_agency_taxonomy,
    registration_outside_scope_or_role_is_forbidden,
    unknown_agency_is_a_validation_error,
);

const CHANNELS: [(&str, &str); 5] = [
    ("in_person", "submitted_in_person"),
    ("letter", "post_signed_for"),
    ("fax", "fax_confirmed"),
    ("web", "online_confirmed"),
    ("email", "email_system_received"),
];

async fn every_channel_registers_with_a_derived_receipt_date(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    for (channel, basis) in CHANNELS {
        let mut body = intake("PJ");
        body["channel"] = json!(channel);
        let res = app.post_case(&clerk, &body).await;
        assert_eq!(res.status(), 201, "{channel}");
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let case: Value = res.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/cases/{}", case["id"].as_str().unwrap()));
        assert_eq!(case["channel"], channel);
        assert_eq!(case["received_on"], "2015-03-02");
        assert_eq!(case["receipt_basis"], basis);
        assert_eq!(case["state"], "registered");
        assert_eq!(case["regime"], "ogi2008");
        // 15 working days counted from Tuesday 3 March 2015.
        assert_eq!(case["deadline"]["due_on"], "2015-03-23");
        assert_eq!(case["deadline"]["final_due_on"], "2015-03-23");
        assert_eq!(case["deadline"]["provisional"], false);
        assert_eq!(case["deadline"]["timeliness"]["status"], "overdue");
        assert_eq!(case["agency"], "PJ");
        assert_eq!(case["arrived_at"], "2015-03-02T01:30:00Z");
        assert_eq!(case["personal_data_masked"], false);
        assert_eq!(case["applicant"]["phone"], "15704271234");
        // What was stored is what was answered.
        let stored = app.get_json(&clerk, &location).await;
        assert_eq!(stored, case);
    }
}

async fn every_channel_registers_with_a_given_receipt_date(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    for (channel, basis) in CHANNELS {
        let mut body = intake("PJ");
        body["channel"] = json!(channel);
        body["received_on"] = json!("2015-03-04");
        body["receipt_evidence"] = json!("2015-03-04 电话确认");
        let res = app.post_case(&clerk, &body).await;
        assert_eq!(res.status(), 201, "{channel}");
        let case: Value = res.json().await.unwrap();
        assert_eq!(case["received_on"], "2015-03-04");
        assert_eq!(case["receipt_basis"], basis);
        assert_eq!(case["receipt_evidence"], "2015-03-04 电话确认");
    }
    // Ordinary mail confirmed by phone is a letter's other legal basis.
    let mut body = intake("PJ");
    body["received_on"] = json!("2015-03-05");
    body["receipt_basis"] = json!("ordinary_mail_confirmed");
    let case: Value = app.post_case(&clerk, &body).await.json().await.unwrap();
    assert_eq!(case["receipt_basis"], "ordinary_mail_confirmed");
    // ... but not a fax's.
    body["channel"] = json!("fax");
    let problem = assert_problem(app.post_case(&clerk, &body).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "receipt_basis");
}

async fn arrival_late_in_the_china_day_counts_on_that_china_date(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let mut body = intake("PJ");
    // 23:59 on 31 December 2015 in Beijing is still 2015 there.
    body["arrived_at"] = json!("2015-12-31T15:59:00Z");
    let case: Value = app.post_case(&clerk, &body).await.json().await.unwrap();
    assert_eq!(case["received_on"], "2015-12-31");
    assert_eq!(case["tracking_number"], "PJ-2015-00001");
    body["arrived_at"] = json!("2015-12-31T16:00:00Z");
    let case: Value = app.post_case(&clerk, &body).await.json().await.unwrap();
    assert_eq!(case["received_on"], "2016-01-01");
    assert_eq!(case["tracking_number"], "PJ-2016-00001");
}

async fn regime_follows_the_receipt_date(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    for (date, regime) in [("2019-05-14", "ogi2008"), ("2019-05-15", "ogi2019")] {
        let mut body = intake("PJ");
        body["arrived_at"] = json!("2019-05-14T09:00:00+08:00");
        body["received_on"] = json!(date);
        let case: Value = app.post_case(&clerk, &body).await.json().await.unwrap();
        assert_eq!(case["regime"], regime, "{date}");
    }
}

async fn tracking_numbers_run_per_agency_and_per_year(app: TestApp) {
    app.seed_city();
    let admin = app.admin.clone();
    let mut numbers = Vec::new();
    for (agency, arrived) in [
        ("PJ", "2015-03-02T09:00:00+08:00"),
        ("PJ", "2015-03-03T09:00:00+08:00"),
        ("PJ-XLT", "2015-03-03T09:00:00+08:00"),
        ("PJ", "2016-01-04T09:00:00+08:00"),
        ("PJ", "2015-12-30T09:00:00+08:00"),
    ] {
        let mut body = intake(agency);
        body["arrived_at"] = json!(arrived);
        let case: Value = app.post_case(&admin, &body).await.json().await.unwrap();
        numbers.push(case["tracking_number"].as_str().unwrap().to_owned());
    }
    assert_eq!(numbers, ["PJ-2015-00001", "PJ-2015-00002", "PJ-XLT-2015-00001", "PJ-2016-00001", "PJ-2015-00003"]);
}

async fn idempotent_retry_returns_the_first_response_and_creates_nothing(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let send = || {
        app.client
            .post(app.url("/api/v1/cases"))
            .bearer_auth(&clerk)
            .header("Idempotency-Key", "intake-2015-0001")
            .json(&intake("PJ"))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let retry = send().await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);
    assert_eq!(app.case_count(), 1);
    // Keys belong to their user: another clerk's identical key is a new request.
    let other = app.token(Role::Clerk, "PJ");
    let res = app
        .client
        .post(app.url("/api/v1/cases"))
        .bearer_auth(&other)
        .header("Idempotency-Key", "intake-2015-0001")
        .json(&intake("PJ"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(app.case_count(), 2);
}

async fn idempotency_key_reused_with_another_body_is_refused(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let send = |body: Value| {
        app.client.post(app.url("/api/v1/cases")).bearer_auth(&clerk).header("Idempotency-Key", "k1").json(&body).send()
    };
    assert_eq!(send(intake("PJ")).await.unwrap().status(), 201);
    let mut other = intake("PJ");
    other["description"] = json!("另一个申请");
    assert_problem(send(other).await.unwrap(), 422, "idempotency-key-reused").await;
    assert_eq!(app.case_count(), 1);
    let bad_key = app
        .client
        .post(app.url("/api/v1/cases"))
        .bearer_auth(&clerk)
        .header("Idempotency-Key", "")
        .json(&intake("PJ"))
        .send();
    assert_problem(bad_key.await.unwrap(), 400, "bad-request").await;
}

async fn concurrent_burst_of_200_intakes_gets_gap_free_unique_numbers(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let requests = (0..200).map(|i| {
        let mut body = intake("PJ");
        body["description"] = json!(format!("burst {i}"));
        let request = app.client.post(app.url("/api/v1/cases")).bearer_auth(&clerk).json(&body);
        tokio::spawn(async move { request.send().await.unwrap() })
    });
    let mut numbers = HashSet::new();
    for handle in requests.collect::<Vec<_>>() {
        let res = handle.await.unwrap();
        assert_eq!(res.status(), 201);
        let case: Value = res.json().await.unwrap();
        assert!(numbers.insert(case["tracking_number"].as_str().unwrap().to_owned()), "duplicate number");
    }
    let expected: HashSet<String> = (1..=200).map(|n| format!("PJ-2015-{n:05}")).collect();
    assert_eq!(numbers, expected);
    assert_eq!(app.case_count(), 200);
}

async fn concurrent_retries_with_one_key_create_one_case(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let request = app
                .client
                .post(app.url("/api/v1/cases"))
                .bearer_auth(&clerk)
                .header("Idempotency-Key", "same")
                .json(&intake("PJ"));
            tokio::spawn(async move { request.send().await.unwrap() })
        })
        .collect();
    let mut ids = HashSet::new();
    for handle in handles {
        let res = handle.await.unwrap();
        assert_eq!(res.status(), 201);
        let case: Value = res.json().await.unwrap();
        ids.insert(case["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(app.case_count(), 1);
    // The number the losers' rolled-back transactions drew was given back: the next is 00002.
    let next: Value = app.post_case(&clerk, &intake("PJ")).await.json().await.unwrap();
    assert_eq!(next["tracking_number"], "PJ-2015-00002");
}

async fn unicode_round_trips_byte_exact(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let description = "申请公开《盘锦市2015年城建规划》𠀀𪚥 — café ﬁ e\u{301} 👩‍👩‍👧\n第二行\t制表";
    let name = "欧阳𠮷 Zoë";
    let mut body = intake("PJ");
    body["description"] = json!(description);
    body["applicant"]["name"] = json!(name);
    let created: Value = app.post_case(&clerk, &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let read = app.get(&clerk, &format!("/api/v1/cases/{id}")).await.bytes().await.unwrap();
    let read: Value = serde_json::from_slice(&read).unwrap();
    assert_eq!(read["description"].as_str().unwrap().as_bytes(), description.as_bytes());
    assert_eq!(read["applicant"]["name"].as_str().unwrap().as_bytes(), name.as_bytes());
    // Found by text search in either field.
    let list = app.get_json(&clerk, "/api/v1/cases?q=%F0%A0%AE%B7").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

async fn topic_must_be_in_the_agency_taxonomy(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ-XLT");
    let mut body = intake("PJ-XLT");
    body["topic"] = json!("urban");
    let case: Value = app.post_case(&clerk, &body).await.json().await.unwrap();
    assert_eq!(case["topic"], "urban", "a district inherits the city's taxonomy");
    body["topic"] = json!("farming");
    let problem = assert_problem(app.post_case(&clerk, &body).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "topic");
}

async fn registration_outside_scope_or_role_is_forbidden(app: TestApp) {
    app.seed_city();
    let district_clerk = app.token(Role::Clerk, "PJ-XLT");
    assert_problem(app.post_case(&district_clerk, &intake("PJ")).await, 403, "forbidden").await;
    assert_problem(app.post_case(&district_clerk, &intake("PJ-DW")).await, 403, "forbidden").await;
    let statistician = app.token(Role::Statistician, "PJ");
    assert_problem(app.post_case(&statistician, &intake("PJ")).await, 403, "forbidden").await;
    for role in [Role::Clerk, Role::Handler, Role::Approver, Role::Admin] {
        let token = app.token(role, "PJ");
        assert_eq!(app.post_case(&token, &intake("PJ-XLT")).await.status(), 201, "{role}");
    }
    assert_eq!(app.case_count(), 4);
}

async fn unknown_agency_is_a_validation_error(app: TestApp) {
    app.seed_city();
    let problem = assert_problem(app.post_case(&app.admin, &intake("NOPE")).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "agency");
    assert_eq!(app.case_count(), 0);
}
