//! Deadline calendar feeds: a secret address per user and per agency, read back as iCalendar; events
//! keep their UID and raise their SEQUENCE when a deadline moves; rotation, removal and deactivation
//! stop an address at once.

use std::str::FromStr;

use foi_tracker::domain::role::Role;
use icalendar::{Calendar, CalendarComponent, Component, DatePerhapsTime};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    a_handlers_feed_follows_their_cases_and_a_moved_deadline_moves_its_event,
    feeds_are_rotated_removed_and_stop_with_their_user,
    an_agency_feed_shows_the_offices_open_cases_to_its_administrators_and_office_heads,
);

/// A case that arrived today (so its deadline is still ahead), as the administrator registers it.
async fn todays_case(app: &TestApp, agency: &str) -> Value {
    let mut body = intake(agency);
    body["arrived_at"] = json!(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S+00:00").to_string());
    let res = app.post_case(&app.admin, &body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn make_feed(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.request_as(Method::POST, path, token).send().await.unwrap()
}

/// The events of the feed at `url` (fetched without a token): (UID, start date, SEQUENCE, SUMMARY).
async fn events(app: &TestApp, url: &str) -> Vec<(String, String, u32, String)> {
    let res = app.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    assert_eq!(res.headers()["content-type"], "text/calendar; charset=utf-8");
    let text = res.text().await.unwrap();
    assert!(!text.contains("张三"), "the applicant is masked in a feed");
    let calendar = Calendar::from_str(&text).expect("the feed parses as iCalendar");
    calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .map(|e| {
            let start = match e.get_start() {
                Some(DatePerhapsTime::Date(d)) => d.to_string(),
                other => panic!("an all-day event, not {other:?}"),
            };
            (e.get_uid().unwrap().to_owned(), start, e.get_sequence().unwrap(), e.get_summary().unwrap().to_owned())
        })
        .collect()
}

async fn a_handlers_feed_follows_their_cases_and_a_moved_deadline_moves_its_event(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ");
    let head = app.token(Role::Approver, "PJ");
    let me = app.user_id(&handler).await;
    let res = make_feed(&app, &handler, &format!("/api/v1/users/{me}/deadline-feed")).await;
    assert_eq!(res.status(), 201);
    let feed: Value = res.json().await.unwrap();
    let url = feed["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&app.address) && url.ends_with(".ics"), "{url}");
    assert!(feed["webcal_url"].as_str().unwrap().starts_with("webcal://"));
    assert!(events(&app, &url).await.is_empty(), "no cases yet");

    let mine = todays_case(&app, "PJ").await;
    let id = mine["id"].as_str().unwrap();
    let other = todays_case(&app, "PJ").await;
    app.act_ok(&handler, id, json!({"action": {"type": "assign", "handler_id": me}})).await;
    let before = events(&app, &url).await;
    assert_eq!(before.len(), 1, "only the case the handler handles: {before:?}");
    let (uid, due, sequence, summary) = before[0].clone();
    assert_eq!(uid, format!("{id}@foi-tracker"));
    let case = app.get_json(&handler, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(due, case["deadline"]["final_due_on"].as_str().unwrap());
    assert!(summary.contains(mine["tracking_number"].as_str().unwrap()), "{summary}");

    // The office head extends the deadline: the same event moves, with a higher SEQUENCE.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).format("%Y-%m-%d").to_string();
    let res = app
        .request_as(Method::POST, &format!("/api/v1/cases/{id}/clock-events"), &head)
        .header("If-Match", app.etag(id).await)
        .json(&json!({"event": {"type": "extension_approved", "on": today, "days": 10, "reason": "需要调取档案", "applicant_notified_on": today}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let after = events(&app, &url).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0, uid, "the same UID");
    assert!(after[0].1 > due, "{} moved past {due}", after[0].1);
    assert!(after[0].2 > sequence, "SEQUENCE {} after {sequence}", after[0].2);
    assert!(after[0].3.contains("已延期"), "{}", after[0].3);

    // The office head's own feed shows every open case of the office.
    let head_id = app.user_id(&head).await;
    let res = make_feed(&app, &head, &format!("/api/v1/users/{head_id}/deadline-feed")).await;
    let head_url = res.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_owned();
    let uids: Vec<String> = events(&app, &head_url).await.into_iter().map(|e| e.0).collect();
    assert_eq!(uids.len(), 2);
    assert!(uids.contains(&format!("{}@foi-tracker", other["id"].as_str().unwrap())));

    // Answered, the case leaves the feed.
    app.reply(id, "PJ", &today, json!({"kind": "disclosed"})).await;
    assert!(events(&app, &url).await.is_empty());
    // The feed's use is recorded.
    let shown = app.get_json(&handler, &format!("/api/v1/users/{me}/deadline-feed")).await;
    assert!(shown["last_fetched_at"].is_string() && shown.get("url").is_none(), "{shown}");
}

async fn feeds_are_rotated_removed_and_stop_with_their_user(app: TestApp) {
    app.seed_city();
    let handler = app.token(Role::Handler, "PJ-XLT");
    let me = app.user_id(&handler).await;
    let path = format!("/api/v1/users/{me}/deadline-feed");
    assert_problem(app.get(&handler, &path).await, 404, "not-found").await;
    let first: Value = make_feed(&app, &handler, &path).await.json().await.unwrap();
    let first_url = first["url"].as_str().unwrap().to_owned();
    assert_eq!(app.client.get(&first_url).send().await.unwrap().status(), 200);
    // A new address replaces the old one at once.
    let second: Value = make_feed(&app, &handler, &path).await.json().await.unwrap();
    let second_url = second["url"].as_str().unwrap().to_owned();
    assert_ne!(first_url, second_url);
    assert_problem(app.client.get(&first_url).send().await.unwrap(), 404, "not-found").await;
    assert_eq!(app.client.get(&second_url).send().await.unwrap().status(), 200);
    // Made-up addresses: 404, never a 500.
    for made_up in ["x.ics", "x", "%2e%2e.ics", "aGVsbG8.ics"] {
        let res = app.client.get(app.url(&format!("/api/v1/deadline-feeds/{made_up}"))).send().await.unwrap();
        assert_problem(res, 404, "not-found").await;
    }
    // Others: a clerk may not make a colleague's feed; an administrator of another subtree cannot see the user.
    let clerk = app.token(Role::Clerk, "PJ-XLT");
    assert_problem(make_feed(&app, &clerk, &path).await, 403, "forbidden").await;
    let elsewhere = app.token(Role::Admin, "PJ-DW");
    assert_problem(make_feed(&app, &elsewhere, &path).await, 404, "not-found").await;
    // Deactivated, the user's feed stops; reactivated, it works again.
    let deactivate = app.request_as(Method::POST, &format!("/api/v1/users/{me}/deactivate"), &app.admin);
    assert_eq!(deactivate.send().await.unwrap().status(), 200);
    assert_problem(app.client.get(&second_url).send().await.unwrap(), 404, "not-found").await;
    let reactivate = app.request_as(Method::POST, &format!("/api/v1/users/{me}/reactivate"), &app.admin);
    assert_eq!(reactivate.send().await.unwrap().status(), 200);
    assert_eq!(app.client.get(&second_url).send().await.unwrap().status(), 200);
    // Removed, it stops.
    let res = app.request_as(Method::DELETE, &path, &handler).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.client.get(&second_url).send().await.unwrap(), 404, "not-found").await;
    assert_problem(app.request_as(Method::DELETE, &path, &handler).send().await.unwrap(), 404, "not-found").await;
    // Every change is in the security log.
    let log = app.get_json(&app.admin, &format!("/api/v1/audit/security-events?user_id={me}")).await;
    let kinds: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "feed_rotated").count(), 2, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "feed_removed").count(), 1, "{kinds:?}");
}

async fn an_agency_feed_shows_the_offices_open_cases_to_its_administrators_and_office_heads(app: TestApp) {
    app.seed_city();
    let city_case = todays_case(&app, "PJ").await;
    todays_case(&app, "PJ-XLT").await;
    for (role, status) in [(Role::Clerk, 403), (Role::Handler, 403), (Role::Statistician, 403)] {
        let token = app.token(role, "PJ");
        let res = make_feed(&app, &token, "/api/v1/agencies/PJ/deadline-feed").await;
        assert_eq!(res.status(), status, "{role}");
    }
    let district_admin = app.token(Role::Admin, "PJ-XLT");
    assert_problem(make_feed(&app, &district_admin, "/api/v1/agencies/PJ/deadline-feed").await, 404, "not-found").await;
    let head = app.token(Role::Approver, "PJ");
    let res = make_feed(&app, &head, "/api/v1/agencies/PJ/deadline-feed").await;
    assert_eq!(res.status(), 201);
    let url = res.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_owned();
    // The city's own case, not the district's.
    let uids: Vec<String> = events(&app, &url).await.into_iter().map(|e| e.0).collect();
    assert_eq!(uids, [format!("{}@foi-tracker", city_case["id"].as_str().unwrap())]);
    let shown = app.get_json(&app.admin, "/api/v1/agencies/PJ/deadline-feed").await;
    assert!(shown["id"].is_string());
}
