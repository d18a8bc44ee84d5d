//! Letters generated from cases, read back from the DOCX (unzip + XML): every kind, every reply
//! outcome under both regimes with the article it cites and the remedies; refusals that name the
//! missing fact; versions and gap-free numbers (also under concurrency); letterheads and template
//! overrides; the CLI; who may read which letter.

use std::io::Read;

use diesel::prelude::*;
use foi_tracker::db::schema::{stored_file_chunks, stored_files};
use foi_tracker::domain::letters::{legal_basis, DocumentKind};
use foi_tracker::domain::outcome::Outcome;
use foi_tracker::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, intake, TestApp};

crate::on_both_backends!(
    a_reply_for_every_outcome_under_both_regimes_cites_its_article_and_the_remedies,
    the_other_letters_carry_the_case_facts_and_the_consultation_masks_the_applicant,
    a_missing_or_wrong_fact_is_refused_naming_it_and_nothing_is_stored,
    a_changed_letter_is_a_new_version_with_the_same_number_and_the_audit_checks_it,
    numbers_are_gap_free_under_concurrent_generation,
    letterheads_and_templates_apply_to_the_subtree_and_bad_templates_are_refused,
    the_cli_writes_the_same_docx_as_the_api,
    statisticians_read_only_the_masked_consultation_letter,
    the_service_names_the_letter_that_was_served,
);

/// The paragraphs of a DOCX's body, one per line.
pub fn docx_text(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut xml = String::new();
    archive.by_name("word/document.xml").expect("word/document.xml").read_to_string(&mut xml).unwrap();
    xml.split("</w:p>")
        .map(|p| {
            let mut text = String::new();
            let mut rest = p;
            while let Some(i) = rest.find("<w:t") {
                let after = &rest[i + 4..];
                if after.starts_with('>') || after.starts_with(' ') {
                    let content = &after[after.find('>').unwrap() + 1..];
                    let close = content.find("</w:t>").unwrap();
                    text.push_str(&content[..close]);
                    rest = &content[close + 6..];
                } else {
                    rest = after;
                }
            }
            text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
        })
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn case_received(app: &TestApp, agency: &str, arrived_at: &str) -> String {
    let mut body = intake(agency);
    body["arrived_at"] = json!(arrived_at);
    let res = app.post_case(&app.admin, &body).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn generate(app: &TestApp, who: &str, case_id: &str, body: Value) -> reqwest::Response {
    app.request_as(reqwest::Method::POST, &format!("/api/v1/cases/{case_id}/documents"), who)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Generates a letter that must succeed: its record and the text of its DOCX.
async fn letter(app: &TestApp, case_id: &str, body: Value) -> (Value, String) {
    let res = generate(app, &app.admin, case_id, body.clone()).await;
    let status = res.status();
    let document: Value = res.json().await.unwrap();
    assert!(status == 201 || status == 200, "{body} -> {document}");
    let bytes = app
        .get(&app.admin, &format!("/api/v1/cases/{case_id}/documents/{}", document["id"].as_str().unwrap()))
        .await
        .bytes()
        .await
        .unwrap();
    (document, docx_text(&bytes))
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn set_letterhead(app: &TestApp, agency: &str, letterhead: Value) {
    let res = app
        .request_as(reqwest::Method::PUT, &format!("/api/v1/agencies/{agency}/letterhead"), &app.admin)
        .json(&letterhead)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

fn panjin_letterhead() -> Value {
    json!({
        "issuer": "盘锦市人民政府办公室",
        "number_prefix": "盘政公开",
        "address": "盘锦市兴隆台区市府大路1号",
        "postcode": "124010",
        "phone": "0427-2825000",
        "seal": "（印章）",
        "reconsideration_body": "辽宁省人民政府",
        "court": "盘锦市中级人民法院"
    })
}

async fn a_reply_for_every_outcome_under_both_regimes_cites_its_article_and_the_remedies(app: TestApp) {
    app.seed_city();
    set_letterhead(&app, "PJ", panjin_letterhead()).await;
    let approver = app.token(Role::Approver, "PJ");
    let me = app.user_id(&approver).await;
    let mut checked = 0;
    for (regime, arrived_at, received, issued_on, lawsuit) in [
        ("ogi2008", "2015-03-02T09:30:00+08:00", "2015年3月2日", "2015-03-20", "三个月"),
        ("ogi2019", "2024-03-04T09:30:00+08:00", "2024年3月4日", "2024-03-20", "六个月"),
    ] {
        for outcome in Outcome::all().into_iter().filter(Outcome::is_reply) {
            let id = case_received(&app, "PJ", arrived_at).await;
            app.act_ok(&approver, &id, json!({"action": {"type": "assign", "handler_id": me}})).await;
            let mut drafted = serde_json::to_value(&outcome).unwrap();
            if drafted["reason"] == "repeat_request" {
                drafted["repeat_of"] = Value::Null;
                drafted["repeat_of_earlier"] = json!({"reference": "盘政公开〔2014〕3号", "answered_on": "2014-12-01"});
            }
            let res = app.act(&approver, &id, json!({"action": {"type": "draft_reply", "outcome": drafted}})).await;
            assert_eq!(res.status(), 200, "{drafted}: {}", res.text().await.unwrap());
            let (document, text) = letter(
                &app,
                &id,
                json!({"kind": "reply", "issued_on": issued_on, "particulars": {"content": "具体内容见附件。", "other_agency": "盘锦市自然资源局，电话0427-2800000"}}),
            )
            .await;
            let what = format!("{regime} {drafted}:\n{text}");
            assert!(document["number"].as_str().unwrap().starts_with("盘政公开〔"), "{what}");
            assert!(text.contains("政府信息公开申请答复书") && text.contains("张三："), "{what}");
            assert!(text.contains(&format!("本机关于{received}收到")), "{what}");
            assert!(text.contains("2014年城区道路改造工程的招标文件"), "{what}");
            assert!(text.contains("具体内容见附件。"), "{what}");
            let basis = legal_basis(regime, DocumentKind::Reply, Some(&outcome));
            if let Some(basis) = basis {
                assert!(text.contains(&basis), "cites {basis}: {what}");
            }
            assert!(text.contains("自收到本答复之日起六十日内"), "remedies: {what}");
            if regime == "ogi2019" && outcome.kind().as_str() == "withheld" {
                // 行政复议法 2023 art. 23 (四): a refusal goes to reconsideration first.
                assert!(text.contains("应当先自收到本答复之日起六十日内") && !text.contains(lawsuit), "{what}");
            } else {
                assert!(text.contains(&format!("{lawsuit}内")), "remedies: {what}");
            }
            assert!(text.contains("辽宁省人民政府"), "the reconsideration body: {what}");
            assert!(text.contains("盘锦市人民政府办公室") && text.contains("（印章）"), "{what}");
            if drafted["reason"] == "repeat_request" {
                assert!(text.contains("盘政公开〔2014〕3号") && text.contains("2014年12月1日"), "{what}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "{checked}");
    // 2019 Art. 36 (一) and 2008 Art. 21 (一), literally.
    let id = case_received(&app, "PJ", "2024-03-04T09:30:00+08:00").await;
    app.reply(&id, "PJ", "2024-03-20", json!({"kind": "disclosed", "already_public": true})).await;
    let (_, text) = letter(
        &app,
        &id,
        json!({"kind": "reply", "issued_on": "2024-03-20", "particulars": {"content": "已在本机关门户网站公开。"}}),
    )
    .await;
    assert!(text.contains("《中华人民共和国政府信息公开条例》第三十六条第（一）项"), "{text}");
    // A reply dated before 2015-05-01 names three months for a lawsuit (行政诉讼法 before its amendment).
    let id = case_received(&app, "PJ", "2015-03-02T09:30:00+08:00").await;
    app.reply(&id, "PJ", "2015-03-20", json!({"kind": "withheld", "reason": "state_secret"})).await;
    let (_, text) = letter(&app, &id, json!({"kind": "reply", "issued_on": "2015-03-20"})).await;
    assert!(text.contains("三个月") && !text.contains("六个月"), "{text}");
    assert!(text.contains("《中华人民共和国政府信息公开条例》第十四条、第二十一条第（二）项"), "{text}");
    assert!(text.contains("2015年3月20日"), "{text}");
    // A withdrawal is told without remedies.
    let id = case_received(&app, "PJ", "2024-03-04T09:30:00+08:00").await;
    app.act_ok(&approver, &id, json!({"action": {"type": "withdraw", "on": "2024-03-06"}, "reason": "申请人来电撤回"}))
        .await;
    let (_, text) = letter(&app, &id, json!({"kind": "reply", "issued_on": "2024-03-06"})).await;
    assert!(text.contains("撤回") && !text.contains("行政复议"), "{text}");
}

async fn the_other_letters_carry_the_case_facts_and_the_consultation_masks_the_applicant(app: TestApp) {
    app.seed_city();
    set_letterhead(&app, "PJ", panjin_letterhead()).await;
    let approver = app.token(Role::Approver, "PJ");
    for (regime, arrived_at, due, days) in [
        ("ogi2008", "2015-03-02T09:30:00+08:00", "2015年3月23日", "十五"),
        ("ogi2019", "2024-03-04T09:30:00+08:00", "2024年4月1日", "二十"),
    ] {
        let id = case_received(&app, "PJ", arrived_at).await;
        let case = app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(case["regime"], regime);
        let number = case["tracking_number"].as_str().unwrap().to_owned();
        let year = &arrived_at[..4];
        let issued_on = format!("{year}-03-06");
        let (receipt, text) = letter(&app, &id, json!({"kind": "receipt", "issued_on": issued_on})).await;
        assert!(receipt["number"].as_str().unwrap().starts_with("盘政公开登记〔"), "{receipt}");
        assert!(
            text.contains("政府信息公开申请登记回执") && text.contains(&number) && text.contains(due),
            "{regime}: {text}"
        );
        assert!(text.contains(&format!("{days}个工作日")), "{regime}: {text}");
        assert!(text.contains(&legal_basis(regime, DocumentKind::Receipt, None).unwrap()), "{text}");
        assert!(text.contains("张三：") && text.contains("以信函方式"), "{text}");
        let _ = year;

        let (_, text) = letter(
            &app,
            &id,
            json!({"kind": "correction", "issued_on": issued_on, "particulars": {"matters": "1. 请写明招标文件的名称或者文号；\n2. 请写明工程所在路段。", "respond_by": format!("{year}-03-20")}}),
        )
        .await;
        assert!(text.contains("请写明招标文件的名称或者文号") && text.contains("请写明工程所在路段"), "{text}");
        assert!(text.contains(&legal_basis(regime, DocumentKind::Correction, None).unwrap()), "{text}");
        assert_eq!(text.contains("视为放弃申请"), regime == "ogi2019", "deemed abandonment is a 2019 rule: {text}");

        let head = &approver;
        let tag = app.etag(&id).await;
        let notified = if regime == "ogi2008" { "2015-03-20" } else { "2024-03-29" };
        let res = app
            .request_as(reqwest::Method::POST, &format!("/api/v1/cases/{id}/clock-events"), head)
            .header("If-Match", tag)
            .json(&json!({"event": {"type": "extension_approved", "on": notified, "days": 10, "reason": "需要调阅档案", "applicant_notified_on": notified}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let case = app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await;
        let extended = case["deadline"]["final_due_on"].as_str().unwrap().to_owned();
        let (_, text) = letter(&app, &id, json!({"kind": "extension", "issued_on": notified})).await;
        let (y, m, d) = (&extended[..4], extended[5..7].trim_start_matches('0'), extended[8..].trim_start_matches('0'));
        assert!(text.contains(&format!("{y}年{m}月{d}日")), "the new deadline {extended}: {text}");
        assert!(text.contains("延长十个工作日") && text.contains("需要调阅档案") && text.contains(due), "{text}");

        let (consultation, text) = letter(
            &app,
            &id,
            json!({"kind": "consultation", "issued_on": issued_on, "particulars": {"third_party": "盘锦市某建筑工程有限公司", "matters": "贵公司投标文件中的报价部分"}}),
        )
        .await;
        assert!(
            text.contains("盘锦市某建筑工程有限公司：") && text.contains("张*") && !text.contains("张三"),
            "{text}"
        );
        assert!(
            !text.contains("2014年城区道路改造工程的招标文件"),
            "the request is not quoted to the third party: {text}"
        );
        assert_eq!(text.contains("十五个工作日"), regime == "ogi2019", "{text}");
        assert!(consultation["number"].as_str().unwrap().contains("征询"), "{consultation}");
    }
}

async fn a_missing_or_wrong_fact_is_refused_naming_it_and_nothing_is_stored(app: TestApp) {
    app.seed_city();
    let id = case_received(&app, "PJ", "2024-03-04T09:30:00+08:00").await;
    let tag = app.etag(&id).await;
    for (body, path) in [
        (json!({"kind": "reply"}), "case.outcome"),
        (json!({"kind": "extension"}), "case.extension"),
        (json!({"kind": "correction", "particulars": {"respond_by": "2024-03-20"}}), "particulars.matters"),
        (json!({"kind": "correction", "particulars": {"matters": "x"}}), "particulars.respond_by"),
        (
            json!({"kind": "correction", "particulars": {"matters": "x", "respond_by": "2024-02-30"}}),
            "particulars.respond_by",
        ),
        (json!({"kind": "consultation"}), "particulars.third_party"),
        (json!({"kind": "receipt", "particulars": {"content": "x"}}), "particulars.content"),
        (json!({"kind": "receipt", "issued_on": "2024-03-01"}), "issued_on"),
        (json!({"kind": "receipt", "issued_on": "2099-01-01"}), "issued_on"),
        (json!({"kind": "summons"}), "kind"),
    ] {
        let problem = assert_problem(generate(&app, &app.admin, &id, body.clone()).await, 422, "validation").await;
        assert_eq!(problem["errors"][0]["path"], path, "{body}: {problem}");
    }
    // 部分公开 must say what is withheld and why.
    app.reply(&id, "PJ", "2024-03-20", json!({"kind": "partly_disclosed"})).await;
    let tag_after_reply = app.etag(&id).await;
    let problem =
        assert_problem(generate(&app, &app.admin, &id, json!({"kind": "reply"})).await, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "particulars.content");
    let mut conn = app.db.conn().unwrap();
    let files: i64 = stored_files::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(files, 0, "nothing stored");
    assert_ne!(tag, tag_after_reply);
    assert_eq!(app.etag(&id).await, tag_after_reply, "no event");
}

async fn a_changed_letter_is_a_new_version_with_the_same_number_and_the_audit_checks_it(app: TestApp) {
    app.seed_city();
    set_letterhead(&app, "PJ", panjin_letterhead()).await;
    let id = case_received(&app, "PJ", "2024-03-04T09:30:00+08:00").await;
    let body = json!({"kind": "correction", "issued_on": "2024-03-06", "particulars": {"matters": "请写明文号。", "respond_by": "2024-03-20"}});
    let res = generate(&app, &app.admin, &id, body.clone()).await;
    assert_eq!(res.status(), 201);
    let first: Value = res.json().await.unwrap();
    assert_eq!((first["number"].as_str().unwrap(), first["version"].as_i64().unwrap()), ("盘政公开补正〔2024〕1号", 1));
    assert_eq!(first["template_source"], "builtin");
    assert_eq!(first["template"], "correction");
    // The same letter again: the same version, no new event.
    let tag = app.etag(&id).await;
    let res = generate(&app, &app.admin, &id, body.clone()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_eq!(app.etag(&id).await, tag);
    // A changed fact: version 2 of the same document, same number.
    let mut changed = body.clone();
    changed["particulars"]["matters"] = json!("请写明文件名称和文号。");
    let res = generate(&app, &app.admin, &id, changed).await;
    assert_eq!(res.status(), 201);
    let second: Value = res.json().await.unwrap();
    assert_eq!(second["document_id"], first["document_id"]);
    assert_eq!((second["number"].clone(), second["version"].clone()), (first["number"].clone(), json!(2)));
    // Another kind has its own series.
    let (receipt, _) = letter(&app, &id, json!({"kind": "receipt", "issued_on": "2024-03-04"})).await;
    assert_eq!(receipt["number"], "盘政公开登记〔2024〕1号");
    // Every version is an event with the DOCX's hash, and is listed on the case.
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let issued: Vec<&Value> = events.as_array().unwrap().iter().filter(|e| e["kind"] == "document_issued").collect();
    assert_eq!(issued.len(), 3);
    let bytes = app
        .get(&app.admin, &format!("/api/v1/cases/{id}/documents/{}", second["id"].as_str().unwrap()))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(issued[1]["payload"]["sha256"], sha256(&bytes));
    let case = app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["documents"].as_array().unwrap().len(), 3);
    assert_eq!(app.get_json(&app.admin, "/api/v1/audit/verify").await["broken"], json!([]));
    // A stored letter changed behind the service's back is an audit finding.
    {
        let mut conn = app.db.conn().unwrap();
        let id = second["id"].as_str().unwrap();
        let mut chunk: Vec<u8> =
            stored_file_chunks::table.find((id, 0)).select(stored_file_chunks::bytes).first(&mut *conn).unwrap();
        let last = chunk.len() - 1;
        chunk[last] ^= 1;
        diesel::update(stored_file_chunks::table.find((id, 0)))
            .set(stored_file_chunks::bytes.eq(chunk))
            .execute(&mut *conn)
            .unwrap();
    }
    let report = app.get_json(&app.admin, "/api/v1/audit/verify").await;
    assert!(report["broken"][0]["detail"].as_str().unwrap().contains("盘政公开补正〔2024〕1号 version 2"), "{report}");
}

async fn numbers_are_gap_free_under_concurrent_generation(app: TestApp) {
    app.seed_city();
    set_letterhead(&app, "PJ", panjin_letterhead()).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(case_received(&app, "PJ", "2024-03-04T09:30:00+08:00").await);
    }
    let requests =
        ids.iter().map(|id| generate(&app, &app.admin, id, json!({"kind": "receipt", "issued_on": "2024-03-05"})));
    let answers = futures_util::future::join_all(requests).await;
    let mut numbers = Vec::new();
    for res in answers {
        assert_eq!(res.status(), 201);
        numbers.push(res.json::<Value>().await.unwrap()["number"].as_str().unwrap().to_owned());
    }
    numbers
        .sort_by_key(|n| n.trim_start_matches("盘政公开登记〔2024〕").trim_end_matches('号').parse::<i32>().unwrap());
    let expected: Vec<String> = (1..=12).map(|n| format!("盘政公开登记〔2024〕{n}号")).collect();
    assert_eq!(numbers, expected);
}

async fn letterheads_and_templates_apply_to_the_subtree_and_bad_templates_are_refused(app: TestApp) {
    app.seed_city();
    // Without a letterhead the agency's own name issues the letters and numbers them.
    let district = case_received(&app, "PJ-DW", "2024-03-04T09:30:00+08:00").await;
    let (receipt, text) = letter(&app, &district, json!({"kind": "receipt", "issued_on": "2024-03-05"})).await;
    assert_eq!(receipt["number"], "大洼区人民政府登记〔2024〕1号");
    assert!(text.starts_with("大洼区人民政府\n"), "{text}");
    // The city's letterhead applies to the district below it.
    set_letterhead(&app, "PJ", panjin_letterhead()).await;
    let answer = app.get_json(&app.admin, "/api/v1/agencies/PJ-DW/letterhead").await;
    assert_eq!(
        (answer["set_by"].clone(), answer["letterhead"]["number_prefix"].clone()),
        (json!("PJ"), json!("盘政公开"))
    );
    let (receipt, text) = letter(&app, &district, json!({"kind": "receipt", "issued_on": "2024-03-05"})).await;
    assert_eq!(receipt["version"], 2, "a new letterhead is a new version of the receipt");
    assert_eq!(receipt["number"], "大洼区人民政府登记〔2024〕1号", "a document keeps its number in every version");
    assert!(text.starts_with("盘锦市人民政府办公室\n") && !text.contains("辽宁省人民政府"), "{text}");
    // A new document takes the number series of the letterhead's agency.
    let (correction, _) = letter(
        &app,
        &district,
        json!({"kind": "correction", "issued_on": "2024-03-05", "particulars": {"matters": "请写明文号。", "respond_by": "2024-03-20"}}),
    )
    .await;
    assert_eq!(correction["number"], "盘政公开补正〔2024〕1号");
    // Bad letterheads, and a clerk, are refused.
    let clerk = app.token(Role::Clerk, "PJ");
    let res = app
        .request_as(reqwest::Method::PUT, "/api/v1/agencies/PJ/letterhead", &clerk)
        .json(&panjin_letterhead())
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .request_as(reqwest::Method::PUT, "/api/v1/agencies/PJ/letterhead", &app.admin)
        .json(&json!({"number_pattern": "{prefix}{seq}"}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422, "validation").await;
    assert_eq!(problem["errors"][0]["path"], "number_pattern");
    // The district's own receipt template.
    let template = |body: &str| json!({ "body": body });
    let path = "/api/v1/agencies/PJ-DW/document-templates/receipt";
    let builtin = app.get_json(&app.admin, path).await;
    assert_eq!(builtin["source"], "builtin");
    let own = builtin["body"].as_str().unwrap().replace("本回执仅作为", "本回执（大洼区格式）仅作为");
    let res = app.request_as(reqwest::Method::PUT, path, &app.admin).json(&template(&own)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (receipt, text) = letter(&app, &district, json!({"kind": "receipt", "issued_on": "2024-03-05"})).await;
    assert!(text.contains("本回执（大洼区格式）仅作为"), "{text}");
    assert_eq!(receipt["template_source"], "PJ-DW");
    assert_eq!(receipt["version"], 3);
    // The city does not see the district's version.
    assert_eq!(app.get_json(&app.admin, "/api/v1/agencies/PJ/document-templates/receipt").await["source"], "builtin");
    // A template that does not render, or names an unknown field, is refused; the old one stays.
    for bad in
        ["@title 回执\n{% if %}", "@title 回执\n{{ case.no_such_field }}", "没有标题", "@title 回执\n@stamp 印章\n正文"]
    {
        let res = app.request_as(reqwest::Method::PUT, path, &app.admin).json(&template(bad)).send().await.unwrap();
        let problem = assert_problem(res, 422, "validation").await;
        assert_eq!(problem["errors"][0]["path"], "body", "{bad}: {problem}");
    }
    assert_eq!(app.get_json(&app.admin, path).await["source"], "PJ-DW");
    let res = app
        .request_as(reqwest::Method::PUT, "/api/v1/agencies/PJ-DW/document-templates/summons", &app.admin)
        .json(&template("@title x\ny"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not-found").await;
    // Removing it brings the built-in one back.
    let res = app.request_as(reqwest::Method::DELETE, path, &app.admin).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_json(&app.admin, path).await["source"], "builtin");
    let res = app.request_as(reqwest::Method::DELETE, path, &app.admin).send().await.unwrap();
    assert_problem(res, 404, "not-found").await;
}

async fn the_cli_writes_the_same_docx_as_the_api(app: TestApp) {
    app.seed_city();
    set_letterhead(&app, "PJ", panjin_letterhead()).await;
    let id = case_received(&app, "PJ", "2015-03-02T09:30:00+08:00").await;
    app.reply(&id, "PJ", "2015-03-20", json!({"kind": "unable", "reason": "does_not_exist"})).await;
    let number =
        app.get_json(&app.admin, &format!("/api/v1/cases/{id}")).await["tracking_number"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("答复书.docx");
    let run = |args: &[&str]| app.cli(args);
    let out = run(&[
        "document",
        "generate",
        "--case",
        &number,
        "--kind",
        "reply",
        "--issued-on",
        "2015-03-20",
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("盘政公开〔2015〕1号 version 1"), "{stdout}");
    let bytes = std::fs::read(&output).unwrap();
    let text = docx_text(&bytes);
    assert!(
        text.contains("该政府信息不存在") && text.contains("第二十一条第（三）项") && text.contains("2015年3月20日"),
        "{text}"
    );
    // The API serves the same bytes.
    let listed = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/documents")).await;
    let version = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let served = app.get(&app.admin, &format!("/api/v1/cases/{id}/documents/{version}")).await.bytes().await.unwrap();
    assert_eq!(served.as_ref(), bytes.as_slice());
    // Again: unchanged; an existing output and a missing fact are refused.
    let again = dir.path().join("again.docx");
    let out = run(&[
        "document",
        "generate",
        "--case",
        &number,
        "--kind",
        "reply",
        "--issued-on",
        "2015-03-20",
        "--output",
        again.to_str().unwrap(),
    ]);
    assert!(String::from_utf8(out.stdout).unwrap().contains("unchanged"));
    let out =
        run(&["document", "generate", "--case", &number, "--kind", "reply", "--output", output.to_str().unwrap()]);
    assert!(!out.status.success());
    let out = run(&[
        "document",
        "generate",
        "--case",
        &number,
        "--kind",
        "consultation",
        "--output",
        dir.path().join("c.docx").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("particulars.third_party"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["document", "list", "--case", &number]);
    assert!(String::from_utf8(out.stdout).unwrap().contains("盘政公开〔2015〕1号"));
}

async fn statisticians_read_only_the_masked_consultation_letter(app: TestApp) {
    app.seed_city();
    let id = case_received(&app, "PJ", "2024-03-04T09:30:00+08:00").await;
    let (receipt, _) = letter(&app, &id, json!({"kind": "receipt"})).await;
    let (consultation, _) =
        letter(&app, &id, json!({"kind": "consultation", "particulars": {"third_party": "某公司 电话15704271234"}}))
            .await;
    let statistician = app.token(Role::Statistician, "PJ");
    assert_problem(generate(&app, &statistician, &id, json!({"kind": "receipt"})).await, 403, "forbidden").await;
    let listed = app.get_json(&statistician, &format!("/api/v1/cases/{id}/documents")).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_eq!(listed["items"][1]["particulars"]["third_party"], "某公司 电话157********");
    let path = |d: &Value| format!("/api/v1/cases/{id}/documents/{}", d["id"].as_str().unwrap());
    assert_problem(app.get(&statistician, &path(&receipt)).await, 403, "forbidden").await;
    assert_eq!(app.get(&statistician, &path(&consultation)).await.status(), 200);
    let elsewhere = app.token(Role::Clerk, "PJ-DW");
    assert_problem(app.get(&elsewhere, &path(&receipt)).await, 404, "not-found").await;
    assert_problem(generate(&app, &elsewhere, &id, json!({"kind": "receipt"})).await, 404, "not-found").await;
    // A clerk generates and reads them.
    let clerk = app.token(Role::Clerk, "PJ");
    assert_eq!(app.get(&clerk, &path(&receipt)).await.status(), 200);
    let res = generate(&app, &clerk, &id, json!({"kind": "receipt"})).await;
    assert_eq!(res.status(), 200, "unchanged");
}

async fn the_service_names_the_letter_that_was_served(app: TestApp) {
    app.seed_city();
    let approver = app.token(Role::Approver, "PJ");
    let me = app.user_id(&approver).await;
    let id = case_received(&app, "PJ", "2024-03-04T09:30:00+08:00").await;
    app.act_ok(&approver, &id, json!({"action": {"type": "assign", "handler_id": me}})).await;
    app.act_ok(&approver, &id, json!({"action": {"type": "draft_reply", "outcome": {"kind": "disclosed"}}})).await;
    let draft = json!({"kind": "reply", "issued_on": "2024-03-18", "particulars": {"content": "招标文件见附件。"}});
    let (first, _) = letter(&app, &id, draft.clone()).await;
    let mut corrected = draft;
    corrected["particulars"]["content"] = json!("招标文件共12页，见附件。");
    let (second, _) = letter(&app, &id, corrected).await;
    assert_eq!((second["version"].clone(), second["number"].clone()), (json!(2), first["number"].clone()));
    app.act_ok(&approver, &id, json!({"action": {"type": "approve_reply"}})).await;
    app.act_ok(&approver, &id, json!({"action": {"type": "serve", "on": "2024-03-19", "method": "post"}})).await;
    let events = app.get_json(&app.admin, &format!("/api/v1/cases/{id}/events")).await;
    let served = events
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["kind"] == "workflow" && e["payload"]["method"] == "post")
        .unwrap()
        .clone();
    assert_eq!(served["payload"]["document"]["id"], second["id"], "{served}");
    assert_eq!(served["payload"]["document"]["sha256"], second["sha256"]);
    assert_eq!(served["payload"]["document"]["version"], 2);
}
