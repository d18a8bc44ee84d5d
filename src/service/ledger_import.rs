//! Importing an office's ledger (台账): read the sheet (XLSX, or CSV in UTF-8 or GB18030), check every
//! row first (a real run with any invalid row writes nothing), skip the rows imported before, then
//! write each case with its whole history at the ledger's business dates, in batches.

use std::collections::{BTreeMap, HashSet};

use chrono::Utc;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::db::agencies::AgencyRow;
use crate::db::calendar::CalendarCache;
use crate::db::cases::{self, ImportedRow};
use crate::db::users::UserRow;
use crate::db::{DbConnection, TxError};
use crate::domain::ledger_import::{self as ledger, Field, ImportActor, LedgerCase, Located, Mapping, RowProblem};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::directory::{in_scope, Named};
use crate::service::Caller;

/// A sheet's cells as text: its header row and its data rows with their numbers (the header is row
/// 1). Dates stored as spreadsheet dates come as YYYY-MM-DD.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Reads a ledger file: `.xlsx` (its first sheet) or `.csv` (UTF-8, with or without BOM, or the
/// GB18030 that Excel and WPS save on Chinese systems), chosen by the content.
pub fn read_sheet(bytes: &[u8]) -> Result<Sheet, AppError> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else {
        read_csv(bytes)
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, AppError> {
    use calamine::{Data, Reader};
    let unreadable = |e: String| AppError::validation("file", format!("the workbook cannot be read: {e}"));
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let first = book.sheet_names().first().cloned().ok_or_else(|| unreadable("it has no sheet".into()))?;
    let range = book.worksheet_range(&first).map_err(|e| unreadable(e.to_string()))?;
    let text = |cell: &Data| match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            let days = d.as_f64().trunc() as i64;
            let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date");
            epoch.checked_add_signed(chrono::Duration::days(days)).map(|d| d.to_string()).unwrap_or_default()
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    };
    let (top, _) = range.start().unwrap_or((0, 0));
    let mut rows =
        range.rows().enumerate().map(|(i, cells)| (top as usize + i + 1, cells.iter().map(text).collect::<Vec<_>>()));
    let headers = rows.next().map(|(_, cells)| cells).unwrap_or_default();
    let rows = rows.filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty())).collect();
    Ok(Sheet { headers, rows })
}

fn read_csv(bytes: &[u8]) -> Result<Sheet, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => {
            let (text, _, bad) = encoding_rs::GB18030.decode(bytes);
            if bad {
                return Err(AppError::validation(
                    "file",
                    "the file is neither UTF-8 nor GB18030 text, nor an XLSX workbook",
                ));
            }
            text
        }
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut sheet = Sheet::default();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| AppError::validation("file", format!("row {}: not CSV: {e}", i + 1)))?;
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if i == 0 {
            sheet.headers = cells;
        } else if cells.iter().any(|c| !c.trim().is_empty()) {
            sheet.rows.push((i + 1, cells));
        }
    }
    Ok(sheet)
}

/// A row skipped because it was imported before (or stands twice in the file).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkippedRow {
    pub row: usize,
    pub original_number: Option<String>,
    pub why: String,
}

/// What an import found and did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// SHA-256 of the file: every imported case's events name it.
    pub file_sha256: String,
    pub rows: usize,
    /// Cases written (0 on a dry run or when any row is invalid).
    pub imported: usize,
    /// Rows that would be written (a dry run), or were.
    pub importable: usize,
    pub skipped: Vec<SkippedRow>,
    /// Every problem of every invalid row.
    #[schema(value_type = Vec<Object>)]
    pub problems: Vec<RowProblem>,
    /// Headers no field claims (ignored).
    pub ignored_columns: Vec<String>,
    pub seconds: f64,
}

/// The import actor of an agency: a deactivated account (it cannot sign in, hold a token or be
/// assigned) that the imported events name, so the history says they came from the ledger.
fn import_actor(conn: &mut DbConnection, agency: &AgencyRow) -> Result<UserRow, AppError> {
    const NAME: &str = "台账导入";
    let filter = crate::db::users::UserFilter {
        agency_path: None,
        agency_exact: Some(agency.path.clone()),
        roles: vec![Role::Handler],
        active: Some(false),
    };
    if let Some((user, _)) = crate::db::users::list_filtered(conn, &filter)?.into_iter().find(|(u, _)| u.name == NAME) {
        return Ok(user);
    }
    let now = crate::db::now();
    let user = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: NAME.to_owned(),
        role: Role::Handler,
        agency_id: Some(agency.id.clone()),
        email: None,
        created_at: now,
        deactivated_at: Some(now),
        login: None,
        password_changed_at: None,
    };
    crate::db::users::insert_with_token(conn, &user, "ledger import")?;
    Ok(user)
}

/// A problem of a whole row (not of one column), from a check after its cells were read.
fn row_problem(row: usize, column: &str, value: &str, zh: impl Into<String>, en: impl Into<String>) -> RowProblem {
    RowProblem { row, column: column.to_owned(), value: value.to_owned(), zh: zh.into(), en: en.into() }
}

/// Cases written per transaction.
const BATCH: usize = 250;

/// Imports `sheet` into agency `code` (administrators of its subtree; the operator): reads and checks
/// every row, and unless `dry_run` or any row is invalid, writes the new ones. `progress` hears the
/// number of rows done (checked, then written).
#[allow(clippy::too_many_arguments)]
pub fn import(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    caller: Caller<'_>,
    code: &str,
    sheet: &Sheet,
    file_sha256: &str,
    mapping: &Mapping,
    dry_run: bool,
    progress: &dyn Fn(usize),
) -> Result<ImportReport, AppError> {
    let started = std::time::Instant::now();
    caller.require_admin("import a ledger")?;
    let agency = in_scope(conn, caller, code, Named::InPath)?;
    let rules = calendars.rules(conn, Some(&agency.path))?;
    let topics = crate::db::agencies::topics_for(conn, &agency)?;
    let Located { columns, unknown } = mapping.locate(&sheet.headers);
    let mut report = ImportReport {
        dry_run,
        file_sha256: file_sha256.to_owned(),
        rows: sheet.rows.len(),
        imported: 0,
        importable: 0,
        skipped: Vec::new(),
        problems: Vec::new(),
        ignored_columns: unknown,
        seconds: 0.0,
    };
    for field in [Field::ReceivedOn, Field::Channel, Field::ApplicantName, Field::Description] {
        if !columns.contains_key(&field) {
            report.problems.push(row_problem(
                1,
                field.header(),
                "",
                format!("缺少“{}”列", field.header()),
                format!("the sheet has no column for {} ({})", field.header(), field.headers().join("、")),
            ));
        }
    }
    if !report.problems.is_empty() {
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    let located = Located { columns, unknown: Vec::new() };
    let today = crate::domain::china_date(Utc::now());
    let (mut numbers, mut hashes) = cases::imported_keys(conn, &agency.id)?;
    let placeholder = ImportActor { id: "import", name: "台账导入", note: "" };
    let mut ready: Vec<(usize, LedgerCase, crate::domain::intake::Intake, crate::domain::deadline::RegimeRules)> =
        Vec::new();
    for (i, (row, cells)) in sheet.rows.iter().enumerate() {
        if i % 1000 == 0 {
            progress(i);
        }
        let case = match ledger::read_row(mapping, &located, &sheet.headers, *row, cells, today) {
            Ok(case) => case,
            Err(problems) => {
                report.problems.extend(problems);
                continue;
            }
        };
        let duplicate = match &case.original_number {
            Some(number) if numbers.contains(number) => {
                Some(format!("原编号 {number} 已导入 / original number {number} was imported before"))
            }
            _ if hashes.contains(&case.content_hash) => {
                Some("同样内容的行已导入 / a row with the same content was imported before".to_owned())
            }
            _ => None,
        };
        if let Some(why) = duplicate {
            report.skipped.push(SkippedRow { row: *row, original_number: case.original_number.clone(), why });
            continue;
        }
        let topic = match &case.topic {
            None => None,
            Some(t) => match topics.iter().find(|topic| topic.code == *t || topic.label == *t) {
                Some(topic) => Some(topic.code.clone()),
                None => {
                    report.problems.push(row_problem(
                        *row,
                        Field::Topic.header(),
                        t,
                        "不是本机关的主题分类",
                        "is not a topic of the agency",
                    ));
                    continue;
                }
            },
        };
        let evidence = match &case.original_number {
            Some(number) => format!("台账导入，原编号 {number}"),
            None => "台账导入".to_owned(),
        };
        let input = ledger::intake_input(&case, &agency.code, topic, evidence);
        // A case the ledger shows answered was answered: its contact details may be missing.
        let intake = match input.validate_with(Utc::now(), case.reply.is_none()) {
            Ok(intake) => intake,
            Err(errors) => {
                for e in errors {
                    let (column, zh) = intake_problem(&e.path, &e.message);
                    let column = located_header(&located, &sheet.headers, column);
                    report.problems.push(row_problem(*row, &column, "", zh, e.message));
                }
                continue;
            }
        };
        let Some(regime) = rules.regime_for(&agency.path, case.received_on).cloned() else {
            report.problems.push(row_problem(
                *row,
                Field::ReceivedOn.header(),
                &case.received_on.to_string(),
                "该日期没有适用的法规",
                "no regime governs this receipt date",
            ));
            continue;
        };
        // The history must replay as live work would have recorded it.
        let replay = crate::domain::case::register(intake.clone(), &agency.code, 1, &regime, &rules.calendar)
            .map_err(|e| e.to_string())
            .and_then(|registered| {
                let later = ledger::history(&case, &regime, &rules.calendar, &registered, &placeholder, today)?;
                let all: Vec<_> = registered.into_iter().chain(later).collect();
                crate::domain::case::Case::from_events(&all).map(|_| ()).map_err(|e| e.to_string())
            });
        if let Err(why) = replay {
            report.problems.push(row_problem(
                *row,
                "",
                "",
                format!("按台账记载无法还原办理过程：{why}"),
                format!("the ledger's history does not replay: {why}"),
            ));
            continue;
        }
        if let Some(number) = &case.original_number {
            numbers.insert(number.clone());
        }
        hashes.insert(case.content_hash.clone());
        ready.push((*row, case, intake, regime));
    }
    report.importable = ready.len();
    if dry_run || !report.problems.is_empty() {
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    let actor = import_actor(conn, &agency)?;
    let mut done = 0;
    for batch in ready.chunks(BATCH) {
        crate::db::transaction(conn, |conn| {
            let notes: Vec<String> = batch
                .iter()
                .map(|(row, ..)| format!("台账导入：文件 {} 第{row}行", &file_sha256[..16.min(file_sha256.len())]))
                .collect();
            let items = batch
                .iter()
                .zip(&notes)
                .map(|((row, case, intake, regime), note)| {
                    let actor = &actor;
                    let calendar = &rules.calendar;
                    cases::ImportItem {
                        intake: intake.clone(),
                        regime,
                        later: Box::new(move |registered: &[crate::domain::events::CaseEvent]| {
                            let who = ImportActor { id: &actor.id, name: &actor.name, note };
                            ledger::history(case, regime, calendar, registered, &who, today)
                                .map_err(|e| AppError::validation("row", format!("row {row}: {e}")))
                        }),
                        imported: ImportedRow {
                            original_number: case.original_number.as_deref(),
                            content_hash: &case.content_hash,
                            file_sha256,
                            row_number: *row as i32,
                        },
                    }
                })
                .collect();
            cases::insert_imported_batch(conn, &agency, &actor.id, &rules.calendar, items).map_err(TxError::App)?;
            Ok(())
        })
        .map_err(AppError::from)?;
        done += batch.len();
        report.imported = done;
        progress(sheet.rows.len().min(done));
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// SHA-256 of a file's bytes, hex.
pub fn file_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The import template: the template's headers in order, as an XLSX with one example row.
pub fn template_xlsx() -> Result<Vec<u8>, AppError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("台账").map_err(AppError::internal)?;
    let example: BTreeMap<Field, &str> = [
        (Field::OriginalNumber, "2026-001"),
        (Field::ReceivedOn, "2026-03-02"),
        (Field::Channel, "信函"),
        (Field::ApplicantKind, "自然人"),
        (Field::ApplicantName, "张三"),
        (Field::Phone, "15704271234"),
        (Field::Description, "2025年城区道路改造工程的招标文件"),
        (Field::DeliveryForm, "纸质"),
        (Field::RepliedOn, "2026-03-20"),
        (Field::ServiceMethod, "邮寄"),
        (Field::Outcome, "予以公开"),
    ]
    .into_iter()
    .collect();
    for (col, field) in ledger::TEMPLATE.iter().enumerate() {
        sheet.write_string(0, col as u16, field.header()).map_err(AppError::internal)?;
        if let Some(value) = example.get(field) {
            sheet.write_string(1, col as u16, *value).map_err(AppError::internal)?;
        }
        sheet.set_column_width(col as u16, 16).map_err(AppError::internal)?;
    }
    book.save_to_buffer().map_err(AppError::internal)
}

/// Whether a set of problems touches only some rows: the rows with problems.
pub fn invalid_rows(report: &ImportReport) -> HashSet<usize> {
    report.problems.iter().map(|p| p.row).collect()
}

/// The ledger's column and the Chinese words for a registration rule a row breaks.
fn intake_problem(path: &str, message: &str) -> (Field, String) {
    let field = match path {
        "applicant" | "applicant.phone" => Field::Phone,
        "applicant.name" => Field::ApplicantName,
        "applicant.id_number" => Field::IdNumber,
        "applicant.email" => Field::Email,
        "applicant.address" => Field::Address,
        "description" => Field::Description,
        "topic" => Field::Topic,
        _ => Field::ReceivedOn,
    };
    let zh = match message {
        crate::domain::intake::CONTACT_NEEDED => {
            "尚未答复的申请须有联系电话、电子邮箱或通信地址之一（条例第二十九条）".to_owned()
        }
        "must be an email address" => "不是电子邮箱地址".to_owned(),
        m if m.starts_with("must be at most") => "超过长度上限".to_owned(),
        _ => "不符合登记要求".to_owned(),
    };
    (field, zh)
}

/// A field's header as the sheet writes it (its template header when the sheet has no such column).
fn located_header(located: &Located, headers: &[String], field: Field) -> String {
    located.columns.get(&field).map(|&i| headers[i].clone()).unwrap_or_else(|| field.header().to_owned())
}
