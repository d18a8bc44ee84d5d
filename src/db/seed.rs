//! Bulk synthetic data for benchmarks (`foi-tracker dev seed`): case rows generated inside PostgreSQL
//! with `generate_series`, spread over ten years, eleven agencies, every channel, applicant type, topic
//! and most outcomes, a share left open, and a reconsideration on every fiftieth closed case.
//!
//! The rows are written directly, without an event log: they exist to measure reports and queries, and
//! `foi-tracker audit verify` reports them as broken. Never run it against a production database.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};

use super::DbConnection;
use crate::error::AppError;

/// The synthetic agency tree's root code.
pub const ROOT: &str = "BENCH";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Adds `cases` synthetic cases (`open_percent` of them still open) under agency BENCH (which must
/// exist: `service::seed` makes its tree), in batches of 100,000; returns the number of cases under
/// BENCH afterwards. PostgreSQL only.
pub fn insert_cases(
    conn: &mut DbConnection,
    cases: i64,
    open_percent: i32,
    progress: impl Fn(i64),
) -> Result<i64, AppError> {
    let DbConnection::Postgres(pg) = conn else {
        return Err(AppError::validation(
            "database",
            "dev seed needs PostgreSQL (it generates rows with generate_series)",
        ));
    };
    let existing: i64 = diesel::sql_query("SELECT count(*) AS n FROM cases WHERE tracking_number LIKE 'BENCH-%'")
        .get_result::<Count>(pg)?
        .n;
    let mut done = 0;
    while done < cases {
        let batch = (cases - done).min(100_000);
        let (from, to) = (existing + done + 1, existing + done + batch);
        diesel::sql_query(INSERT_CASES)
            .bind::<BigInt, _>(from)
            .bind::<BigInt, _>(to)
            .bind::<Integer, _>(open_percent)
            .execute(pg)?;
        diesel::sql_query(INSERT_APPEALS).bind::<BigInt, _>(from).bind::<BigInt, _>(to).execute(pg)?;
        done += batch;
        progress(done);
    }
    diesel::sql_query("ANALYZE cases").execute(pg)?;
    diesel::sql_query("ANALYZE case_appeals").execute(pg)?;
    Ok(diesel::sql_query("SELECT count(*) AS n FROM cases WHERE tracking_number LIKE 'BENCH-%'")
        .get_result::<Count>(pg)?
        .n)
}

/// Cases $1..=$2; $3 percent of them open.
const INSERT_CASES: &str = r#"
INSERT INTO cases (id, agency_id, tracking_number, tracking_year, tracking_seq, state, regime, channel, arrived_at,
    received_on, receipt_basis, receipt_evidence, applicant_kind, applicant_name, applicant_id_number, applicant_phone,
    applicant_email, applicant_address, description, delivery_form, topic, created_by, created_at, updated_at,
    last_event_seq, last_event_hash, due_on, final_due_on, deadline_provisional, closed_on, closed_as, handler_id,
    outcome, outcome_reason, already_public, repeat_of_case_id, draft_outcome, served_on, service_method,
    transferred_to_case_id, transferred_from_case_id, fee_charged_fen, fee_waived_fen)
SELECT gen_random_uuid()::text, a.id, 'BENCH-' || g.n, extract(year FROM g.received_on)::int, g.n,
    CASE WHEN g.open THEN 'under_review' WHEN g.o = 18 THEN 'withdrawn' ELSE 'replied' END,
    CASE WHEN g.received_on < DATE '2019-05-15' THEN 'ogi2008' ELSE 'ogi2019' END,
    (ARRAY['letter','web','email','fax','in_person'])[1 + g.n % 5],
    g.received_on::timestamp + interval '2 hours', g.received_on, 'clerk_determined', 'synthetic',
    (ARRAY['natural_person','business','research_institution','public_interest_org','legal_services','other_org'])[1 + (g.n / 5) % 6],
    '申请人' || g.n, NULL, '1570427' || lpad((g.n % 10000)::text, 4, '0'), NULL, NULL, '合成数据', 'paper',
    (ARRAY['urban','farming','livelihood','labour','other'])[1 + (g.n / 3) % 5],
    (SELECT id FROM users WHERE name = 'bench' LIMIT 1), now(), now(), 0, '',
    g.received_on + 28, g.received_on + 28, FALSE,
    CASE WHEN g.open THEN NULL ELSE g.received_on + (g.n % 30)::int END,
    CASE WHEN g.open THEN NULL WHEN g.o = 18 THEN 'withdrawn' WHEN g.n % 10 = 1 THEN 'extended' ELSE 'on_time' END,
    NULL,
    CASE WHEN g.open THEN NULL WHEN g.o < 14 THEN 'disclosed' WHEN g.o = 14 THEN 'partly_disclosed'
         WHEN g.o = 15 THEN 'withheld' WHEN g.o IN (16, 19) THEN 'unable' WHEN g.o = 17 THEN 'not_processed'
         ELSE 'other' END,
    CASE WHEN g.open OR g.o < 15 THEN NULL WHEN g.o = 15 THEN 'process_information' WHEN g.o = 16 THEN 'does_not_exist'
         WHEN g.o = 17 THEN 'petition_or_complaint' WHEN g.o = 18 THEN 'withdrawn' ELSE 'another_agency' END,
    NOT g.open AND g.o < 14 AND g.n % 3 = 0, NULL, NULL,
    CASE WHEN g.open THEN NULL ELSE g.received_on + (g.n % 30)::int END,
    CASE WHEN g.open THEN NULL ELSE 'post' END, NULL, NULL,
    CASE WHEN g.n % 97 = 0 THEN 1000 ELSE 0 END, 0
FROM (
    SELECT n, DATE '2015-01-01' + (n % 3650)::int AS received_on, (n * 7) % 100 < $3 AS open, (n / 11) % 20 AS o
    FROM generate_series($1::bigint, $2::bigint) AS n
) g
JOIN (SELECT id, (row_number() OVER (ORDER BY code)) - 1 AS k FROM agencies WHERE code LIKE 'BENCH%') a ON a.k = g.n % 11
"#;

/// A reconsideration on every fiftieth closed case of $1..=$2: upheld, corrected, other or pending.
const INSERT_APPEALS: &str = r#"
INSERT INTO case_appeals (case_id, number, kind, filed_on, reference, outcome, decided_on)
SELECT id, 1, 'reconsideration', closed_on + 10,
    NULL, (ARRAY['upheld','corrected','other','pending'])[1 + (tracking_seq / 50) % 4],
    CASE WHEN (tracking_seq / 50) % 4 = 3 THEN NULL ELSE closed_on + 40 END
FROM cases
WHERE tracking_number LIKE 'BENCH-%' AND tracking_seq BETWEEN $1 AND $2 AND tracking_seq % 50 = 0
    AND closed_on IS NOT NULL
"#;
