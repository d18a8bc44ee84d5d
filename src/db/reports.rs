//! The tallies of an annual report, aggregated in the database (GROUP BY over the case rows, never
//! all cases in memory), for one agency or its subtree and one calendar year.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

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

/// Aggregates everything the year's report needs. `calendar` counts working days to reply.
pub fn tallies(
    conn: &mut DbConnection,
    scope: &ReportScope,
    year: i32,
    calendar: &WorkingDayIndex,
) -> Result<Tallies, AppError> {
    let start = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| AppError::validation("year", "out of range"))?;
    let end = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| AppError::validation("year", "out of range"))?;
    let mut t = Tallies::default();
    let pattern = scope.pattern();

    let received: Vec<(Channel, ApplicantKind, i64)> = cases::table
        .inner_join(agencies::table)
        .filter(agencies::path.like(&pattern))
        .filter(cases::state.ne(CaseState::Voided))
        .filter(cases::received_on.between(start, end))
        .group_by((cases::channel, cases::applicant_kind))
        .select((cases::channel, cases::applicant_kind, count_star()))
        .load(conn)?;
    t.received = received.into_iter().map(|(channel, applicant, n)| ((channel, applicant), n)).collect();

    let carried_in: Vec<(ApplicantKind, i64)> = cases::table
        .inner_join(agencies::table)
        .filter(agencies::path.like(&pattern))
        .filter(cases::state.ne(CaseState::Voided))
        .filter(cases::received_on.lt(start))
        .filter(cases::closed_on.is_null().or(cases::closed_on.ge(start)))
        .group_by(cases::applicant_kind)
        .select((cases::applicant_kind, count_star()))
        .load(conn)?;
    t.carried_in = carried_in.into_iter().collect();

    let carried_forward: Vec<(ApplicantKind, i64)> = cases::table
        .inner_join(agencies::table)
        .filter(agencies::path.like(&pattern))
        .filter(cases::state.ne(CaseState::Voided))
        .filter(cases::received_on.le(end))
        .filter(cases::closed_on.is_null().or(cases::closed_on.gt(end)))
        .group_by(cases::applicant_kind)
        .select((cases::applicant_kind, count_star()))
        .load(conn)?;
    t.carried_forward = carried_forward.into_iter().collect();

    type ClosedGroup = (ApplicantKind, Option<OutcomeKind>, Option<String>, bool, Option<Closing>, i64);
    let closed: Vec<ClosedGroup> = cases::table
        .inner_join(agencies::table)
        .filter(agencies::path.like(&pattern))
        .filter(cases::state.ne(CaseState::Voided))
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
    for (applicant, outcome, reason, already_public, closed_as, cases) in closed {
        let reason = reason.as_deref();
        let outcome = outcome
            .and_then(|kind| Outcome::from_columns(kind, reason, already_public, None, None))
            .ok_or_else(|| corrupt("outcome of a closed case", reason.unwrap_or("none")))?;
        let closing = closed_as.ok_or_else(|| corrupt("closing of a closed case", "none"))?;
        t.closed.push(ClosedTally { applicant, outcome, closing, cases });
    }

    // Fees count in the year they were paid; waivers in the year they were decided.
    let (collected_fen, requests_charged): (i64, i64) = cases::table
        .inner_join(agencies::table)
        .filter(agencies::path.like(&pattern))
        .filter(cases::state.ne(CaseState::Voided))
        .filter(cases::fee_paid_on.between(start, end))
        .select((sql::<BigInt>("CAST(COALESCE(SUM(cases.fee_paid_fen), 0) AS BIGINT)"), count_star()))
        .first(conn)?;
    let (waived_fen, requests_waived): (i64, i64) = cases::table
        .inner_join(agencies::table)
        .filter(agencies::path.like(&pattern))
        .filter(cases::state.ne(CaseState::Voided))
        .filter(cases::fee_waived_on.between(start, end))
        .select((sql::<BigInt>("CAST(COALESCE(SUM(cases.fee_waived_fen), 0) AS BIGINT)"), count_star()))
        .first(conn)?;
    t.fees = FeeTally { collected_fen, requests_charged, waived_fen, requests_waived };
    t.re_replies_issued = cases::table
        .inner_join(agencies::table)
        .filter(agencies::path.like(&pattern))
        .filter(cases::state.ne(CaseState::Voided))
        .filter(cases::re_replied_on.between(start, end))
        .count()
        .get_result(conn)?;

    let appeals: Vec<(AppealKind, AppealOutcome, Option<NaiveDate>, i64)> = case_appeals::table
        .inner_join(cases::table.inner_join(agencies::table))
        .filter(case_appeals::filed_on.between(start, end))
        .filter(agencies::path.like(&pattern))
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

    let by_topic: Vec<(Option<String>, i64)> = cases::table
        .inner_join(agencies::table)
        .filter(agencies::path.like(&pattern))
        .filter(cases::state.ne(CaseState::Voided))
        .filter(cases::received_on.between(start, end))
        .group_by(cases::topic)
        .select((cases::topic, count_star()))
        .order(cases::topic.asc())
        .load(conn)?;
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

    let replies: Vec<(NaiveDate, Option<NaiveDate>, i64)> = cases::table
        .inner_join(agencies::table)
        .filter(agencies::path.like(&pattern))
        .filter(cases::state.ne(CaseState::Voided))
        .filter(cases::closed_on.between(start, end))
        .filter(cases::closed_as.eq_any(Closing::REPLIES))
        .group_by((cases::received_on, cases::closed_on))
        .select((cases::received_on, cases::closed_on, count_star()))
        .load(conn)?;
    let mut days: BTreeMap<i64, i64> = BTreeMap::new();
    for (received_on, closed_on, n) in replies {
        let Some(closed_on) = closed_on else { continue };
        let d = calendar.working_days_between(received_on, closed_on).map_err(AppError::internal)?;
        *days.entry(d).or_default() += n;
    }
    t.reply_days = days.into_iter().collect();

    let oldest: Vec<(String, String, NaiveDate, CaseState, Option<NaiveDate>)> = cases::table
        .inner_join(agencies::table)
        .filter(agencies::path.like(&pattern))
        .filter(cases::state.ne(CaseState::Voided))
        .filter(cases::received_on.le(end))
        .filter(cases::closed_on.is_null().or(cases::closed_on.gt(end)))
        .order((cases::received_on.asc(), cases::id.asc()))
        .limit(10)
        .select((cases::tracking_number, agencies::code, cases::received_on, cases::state, cases::final_due_on))
        .load(conn)?;
    t.oldest_open = oldest
        .into_iter()
        .map(|(tracking_number, agency, received_on, state, final_due_on)| OpenCase {
            tracking_number,
            agency,
            received_on,
            state,
            final_due_on,
        })
        .collect();
    Ok(t)
}
