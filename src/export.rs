//! A report as the API answers it, and its CSV and XLSX renderings (laid out like the official tables:
//! the label column, then the unit or the applicant-type columns, so an office can paste the cells into
//! its published report). Shared by the HTTP handler and the CLI.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::report::{build, Cell, ReportBody, ReportFormat, Tallies};
use crate::error::AppError;

/// Computes the report of `format` for `year` over `agency` (and, with `subtree`, every agency below
/// it). The caller has checked the agency is in the user's scope.
pub fn produce(
    conn: &mut crate::db::DbConnection,
    calendars: &crate::db::calendar::CalendarCache,
    agency: &crate::db::agencies::AgencyRow,
    subtree: bool,
    format: ReportFormat,
    year: i32,
) -> Result<Report, AppError> {
    let rules = calendars.rules(conn, Some(&agency.path))?;
    let scope = crate::db::reports::ReportScope { agency_path: agency.path.clone(), subtree };
    let tallies = crate::db::reports::tallies(conn, &scope, year, &rules.calendar)?;
    Ok(Report::new(&agency.code, &agency.name, subtree, format, year, &tallies))
}

/// The report as an office sees it: for a locked year the numbers as published (unless `live`), with
/// the lock and its post-publication corrections; otherwise computed now.
pub fn report(
    conn: &mut crate::db::DbConnection,
    calendars: &crate::db::calendar::CalendarCache,
    agency: &crate::db::agencies::AgencyRow,
    subtree: bool,
    format: ReportFormat,
    year: i32,
    live: bool,
) -> Result<Report, AppError> {
    use crate::db::locks;
    let Some(lock) = locks::find(conn, &agency.id, year, subtree)? else {
        return produce(conn, calendars, agency, subtree, format, year);
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
        produce(conn, calendars, agency, subtree, format, year)?
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

/// Every format of the year's report, as a lock keeps them.
pub fn snapshot(
    conn: &mut crate::db::DbConnection,
    calendars: &crate::db::calendar::CalendarCache,
    agency: &crate::db::agencies::AgencyRow,
    subtree: bool,
    year: i32,
) -> Result<String, AppError> {
    let mut all = serde_json::Map::new();
    for &format in ReportFormat::ALL {
        let report = produce(conn, calendars, agency, subtree, format, year)?;
        all.insert(format.as_str().to_owned(), serde_json::to_value(report).map_err(AppError::internal)?);
    }
    serde_json::to_string(&all).map_err(AppError::internal)
}

pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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

    fn heading(&self) -> String {
        let scope = if self.subtree { "（含下级机关）" } else { "" };
        format!(
            "{}{} {}年 政府信息公开工作年度报告统计表（{}）",
            self.agency_name, scope, self.body.year, self.body.format
        )
    }
}

fn csv_field(text: &str) -> String {
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
    line(vec!["核对".into(), "结果".into(), "数据".into()]);
    for check in &report.body.checks {
        line(vec![check.name.clone(), if check.holds { "通过" } else { "不符" }.into(), check.detail.clone()]);
    }
    out
}

/// One sheet per table (label column, then the official columns), and a sheet of cross-checks.
pub fn xlsx(report: &Report) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let bold = Format::new().set_bold();
    let mut workbook = Workbook::new();
    for (i, table) in report.body.tables.iter().enumerate() {
        let sheet = workbook.add_worksheet();
        sheet.set_name(format!("表{}", i + 1)).map_err(fail)?;
        sheet.write_string_with_format(0, 0, report.heading(), &bold).map_err(fail)?;
        sheet.write_string_with_format(1, 0, &table.title, &bold).map_err(fail)?;
        let has_unit = table.rows.iter().any(|r| r.unit.is_some());
        sheet.write_string_with_format(2, 0, "项目", &bold).map_err(fail)?;
        for (c, column) in table.columns.iter().enumerate() {
            sheet.write_string_with_format(2, c as u16 + 1, column, &bold).map_err(fail)?;
        }
        sheet.set_column_width(0, 48).map_err(fail)?;
        for (r, row) in table.rows.iter().enumerate() {
            let at = r as u32 + 3;
            sheet.write_string(at, 0, &row.label).map_err(fail)?;
            let mut col = 1u16;
            if has_unit {
                sheet.write_string(at, col, row.unit.as_deref().unwrap_or("—")).map_err(fail)?;
                col += 1;
            }
            for value in &row.values {
                match value {
                    Cell::Count(n) => sheet.write_number(at, col, *n as f64).map_err(fail)?,
                    Cell::Amount(a) => match a.parse::<f64>() {
                        Ok(x) => sheet.write_number(at, col, x).map_err(fail)?,
                        Err(_) => sheet.write_string(at, col, a).map_err(fail)?,
                    },
                    Cell::Blank(_) => sheet.write_string(at, col, "—").map_err(fail)?,
                };
                col += 1;
            }
        }
    }
    let sheet = workbook.add_worksheet();
    sheet.set_name("核对").map_err(fail)?;
    for (c, title) in ["核对", "结果", "数据"].iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *title, &bold).map_err(fail)?;
    }
    for (r, check) in report.body.checks.iter().enumerate() {
        let at = r as u32 + 1;
        sheet.write_string(at, 0, &check.name).map_err(fail)?;
        sheet.write_string(at, 1, if check.holds { "通过" } else { "不符" }).map_err(fail)?;
        sheet.write_string(at, 2, &check.detail).map_err(fail)?;
    }
    sheet.set_column_width(0, 60).map_err(fail)?;
    workbook.save_to_buffer().map_err(fail)
}
