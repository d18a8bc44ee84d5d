//! Accounts over HTTP: users created, listed, changed, deactivated; named API tokens with expiry,
//! revoked at once; the problem types that say why a token fails.

use diesel::prelude::*;
use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};

crate::on_both_backends!(
    administrators_manage_the_users_of_their_subtree,
    a_deactivated_users_token_fails_at_once_and_works_again_on_reactivation,
    named_tokens_expire_and_are_revoked_with_a_problem_saying_which,
    handlers_and_office_heads_list_the_colleagues_they_may_assign,
);

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn administrators_manage_the_users_of_their_subtree(app: TestApp) {
    app.seed_city();
    let district_admin = app.token(Role::Admin, "PJ-XLT");
    // Two namesakes in one agency: allowed, and told apart by id and e-mail.
    let mut ids = Vec::new();
    for email in ["wangfang1@panjin.gov.cn", "wangfang2@panjin.gov.cn"] {
        let res = send(
            &app,
            reqwest::Method::POST,
            &district_admin,
            "/api/v1/users",
            Some(json!({"name": "王芳", "role": "clerk", "agency": "PJ-XLT", "email": email})),
        )
        .await;
        assert_eq!(res.status(), 201);
        let created: Value = res.json().await.unwrap();
        assert_eq!(created["user"]["agency"], "PJ-XLT");
        assert_eq!(created["user"]["active"], true);
        // The first token works at once.
        let me = app.get_json(created["token"].as_str().unwrap(), "/api/v1/me").await;
        assert_eq!(me["user_id"], created["user"]["id"]);
        ids.push(created["user"]["id"].as_str().unwrap().to_owned());
    }
    let listed = app.get_json(&district_admin, "/api/v1/users?agency=PJ-XLT&role=clerk").await;
    let namesakes: Vec<&Value> = listed.as_array().unwrap().iter().filter(|u| u["name"] == "王芳").collect();
    assert_eq!(namesakes.len(), 2);
    assert_ne!(namesakes[0]["email"], namesakes[1]["email"]);
    // Outside the subtree: a user there is not found, an agency there is refused.
    let outsider = app.user_id(&app.token(Role::Clerk, "PJ-DW")).await;
    assert_problem(app.get(&district_admin, &format!("/api/v1/users/{outsider}")).await, 404, "not-found").await;
    let res = send(
        &app,
        reqwest::Method::POST,
        &district_admin,
        "/api/v1/users",
        Some(json!({"name": "x", "role": "clerk", "agency": "PJ-DW"})),
    )
    .await;
    assert_problem(res, 403, "forbidden").await;
    let res = send(
        &app,
        reqwest::Method::POST,
        &district_admin,
        "/api/v1/users",
        Some(json!({"name": "x", "role": "admin"})),
    )
    .await;
    assert_problem(res, 403, "forbidden").await;
    // Change name, role and e-mail; clearing the e-mail with null.
    let path = format!("/api/v1/users/{}", ids[0]);
    let res = send(
        &app,
        reqwest::Method::PATCH,
        &district_admin,
        &path,
        Some(json!({"name": "王芳（窗口）", "role": "handler"})),
    )
    .await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!((changed["name"].as_str(), changed["role"].as_str()), (Some("王芳（窗口）"), Some("handler")));
    let res = send(&app, reqwest::Method::PATCH, &district_admin, &path, Some(json!({"email": null}))).await;
    let cleared: Value = res.json().await.unwrap();
    assert_eq!(cleared["email"], Value::Null);
    assert_eq!(cleared["name"], "王芳（窗口）", "absent fields stay");
    let res = send(&app, reqwest::Method::PATCH, &district_admin, &path, Some(json!({"agency": "PJ-DW"}))).await;
    assert_problem(res, 403, "forbidden").await;
    // Nobody changes their own role, or deactivates themselves.
    let me = app.user_id(&district_admin).await;
    let res = send(
        &app,
        reqwest::Method::PATCH,
        &district_admin,
        &format!("/api/v1/users/{me}"),
        Some(json!({"role": "clerk"})),
    )
    .await;
    assert_problem(res, 409, "conflict").await;
    let res = send(&app, reqwest::Method::POST, &district_admin, &format!("/api/v1/users/{me}/deactivate"), None).await;
    assert_problem(res, 409, "conflict").await;
    // Anybody reads themselves; not others.
    let clerk = app.token(Role::Clerk, "PJ-XLT");
    let clerk_id = app.user_id(&clerk).await;
    assert_eq!(app.get(&clerk, &format!("/api/v1/users/{clerk_id}")).await.status(), 200);
    assert_problem(app.get(&clerk, &format!("/api/v1/users/{}", ids[1])).await, 403, "forbidden").await;
}

async fn a_deactivated_users_token_fails_at_once_and_works_again_on_reactivation(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let id = app.user_id(&clerk).await;
    let res = send(&app, reqwest::Method::POST, &app.admin, &format!("/api/v1/users/{id}/deactivate"), None).await;
    assert_eq!(res.status(), 200);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["active"], false);
    assert!(user["deactivated_at"].is_string());
    let body = assert_problem(app.get(&clerk, "/api/v1/me").await, 401, "account-deactivated").await;
    assert!(body["detail"].as_str().unwrap().contains("deactivated"));
    // A deactivated user cannot be given a case or a new token.
    let res = send(
        &app,
        reqwest::Method::POST,
        &app.admin,
        &format!("/api/v1/users/{id}/tokens"),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_problem(res, 409, "conflict").await;
    let listed = app.get_json(&app.admin, "/api/v1/users?active=false").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let res = send(&app, reqwest::Method::POST, &app.admin, &format!("/api/v1/users/{id}/reactivate"), None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.get(&clerk, "/api/v1/me").await.status(), 200);
}

async fn named_tokens_expire_and_are_revoked_with_a_problem_saying_which(app: TestApp) {
    use foi_tracker::db::schema::api_tokens;
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let id = app.user_id(&clerk).await;
    // A user makes their own named token with an expiry.
    let res = send(
        &app,
        reqwest::Method::POST,
        &clerk,
        &format!("/api/v1/users/{id}/tokens"),
        Some(json!({"name": "统计导出", "expires_at": "2099-06-30T18:00:00+08:00"})),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(created["prefix"].as_str().unwrap()));
    assert_eq!(created["expires_at"], "2099-06-30T10:00:00Z");
    assert_eq!(app.get(&secret, "/api/v1/me").await.status(), 200);
    let tokens = app.get_json(&clerk, &format!("/api/v1/users/{id}/tokens")).await;
    let tokens = tokens.as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().all(|t| t.get("secret").is_none() && t["last_used_at"].is_string()), "{tokens:?}");
    // An expiry in the past is refused; an expired token says so.
    let res = send(
        &app,
        reqwest::Method::POST,
        &clerk,
        &format!("/api/v1/users/{id}/tokens"),
        Some(json!({"name": "x", "expires_at": "2020-01-01T00:00:00Z"})),
    )
    .await;
    assert_problem(res, 422, "validation").await;
    {
        let mut conn = app.db.conn().unwrap();
        let past = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        diesel::update(api_tokens::table.filter(api_tokens::id.eq(created["id"].as_str().unwrap())))
            .set(api_tokens::expires_at.eq(past))
            .execute(&mut *conn)
            .unwrap();
    }
    assert_problem(app.get(&secret, "/api/v1/me").await, 401, "token-expired").await;
    // Revoking works at once, by the owner or an administrator; others may not.
    let first = tokens.iter().find(|t| t["name"] == "first token").unwrap()["id"].as_str().unwrap().to_owned();
    let other = app.token(Role::Clerk, "PJ");
    let res = send(&app, reqwest::Method::DELETE, &other, &format!("/api/v1/users/{id}/tokens/{first}"), None).await;
    assert_problem(res, 403, "forbidden").await;
    let res =
        send(&app, reqwest::Method::DELETE, &app.admin, &format!("/api/v1/users/{id}/tokens/{first}"), None).await;
    assert_eq!(res.status(), 204);
    assert_problem(app.get(&clerk, "/api/v1/me").await, 401, "token-revoked").await;
    let res =
        send(&app, reqwest::Method::DELETE, &app.admin, &format!("/api/v1/users/{id}/tokens/{first}"), None).await;
    assert_problem(res, 404, "not-found").await;
    // An unknown token stays a plain 401.
    assert_problem(app.get("foi_not-a-token", "/api/v1/me").await, 401, "unauthorized").await;
}

async fn handlers_and_office_heads_list_the_colleagues_they_may_assign(app: TestApp) {
    app.seed_city();
    let head = app.token(Role::Approver, "PJ-XLT");
    let handler = app.token(Role::Handler, "PJ-XLT");
    app.token(Role::Clerk, "PJ-XLT");
    app.token(Role::Handler, "PJ-DW");
    let gone = app.user_id(&app.token(Role::Handler, "PJ-XLT")).await;
    send(&app, reqwest::Method::POST, &app.admin, &format!("/api/v1/users/{gone}/deactivate"), None).await;
    for token in [&head, &handler] {
        let listed = app.get_json(token, "/api/v1/users").await;
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), 2, "the district's active handler and office head: {listed:?}");
        assert!(listed.iter().all(|u| u["agency"] == "PJ-XLT" && u["active"] == true));
        assert!(listed.iter().all(|u| u["role"] == "handler" || u["role"] == "approver"));
    }
    assert_problem(app.get(&app.token(Role::Clerk, "PJ-XLT"), "/api/v1/users").await, 403, "forbidden").await;
    assert_problem(app.get(&app.token(Role::Statistician, "PJ"), "/api/v1/users").await, 403, "forbidden").await;
}
