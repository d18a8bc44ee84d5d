//! Deadline calendar feeds (RFC 5545): the reply deadlines of a user's cases (those they handle; for
//! an office head also every open case of their office) or of an agency's open cases, at a secret
//! URL a calendar program subscribes to. Each case is one all-day event on its final deadline with a
//! stable UID, and a SEQUENCE that grows whenever the case changes, so a moved deadline moves the
//! event instead of adding one. The applicant is masked: calendars leave the office's systems.

use icalendar::{Calendar, Class, Component, EventLike, Property};

use super::directory::{in_scope, own_or_managed, Named};
use super::{accounts, Caller};
use crate::db::feeds::{self, FeedCase, FeedOwner, FeedRow};
use crate::db::{agencies, users, DbConnection};
use crate::domain::account::SecurityEventKind;
use crate::domain::labels;
use crate::domain::masking::mask_name;
use crate::domain::role::Role;
use crate::error::AppError;

/// The URL path of a feed, given its secret.
pub fn path(secret: &str) -> String {
    format!("/api/v1/deadline-feeds/{secret}.ics")
}

/// A user's feed: theirs, or an administrator's for the users of their subtree.
fn user_owner(conn: &mut DbConnection, caller: Caller<'_>, user_id: &str) -> Result<FeedOwner, AppError> {
    let (user, _) = own_or_managed(conn, caller, user_id)?;
    Ok(FeedOwner::User(user.id))
}

/// An agency's feed: its administrators and office heads (approvers) in scope.
fn agency_owner(conn: &mut DbConnection, caller: Caller<'_>, code: &str) -> Result<FeedOwner, AppError> {
    if let Caller::User(p) = caller {
        if !matches!(p.role, Role::Admin | Role::Approver) {
            return Err(AppError::Forbidden(format!("the {} role cannot manage an agency's deadline feed", p.role)));
        }
    }
    let agency = in_scope(conn, caller, code, Named::InPath)?;
    Ok(FeedOwner::Agency(agency.id))
}

/// Which feed a route names: a user's (by id) or an agency's (by code).
#[derive(Debug, Clone)]
pub enum Whose {
    User(String),
    Agency(String),
}

fn owner(conn: &mut DbConnection, caller: Caller<'_>, whose: &Whose) -> Result<FeedOwner, AppError> {
    match whose {
        Whose::User(id) => user_owner(conn, caller, id),
        Whose::Agency(code) => agency_owner(conn, caller, code),
    }
}

fn subject(owner: &FeedOwner) -> Option<&str> {
    match owner {
        FeedOwner::User(id) => Some(id),
        FeedOwner::Agency(_) => None,
    }
}

/// The feed, if it exists (never its secret).
pub fn get(conn: &mut DbConnection, caller: Caller<'_>, whose: &Whose) -> Result<FeedRow, AppError> {
    let owner = owner(conn, caller, whose)?;
    feeds::find(conn, &owner)?.ok_or_else(|| AppError::NotFound("no deadline feed yet: create one with POST".into()))
}

/// Makes the feed, or replaces its secret (the old URL stops at once): the row and the new secret,
/// shown this once.
pub fn rotate(conn: &mut DbConnection, caller: Caller<'_>, whose: &Whose) -> Result<(FeedRow, String), AppError> {
    let owner = owner(conn, caller, whose)?;
    let secret = users::random_secret();
    crate::db::atomically(conn, |conn| {
        let row = feeds::rotate(conn, &owner, &secret, caller.user_id())?;
        let detail = serde_json::json!({ "feed": row.id, "agency_id": row.agency_id });
        accounts::record(conn, SecurityEventKind::FeedRotated, subject(&owner), caller, None, detail)?;
        Ok((row, secret))
    })
}

/// Removes the feed: its URL stops working.
pub fn remove(conn: &mut DbConnection, caller: Caller<'_>, whose: &Whose) -> Result<(), AppError> {
    let owner = owner(conn, caller, whose)?;
    crate::db::atomically(conn, |conn| {
        if !feeds::delete(conn, &owner)? {
            return Err(AppError::NotFound("there is no deadline feed to remove".into()));
        }
        accounts::record(conn, SecurityEventKind::FeedRemoved, subject(&owner), caller, None, serde_json::json!({}))
    })
}

fn no_feed() -> AppError {
    AppError::NotFound("no deadline feed has this address (it may have been replaced or removed)".into())
}

/// The feed a secret opens, as iCalendar text. A user's feed stops with the user's deactivation.
pub fn render(conn: &mut DbConnection, secret: &str) -> Result<String, AppError> {
    let feed = feeds::by_secret(conn, secret)?.ok_or_else(no_feed)?;
    let (title, cases) = match (&feed.user_id, &feed.agency_id) {
        (Some(user_id), _) => {
            let user = users::find_principal(conn, user_id)?.ok_or_else(no_feed)?;
            // An office head answers for every open case of the office.
            let office = (user.role == Role::Approver).then(|| user.scope_path()).flatten();
            (format!("答复期限 · {}", user.name), feeds::open_cases(conn, Some(user_id), office)?)
        }
        (None, Some(agency_id)) => {
            let agency = agencies::find_by_id(conn, agency_id)?.ok_or_else(no_feed)?;
            (format!("答复期限 · {}", agency.name), feeds::open_cases(conn, None, Some(&agency.path))?)
        }
        (None, None) => return Err(no_feed()),
    };
    Ok(calendar(&title, &cases).to_string())
}

/// The calendar of `cases`' final deadlines.
pub fn calendar(title: &str, cases: &[FeedCase]) -> Calendar {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//foi-tracker//deadlines//ZH"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .name(title)
        .description("政府信息公开申请答复期限")
        .timezone("Asia/Shanghai")
        .ttl(&chrono::Duration::hours(1));
    for case in cases {
        calendar.push(event(case));
    }
    calendar.done()
}

fn event(case: &FeedCase) -> icalendar::Event {
    let extended = case.due_on.is_some_and(|due| due != case.final_due_on);
    let summary = format!(
        "答复期限 {}{} {}",
        case.tracking_number,
        if extended { "（已延期）" } else { "" },
        labels::state(case.state)
    );
    let mut description = vec![
        format!("受理编号：{}", case.tracking_number),
        format!("机关：{}", case.agency_code),
        format!("收到申请：{}", case.received_on),
        format!("申请人：{}", mask_name(&case.applicant_name)),
        format!("办理状态：{}", labels::state(case.state)),
    ];
    if let Some(due) = case.due_on.filter(|_| extended) {
        description.push(format!("原答复期限：{due}"));
    }
    description.push(format!("答复期限：{}", case.final_due_on));
    if let Some(topic) = &case.topic {
        description.push(format!("主题：{topic}"));
    }
    let changed = case.updated_at.and_utc();
    icalendar::Event::new()
        .uid(&format!("{}@foi-tracker", case.id))
        .sequence(u32::try_from(case.last_event_seq).unwrap_or(0))
        .timestamp(changed)
        .last_modified(changed)
        .starts(case.final_due_on)
        .ends(case.final_due_on.succ_opt().unwrap_or(case.final_due_on))
        .summary(&summary)
        .description(&description.join("\n"))
        .class(Class::Private)
        .add_property("TRANSP", "TRANSPARENT")
        .done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::CaseState;
    use chrono::NaiveDate;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn case(seq: i32, final_due_on: NaiveDate) -> FeedCase {
        FeedCase {
            id: "019a0000-0000-7000-8000-000000000001".into(),
            tracking_number: "PJ-2015-00001".into(),
            agency_code: "PJ".into(),
            state: CaseState::UnderReview,
            received_on: d(2015, 3, 2),
            due_on: Some(d(2015, 3, 23)),
            final_due_on,
            applicant_name: "张三".into(),
            topic: Some("urban".into()),
            last_event_seq: seq,
            updated_at: d(2015, 3, 3).and_hms_opt(1, 2, 3).unwrap(),
        }
    }

    #[test]
    fn a_case_is_an_all_day_event_on_its_final_deadline_with_a_stable_uid_and_growing_sequence() {
        let text = calendar("答复期限 · 王芳", &[case(3, d(2015, 3, 23))]).to_string().replace("\r\n ", "");
        for line in [
            "BEGIN:VCALENDAR",
            "PRODID:-//foi-tracker//deadlines//ZH",
            "VERSION:2.0",
            "UID:019a0000-0000-7000-8000-000000000001@foi-tracker",
            "SEQUENCE:3",
            "DTSTART;VALUE=DATE:20150323",
            "DTEND;VALUE=DATE:20150324",
            "DTSTAMP:20150303T010203Z",
            "SUMMARY:答复期限 PJ-2015-00001 办理中",
            "CLASS:PRIVATE",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
        assert_eq!(text.matches("PRODID").count(), 1, "{text}");
        assert!(text.contains("申请人：张*"), "{text}");
        assert!(!text.contains("张三"), "the applicant is masked");
        // Extended: the event moves and says so; same UID, higher SEQUENCE.
        // Long lines are folded (RFC 5545 3.1); read them unfolded.
        let moved = calendar("x", &[case(5, d(2015, 4, 14))]).to_string().replace("\r\n ", "");
        assert!(moved.lines().any(|l| l == "DTSTART;VALUE=DATE:20150414"), "{moved}");
        assert!(moved.lines().any(|l| l == "SEQUENCE:5"));
        assert!(moved.contains("（已延期）") && moved.contains("原答复期限：2015-03-23"));
        assert!(moved.contains("UID:019a0000-0000-7000-8000-000000000001@foi-tracker"));
    }
}
