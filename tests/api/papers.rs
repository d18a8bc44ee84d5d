//! Attachments: a paper uploaded to a case round-trips byte for byte (over HTTP and the CLI), joins
//! the event chain so the audit catches a changed or missing file, is refused when too large or
//! disguised (nothing stored), and is read only by roles that see personal data.

use diesel::prelude::*;
use foi_tracker::db::schema::{case_events, stored_file_chunks, stored_files};
use foi_tracker::domain::role::Role;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, spawn_app_with, Backend, TestApp};

crate::on_both_backends!(
    an_attachment_round_trips_byte_for_byte_and_links_the_receipt_evidence,
    the_audit_reports_a_changed_or_missing_file,
    wrong_papers_are_refused_with_a_problem_and_nothing_is_stored,
    statisticians_see_the_list_masked_and_cannot_read_or_attach,
    the_cli_adds_lists_and_gets_attachments,
);

/// A PDF of `len` bytes (a real header, then bytes that cover every value), spanning chunks.
fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut x: u32 = 12345;
    while bytes.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        bytes.push((x >> 16) as u8);
    }
    bytes
}

async fn new_case(app: &TestApp) -> String {
    let case: Value = app.post_case(&app.admin, &intake("PJ")).await.json().await.unwrap();
    case["id"].as_str().unwrap().to_owned()
}

fn form(bytes: Vec<u8>, filename: &str, fields: &[(&str, &str)]) -> Form {
    let mut form = Form::new().part("file", Part::bytes(bytes).file_name(filename.to_owned()));
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    form
}

async fn upload(app: &TestApp, who: &str, case_id: &str, form: Form) -> reqwest::Response {
    app.request_as(reqwest::Method::POST, &format!("/api/v1/cases/{case_id}/attachments"), who)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn stored_file_count(app: &TestApp) -> i64 {
    let mut conn = app.db.conn().unwrap();
    stored_files::table.count().get_result(&mut *conn).unwrap()
}

fn event_count(app: &TestApp, case_id: &str) -> i64 {
    let mut conn = app.db.conn().unwrap();
    case_events::table.filter(case_events::case_id.eq(case_id)).count().get_result(&mut *conn).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn an_attachment_round_trips_byte_for_byte_and_links_the_receipt_evidence(app: TestApp) {
    app.seed_city();
    let clerk = app.token(Role::Clerk, "PJ");
    let id = new_case(&app).await;
    let before = app.etag(&id).await;
    let content = pdf(2_500_000);
    let res = upload(
        &app,
        &clerk,
        &id,
        form(
            content.clone(),
            "信封扫描件.pdf",
            &[("kind", "envelope"), ("note", "挂号信，邮戳3月2日"), ("evidence_for", "receipt")],
        ),
    )
    .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_ne!(res.headers()["etag"].to_str().unwrap(), before, "the case has a new version");
    let attachment: Value = res.json().await.unwrap();
    assert_eq!(attachment["kind"], "envelope");
    assert_eq!(attachment["filename"], "信封扫描件.pdf");
    assert_eq!(attachment["media_type"], "application/pdf");
    assert_eq!(attachment["size_bytes"], 2_500_000);
    assert_eq!(attachment["sha256"], sha256(&content));
    assert_eq!(attachment["evidence_for"], "receipt");
    let attachment_id = attachment["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/cases/{id}/attachments/{attachment_id}"));

    let res = app.get(&clerk, &location).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["content-length"], "2500000");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["etag"].to_str().unwrap(), format!("\"{}\"", sha256(&content)));
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("filename*=UTF-8''%E4%BF%A1%E5%B0%81"), "{disposition}");
    assert_eq!(res.bytes().await.unwrap().as_ref(), content.as_slice(), "byte for byte");

    let case = app.get_json(&clerk, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(case["attachments"][0]["id"], attachment_id);
    assert_eq!(case["receipt_evidence_attachment_id"], attachment_id);
    assert_eq!(case["service_evidence_attachment_id"], Value::Null);
    let listed = app.get_json(&clerk, &format!("/api/v1/cases/{id}/attachments")).await;
    assert_eq!(listed["items"][0]["note"], "挂号信，邮戳3月2日");

    // The content's hash is in the event chain.
    let events = app.get_json(&clerk, &format!("/api/v1/cases/{id}/events")).await;
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "attached");
    assert_eq!(last["payload"]["sha256"], sha256(&content));
    let report = app.get_json(&app.admin, "/api/v1/audit/verify").await;
    assert_eq!(report["broken"], json!([]));

    // The postal receipt of the service is linked once the reply is served.
    let receipt =
        form(b"%PDF-1.4\nreceipt".to_vec(), "邮寄凭证.pdf", &[("kind", "postal_receipt"), ("evidence_for", "service")]);
    let problem = assert_problem(upload(&app, &clerk, &id, receipt).await, 422, "validation").await;
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("no served reply"), "{problem}");
    app.reply(&id, "PJ", "2015-03-10", json!({"kind": "disclosed"})).await;
    let receipt =
        form(b"%PDF-1.4\nreceipt".to_vec(), "邮寄凭证.pdf", &[("kind", "postal_receipt"), ("evidence_for", "service")]);
    let res = upload(&app, &clerk, &id, receipt).await;
    assert_eq!(res.status(), 201);
    let receipt: Value = res.json().await.unwrap();
    let case = app.get_json(&clerk, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["service_evidence_attachment_id"], receipt["id"]);
    assert_eq!(case["state"], "replied", "an attachment moves nothing");
}

async fn the_audit_reports_a_changed_or_missing_file(app: TestApp) {
    app.seed_city();
    let first = new_case(&app).await;
    let second = new_case(&app).await;
    let mut ids = Vec::new();
    for case_id in [&first, &second] {
        let res =
            upload(&app, &app.admin, case_id, form(pdf(1_200_000), "scan.pdf", &[("kind", "letter_original")])).await;
        assert_eq!(res.status(), 201);
        ids.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    {
        let mut conn = app.db.conn().unwrap();
        // One byte of the first file's second chunk changes.
        let chunk: Vec<u8> =
            stored_file_chunks::table.find((&ids[0], 1)).select(stored_file_chunks::bytes).first(&mut *conn).unwrap();
        let mut changed = chunk.clone();
        changed[10] ^= 0xFF;
        diesel::update(stored_file_chunks::table.find((&ids[0], 1)))
            .set(stored_file_chunks::bytes.eq(changed))
            .execute(&mut *conn)
            .unwrap();
        // The second file disappears.
        diesel::delete(stored_file_chunks::table.filter(stored_file_chunks::file_id.eq(&ids[1])))
            .execute(&mut *conn)
            .unwrap();
        diesel::delete(stored_files::table.find(&ids[1])).execute(&mut *conn).unwrap();
    }
    let report = app.get_json(&app.admin, "/api/v1/audit/verify").await;
    let broken = report["broken"].as_array().unwrap();
    assert_eq!(broken.len(), 2, "{report}");
    let detail =
        |case_id: &str| broken.iter().find(|b| b["case_id"] == case_id).unwrap()["detail"].as_str().unwrap().to_owned();
    assert!(detail(&first).contains("does not match the SHA-256"), "{report}");
    assert!(detail(&second).contains("missing"), "{report}");
    let out = app.cli(&["audit", "verify"]);
    assert!(!out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("scan.pdf") && stdout.contains("2 broken"), "{stdout}");
    // A changed file is not served as if it were the original: the download is cut off.
    let res = app.get(&app.admin, &format!("/api/v1/cases/{first}/attachments/{}", ids[0])).await;
    assert!(res.bytes().await.is_err(), "the body ends in an error, not in the changed bytes");
}

async fn wrong_papers_are_refused_with_a_problem_and_nothing_is_stored(app: TestApp) {
    app.seed_city();
    let id = new_case(&app).await;
    let events = event_count(&app, &id);
    let tag = app.etag(&id).await;
    let admin = app.admin.clone();
    // An executable called scan.pdf, sent as application/pdf, is not a PDF.
    let disguised = Form::new()
        .part(
            "file",
            Part::bytes(b"\x7fELF\x02\x01\x01\0\0\0\0\0".to_vec())
                .file_name("scan.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
        .text("kind", "letter_original");
    let problem = assert_problem(upload(&app, &admin, &id, disguised).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "file");
    for (bytes, name, fields, field) in [
        (pdf(100), "a.pdf", vec![], "kind"),
        (pdf(100), "a.pdf", vec![("kind", "passport")], "kind"),
        (pdf(100), "a.pdf", vec![("kind", "reconsideration_decision"), ("evidence_for", "receipt")], "evidence_for"),
        (pdf(100), "a.pdf", vec![("kind", "envelope"), ("evidence_for", "tomorrow")], "evidence_for"),
        (Vec::new(), "empty.pdf", vec![("kind", "envelope")], "file"),
        (pdf(100), "a.pdf", vec![("kind", "envelope"), ("colour", "red")], "colour"),
    ] {
        let fields: Vec<(&str, &str)> = fields;
        let problem =
            assert_problem(upload(&app, &admin, &id, form(bytes, name, &fields)).await, 422, "validation").await;
        assert_eq!(problem["errors"][0]["path"], field, "{problem}");
    }
    let no_file = Form::new().text("kind", "envelope");
    let problem = assert_problem(upload(&app, &admin, &id, no_file).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "file");
    let res = app
        .request_as(reqwest::Method::POST, &format!("/api/v1/cases/{id}/attachments"), &admin)
        .json(&json!({"kind": "envelope"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported-media-type").await;
    let res =
        upload(&app, &admin, "00000000-0000-7000-8000-000000000000", form(pdf(100), "a.pdf", &[("kind", "envelope")]))
            .await;
    assert_problem(res, 404, "not-found").await;
    assert_eq!(stored_file_count(&app), 0, "nothing stored");
    assert_eq!(event_count(&app, &id), events, "no event");
    assert_eq!(app.etag(&id).await, tag);
}

/// A small limit and one accepted type, set for this test.
mod limits {
    use super::*;

    crate::with_each_backend!(an_oversized_file_is_refused_before_it_is_read_in_full);

    async fn an_oversized_file_is_refused_before_it_is_read_in_full(backend: Backend) {
        let app = spawn_app_with(backend, |s| {
            s.attachments.max_bytes = 100_000;
            s.attachments.allowed_types = vec!["application/pdf".into()];
        })
        .await;
        app.seed_city();
        let id = new_case(&app).await;
        let res = upload(&app, &app.admin, &id, form(pdf(100_001), "big.pdf", &[("kind", "envelope")])).await;
        let problem = assert_problem(res, 413, "payload-too-large").await;
        assert!(problem["detail"].as_str().unwrap().contains("100000 bytes"), "{problem}");
        // A PNG is a picture, but this office accepts only PDF.
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let problem = assert_problem(
            upload(&app, &app.admin, &id, form(png, "a.png", &[("kind", "envelope")])).await,
            422,
            "validation",
        )
        .await;
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("image/png"), "{problem}");
        assert_eq!(stored_file_count(&app), 0);
        let res = upload(&app, &app.admin, &id, form(pdf(100_000), "exact.pdf", &[("kind", "envelope")])).await;
        assert_eq!(res.status(), 201, "the limit itself is allowed");
    }
}

async fn statisticians_see_the_list_masked_and_cannot_read_or_attach(app: TestApp) {
    app.seed_city();
    let id = new_case(&app).await;
    let res = upload(
        &app,
        &app.admin,
        &id,
        form(
            pdf(1000),
            "211102198001011234身份证.pdf",
            &[("kind", "letter_original"), ("note", "来电 15704271234 确认")],
        ),
    )
    .await;
    let attachment: Value = res.json().await.unwrap();
    let path = format!("/api/v1/cases/{id}/attachments/{}", attachment["id"].as_str().unwrap());
    let statistician = app.token(Role::Statistician, "PJ");
    let listed = app.get_json(&statistician, &format!("/api/v1/cases/{id}/attachments")).await;
    assert_eq!(listed["items"][0]["kind"], "letter_original");
    assert_eq!(listed["items"][0]["size_bytes"], 1000);
    // Masked as the case's other free text is: the digits of ID and phone numbers.
    assert_eq!(listed["items"][0]["filename"], "211***************身份证.pdf", "{listed}");
    assert_eq!(listed["items"][0]["note"], "来电 157******** 确认", "{listed}");
    let case = app.get_json(&statistician, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["attachments"][0]["filename"], "211***************身份证.pdf");
    let events = app.get_json(&statistician, &format!("/api/v1/cases/{id}/events")).await;
    assert!(
        !events.to_string().contains("211102198001011234") && !events.to_string().contains("15704271234"),
        "{events}"
    );
    assert_problem(app.get(&statistician, &path).await, 403, "forbidden").await;
    let res = upload(&app, &statistician, &id, form(pdf(1000), "a.pdf", &[("kind", "other")])).await;
    assert_problem(res, 403, "forbidden").await;
    // Another district's clerk does not see the case at all.
    let elsewhere = app.token(Role::Clerk, "PJ-DW");
    assert_problem(app.get(&elsewhere, &path).await, 404, "not-found").await;
    let res = upload(&app, &elsewhere, &id, form(pdf(1000), "a.pdf", &[("kind", "other")])).await;
    assert_problem(res, 404, "not-found").await;
    // A handler of the agency reads it.
    let handler = app.token(Role::Handler, "PJ");
    assert_eq!(app.get(&handler, &path).await.status(), 200);
    // A browser session can attach too (with its CSRF token).
    let session = app.session(Role::Clerk, "PJ").await;
    let res = upload(&app, &session, &id, form(pdf(1000), "b.pdf", &[("kind", "other")])).await;
    assert_eq!(res.status(), 201);
}

async fn the_cli_adds_lists_and_gets_attachments(app: TestApp) {
    app.seed_city();
    let id = new_case(&app).await;
    let number =
        app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await["tracking_number"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("传真件.pdf");
    let content = pdf(1_500_000);
    std::fs::write(&input, &content).unwrap();
    let out = app.cli(&[
        "attachment",
        "add",
        "--case",
        &number,
        "--kind",
        "fax",
        "--evidence-for",
        "receipt",
        input.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(&sha256(&content)), "{stdout}");
    let out = app.cli(&["attachment", "list", "--case", &number]);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(listing.contains("传真件") && listing.contains("1500000"), "{listing}");
    let attachment_id = listing.split('\t').next().unwrap().to_owned();
    let output = dir.path().join("copy.pdf");
    let out = app.cli(&[
        "attachment",
        "get",
        "--case",
        &number,
        "--id",
        &attachment_id,
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&output).unwrap(), content, "byte for byte");
    // The same attachment over HTTP.
    let res = app.get(&app.admin, &format!("/api/v1/cases/{id}/attachments/{attachment_id}")).await;
    assert_eq!(res.bytes().await.unwrap().as_ref(), content.as_slice());
    // Refusals: an existing output, an unknown kind, a disguised file. Nothing is stored by them.
    let out = app.cli(&[
        "attachment",
        "get",
        "--case",
        &number,
        "--id",
        &attachment_id,
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let script = dir.path().join("scan.pdf");
    std::fs::write(&script, b"\x7fELF\x02\x01\x01\0").unwrap();
    let out = app.cli(&["attachment", "add", "--case", &number, "--kind", "fax", script.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("file:"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = app.cli(&["attachment", "add", "--case", &number, "--kind", "passport", input.to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(stored_file_count(&app), 1);
}
