//! The tallies of an annual report, aggregated in the database (GROUP BY over the case rows, never
//! all cases in memory), for one agency or its subtree and one calendar year.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::corrupt;
use super::schema::{agencies, case_appeals, cases, topics};
use super::DbConnection;
use crate::domain::calendar::WorkingDayIndex;
use crate::domain::intake::{ApplicantKind, Channel};
use crate::domain::outcome::{Outcome, OutcomeKind};
use crate::domain::report::{AppealTally, ClosedTally, Closing, FeeTally, OpenCase, Tallies};
use crate::domain::workflow::{AppealKind, AppealOutcome, CaseState};
use crate::error::AppError;

/// Which cases a report covers: one agency, or the agency and every agency below it.
#[derive(Debug, Clone)]
pub struct ReportScope {
    pub agency_path: String,
    pub subtree: bool,
}

impl ReportScope {
    /// A LIKE pattern for the agency paths in scope. Paths hold only upper-case letters, digits, `-`
    /// and `/`, so without a trailing `%` the pattern matches the one agency exactly.
    fn pattern(&self) -> String {
        if self.subtree {
            format!("{}%", self.agency_path)
        } else {
            self.agency_path.clone()
        }
    }
}

/// The cases of a report: the agencies in scope (a handful of ids, resolved first so every statement
/// reads the `(agency, date)` indexes), voided duplicates left out.
macro_rules! in_scope {
    ($ids:expr) => {
        cases::table.filter(cases::agency_id.eq_any($ids)).filter(cases::state.ne(CaseState::Voided))
    };
}

/// How long after receipt a case counts as long-lived: replies are due in 20 working days, 40 when
/// extended (Art. 33), so nearly every case is closed within this many days.
const LONG_LIVED_DAYS: i64 = 90;

/// The long-lived cases: still open, or closed more than `LONG_LIVED_DAYS` after receipt. Spelled
/// exactly as the partial index `cases_agency_long_open` is (migration 000012, which must say the
/// same number of days) so each planner uses it.
fn long_lived(conn: &DbConnection) -> diesel::expression::SqlLiteral<Bool> {
    sql::<Bool>(&match conn {
        DbConnection::Postgres(_) => {
            format!("(cases.closed_on IS NULL OR cases.closed_on > cases.received_on + {LONG_LIVED_DAYS})")
        }
        DbConnection::Sqlite(_) => {
            format!("(cases.closed_on IS NULL OR cases.closed_on > date(cases.received_on, '+{LONG_LIVED_DAYS} days'))")
        }
    })
}

/// The cases in scope open at the start of `day` (received before it, not closed before it) by
/// applicant type. Read in two bounded parts: those received in the `LONG_LIVED_DAYS` before `day`, by
/// the `(agency, received)` index, and older ones, which are long-lived and so in the small partial
/// index.
fn open_at(conn: &mut DbConnection, ids: &[String], day: NaiveDate) -> Result<BTreeMap<ApplicantKind, i64>, AppError> {
    let recent_from = day - chrono::Duration::days(LONG_LIVED_DAYS);
    let recent: Vec<(ApplicantKind, i64)> = in_scope!(ids)
        .filter(cases::received_on.ge(recent_from))
        .filter(cases::received_on.lt(day))
        .filter(cases::closed_on.is_null().or(cases::closed_on.ge(day)))
        .group_by(cases::applicant_kind)
        .select((cases::applicant_kind, count_star()))
        .load(conn)?;
    let older: Vec<(ApplicantKind, i64)> = in_scope!(ids)
        .filter(long_lived(conn))
        .filter(cases::received_on.lt(recent_from))
        .filter(cases::closed_on.is_null().or(cases::closed_on.ge(day)))
        .group_by(cases::applicant_kind)
        .select((cases::applicant_kind, count_star()))
        .load(conn)?;
    let mut open = BTreeMap::new();
    for (kind, n) in recent.into_iter().chain(older) {
        *open.entry(kind).or_default() += n;
    }
    Ok(open)
}

/// The ten cases in scope received longest ago of those still open at the end of `end`.
fn oldest_open(conn: &mut DbConnection, ids: &[String], end: NaiveDate) -> Result<Vec<OpenCase>, AppError> {
    let day = end + chrono::Duration::days(1);
    let recent_from = day - chrono::Duration::days(LONG_LIVED_DAYS);
    type Row = (String, String, NaiveDate, CaseState, Option<NaiveDate>, String);
    let select =
        (cases::tracking_number, agencies::code, cases::received_on, cases::state, cases::final_due_on, cases::id);
    // The long-lived ones are few: read them all and sort here. (Asked for in order with a limit,
    // the planner may walk the whole receipt-date index looking for them.)
    let mut rows: Vec<Row> = in_scope!(ids)
        .inner_join(agencies::table)
        .filter(long_lived(conn))
        .filter(cases::received_on.lt(recent_from))
        .filter(cases::closed_on.is_null().or(cases::closed_on.ge(day)))
        .select(select)
        .load(conn)?;
    rows.sort_by(|a, b| (a.2, &a.5).cmp(&(b.2, &b.5)));
    rows.truncate(10);
    if rows.len() < 10 {
        rows.extend(
            in_scope!(ids)
                .inner_join(agencies::table)
                .filter(cases::received_on.ge(recent_from))
                .filter(cases::received_on.lt(day))
                .filter(cases::closed_on.is_null().or(cases::closed_on.ge(day)))
                .order((cases::received_on.asc(), cases::id.asc()))
                .limit(10 - rows.len() as i64)
                .select(select)
                .load::<Row>(conn)?,
        );
    }
    Ok(rows
        .into_iter()
        .map(|(tracking_number, agency, received_on, state, final_due_on, _)| OpenCase {
            tracking_number,
            agency,
            received_on,
            state,
            final_due_on,
        })
        .collect())
}

/// The year's closings, one row per applicant type, outcome, reason and closing.
type ClosedGroup = (ApplicantKind, Option<OutcomeKind>, Option<String>, bool, Option<Closing>, i64);

/// Replies by working days taken: (days, replies).
type ReplyDays = Vec<(i64, i64)>;

/// The scope's closings in the year grouped for the tables, and its replies by working days taken
/// (as `calendar` counts them), ascending. (Counting the working days in the statement, from an array
/// of the calendar's day ranks, would save one pass; PostgreSQL's array subscripts made it 4 times
/// slower.)
fn closings(
    conn: &mut DbConnection,
    ids: &[String],
    year: &ReportYear,
    calendar: &WorkingDayIndex,
) -> Result<(Vec<ClosedGroup>, ReplyDays), AppError> {
    let ReportYear { start, end } = *year;
    let mut days: BTreeMap<i64, i64> = BTreeMap::new();
    let replies: Vec<(NaiveDate, Option<NaiveDate>, i64)> = in_scope!(ids)
        .filter(cases::closed_on.between(start, end))
        .filter(cases::closed_as.eq_any(Closing::REPLIES))
        .group_by((cases::received_on, cases::closed_on))
        .select((cases::received_on, cases::closed_on, count_star()))
        .load(conn)?;
    for (received_on, closed_on, n) in replies {
        let Some(closed_on) = closed_on else { continue };
        let d = calendar.working_days_between(received_on, closed_on).map_err(AppError::internal)?;
        *days.entry(d).or_default() += n;
    }
    let groups: Vec<ClosedGroup> = in_scope!(ids)
        .filter(cases::closed_on.between(start, end))
        .group_by((
            cases::applicant_kind,
            cases::outcome,
            cases::outcome_reason,
            cases::already_public,
            cases::closed_as,
        ))
        .select((
            cases::applicant_kind,
            cases::outcome,
            cases::outcome_reason,
            cases::already_public,
            cases::closed_as,
            count_star(),
        ))
        .load(conn)?;
    Ok((groups, days.into_iter().collect()))
}

/// Aggregates everything the year's report needs. `calendar` counts working days to reply. Every
/// statement reads only the scope's cases received, closed or open in the year (by the `(agency,
/// date)` indexes), so a report costs what its agencies' year holds, however large the table.
///
/// The statements share one read-only snapshot, so a case registered or closed meanwhile cannot be
/// counted by one table and missed by another. On PostgreSQL a report may use 32 MB per sort or hash:
/// a whole city's year is a few hundred thousand index entries per statement, which the default
/// sorted on disk. (Cheaper parallel plans were tried: they slowed a department's report on two
/// cores more than they sped up the city's.)
///
/// With a `helper` connection (PostgreSQL), the year's closings are read on it, in a second thread,
/// while `conn` reads the rest: the helper's transaction imports `conn`'s exported snapshot, so both
/// halves still see the same database. The two halves cost about the same, so a report takes about
/// half as long on a machine with a core to spare.
pub fn tallies(
    conn: &mut DbConnection,
    helper: Option<&mut DbConnection>,
    scope: &ReportScope,
    year: i32,
    calendar: &WorkingDayIndex,
) -> Result<Tallies, AppError> {
    use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
    conn.transaction(|conn| {
        let mut snapshot = None;
        if let DbConnection::Postgres(pg) = conn {
            // Only a transaction of its own can be set up so (inside another, it is a savepoint).
            let depth = AnsiTransactionManager::transaction_manager_status_mut(pg).transaction_depth()?;
            if depth.map(|d| d.get()) == Some(1) {
                pg.batch_execute(&format!("SET TRANSACTION ISOLATION LEVEL {REPORT_TRANSACTION}"))?;
                if helper.is_some() {
                    snapshot = Some(diesel::select(sql::<Text>("pg_export_snapshot()")).get_result::<String>(pg)?);
                }
            }
        }
        let year = ReportYear::new(year)?;
        let ids: Vec<String> =
            agencies::table.filter(agencies::path.like(scope.pattern())).select(agencies::id).load(conn)?;
        let ids = ids.as_slice();
        let (mut t, closed) = match (helper, snapshot) {
            (Some(helper), Some(snapshot)) => std::thread::scope(|threads| {
                let closings = threads.spawn(|| closings_in(helper, &snapshot, ids, &year, calendar));
                let rest = everything_but_closings(conn, scope, ids, &year);
                let closings =
                    closings.join().map_err(|_| AppError::internal("the report's closings thread panicked"))?;
                Ok::<_, AppError>((rest?, closings?))
            })?,
            _ => (everything_but_closings(conn, scope, ids, &year)?, closings(conn, ids, &year, calendar)?),
        };
        let (closed, reply_days) = closed;
        for (applicant, outcome, reason, already_public, closed_as, cases) in closed {
            let reason = reason.as_deref();
            let outcome = outcome
                .and_then(|kind| Outcome::from_columns(kind, reason, already_public, None, None))
                .ok_or_else(|| corrupt("outcome of a closed case", reason.unwrap_or("none")))?;
            let closing = closed_as.ok_or_else(|| corrupt("closing of a closed case", "none"))?;
            t.closed.push(ClosedTally { applicant, outcome, closing, cases });
        }
        t.reply_days = reply_days;
        Ok(t)
    })
}

/// How a report's PostgreSQL transaction reads: one snapshot, nothing written, 32 MB per sort.
const REPORT_TRANSACTION: &str = "REPEATABLE READ, READ ONLY; SET LOCAL work_mem = '32MB';";

/// The first and last day of a report's year.
#[derive(Clone, Copy)]
struct ReportYear {
    start: NaiveDate,
    end: NaiveDate,
}

impl ReportYear {
    fn new(year: i32) -> Result<ReportYear, AppError> {
        let day =
            |m, d| NaiveDate::from_ymd_opt(year, m, d).ok_or_else(|| AppError::validation("year", "out of range"));
        Ok(ReportYear { start: day(1, 1)?, end: day(12, 31)? })
    }
}

/// `closings` on the helper connection, in a transaction that reads `snapshot` (exported by the
/// report's own transaction, which stays open until this returns).
fn closings_in(
    helper: &mut DbConnection,
    snapshot: &str,
    ids: &[String],
    year: &ReportYear,
    calendar: &WorkingDayIndex,
) -> Result<(Vec<ClosedGroup>, ReplyDays), AppError> {
    use diesel::connection::SimpleConnection;
    // A snapshot id is hex digits and dashes (e.g. `00000003-0000001B-1`); anything else is refused
    // rather than written into SQL.
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(corrupt("exported snapshot id", snapshot));
    }
    helper.transaction(|helper| {
        helper.batch_execute(&format!(
            "SET TRANSACTION ISOLATION LEVEL {REPORT_TRANSACTION} SET TRANSACTION SNAPSHOT '{snapshot}';"
        ))?;
        closings(helper, ids, year, calendar)
    })
}

/// Every table but the closings (`closings`): receipts, carry-over, fees, appeals, topics and the
/// oldest open cases.
fn everything_but_closings(
    conn: &mut DbConnection,
    scope: &ReportScope,
    ids: &[String],
    year: &ReportYear,
) -> Result<Tallies, AppError> {
    let ReportYear { start, end } = *year;
    let mut t = Tallies::default();

    // Receipts by channel, applicant type and topic: the first two tables and the topic table.
    let received: Vec<(Channel, ApplicantKind, Option<String>, i64)> = in_scope!(ids)
        .filter(cases::received_on.between(start, end))
        .group_by((cases::channel, cases::applicant_kind, cases::topic))
        .select((cases::channel, cases::applicant_kind, cases::topic, count_star()))
        .load(conn)?;
    let mut by_topic: BTreeMap<Option<String>, i64> = BTreeMap::new();
    for (channel, applicant, topic, n) in received {
        *t.received.entry((channel, applicant)).or_default() += n;
        *by_topic.entry(topic).or_default() += n;
    }
    t.carried_in = open_at(conn, ids, start)?;
    t.carried_forward = open_at(conn, ids, end + chrono::Duration::days(1))?;

    // Fees count in the year they were paid; waivers in the year they were decided.
    let (collected_fen, requests_charged): (i64, i64) = in_scope!(ids)
        .filter(cases::fee_paid_on.between(start, end))
        .select((sql::<BigInt>("CAST(COALESCE(SUM(cases.fee_paid_fen), 0) AS BIGINT)"), count_star()))
        .first(conn)?;
    let (waived_fen, requests_waived): (i64, i64) = in_scope!(ids)
        .filter(cases::fee_waived_on.between(start, end))
        .select((sql::<BigInt>("CAST(COALESCE(SUM(cases.fee_waived_fen), 0) AS BIGINT)"), count_star()))
        .first(conn)?;
    t.fees = FeeTally { collected_fen, requests_charged, waived_fen, requests_waived };
    t.re_replies_issued = in_scope!(ids).filter(cases::re_replied_on.between(start, end)).count().get_result(conn)?;

    let appeals: Vec<(AppealKind, AppealOutcome, Option<NaiveDate>, i64)> = case_appeals::table
        .inner_join(cases::table)
        .filter(case_appeals::filed_on.between(start, end))
        .filter(cases::agency_id.eq_any(ids))
        .filter(cases::state.ne(CaseState::Voided))
        .group_by((case_appeals::kind, case_appeals::outcome, case_appeals::decided_on))
        .select((case_appeals::kind, case_appeals::outcome, case_appeals::decided_on, count_star()))
        .load(conn)?;
    let mut appeal_counts: BTreeMap<(AppealKind, AppealOutcome), i64> = BTreeMap::new();
    for (kind, decided, decided_on, n) in appeals {
        // As of 31 December: a decision taken later was still pending then.
        let outcome = if decided_on.is_some_and(|d| d <= end) { decided } else { AppealOutcome::Pending };
        *appeal_counts.entry((kind, outcome)).or_default() += n;
    }
    t.appeals =
        appeal_counts.into_iter().map(|((kind, outcome), count)| AppealTally { kind, outcome, count }).collect();

    let labels: HashMap<String, String> = topics::table
        .inner_join(agencies::table)
        .select((topics::code, topics::label, agencies::path))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        // The scope's own taxonomy (its agency and parents) wins over a sub-agency's.
        .filter(|(_, _, path)| scope.agency_path.starts_with(path.as_str()) || path.starts_with(&scope.agency_path))
        .map(|(code, label, _)| (code, label))
        .collect();
    t.topics =
        by_topic.into_iter().map(|(code, n)| (code.clone(), code.and_then(|c| labels.get(&c).cloned()), n)).collect();

    t.oldest_open = oldest_open(conn, ids, end)?;
    Ok(t)
}
