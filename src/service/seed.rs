//! Synthetic data for benchmarks (`foi-tracker dev seed`): the BENCH agency tree with its topics and
//! a user, then case rows generated in the database (see `db::seed`). Never for production data.

use crate::db::seed::{insert_cases, ROOT};
use crate::db::{agencies, DbConnection};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::directory::{add_agency, add_user, put_topic, NewAgency};
use crate::service::Caller;

/// Adds `cases` synthetic cases (`open_percent` of them open) under agency BENCH, making its tree of
/// a city and ten departments first; the number of BENCH cases afterwards. PostgreSQL only.
pub fn seed(conn: &mut DbConnection, cases: i64, open_percent: i32, progress: impl Fn(i64)) -> Result<i64, AppError> {
    if !matches!(conn, DbConnection::Postgres(_)) {
        return Err(AppError::validation(
            "database",
            "dev seed needs PostgreSQL (it generates rows with generate_series)",
        ));
    }
    if agencies::find_by_code(conn, ROOT)?.is_none() {
        let agency = |code: String, name: String, parent: Option<&str>| NewAgency {
            code,
            name,
            parent: parent.map(str::to_owned),
            email: None,
        };
        add_agency(conn, Caller::Operator, &agency(ROOT.into(), "基准测试市人民政府".into(), None))?;
        for i in 1..=10 {
            let department = agency(format!("{ROOT}-{i:02}"), format!("基准测试部门{i}"), Some(ROOT));
            add_agency(conn, Caller::Operator, &department)?;
        }
        for (code, label) in [
            ("urban", "城建环保类"),
            ("farming", "农林水类"),
            ("livelihood", "民本民生类"),
            ("labour", "劳动人事类"),
            ("other", "其他类"),
        ] {
            put_topic(conn, Caller::Operator, ROOT, code, label)?;
        }
        add_user(conn, Caller::Operator, "bench", Role::Admin, Some(ROOT), None, None)?;
    }
    insert_cases(conn, cases, open_percent, progress)
}
