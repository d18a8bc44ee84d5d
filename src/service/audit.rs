//! The audit of the event log: every case's hash chain, its row's chain head, and that the row and
//! its appeals are the projection of its events (`GET /api/v1/audit/verify`, `foi-tracker audit
//! verify`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::cases::{appeals, events, rebuild_appeals, rebuild_row, rows_page, verify_chain};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::service::Caller;

/// One case whose record is not what its event log says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BrokenCase {
    pub case_id: String,
    pub tracking_number: String,
    /// The first event whose stored hashes do not verify (null when the chain is intact but the case
    /// row disagrees with it).
    pub first_broken_seq: Option<i32>,
    pub detail: String,
}

/// The result of re-checking every case's event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditReport {
    pub cases_checked: i64,
    pub events_checked: i64,
    pub broken: Vec<BrokenCase>,
}

/// Re-checks every case in the caller's scope (administrators): each event's hash and link to its
/// predecessor, the row's chain head, and that the row is the projection of its events. Reads the
/// cases in pages, never all at once.
pub fn verify(conn: &mut DbConnection, caller: Caller<'_>) -> Result<AuditReport, AppError> {
    const PAGE: i64 = 500;
    caller.require_admin("run the audit")?;
    let mut report = AuditReport { cases_checked: 0, events_checked: 0, broken: Vec::new() };
    let mut after: Option<String> = None;
    loop {
        let page = rows_page(conn, caller.scope_path(), after.as_deref(), PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some(match last {
            Ok(row) => row.id.clone(),
            Err(unreadable) => unreadable.case_id.clone(),
        });
        for row in page {
            report.cases_checked += 1;
            let row = match row {
                Ok(row) => row,
                Err(unreadable) => {
                    report.broken.push(BrokenCase {
                        case_id: unreadable.case_id,
                        tracking_number: unreadable.tracking_number,
                        first_broken_seq: None,
                        detail: format!("the case row holds a value the service does not know: {}", unreadable.error),
                    });
                    continue;
                }
            };
            let history = events(conn, &row.id)?;
            report.events_checked += history.len() as i64;
            let broken = |seq: Option<i32>, detail: String| BrokenCase {
                case_id: row.id.clone(),
                tracking_number: row.tracking_number.clone(),
                first_broken_seq: seq,
                detail,
            };
            if let Some(seq) = verify_chain(&history) {
                report
                    .broken
                    .push(broken(Some(seq), format!("event {seq} does not match its hash or its predecessor's")));
                continue;
            }
            let head = history.last();
            if head.map(|h| (h.seq, h.hash.as_str())) != Some((row.last_event_seq, row.last_event_hash.as_str())) {
                report.broken.push(broken(None, "the case row's chain head is not the last event".into()));
                continue;
            }
            let stored_appeals = appeals(conn, &row.id)?;
            match rebuild_row(&row, &history) {
                Ok(_) if rebuild_appeals(&row.id, &history).ok().as_ref() != Some(&stored_appeals) => {
                    report.broken.push(broken(None, "the appeals differ from the projection of the events".into()))
                }
                Ok(rebuilt) if rebuilt == row => {
                    let case = crate::db::cases::project(&history)?;
                    let problems = crate::service::papers::check_files(conn, &case)?;
                    if !problems.is_empty() {
                        report.broken.push(broken(None, problems.join("; ")));
                    }
                }
                Ok(_) => {
                    report.broken.push(broken(None, "the case row differs from the projection of its events".into()))
                }
                Err(e) => report.broken.push(broken(None, format!("the events do not replay: {e}"))),
            }
        }
    }
    Ok(report)
}
