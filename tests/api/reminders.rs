//! Deadline reminder e-mails against a real SMTP server on loopback: thresholds, digests per recipient,
//! exactly once across runs and concurrent runs, SMTP down then up, a new reminder after an extension.

use diesel::prelude::*;
use foi_tracker::domain::role::Role;
use foi_tracker::service::directory::add_user;
use foi_tracker::service::Caller;
use serde_json::{json, Value};

use crate::helpers::{intake, TestApp};
use crate::smtp::{free_port, SmtpSink};

crate::on_both_backends!(
    digests_go_to_handlers_offices_and_office_heads_once_and_follow_an_extension,
    two_runs_at_once_send_every_reminder_once,
    a_failed_delivery_is_retried_and_delivered_once,
    a_run_that_died_after_claiming_is_taken_over_once,
    a_correction_period_about_to_end_is_reminded,
    a_digest_sent_again_keeps_the_message_id_of_its_first_attempt,
    the_running_scheduler_retries_when_the_mail_server_returns_and_stops_gracefully,
    a_run_over_many_seeded_cases_records_each_candidate_once_page_by_page,
);

/// `foi-tracker remind --once --now NOW` against the test database and `smtp_url`.
fn remind(app: &TestApp, smtp_url: &str, now: &str) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .args(["remind", "--once", "--now", now])
        .env("FOI__DATABASE__URL", &app.database_url)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .env("FOI__MAIL__ENABLED", "true")
        .env("FOI__MAIL__SMTP_URL", smtp_url)
        .env("FOI__MAIL__TIMEOUT_SECONDS", "3")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn remind_ok(app: &TestApp, smtp_url: &str, now: &str) -> String {
    let out = remind(app, smtp_url, now).wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A user with an e-mail address; their token and id.
async fn staff(app: &TestApp, name: &str, role: Role, email: &str) -> (String, String) {
    let (user, token) = {
        let mut conn = app.db.conn().unwrap();
        add_user(&mut conn, Caller::Operator, name, role, Some("PJ"), Some(email), None).unwrap()
    };
    (token, user.id)
}

async fn case_on(app: &TestApp, date: &str, name: &str) -> Value {
    let mut body = intake("PJ");
    body["arrived_at"] = json!(format!("{date}T10:00:00+08:00"));
    body["applicant"]["name"] = json!(name);
    let res = app.post_case(&app.admin, &body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// 09:00 China time on `date`.
fn morning(date: &str) -> String {
    format!("{date}T09:00:00+08:00")
}

/// The reminder outbox as the API shows it.
async fn outbox(app: &TestApp) -> Vec<Value> {
    app.get_json(&app.admin, "/api/v1/reminders?limit=200").await["items"].as_array().unwrap().clone()
}

async fn digests_go_to_handlers_offices_and_office_heads_once_and_follow_an_extension(app: TestApp) {
    app.seed_city();
    let sink = SmtpSink::start().await;
    let (handler, handler_id) = staff(&app, "李科员", Role::Handler, "li@panjin.gov.cn").await;
    let (head, _) = staff(&app, "王科长", Role::Approver, "wang@panjin.gov.cn").await;
    let a = case_on(&app, "2024-03-01", "张三").await;
    let b = case_on(&app, "2024-03-01", "赵六").await;
    let unassigned = case_on(&app, "2024-03-01", "孙七").await;
    let overdue = case_on(&app, "2024-01-02", "周八").await;
    for case in [&a, &b] {
        let id = case["id"].as_str().unwrap();
        app.act_ok(&handler, id, json!({"action": {"type": "assign", "handler_id": handler_id}})).await;
    }
    let due = a["deadline"]["final_due_on"].as_str().unwrap().to_owned();
    assert_eq!(due, "2024-03-29");

    // Six working days before: nothing yet (thresholds 5, 2, 0), except the overdue case.
    remind_ok(&app, &sink.url(), &morning("2024-03-21"));
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, ["wang@panjin.gov.cn"]);
    // Five working days before: the handler's digest lists both cases, the office mailbox the unassigned one.
    let printed = remind_ok(&app, &sink.url(), &morning("2024-03-22"));
    assert!(printed.contains("digests_sent: 3"), "{printed}");
    let mails = sink.mails();
    let to_handler: Vec<_> = mails.iter().filter(|m| m.to == ["li@panjin.gov.cn"]).collect();
    assert_eq!(to_handler.len(), 1);
    let body = to_handler[0].body();
    for case in [&a, &b] {
        assert!(body.contains(case["tracking_number"].as_str().unwrap()), "{body}");
    }
    assert!(body.contains("审核中｜答复期限 2024-03-29｜剩余 5 个工作日｜申请人：张*"), "{body}");
    assert!(!body.contains("张三") && !body.contains("15704271234"), "personal data is masked: {body}");
    let to_office: Vec<_> = mails.iter().filter(|m| m.to == ["gk@panjin.gov.cn"]).collect();
    assert_eq!(to_office.len(), 1);
    assert!(to_office[0].body().contains(unassigned["tracking_number"].as_str().unwrap()));
    // The overdue case goes to the office head again: daily.
    let to_head: Vec<_> = mails.iter().filter(|m| m.to == ["wang@panjin.gov.cn"]).collect();
    assert_eq!(to_head.len(), 2);
    assert!(to_head[1].body().contains(overdue["tracking_number"].as_str().unwrap()));
    assert!(to_head[1].body().contains("已超期"));

    // The same run again sends nothing new.
    remind_ok(&app, &sink.url(), &morning("2024-03-22"));
    assert_eq!(sink.mails().len(), 4);
    assert!(outbox(&app).await.iter().all(|r| r["state"] == "sent"));

    // An extension moves A's deadline: a reminder of the new deadline comes when it is near.
    let a_id = a["id"].as_str().unwrap();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/cases/{a_id}/clock-events")))
        .bearer_auth(&head)
        .header("If-Match", app.etag(a_id).await)
        .json(&json!({"event": {"type": "extension_approved", "on": "2024-03-25", "days": 10, "reason": "需调取档案", "applicant_notified_on": "2024-03-25"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let new_due = app.get_json(&app.admin, &format!("/api/v1/cases/{a_id}")).await["deadline"]["final_due_on"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(new_due, "2024-04-15");
    let before = sink.mails().len();
    remind_ok(&app, &sink.url(), &morning(&new_due));
    let mails = sink.mails()[before..].to_vec();
    let to_handler: Vec<_> = mails.iter().filter(|m| m.to == ["li@panjin.gov.cn"]).collect();
    assert_eq!(to_handler.len(), 1, "{mails:?}");
    let body = to_handler[0].body();
    assert!(body.contains(&format!("答复期限 {new_due}｜今日到期")), "{body}");
    assert!(!body.contains(b["tracking_number"].as_str().unwrap()), "B is overdue now: the office head's");
    let to_head: Vec<_> = mails.iter().filter(|m| m.to == ["wang@panjin.gov.cn"]).collect();
    assert_eq!(to_head.len(), 1);
    assert!(to_head[0].body().contains(b["tracking_number"].as_str().unwrap()));
    let rows = outbox(&app).await;
    assert!(rows
        .iter()
        .any(|r| r["case_id"] == a["id"] && r["due_on"] == json!(new_due) && r["recipient_role"] == "handler"));
}

async fn two_runs_at_once_send_every_reminder_once(app: TestApp) {
    app.seed_city();
    let sink = SmtpSink::start().await;
    staff(&app, "王科长", Role::Approver, "wang@panjin.gov.cn").await;
    for i in 0..6 {
        case_on(&app, "2024-01-02", &format!("申请人{i}")).await;
    }
    case_on(&app, "2024-03-01", "张三").await;
    let now = morning("2024-03-29");
    let first = remind(&app, &sink.url(), &now);
    let second = remind(&app, &sink.url(), &now);
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // Six overdue cases to the office head, one due today to the office mailbox: each once.
    let mails = sink.mails();
    let mut listed = Vec::new();
    for mail in &mails {
        let body = mail.body();
        listed.extend(body.lines().filter(|l| l.starts_with('·')).map(|l| (mail.to.clone(), l.to_owned())));
    }
    assert_eq!(listed.len(), 7, "{listed:#?}");
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7, "no reminder twice");
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 7);
    assert!(rows.iter().all(|r| r["state"] == "sent" && r["attempts"] == 1));
    let count = {
        use foi_tracker::db::schema::reminder_outbox;
        let mut conn = app.db.conn().unwrap();
        reminder_outbox::table.count().get_result::<i64>(&mut *conn).unwrap()
    };
    assert_eq!(count, 7);
}

async fn a_failed_delivery_is_retried_and_delivered_once(app: TestApp) {
    app.seed_city();
    staff(&app, "王科长", Role::Approver, "wang@panjin.gov.cn").await;
    let overdue = case_on(&app, "2024-01-02", "周八").await;
    let port = free_port();
    let down = format!("smtp://127.0.0.1:{port}");
    let printed = remind_ok(&app, &down, "2024-03-22T09:00:00+08:00");
    assert!(printed.contains("reminders_failed: 1"), "{printed}");
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["state"], "failed");
    assert_eq!(rows[0]["attempts"], 1);
    assert_eq!(rows[0]["next_attempt_at"], "2024-03-22T01:01:00Z");
    assert!(rows[0]["last_error"].as_str().is_some_and(|e| !e.is_empty()));
    // The server comes back; before the retry time nothing is tried, after it the reminder goes once.
    let sink = SmtpSink::start_on(port).await;
    remind_ok(&app, &sink.url(), "2024-03-22T09:00:30+08:00");
    assert!(sink.mails().is_empty());
    remind_ok(&app, &sink.url(), "2024-03-22T09:02:00+08:00");
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].body().contains(overdue["tracking_number"].as_str().unwrap()));
    let rows = outbox(&app).await;
    assert_eq!((rows[0]["state"].as_str(), rows[0]["attempts"].as_i64()), (Some("sent"), Some(2)));
    remind_ok(&app, &sink.url(), "2024-03-22T10:00:00+08:00");
    assert_eq!(sink.mails().len(), 1, "delivered exactly once");
    // Only administrators see the outbox.
    assert_eq!(app.get(&app.token(Role::Approver, "PJ"), "/api/v1/reminders").await.status(), 403);
}

async fn a_run_that_died_after_claiming_is_taken_over_once(app: TestApp) {
    use foi_tracker::db::schema::reminder_outbox;
    app.seed_city();
    staff(&app, "王科长", Role::Approver, "wang@panjin.gov.cn").await;
    case_on(&app, "2024-01-02", "周八").await;
    // A run records the reminder but mail is down; then a run "dies" holding its claim.
    let down = format!("smtp://127.0.0.1:{}", free_port());
    remind_ok(&app, &down, "2024-03-22T09:00:00+08:00");
    {
        let mut conn = app.db.conn().unwrap();
        let claimed_until = chrono::NaiveDate::from_ymd_opt(2024, 3, 22).unwrap().and_hms_opt(1, 15, 0).unwrap();
        diesel::update(reminder_outbox::table)
            .set((
                reminder_outbox::state.eq("sending"),
                reminder_outbox::claimed_by.eq("a-run-that-died"),
                reminder_outbox::claimed_until.eq(claimed_until),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    let sink = SmtpSink::start().await;
    // While its lease holds, nobody else sends it; after it, the next run takes it over, once.
    remind_ok(&app, &sink.url(), "2024-03-22T09:10:00+08:00");
    assert!(sink.mails().is_empty());
    remind_ok(&app, &sink.url(), "2024-03-22T09:20:00+08:00");
    remind_ok(&app, &sink.url(), "2024-03-22T09:30:00+08:00");
    assert_eq!(sink.mails().len(), 1);
    assert_eq!(outbox(&app).await[0]["state"], "sent");
}

async fn a_correction_period_about_to_end_is_reminded(app: TestApp) {
    app.seed_city();
    let sink = SmtpSink::start().await;
    let (handler, handler_id) = staff(&app, "李科员", Role::Handler, "li@panjin.gov.cn").await;
    let case = case_on(&app, "2024-03-01", "张三").await;
    let id = case["id"].as_str().unwrap();
    app.act_ok(&handler, id, json!({"action": {"type": "assign", "handler_id": handler_id}})).await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/cases/{id}/clock-events")))
        .bearer_auth(&handler)
        .header("If-Match", app.etag(id).await)
        .json(&json!({"event": {"type": "correction_notice_sent", "on": "2024-03-04", "respond_by": "2024-03-18"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    remind_ok(&app, &sink.url(), "2024-03-14T09:00:00+08:00");
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["li@panjin.gov.cn"]);
    let body = mails[0].body();
    assert!(body.contains("待补正｜补正/征求意见期限 2024-03-18｜剩余 2 个工作日"), "{body}");
}

async fn a_digest_sent_again_keeps_the_message_id_of_its_first_attempt(app: TestApp) {
    app.seed_city();
    staff(&app, "王科长", Role::Approver, "wang@panjin.gov.cn").await;
    case_on(&app, "2024-01-02", "周八").await;
    // The server takes the message and then fails (451): the service must send it again, as the
    // same message.
    let sink = SmtpSink::start_refusing(0, 1).await;
    assert!(remind_ok(&app, &sink.url(), "2024-03-22T09:00:00+08:00").contains("reminders_failed: 1"));
    remind_ok(&app, &sink.url(), "2024-03-22T09:02:00+08:00");
    let received = sink.received();
    assert_eq!(received.len(), 2);
    assert_eq!((received[0].accepted, received[1].accepted), (false, true));
    let first = received[0].header("Message-ID").expect("a Message-ID");
    assert_eq!(received[1].header("Message-ID").as_ref(), Some(&first), "the same Message-ID");
    assert_eq!(sink.mails().len(), 1);
}

/// The mail server is down when the job runs; it is back before the retry time. The scheduler of a
/// running `serve` sends the digest at the retry time (not at the next day's run); on SIGTERM the
/// service stops cleanly.
async fn the_running_scheduler_retries_when_the_mail_server_returns_and_stops_gracefully(app: TestApp) {
    use foi_tracker::db::schema::reminder_outbox;
    app.seed_city();
    staff(&app, "王科长", Role::Approver, "wang@panjin.gov.cn").await;
    case_on(&app, "2024-01-02", "周八").await;
    let port = free_port();
    let now = chrono::Utc::now().to_rfc3339();
    assert!(remind_ok(&app, &format!("smtp://127.0.0.1:{port}"), &now).contains("reminders_failed: 1"));
    // The backoff's first minute, shortened to two seconds.
    {
        let mut conn = app.db.conn().unwrap();
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).naive_utc();
        diesel::update(reminder_outbox::table)
            .set(reminder_outbox::next_attempt_at.eq(soon))
            .execute(&mut *conn)
            .unwrap();
    }
    let sink = SmtpSink::start_on(port).await;
    // The daily run is twelve hours away.
    let at = (chrono::Utc::now() + chrono::Duration::hours(12)).with_timezone(&foi_tracker::domain::china_offset());
    let serve = std::process::Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .arg("serve")
        .env("FOI__DATABASE__URL", &app.database_url)
        .env("FOI__SERVER__BIND", format!("127.0.0.1:{}", free_port()))
        .env("FOI__SERVER__WORKERS", "1")
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .env("FOI__MAIL__ENABLED", "true")
        .env("FOI__MAIL__SMTP_URL", sink.url())
        .env("FOI__REMINDERS__AT", at.format("%H:%M").to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while sink.mails().is_empty() && started.elapsed() < std::time::Duration::from_secs(20) {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let waited = started.elapsed().as_secs_f64();
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(serve.id() as i32, libc::SIGTERM) };
    let stopped = std::time::Instant::now();
    let output = serve.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    println!(
        "retried digest delivered {waited:.1} s after serve started ({} mail(s) for 1 reminder: lost {}, doubled {}); \
         stopped {:.2} s after SIGTERM",
        sink.mails().len(),
        usize::from(sink.mails().is_empty()),
        sink.mails().len().saturating_sub(1),
        stopped.elapsed().as_secs_f64()
    );
    assert_eq!(sink.mails().len(), 1, "delivered at the retry time: {log}");
    assert_eq!(outbox(&app).await[0]["state"], "sent");
    assert!(output.status.success(), "a clean exit on SIGTERM: {:?} {log}", output.status);
    assert!(log.contains("foi-tracker stopped"), "{log}");
    assert!(!log.contains('\u{1b}'), "no colour codes in a log that is not a terminal");
}

/// `foi-tracker ARGS` against the test database, mail off; its standard output.
fn cli(app: &TestApp, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .args(args)
        .env("FOI__DATABASE__URL", &app.database_url)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .env("FOI__MAIL__ENABLED", "false")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The figure `name: N` of a `remind --once` summary.
fn figure(summary: &str, name: &str) -> i64 {
    summary
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {summary}"))
        .parse()
        .unwrap()
}

/// More open cases than one page of candidates (seeded with `dev seed`, which works on both
/// backends): every overdue one gets exactly one reminder, over several pages, and a rerun the same
/// day records nothing. The seeded data also answers searches and a whole-city report.
async fn a_run_over_many_seeded_cases_records_each_candidate_once_page_by_page(app: TestApp) {
    let seeded = cli(&app, &["dev", "seed", "--cases", "12000", "--open-percent", "60", "--until", "2026-11-30"]);
    assert_eq!(seeded.trim(), "12000 synthetic case(s) under agency BENCH");
    // Refused a second time: the distributions are those of one history.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_foi-tracker"))
        .args(["dev", "seed", "--cases", "10"])
        .env("FOI__DATABASE__URL", &app.database_url)
        .env("FOI_CONFIG_DIR", "/nonexistent")
        .output()
        .unwrap();
    assert!(!again.status.success());

    let (open, overdue): (i64, i64) = {
        use foi_tracker::db::schema::cases;
        let mut conn = app.db.conn().unwrap();
        let open = cases::table.filter(cases::closed_on.is_null());
        let cutoff = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        (
            open.count().get_result(&mut *conn).unwrap(),
            open.filter(cases::final_due_on.lt(cutoff)).count().get_result(&mut *conn).unwrap(),
        )
    };
    let first = cli(&app, &["remind", "--once", "--now", "2026-11-30T01:00:00Z"]);
    let (selected, recorded) = (figure(&first, "selected"), figure(&first, "recorded"));
    // More candidates than one page of 5,000; every overdue case among them, and the cases not yet
    // overdue are those due within the horizon. Each overdue case gets its one daily reminder (to the
    // office mailbox: the seed's agencies have no office heads).
    assert!(selected > 5_000 && selected <= open && selected >= overdue, "{first} ({open} open, {overdue} overdue)");
    assert!(recorded >= overdue && recorded <= selected, "{first} ({overdue} overdue)");
    let rerun = cli(&app, &["remind", "--once", "--now", "2026-11-30T03:00:00Z"]);
    assert_eq!(figure(&rerun, "selected"), selected);
    assert_eq!(figure(&rerun, "recorded"), 0, "{rerun}");
    let outbox: i64 = {
        use foi_tracker::db::schema::reminder_outbox;
        let mut conn = app.db.conn().unwrap();
        reminder_outbox::table.count().get_result(&mut *conn).unwrap()
    };
    assert_eq!(outbox, recorded, "each reminder recorded once");

    // A request registered now in a seeded agency takes the next number after the seeded ones.
    let mut body = intake("BENCH-01");
    body["arrived_at"] = json!("2026-11-30T09:00:00+08:00");
    let res = app.post_case(&app.admin, &body).await;
    let status = res.status();
    let case: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{case}");
    let seq: i32 = case["tracking_number"].as_str().unwrap().rsplit('-').next().unwrap().parse().unwrap();
    assert!(seq > 1, "{case}");

    let found = app.get_json(&app.admin, "/api/v1/cases?q=%E9%81%93%E8%B7%AF&limit=20").await; // 道路
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert!(items.iter().all(|c| c["description"].as_str().unwrap().contains("道路")));
    let report = app.get_json(&app.admin, "/api/v1/reports/y2021/2025?agency=BENCH&subtree=true").await;
    assert!(report["checks"].as_array().unwrap().iter().all(|c| c["holds"] == true), "{}", report["checks"]);
}
