//! The rules of the trade, free of I/O: no database, HTTP, clock or file access lives here.
//! Everything in this module is plain data and functions, tested exhaustively by unit tests.

pub mod agency;
pub mod calendar;
pub mod calendar_data;
pub mod case;
pub mod deadline;
pub mod decide;
pub mod events;
pub mod fees;
pub mod intake;
pub mod masking;
pub mod outcome;
pub mod reminders;
pub mod report;
pub mod role;
pub mod validation;
pub mod workflow;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Statutory dates are dates in China Standard Time (UTC+8, no daylight saving since 1991).
pub fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The calendar date in China at the given instant.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china_offset()).date_naive()
}

/// Timestamps are kept to microseconds so that SQLite and PostgreSQL store the same value.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{SubsecRound, Timelike};
    let micros = at.nanosecond() / 1_000 * 1_000;
    at.with_nanosecond(micros).unwrap_or_else(|| at.trunc_subsecs(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_date_rolls_over_at_utc_sixteen() {
        let before = DateTime::parse_from_rfc3339("2015-03-01T15:59:59Z").unwrap().to_utc();
        let after = DateTime::parse_from_rfc3339("2015-03-01T16:00:00Z").unwrap().to_utc();
        assert_eq!(china_date(before), NaiveDate::from_ymd_opt(2015, 3, 1).unwrap());
        assert_eq!(china_date(after), NaiveDate::from_ymd_opt(2015, 3, 2).unwrap());
    }

    #[test]
    fn truncation_drops_nanoseconds() {
        let at = DateTime::parse_from_rfc3339("2015-03-01T01:02:03.123456789Z").unwrap().to_utc();
        assert_eq!(truncate_to_micros(at).to_rfc3339(), "2015-03-01T01:02:03.123456+00:00");
    }
}
