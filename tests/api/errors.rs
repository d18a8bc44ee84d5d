//! Bad input of every class gets a problem+json answer and changes nothing.

use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    nul_is_refused_with_422_on_every_route_wherever_text_enters,
    malformed_json_is_a_bad_request,
    wrong_types_name_the_field,
    unknown_enum_values_name_the_field,
    impossible_dates_name_the_field,
    missing_and_unknown_fields_name_the_field,
    blank_oversized_and_control_text_is_refused,
    every_bad_field_is_reported_at_once,
    oversized_body_is_413,
    non_json_content_type_is_415,
    unknown_routes_and_wrong_methods_are_problems,
    missing_or_bad_tokens_are_401,
    bad_list_parameters_name_the_parameter,
    unknown_case_ids_are_404,
);

async fn post_raw(app: &TestApp, token: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/cases"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn malformed_json_is_a_bad_request(app: TestApp) {
    app.seed_city();
    for body in ["{", "{\"agency\": \"PJ\",}", "not json", "", "{\"a\":\"\\ud800\"}", "{} {}"] {
        assert_problem(post_raw(&app, &app.admin, "application/json", body.into()).await, 400, "bad-request").await;
    }
    // Invalid UTF-8.
    assert_problem(post_raw(&app, &app.admin, "application/json", vec![b'"', 0xff, b'"']).await, 400, "bad-request")
        .await;
    assert_eq!(app.case_count(), 0);
}

async fn field_problem(app: &TestApp, body: &Value) -> Value {
    assert_problem(app.post_case(&app.admin, body).await, 422, "validation").await
}

async fn wrong_types_name_the_field(app: TestApp) {
    app.seed_city();
    for (path, value) in
        [("agency", json!(5)), ("arrived_at", json!(true)), ("description", json!(["x"])), ("applicant", json!("张三"))]
    {
        let mut body = intake("PJ");
        body[path] = value;
        assert_eq!(field_problem(&app, &body).await["errors"][0]["path"], path);
    }
    let mut body = intake("PJ");
    body["applicant"]["name"] = json!(42);
    assert_eq!(field_problem(&app, &body).await["errors"][0]["path"], "applicant.name");
    assert_eq!(field_problem(&app, &json!([1, 2])).await["errors"][0]["path"], "$");
    assert_eq!(app.case_count(), 0);
}

async fn unknown_enum_values_name_the_field(app: TestApp) {
    app.seed_city();
    for (path, field) in
        [("channel", "channel"), ("delivery_form", "delivery_form"), ("receipt_basis", "receipt_basis")]
    {
        let mut body = intake("PJ");
        body[field] = json!("carrier_pigeon");
        let problem = field_problem(&app, &body).await;
        assert_eq!(problem["errors"][0]["path"], path);
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("carrier_pigeon"));
    }
    let mut body = intake("PJ");
    body["applicant"]["kind"] = json!("robot");
    assert_eq!(field_problem(&app, &body).await["errors"][0]["path"], "applicant.kind");
    assert_eq!(app.case_count(), 0);
}

async fn impossible_dates_name_the_field(app: TestApp) {
    app.seed_city();
    for (field, value) in [
        ("received_on", "2015-02-29"),
        ("received_on", "2015-13-01"),
        ("received_on", "02/03/2015"),
        ("arrived_at", "2015-02-30T09:00:00+08:00"),
        ("arrived_at", "2015-03-02 09:00"),
        ("arrived_at", "2015-03-02T25:00:00Z"),
    ] {
        let mut body = intake("PJ");
        body[field] = json!(value);
        let problem = field_problem(&app, &body).await;
        assert_eq!(problem["errors"][0]["path"], field, "{value}");
    }
    // Real dates that the law cannot accept: the future, or before the Regulation.
    let mut body = intake("PJ");
    body["arrived_at"] = json!("2099-01-01T00:00:00Z");
    assert_eq!(field_problem(&app, &body).await["errors"][0]["path"], "arrived_at");
    body["arrived_at"] = json!("2008-04-30T09:00:00+08:00");
    assert_eq!(field_problem(&app, &body).await["errors"][0]["path"], "arrived_at");
    assert_eq!(app.case_count(), 0);
}

async fn missing_and_unknown_fields_name_the_field(app: TestApp) {
    app.seed_city();
    let mut body = intake("PJ");
    body.as_object_mut().unwrap().remove("channel");
    assert_eq!(field_problem(&app, &body).await["errors"][0]["path"], "channel");
    let mut body = intake("PJ");
    body["applicant"].as_object_mut().unwrap().remove("kind");
    assert_eq!(field_problem(&app, &body).await["errors"][0]["path"], "applicant.kind");
    let mut body = intake("PJ");
    body["chanel"] = json!("letter");
    assert_eq!(field_problem(&app, &body).await["errors"][0]["path"], "chanel");
    assert_eq!(app.case_count(), 0);
}

async fn blank_oversized_and_control_text_is_refused(app: TestApp) {
    app.seed_city();
    for (path, value) in [
        ("description", json!("   ")),
        ("description", json!("a\u{0}b")),
        ("description", json!("x".repeat(20_001))),
        ("applicant.name", json!("")),
        ("applicant.name", json!("\u{7}bell")),
        ("applicant.email", json!("not an email")),
    ] {
        let mut body = intake("PJ");
        match path.split_once('.') {
            Some((outer, inner)) => body[outer][inner] = value,
            None => body[path] = value,
        }
        assert_eq!(field_problem(&app, &body).await["errors"][0]["path"], path);
    }
    assert_eq!(app.case_count(), 0);
}

async fn every_bad_field_is_reported_at_once(app: TestApp) {
    app.seed_city();
    let mut body = intake("PJ");
    body["description"] = json!("");
    body["applicant"]["name"] = json!("");
    body["received_on"] = json!("2015-03-01");
    let problem = field_problem(&app, &body).await;
    let paths: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["received_on", "applicant.name", "description"]);
}

async fn oversized_body_is_413(app: TestApp) {
    app.seed_city();
    let mut body = intake("PJ");
    body["description"] = json!("长".repeat(40_000));
    let bytes = serde_json::to_vec(&body).unwrap();
    assert!(bytes.len() > 65_536);
    assert_problem(post_raw(&app, &app.admin, "application/json", bytes).await, 413, "payload-too-large").await;
    assert_eq!(app.case_count(), 0);
}

async fn non_json_content_type_is_415(app: TestApp) {
    app.seed_city();
    let body = serde_json::to_vec(&intake("PJ")).unwrap();
    assert_problem(post_raw(&app, &app.admin, "text/plain", body.clone()).await, 415, "unsupported-media-type").await;
    let res =
        app.client.post(app.url("/api/v1/cases")).bearer_auth(&app.admin).body(body.clone()).send().await.unwrap();
    assert_problem(res, 415, "unsupported-media-type").await;
    // Parameters after the media type are fine.
    assert_eq!(post_raw(&app, &app.admin, "application/json; charset=utf-8", body).await.status(), 201);
}

async fn unknown_routes_and_wrong_methods_are_problems(app: TestApp) {
    for path in ["/nothing-here", "/api/v2/cases", "/api/v1/casez", "/api/v1/cases/x/y/z"] {
        assert_problem(app.get(&app.admin, path).await, 404, "not-found").await;
    }
    let delete = app.client.delete(app.url("/api/v1/cases")).bearer_auth(&app.admin).send().await.unwrap();
    assert_problem(delete, 405, "method-not-allowed").await;
    let put = app.client.put(app.url("/healthz")).send().await.unwrap();
    assert_problem(put, 405, "method-not-allowed").await;
}

async fn missing_or_bad_tokens_are_401(app: TestApp) {
    app.seed_city();
    let res = app.client.post(app.url("/api/v1/cases")).json(&intake("PJ")).send().await.unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_problem(res, 401, "unauthorized").await;
    for header in ["Bearer nope", "Basic YWRtaW46YWRtaW4=", "Bearer ", "token"] {
        let res = app.client.get(app.url("/api/v1/cases")).header("authorization", header).send().await.unwrap();
        assert_problem(res, 401, "unauthorized").await;
    }
    assert_eq!(app.case_count(), 0);
}

async fn bad_list_parameters_name_the_parameter(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    for (query, path) in [
        ("state=lost", "state"),
        ("channel=pigeon", "channel"),
        ("received_from=2015-02-30", "received_from"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
        ("subtree=maybe", "subtree"),
        ("received_from=2015-03-02&received_to=2015-03-01", "received_from"),
        ("agency=NOPE", "agency"),
        ("colour=blue", "colour"),
    ] {
        let problem = assert_problem(app.get(&clerk, &format!("/api/v1/cases?{query}")).await, 422, "validation").await;
        assert_eq!(problem["errors"][0]["path"], path, "{query}");
    }
}

async fn unknown_case_ids_are_404(app: TestApp) {
    for id in ["01900000-0000-7000-8000-000000000000", "not-a-uuid", "%E5%BC%A0"] {
        assert_problem(app.get(&app.admin, &format!("/api/v1/cases/{id}")).await, 404, "not-found").await;
        assert_problem(app.get(&app.admin, &format!("/api/v1/cases/{id}/events")).await, 404, "not-found").await;
    }
}

/// A value for a path parameter that reaches the handler (a known agency, a case, a date, a year).
fn sample(param: &str, case_id: &str) -> String {
    match param {
        "id" => case_id.to_owned(),
        "code" => "PJ".into(),
        "date" => "2024-03-01".into(),
        "format" => "y2021".into(),
        "year" => "2024".into(),
        "topic" => "urban".into(),
        _ => "x".into(),
    }
}

/// Every operation of the API document, with NUL in its path parameters, in a query parameter, and
/// (for those that take a body) in a JSON string: always 422 naming where, never a 500, nothing
/// stored. PostgreSQL cannot store NUL, so the service refuses it on both backends alike.
async fn nul_is_refused_with_422_on_every_route_wherever_text_enters(app: TestApp) {
    app.seed_city();
    let case: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    let case_id = case["id"].as_str().unwrap().to_owned();
    let cases_before = app.case_count();
    let doc: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let fill = |nul: bool| {
                let mut path = template.clone();
                while let Some(start) = path.find('{') {
                    let end = path[start..].find('}').unwrap() + start;
                    let value = if nul { "x%00y".to_owned() } else { sample(&path[start + 1..end], &case_id) };
                    path.replace_range(start..=end, &value);
                }
                path
            };
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let multipart = op["requestBody"]["content"].get("multipart/form-data").is_some();
            let send = |path: String, body: Option<Value>| {
                let mut request = app.client.request(method.clone(), app.url(&path)).bearer_auth(&app.admin);
                match body {
                    // A form's text field: every string of the JSON body as a field of the form.
                    Some(body) if multipart => {
                        let mut form = reqwest::multipart::Form::new();
                        for (name, value) in body.as_object().unwrap() {
                            form = form.text(name.clone(), value.as_str().unwrap().to_owned());
                        }
                        request = request.multipart(form);
                    }
                    Some(body) => request = request.json(&body),
                    None => {}
                }
                request.send()
            };
            let mut attempts = vec![(format!("{}?agency=PJ%00", fill(false)), None, "agency")];
            if template.contains('{') {
                attempts.push((fill(true), None, "path"));
            }
            if multipart {
                // A text field of the form: an upload's kind, an import's mapping.
                let field = if template.ends_with("/imports") { "mapping" } else { "kind" };
                attempts.push((fill(false), Some(serde_json::json!({ field: "信\u{0}封" })), field));
            } else if op.get("requestBody").is_some() {
                let body = serde_json::json!({"agency": "PJ", "name": "名\u{0}称", "label": "x"});
                attempts.push((fill(false), Some(body), "name"));
            }
            for (path, body, field) in attempts {
                let res = send(path.clone(), body).await.unwrap();
                let status = res.status().as_u16();
                let answer: Value = res.json().await.unwrap_or(Value::Null);
                assert_eq!(status, 422, "{method} {path}: {answer}");
                assert_eq!(answer["errors"][0]["path"], field, "{method} {path}: {answer}");
                assert!(answer["errors"][0]["message"].as_str().unwrap().contains("NUL"), "{answer}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "{checked} requests");
    assert_eq!(app.case_count(), cases_before, "nothing stored");
}
