//! The case ledger (台账): one row per case with what an office's register shows, for the list's
//! filters, as CSV or XLSX. Read a page at a time so an export of any size stays in small memory.

use chrono::Utc;

use crate::db::calendar::CalendarCache;
use crate::db::DbConnection;
use crate::domain::labels;
use crate::domain::masking::mask_name;
use crate::domain::outcome::y2021_outcome;
use crate::domain::role::Principal;
use crate::domain::workflow::CaseState;
use crate::error::AppError;
use crate::service::cases::{list, CaseQuery};

/// The ledger's columns, as an office's register heads them.
pub const COLUMNS: [&str; 22] = [
    "受理编号",
    "收到申请日期",
    "受理渠道",
    "申请人类型",
    "申请人",
    "主题",
    "办理状态",
    "承办人",
    "答复期限",
    "延长后期限",
    "办理时效",
    "办结日期",
    "答复结果",
    "年报行（2021）",
    "申请内容",
    // The outcome exactly (kind and reason), as `foi-tracker import cases` reads it back.
    "答复结果代码",
    "行政复议申请日期",
    "行政复议结果",
    "行政复议决定日期",
    "行政诉讼起诉日期",
    "行政诉讼结果",
    "行政诉讼裁判日期",
];

/// One row of the ledger, in `COLUMNS` order.
pub type LedgerRow = [String; 22];

/// How many cases a page of the ledger reads at once.
pub const PAGE: i64 = 200;

/// One page of ledger rows for `query` (its filters and order; `query.after` from the previous page),
/// and where the next page starts. Applicants' names are masked, as in every list.
pub fn page(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    user: &Principal,
    mut query: CaseQuery,
) -> Result<(Vec<LedgerRow>, Option<String>), AppError> {
    query.limit = PAGE;
    query.count = false;
    let page = list(conn, calendars, user, query)?;
    let handler_ids: Vec<String> = page.cases.iter().filter_map(|(r, _)| r.row.handler_id.clone()).collect();
    let handlers = crate::db::users::names(conn, &handler_ids)?;
    let case_ids: Vec<String> = page.cases.iter().map(|(r, _)| r.row.id.clone()).collect();
    let appeals = crate::db::cases::appeals_of(conn, &case_ids)?;
    let today = crate::domain::china_date(Utc::now());
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut rows = Vec::with_capacity(page.cases.len());
    for (record, calendar) in &page.cases {
        let view = record.view()?;
        let r = &record.row;
        let timeliness = match (r.closed_as, r.final_due_on, r.stop_ends_on) {
            // A voided duplicate has no time limit of its own: its original has.
            _ if r.state == CaseState::Voided => String::new(),
            (Some(closing), _, _) => labels::closing(closing).to_owned(),
            (None, _, Some(_)) => "暂停计时".to_owned(),
            (None, Some(due), None) => {
                let left = if due >= today {
                    calendar.working_days_between(today, due)
                } else {
                    calendar.working_days_between(due, today).map(|n| -n)
                };
                labels::days_left(left.map_err(AppError::internal)?)
            }
            (None, None, None) => String::new(),
        };
        let (outcome, row_code) = match &view.outcome {
            Some(outcome) => {
                let row = y2021_outcome(outcome).def();
                (row.label.to_owned(), row.code.to_owned())
            }
            None => (String::new(), String::new()),
        };
        rows.push(
            vec![
                r.tracking_number.clone(),
                r.received_on.to_string(),
                labels::channel(r.channel).to_owned(),
                labels::applicant_kind(r.applicant_kind).to_owned(),
                mask_name(&r.applicant_name),
                r.topic.clone().unwrap_or_default(),
                labels::state(r.state).to_owned(),
                r.handler_id.as_ref().and_then(|id| handlers.get(id).cloned()).unwrap_or_default(),
                date(r.due_on),
                if r.final_due_on != r.due_on { date(r.final_due_on) } else { String::new() },
                timeliness,
                date(r.closed_on),
                outcome,
                row_code,
                r.description.clone(),
                view.outcome.as_ref().map(crate::domain::ledger_import::code_of).unwrap_or_default(),
            ]
            .into_iter()
            .chain(appeal_cells(appeals.get(&r.id).map(Vec::as_slice).unwrap_or(&[])))
            .collect::<Vec<_>>()
            .try_into()
            .expect("every column"),
        );
    }
    Ok((rows, page.next))
}

/// The reconsideration and the lawsuit of a case (the first of each), as six cells: filed, result,
/// decided.
fn appeal_cells(appeals: &[crate::db::rows::AppealRow]) -> Vec<String> {
    use crate::domain::workflow::{AppealKind, AppealOutcome};
    let result = |o: AppealOutcome| match o {
        AppealOutcome::Upheld => "维持",
        AppealOutcome::Corrected => "纠正",
        AppealOutcome::Other => "其他",
        AppealOutcome::Pending => "未审结",
    };
    let mut cells = Vec::with_capacity(6);
    for lawsuit in [false, true] {
        let found = appeals.iter().find(|a| match a.kind {
            AppealKind::Reconsideration => !lawsuit,
            AppealKind::LitigationDirect | AppealKind::LitigationAfterReconsideration => lawsuit,
            AppealKind::Complaint => false,
        });
        match found {
            Some(a) => {
                cells.push(a.filed_on.to_string());
                cells.push(result(a.outcome).to_owned());
                cells.push(a.decided_on.map(|d| d.to_string()).unwrap_or_default());
            }
            None => cells.extend([String::new(), String::new(), String::new()]),
        }
    }
    cells
}

/// CSV text of ledger rows (fields quoted where needed, CRLF line ends).
pub fn csv_lines(rows: &[LedgerRow]) -> String {
    let mut out = String::new();
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| crate::service::reports::csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The CSV's start: a byte-order mark (so spreadsheet programs read the Chinese) and the header row.
pub fn csv_header() -> String {
    format!("\u{feff}{}\r\n", COLUMNS.join(","))
}

/// The whole ledger for `query` as an XLSX file (an unnamed temporary file, deleted when closed, read
/// from its start): rows are written a page at a time in rust_xlsxwriter's constant-memory mode, so
/// the export's memory does not grow with the number of cases.
pub fn xlsx_file(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    user: &Principal,
    mut query: CaseQuery,
) -> Result<std::fs::File, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name("台账").map_err(AppError::internal)?;
    let bold = Format::new().set_bold();
    for (col, title) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &bold).map_err(AppError::internal)?;
        sheet.set_column_width(col as u16, if col == 12 || col == 14 { 36 } else { 14 }).map_err(AppError::internal)?;
    }
    let mut next_row = 1u32;
    loop {
        let (rows, next) = page(conn, calendars, user, query.clone())?;
        for row in &rows {
            for (col, value) in row.iter().enumerate() {
                if !value.is_empty() {
                    sheet.write_string(next_row, col as u16, value).map_err(AppError::internal)?;
                }
            }
            next_row += 1;
        }
        match next {
            Some(after) => query.after = Some(after),
            None => break,
        }
    }
    let mut file = tempfile::tempfile().map_err(AppError::internal)?;
    workbook.save_to_writer(&mut file).map_err(AppError::internal)?;
    std::io::Seek::rewind(&mut file).map_err(AppError::internal)?;
    Ok(file)
}
