//! Browser sign-in: passwords, the session cookie and its CSRF token, timeouts, sign-out, the
//! failed sign-in limiter, and the security log that records all of it.

use diesel::prelude::*;
use foi_tracker::db::schema::sessions;
use foi_tracker::domain::role::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, spawn_app, spawn_app_with, Backend, TestApp};

crate::with_each_backend!(
    sign_in_sets_a_strict_http_only_cookie_and_cookie_writes_need_the_csrf_token,
    deactivation_and_a_password_reset_end_sessions_at_once,
    sessions_end_when_idle_and_at_their_absolute_limit,
    failed_sign_ins_are_limited_per_name_and_per_address_and_logged,
    passwords_follow_the_policy_and_a_user_changes_their_own_with_the_current_one,
);

const PASSWORD: &str = "Panjin-2026-gk";

/// A user who signs in as `login`, with `PASSWORD` set by the administrator; their id.
async fn user_with_password(app: &TestApp, login: &str, role: Role, agency: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&app.admin)
        .json(&json!({"name": "王芳", "login": login, "role": role, "agency": agency}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["user"]["login"], login);
    assert_eq!(created["user"]["password_set_at"], Value::Null);
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    let res = app
        .client
        .put(app.url(&format!("/api/v1/users/{id}/password")))
        .bearer_auth(&app.admin)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let user: Value = res.json().await.unwrap();
    assert!(user["password_set_at"].is_string());
    id
}

async fn sign_in(app: &TestApp, name: &str, password: &str) -> reqwest::Response {
    app.client.post(app.url("/api/v1/session")).json(&json!({"name": name, "password": password})).send().await.unwrap()
}

/// A signed-in browser: its cookie's value and its CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn signed_in(app: &TestApp, name: &str, password: &str) -> Browser {
    let res = sign_in(app, name, password).await;
    assert_eq!(res.status(), 200);
    let set_cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().strip_prefix("foi_session=").unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    Browser { cookie, csrf: body["csrf_token"].as_str().unwrap().to_owned() }
}

impl Browser {
    fn request(&self, app: &TestApp, method: Method, path: &str, csrf: Option<&str>) -> reqwest::RequestBuilder {
        let mut request =
            app.client.request(method, app.url(path)).header("cookie", format!("foi_session={}", self.cookie));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request
    }

    async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        self.request(app, Method::GET, path, None).send().await.unwrap()
    }
}

async fn security_log(app: &TestApp, query: &str) -> Vec<Value> {
    let page = app.get_json(&app.admin, &format!("/api/v1/audit/security-events?{query}")).await;
    page["items"].as_array().unwrap().clone()
}

async fn sign_in_sets_a_strict_http_only_cookie_and_cookie_writes_need_the_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_city();
    let id = user_with_password(&app, "wangfang", Role::Clerk, "PJ-XLT").await;

    // A wrong password and an unknown name get the same answer.
    let wrong = assert_problem(sign_in(&app, "wangfang", "Panjin-2026-xx").await, 401, "unauthorized").await;
    let unknown = assert_problem(sign_in(&app, "nobody", PASSWORD).await, 401, "unauthorized").await;
    assert_eq!(wrong["detail"], unknown["detail"]);

    let res = sign_in(&app, "wangfang", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let set_cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    for attribute in ["foi_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie} lacks {attribute}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: no Secure ({set_cookie})");
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let session: Value = res.json().await.unwrap();
    assert_eq!(session["user_id"], id.as_str());
    assert_eq!(session["role"], "clerk");
    assert_eq!(session["agency"], "PJ-XLT");
    let cookie = set_cookie.split(';').next().unwrap().strip_prefix("foi_session=").unwrap().to_owned();
    let browser = Browser { cookie, csrf: session["csrf_token"].as_str().unwrap().to_owned() };

    // Reads need only the cookie.
    let me: Value = browser.get(&app, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["user_id"], id.as_str());
    let current: Value = browser.get(&app, "/api/v1/session").await.json().await.unwrap();
    assert_eq!(current["csrf_token"], session["csrf_token"]);

    // Writes need the CSRF token: without it, or with another, nothing is written.
    let before = app.case_count();
    let res = browser.request(&app, Method::POST, "/api/v1/cases", None).json(&intake("PJ-XLT")).send().await.unwrap();
    assert_problem(res, 403, "csrf").await;
    let res = browser
        .request(&app, Method::POST, "/api/v1/cases", Some("not-the-token"))
        .json(&intake("PJ-XLT"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "csrf").await;
    assert_eq!(app.case_count(), before);
    let res = browser
        .request(&app, Method::POST, "/api/v1/cases", Some(&browser.csrf))
        .json(&intake("PJ-XLT"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    // The case records the signed-in user as its actor.
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{}/events", case["id"].as_str().unwrap())).await;
    assert_eq!(events[0]["actor_id"], id.as_str(), "{events}");

    // A bearer token needs no CSRF token, with or without a cookie beside it.
    let res = browser
        .request(&app, Method::POST, "/api/v1/cases", None)
        .bearer_auth(&app.admin)
        .json(&intake("PJ-XLT"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_problem(app.get(&app.admin, "/api/v1/session").await, 404, "not-found").await;

    // Signing out is a write too; then the cookie no longer works.
    assert_problem(browser.request(&app, Method::DELETE, "/api/v1/session", None).send().await.unwrap(), 403, "csrf")
        .await;
    let res = browser.request(&app, Method::DELETE, "/api/v1/session", Some(&browser.csrf)).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let cleared = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cleared.starts_with("foi_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert_problem(browser.get(&app, "/api/v1/me").await, 401, "session-ended").await;
    // A made-up cookie is simply unknown.
    let forged = Browser { cookie: "made-up".into(), csrf: String::new() };
    assert_problem(forged.get(&app, "/api/v1/me").await, 401, "unauthorized").await;

    // The security log has all of it, newest first.
    let log = security_log(&app, &format!("user_id={id}")).await;
    let kinds: Vec<&str> = log.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["logout", "login_succeeded", "login_failed", "password_set", "user_created"]);
    assert_eq!(log[2]["detail"]["reason"], "wrong_password");
    assert_eq!(log[2]["login"], "wangfang");
    assert_eq!(log[2]["client_address"], "127.0.0.1");
    assert_eq!(log[3]["actor_id"], app.user_id(&app.admin).await.as_str());
    let unknown = security_log(&app, "kind=login_failed").await;
    assert!(unknown.iter().any(|e| e["login"] == "nobody" && e["detail"]["reason"] == "unknown_login"));
    // Only administrators read it.
    let clerk = app.token(Role::Clerk, "PJ-XLT");
    assert_problem(app.get(&clerk, "/api/v1/audit/security-events").await, 403, "forbidden").await;
    // A district administrator sees their users' events, not failures under unknown names.
    let district_admin = app.token(Role::Admin, "PJ-XLT");
    let theirs = app.get_json(&district_admin, "/api/v1/audit/security-events?kind=login_failed").await;
    let theirs = theirs["items"].as_array().unwrap();
    assert!(!theirs.is_empty() && theirs.iter().all(|e| e["user_id"] == id.as_str()), "{theirs:?}");
}

async fn deactivation_and_a_password_reset_end_sessions_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_city();
    let id = user_with_password(&app, "lina", Role::Handler, "PJ-XLT").await;
    let browser = signed_in(&app, "lina", PASSWORD).await;
    assert_eq!(browser.get(&app, "/api/v1/me").await.status(), 200);

    let res = app.client.post(app.url(&format!("/api/v1/users/{id}/deactivate"))).bearer_auth(&app.admin).send().await;
    assert_eq!(res.unwrap().status(), 200);
    assert_problem(browser.get(&app, "/api/v1/me").await, 401, "session-ended").await;
    // A deactivated user cannot sign in again either (and learns nothing about why).
    assert_problem(sign_in(&app, "lina", PASSWORD).await, 401, "unauthorized").await;
    let res = app.client.post(app.url(&format!("/api/v1/users/{id}/reactivate"))).bearer_auth(&app.admin).send().await;
    assert_eq!(res.unwrap().status(), 200);
    // The ended session stays ended; a new sign-in works.
    assert_problem(browser.get(&app, "/api/v1/me").await, 401, "session-ended").await;
    let again = signed_in(&app, "lina", PASSWORD).await;
    let second = signed_in(&app, "lina", PASSWORD).await;

    // An administrator's reset ends every session of the user.
    let res = app
        .client
        .put(app.url(&format!("/api/v1/users/{id}/password")))
        .bearer_auth(&app.admin)
        .json(&json!({"password": "Another-Pass-2027"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_problem(again.get(&app, "/api/v1/me").await, 401, "session-ended").await;
    assert_problem(second.get(&app, "/api/v1/me").await, 401, "session-ended").await;
    assert_problem(sign_in(&app, "lina", PASSWORD).await, 401, "unauthorized").await;
    assert_eq!(sign_in(&app, "lina", "Another-Pass-2027").await.status(), 200);

    let log = security_log(&app, &format!("user_id={id}")).await;
    let reset = log.iter().find(|e| e["kind"] == "password_set").unwrap();
    assert_eq!(reset["detail"]["sessions_ended"], 2);
    let failed = log.iter().find(|e| e["kind"] == "login_failed" && e["detail"]["reason"] == "deactivated");
    assert!(failed.is_some(), "{log:?}");
    assert!(log.iter().any(|e| e["kind"] == "user_deactivated") && log.iter().any(|e| e["kind"] == "user_reactivated"));
}

async fn sessions_end_when_idle_and_at_their_absolute_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_city();
    user_with_password(&app, "zhaolei", Role::Approver, "PJ").await;
    let idle = signed_in(&app, "zhaolei", PASSWORD).await;
    let old = signed_in(&app, "zhaolei", PASSWORD).await;
    let fresh = signed_in(&app, "zhaolei", PASSWORD).await;
    let hash = |cookie: &str| foi_tracker::db::users::hash_token(cookie);
    let now = chrono::Utc::now().naive_utc();
    {
        let mut conn = app.db.conn().unwrap();
        // 31 minutes without a request (the default idle limit is 30).
        diesel::update(sessions::table.filter(sessions::token_hash.eq(hash(&idle.cookie))))
            .set(sessions::last_seen_at.eq(now - chrono::Duration::minutes(31)))
            .execute(&mut conn)
            .unwrap();
        // Busy all along, but signed in 12 hours ago (the absolute limit).
        diesel::update(sessions::table.filter(sessions::token_hash.eq(hash(&old.cookie))))
            .set((sessions::created_at.eq(now - chrono::Duration::hours(12)), sessions::last_seen_at.eq(now)))
            .execute(&mut conn)
            .unwrap();
    }
    assert_problem(idle.get(&app, "/api/v1/me").await, 401, "session-ended").await;
    assert_problem(old.get(&app, "/api/v1/me").await, 401, "session-ended").await;
    let res = fresh.get(&app, "/api/v1/session").await;
    assert_eq!(res.status(), 200);
    let session: Value = res.json().await.unwrap();
    let ends = chrono::DateTime::parse_from_rfc3339(session["ends_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(session["expires_at"].as_str().unwrap()).unwrap();
    let created = chrono::DateTime::parse_from_rfc3339(session["created_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, chrono::Duration::hours(12));
    assert!(ends - created <= chrono::Duration::minutes(31) && ends - created >= chrono::Duration::minutes(29));
}

async fn failed_sign_ins_are_limited_per_name_and_per_address_and_logged(backend: Backend) {
    // The limits are per instance; this one allows 3 failures per name and 6 per address.
    let app = spawn_app_with(backend, |s| {
        s.limits.failed_logins_per_user = 3;
        s.limits.failed_logins_per_address = 6;
        s.limits.failed_login_delay_ms = 10;
    })
    .await;
    app.seed_city();
    user_with_password(&app, "wangfang", Role::Clerk, "PJ-XLT").await;
    user_with_password(&app, "lina", Role::Clerk, "PJ-XLT").await;
    for _ in 0..3 {
        assert_problem(sign_in(&app, "wangfang", "Guess-1234-x").await, 401, "unauthorized").await;
    }
    // Now even the right password waits: the name is over its limit.
    let res = sign_in(&app, "wangfang", PASSWORD).await;
    let retry: u64 = res.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=301).contains(&retry), "{retry}");
    let problem = assert_problem(res, 429, "too-many-requests").await;
    assert!(problem["detail"].as_str().unwrap().contains("login name"));
    // Another name from the same address still signs in.
    assert_eq!(sign_in(&app, "lina", PASSWORD).await.status(), 200);
    // The address's own limit: three more failures under other names, and then nobody from here.
    for name in ["a", "b", "c"] {
        assert_problem(sign_in(&app, name, "Guess-1234-x").await, 401, "unauthorized").await;
    }
    let problem = assert_problem(sign_in(&app, "lina", PASSWORD).await, 429, "too-many-requests").await;
    assert!(problem["detail"].as_str().unwrap().contains("address"));
    // Bearer tokens are not sign-ins: they keep working.
    assert_eq!(app.get(&app.admin, "/api/v1/me").await.status(), 200);
    let limited = security_log(&app, "kind=login_limited").await;
    assert_eq!(limited.len(), 2, "{limited:?}");
    assert_eq!(limited[1]["login"], "wangfang");
    assert_eq!(limited[1]["detail"]["name_limited"], true);
    assert_eq!(limited[0]["detail"]["address_limited"], true);
}

async fn passwords_follow_the_policy_and_a_user_changes_their_own_with_the_current_one(backend: Backend) {
    let app = spawn_app(backend).await;
    app.seed_city();
    let id = user_with_password(&app, "chenjing", Role::Statistician, "PJ").await;
    let put = |token: Option<&str>, browser: Option<&Browser>, body: Value| {
        let path = format!("/api/v1/users/{id}/password");
        let request = match (token, browser) {
            (Some(token), _) => app.client.put(app.url(&path)).bearer_auth(token),
            (None, Some(b)) => b.request(&app, Method::PUT, &path, Some(&b.csrf)),
            (None, None) => unreachable!(),
        };
        request.json(&body).send()
    };
    for (weak, why) in [
        ("short1A!", "at least 10"),
        ("lowercaseonly", "three of"),
        ("Chenjing-2026", "login"),
        ("aaaaaaaaaaaaaaaaaaaaaa", "repeat"),
    ] {
        let problem =
            assert_problem(put(Some(&app.admin), None, json!({"password": weak})).await.unwrap(), 422, "validation")
                .await;
        assert_eq!(problem["errors"][0]["path"], "password");
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains(why), "{weak}: {problem}");
    }
    // The old password still works: nothing was changed.
    let mine = signed_in(&app, "chenjing", PASSWORD).await;
    let other = signed_in(&app, "chenjing", PASSWORD).await;
    // One's own password: the current one is needed.
    let problem = assert_problem(
        put(None, Some(&mine), json!({"password": "Statistics-2027"})).await.unwrap(),
        422,
        "validation",
    )
    .await;
    assert_eq!(problem["errors"][0]["path"], "current_password");
    let body = json!({"password": "Statistics-2027", "current_password": "Wrong-2026-x"});
    assert_problem(put(None, Some(&mine), body).await.unwrap(), 422, "validation").await;
    let body = json!({"password": "Statistics-2027", "current_password": PASSWORD});
    assert_eq!(put(None, Some(&mine), body).await.unwrap().status(), 200);
    // This browser stays signed in; the other one is signed out.
    assert_eq!(mine.get(&app, "/api/v1/me").await.status(), 200);
    assert_problem(other.get(&app, "/api/v1/me").await, 401, "session-ended").await;
    // Another user's password: administrators only.
    let clerk = app.token(Role::Clerk, "PJ");
    assert_problem(put(Some(&clerk), None, json!({"password": "Statistics-2028"})).await.unwrap(), 403, "forbidden")
        .await;
    // A district administrator cannot reach a city user.
    let district_admin = app.token(Role::Admin, "PJ-XLT");
    let res = put(Some(&district_admin), None, json!({"password": "Statistics-2028"})).await.unwrap();
    assert_problem(res, 404, "not-found").await;
    // Logins are unique.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", app.user_id(&clerk).await)))
        .bearer_auth(&app.admin)
        .json(&json!({"login": "chenjing"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409, "conflict").await;
}
