//! The rules of the trade, free of I/O: no database, HTTP, clock or file access lives here.
//! Everything in this module is plain data and functions, tested exhaustively by unit tests.

/// An enum stored and sent as snake_case text: serde, the OpenAPI schema (feature `openapi`) and
/// the database column mapping (feature `diesel`: `ToSql`/`FromSql<Text>` on every backend, so a
/// row field or a filter takes the enum itself and an unknown stored value is a deserialization
/// error, never a silently wrong case) all come from the one list of variants and their texts.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(
            feature = "diesel",
            derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow),
            diesel(sql_type = diesel::sql_types::Text)
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "diesel")]
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        #[cfg(feature = "diesel")]
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                $name::parse(&text)
                    .ok_or_else(|| format!("{} is not a known {}", text, stringify!($name)).into())
            }
        }
    };
}

pub mod account;
pub mod agency;
pub mod amendment;
pub mod calendar;
pub mod calendar_data;
pub mod case;
pub mod deadline;
pub mod decide;
pub mod events;
pub mod fees;
pub mod intake;
pub mod labels;
pub mod ledger_import;
pub mod letters;
pub mod masking;
pub mod outcome;
pub mod papers;
pub mod reminders;
pub mod report;
pub mod role;
pub mod search;
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
