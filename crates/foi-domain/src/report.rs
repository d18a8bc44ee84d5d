//! The annual-report tables, built from tallies the database aggregates (never from typed-in counts).
//!
//! Which cases a year's report counts (china-ogi-rules.md section 7.4; all dates statutory China dates):
//! - 新收 / 收到申请数: received (receipt date) in the year;
//! - 上年结转: received before the year and not closed before it;
//! - 办结 / 办理结果 / 申请答复数: closed in the year (the day the applicant was answered, the request
//!   withdrawn or deemed abandoned), each in exactly one outcome row of the format;
//! - 结转下年度: received by 31 December and not closed by then.
//!
//! So 新收 + 上年结转 = 办理结果总计 + 结转下年度 holds by construction, in every applicant column; the
//! report recomputes it from the published cells anyway, with the other cross-checks, and returns them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::intake::{ApplicantKind, Channel};
use super::outcome::{
    pre2019_reply, y2019_outcome, y2021_outcome, Outcome, OutcomeKind, Pre2019Reply, Y2019Outcome, Y2021Outcome,
};
use super::workflow::{AppealKind, AppealOutcome, CaseState};

string_enum! {
    /// An annual-report format.
    ReportFormat {
        /// The pre-2019 statistics table (sections 四 to 七, as in the Panjin 2015 report).
        Pre2019 => "pre2019",
        /// The 2019 trial national format (国办公开办函〔2019〕60号), tables 三 and 四.
        Y2019 => "y2019",
        /// The 2021 national format (国办公开办函〔2021〕30号), tables 三 and 四.
        Y2021 => "y2021",
    }
}

impl ReportFormat {
    /// The form the annual report of `year` is published in: the old statistics table up to 2018,
    /// the 2019 trial form for 2019 and 2020 (its single 其他处理 row), the 2021 form after.
    pub fn official_for(year: i32) -> ReportFormat {
        match year {
            ..=2018 => ReportFormat::Pre2019,
            2019 | 2020 => ReportFormat::Y2019,
            _ => ReportFormat::Y2021,
        }
    }

    /// The formats' names for a message: `pre2019, y2019 or y2021`.
    pub fn choices() -> String {
        choices(ReportFormat::ALL.iter().map(|f| f.as_str()))
    }
}

/// `a, b or c`.
pub fn choices<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

pub use super::events::Closing;

/// Cases closed in the year with the same applicant type, outcome and closing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedTally {
    pub applicant: ApplicantKind,
    pub outcome: Outcome,
    pub closing: Closing,
    pub cases: i64,
}

/// The year's fees: paid in the year (money collected) and waived in the year, in fen, with the
/// number of requests each concerns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeeTally {
    pub collected_fen: i64,
    pub requests_charged: i64,
    pub waived_fen: i64,
    pub requests_waived: i64,
}

/// Appeals filed in the year of one kind, with their outcome as of 31 December.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealTally {
    pub kind: AppealKind,
    pub outcome: AppealOutcome,
    pub count: i64,
}

/// An open case at the end of the year (for the oldest-open list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenCase {
    pub tracking_number: String,
    pub agency: String,
    pub received_on: NaiveDate,
    pub state: CaseState,
    pub final_due_on: Option<NaiveDate>,
}

/// Everything a report needs, aggregated by the database for one agency (or subtree) and year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tallies {
    pub received: BTreeMap<(Channel, ApplicantKind), i64>,
    pub carried_in: BTreeMap<ApplicantKind, i64>,
    pub carried_forward: BTreeMap<ApplicantKind, i64>,
    pub closed: Vec<ClosedTally>,
    pub appeals: Vec<AppealTally>,
    /// Received in the year by topic code (None: no topic), with the topic's label.
    pub topics: Vec<(Option<String>, Option<String>, i64)>,
    /// Replies in the year by working days from receipt to reply: (working days, cases).
    pub reply_days: Vec<(i64, i64)>,
    pub oldest_open: Vec<OpenCase>,
    pub fees: FeeTally,
    /// New replies ordered on appeal and served in the year (重新答复).
    pub re_replies_issued: i64,
}

/// How a closed case closed, as the reports count it: outcome, reason, the already-public flag and the
/// timeliness (`closed_as`).
pub type ClosingFacts = (Option<OutcomeKind>, Option<String>, bool, Option<Closing>);

/// What of one case the reports count: the facts a lock compares before and after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub received_on: NaiveDate,
    pub channel: Channel,
    pub applicant_kind: ApplicantKind,
    pub topic: Option<String>,
    pub closed_on: Option<NaiveDate>,
    pub closing: Option<ClosingFacts>,
    /// Each appeal: kind, filing date, outcome, decision date.
    pub appeals: Vec<(AppealKind, NaiveDate, AppealOutcome, Option<NaiveDate>)>,
    /// The fee paid (day, fen) and the fee waived (day decided, fen).
    pub fee_paid: Option<(NaiveDate, i64)>,
    pub fee_waived: Option<(NaiveDate, i64)>,
    /// The day the latest new reply ordered on appeal was served.
    pub re_replied_on: Option<NaiveDate>,
}

/// The part of a case the report of one year counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearFacts {
    received: Option<(Channel, ApplicantKind, Option<String>)>,
    carried_in: Option<ApplicantKind>,
    /// Applicant type, receipt and closing dates, how it closed.
    closed: Option<(ApplicantKind, NaiveDate, NaiveDate, ClosingFacts)>,
    carried_forward: Option<ApplicantKind>,
    appeals: Vec<(AppealKind, AppealOutcome)>,
    fee_paid: Option<i64>,
    fee_waived: Option<i64>,
    re_replied: bool,
}

/// What the report of `year` counts of a case (None: the case does not exist). A change alters that
/// year's numbers exactly when this differs before and after it.
pub fn counted_in(facts: Option<&CaseFacts>, year: i32) -> Option<YearFacts> {
    use chrono::Datelike;
    let f = facts?;
    let start = NaiveDate::from_ymd_opt(year, 1, 1)?;
    let end = NaiveDate::from_ymd_opt(year, 12, 31)?;
    let open_at = |day: NaiveDate| f.received_on <= day && f.closed_on.is_none_or(|c| c > day);
    Some(YearFacts {
        received: (f.received_on.year() == year).then(|| (f.channel, f.applicant_kind, f.topic.clone())),
        carried_in: (f.received_on < start && f.closed_on.is_none_or(|c| c >= start)).then_some(f.applicant_kind),
        closed: match (f.closed_on, &f.closing) {
            (Some(on), Some(closing)) if on.year() == year => {
                Some((f.applicant_kind, f.received_on, on, closing.clone()))
            }
            _ => None,
        },
        carried_forward: open_at(end).then_some(f.applicant_kind),
        appeals: f
            .appeals
            .iter()
            .filter(|(_, filed_on, _, _)| filed_on.year() == year)
            .map(|&(kind, _, outcome, decided_on)| {
                let as_of_end = if decided_on.is_some_and(|d| d <= end) { outcome } else { AppealOutcome::Pending };
                (kind, as_of_end)
            })
            .collect(),
        fee_paid: f.fee_paid.filter(|(on, _)| on.year() == year).map(|(_, fen)| fen),
        fee_waived: f.fee_waived.filter(|(on, _)| on.year() == year).map(|(_, fen)| fen),
        re_replied: f.re_replied_on.is_some_and(|on| on.year() == year),
    })
    .filter(|y| {
        y.received.is_some()
            || y.carried_in.is_some()
            || y.closed.is_some()
            || y.carried_forward.is_some()
            || !y.appeals.is_empty()
            || y.fee_paid.is_some()
            || y.fee_waived.is_some()
            || y.re_replied
    })
}

/// One cell of a table: a count, an amount (万元, exact decimal text) or nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Cell {
    Count(i64),
    Amount(String),
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    Blank(Option<()>),
}

impl Cell {
    const BLANK: Cell = Cell::Blank(None);

    pub fn text(&self) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            Cell::Amount(a) => a.clone(),
            Cell::Blank(_) => "—".into(),
        }
    }
}

/// One row: a stable code, the official label, the unit (pre-2019 table) and the cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Row {
    pub code: String,
    pub label: String,
    pub unit: Option<String>,
    pub values: Vec<Cell>,
}

/// One table of a report, with its column headers (after the label column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

/// A cross-check, always returned (never hidden), with the numbers it compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    /// A stable English name, for machines.
    pub name: String,
    /// Its name in Chinese, as the exported tables show it.
    #[serde(default)]
    pub label: String,
    pub holds: bool,
    pub detail: String,
}

/// Working days from receipt to reply over the year's replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyTimes {
    pub replies: i64,
    pub median_working_days: Option<i64>,
    pub p90_working_days: Option<i64>,
}

/// A topic count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopicCount {
    pub topic: Option<String>,
    pub label: Option<String>,
    pub count: i64,
}

/// The year's fees: money collected (paid in the year, whatever year the case closed) and fees
/// waived (decided in the year). A fee assessed or notified but never paid counts nowhere. The
/// 2019/2021 reports state these under 六、其他需要报告的事项 (信息处理费); the pre-2019 table's
/// 依申请公开信息收取的费用 is `collected`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeFigures {
    pub collected_fen: i64,
    /// Requests whose fee was paid in the year.
    pub requests_charged: i64,
    pub waived_fen: i64,
    /// Requests whose fee was waived (in part or whole) in the year.
    pub requests_waived: i64,
}

impl FeeFigures {
    fn of(t: FeeTally) -> FeeFigures {
        FeeFigures {
            collected_fen: t.collected_fen,
            requests_charged: t.requests_charged,
            waived_fen: t.waived_fen,
            requests_waived: t.requests_waived,
        }
    }
}

/// Beyond the statute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Extras {
    /// Requests received in the year by channel.
    pub by_channel: BTreeMap<String, i64>,
    /// Requests received in the year by topic.
    pub by_topic: Vec<TopicCount>,
    pub reply_times: ReplyTimes,
    /// How the year's closed cases closed: on_time, extended, late_reply, deemed_abandoned, withdrawn.
    pub closings: BTreeMap<String, i64>,
    /// The ten oldest cases still open on 31 December.
    pub oldest_open: Vec<OpenCase>,
    /// Fees collected and waived in the year.
    #[serde(default)]
    pub fees: FeeFigures,
    /// New replies (重新答复) served in the year after a reconsideration or court decision corrected a
    /// reply. The corrected case stays counted once, in the year of its first reply.
    #[serde(default)]
    pub re_replies_issued: i64,
}

/// A computed report (the API adds who asked and any lock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportBody {
    pub format: ReportFormat,
    pub year: i32,
    pub tables: Vec<Table>,
    pub checks: Vec<Check>,
    pub extras: Extras,
}

/// One cell of a table's header as the official form draws it, over the value columns: where it
/// starts (`row`, `col`, from 0) and how many rows and columns it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderCell {
    pub row: u16,
    pub col: u16,
    pub rows: u16,
    pub cols: u16,
    pub text: String,
}

/// How the official form lays out a table, for renderers that reproduce it (the XLSX): the section
/// title, the text of the top-left corner cell over the row labels, whether the rows carry labels,
/// and the header cells over the value columns (a machine-readable export keeps `Table::columns`,
/// one header per column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub title: String,
    pub corner: &'static str,
    pub label_column: bool,
    pub header_rows: u16,
    pub header: Vec<HeaderCell>,
}

fn cell(row: u16, col: u16, rows: u16, cols: u16, text: &str) -> HeaderCell {
    HeaderCell { row, col, rows, cols, text: text.to_owned() }
}

/// The official layout of table `index` of a report of `format` for `year`.
pub fn layout(format: ReportFormat, year: i32, index: usize, table: &Table) -> Layout {
    let plain = |corner: &'static str| Layout {
        title: table.title.clone(),
        corner,
        label_column: true,
        header_rows: 1,
        header: table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| HeaderCell { row: 0, col: i as u16, rows: 1, cols: 1, text: c.clone() })
            .collect(),
    };
    match (format, index) {
        (ReportFormat::Pre2019, 0) => Layout {
            title: format!("{year}年政府信息公开情况统计表"),
            corner: "统计指标",
            label_column: true,
            header_rows: 1,
            header: vec![cell(0, 0, 1, 1, "单位"), cell(0, 1, 1, 1, "统计数")],
        },
        (ReportFormat::Y2019 | ReportFormat::Y2021, 0) => Layout {
            title: "三、收到和处理政府信息公开申请情况".into(),
            corner: "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
            label_column: true,
            header_rows: 3,
            header: vec![
                cell(0, 0, 1, 7, "申请人情况"),
                cell(1, 0, 2, 1, "自然人"),
                cell(1, 1, 1, 5, "法人或其他组织"),
                cell(1, 6, 2, 1, "总计"),
                cell(2, 1, 1, 1, "商业企业"),
                cell(2, 2, 1, 1, "科研机构"),
                cell(2, 3, 1, 1, "社会公益组织"),
                cell(2, 4, 1, 1, "法律服务机构"),
                cell(2, 5, 1, 1, "其他"),
            ],
        },
        (ReportFormat::Y2019 | ReportFormat::Y2021, 1) => {
            const RESULTS: [&str; 5] = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"];
            let mut header = vec![
                cell(0, 0, 1, 5, "行政复议"),
                cell(0, 5, 1, 10, "行政诉讼"),
                cell(1, 5, 1, 5, "未经复议直接起诉"),
                cell(1, 10, 1, 5, "复议后起诉"),
            ];
            for (i, text) in RESULTS.into_iter().enumerate() {
                let i = i as u16;
                header.push(cell(1, i, 2, 1, text));
                header.push(cell(2, 5 + i, 1, 1, text));
                header.push(cell(2, 10 + i, 1, 1, text));
            }
            Layout {
                title: "四、政府信息公开行政复议、行政诉讼情况".into(),
                corner: "",
                label_column: false,
                header_rows: 3,
                header,
            }
        }
        _ => plain("项目"),
    }
}

/// Fen as 万元 (1 万元 = 1,000,000 fen), exact, without trailing zeros.
pub fn wan_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let (whole, frac) = (fen / 1_000_000, fen % 1_000_000);
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let frac = format!("{frac:06}");
    format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
}

/// The value at quantile `q` (nearest rank) of a distribution given as (value, count), sorted or not.
pub fn quantile(distribution: &[(i64, i64)], q: f64) -> Option<i64> {
    let mut sorted: Vec<(i64, i64)> = distribution.iter().copied().filter(|(_, n)| *n > 0).collect();
    sorted.sort();
    let total: i64 = sorted.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as i64).clamp(1, total);
    let mut seen = 0;
    for (value, n) in sorted {
        seen += n;
        if seen >= rank {
            return Some(value);
        }
    }
    None
}

fn row(code: &str, label: &str, unit: Option<&str>, values: Vec<Cell>) -> Row {
    Row { code: code.into(), label: label.into(), unit: unit.map(str::to_owned), values }
}

fn count_row(code: &str, label: &str, n: i64) -> Row {
    row(code, label, Some("件"), vec![Cell::Count(n)])
}

fn check(name: &str, label: &str, left: (&str, i64), right: (&str, i64)) -> Check {
    Check {
        name: name.into(),
        label: label.into(),
        holds: left.1 == right.1,
        detail: format!("{} = {}; {} = {}", left.0, left.1, right.0, right.1),
    }
}

impl Tallies {
    fn received_total(&self) -> i64 {
        self.received.values().sum()
    }

    fn received_by_channel(&self, channel: Channel) -> i64 {
        self.received.iter().filter(|((c, _), _)| *c == channel).map(|(_, n)| n).sum()
    }

    fn closed_total(&self) -> i64 {
        self.closed.iter().map(|c| c.cases).sum()
    }

    fn closed_where(&self, keep: impl Fn(&ClosedTally) -> bool) -> i64 {
        self.closed.iter().filter(|c| keep(c)).map(|c| c.cases).sum()
    }

    fn appeals_where(&self, keep: impl Fn(&AppealTally) -> bool) -> i64 {
        self.appeals.iter().filter(|a| keep(a)).map(|a| a.count).sum()
    }

    fn extras(&self) -> Extras {
        let mut by_channel = BTreeMap::new();
        for &channel in Channel::ALL {
            by_channel.insert(channel.as_str().to_owned(), self.received_by_channel(channel));
        }
        let mut closings = BTreeMap::new();
        for closing in
            [Closing::OnTime, Closing::Extended, Closing::LateReply, Closing::DeemedAbandoned, Closing::Withdrawn]
        {
            closings.insert(closing.as_str().to_owned(), self.closed_where(|c| c.closing == closing));
        }
        Extras {
            by_channel,
            by_topic: self
                .topics
                .iter()
                .map(|(topic, label, count)| TopicCount { topic: topic.clone(), label: label.clone(), count: *count })
                .collect(),
            reply_times: ReplyTimes {
                replies: self.reply_days.iter().map(|(_, n)| n).sum(),
                median_working_days: quantile(&self.reply_days, 0.5),
                p90_working_days: quantile(&self.reply_days, 0.9),
            },
            closings,
            oldest_open: self.oldest_open.clone(),
            fees: FeeFigures::of(self.fees),
            re_replies_issued: self.re_replies_issued,
        }
    }
}

/// Builds the report of `format` for `year` from its tallies.
pub fn build(format: ReportFormat, year: i32, t: &Tallies) -> ReportBody {
    let (tables, mut checks) = match format {
        ReportFormat::Pre2019 => pre2019(t),
        ReportFormat::Y2019 => national(t, false),
        ReportFormat::Y2021 => national(t, true),
    };
    let open_at_end: i64 = t.carried_forward.values().sum();
    let carried_in: i64 = t.carried_in.values().sum();
    checks.push(check(
        "received = closed + still open (新收 + 上年结转 = 办结 + 结转下年度)",
        "收到申请 = 办结 + 结转下年度（新收 + 上年结转 = 办结 + 结转下年度）",
        ("本年新收 + 上年结转", t.received_total() + carried_in),
        ("本年办结 + 12月31日仍在办理", t.closed_total() + open_at_end),
    ));
    ReportBody { format, year, tables, checks, extras: t.extras() }
}

fn pre2019(t: &Tallies) -> (Vec<Table>, Vec<Check>) {
    use Pre2019Reply as R;
    let reply = |r: Pre2019Reply| t.closed_where(|c| pre2019_reply(&c.outcome) == r);
    let refused = [
        R::RefusedStateSecret,
        R::RefusedTradeSecret,
        R::RefusedPrivacy,
        R::RefusedSecurity,
        R::RefusedNotGovernmentInformation,
        R::RefusedOther,
    ];
    let refused_total: i64 = refused.iter().map(|&r| reply(r)).sum();
    let on_time =
        t.closed_where(|c| matches!(c.closing, Closing::OnTime | Closing::DeemedAbandoned | Closing::Withdrawn));
    let extended = t.closed_where(|c| c.closing == Closing::Extended);
    let late = t.closed_where(|c| c.closing == Closing::LateReply);
    let mut rows = vec![
        row("requests", "四、依申请公开等工作情况", None, vec![Cell::BLANK]),
        count_row("received", "(一)收到申请数", t.received_total()),
        count_row("received_in_person", "1.当面申请数", t.received_by_channel(Channel::InPerson)),
        count_row("received_fax", "2.传真申请数", t.received_by_channel(Channel::Fax)),
        // 网络 covers the online platform and email (data messages, 2008 Art. 20).
        count_row(
            "received_online",
            "3.网络申请数",
            t.received_by_channel(Channel::Web) + t.received_by_channel(Channel::Email),
        ),
        count_row("received_letter", "4.信函申请数", t.received_by_channel(Channel::Letter)),
        count_row("closed", "(二)申请办结数", t.closed_total()),
        count_row("closed_on_time", "1.按时办结数", on_time),
        count_row("closed_extended", "2.延期办结数", extended),
        count_row("replies", "(三)申请答复数", t.closed_total()),
        count_row("already_public", "1.属于已主动公开范围数", t.closed_where(|c| c.outcome.already_public())),
        count_row(R::Granted.def().code, R::Granted.def().label, reply(R::Granted)),
        count_row(R::PartlyGranted.def().code, R::PartlyGranted.def().label, reply(R::PartlyGranted)),
        count_row("refused", "4.不同意公开答复数", refused_total),
    ];
    rows.extend(refused.iter().map(|&r| count_row(r.def().code, r.def().label, reply(r))));
    for r in [R::NotThisAgency, R::DoesNotExist, R::ToldToAmend, R::OtherRoute] {
        rows.push(count_row(r.def().code, r.def().label, reply(r)));
    }
    rows.push(row(
        "fees",
        "(四)依申请公开信息收取的费用",
        Some("万元"),
        vec![Cell::Amount(wan_yuan(t.fees.collected_fen))],
    ));
    let appeal_rows = |code: &str, title: &str, upheld: &str, kinds: &[AppealKind]| {
        let of = |outcome: Option<AppealOutcome>| {
            t.appeals_where(|a| kinds.contains(&a.kind) && outcome.is_none_or(|o| a.outcome == o))
        };
        vec![
            count_row(code, title, of(None)),
            count_row(&format!("{code}_upheld"), upheld, of(Some(AppealOutcome::Upheld))),
            count_row(&format!("{code}_corrected"), "2.被依法纠错数", of(Some(AppealOutcome::Corrected))),
            count_row(&format!("{code}_other"), "3.其他情形数", of(Some(AppealOutcome::Other))),
        ]
    };
    rows.extend(appeal_rows(
        "reconsideration",
        "五、行政复议数量",
        "1.维持具体行政行为数",
        &[AppealKind::Reconsideration],
    ));
    rows.extend(appeal_rows(
        "litigation",
        "六、行政诉讼数量",
        "1.维持具体行政行为或驳回诉讼请求数",
        &[AppealKind::LitigationDirect, AppealKind::LitigationAfterReconsideration],
    ));
    rows.push(count_row("complaints", "七、举报投诉数量", t.appeals_where(|a| a.kind == AppealKind::Complaint)));
    let reply_sum: i64 = [R::Granted, R::PartlyGranted].iter().map(|&r| reply(r)).sum::<i64>()
        + refused_total
        + [R::NotThisAgency, R::DoesNotExist, R::ToldToAmend, R::OtherRoute].iter().map(|&r| reply(r)).sum::<i64>();
    let checks = vec![
        check(
            "replies sum to closed cases (申请答复数 rows 2-8)",
            "申请答复数各项之和等于申请办结数",
            ("申请答复数各项", reply_sum),
            ("申请办结数", t.closed_total()),
        ),
        check(
            "closed = on time + extended + late (申请办结数)",
            "申请办结数 = 按时办结数 + 延期办结数 + 逾期答复数",
            ("按时办结 + 延期办结 + 逾期答复", on_time + extended + late),
            ("申请办结数", t.closed_total()),
        ),
        check(
            "no late replies (a late reply is neither 按时 nor 延期)",
            "无逾期答复（逾期答复既非按时办结也非延期办结）",
            ("逾期答复", late),
            ("应为", 0),
        ),
    ];
    let table =
        Table { title: "依申请公开情况统计表".into(), columns: vec!["单位".into(), "数量".into()], rows };
    (vec![table], checks)
}

/// The 2021 columns: 自然人, 商业企业, 科研机构, 社会公益组织, 法律服务机构, 其他, 总计.
const APPLICANT_COLUMNS: [ApplicantKind; 6] = [
    ApplicantKind::NaturalPerson,
    ApplicantKind::Business,
    ApplicantKind::ResearchInstitution,
    ApplicantKind::PublicInterestOrg,
    ApplicantKind::LegalServices,
    ApplicantKind::OtherOrg,
];

fn per_applicant(count: impl Fn(ApplicantKind) -> i64) -> Vec<i64> {
    let mut values: Vec<i64> = APPLICANT_COLUMNS.iter().map(|&k| count(k)).collect();
    values.push(values.iter().sum());
    values
}

fn counts(values: &[i64]) -> Vec<Cell> {
    values.iter().map(|&n| Cell::Count(n)).collect()
}

fn national(t: &Tallies, current: bool) -> (Vec<Table>, Vec<Check>) {
    let map = |k: &BTreeMap<ApplicantKind, i64>| per_applicant(|a| k.get(&a).copied().unwrap_or(0));
    let received = per_applicant(|a| t.received.iter().filter(|((_, k), _)| *k == a).map(|(_, n)| n).sum());
    let carried_in = map(&t.carried_in);
    let carried_forward = map(&t.carried_forward);
    let closed = per_applicant(|a| t.closed_where(|c| c.applicant == a));
    let blank = || vec![Cell::BLANK; 7];
    let mut rows = vec![
        row("received", "一、本年新收政府信息公开申请数量", None, counts(&received)),
        row("carried_in", "二、上年结转政府信息公开申请数量", None, counts(&carried_in)),
        row("results", "三、本年度办理结果", None, blank()),
    ];
    // Group headings, then the rows of each group, in the official order.
    let groups: [(&str, &str, usize); 6] = [
        ("", "", 0),
        ("", "", 1),
        ("withheld", "（三）不予公开", 8),
        ("unable", "（四）无法提供", 3),
        ("not_processed", "（五）不予处理", 5),
        ("other", "（六）其他处理", 3),
    ];
    let outcome_rows: Vec<(&'static str, &'static str, Vec<i64>)> = if current {
        Y2021Outcome::ALL
            .iter()
            .map(|&r| {
                (
                    r.def().code,
                    r.def().label,
                    per_applicant(|a| t.closed_where(|c| c.applicant == a && y2021_outcome(&c.outcome) == r)),
                )
            })
            .collect()
    } else {
        Y2019Outcome::ALL
            .iter()
            .map(|&r| {
                (
                    r.def().code,
                    r.def().label,
                    per_applicant(|a| t.closed_where(|c| c.applicant == a && y2019_outcome(&c.outcome) == r)),
                )
            })
            .collect()
    };
    let outcome_sum: i64 = outcome_rows.iter().map(|(_, _, v)| v[6]).sum();
    let mut next = outcome_rows.into_iter();
    for (code, heading, size) in groups {
        // In the 2019 trial format （六）其他处理 is a single row of its own.
        if code.is_empty() || (!current && code == "other") {
            let (c, l, v) = next.next().expect("the formats have these rows");
            rows.push(row(c, l, None, counts(&v)));
            continue;
        }
        rows.push(row(code, heading, None, blank()));
        for _ in 0..size {
            let (c, l, v) = next.next().expect("the formats have these rows");
            rows.push(row(c, l, None, counts(&v)));
        }
    }
    assert!(next.next().is_none(), "every outcome row is placed");
    rows.push(row("total", "（七）总计", None, counts(&closed)));
    rows.push(row("carried_forward", "四、结转下年度继续办理", None, counts(&carried_forward)));
    let columns: Vec<String> =
        ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"].map(String::from).to_vec();
    let applications = Table {
        title: "三、收到和处理政府信息公开申请情况（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
            .into(),
        columns,
        rows,
    };
    let mut checks: Vec<Check> = APPLICANT_COLUMNS
        .iter()
        .map(|k| k.as_str())
        .chain(["total"])
        .enumerate()
        .zip(["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"])
        .map(|((i, column), label)| {
            check(
                &format!("新收 + 上年结转 = 办理结果总计 + 结转下年度 ({column})"),
                &format!("勾稽关系（{label}）：第一项加第二项之和等于第三项加第四项之和"),
                ("新收 + 上年结转", received[i] + carried_in[i]),
                ("总计 + 结转下年度", closed[i] + carried_forward[i]),
            )
        })
        .collect();
    checks.push(check(
        "outcome rows sum to closed cases (（七）总计)",
        "办理结果各项之和等于（七）总计",
        ("办理结果各项", outcome_sum),
        ("（七）总计", closed[6]),
    ));
    // Table 四: reconsideration, direct litigation, litigation after reconsideration; five columns each.
    let five = |kind: AppealKind| {
        let of = |o: AppealOutcome| t.appeals_where(|a| a.kind == kind && a.outcome == o);
        let cells = [
            of(AppealOutcome::Upheld),
            of(AppealOutcome::Corrected),
            of(AppealOutcome::Other),
            of(AppealOutcome::Pending),
        ];
        let mut v = cells.to_vec();
        v.push(cells.iter().sum());
        v
    };
    let mut appeal_values = five(AppealKind::Reconsideration);
    appeal_values.extend(five(AppealKind::LitigationDirect));
    appeal_values.extend(five(AppealKind::LitigationAfterReconsideration));
    let mut appeal_columns = Vec::new();
    for group in ["行政复议", "行政诉讼·未经复议直接起诉", "行政诉讼·复议后起诉"] {
        for col in ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] {
            appeal_columns.push(format!("{group}·{col}"));
        }
    }
    let appeals = Table {
        title: "四、政府信息公开行政复议、行政诉讼情况".into(),
        columns: appeal_columns,
        rows: vec![row("appeals", "件数", None, counts(&appeal_values))],
    };
    // Section 六 states the information-processing fee (国办函〔2020〕109号) in figures of its own.
    let fees = Table {
        title: "六、其他需要报告的事项：信息处理费".into(),
        columns: vec!["单位".into(), "数量".into()],
        rows: vec![
            row(
                "fees_collected",
                "收取信息处理费金额",
                Some("万元"),
                vec![Cell::Amount(wan_yuan(t.fees.collected_fen))],
            ),
            row(
                "fees_requests_charged",
                "收取信息处理费的申请",
                Some("件"),
                vec![Cell::Count(t.fees.requests_charged)],
            ),
            row("fees_waived", "减免信息处理费金额", Some("万元"), vec![Cell::Amount(wan_yuan(t.fees.waived_fen))]),
            row("fees_requests_waived", "减免信息处理费的申请", Some("件"), vec![Cell::Count(t.fees.requests_waived)]),
        ],
    };
    (vec![applications, appeals, fees], checks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{OtherReason, UnableReason, WithholdReason};

    fn closed(applicant: ApplicantKind, outcome: Outcome, closing: Closing, cases: i64) -> ClosedTally {
        ClosedTally { applicant, outcome, closing, cases }
    }

    fn sample() -> Tallies {
        let mut t = Tallies::default();
        t.received.insert((Channel::Letter, ApplicantKind::NaturalPerson), 5);
        t.received.insert((Channel::Email, ApplicantKind::Business), 2);
        t.carried_in.insert(ApplicantKind::NaturalPerson, 1);
        t.carried_forward.insert(ApplicantKind::Business, 1);
        t.closed = vec![
            closed(ApplicantKind::NaturalPerson, Outcome::Disclosed { already_public: true }, Closing::OnTime, 4),
            closed(
                ApplicantKind::NaturalPerson,
                Outcome::Withheld { reason: WithholdReason::TradeSecret },
                Closing::Extended,
                1,
            ),
            closed(
                ApplicantKind::NaturalPerson,
                Outcome::Other { reason: OtherReason::Withdrawn },
                Closing::Withdrawn,
                1,
            ),
            closed(
                ApplicantKind::Business,
                Outcome::Unable { reason: UnableReason::AnotherAgency },
                Closing::OnTime,
                1,
            ),
        ];
        t.fees = FeeTally { collected_fen: 12_340, requests_charged: 1, waived_fen: 5_000, requests_waived: 1 };
        t.appeals = vec![
            AppealTally { kind: AppealKind::Reconsideration, outcome: AppealOutcome::Upheld, count: 2 },
            AppealTally { kind: AppealKind::LitigationAfterReconsideration, outcome: AppealOutcome::Pending, count: 1 },
            AppealTally { kind: AppealKind::Complaint, outcome: AppealOutcome::Pending, count: 1 },
        ];
        t.reply_days = vec![(3, 2), (10, 2), (20, 1)];
        t
    }

    fn value(table: &Table, code: &str) -> Vec<Cell> {
        table.rows.iter().find(|r| r.code == code).unwrap_or_else(|| panic!("no row {code}")).values.clone()
    }

    fn facts(received: (i32, u32, u32), closed: Option<(i32, u32, u32)>) -> CaseFacts {
        let d = |(y, m, day): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        CaseFacts {
            received_on: d(received),
            channel: Channel::Letter,
            applicant_kind: ApplicantKind::NaturalPerson,
            topic: None,
            closed_on: closed.map(d),
            closing: closed.map(|_| (Some(OutcomeKind::Disclosed), None, false, Some(Closing::OnTime))),
            appeals: vec![],
            fee_paid: None,
            fee_waived: None,
            re_replied_on: None,
        }
    }

    #[test]
    fn a_fee_counts_in_the_year_it_was_paid_not_the_year_the_case_closed() {
        let mut f = facts((2020, 12, 1), Some((2021, 1, 10)));
        let before = counted_in(Some(&f), 2020);
        f.fee_paid = Some((NaiveDate::from_ymd_opt(2020, 12, 20).unwrap(), 10_000));
        assert_ne!(counted_in(Some(&f), 2020), before, "the payment changes 2020's numbers");
        let closed_year = counted_in(Some(&f), 2021);
        f.fee_paid = Some((NaiveDate::from_ymd_opt(2020, 12, 21).unwrap(), 10_000));
        assert_eq!(counted_in(Some(&f), 2021), closed_year, "2021 does not count it");
        // A paid fee alone makes the year count the case.
        let mut paid_late = facts((2019, 3, 1), Some((2019, 4, 1)));
        paid_late.fee_paid = Some((NaiveDate::from_ymd_opt(2020, 1, 5).unwrap(), 500));
        assert!(counted_in(Some(&paid_late), 2020).is_some());
    }

    #[test]
    fn choices_read_as_a_list() {
        assert_eq!(ReportFormat::choices(), "pre2019, y2019 or y2021");
        assert_eq!(choices(["json"]), "json");
        assert_eq!(choices([]), "");
    }

    #[test]
    fn each_year_is_published_in_the_form_of_its_time() {
        let format = ReportFormat::official_for;
        assert_eq!([format(2008), format(2018)], [ReportFormat::Pre2019; 2]);
        assert_eq!([format(2019), format(2020)], [ReportFormat::Y2019; 2]);
        assert_eq!([format(2021), format(2026)], [ReportFormat::Y2021; 2]);
    }

    #[test]
    fn official_layouts_cover_every_value_column_exactly_once() {
        for &format in ReportFormat::ALL {
            let r = build(format, 2021, &sample());
            for (i, table) in r.tables.iter().enumerate() {
                let l = layout(format, 2021, i, table);
                let has_unit = table.rows.iter().any(|r| r.unit.is_some());
                let width = table.rows[0].values.len() as u16 + u16::from(has_unit);
                let mut covered = vec![vec![false; width as usize]; l.header_rows as usize];
                for c in &l.header {
                    for row in c.row..c.row + c.rows {
                        for col in c.col..c.col + c.cols {
                            let slot = &mut covered[row as usize][col as usize];
                            assert!(!*slot, "{format} table {i}: ({row}, {col}) covered twice");
                            *slot = true;
                        }
                    }
                }
                assert!(covered.iter().flatten().all(|&c| c), "{format} table {i}: a header cell is missing");
                assert!(!l.title.contains(format.as_str()), "no internal format code in the title");
            }
        }
        let national = build(ReportFormat::Y2021, 2021, &sample());
        let l = layout(ReportFormat::Y2021, 2021, 0, &national.tables[0]);
        assert_eq!(l.title, "三、收到和处理政府信息公开申请情况");
        assert!(l.corner.contains("勾稽关系"));
        assert!(national.checks.iter().all(|c| !c.label.is_empty() && !c.label.is_ascii()));
    }

    #[test]
    fn fees_collected_and_waived_are_reported_in_every_format() {
        let t = sample();
        let pre = build(ReportFormat::Pre2019, 2015, &t);
        assert_eq!(value(&pre.tables[0], "fees"), vec![Cell::Amount("0.01234".into())]);
        for format in [ReportFormat::Y2019, ReportFormat::Y2021] {
            let r = build(format, 2021, &t);
            let fees = r.tables.iter().find(|t| t.title.contains("信息处理费")).expect("fee table");
            assert_eq!(value(fees, "fees_collected"), vec![Cell::Amount("0.01234".into())]);
            assert_eq!(value(fees, "fees_requests_charged"), vec![Cell::Count(1)]);
            assert_eq!(value(fees, "fees_waived"), vec![Cell::Amount("0.005".into())]);
            assert_eq!(value(fees, "fees_requests_waived"), vec![Cell::Count(1)]);
        }
        assert_eq!(
            pre.extras.fees,
            FeeFigures { collected_fen: 12_340, requests_charged: 1, waived_fen: 5_000, requests_waived: 1 }
        );
    }

    #[test]
    fn a_case_counts_in_the_years_from_its_receipt_to_its_closing() {
        let f = facts((2015, 11, 2), Some((2017, 1, 5)));
        assert!(counted_in(Some(&f), 2014).is_none());
        for year in [2015, 2016, 2017] {
            assert!(counted_in(Some(&f), year).is_some(), "{year}");
        }
        assert!(counted_in(Some(&f), 2018).is_none());
        assert!(counted_in(None, 2015).is_none());
    }

    #[test]
    fn closing_a_case_later_leaves_earlier_years_alone() {
        let open = facts((2015, 11, 2), None);
        let closed_2016 = facts((2015, 11, 2), Some((2016, 3, 1)));
        assert_eq!(counted_in(Some(&open), 2015), counted_in(Some(&closed_2016), 2015));
        assert_ne!(counted_in(Some(&open), 2016), counted_in(Some(&closed_2016), 2016));
        // A reply back-dated into the locked year changes it.
        let closed_2015 = facts((2015, 11, 2), Some((2015, 12, 30)));
        assert_ne!(counted_in(Some(&open), 2015), counted_in(Some(&closed_2015), 2015));
        // An appeal filed later, or decided after the year, leaves the year alone.
        let mut appealed = closed_2015.clone();
        appealed.appeals.push((
            AppealKind::Reconsideration,
            NaiveDate::from_ymd_opt(2016, 1, 5).unwrap(),
            AppealOutcome::Pending,
            None,
        ));
        assert_eq!(counted_in(Some(&closed_2015), 2015), counted_in(Some(&appealed), 2015));
        let mut in_year = closed_2015.clone();
        in_year.appeals.push((
            AppealKind::Reconsideration,
            NaiveDate::from_ymd_opt(2015, 12, 31).unwrap(),
            AppealOutcome::Pending,
            None,
        ));
        let mut decided_later = in_year.clone();
        decided_later.appeals[0].2 = AppealOutcome::Upheld;
        decided_later.appeals[0].3 = NaiveDate::from_ymd_opt(2016, 2, 1);
        assert_ne!(counted_in(Some(&closed_2015), 2015), counted_in(Some(&in_year), 2015));
        assert_eq!(counted_in(Some(&in_year), 2015), counted_in(Some(&decided_later), 2015));
    }

    #[test]
    fn fen_become_exact_wan_yuan() {
        assert_eq!(wan_yuan(0), "0");
        assert_eq!(wan_yuan(1_000_000), "1");
        assert_eq!(wan_yuan(12_340), "0.01234");
        assert_eq!(wan_yuan(1), "0.000001");
        assert_eq!(wan_yuan(2_500_000), "2.5");
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[(3, 2), (10, 2), (20, 1)], 0.5), Some(10));
        assert_eq!(quantile(&[(3, 2), (10, 2), (20, 1)], 0.9), Some(20));
        assert_eq!(quantile(&[(7, 1)], 0.9), Some(7));
    }

    #[test]
    fn the_pre2019_table_counts_channels_timings_replies_fees_and_appeals() {
        let r = build(ReportFormat::Pre2019, 2015, &sample());
        let t = &r.tables[0];
        assert_eq!(value(t, "received"), vec![Cell::Count(7)]);
        assert_eq!(value(t, "received_online"), vec![Cell::Count(2)], "email counts as 网络");
        assert_eq!(value(t, "closed"), vec![Cell::Count(7)]);
        assert_eq!(value(t, "closed_on_time"), vec![Cell::Count(6)]);
        assert_eq!(value(t, "closed_extended"), vec![Cell::Count(1)]);
        assert_eq!(value(t, "already_public"), vec![Cell::Count(4)]);
        assert_eq!(value(t, "granted"), vec![Cell::Count(4)]);
        assert_eq!(value(t, "refused"), vec![Cell::Count(1)]);
        assert_eq!(value(t, "refused_trade_secret"), vec![Cell::Count(1)]);
        assert_eq!(value(t, "not_this_agency"), vec![Cell::Count(1)]);
        assert_eq!(value(t, "other_route"), vec![Cell::Count(1)]);
        assert_eq!(value(t, "fees"), vec![Cell::Amount("0.01234".into())]);
        assert_eq!(value(t, "reconsideration"), vec![Cell::Count(2)]);
        assert_eq!(value(t, "reconsideration_upheld"), vec![Cell::Count(2)]);
        assert_eq!(value(t, "litigation"), vec![Cell::Count(1)]);
        assert_eq!(value(t, "litigation_upheld"), vec![Cell::Count(0)]);
        assert_eq!(value(t, "complaints"), vec![Cell::Count(1)]);
        assert!(r.checks.iter().all(|c| c.holds), "{:?}", r.checks);
        assert_eq!(t.rows.len(), 34, "the seed table's rows");
    }

    #[test]
    fn the_2021_table_conserves_every_column_and_places_every_row() {
        let r = build(ReportFormat::Y2021, 2021, &sample());
        let t = &r.tables[0];
        assert_eq!(value(t, "received"), counts(&[5, 2, 0, 0, 0, 0, 7]));
        assert_eq!(value(t, "carried_in"), counts(&[1, 0, 0, 0, 0, 0, 1]));
        assert_eq!(value(t, "disclosed"), counts(&[4, 0, 0, 0, 0, 0, 4]));
        assert_eq!(value(t, "withheld_third_party"), counts(&[1, 0, 0, 0, 0, 0, 1]));
        assert_eq!(value(t, "unable_not_held"), counts(&[0, 1, 0, 0, 0, 0, 1]));
        assert_eq!(value(t, "other_other"), counts(&[1, 0, 0, 0, 0, 0, 1]));
        assert_eq!(value(t, "total"), counts(&[6, 1, 0, 0, 0, 0, 7]));
        assert_eq!(value(t, "carried_forward"), counts(&[0, 1, 0, 0, 0, 0, 1]));
        // 3 heading rows + 21 outcome rows + 4 group headings + total + carried forward.
        assert_eq!(t.rows.len(), 3 + 21 + 4 + 2);
        assert!(r.checks.iter().all(|c| c.holds), "{:?}", r.checks);
        assert_eq!(r.checks.iter().filter(|c| c.name.starts_with("新收")).count(), 7);
        let appeals = &r.tables[1];
        assert_eq!(appeals.columns.len(), 15);
        assert_eq!(appeals.rows[0].values, counts(&[2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]));
    }

    #[test]
    fn the_2019_trial_table_has_one_other_row() {
        let r = build(ReportFormat::Y2019, 2019, &sample());
        let t = &r.tables[0];
        assert_eq!(value(t, "other"), counts(&[1, 0, 0, 0, 0, 0, 1]));
        assert!(!t.rows.iter().any(|row| row.code == "other_other"));
        assert_eq!(t.rows.len(), 3 + 19 + 3 + 2);
        assert!(r.checks.iter().all(|c| c.holds), "{:?}", r.checks);
    }

    #[test]
    fn broken_numbers_show_in_the_checks() {
        let mut t = sample();
        t.carried_forward.clear();
        let r = build(ReportFormat::Y2021, 2021, &t);
        let failing: Vec<&str> = r.checks.iter().filter(|c| !c.holds).map(|c| c.name.as_str()).collect();
        assert!(failing.iter().any(|n| n.contains("(business)")), "{failing:?}");
        assert!(failing.iter().any(|n| n.contains("(total)")), "{failing:?}");
        let mut t = sample();
        t.closed.push(closed(
            ApplicantKind::NaturalPerson,
            Outcome::Disclosed { already_public: false },
            Closing::LateReply,
            1,
        ));
        let r = build(ReportFormat::Pre2019, 2015, &t);
        assert!(r.checks.iter().any(|c| !c.holds && c.name.starts_with("no late replies")));
    }

    #[test]
    fn extras_count_channels_closings_and_reply_times() {
        let r = build(ReportFormat::Y2021, 2021, &sample());
        assert_eq!(r.extras.by_channel["letter"], 5);
        assert_eq!(r.extras.by_channel["email"], 2);
        assert_eq!(r.extras.closings["withdrawn"], 1);
        assert_eq!(
            r.extras.reply_times,
            ReplyTimes { replies: 5, median_working_days: Some(10), p90_working_days: Some(20) }
        );
    }
}
