//! The console's pages rendered by the server: signing in and out, the work queues, registering a
//! request, a reply from draft to service with a concurrent change, search, statistics, and the
//! escaping of user text. (The same journey in a real browser is the end-to-end suite.)

use foi_tracker::domain::role::Role;
use foi_tracker::service::accounts;
use foi_tracker::service::directory::add_user;
use foi_tracker::service::Caller;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{intake, TestApp};

crate::on_both_backends!(
    the_console_signs_in_and_out_in_chinese_or_english,
    pages_need_a_session_and_forms_their_csrf_token,
    a_clerk_registers_a_letter_once_however_often_the_button_is_pressed,
    a_session_that_ends_keeps_the_forms_input,
    a_reply_goes_from_draft_to_service_in_the_console_and_reaches_the_statistics,
    search_finds_by_number_by_words_and_by_phone,
    an_administrator_manages_users_tokens_agencies_and_the_calendar,
    a_stopped_clock_shows_what_it_waits_for,
    a_session_that_ends_keeps_an_action_forms_input,
    fees_amendments_repeat_requests_and_new_replies_have_their_forms,
    a_statistician_locks_an_ended_year_from_the_statistics_page,
    letters_and_papers_are_generated_attached_and_printed_from_the_case_page,
);

const PASSWORD: &str = "Lantern-River-2026";

/// A browser: its own cookie jar of one session cookie, redirects not followed.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookie: Option<String>,
    lang: &'static str,
}

/// Text of a response, with its status.
struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookie: Option<String>,
    body: String,
}

impl Page {
    /// The value of the first hidden or visible input named `name`.
    fn input(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start =
            self.body.find(&marker).unwrap_or_else(|| panic!("no input {name} in {}", self.body)) + marker.len();
        let end = self.body[start..].find('"').unwrap();
        html_unescape(&self.body[start..start + end])
    }
}

fn html_unescape(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Browser<'a> {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { app, client, cookie: None, lang: "zh-CN,zh;q=0.9" }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let mut request = request.header("accept-language", self.lang).header("sec-fetch-site", "same-origin");
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", format!("foi_session={cookie}"));
        }
        let res = request.send().await.unwrap();
        let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        let (status, location, set_cookie) = (res.status(), header("location"), header("set-cookie"));
        if let Some(value) = set_cookie.as_deref().and_then(|c| c.split(';').next()?.strip_prefix("foi_session=")) {
            self.cookie = (!value.is_empty()).then(|| value.to_owned());
        }
        Page { status, location, set_cookie, body: res.text().await.unwrap() }
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(self.app.url(path));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let request =
            self.client.post(self.app.url(path)).header("content-type", "application/x-www-form-urlencoded").body(body);
        self.send(request).await
    }

    async fn sign_in(&mut self, login: &str) -> Page {
        let page = self.post("/login", &[("name", login), ("password", PASSWORD), ("next", "/")]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        page
    }
}

/// A user of `role` at `agency` with a password; their login and id.
fn user(app: &TestApp, role: Role, agency: &str, name: &str) -> (String, String) {
    let login = format!("u{}", uuid::Uuid::now_v7().simple());
    let mut conn = app.db.conn().unwrap();
    let (row, _) = add_user(&mut conn, Caller::Operator, name, role, Some(agency), None, Some(&login)).unwrap();
    accounts::set_password(&mut conn, Caller::Operator, &row.id, PASSWORD, None, None).unwrap();
    (login, row.id)
}

/// Today in Beijing, as the forms default their dates. A case received "today" arrives at 00:00 Beijing
/// time: any later hour would be in the future during the first hours of the Beijing day (the evening
/// before in UTC), which intake refuses.
fn today() -> String {
    foi_tracker::domain::china_date(chrono::Utc::now()).to_string()
}

async fn the_console_signs_in_and_out_in_chinese_or_english(app: TestApp) {
    app.seed_city();
    let (login, _) = user(&app, Role::Clerk, "PJ", "李登记");
    let mut browser = Browser::new(&app);
    let page = browser.get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<html lang=\"zh-CN\">"));
    assert!(page.body.contains("type=\"password\""));
    assert!(page.body.contains("登录"));

    let mut english = Browser::new(&app);
    english.lang = "en-GB,en;q=0.8";
    let page = english.get("/").await;
    assert!(page.body.contains("<html lang=\"en\">") && page.body.contains("Sign in"), "{}", page.body);

    // A wrong password: the form again, with the one message for every failure.
    let page = browser.post("/login", &[("name", &login), ("password", "wrong-password-1"), ("next", "/")]).await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("用户名或密码错误"));
    assert!(browser.cookie.is_none());
    // A login form posted from another site is refused.
    let cross = browser
        .client
        .post(app.url("/login"))
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name={login}&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert!(cross.headers()["content-type"].to_str().unwrap().starts_with("text/html"));

    let page = browser.sign_in(&login).await;
    assert_eq!(page.location.as_deref(), Some("/"));
    let cookie = page.set_cookie.unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let home = browser.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("今日登记") && home.body.contains("李登记（登记人）"), "{}", home.body);
    assert!(home.body.contains("href=\"/cases/new\""));

    // English by choice, kept in a cookie.
    let switched = browser.post("/language", &[("lang", "en"), ("back", "/")]).await;
    assert_eq!(switched.status, 303);
    assert!(switched.set_cookie.unwrap().starts_with("foi_lang=en"));

    // Sign out needs the form's token; afterwards the old cookie opens nothing.
    let csrf = home.input("csrf_token");
    let old = browser.cookie.clone();
    let refused = browser.post("/logout", &[("csrf_token", "forged")]).await;
    assert_eq!(refused.status, 403);
    let out = browser.post("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    browser.cookie = old;
    let page = browser.get("/").await;
    assert!(page.body.contains("type=\"password\"") && page.body.contains("登录已过期"), "{}", page.body);
}

async fn pages_need_a_session_and_forms_their_csrf_token(app: TestApp) {
    app.seed_city();
    let mut browser = Browser::new(&app);
    for path in ["/cases/new", "/search?q=%E9%81%93%E8%B7%AF", "/statistics"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        let back = form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
        assert_eq!(page.location, Some(format!("/?next={back}")), "{path}");
    }
    let login = browser.get("/").await.body;
    let start = login.find("href=\"/static/console-").expect("the stylesheet's link") + "href=\"".len();
    let stylesheet = &login[start..start + login[start..].find('"').unwrap()];
    assert!(stylesheet.ends_with(".css") && stylesheet.len() == "/static/console-".len() + 12 + 4, "{stylesheet}");
    let css = app.client.get(app.url(stylesheet)).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let htmx = app.client.get(app.url("/static/htmx-2.0.11.min.js")).send().await.unwrap();
    assert_eq!(htmx.status(), 200);
    let stale = app.client.get(app.url("/static/console-000000000000.css")).send().await.unwrap();
    assert_eq!(stale.status(), 404, "an old stylesheet's name is not served as the new one");
    let missing = app.client.get(app.url("/static/nothing.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    // The API's unknown paths still answer in problem+json.
    let api = app.client.get(app.url("/api/v1/nothing")).send().await.unwrap();
    assert_eq!(api.headers()["content-type"], "application/problem+json");

    let (login, _) = user(&app, Role::Handler, "PJ", "王承办");
    browser.sign_in(&login).await;
    let case: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    let id = case["id"].as_str().unwrap();
    let page = browser.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, 200);
    let version = page.input("version");
    let forged = browser
        .post(&format!("/cases/{id}/act"), &[("csrf_token", "x"), ("version", &version), ("action", "archive")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(app.etag(id).await, version, "a refused form changes nothing");
    // A case of another agency is not found, as in the API.
    let page = browser.get("/cases/01a23f7d-70c8-7664-b187-5be6e522e5f7").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("<html"));
}

/// The register form's fields for a letter that arrived on 2026-11-27 (a Friday).
fn letter_fields<'a>(page: &Page, csrf: &'a str, description: &'a str) -> Vec<(String, String)> {
    [
        ("csrf_token", csrf),
        ("agency", "PJ"),
        ("channel", "letter"),
        ("arrived_at", "2026-11-27T10:00"),
        ("applicant.kind", "natural_person"),
        ("applicant.name", "张三"),
        ("applicant.phone", "15704271234"),
        ("description", description),
        ("delivery_form", "paper"),
        ("topic", "urban"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([("form_token".to_owned(), page.input("form_token"))])
    .collect()
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn a_clerk_registers_a_letter_once_however_often_the_button_is_pressed(app: TestApp) {
    app.seed_city();
    let (login, _) = user(&app, Role::Clerk, "PJ", "李登记");
    let mut browser = Browser::new(&app);
    browser.sign_in(&login).await;
    let form = browser.get("/cases/new").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("城建环保类"), "the agency's topics are offered");
    let csrf = form.input("csrf_token");

    // The receipt date and deadline before submitting, with their basis.
    let preview = browser.get("/cases/receipt-preview?agency=PJ&channel=letter&arrived_at=2026-11-27T10:00").await;
    assert_eq!(preview.status, 200);
    assert_eq!(preview.body, "信函：签收之日 2026-11-27（周五） → 答复期限 2026-12-25（周五）");

    // A missing name: the form again, the error beside the field, the input kept.
    let mut fields = letter_fields(&form, &csrf, "道路改造的招标文件");
    fields.retain(|(k, _)| k != "applicant.name");
    let page = browser.post("/cases/new", &pairs(&fields)).await;
    assert_eq!(page.status, 422, "{}", page.body);
    let error_at = page.body.find("id=\"applicant.name-error\">").unwrap();
    assert!(!page.body[error_at..].starts_with("id=\"applicant.name-error\"></span>"), "the error is shown");
    assert!(page.body.contains("道路改造的招标文件</textarea>"));
    assert_eq!(app.case_count(), 0);

    // Registered; the same form posted again (a double-click) registers nothing more.
    let hostile = "<script>alert('x')</script>道路改造";
    let fields = letter_fields(&form, &csrf, hostile);
    let first = browser.post("/cases/new", &pairs(&fields)).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let second = browser.post("/cases/new", &pairs(&fields)).await;
    assert_eq!(second.location, first.location);
    assert_eq!(app.case_count(), 1);

    let case_page = browser.get(first.location.as_deref().unwrap()).await;
    assert_eq!(case_page.status, 200);
    assert!(case_page.body.contains("已办理"));
    assert!(!case_page.body.contains("<script>alert"), "user text is escaped");
    assert!(
        case_page.body.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;道路改造"),
        "{}",
        case_page.body
    );
    assert!(case_page.body.contains("2026-12-25（周五）"));
    assert!(case_page.body.contains("2026-11-28（周六） 周末"), "the skipped days are explained");
    // The clerk's queue lists it among today's registrations.
    let home = browser.get("/").await;
    assert!(home.body.contains("PJ-2026-00001"), "{}", home.body);
}

async fn a_session_that_ends_keeps_the_forms_input(app: TestApp) {
    app.seed_city();
    let (login, _) = user(&app, Role::Clerk, "PJ", "李登记");
    let mut browser = Browser::new(&app);
    browser.sign_in(&login).await;
    let form = browser.get("/cases/new").await;
    let csrf = form.input("csrf_token");
    // The session ends on the server (signed out elsewhere) while the form is open.
    {
        use diesel::prelude::*;
        use foi_tracker::db::schema::sessions;
        let mut conn = app.db.conn().unwrap();
        diesel::update(sessions::table)
            .set((sessions::ended_at.eq(chrono::Utc::now().naive_utc()), sessions::end_reason.eq("logout")))
            .execute(&mut *conn)
            .unwrap();
    }
    let fields = letter_fields(&form, &csrf, "需要保留的申请内容");
    let page = browser.post("/cases/new", &pairs(&fields)).await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("type=\"password\"") && page.body.contains("登录已过期"));
    assert_eq!(page.input("next"), "/cases/new");
    let draft = page.input("draft");
    assert!(draft.contains("%E9%9C%80%E8%A6%81"), "the description travels with the sign-in: {draft}");
    assert!(!draft.contains("csrf_token"));
    assert_eq!(app.case_count(), 0);

    let refilled = browser
        .post("/login", &[("name", &login), ("password", PASSWORD), ("next", "/cases/new"), ("draft", &draft)])
        .await;
    assert_eq!(refilled.status, 200, "{}", refilled.body);
    assert!(refilled.set_cookie.is_some());
    assert!(refilled.body.contains("需要保留的申请内容</textarea>"));
    assert!(refilled.body.contains("value=\"15704271234\""));
    // Submitted now, with the new session's token, it registers.
    let fields = letter_fields(&refilled, &refilled.input("csrf_token"), "需要保留的申请内容");
    let done = browser.post("/cases/new", &pairs(&fields)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(app.case_count(), 1);
}

/// The option value of a select on `page` whose label contains `label`.
fn option_with(page: &Page, label: &str) -> String {
    let at = page.body.find(label).unwrap_or_else(|| panic!("no option {label}"));
    let start = page.body[..at].rfind("<option value=\"").unwrap() + "<option value=\"".len();
    let end = page.body[start..].find('"').unwrap();
    html_unescape(&page.body[start..start + end])
}

async fn a_reply_goes_from_draft_to_service_in_the_console_and_reaches_the_statistics(app: TestApp) {
    app.seed_city();
    let (handler_login, handler_id) = user(&app, Role::Handler, "PJ-XLT", "王承办");
    let (approver_login, _) = user(&app, Role::Approver, "PJ-XLT", "赵负责");
    let (statistician_login, _) = user(&app, Role::Statistician, "PJ", "钱统计");
    let mut body = intake("PJ-XLT");
    body["arrived_at"] = json!(format!("{}T00:00:00+08:00", today()));
    let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
    let id = case["id"].as_str().unwrap().to_owned();
    let number = case["tracking_number"].as_str().unwrap().to_owned();
    app.act_ok(&app.admin, &id, json!({"action": {"type": "assign", "handler_id": handler_id}})).await;

    // The handler's queue: the case, its deadline in working days.
    let mut handler = Browser::new(&app);
    handler.sign_in(&handler_login).await;
    let home = handler.get("/").await;
    assert!(home.body.contains("我的待办") && home.body.contains(&number), "{}", home.body);
    assert!(home.body.contains("剩余"), "{}", home.body);
    assert!(home.body.contains("id=\"count-waiting\">1<"));

    // Draft a partial disclosure: the choice shows the report row it is counted in.
    let page = handler.get(&format!("/cases/{id}")).await;
    let csrf = page.input("csrf_token");
    let outcome = option_with(&page, "（二）部分公开");
    assert_eq!(serde_json::from_str::<Value>(&outcome).unwrap()["kind"], "partly_disclosed");
    let stale = page.input("version");
    let drafted = handler
        .post(
            &format!("/cases/{id}/act"),
            &[
                ("csrf_token", &csrf),
                ("version", &stale),
                ("action", "draft_reply"),
                ("f.outcome", &outcome),
                ("reason", "涉及第三方信息，区分处理"),
            ],
        )
        .await;
    assert_eq!(drafted.status, 303, "{}", drafted.body);

    // Posted again from the old page: someone (here, the same handler) changed the case meanwhile.
    let conflict = handler
        .post(
            &format!("/cases/{id}/act"),
            &[("csrf_token", &csrf), ("version", &stale), ("action", "draft_reply"), ("f.outcome", &outcome)],
        )
        .await;
    assert_eq!(conflict.status, 412);
    assert!(conflict.body.contains("有人刚刚修改了这个案件"));
    assert_ne!(conflict.input("version"), stale, "the page shows the case as it is now");

    // The office head's queue has the draft; approving it from the console.
    let mut approver = Browser::new(&app);
    approver.sign_in(&approver_login).await;
    let home = approver.get("/").await;
    assert!(home.body.contains("待审核的答复") && home.body.contains(&number), "{}", home.body);
    let page = approver.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("id=\"draft-outcome\""));
    let approved = approver
        .post(
            &format!("/cases/{id}/act"),
            &[
                ("csrf_token", &page.input("csrf_token")),
                ("version", &page.input("version")),
                ("action", "approve_reply"),
            ],
        )
        .await;
    assert_eq!(approved.status, 303, "{}", approved.body);

    // Served by post today.
    let page = handler.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("id=\"action-serve\""));
    let served = handler
        .post(
            &format!("/cases/{id}/act"),
            &[
                ("csrf_token", &page.input("csrf_token")),
                ("version", &page.input("version")),
                ("action", "serve"),
                ("f.method", "post"),
                ("f.on", &today()),
            ],
        )
        .await;
    assert_eq!(served.status, 303, "{}", served.body);
    let case = app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["state"], "replied");
    assert_eq!(case["outcome"]["kind"], "partly_disclosed");
    let page = handler.get(&format!("/cases/{id}")).await;
    let timeline = &page.body[page.body.find("timeline-h").unwrap()..];
    assert!(timeline.contains("拟办答复") && timeline.contains("王承办") && timeline.contains("赵负责"), "{timeline}");

    // The statistician sees it in this year's 2021 table, with the checks and the downloads.
    let mut statistician = Browser::new(&app);
    statistician.sign_in(&statistician_login).await;
    let year = &today()[..4];
    let page = statistician.get(&format!("/statistics?agency=PJ&subtree=1&year={year}&format=y2021")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let row_at = page.body.find("data-code=\"partly_disclosed\"").expect("the row");
    let row = &page.body[row_at..row_at + page.body[row_at..].find("</tr>").unwrap()];
    assert!(row.ends_with("<td class=\"num\">1</td>"), "{row}");
    assert!(page.body.contains("check-ok") && !page.body.contains("check-bad"));
    assert!(page.body.contains(&format!("/api/v1/reports/y2021/{year}?agency=PJ&#38;subtree=true&amp;output=xlsx")));
    // Personal data stays masked for the statistician on the case page.
    let page = statistician.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("个人信息已隐去") && !page.body.contains("15704271234"));
}

async fn search_finds_by_number_by_words_and_by_phone(app: TestApp) {
    app.seed_city();
    let (login, _) = user(&app, Role::Handler, "PJ", "王承办");
    let case: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    let (id, number) = (case["id"].as_str().unwrap(), case["tracking_number"].as_str().unwrap());
    let mut browser = Browser::new(&app);
    browser.sign_in(&login).await;
    let page = browser.get(&format!("/search?q={number}")).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location, Some(format!("/cases/{id}")));
    let page = browser.get("/search?q=%E9%81%93%E8%B7%AF&status=open").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(number) && page.body.contains("id=\"search-total\">1<"), "{}", page.body);
    assert!(page.body.contains("/api/v1/cases/export?format=xlsx&#38;q="));
    let page = browser.get("/search?contact=157-0427-1234").await;
    assert!(page.body.contains(number), "the phone is matched however it is typed");
    let page = browser.get("/search?q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E8%AF%8D").await;
    assert!(page.body.contains("id=\"search-total\">0<"));
    // A capped count stops after one more than the cap ("more than"), and an exact one goes on.
    app.post_case(&app.admin, &intake("PJ")).await;
    app.post_case(&app.admin, &intake("PJ")).await;
    let calendars = foi_tracker::db::calendar::CalendarCache::default();
    let admin = {
        let mut conn = app.db.conn().unwrap();
        foi_tracker::db::users::authenticate(&mut conn, &app.admin).unwrap()
    };
    let foi_tracker::db::users::TokenCheck::Valid(admin) = admin else { panic!("the admin's token") };
    for (cap, total) in [(Some(1), 2), (Some(5), 3), (None, 3)] {
        let query = foi_tracker::service::cases::CaseQuery {
            text: Some("道路".into()),
            limit: 1,
            count: true,
            count_cap: cap,
            ..Default::default()
        };
        let mut conn = app.db.conn().unwrap();
        let page = foi_tracker::service::cases::list(&mut conn, &calendars, &admin, query).unwrap();
        assert_eq!(page.total, Some(total), "{cap:?}");
    }
    let page = browser.get("/search?q=%25").await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("class=\"error\""));
}

async fn an_administrator_manages_users_tokens_agencies_and_the_calendar(app: TestApp) {
    app.seed_city();
    let (login, _) = user(&app, Role::Admin, "PJ", "孙管理");
    let (clerk_login, _) = user(&app, Role::Clerk, "PJ", "李登记");
    let mut clerk = Browser::new(&app);
    clerk.sign_in(&clerk_login).await;
    let refused = clerk.get("/admin/users").await;
    assert_eq!(refused.status, 403);

    let mut browser = Browser::new(&app);
    browser.sign_in(&login).await;
    let page = browser.get("/admin/users").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("李登记") && page.body.contains("href=\"/admin/users\""));
    let csrf = page.input("csrf_token");

    // A new handler with a password: the token is shown once, and the handler can sign in.
    let new_login = format!("h{}", uuid::Uuid::now_v7().simple());
    let created = browser
        .post(
            "/admin/act",
            &[
                ("csrf_token", &csrf),
                ("op", "create_user"),
                ("back", "/admin/users"),
                ("name", "周承办"),
                ("login", &new_login),
                ("role", "handler"),
                ("agency", "PJ-XLT"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let token_at = created.body.find("<code id=\"token\">").unwrap() + "<code id=\"token\">".len();
    let token = &created.body[token_at..token_at + created.body[token_at..].find('<').unwrap()];
    let me = app.get_json(token, "/api/v1/me").await;
    assert_eq!(me["role"], "handler");
    let handler_id = me["user_id"].as_str().unwrap().to_owned();
    let mut handler = Browser::new(&app);
    handler.sign_in(&new_login).await;

    // A bad change comes back with its reason and changes nothing.
    let bad = browser
        .post(
            "/admin/act",
            &[
                ("csrf_token", &csrf),
                ("op", "set_role"),
                ("user_id", &handler_id),
                ("role", "emperor"),
                ("back", "/admin/users"),
            ],
        )
        .await;
    assert_eq!(bad.status, 303);
    assert!(bad.location.as_deref().unwrap().starts_with("/admin/users?error="));
    // Role, deactivation (the handler's session ends), reactivation, a password reset.
    for (op, extra) in [
        ("set_role", ("role", "approver")),
        ("deactivate", ("", "")),
        ("reactivate", ("", "")),
        ("reset_password", ("password", "Another-River-2027")),
    ] {
        let mut fields =
            vec![("csrf_token", csrf.as_str()), ("op", op), ("user_id", handler_id.as_str()), ("back", "/admin/users")];
        if !extra.0.is_empty() {
            fields.push(extra);
        }
        let done = browser.post("/admin/act", &fields).await;
        assert_eq!(done.status, 303, "{op}");
        assert!(done.location.as_deref().unwrap().starts_with("/admin/users?done="), "{op}: {:?}", done.location);
    }
    let page = handler.get("/").await;
    assert!(page.body.contains("type=\"password\""), "the deactivation ended the handler's session");
    assert_eq!(app.get_json(&app.admin, &format!("/api/v1/users/{handler_id}")).await["role"], "approver");

    // Tokens: one more, then revoked.
    let page = browser.get(&format!("/admin/users/{handler_id}")).await;
    assert_eq!(page.status, 200);
    let made = browser
        .post(
            "/admin/act",
            &[
                ("csrf_token", &csrf),
                ("op", "create_token"),
                ("user_id", &handler_id),
                ("name", "报表脚本"),
                ("back", "/admin/users"),
            ],
        )
        .await;
    assert_eq!(made.status, 200);
    let page = browser.get(&format!("/admin/users/{handler_id}")).await;
    assert!(page.body.contains("报表脚本"));
    let token_id = page.input("token_id");
    let revoked = browser
        .post(
            "/admin/act",
            &[
                ("csrf_token", &csrf),
                ("op", "revoke_token"),
                ("user_id", &handler_id),
                ("token_id", &token_id),
                ("back", &format!("/admin/users/{handler_id}")),
            ],
        )
        .await;
    assert_eq!(revoked.status, 303);
    assert!(browser.get(&format!("/admin/users/{handler_id}")).await.body.contains("已撤销"));

    // An agency and a topic.
    let added = browser
        .post(
            "/admin/act",
            &[
                ("csrf_token", &csrf),
                ("op", "add_agency"),
                ("code", "PJ-SH"),
                ("name", "双台子区人民政府"),
                ("parent", "PJ"),
                ("back", "/admin/agencies"),
            ],
        )
        .await;
    assert_eq!(
        added.location.as_deref().map(|l| l.starts_with("/admin/agencies?done=")),
        Some(true),
        "{:?}",
        added.location
    );
    browser
        .post(
            "/admin/act",
            &[
                ("csrf_token", &csrf),
                ("op", "put_topic"),
                ("agency", "PJ-SH"),
                ("code", "water"),
                ("label", "水利类"),
                ("back", "/admin/agencies"),
            ],
        )
        .await;
    let page = browser.get("/admin/agencies").await;
    assert!(page.body.contains("双台子区人民政府") && page.body.contains("水利类"), "{}", page.body);

    // The calendar: 2026 is loaded, 1 October is a holiday; a local day off for the district.
    let page = browser.get("/admin/calendar?year=2026").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("本年度国务院放假通知已导入"));
    assert!(page.body.contains("title=\"2026-10-01 国庆节"), "{}", &page.body[..2000.min(page.body.len())]);
    let set = browser
        .post(
            "/admin/act",
            &[
                ("csrf_token", &csrf),
                ("op", "set_day"),
                ("agency", "PJ-SH"),
                ("date", "2026-12-30"),
                ("kind", "off"),
                ("name", "本地停电检修"),
                ("back", "/admin/calendar?year=2026&agency=PJ-SH"),
            ],
        )
        .await;
    assert!(
        set.location.as_deref().unwrap().starts_with("/admin/calendar?year=2026&agency=PJ-SH&done="),
        "{:?}",
        set.location
    );
    let page = browser.get("/admin/calendar?year=2026&agency=PJ-SH").await;
    assert!(page.body.contains("title=\"2026-12-30 本地停电检修\""));
    assert!(
        !browser.get("/admin/calendar?year=2026").await.body.contains("本地停电检修"),
        "the overlay is the district's only"
    );
    let cleared = browser
        .post(
            "/admin/act",
            &[
                ("csrf_token", &csrf),
                ("op", "clear_day"),
                ("agency", "PJ-SH"),
                ("date", "2026-12-30"),
                ("back", "/admin/calendar?year=2026&agency=PJ-SH"),
            ],
        )
        .await;
    assert_eq!(cleared.status, 303);
    assert!(!browser.get("/admin/calendar?year=2026&agency=PJ-SH").await.body.contains("本地停电检修"));
}

async fn a_stopped_clock_shows_what_it_waits_for(app: TestApp) {
    app.seed_city();
    let (login, handler_id) = user(&app, Role::Handler, "PJ", "王承办");
    let mut body = intake("PJ");
    body["arrived_at"] = json!(format!("{}T00:00:00+08:00", today()));
    let case: Value = app.post_case(&app.admin, &body).await.json().await.unwrap();
    let id = case["id"].as_str().unwrap().to_owned();
    app.act_ok(&app.admin, &id, json!({"action": {"type": "assign", "handler_id": handler_id}})).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&login).await;

    // 告知补正 from the case page: the queue then says the clock waits for the correction.
    let page = browser.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("id=\"action-correction_notice_sent\""), "{}", page.body);
    let respond_by = (foi_tracker::domain::china_date(chrono::Utc::now()) + chrono::Duration::days(15)).to_string();
    let sent = browser
        .post(
            &format!("/cases/{id}/act"),
            &[
                ("csrf_token", &page.input("csrf_token")),
                ("version", &page.input("version")),
                ("action", "correction_notice_sent"),
                ("f.on", &today()),
                ("f.respond_by", &respond_by),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let home = browser.get("/").await;
    assert!(home.body.contains("暂停计时：等待补正"), "{}", home.body);

    // The corrected request arrives: the clock runs again.
    let page = browser.get(&format!("/cases/{id}")).await;
    let received = browser
        .post(
            &format!("/cases/{id}/act"),
            &[
                ("csrf_token", &page.input("csrf_token")),
                ("version", &page.input("version")),
                ("action", "correction_received"),
                ("f.on", &today()),
            ],
        )
        .await;
    assert_eq!(received.status, 303, "{}", received.body);
    let home = browser.get("/").await;
    assert!(!home.body.contains("暂停计时") && home.body.contains("剩余"), "{}", home.body);
}

/// Posts action `action` from the case page as `browser` sees it now, with `fields` (`f.` keys).
async fn act_from_page(browser: &mut Browser<'_>, id: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let page = browser.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains(&format!("id=\"action-{action}\"")), "no form for {action}: {}", page.body);
    let (csrf, version) = (page.input("csrf_token"), page.input("version"));
    let mut all = vec![("csrf_token", csrf.as_str()), ("version", version.as_str()), ("action", action)];
    all.extend_from_slice(fields);
    browser.post(&format!("/cases/{id}/act"), &all).await
}

async fn a_session_that_ends_keeps_an_action_forms_input(app: TestApp) {
    app.seed_city();
    let (login, handler_id) = user(&app, Role::Handler, "PJ", "王承办");
    let case: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    let id = case["id"].as_str().unwrap().to_owned();
    app.act_ok(&app.admin, &id, json!({"action": {"type": "assign", "handler_id": handler_id}})).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&login).await;
    let page = browser.get(&format!("/cases/{id}")).await;
    let outcome = option_with(&page, "（二）部分公开");
    let (csrf, version) = (page.input("csrf_token"), page.input("version"));
    // The session times out while the handler writes the draft.
    browser.cookie = Some("an-ended-session".into());
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("version", version.as_str()),
        ("action", "draft_reply"),
        ("f.outcome", outcome.as_str()),
        ("reason", "涉及第三方信息，区分处理"),
    ];
    let login_page = browser.post(&format!("/cases/{id}/act"), &fields).await;
    assert_eq!(login_page.status, 401, "{}", login_page.body);
    assert!(login_page.body.contains("登录已过期"));
    assert_eq!(login_page.input("next"), format!("/cases/{id}"));
    let draft = login_page.input("draft");
    assert!(!draft.contains("csrf_token"));
    let case = app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await;
    assert!(case["draft_outcome"].is_null(), "nothing was done without a session");

    let next = format!("/cases/{id}");
    let refilled =
        browser.post("/login", &[("name", &login), ("password", PASSWORD), ("next", &next), ("draft", &draft)]).await;
    assert_eq!(refilled.status, 200, "{}", refilled.body);
    assert!(refilled.body.contains("已恢复您在登录过期前填写的内容"));
    assert!(refilled.body.contains("id=\"action-draft_reply\" open"), "the form is open");
    assert!(refilled.body.contains("涉及第三方信息，区分处理</textarea>"));
    let selected = &refilled.body[..refilled.body.find(" selected>（二）部分公开").expect("the outcome chosen again")];
    assert!(selected.ends_with(&format!("value=\"{}\"", html_escape_quotes(&outcome))), "{selected}");
    assert_eq!(refilled.input("version"), version);
    // Confirmed with the new session's token, the draft is made.
    let confirmed = [
        ("csrf_token", refilled.input("csrf_token")),
        ("version", version.clone()),
        ("action", "draft_reply".into()),
        ("f.outcome", outcome.clone()),
        ("reason", "涉及第三方信息，区分处理".into()),
    ];
    let done = browser
        .post(&format!("/cases/{id}/act"), &confirmed.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let case = app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["draft_outcome"]["kind"], "partly_disclosed");
}

/// An option's value as the page writes it (askama escapes quotes).
fn html_escape_quotes(text: &str) -> String {
    text.replace('"', "&#34;")
}

async fn fees_amendments_repeat_requests_and_new_replies_have_their_forms(app: TestApp) {
    app.seed_city();
    let (handler_login, handler_id) = user(&app, Role::Handler, "PJ", "王承办");
    let (approver_login, _) = user(&app, Role::Approver, "PJ", "赵负责");
    let case: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    let id = case["id"].as_str().unwrap().to_owned();
    app.act_ok(&app.admin, &id, json!({"action": {"type": "assign", "handler_id": handler_id}})).await;
    let mut handler = Browser::new(&app);
    handler.sign_in(&handler_login).await;

    // A 2008 cost fee: the fields of the other bases are not sent, whatever they hold.
    let page = handler.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("name=\"f.basis.method\"") && page.body.contains("成本费用"), "{}", page.body);
    let fee = act_from_page(
        &mut handler,
        &id,
        "assess_fee",
        &[
            ("f.basis.method", "cost"),
            ("f.basis.search_items", "2"),
            ("f.basis.pages", "10"),
            ("f.basis.postage_fen", "800"),
        ],
    )
    .await;
    assert_eq!(fee.status, 303, "{}", fee.body);
    let case = app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await;
    assert!(case["fee"]["charged_fen"].as_i64().unwrap() > 0, "{}", case["fee"]);
    let page = handler.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("核定信息处理费</td>"), "the timeline names the assessment");

    // An amendment: the phone corrected, the rest of the applicant as it was, nothing else sent.
    assert!(page.body.contains("name=\"o.applicant.phone\" value=\"15704271234\""));
    assert!(!page.body.contains("name=\"f.received_on\""), "the receipt date is the office head's");
    let amended = act_from_page(
        &mut handler,
        &id,
        "amend_registration",
        &[
            ("o.applicant.kind", "natural_person"),
            ("f.applicant.kind", "natural_person"),
            ("o.applicant.name", "张三"),
            ("f.applicant.name", "张三"),
            ("o.applicant.phone", "15704271234"),
            ("f.applicant.phone", "13904270000"),
            ("o.description", "x"),
            ("f.description", "x"),
            ("reason", "申请人来电更正联系电话"),
        ],
    )
    .await;
    assert_eq!(amended.status, 303, "{}", amended.body);
    let case = app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["applicant"]["phone"], "13904270000");
    assert_eq!(case["applicant"]["name"], "张三");
    assert_eq!(case["description"], "2014年城区道路改造工程的招标文件", "an unchanged field is not sent");

    // A repeat request: the office head names the earlier request; an unknown number is refused
    // beside the form.
    let second: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    let second = second["id"].as_str().unwrap().to_owned();
    let mut approver = Browser::new(&app);
    approver.sign_in(&approver_login).await;
    let unknown = act_from_page(
        &mut approver,
        &second,
        "not_process",
        &[
            ("f.on", "2015-03-05"),
            ("f.ground", "repeat_request"),
            ("f.repeat_of", "PJ-2015-99999"),
            ("reason", "重复申请"),
        ],
    )
    .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert!(unknown.body.contains("PJ-2015-99999"), "{}", unknown.body);
    let repeat = act_from_page(
        &mut approver,
        &second,
        "not_process",
        &[
            ("f.on", "2015-03-05"),
            ("f.ground", "repeat_request"),
            ("f.repeat_of_earlier.reference", "盘政信复〔2014〕12号"),
            ("f.repeat_of_earlier.answered_on", "2014-11-20"),
            ("reason", "重复申请"),
        ],
    )
    .await;
    assert_eq!(repeat.status, 303, "{}", repeat.body);
    let case = app.get_json(&app.admin, &format!("/api/v1/cases/{second}")).await;
    assert_eq!(case["state"], "not_processed", "{case}");
    assert_eq!(case["outcome"]["repeat_of_earlier"]["reference"], "盘政信复〔2014〕12号");

    // A new reply ordered on a corrected reconsideration (not on a corrected complaint).
    let third: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    let third = third["id"].as_str().unwrap().to_owned();
    app.reply(&third, "PJ", "2015-03-20", json!({"kind": "withheld", "reason": "process_information"})).await;
    let head = &app.token(Role::Approver, "PJ");
    app.act_ok(head, &third, json!({"action": {"type": "file_appeal", "kind": "complaint", "filed_on": "2015-04-01"}}))
        .await;
    app.act_ok(
        head,
        &third,
        json!({"action": {"type": "file_appeal", "kind": "reconsideration", "filed_on": "2015-04-02"}}),
    )
    .await;
    for number in [1, 2] {
        let decided = json!({"action": {"type": "decide_appeal", "number": number, "outcome": "corrected", "decided_on": "2015-05-04"}});
        app.act_ok(head, &third, decided).await;
    }
    let page = approver.get(&format!("/cases/{third}")).await;
    let form = &page.body[page.body.find("id=\"action-reopen_for_new_reply\"").expect("the form")..];
    let choices = &form[..form.find("</select>").unwrap()];
    assert!(choices.contains("<option value=\"2\">") && !choices.contains("<option value=\"1\">"), "{choices}");
    let reopened = act_from_page(
        &mut approver,
        &third,
        "reopen_for_new_reply",
        &[
            ("f.appeal_number", "2"),
            ("f.on", "2015-05-05"),
            ("f.period.kind", "working_days"),
            ("f.period.from", "2015-05-05"),
            ("f.period.days", "15"),
            ("f.period.due_on", "2015-12-31"),
            ("reason", "复议决定责令重新答复"),
        ],
    )
    .await;
    assert_eq!(reopened.status, 303, "{}", reopened.body);
    let case = app.get_json(&app.admin, &format!("/api/v1/cases/{third}")).await;
    assert_eq!(case["state"], "under_review", "{case}");
    assert_eq!(case["re_replies"][0]["appeal_number"], 2);
}

async fn a_statistician_locks_an_ended_year_from_the_statistics_page(app: TestApp) {
    app.seed_city();
    let (login, _) = user(&app, Role::Statistician, "PJ", "钱统计");
    let (clerk_login, _) = user(&app, Role::Clerk, "PJ", "李登记");
    app.post_case(&app.admin, &intake("PJ")).await;
    let mut statistician = Browser::new(&app);
    statistician.sign_in(&login).await;
    let path = "/statistics?agency=PJ&year=2021&format=y2021&subtree=1";
    let page = statistician.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // The 2021 form's two-level header: 法人或其他组织 over its five kinds.
    assert!(page.body.contains("colspan=\"5\">法人或其他组织</th>"), "{}", page.body);
    assert!(page.body.contains("id=\"lock-year\""));
    let this_year = &today()[..4];
    let current = statistician.get(&format!("/statistics?agency=PJ&year={this_year}&format=y2021")).await;
    assert!(!current.body.contains("id=\"lock-year\""), "a year still running cannot be locked");

    let csrf = page.input("csrf_token");
    let form =
        [("csrf_token", csrf.as_str()), ("agency", "PJ"), ("year", "2021"), ("format", "y2021"), ("subtree", "1")];
    let mut clerk = Browser::new(&app);
    clerk.sign_in(&clerk_login).await;
    let clerk_csrf = clerk.get("/").await.input("csrf_token");
    let refused = clerk
        .post(
            "/statistics/lock",
            &[("csrf_token", clerk_csrf.as_str()), ("agency", "PJ"), ("year", "2021"), ("subtree", "1")],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let locked = statistician.post("/statistics/lock", &form).await;
    assert_eq!(locked.status, 303, "{}", locked.body);
    let back = locked.location.unwrap();
    assert!(back.contains("locked=1"), "{back}");
    let page = statistician.get(&back).await;
    assert!(page.body.contains("已锁定该年度报告") && page.body.contains("id=\"lock-info\""), "{}", page.body);
    assert!(page.body.contains("钱统计"), "the lock names who locked it");
    assert!(!page.body.contains("id=\"lock-year\""));
    let again = statistician.post("/statistics/lock", &form).await;
    assert_eq!(again.status, 409, "{}", again.body);
    let locks = app.get_json(&app.admin, "/api/v1/reports/y2021/2021?agency=PJ&subtree=true").await;
    assert!(locks["lock"]["published_numbers"].as_bool().unwrap(), "{locks}");
}

impl Browser<'_> {
    /// A multipart form post, its parts in the order given (`file` parts carry a file name).
    async fn upload(&mut self, path: &str, parts: &[(&str, &str)], file: Option<(&str, Vec<u8>)>) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in parts {
            form = form.text(name.to_string(), value.to_string());
        }
        if let Some((name, bytes)) = file {
            form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
        }
        let request = self.client.post(self.app.url(path)).multipart(form);
        self.send(request).await
    }
}

async fn letters_and_papers_are_generated_attached_and_printed_from_the_case_page(app: TestApp) {
    app.seed_city();
    let (login, _) = user(&app, Role::Clerk, "PJ", "李登记");
    let case: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    let id = case["id"].as_str().unwrap().to_owned();
    let mut browser = Browser::new(&app);
    browser.sign_in(&login).await;
    let page = browser.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("文书与附件") && page.body.contains("尚未生成文书。"), "{}", page.body);
    let csrf = page.input("csrf_token");

    // 登记回执 from the form.
    let done = browser
        .post(
            &format!("/cases/{id}/documents"),
            &[("csrf_token", &csrf), ("kind", "receipt"), ("issued_on", "2015-03-02")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = browser.get(done.location.as_deref().unwrap()).await;
    assert!(
        page.body.contains("盘锦市人民政府登记〔2015〕1号") && page.body.contains("政府信息公开申请登记回执"),
        "{}",
        page.body
    );
    assert!(page.body.contains("生成文书") && page.body.contains("第1版"), "the timeline names it: {}", page.body);
    let print =
        page.body.split("href=\"").find(|h| h.contains("/print")).unwrap().split('"').next().unwrap().to_owned();
    let printed = browser.get(&print).await;
    assert_eq!(printed.status, 200);
    assert!(
        printed.body.contains("class=\"letter-title\">政府信息公开申请登记回执") && printed.body.contains("张三："),
        "{}",
        printed.body
    );
    assert!(printed.body.contains("盘锦市人民政府登记〔2015〕1号"));
    // A missing fact is shown beside the form, naming it.
    let refused =
        browser.post(&format!("/cases/{id}/documents"), &[("csrf_token", &csrf), ("kind", "consultation")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("particulars.third_party"), "{}", refused.body);
    // Without the form's token nothing happens.
    let forged = browser.post(&format!("/cases/{id}/documents"), &[("kind", "receipt")]).await;
    assert_eq!(forged.status, 403);

    // An envelope scan as the receipt-date evidence.
    let envelope = b"%PDF-1.4\n%envelope scan".to_vec();
    let done = browser
        .upload(
            &format!("/cases/{id}/attachments"),
            &[("csrf_token", &csrf), ("kind", "envelope"), ("evidence_for", "receipt"), ("note", "挂号信")],
            Some(("信封.pdf", envelope.clone())),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = browser.get(&format!("/cases/{id}")).await;
    assert!(
        page.body.contains("信封.pdf") && page.body.contains("收到申请日期的凭证") && page.body.contains("挂号信"),
        "{}",
        page.body
    );
    // The token must come first; a disguised file is refused beside the form.
    let forged = browser
        .upload(
            &format!("/cases/{id}/attachments"),
            &[("kind", "envelope"), ("csrf_token", &csrf)],
            Some(("a.pdf", envelope.clone())),
        )
        .await;
    assert_eq!(forged.status, 403);
    let refused = browser
        .upload(
            &format!("/cases/{id}/attachments"),
            &[("csrf_token", &csrf), ("kind", "envelope")],
            Some(("a.pdf", b"\x7fELF\x02".to_vec())),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let case = app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["attachments"].as_array().unwrap().len(), 1);

    // The statistician sees the lists without the forms or the personal downloads.
    let (statistician, _) = user(&app, Role::Statistician, "PJ", "赵统计");
    let mut browser = Browser::new(&app);
    browser.sign_in(&statistician).await;
    let page = browser.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("盘锦市人民政府登记〔2015〕1号") && page.body.contains("信封.pdf"), "{}", page.body);
    assert!(!page.body.contains("id=\"generate-document\"") && !page.body.contains("id=\"upload-attachment\""));
    assert!(!page.body.contains("/print") && !page.body.contains("/api/v1/cases/"), "{}", page.body);
    let printed = browser.get(&print).await;
    assert_eq!(printed.status, 403);
}
