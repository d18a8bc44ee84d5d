//! China's working-day calendar as data, and a precomputed index for O(1) working-day arithmetic.
//!
//! Working days are Monday to Friday, minus official holidays, plus make-up working days (调休上班,
//! e.g. Sunday 2015-09-06). The exceptions come from the State Council's yearly notices, in the
//! holiday-cn JSON format. A year's notice may also fix dates of the previous December (the 2019 notice
//! makes Saturday 2018-12-29 a working day), so late-December dates are settled only once the next
//! year's notice is loaded too.
//!
//! Dates that no loaded notice settles are never silently treated as an ordinary week: they follow the
//! provisional rule (weekends plus the fixed-date holidays of the current holiday law: 1 January,
//! 1-2 May, 1-3 October) and every result that depends on them is marked provisional.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The first and last dates the index covers.
pub fn index_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date")
}
pub fn index_end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2099, 12, 31).expect("valid date")
}

/// From this day of December on, a date may be fixed by the next year's notice.
const LATE_DECEMBER_FROM: u32 = 25;

/// One exception to the Monday-Friday rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayException {
    pub date: NaiveDate,
    /// True: a day off (holiday); false: a working day (make-up working day, 调休上班).
    pub is_off_day: bool,
    /// The holiday's name, e.g. 国庆节.
    pub name: String,
}

/// A year's notice in the holiday-cn format: `{"year", "papers": [URL], "days": [{name, date, isOffDay}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct YearNotice {
    pub year: i32,
    /// The source notices (gov.cn URLs).
    #[serde(default)]
    pub papers: Vec<String>,
    pub days: Vec<NoticeDay>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeDay {
    pub name: String,
    pub date: NaiveDate,
    #[serde(rename = "isOffDay")]
    pub is_off_day: bool,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("the notice for {0} lists no days: an empty placeholder is not a calendar")]
    EmptyNotice(i32),
    #[error("year {0} is outside the supported range 2000-2099")]
    YearOutOfRange(i32),
    #[error("{date} is not in {year} or the December before it")]
    DateOutsideYear { year: i32, date: NaiveDate },
    #[error("{0} is listed twice")]
    DuplicateDate(NaiveDate),
    #[error("the day {0} has no name")]
    UnnamedDay(NaiveDate),
    #[error("{0} is outside the calendar's range (2000-01-01 to 2099-12-31)")]
    DateOutOfRange(NaiveDate),
}

impl YearNotice {
    /// Checks a notice before it is loaded.
    pub fn validate(&self) -> Result<(), CalendarError> {
        if !(2000..=2099).contains(&self.year) {
            return Err(CalendarError::YearOutOfRange(self.year));
        }
        if self.days.is_empty() {
            return Err(CalendarError::EmptyNotice(self.year));
        }
        let earliest = NaiveDate::from_ymd_opt(self.year - 1, 12, 1).expect("valid date");
        let latest = NaiveDate::from_ymd_opt(self.year, 12, 31).expect("valid date");
        let mut seen = BTreeSet::new();
        for day in &self.days {
            if day.date < earliest || day.date > latest {
                return Err(CalendarError::DateOutsideYear { year: self.year, date: day.date });
            }
            if !seen.insert(day.date) {
                return Err(CalendarError::DuplicateDate(day.date));
            }
            if day.name.trim().is_empty() {
                return Err(CalendarError::UnnamedDay(day.date));
            }
        }
        Ok(())
    }

    pub fn exceptions(&self) -> impl Iterator<Item = DayException> + '_ {
        self.days.iter().map(|d| DayException { date: d.date, is_off_day: d.is_off_day, name: d.name.clone() })
    }
}

/// Why a day is or is not a working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayClass {
    Weekday,
    Weekend,
    /// An official holiday from a loaded notice (or an agency's local overlay).
    Holiday {
        name: String,
    },
    /// A weekend day made a working day (调休上班).
    MakeUpWorkday {
        name: String,
    },
    /// A fixed-date holiday assumed for a year whose notice is not loaded.
    ProvisionalHoliday {
        name: String,
    },
}

impl DayClass {
    pub fn is_working(&self) -> bool {
        matches!(self, DayClass::Weekday | DayClass::MakeUpWorkday { .. })
    }
}

/// The fixed-date holidays of the current holiday law (《全国年节及纪念日放假办法》, 2024 amendment):
/// the only ones that can be assumed without a notice (the lunar ones move).
fn provisional_holiday(date: NaiveDate) -> Option<&'static str> {
    match (date.month(), date.day()) {
        (1, 1) => Some("元旦"),
        (5, 1) | (5, 2) => Some("劳动节"),
        (10, 1..=3) => Some("国庆节"),
        _ => None,
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A calendar's inputs: which years' notices are loaded and every exception they (and any local
/// overlay) define.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarData {
    pub loaded_years: BTreeSet<i32>,
    pub exceptions: BTreeMap<NaiveDate, DayException>,
}

impl CalendarData {
    /// The national data plus an agency's local overlay (the overlay wins on the same date).
    pub fn with_overlay(mut self, overlay: impl IntoIterator<Item = DayException>) -> CalendarData {
        for e in overlay {
            self.exceptions.insert(e.date, e);
        }
        self
    }

    pub fn add_notice(&mut self, notice: &YearNotice) {
        self.loaded_years.insert(notice.year);
        for e in notice.exceptions() {
            self.exceptions.insert(e.date, e);
        }
    }

    /// Whether the loaded notices settle this date: its own year's notice is loaded and, late in
    /// December, the next year's too.
    pub fn is_settled(&self, date: NaiveDate) -> bool {
        let year = date.year();
        self.loaded_years.contains(&year)
            && (date.month() < 12 || date.day() < LATE_DECEMBER_FROM || self.loaded_years.contains(&(year + 1)))
    }

    pub fn classify(&self, date: NaiveDate) -> DayClass {
        if let Some(e) = self.exceptions.get(&date) {
            return if e.is_off_day {
                DayClass::Holiday { name: e.name.clone() }
            } else {
                DayClass::MakeUpWorkday { name: e.name.clone() }
            };
        }
        if is_weekend(date) {
            return DayClass::Weekend;
        }
        if !self.is_settled(date) {
            if let Some(name) = provisional_holiday(date) {
                return DayClass::ProvisionalHoliday { name: name.to_owned() };
            }
        }
        DayClass::Weekday
    }
}

/// The result of counting working days forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub date: NaiveDate,
    /// Some day counted or skipped on the way is not settled by a loaded notice.
    pub provisional: bool,
}

/// A precomputed working-day index over 2000-2099: every query is a few array reads.
#[derive(Debug, Clone)]
pub struct WorkingDayIndex {
    data: CalendarData,
    /// `working_rank[i]`: working days in [start, start + i], inclusive.
    working_rank: Vec<u32>,
    /// Day offsets of the working days, ascending.
    working_days: Vec<u32>,
    /// `unsettled_rank[i]`: days in [start, start + i] that no loaded notice settles.
    unsettled_rank: Vec<u32>,
}

impl WorkingDayIndex {
    pub fn new(data: CalendarData) -> WorkingDayIndex {
        let start = index_start();
        let len = (index_end() - start).num_days() as usize + 1;
        let mut working_rank = Vec::with_capacity(len);
        let mut working_days = Vec::with_capacity(len * 5 / 7 + 1);
        let mut unsettled_rank = Vec::with_capacity(len);
        let (mut working, mut unsettled) = (0u32, 0u32);
        for offset in 0..len {
            let date = start + Duration::days(offset as i64);
            if data.classify(date).is_working() {
                working += 1;
                working_days.push(offset as u32);
            }
            if !data.is_settled(date) {
                unsettled += 1;
            }
            working_rank.push(working);
            unsettled_rank.push(unsettled);
        }
        WorkingDayIndex { data, working_rank, working_days, unsettled_rank }
    }

    pub fn data(&self) -> &CalendarData {
        &self.data
    }

    fn offset(&self, date: NaiveDate) -> Result<usize, CalendarError> {
        if date < index_start() || date > index_end() {
            return Err(CalendarError::DateOutOfRange(date));
        }
        Ok((date - index_start()).num_days() as usize)
    }

    fn date_at(offset: u32) -> NaiveDate {
        index_start() + Duration::days(offset as i64)
    }

    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        let i = self.offset(date)?;
        let before = if i == 0 { 0 } else { self.working_rank[i - 1] };
        Ok(self.working_rank[i] > before)
    }

    /// The `n`th working day after `from` (counting starts the day after, 民法典 art. 201); `n = 0`
    /// gives `from` itself.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Result<Counted, CalendarError> {
        let i = self.offset(from)?;
        if n == 0 {
            return Ok(Counted { date: from, provisional: !self.data.is_settled(from) });
        }
        // working_rank[i] working days lie in [start, from]; the n-th after is the (rank + n)-th.
        let target = self.working_rank[i] as usize + n as usize - 1;
        let offset = *self
            .working_days
            .get(target)
            .ok_or_else(|| CalendarError::DateOutOfRange(index_end() + Duration::days(1)))?;
        let date = Self::date_at(offset);
        let provisional = self.unsettled_rank[offset as usize] > self.unsettled_rank[i];
        Ok(Counted { date, provisional })
    }

    /// Working days in (from, to]; negative when `to` is before `from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Result<i64, CalendarError> {
        let (a, b) = (self.offset(from)?, self.offset(to)?);
        Ok(self.working_rank[b] as i64 - self.working_rank[a] as i64)
    }

    /// Whether any day in (from, to] is not settled by a loaded notice.
    pub fn any_unsettled(&self, from: NaiveDate, to: NaiveDate) -> Result<bool, CalendarError> {
        let (a, b) = (self.offset(from)?, self.offset(to)?);
        Ok(b > a && self.unsettled_rank[b] > self.unsettled_rank[a])
    }

    /// Every day in (from, to] that is not an ordinary weekday: skipped weekends and holidays, and
    /// counted make-up working days, with their reasons.
    pub fn notable_days(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, DayClass)> {
        let mut out = Vec::new();
        let mut date = from + Duration::days(1);
        while date <= to {
            let class = self.data.classify(date);
            if class != DayClass::Weekday {
                out.push((date, class));
            }
            date += Duration::days(1);
        }
        out
    }

    /// Reference implementation: a day-by-day walk (for tests and the benchmark's comparison).
    pub fn add_working_days_by_walking(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut date = from;
        let mut left = n;
        while left > 0 {
            date += Duration::days(1);
            if self.data.classify(date).is_working() {
                left -= 1;
            }
        }
        date
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn shipped_notices() -> Vec<YearNotice> {
        crate::calendar_data::shipped_notices()
    }

    pub fn shipped_index() -> WorkingDayIndex {
        WorkingDayIndex::new(crate::calendar_data::shipped_calendar())
    }

    pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_shipped_notice_is_valid_and_cites_its_sources() {
        let notices = shipped_notices();
        assert_eq!(notices.iter().map(|n| n.year).collect::<Vec<_>>(), (2007..=2026).collect::<Vec<_>>());
        for n in &notices {
            n.validate().unwrap();
            assert!(!n.papers.is_empty(), "{} has no source notice", n.year);
        }
    }

    #[test]
    fn worked_examples_of_the_rules() {
        let idx = shipped_index();
        // china-ogi-rules.md section 5.
        assert_eq!(idx.add_working_days(d(2015, 9, 1), 15).unwrap().date, d(2015, 9, 23));
        assert_eq!(idx.add_working_days(d(2015, 9, 1), 30).unwrap().date, d(2015, 10, 20));
        assert_eq!(idx.add_working_days(d(2015, 9, 30), 15).unwrap().date, d(2015, 10, 27));
        assert_eq!(idx.add_working_days(d(2018, 12, 28), 15).unwrap().date, d(2019, 1, 21));
        assert_eq!(idx.add_working_days(d(2024, 9, 27), 20).unwrap().date, d(2024, 10, 30));
        assert_eq!(idx.add_working_days(d(2024, 9, 27), 40).unwrap().date, d(2024, 11, 27));
        assert!(!idx.add_working_days(d(2015, 9, 1), 15).unwrap().provisional);
    }

    #[test]
    fn make_up_working_days_count_and_holidays_do_not() {
        let idx = shipped_index();
        assert!(idx.is_working_day(d(2015, 9, 6)).unwrap(), "Sunday 2015-09-06 was a working day");
        assert!(idx.is_working_day(d(2018, 12, 29)).unwrap(), "Saturday 2018-12-29, set by the 2019 notice");
        assert!(!idx.is_working_day(d(2015, 9, 3)).unwrap());
        assert!(!idx.is_working_day(d(2015, 10, 1)).unwrap());
        assert!(idx.is_working_day(d(2015, 10, 10)).unwrap(), "Saturday 2015-10-10 was a working day");
    }

    #[test]
    fn december_is_settled_only_with_the_next_years_notice() {
        let mut data = CalendarData::default();
        let notices = shipped_notices();
        data.add_notice(notices.iter().find(|n| n.year == 2018).unwrap());
        let without_2019 = WorkingDayIndex::new(data.clone());
        // Saturday 2018-12-29 looks like a weekend, and the result says it may change.
        assert!(!without_2019.is_working_day(d(2018, 12, 29)).unwrap());
        let counted = without_2019.add_working_days(d(2018, 12, 20), 5).unwrap();
        assert!(counted.provisional);
        assert!(!without_2019.add_working_days(d(2018, 12, 3), 5).unwrap().provisional);
        data.add_notice(notices.iter().find(|n| n.year == 2019).unwrap());
        let with_2019 = WorkingDayIndex::new(data);
        assert!(with_2019.is_working_day(d(2018, 12, 29)).unwrap());
        let counted = with_2019.add_working_days(d(2018, 12, 20), 5).unwrap();
        assert!(!counted.provisional);
        assert_eq!(counted.date, d(2018, 12, 27));
    }

    #[test]
    fn unloaded_years_follow_the_provisional_rule_and_say_so() {
        let idx = shipped_index();
        // 2027 has no notice: 1 January is assumed off, and the result is provisional.
        assert_eq!(idx.data().classify(d(2027, 1, 1)), DayClass::ProvisionalHoliday { name: "元旦".into() });
        assert_eq!(idx.data().classify(d(2027, 10, 4)), DayClass::Weekday);
        let counted = idx.add_working_days(d(2026, 12, 30), 3).unwrap();
        assert!(counted.provisional);
        // Thu 31 Dec 2026 is a weekday; 1 Jan 2027 assumed off, 2-3 Jan weekend; then Mon 4, Tue 5.
        assert_eq!(counted.date, d(2027, 1, 5));
        let inside = idx.add_working_days(d(2026, 3, 2), 20).unwrap();
        assert!(!inside.provisional);
    }

    #[test]
    fn an_overlay_adds_local_holidays() {
        let mut data = CalendarData::default();
        for n in shipped_notices() {
            data.add_notice(&n);
        }
        let local = data.clone().with_overlay([DayException {
            date: d(2015, 3, 3),
            is_off_day: true,
            name: "地方节日".into(),
        }]);
        let national = WorkingDayIndex::new(data);
        let local = WorkingDayIndex::new(local);
        assert_eq!(national.add_working_days(d(2015, 3, 2), 1).unwrap().date, d(2015, 3, 3));
        assert_eq!(local.add_working_days(d(2015, 3, 2), 1).unwrap().date, d(2015, 3, 4));
    }

    #[test]
    fn notices_are_checked_before_loading() {
        let empty = YearNotice { year: 2027, papers: vec![], days: vec![] };
        assert_eq!(empty.validate(), Err(CalendarError::EmptyNotice(2027)));
        let day = |date| NoticeDay { name: "元旦".into(), date, is_off_day: true };
        let stray = YearNotice { year: 2027, papers: vec![], days: vec![day(d(2025, 12, 31))] };
        assert!(matches!(stray.validate(), Err(CalendarError::DateOutsideYear { .. })));
        let twice = YearNotice { year: 2027, papers: vec![], days: vec![day(d(2027, 1, 1)), day(d(2027, 1, 1))] };
        assert_eq!(twice.validate(), Err(CalendarError::DuplicateDate(d(2027, 1, 1))));
        let early_december = YearNotice { year: 2027, papers: vec![], days: vec![day(d(2026, 12, 31))] };
        assert!(early_december.validate().is_ok());
    }

    #[test]
    fn dates_outside_the_index_are_errors_not_guesses() {
        let idx = shipped_index();
        assert!(idx.add_working_days(d(1999, 12, 31), 1).is_err());
        assert!(idx.add_working_days(d(2099, 12, 30), 40).is_err());
    }

    #[test]
    fn notable_days_explain_skips_and_make_up_days() {
        let idx = shipped_index();
        let notable = idx.notable_days(d(2015, 9, 1), d(2015, 9, 23));
        assert!(notable.contains(&(
            d(2015, 9, 3),
            DayClass::Holiday { name: "抗日战争暨世界反法西斯战争胜利70周年纪念日".into() }
        )));
        assert!(notable.contains(&(
            d(2015, 9, 6),
            DayClass::MakeUpWorkday { name: "抗日战争暨世界反法西斯战争胜利70周年纪念日".into() }
        )));
        assert!(notable.contains(&(d(2015, 9, 12), DayClass::Weekend)));
    }

    /// Deterministic pseudo-random (date, n) pairs without a dependency.
    fn samples(count: usize) -> impl Iterator<Item = (NaiveDate, u32)> {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..count).map(move |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let day = (state % 7300) as i64; // 2007..2026
            let n = ((state >> 32) % 41) as u32;
            (d(2007, 1, 1) + Duration::days(day), n)
        })
    }

    #[test]
    fn property_the_index_agrees_with_a_day_by_day_walk() {
        let idx = shipped_index();
        for (from, n) in samples(20_000) {
            assert_eq!(
                idx.add_working_days(from, n).unwrap().date,
                idx.add_working_days_by_walking(from, n),
                "{from} + {n}"
            );
        }
    }

    #[test]
    fn property_a_deadline_is_a_working_day_with_exactly_n_working_days_after_receipt() {
        let idx = shipped_index();
        for (from, n) in samples(20_000).filter(|(_, n)| *n > 0) {
            let due = idx.add_working_days(from, n).unwrap().date;
            assert!(idx.is_working_day(due).unwrap(), "{from} + {n} = {due}");
            assert_eq!(idx.working_days_between(from, due).unwrap(), n as i64);
        }
    }

    #[test]
    fn property_deadlines_do_not_decrease_with_the_receipt_date_and_extensions_only_add() {
        let idx = shipped_index();
        for (from, n) in samples(20_000) {
            let next = from + Duration::days(1);
            assert!(idx.add_working_days(next, n).unwrap().date >= idx.add_working_days(from, n).unwrap().date);
            let extended = idx.add_working_days(from, n + 15).unwrap().date;
            assert!(extended >= idx.add_working_days(from, n).unwrap().date);
        }
    }
}
