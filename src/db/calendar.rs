//! The working-day calendar and the legal regimes in the database, and each instance's cache of
//! working-day indexes (rebuilt when the calendar revision changes, so several instances agree).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{calendar_days, calendar_notices, calendar_revision, regimes};
use super::{now, DbConnection};
use crate::domain::calendar::{CalendarData, DayException, WorkingDayIndex, YearNotice};
use crate::domain::calendar_data::SHIPPED;
use crate::domain::deadline::{select_regime, RegimeRules};
use crate::error::AppError;

/// The scope of national calendar days; an agency's overlay uses `agency:CODE`.
pub const NATIONAL: &str = "national";

pub fn overlay_scope(agency_code: &str) -> String {
    format!("agency:{agency_code}")
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_days)]
pub struct CalendarDayRow {
    pub scope: String,
    pub date: NaiveDate,
    pub is_off_day: bool,
    pub name: String,
    pub origin: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_notices)]
pub struct NoticeRow {
    pub year: i32,
    pub papers: String,
    pub source: String,
    pub imported_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = regimes)]
struct RegimeRow {
    code: String,
    name: String,
    agency_id: Option<String>,
    effective_from: NaiveDate,
    effective_until: Option<NaiveDate>,
    reply_days: i32,
    max_extension_days: i32,
    correction_notice_days: Option<i32>,
    consultation_lapse_days: Option<i32>,
    fee_notice_stops_clock: bool,
    fee_scheme: crate::domain::fees::FeeScheme,
    agency_delay_allowed: bool,
    paused_consultations: String,
}

fn days(n: i32) -> u32 {
    n.max(0) as u32
}

pub fn revision(conn: &mut DbConnection) -> Result<i32, AppError> {
    Ok(calendar_revision::table.select(calendar_revision::revision).first(conn)?)
}

fn bump_revision(conn: &mut DbConnection) -> QueryResult<usize> {
    diesel::update(calendar_revision::table)
        .set(calendar_revision::revision.eq(calendar_revision::revision + 1))
        .execute(conn)
}

/// What an import changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub year: i32,
    pub days: usize,
    pub replaced_existing: bool,
}

/// Loads (or reloads) a year's notice into the national calendar. Days the notice lists replace any
/// national entry for the same date; days of an earlier import of the same year that the notice no
/// longer lists are removed.
pub fn import_notice(conn: &mut DbConnection, notice: &YearNotice, source: &str) -> Result<ImportSummary, AppError> {
    notice.validate().map_err(|e| AppError::validation("days", e.to_string()))?;
    let origin = format!("notice {}", notice.year);
    let papers = serde_json::to_string(&notice.papers).map_err(AppError::internal)?;
    let replaced = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let dates: Vec<NaiveDate> = notice.days.iter().map(|d| d.date).collect();
        diesel::delete(
            calendar_days::table
                .filter(calendar_days::scope.eq(NATIONAL))
                .filter(calendar_days::origin.eq(&origin).or(calendar_days::date.eq_any(&dates))),
        )
        .execute(conn)?;
        for day in &notice.days {
            diesel::insert_into(calendar_days::table)
                .values(&CalendarDayRow {
                    scope: NATIONAL.into(),
                    date: day.date,
                    is_off_day: day.is_off_day,
                    name: day.name.clone(),
                    origin: origin.clone(),
                })
                .execute(conn)?;
        }
        let replaced = diesel::delete(calendar_notices::table.find(notice.year)).execute(conn)? > 0;
        diesel::insert_into(calendar_notices::table)
            .values(&NoticeRow {
                year: notice.year,
                papers: papers.clone(),
                source: source.to_owned(),
                imported_at: now(),
            })
            .execute(conn)?;
        bump_revision(conn)?;
        Ok(replaced)
    })?;
    Ok(ImportSummary { year: notice.year, days: notice.days.len(), replaced_existing: replaced })
}

/// Loads the notices shipped with the service (2007-2026) that the database does not have yet.
pub fn ensure_shipped(conn: &mut DbConnection) -> Result<Vec<i32>, AppError> {
    let loaded: HashSet<i32> =
        calendar_notices::table.select(calendar_notices::year).load::<i32>(conn)?.into_iter().collect();
    let mut imported = Vec::new();
    for (year, json) in SHIPPED {
        if loaded.contains(year) {
            continue;
        }
        let notice: YearNotice = serde_json::from_str(json).map_err(AppError::internal)?;
        import_notice(conn, &notice, "shipped (holiday-cn)")?;
        imported.push(*year);
    }
    Ok(imported)
}

pub fn notices(conn: &mut DbConnection) -> Result<Vec<NoticeRow>, AppError> {
    Ok(calendar_notices::table.order(calendar_notices::year.asc()).select(NoticeRow::as_select()).load(conn)?)
}

/// Sets one day in the national calendar (`scope` = NATIONAL) or an agency's overlay.
pub fn set_day(conn: &mut DbConnection, scope: &str, day: &DayException, origin: &str) -> Result<(), AppError> {
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::delete(calendar_days::table.find((scope, day.date))).execute(conn)?;
        diesel::insert_into(calendar_days::table)
            .values(&CalendarDayRow {
                scope: scope.to_owned(),
                date: day.date,
                is_off_day: day.is_off_day,
                name: day.name.clone(),
                origin: origin.to_owned(),
            })
            .execute(conn)?;
        bump_revision(conn)
    })?;
    Ok(())
}

/// Removes one day's exception; returns whether there was one.
pub fn clear_day(conn: &mut DbConnection, scope: &str, date: NaiveDate) -> Result<bool, AppError> {
    let removed = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let n = diesel::delete(calendar_days::table.find((scope, date))).execute(conn)?;
        if n > 0 {
            bump_revision(conn)?;
        }
        Ok(n > 0)
    })?;
    Ok(removed)
}

pub fn days_in(
    conn: &mut DbConnection,
    scope: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CalendarDayRow>, AppError> {
    Ok(calendar_days::table
        .filter(calendar_days::scope.eq(scope))
        .filter(calendar_days::date.between(from, to))
        .order(calendar_days::date.asc())
        .select(CalendarDayRow::as_select())
        .load(conn)?)
}

/// The overlay scopes that apply to an agency: its own and its ancestors', root first.
fn overlay_scopes_for(agency_path: &str) -> Vec<String> {
    agency_path.trim_matches('/').split('/').filter(|c| !c.is_empty()).map(overlay_scope).collect()
}

/// Stores a regime (validated by the service), scoped to `agency` or national.
pub fn add_regime(
    conn: &mut DbConnection,
    rules: &RegimeRules,
    agency: Option<&super::agencies::AgencyRow>,
) -> Result<(), AppError> {
    let row = RegimeRow {
        code: rules.code.clone(),
        name: rules.name.trim().to_owned(),
        agency_id: agency.map(|a| a.id.clone()),
        effective_from: rules.effective_from,
        effective_until: rules.effective_until,
        reply_days: rules.reply_days as i32,
        max_extension_days: rules.max_extension_days as i32,
        correction_notice_days: rules.correction_notice_days.map(|d| d as i32),
        consultation_lapse_days: rules.consultation_lapse_days.map(|d| d as i32),
        fee_notice_stops_clock: rules.fee_notice_stops_clock,
        fee_scheme: rules.fee_scheme,
        agency_delay_allowed: rules.agency_delay_allowed,
        paused_consultations: crate::domain::deadline::consultations_to_text(&rules.paused_consultations),
    };
    let result = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::insert_into(regimes::table).values(&row).execute(conn)?;
        bump_revision(conn)
    });
    match result {
        Ok(_) => Ok(()),
        Err(e) if super::is_unique_violation(&e) => {
            Err(AppError::Conflict(format!("a regime with code `{}` exists", rules.code)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Every regime with the path of the agency it is scoped to (None: national).
pub fn list_regimes(conn: &mut DbConnection) -> Result<Vec<(RegimeRules, Option<String>)>, AppError> {
    load_regimes(conn)
}

/// Regimes with the materialized path of the agency each is scoped to (None: national).
fn load_regimes(conn: &mut DbConnection) -> Result<Vec<(RegimeRules, Option<String>)>, AppError> {
    use super::schema::agencies;
    let rows: Vec<(RegimeRow, Option<String>)> = regimes::table
        .left_join(agencies::table)
        .select((RegimeRow::as_select(), agencies::path.nullable()))
        .load(conn)?;
    rows.into_iter()
        .map(|(r, path)| {
            let paused_consultations = crate::domain::deadline::consultations_from_text(&r.paused_consultations)
                .ok_or_else(|| {
                    AppError::Internal(format!(
                        "regime {} has unknown paused consultations {}",
                        r.code, r.paused_consultations
                    ))
                })?;
            let rules = RegimeRules {
                code: r.code,
                name: r.name,
                effective_from: r.effective_from,
                effective_until: r.effective_until,
                reply_days: days(r.reply_days),
                max_extension_days: days(r.max_extension_days),
                correction_notice_days: r.correction_notice_days.map(days),
                consultation_lapse_days: r.consultation_lapse_days.map(days),
                fee_notice_stops_clock: r.fee_notice_stops_clock,
                fee_scheme: r.fee_scheme,
                agency_delay_allowed: r.agency_delay_allowed,
                paused_consultations,
            };
            Ok((rules, path))
        })
        .collect()
}

/// The calendar, the regimes, and the indexes built from them, as of one revision.
struct Snapshot {
    revision: i32,
    national: CalendarData,
    /// Overlay days by scope.
    overlays: HashMap<String, Vec<DayException>>,
    regimes: Arc<Vec<(RegimeRules, Option<String>)>>,
    indexes: HashMap<Vec<String>, Arc<WorkingDayIndex>>,
}

/// What a deadline computation needs for one agency.
#[derive(Clone)]
pub struct Rules {
    pub calendar: Arc<WorkingDayIndex>,
    pub regimes: Arc<Vec<(RegimeRules, Option<String>)>>,
}

impl Rules {
    /// The regime governing a request to the agency at `agency_path` received on `received_on`.
    pub fn regime_for(&self, agency_path: &str, received_on: NaiveDate) -> Option<&RegimeRules> {
        select_regime(self.regimes.iter().map(|(r, p)| (r, p.as_deref())), agency_path, received_on)
    }

    pub fn regime(&self, code: &str) -> Option<&RegimeRules> {
        self.regimes.iter().map(|(r, _)| r).find(|r| r.code == code)
    }
}

/// Per-instance cache of working-day indexes. Every use checks the database's calendar revision
/// (one small query), so a calendar change on any instance is seen by all.
#[derive(Default)]
pub struct CalendarCache {
    snapshot: Mutex<Option<Snapshot>>,
}

impl CalendarCache {
    /// The calendar (with the overlays of the agency at `agency_path`, if any) and the regimes.
    pub fn rules(&self, conn: &mut DbConnection, agency_path: Option<&str>) -> Result<Rules, AppError> {
        let current = revision(conn)?;
        let mut guard = self.snapshot.lock().map_err(|_| AppError::Internal("calendar cache poisoned".into()))?;
        if guard.as_ref().is_none_or(|s| s.revision != current) {
            *guard = Some(load_snapshot(conn, current)?);
        }
        let snapshot = guard.as_mut().expect("just loaded");
        let scopes: Vec<String> = agency_path
            .map(overlay_scopes_for)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| snapshot.overlays.contains_key(s))
            .collect();
        let calendar = match snapshot.indexes.get(&scopes) {
            Some(index) => index.clone(),
            None => {
                let mut data = snapshot.national.clone();
                for scope in &scopes {
                    data = data.with_overlay(snapshot.overlays[scope].iter().cloned());
                }
                let index = Arc::new(WorkingDayIndex::new(data));
                snapshot.indexes.insert(scopes, index.clone());
                index
            }
        };
        Ok(Rules { calendar, regimes: snapshot.regimes.clone() })
    }
}

fn load_snapshot(conn: &mut DbConnection, revision: i32) -> Result<Snapshot, AppError> {
    let loaded_years: BTreeSet<i32> =
        calendar_notices::table.select(calendar_notices::year).load::<i32>(conn)?.into_iter().collect();
    let rows: Vec<CalendarDayRow> = calendar_days::table.select(CalendarDayRow::as_select()).load(conn)?;
    let mut national = CalendarData { loaded_years, ..CalendarData::default() };
    let mut overlays: HashMap<String, Vec<DayException>> = HashMap::new();
    for row in rows {
        let day = DayException { date: row.date, is_off_day: row.is_off_day, name: row.name };
        if row.scope == NATIONAL {
            national.exceptions.insert(day.date, day);
        } else {
            overlays.entry(row.scope).or_default().push(day);
        }
    }
    Ok(Snapshot { revision, national, overlays, regimes: Arc::new(load_regimes(conn)?), indexes: HashMap::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_scopes_run_from_the_root() {
        assert_eq!(overlay_scopes_for("/PJ/PJ-XLT/"), ["agency:PJ", "agency:PJ-XLT"]);
    }
}
