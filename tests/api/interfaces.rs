//! Probes, OpenAPI, Swagger UI, request ids, agencies and topics over HTTP.

use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};

crate::on_both_backends!(
    probes_answer_without_a_token,
    openapi_document_covers_every_route,
    every_operation_documents_the_problems_it_can_answer,
    swagger_ui_is_served_offline,
    every_response_carries_a_request_id,
    administrators_manage_agencies_and_topics,
    me_describes_the_caller,
);

async fn probes_answer_without_a_token(app: TestApp) {
    let live: Value = app.client.get(app.url("/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(live["status"], "ok");
    let ready: Value = app.client.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert!(["sqlite", "postgres"].contains(&ready["database"].as_str().unwrap()));
}

/// The common problem responses are declared once and reach every operation they apply to; a
/// path's own, more specific declaration is kept.
async fn every_operation_documents_the_problems_it_can_answer(app: TestApp) {
    let doc: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let responses = &op["responses"];
            let mut expected = vec!["500", "503"];
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                expected.extend(["401", "429"]);
            }
            if op.get("requestBody").is_some() {
                expected.extend(["400", "413", "415", "422"]);
            }
            for status in expected {
                let schema = &responses[status]["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/Problem", "{method} {path} {status}");
            }
        }
    }
    assert!(operations >= 25, "{operations} operations");
    // A client generator names a function after each operationId: all present, unique, descriptive.
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(id.len() > 6 && id.chars().next().unwrap().is_ascii_lowercase(), "{id}");
            assert!(ids.insert(id.to_owned()), "operationId {id} used twice");
            assert!(op["tags"].as_array().is_some_and(|t| t.len() == 1), "{id} has one tag");
        }
    }
    // Every reference resolves (a client generator stops at the first that does not).
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v.as_str()) {
                        ("$ref", Some(target)) => out.push(target),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(targets.len() > 50);
    for target in targets {
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{target}"));
        assert!(doc["components"]["schemas"][name].is_object(), "{target} does not resolve");
    }
    let create = &doc["paths"]["/api/v1/cases"]["post"]["responses"];
    assert_eq!(create["400"]["description"], "Malformed JSON or header", "a path's own wording is kept");
    assert_eq!(create["401"]["description"], "No or unknown token");
}

async fn openapi_document_covers_every_route(app: TestApp) {
    let doc: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, method) in [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/v1/cases", "post"),
        ("/api/v1/cases", "get"),
        ("/api/v1/cases/{id}", "get"),
        ("/api/v1/cases/{id}/events", "get"),
        ("/api/v1/agencies", "get"),
        ("/api/v1/agencies", "post"),
        ("/api/v1/agencies/{code}/topics", "get"),
        ("/api/v1/agencies/{code}/topics/{topic}", "put"),
        ("/api/v1/me", "get"),
        ("/api/v1/cases/{id}/deadline", "get"),
        ("/api/v1/audit/verify", "get"),
        ("/api/v1/cases/{id}/clock-events", "post"),
        ("/api/v1/deadlines/calculate", "get"),
        ("/api/v1/calendar", "get"),
        ("/api/v1/calendar/notices", "post"),
        ("/api/v1/calendar/days/{date}", "put"),
        ("/api/v1/calendar/days/{date}", "delete"),
        ("/api/v1/agencies/{code}/calendar/days/{date}", "put"),
        ("/api/v1/agencies/{code}/calendar/days/{date}", "delete"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} missing");
    }
    for schema in [
        "IntakeInput",
        "CaseResponse",
        "CaseList",
        "Problem",
        "FieldError",
        "Channel",
        "ApplicantKind",
        "Calculation",
        "ClockEventInput",
        "ClockEvent",
        "Timeliness",
        "YearNotice",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema} missing");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

async fn swagger_ui_is_served_offline(app: TestApp) {
    let res = app.client.get(app.url("/api/v1/docs/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let res = app.client.get(app.url("/api/v1/docs/swagger-ui-bundle.js")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

async fn every_response_carries_a_request_id(app: TestApp) {
    for path in ["/healthz", "/api/v1/cases", "/nowhere"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 36, "{path}");
    }
    let res = app.client.get(app.url("/healthz")).header("x-request-id", "lb-42.abc").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "lb-42.abc");
    let res = app.client.get(app.url("/healthz")).header("x-request-id", "bad id with spaces").send().await.unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}

async fn administrators_manage_agencies_and_topics(app: TestApp) {
    let post =
        |token: &str, body: Value| app.client.post(app.url("/api/v1/agencies")).bearer_auth(token).json(&body).send();
    let res =
        post(&app.admin, json!({"code": "PJ", "name": "盘锦市人民政府", "email": "gk@panjin.gov.cn"})).await.unwrap();
    assert_eq!(res.status(), 201);
    let city: Value = res.json().await.unwrap();
    assert_eq!(city["path"], "/PJ/");
    assert_eq!(city["parent"], Value::Null);
    let res = post(&app.admin, json!({"code": "PJ-XLT", "name": "兴隆台区", "parent": "PJ"})).await.unwrap();
    assert_eq!(res.status(), 201);
    assert_problem(post(&app.admin, json!({"code": "PJ", "name": "again"})).await.unwrap(), 409, "conflict").await;
    let problem =
        assert_problem(post(&app.admin, json!({"code": "pj x", "name": "bad"})).await.unwrap(), 422, "validation")
            .await;
    assert_eq!(problem["errors"][0]["path"], "code");
    let problem = assert_problem(
        post(&app.admin, json!({"code": "X", "name": "x", "parent": "NOPE"})).await.unwrap(),
        422,
        "validation",
    )
    .await;
    assert_eq!(problem["errors"][0]["path"], "parent");
    let clerk = app.token(Role::Clerk, "PJ");
    assert_problem(
        post(&clerk, json!({"code": "PJ-DW", "name": "大洼区", "parent": "PJ"})).await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    // A district administrator cannot add a root.
    let district_admin = app.token(Role::Admin, "PJ-XLT");
    assert_problem(post(&district_admin, json!({"code": "SY", "name": "沈阳市"})).await.unwrap(), 403, "forbidden")
        .await;

    let put =
        |token: &str, path: &str, body: Value| app.client.put(app.url(path)).bearer_auth(token).json(&body).send();
    let res = put(&app.admin, "/api/v1/agencies/PJ/topics/urban", json!({"label": "城建环保类"})).await.unwrap();
    assert_eq!(res.status(), 200);
    put(&app.admin, "/api/v1/agencies/PJ-XLT/topics/urban", json!({"label": "城建类（区）"})).await.unwrap();
    put(&app.admin, "/api/v1/agencies/PJ/topics/farming", json!({"label": "农林水类"})).await.unwrap();
    let topics = app.get_json(&clerk, "/api/v1/agencies/PJ-XLT/topics").await;
    assert_eq!(
        topics,
        json!([
            {"code": "farming", "label": "农林水类", "defined_by": "PJ"},
            {"code": "urban", "label": "城建类（区）", "defined_by": "PJ-XLT"}
        ])
    );
    assert_problem(put(&clerk, "/api/v1/agencies/PJ/topics/x", json!({"label": "x"})).await.unwrap(), 403, "forbidden")
        .await;
    let problem = assert_problem(
        put(&app.admin, "/api/v1/agencies/PJ/topics/Bad%20Code", json!({"label": "x"})).await.unwrap(),
        422,
        "validation",
    )
    .await;
    assert_eq!(problem["errors"][0]["path"], "code");
    assert_problem(
        put(&app.admin, "/api/v1/agencies/NOPE/topics/x", json!({"label": "x"})).await.unwrap(),
        404,
        "not-found",
    )
    .await;
}

async fn me_describes_the_caller(app: TestApp) {
    let me = app.get_json(&app.admin, "/api/v1/me").await;
    assert_eq!(me["role"], "admin");
    assert_eq!(me["agency"], Value::Null);
}
