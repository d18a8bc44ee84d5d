//! The authorization matrix: every route x every role x an agency inside and one outside the
//! caller's subtree, plus every protected route without a token.

use foi_tracker::domain::role::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{intake, TestApp};

crate::on_both_backends!(
    every_route_answers_each_role_in_and_out_of_scope,
    every_route_answers_each_role_signed_in_by_session_as_by_token,
    every_protected_route_needs_a_token,
);

/// Who may do what: `Some(true)` allowed, `Some(false)` refused for the role (403), and for an agency
/// outside the subtree the route's own answer (403 or 404, see `outside`).
struct Route {
    name: &'static str,
    /// Roles allowed (inside their subtree).
    roles: &'static [Role],
    /// Status for an allowed role on an agency outside its subtree.
    outside: u16,
    /// Status when allowed.
    ok: u16,
    /// Where the case the route acts on must stand first.
    setup: Setup,
}

/// The state a route's case is brought to (by the city's office head) before the call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Setup {
    Registered,
    InPerson,
    UnderReview,
    FeeAssessed,
    Drafted,
    Approved,
    Closed,
    AppealFiled,
    /// Replied, and a reconsideration corrected the reply.
    CorrectedOnAppeal,
}

const ALL: &[Role] = &[Role::Clerk, Role::Handler, Role::Approver, Role::Statistician, Role::Admin];
const WORKERS: &[Role] = &[Role::Clerk, Role::Handler, Role::Approver, Role::Admin];
const CLOCK: &[Role] = &[Role::Handler, Role::Approver, Role::Admin];
const OFFICE: &[Role] = &[Role::Clerk, Role::Handler, Role::Approver];
const HANDLING: &[Role] = &[Role::Handler, Role::Approver];
const APPROVER: &[Role] = &[Role::Approver];
const ADMIN: &[Role] = &[Role::Admin];
const STATISTICS: &[Role] = &[Role::Statistician, Role::Admin];
/// Administrators list users; handlers and office heads list the colleagues they may assign.
const USER_LISTS: &[Role] = &[Role::Handler, Role::Approver, Role::Admin];
/// An agency's deadline feed: its administrators and office heads.
const FEED_KEEPERS: &[Role] = &[Role::Approver, Role::Admin];

const ROUTES: &[Route] = &[
    Route { name: "POST /cases", roles: WORKERS, outside: 403, ok: 201, setup: Setup::Registered },
    Route { name: "GET /cases?agency", roles: ALL, outside: 403, ok: 200, setup: Setup::Registered },
    Route { name: "GET /cases/{id}", roles: ALL, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "GET /cases/{id}/events", roles: ALL, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "GET /cases/by-number/{n}", roles: ALL, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "GET /cases/{id}/deadline", roles: ALL, outside: 404, ok: 200, setup: Setup::Registered },
    Route {
        name: "POST /cases/{id}/clock-events fee notice",
        roles: CLOCK,
        outside: 404,
        ok: 201,
        setup: Setup::FeeAssessed,
    },
    Route {
        name: "POST /cases/{id}/clock-events extension",
        roles: APPROVER,
        outside: 404,
        ok: 201,
        setup: Setup::Registered,
    },
    Route { name: "POST /cases/{id}/actions assign", roles: CLOCK, outside: 404, ok: 200, setup: Setup::Registered },
    Route {
        name: "POST /cases/{id}/actions draft_reply",
        roles: HANDLING,
        outside: 404,
        ok: 200,
        setup: Setup::UnderReview,
    },
    Route {
        name: "POST /cases/{id}/actions return_draft",
        roles: APPROVER,
        outside: 404,
        ok: 200,
        setup: Setup::Drafted,
    },
    Route {
        name: "POST /cases/{id}/actions approve_reply",
        roles: APPROVER,
        outside: 404,
        ok: 200,
        setup: Setup::Drafted,
    },
    Route { name: "POST /cases/{id}/actions serve", roles: OFFICE, outside: 404, ok: 200, setup: Setup::Approved },
    Route {
        name: "POST /cases/{id}/actions answer_on_the_spot",
        roles: OFFICE,
        outside: 404,
        ok: 200,
        setup: Setup::InPerson,
    },
    Route { name: "POST /cases/{id}/actions withdraw", roles: OFFICE, outside: 404, ok: 200, setup: Setup::Registered },
    Route {
        name: "POST /cases/{id}/actions not_process",
        roles: APPROVER,
        outside: 404,
        ok: 200,
        setup: Setup::Registered,
    },
    Route {
        name: "POST /cases/{id}/actions transfer",
        roles: HANDLING,
        outside: 404,
        ok: 200,
        setup: Setup::Registered,
    },
    Route { name: "POST /cases/{id}/actions archive", roles: OFFICE, outside: 404, ok: 200, setup: Setup::Closed },
    Route {
        name: "POST /cases/{id}/actions assess_fee",
        roles: HANDLING,
        outside: 404,
        ok: 200,
        setup: Setup::UnderReview,
    },
    Route {
        name: "POST /cases/{id}/actions assess_fee with waiver",
        roles: APPROVER,
        outside: 404,
        ok: 200,
        setup: Setup::UnderReview,
    },
    Route {
        name: "POST /cases/{id}/actions file_appeal",
        roles: HANDLING,
        outside: 404,
        ok: 200,
        setup: Setup::Closed,
    },
    Route {
        name: "POST /cases/{id}/actions decide_appeal",
        roles: HANDLING,
        outside: 404,
        ok: 200,
        setup: Setup::AppealFiled,
    },
    Route {
        name: "POST /cases/{id}/actions reopen_for_new_reply",
        roles: HANDLING,
        outside: 404,
        ok: 200,
        setup: Setup::CorrectedOnAppeal,
    },
    Route {
        name: "POST /cases/{id}/actions amend_registration",
        roles: WORKERS,
        outside: 404,
        ok: 200,
        setup: Setup::UnderReview,
    },
    Route {
        name: "POST /cases/{id}/actions void_duplicate",
        roles: APPROVER,
        outside: 404,
        ok: 200,
        setup: Setup::Registered,
    },
    Route { name: "GET /agencies/{code}/topics", roles: ALL, outside: 404, ok: 200, setup: Setup::Registered },
    Route {
        name: "PUT /agencies/{code}/topics/{topic}",
        roles: ADMIN,
        outside: 404,
        ok: 200,
        setup: Setup::Registered,
    },
    Route { name: "POST /agencies", roles: ADMIN, outside: 403, ok: 201, setup: Setup::Registered },
    Route {
        name: "PUT /agencies/{code}/calendar/days/{date}",
        roles: ADMIN,
        outside: 404,
        ok: 200,
        setup: Setup::Registered,
    },
    Route {
        name: "DELETE /agencies/{code}/calendar/days/{date}",
        roles: ADMIN,
        outside: 404,
        ok: 200,
        setup: Setup::Registered,
    },
    Route { name: "GET /calendar?agency", roles: ALL, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "GET /reports/{format}/{year}", roles: ALL, outside: 403, ok: 200, setup: Setup::Registered },
    Route { name: "POST /reports/locks", roles: STATISTICS, outside: 403, ok: 201, setup: Setup::Registered },
    // The outbox takes no agency: an administrator sees its own subtree's reminders, whichever agency.
    Route { name: "GET /reminders", roles: ADMIN, outside: 200, ok: 200, setup: Setup::Registered },
    Route { name: "GET /users?agency", roles: USER_LISTS, outside: 403, ok: 200, setup: Setup::Registered },
    Route { name: "POST /users", roles: ADMIN, outside: 403, ok: 201, setup: Setup::Registered },
    Route { name: "GET /users/{id}", roles: ADMIN, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "PATCH /users/{id}", roles: ADMIN, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "POST /users/{id}/deactivate", roles: ADMIN, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "POST /users/{id}/reactivate", roles: ADMIN, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "GET /users/{id}/tokens", roles: ADMIN, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "POST /users/{id}/tokens", roles: ADMIN, outside: 404, ok: 201, setup: Setup::Registered },
    Route {
        name: "DELETE /users/{id}/tokens/{token_id}",
        roles: ADMIN,
        outside: 404,
        ok: 204,
        setup: Setup::Registered,
    },
    Route { name: "PUT /users/{id}/password", roles: ADMIN, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "POST /users/{id}/deadline-feed", roles: ADMIN, outside: 404, ok: 201, setup: Setup::Registered },
    Route {
        name: "POST /agencies/{code}/deadline-feed",
        roles: FEED_KEEPERS,
        outside: 404,
        ok: 201,
        setup: Setup::Registered,
    },
    // The security log takes no agency: an administrator sees its own subtree's events.
    Route { name: "GET /audit/security-events", roles: ADMIN, outside: 200, ok: 200, setup: Setup::Registered },
    // Papers and letters: every role lists them; those who see personal data attach, generate and
    // read them; the statistician reads only the consultation letter (the applicant masked).
    Route { name: "POST /cases/{id}/attachments", roles: WORKERS, outside: 404, ok: 201, setup: Setup::Registered },
    Route { name: "GET /cases/{id}/attachments", roles: ALL, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "GET /cases/{id}/attachments/{a}", roles: WORKERS, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "POST /cases/{id}/documents", roles: WORKERS, outside: 404, ok: 201, setup: Setup::Registered },
    Route { name: "GET /cases/{id}/documents", roles: ALL, outside: 404, ok: 200, setup: Setup::Registered },
    Route {
        name: "GET /cases/{id}/documents/{v} receipt",
        roles: WORKERS,
        outside: 404,
        ok: 200,
        setup: Setup::Registered,
    },
    Route {
        name: "GET /cases/{id}/documents/{v} consultation",
        roles: ALL,
        outside: 404,
        ok: 200,
        setup: Setup::Registered,
    },
    Route { name: "GET /agencies/{code}/letterhead", roles: ALL, outside: 404, ok: 200, setup: Setup::Registered },
    Route { name: "PUT /agencies/{code}/letterhead", roles: ADMIN, outside: 404, ok: 200, setup: Setup::Registered },
    Route {
        name: "GET /agencies/{code}/document-templates/{name}",
        roles: ALL,
        outside: 404,
        ok: 200,
        setup: Setup::Registered,
    },
    Route {
        name: "PUT /agencies/{code}/document-templates/{name}",
        roles: ADMIN,
        outside: 404,
        ok: 200,
        setup: Setup::Registered,
    },
    Route {
        name: "DELETE /agencies/{code}/document-templates/{name}",
        roles: ADMIN,
        outside: 404,
        ok: 204,
        setup: Setup::Registered,
    },
    Route { name: "POST /agencies/{code}/imports", roles: ADMIN, outside: 404, ok: 200, setup: Setup::Registered },
    // The template takes no agency.
    Route { name: "GET /imports/template", roles: ALL, outside: 200, ok: 200, setup: Setup::Registered },
];

/// A paper to upload: a PDF by its content.
fn upload_form() -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("kind", "envelope")
        .part("file", reqwest::multipart::Part::bytes(b"%PDF-1.4\nscan".to_vec()).file_name("envelope.pdf"))
}

/// A letter of `kind` generated on the case by the global administrator: its version id.
async fn generated(app: &TestApp, case_id: &str, kind: &str) -> String {
    let body = match kind {
        "consultation" => json!({"kind": kind, "issued_on": "2015-03-03", "particulars": {"third_party": "某公司"}}),
        _ => json!({"kind": kind, "issued_on": "2015-03-03"}),
    };
    let res = app
        .request_as(Method::POST, &format!("/api/v1/cases/{case_id}/documents"), &app.admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// One request of a route against `agency` (the subtree root PJ-XLT, or PJ-DW outside it).
async fn call(app: &TestApp, route: &str, token: &str, agency: &str, case_id: &str, n: usize) -> u16 {
    if let Some(action) = route.strip_prefix("POST /cases/{id}/actions ") {
        return act(app, action, token, case_id).await;
    }
    let etag = || async {
        let res = app.get(&app.admin, &format!("/api/v1/cases/{case_id}")).await;
        res.headers()["etag"].to_str().unwrap().to_owned()
    };
    if route == "POST /agencies/{code}/imports" {
        let ledger = "收到申请日期,受理渠道,申请人,联系电话,申请内容\n2015-03-02,信函,张三,15704271234,招标文件\n";
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(ledger.as_bytes().to_vec()).file_name("ledger.csv"));
        let request = app.request_as(Method::POST, &format!("/api/v1/agencies/{agency}/imports?dry_run=true"), token);
        return request.multipart(form).send().await.unwrap().status().as_u16();
    }
    if route == "POST /cases/{id}/attachments" {
        let request = app.request_as(Method::POST, &format!("/api/v1/cases/{case_id}/attachments"), token);
        return request.multipart(upload_form()).send().await.unwrap().status().as_u16();
    }
    let (method, path, body, if_match): (Method, String, Option<Value>, Option<String>) = match route {
        "GET /cases/{id}/attachments" => (Method::GET, format!("/api/v1/cases/{case_id}/attachments"), None, None),
        "GET /imports/template" => (Method::GET, "/api/v1/imports/template".to_owned(), None, None),
        "GET /cases/{id}/attachments/{a}" => {
            let request = app.request_as(Method::POST, &format!("/api/v1/cases/{case_id}/attachments"), &app.admin);
            let res = request.multipart(upload_form()).send().await.unwrap();
            let attachment = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
            (Method::GET, format!("/api/v1/cases/{case_id}/attachments/{attachment}"), None, None)
        }
        "POST /cases/{id}/documents" => (
            Method::POST,
            format!("/api/v1/cases/{case_id}/documents"),
            Some(json!({"kind": "receipt", "issued_on": "2015-03-03"})),
            None,
        ),
        "GET /cases/{id}/documents" => (Method::GET, format!("/api/v1/cases/{case_id}/documents"), None, None),
        "GET /cases/{id}/documents/{v} receipt" => {
            let version = generated(app, case_id, "receipt").await;
            (Method::GET, format!("/api/v1/cases/{case_id}/documents/{version}"), None, None)
        }
        "GET /cases/{id}/documents/{v} consultation" => {
            let version = generated(app, case_id, "consultation").await;
            (Method::GET, format!("/api/v1/cases/{case_id}/documents/{version}"), None, None)
        }
        "GET /agencies/{code}/letterhead" => (Method::GET, format!("/api/v1/agencies/{agency}/letterhead"), None, None),
        "PUT /agencies/{code}/letterhead" => (
            Method::PUT,
            format!("/api/v1/agencies/{agency}/letterhead"),
            Some(json!({"issuer": "兴隆台区人民政府办公室", "number_prefix": "兴政公开"})),
            None,
        ),
        "GET /agencies/{code}/document-templates/{name}" => {
            (Method::GET, format!("/api/v1/agencies/{agency}/document-templates/receipt"), None, None)
        }
        "PUT /agencies/{code}/document-templates/{name}" | "DELETE /agencies/{code}/document-templates/{name}" => {
            let path = format!("/api/v1/agencies/{agency}/document-templates/remedies");
            let body = json!({"body": "如对本答复不服，可以依法申请行政复议或者提起行政诉讼。"});
            if route.starts_with("DELETE") {
                let res = app.request_as(Method::PUT, &path, &app.admin).json(&body).send().await.unwrap();
                assert_eq!(res.status(), 200);
                (Method::DELETE, path, None, None)
            } else {
                (Method::PUT, path, Some(body), None)
            }
        }
        "POST /cases" => (Method::POST, "/api/v1/cases".into(), Some(intake(agency)), None),
        "GET /cases?agency" => (Method::GET, format!("/api/v1/cases?agency={agency}"), None, None),
        "GET /cases/{id}" => (Method::GET, format!("/api/v1/cases/{case_id}"), None, None),
        "GET /cases/{id}/events" => (Method::GET, format!("/api/v1/cases/{case_id}/events"), None, None),
        "GET /cases/by-number/{n}" => {
            let case = app.get_json(&app.admin, &format!("/api/v1/cases/{case_id}")).await;
            let number = case["tracking_number"].as_str().unwrap().to_owned();
            (Method::GET, format!("/api/v1/cases/by-number/{number}"), None, None)
        }
        "GET /cases/{id}/deadline" => (Method::GET, format!("/api/v1/cases/{case_id}/deadline"), None, None),
        "POST /cases/{id}/clock-events fee notice" => (
            Method::POST,
            format!("/api/v1/cases/{case_id}/clock-events"),
            Some(json!({"event": {"type": "fee_notice_sent", "on": "2015-03-03"}})),
            Some(etag().await),
        ),
        "POST /cases/{id}/clock-events extension" => (
            Method::POST,
            format!("/api/v1/cases/{case_id}/clock-events"),
            Some(
                json!({"event": {"type": "extension_approved", "on": "2015-03-03", "days": 1, "reason": "r", "applicant_notified_on": "2015-03-03"}}),
            ),
            Some(etag().await),
        ),
        "GET /agencies/{code}/topics" => (Method::GET, format!("/api/v1/agencies/{agency}/topics"), None, None),
        "PUT /agencies/{code}/topics/{topic}" => {
            (Method::PUT, format!("/api/v1/agencies/{agency}/topics/t{n}"), Some(json!({"label": "x"})), None)
        }
        "POST /agencies" => (
            Method::POST,
            "/api/v1/agencies".into(),
            Some(json!({"code": format!("{agency}-N{n}"), "name": "x", "parent": agency})),
            None,
        ),
        "PUT /agencies/{code}/calendar/days/{date}" => (
            Method::PUT,
            format!("/api/v1/agencies/{agency}/calendar/days/2015-03-{:02}", 1 + n % 28),
            Some(json!({"is_off_day": true, "name": "x"})),
            None,
        ),
        "DELETE /agencies/{code}/calendar/days/{date}" => {
            // Something to delete first (as the global administrator).
            let date = format!("2015-04-{:02}", 1 + n % 28);
            let setup = app
                .client
                .put(app.url(&format!("/api/v1/agencies/{agency}/calendar/days/{date}")))
                .bearer_auth(&app.admin)
                .json(&json!({"is_off_day": true, "name": "x"}))
                .send()
                .await
                .unwrap();
            assert_eq!(setup.status(), 200);
            (Method::DELETE, format!("/api/v1/agencies/{agency}/calendar/days/{date}"), None, None)
        }
        "GET /reports/{format}/{year}" => {
            (Method::GET, format!("/api/v1/reports/y2021/2015?agency={agency}&subtree=true"), None, None)
        }
        "POST /reports/locks" => (
            Method::POST,
            "/api/v1/reports/locks".into(),
            // Years before the cases' 2015, which a lock would close to new registrations; the two roles
            // that succeed are 2 x 29 calls apart, so they lock different years.
            Some(json!({"agency": agency, "year": 2008 + n % 7, "subtree": false})),
            None,
        ),
        "GET /reminders" => (Method::GET, "/api/v1/reminders".into(), None, None),
        "GET /audit/security-events" => (Method::GET, "/api/v1/audit/security-events".into(), None, None),
        "POST /agencies/{code}/deadline-feed" => {
            (Method::POST, format!("/api/v1/agencies/{agency}/deadline-feed"), None, None)
        }
        "GET /users?agency" => (Method::GET, format!("/api/v1/users?agency={agency}"), None, None),
        "POST /users" => (
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({"name": format!("新同事{n}"), "role": "clerk", "agency": agency})),
            None,
        ),
        user_route if user_route.contains("/users/{id}") => {
            // Another user of `agency` to act on (made by the global administrator).
            let target = app.user_id(&app.token(Role::Clerk, agency)).await;
            match user_route {
                "GET /users/{id}" => (Method::GET, format!("/api/v1/users/{target}"), None, None),
                "PATCH /users/{id}" => {
                    (Method::PATCH, format!("/api/v1/users/{target}"), Some(json!({"email": "x@panjin.gov.cn"})), None)
                }
                "POST /users/{id}/deactivate" => {
                    (Method::POST, format!("/api/v1/users/{target}/deactivate"), None, None)
                }
                "POST /users/{id}/reactivate" => {
                    (Method::POST, format!("/api/v1/users/{target}/reactivate"), None, None)
                }
                "GET /users/{id}/tokens" => (Method::GET, format!("/api/v1/users/{target}/tokens"), None, None),
                "POST /users/{id}/tokens" => {
                    (Method::POST, format!("/api/v1/users/{target}/tokens"), Some(json!({"name": "前端"})), None)
                }
                "POST /users/{id}/deadline-feed" => {
                    (Method::POST, format!("/api/v1/users/{target}/deadline-feed"), None, None)
                }
                "PUT /users/{id}/password" => (
                    Method::PUT,
                    format!("/api/v1/users/{target}/password"),
                    Some(json!({"password": "Reset-2026-pass"})),
                    None,
                ),
                "DELETE /users/{id}/tokens/{token_id}" => {
                    let tokens = app.get_json(&app.admin, &format!("/api/v1/users/{target}/tokens")).await;
                    let token_id = tokens[0]["id"].as_str().unwrap().to_owned();
                    (Method::DELETE, format!("/api/v1/users/{target}/tokens/{token_id}"), None, None)
                }
                other => panic!("unknown route {other}"),
            }
        }
        "GET /calendar?agency" => {
            (Method::GET, format!("/api/v1/calendar?from=2015-01-01&to=2015-01-31&agency={agency}"), None, None)
        }
        other => panic!("unknown route {other}"),
    };
    let mut request = app.request_as(method, &path, token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    request.send().await.unwrap().status().as_u16()
}

/// A workflow action on the case, by `token`'s user.
async fn act(app: &TestApp, action: &str, token: &str, case_id: &str) -> u16 {
    let body = match action {
        // Handlers and approvers take the case themselves; others assign a handler.
        "assign" => {
            let me = app.get_json(token, "/api/v1/me").await;
            let takes_it_on = me["role"] == "handler" || me["role"] == "approver";
            let id = if takes_it_on {
                me["user_id"].clone()
            } else {
                json!(app.user_id(&app.token(Role::Handler, "PJ-XLT")).await)
            };
            json!({ "handler_id": id })
        }
        "draft_reply" => json!({"outcome": {"kind": "disclosed"}}),
        "return_draft" | "approve_reply" | "archive" => json!({}),
        "serve" => json!({"on": "2015-03-10", "method": "post"}),
        "answer_on_the_spot" => json!({"outcome": {"kind": "disclosed", "already_public": true}}),
        "withdraw" => json!({"on": "2015-03-05"}),
        "not_process" => json!({"on": "2015-03-05", "ground": "petition_or_complaint"}),
        "transfer" => json!({"on": "2015-03-05", "to_agency": "PJ"}),
        "assess_fee" => json!({"basis": {"method": "cost", "search_items": 1, "pages": 10}}),
        "assess_fee with waiver" => {
            json!({"basis": {"method": "cost", "pages": 10}, "waived_fen": 200, "waiver_reason": "低保"})
        }
        "file_appeal" => json!({"kind": "reconsideration", "filed_on": "2015-03-20"}),
        "amend_registration" => json!({"description": "2014年城区道路改造工程的招标公告"}),
        "void_duplicate" => {
            // The registration it duplicates: another case of the same agency.
            let case = app.get_json(&app.admin, &format!("/api/v1/cases/{case_id}")).await;
            let original = new_case(app, case["agency"].as_str().unwrap()).await;
            json!({ "duplicate_of": original })
        }
        "decide_appeal" => json!({"number": 1, "outcome": "upheld", "decided_on": "2015-04-20"}),
        "reopen_for_new_reply" => {
            json!({"appeal_number": 1, "on": "2015-05-04", "period": {"kind": "date", "due_on": "2015-05-29"}})
        }
        other => panic!("unknown action {other}"),
    };
    let mut action_body = body;
    action_body["type"] = json!(action.split(' ').next().unwrap());
    let res = app.act(token, case_id, json!({"action": action_body, "reason": "矩阵测试"})).await;
    res.status().as_u16()
}

/// A case at `agency` brought to `setup` by the city's office head.
async fn prepare(app: &TestApp, setup: Setup, agency: &str, head: &str, head_id: &str) -> String {
    let mut body = intake(agency);
    body["arrived_at"] = json!("2015-03-02T10:00:00+08:00");
    if setup == Setup::InPerson {
        body["channel"] = json!("in_person");
    }
    let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
    let id = case["id"].as_str().unwrap().to_owned();
    let step = |action: Value| app.act_ok(head, &id, json!({"action": action, "reason": "准备"}));
    if matches!(setup, Setup::UnderReview | Setup::FeeAssessed | Setup::Drafted | Setup::Approved) {
        step(json!({"type": "assign", "handler_id": head_id})).await;
    }
    if setup == Setup::FeeAssessed {
        step(json!({"type": "assess_fee", "basis": {"method": "cost", "search_items": 1}})).await;
    }
    if matches!(setup, Setup::Drafted | Setup::Approved) {
        step(json!({"type": "draft_reply", "outcome": {"kind": "disclosed"}})).await;
    }
    if setup == Setup::Approved {
        step(json!({"type": "approve_reply"})).await;
    }
    if matches!(setup, Setup::Closed | Setup::AppealFiled) {
        step(json!({"type": "withdraw", "on": "2015-03-04"})).await;
    }
    if setup == Setup::AppealFiled {
        step(json!({"type": "file_appeal", "kind": "reconsideration", "filed_on": "2015-03-20"})).await;
    }
    if setup == Setup::CorrectedOnAppeal {
        step(json!({"type": "assign", "handler_id": head_id})).await;
        step(json!({"type": "draft_reply", "outcome": {"kind": "withheld", "reason": "third_party_rights"}})).await;
        step(json!({"type": "approve_reply"})).await;
        step(json!({"type": "serve", "on": "2015-03-10", "method": "post"})).await;
        step(json!({"type": "file_appeal", "kind": "reconsideration", "filed_on": "2015-03-20"})).await;
        step(json!({"type": "decide_appeal", "number": 1, "outcome": "corrected", "decided_on": "2015-04-30"})).await;
    }
    id
}

async fn new_case(app: &TestApp, agency: &str) -> String {
    let mut body = intake(agency);
    body["arrived_at"] = json!("2015-03-02T10:00:00+08:00");
    let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
    case["id"].as_str().unwrap().to_owned()
}

/// How the matrix's callers authenticate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Token,
    Session,
}

async fn every_route_answers_each_role_in_and_out_of_scope(app: TestApp) {
    matrix(app, Via::Token).await
}

/// The same matrix with every caller signed in in a browser (cookie and CSRF token): a session
/// carries exactly its user's rights.
async fn every_route_answers_each_role_signed_in_by_session_as_by_token(app: TestApp) {
    matrix(app, Via::Session).await
}

async fn matrix(app: TestApp, via: Via) {
    app.seed_city();
    let head = app.token(Role::Approver, "PJ");
    let head_id = app.user_id(&head).await;
    let mut n = 0;
    let mut mismatches = Vec::new();
    for &role in ALL {
        // Every user belongs to the district PJ-XLT; PJ-DW is a sibling outside its subtree.
        let token = match via {
            Via::Token => app.token(role, "PJ-XLT"),
            Via::Session => app.session(role, "PJ-XLT").await,
        };
        for route in ROUTES {
            for (agency, inside) in [("PJ-XLT", true), ("PJ-DW", false)] {
                n += 1;
                let case_id = prepare(&app, route.setup, agency, &head, &head_id).await;
                let allowed = route.roles.contains(&role);
                let expected = match (allowed, inside) {
                    (true, true) => route.ok,
                    (true, false) => route.outside,
                    // A refused role is refused whatever the agency; outside the subtree a route that
                    // hides other agencies' resources may answer 404 first.
                    (false, true) => 403,
                    (false, false) => 0,
                };
                let status = call(&app, route.name, &token, agency, &case_id, n).await;
                let fine = if expected == 0 { status == 403 || status == route.outside } else { status == expected };
                if !fine {
                    mismatches.push(format!("{role} {} on {agency}: got {status}, expected {expected}", route.name));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

async fn every_protected_route_needs_a_token(app: TestApp) {
    app.seed_city();
    let id = new_case(&app, "PJ").await;
    for (method, path) in [
        (Method::POST, "/api/v1/cases".to_owned()),
        (Method::GET, "/api/v1/cases".to_owned()),
        (Method::GET, format!("/api/v1/cases/{id}")),
        (Method::GET, format!("/api/v1/cases/{id}/events")),
        (Method::GET, "/api/v1/cases/by-number/PJ-2015-00001".to_owned()),
        (Method::GET, format!("/api/v1/cases/{id}/deadline")),
        (Method::POST, format!("/api/v1/cases/{id}/clock-events")),
        (Method::POST, format!("/api/v1/cases/{id}/actions")),
        (Method::GET, "/api/v1/agencies".to_owned()),
        (Method::POST, "/api/v1/agencies".to_owned()),
        (Method::GET, "/api/v1/agencies/PJ/topics".to_owned()),
        (Method::PUT, "/api/v1/agencies/PJ/topics/x".to_owned()),
        (Method::PUT, "/api/v1/agencies/PJ/calendar/days/2015-03-03".to_owned()),
        (Method::DELETE, "/api/v1/agencies/PJ/calendar/days/2015-03-03".to_owned()),
        (Method::GET, "/api/v1/calendar?from=2015-01-01&to=2015-01-02".to_owned()),
        (Method::POST, "/api/v1/calendar/notices".to_owned()),
        (Method::PUT, "/api/v1/calendar/days/2015-03-03".to_owned()),
        (Method::DELETE, "/api/v1/calendar/days/2015-03-03".to_owned()),
        (Method::GET, "/api/v1/audit/verify".to_owned()),
        (Method::GET, "/api/v1/reports/y2021/2015?agency=PJ".to_owned()),
        (Method::POST, "/api/v1/reports/locks".to_owned()),
        (Method::GET, "/api/v1/reminders".to_owned()),
        (Method::GET, "/api/v1/me".to_owned()),
        (Method::GET, "/api/v1/users".to_owned()),
        (Method::POST, "/api/v1/users".to_owned()),
        (Method::GET, format!("/api/v1/users/{id}")),
        (Method::PATCH, format!("/api/v1/users/{id}")),
        (Method::POST, format!("/api/v1/users/{id}/deactivate")),
        (Method::POST, format!("/api/v1/users/{id}/reactivate")),
        (Method::GET, format!("/api/v1/users/{id}/tokens")),
        (Method::POST, format!("/api/v1/users/{id}/tokens")),
        (Method::DELETE, format!("/api/v1/users/{id}/tokens/x")),
        (Method::PUT, format!("/api/v1/users/{id}/password")),
        (Method::GET, "/api/v1/session".to_owned()),
        (Method::DELETE, "/api/v1/session".to_owned()),
        (Method::GET, "/api/v1/audit/security-events".to_owned()),
        (Method::GET, format!("/api/v1/users/{id}/deadline-feed")),
        (Method::POST, format!("/api/v1/users/{id}/deadline-feed")),
        (Method::DELETE, format!("/api/v1/users/{id}/deadline-feed")),
        (Method::GET, "/api/v1/agencies/PJ/deadline-feed".to_owned()),
        (Method::POST, "/api/v1/agencies/PJ/deadline-feed".to_owned()),
        (Method::DELETE, "/api/v1/agencies/PJ/deadline-feed".to_owned()),
        (Method::POST, format!("/api/v1/cases/{id}/attachments")),
        (Method::GET, format!("/api/v1/cases/{id}/attachments")),
        (Method::GET, format!("/api/v1/cases/{id}/attachments/{id}")),
        (Method::POST, format!("/api/v1/cases/{id}/documents")),
        (Method::GET, format!("/api/v1/cases/{id}/documents")),
        (Method::GET, format!("/api/v1/cases/{id}/documents/{id}")),
        (Method::GET, "/api/v1/agencies/PJ/letterhead".to_owned()),
        (Method::PUT, "/api/v1/agencies/PJ/letterhead".to_owned()),
        (Method::GET, "/api/v1/agencies/PJ/document-templates/reply".to_owned()),
        (Method::PUT, "/api/v1/agencies/PJ/document-templates/reply".to_owned()),
        (Method::DELETE, "/api/v1/agencies/PJ/document-templates/reply".to_owned()),
        (Method::POST, "/api/v1/agencies/PJ/imports".to_owned()),
        (Method::GET, "/api/v1/imports/template".to_owned()),
    ] {
        let res = app.client.request(method.clone(), app.url(&path)).json(&json!({})).send().await.unwrap();
        assert_eq!(res.status(), 401, "{method} {path}");
    }
    // The public routes answer without one.
    for path in [
        "/healthz",
        "/readyz",
        "/api/v1/openapi.json",
        "/api/v1/docs/",
        "/api/v1/deadlines/calculate?received_on=2015-03-02",
    ] {
        assert_eq!(app.client.get(app.url(path)).send().await.unwrap().status(), 200, "{path}");
    }
    // National calendar changes: only a global administrator; a scoped one is refused.
    let scoped = app.token(Role::Admin, "PJ");
    let res = app
        .client
        .put(app.url("/api/v1/calendar/days/2015-03-03"))
        .bearer_auth(&scoped)
        .json(&json!({"is_off_day": true, "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // The audit: administrators only.
    assert_eq!(app.get(&scoped, "/api/v1/audit/verify").await.status(), 200);
    assert_eq!(app.get(&app.token(Role::Approver, "PJ"), "/api/v1/audit/verify").await.status(), 403);
}
