//! Annual reports: computing one for an agency in the caller's scope (or returning a locked year's
//! published numbers), locking a year, and the report as the API answers it with its CSV and XLSX
//! renderings (laid out like the official tables: the label column, then the unit or the
//! applicant-type columns, so an office can paste the cells into its published report). Shared by
//! the HTTP handler and the CLI.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::agencies::AgencyRow;
use crate::db::calendar::CalendarCache;
use crate::db::locks::{self, LockRow};
use crate::db::DbConnection;
use crate::domain::report::{build, Cell, ReportBody, ReportFormat, Tallies};
use crate::domain::role::Principal;
use crate::error::AppError;
use crate::service::directory::{in_scope, Named};
use crate::service::Caller;

/// The years a report can be asked for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2008..=2100;

/// Computes the report of `format` for `year` over `agency` (and, with `subtree`, every agency below
/// it), an agency already checked against the caller's scope. A `helper` connection lets the
/// database work run in two halves at once (`db::reports::tallies`).
fn produce(
    conn: &mut DbConnection,
    helper: Option<&mut DbConnection>,
    calendars: &CalendarCache,
    agency: &AgencyRow,
    subtree: bool,
    format: ReportFormat,
    year: i32,
) -> Result<Report, AppError> {
    let rules = calendars.rules(conn, Some(&agency.path))?;
    let scope = crate::db::reports::ReportScope { agency_path: agency.path.clone(), subtree };
    let tallies = crate::db::reports::tallies(conn, helper, &scope, year, &rules.calendar)?;
    Ok(Report::new(&agency.code, &agency.name, subtree, format, year, &tallies))
}

/// What a report is asked for: which agency (code), with its sub-agencies or not, which format and
/// year, and for a locked year whether to recompute (`live`) rather than return the published numbers.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub agency: String,
    pub subtree: bool,
    pub format: ReportFormat,
    pub year: i32,
    pub live: bool,
}

/// The report as an office sees it (any role, for an agency in its scope): for a locked year the
/// numbers as published (unless `live`), with the lock and its post-publication corrections;
/// otherwise computed now. `helper`, a second connection if one is free, speeds up the computing.
pub fn report(
    conn: &mut DbConnection,
    helper: Option<&mut DbConnection>,
    calendars: &CalendarCache,
    caller: Caller<'_>,
    request: &ReportRequest,
) -> Result<Report, AppError> {
    let ReportRequest { subtree, format, year, live, .. } = *request;
    if !YEARS.contains(&year) {
        return Err(AppError::validation("year", "must be a year between 2008 and 2100"));
    }
    let agency = &in_scope(conn, caller, &request.agency, Named::InField("agency"))?;
    let Some(lock) = locks::find(conn, &agency.id, year, subtree)? else {
        return produce(conn, helper, calendars, agency, subtree, format, year);
    };
    let corrections = locks::corrections(conn, &agency.id, year, subtree)?
        .into_iter()
        .map(|c| Correction {
            case_id: c.case_id,
            actor_id: c.actor_id,
            reason: c.reason,
            events: c.events,
            recorded_at: c.recorded_at.and_utc(),
        })
        .collect();
    let mut report = if live {
        produce(conn, helper, calendars, agency, subtree, format, year)?
    } else {
        let snapshot: serde_json::Value = serde_json::from_str(&lock.snapshot).map_err(AppError::internal)?;
        serde_json::from_value(snapshot[format.as_str()].clone()).map_err(AppError::internal)?
    };
    report.lock = Some(LockInfo {
        locked_at: lock.locked_at.and_utc(),
        locked_by: lock.locked_by,
        published_numbers: !live,
        corrections,
    });
    Ok(report)
}

/// Locks a year's report as published (statisticians and administrators; only a year that has
/// ended): every format's numbers are kept, and a later change that would alter them is refused
/// unless an administrator records it as a correction. The agency's code and the lock.
pub fn lock(
    conn: &mut DbConnection,
    helper: Option<&mut DbConnection>,
    calendars: &CalendarCache,
    user: &Principal,
    agency: &str,
    year: i32,
    subtree: bool,
) -> Result<(String, LockRow), AppError> {
    if !user.role.can_lock_reports() {
        return Err(AppError::Forbidden(format!("the {} role cannot lock reports", user.role)));
    }
    let this_year = chrono::Datelike::year(&crate::domain::china_date(chrono::Utc::now()));
    if !(2008..this_year).contains(&year) {
        return Err(AppError::validation(
            "year",
            format!("only a year that has ended can be locked (2008-{})", this_year - 1),
        ));
    }
    let agency = in_scope(conn, Caller::User(user), agency, Named::InField("agency"))?;
    let snapshot = snapshot(conn, helper, calendars, &agency, subtree, year)?;
    let lock = locks::lock(conn, &agency.id, year, subtree, &user.user_id, snapshot)?;
    Ok((agency.code, lock))
}

/// Every format of the year's report, as a lock keeps them.
fn snapshot(
    conn: &mut DbConnection,
    mut helper: Option<&mut DbConnection>,
    calendars: &CalendarCache,
    agency: &AgencyRow,
    subtree: bool,
    year: i32,
) -> Result<String, AppError> {
    let mut all = serde_json::Map::new();
    for &format in ReportFormat::ALL {
        let report = produce(conn, helper.as_deref_mut(), calendars, agency, subtree, format, year)?;
        all.insert(format.as_str().to_owned(), serde_json::to_value(report).map_err(AppError::internal)?);
    }
    serde_json::to_string(&all).map_err(AppError::internal)
}

pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// How a report is written out, for the API's `output` and the CLI's file extension alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Json,
    /// UTF-8 with a byte-order mark, one header row per column.
    Csv,
    /// The official layout.
    Xlsx,
}

impl Output {
    pub const ALL: [Output; 3] = [Output::Json, Output::Csv, Output::Xlsx];

    pub fn as_str(self) -> &'static str {
        match self {
            Output::Json => "json",
            Output::Csv => "csv",
            Output::Xlsx => "xlsx",
        }
    }

    pub fn parse(text: &str) -> Option<Output> {
        Output::ALL.into_iter().find(|o| o.as_str() == text)
    }

    /// `json, csv or xlsx`.
    pub fn choices() -> String {
        crate::domain::report::choices(Output::ALL.iter().map(|o| o.as_str()))
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Output::Json => "application/json",
            Output::Csv => "text/csv; charset=utf-8",
            Output::Xlsx => XLSX_MEDIA_TYPE,
        }
    }

    /// The report written out (JSON indented, for people reading files).
    pub fn render(self, report: &Report) -> Result<Vec<u8>, AppError> {
        match self {
            Output::Json => serde_json::to_vec_pretty(report).map_err(AppError::internal),
            Output::Csv => Ok(csv(report).into_bytes()),
            Output::Xlsx => xlsx(report),
        }
    }
}

/// An annual report for one agency (or its subtree) and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub agency: String,
    pub agency_name: String,
    /// Whether the agency's sub-agencies are counted (the seed's 全市 figures).
    pub subtree: bool,
    #[serde(flatten)]
    pub body: ReportBody,
    /// Present when (agency, year, subtree) is locked: the report was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockInfo>,
}

/// A published report's lock and the corrections recorded after publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LockInfo {
    pub locked_at: chrono::DateTime<chrono::Utc>,
    pub locked_by: String,
    /// True: these are the numbers as published; false: recomputed now (`live=true`).
    pub published_numbers: bool,
    pub corrections: Vec<Correction>,
}

/// A change to a published year's numbers that an administrator recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Correction {
    pub case_id: String,
    pub actor_id: Option<String>,
    pub reason: String,
    /// The events that changed the numbers, e.g. `workflow:serve`.
    pub events: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

impl Report {
    pub fn new(agency: &str, name: &str, subtree: bool, format: ReportFormat, year: i32, t: &Tallies) -> Report {
        Report { agency: agency.into(), agency_name: name.into(), subtree, body: build(format, year, t), lock: None }
    }

    /// The reporting office: the agency, and whether its sub-agencies are counted.
    fn office(&self) -> String {
        let scope = if self.subtree { "（含下级机关）" } else { "" };
        format!("{}{}", self.agency_name, scope)
    }

    /// The document's title as an office publishes it (no internal format codes).
    pub fn heading(&self) -> String {
        let document = match self.body.format {
            ReportFormat::Pre2019 => "政府信息公开情况统计表",
            ReportFormat::Y2019 | ReportFormat::Y2021 => "政府信息公开工作年度报告",
        };
        format!("{}{}年{}", self.office(), self.body.year, document)
    }
}

pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// UTF-8 with a byte-order mark (so spreadsheet programs read the Chinese labels), CRLF line ends:
/// the heading, then each table (its title, its header row, its rows), then the cross-checks.
pub fn csv(report: &Report) -> String {
    let mut out = String::from("\u{feff}");
    let mut line = |fields: Vec<String>| {
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    };
    line(vec![report.heading()]);
    for table in &report.body.tables {
        line(vec![]);
        line(vec![table.title.clone()]);
        let has_unit = table.rows.iter().any(|r| r.unit.is_some());
        let mut header = vec!["项目".to_owned()];
        header.extend(table.columns.iter().cloned());
        line(header);
        for row in &table.rows {
            let mut fields = vec![row.label.clone()];
            if has_unit {
                fields.push(row.unit.clone().unwrap_or_else(|| "—".into()));
            }
            fields.extend(row.values.iter().map(Cell::text));
            line(fields);
        }
    }
    line(vec![]);
    line(vec!["核对项目".into(), "结果".into(), "数据".into()]);
    for check in &report.body.checks {
        line(vec![check_label(check), if check.holds { "通过" } else { "不符" }.into(), check.detail.clone()]);
    }
    out
}

/// A cross-check's Chinese name (a report locked before checks had one shows its English name).
fn check_label(check: &crate::domain::report::Check) -> String {
    if check.label.is_empty() {
        check.name.clone()
    } else {
        check.label.clone()
    }
}

/// One sheet per table in the official layout (the form's title, its multi-level header as merged
/// cells, borders, A4 landscape fitted to one page wide), and a sheet of cross-checks.
pub fn xlsx(report: &Report) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let framed = Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter).set_text_wrap();
    let header = framed.clone().set_bold().set_align(FormatAlign::Center);
    let number = framed.clone().set_align(FormatAlign::Right);
    let centred = framed.clone().set_align(FormatAlign::Center);
    let title = Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let subtitle = Format::new().set_bold().set_align(FormatAlign::Left);
    // A4 landscape, one page wide, the header repeated on every printed page.
    let print_setup = |sheet: &mut Worksheet, header_end: u32| -> Result<(), AppError> {
        sheet.set_landscape();
        sheet.set_paper_size(9);
        sheet.set_print_fit_to_pages(1, 0);
        sheet.set_repeat_rows(0, header_end).map_err(fail)?;
        Ok(())
    };
    // A cell spanning several rows or columns is a merged range; a single one is written as it is.
    let span = |sheet: &mut Worksheet, (r0, c0, r1, c1): (u32, u16, u32, u16), text: &str, format: &Format| {
        if r0 == r1 && c0 == c1 {
            sheet.write_string_with_format(r0, c0, text, format).map(|_| ())
        } else {
            sheet.merge_range(r0, c0, r1, c1, text, format).map(|_| ())
        }
    };
    let mut workbook = Workbook::new();
    for (i, table) in report.body.tables.iter().enumerate() {
        let layout = crate::domain::report::layout(report.body.format, report.body.year, i, table);
        let sheet = workbook.add_worksheet();
        sheet.set_name(format!("表{}", i + 1)).map_err(fail)?;
        let has_unit = table.rows.iter().any(|r| r.unit.is_some());
        let offset = u16::from(layout.label_column);
        let width = layout.header.iter().map(|c| c.col + c.cols).max().unwrap_or(1) + offset;
        let last_col = width - 1;
        // The pre-2019 form is titled by itself and names the reporting office below; the national
        // report's tables sit under the report's title with their section headings.
        let (first, second) = match report.body.format {
            ReportFormat::Pre2019 => (layout.title.clone(), format!("填报单位：{}", report.office())),
            ReportFormat::Y2019 | ReportFormat::Y2021 => (report.heading(), layout.title.clone()),
        };
        span(sheet, (0, 0, 0, last_col), &first, &title).map_err(fail)?;
        span(sheet, (1, 0, 1, last_col), &second, &subtitle).map_err(fail)?;
        let top = 2u32;
        let header_end = top + u32::from(layout.header_rows) - 1;
        if layout.label_column {
            span(sheet, (top, 0, header_end, 0), layout.corner, &header).map_err(fail)?;
            sheet.set_column_width(0, 56).map_err(fail)?;
        }
        for c in &layout.header {
            let r0 = top + u32::from(c.row);
            let at = (r0, offset + c.col, r0 + u32::from(c.rows) - 1, offset + c.col + c.cols - 1);
            span(sheet, at, &c.text, &header).map_err(fail)?;
        }
        for col in offset..width {
            sheet.set_column_width(col, if layout.label_column { 12 } else { 9 }).map_err(fail)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let at = header_end + 1 + r as u32;
            let mut col = 0u16;
            if layout.label_column {
                sheet.write_string_with_format(at, 0, &row.label, &framed).map_err(fail)?;
                // Spreadsheet programs do not grow a row for wrapped text on their own.
                if row.label.chars().count() > 30 {
                    sheet.set_row_height(at, 30).map_err(fail)?;
                }
                col += 1;
            }
            if has_unit {
                sheet.write_string_with_format(at, col, row.unit.as_deref().unwrap_or("—"), &centred).map_err(fail)?;
                col += 1;
            }
            for value in &row.values {
                match value {
                    Cell::Count(n) => sheet.write_number_with_format(at, col, *n as f64, &number).map_err(fail)?,
                    Cell::Amount(a) => match a.parse::<f64>() {
                        Ok(x) => sheet.write_number_with_format(at, col, x, &number).map_err(fail)?,
                        Err(_) => sheet.write_string_with_format(at, col, a, &number).map_err(fail)?,
                    },
                    Cell::Blank(_) => sheet.write_string_with_format(at, col, "—", &centred).map_err(fail)?,
                };
                col += 1;
            }
        }
        print_setup(sheet, header_end)?;
    }
    let sheet = workbook.add_worksheet();
    sheet.set_name("核对").map_err(fail)?;
    for (c, heading) in ["核对项目", "结果", "数据"].iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *heading, &header).map_err(fail)?;
    }
    for (r, check) in report.body.checks.iter().enumerate() {
        let at = r as u32 + 1;
        sheet.write_string_with_format(at, 0, check_label(check), &framed).map_err(fail)?;
        sheet.write_string_with_format(at, 1, if check.holds { "通过" } else { "不符" }, &centred).map_err(fail)?;
        sheet.write_string_with_format(at, 2, &check.detail, &framed).map_err(fail)?;
    }
    sheet.set_column_width(0, 56).map_err(fail)?;
    sheet.set_column_width(1, 8).map_err(fail)?;
    sheet.set_column_width(2, 60).map_err(fail)?;
    print_setup(sheet, 0)?;
    workbook.save_to_buffer().map_err(fail)
}
