//! A report as the API answers it, and its CSV and XLSX renderings (laid out like the official tables:
//! the label column, then the unit or the applicant-type columns, so an office can paste the cells into
//! its published report). Shared by the HTTP handler and the CLI.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::report::{build, Cell, ReportBody, ReportFormat, Tallies};
use crate::error::AppError;

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
}

impl Report {
    pub fn new(agency: &str, name: &str, subtree: bool, format: ReportFormat, year: i32, t: &Tallies) -> Report {
        Report { agency: agency.into(), agency_name: name.into(), subtree, body: build(format, year, t) }
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
