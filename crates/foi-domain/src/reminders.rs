//! Deadline reminders: which reminder a case is due, who receives it, how a digest reads, and how long a
//! failed delivery waits before the next try. Pure; the job in `crate::service::reminders` does the I/O.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::workflow::CaseState;

string_enum! {
    /// What a reminder is about.
    ReminderKind {
        /// The reply deadline is `threshold` working days away or less.
        Due => "due",
        /// The reply deadline has passed: daily, to the office head.
        Overdue => "overdue",
        /// A stopped clock's period ends (the applicant's correction date, a consultation's lapse).
        StopEnds => "stop_ends",
    }
}

string_enum! {
    /// Why a recipient receives a reminder.
    RecipientRole {
        /// The handler assigned to the case.
        Handler => "handler",
        /// An office head (overdue cases).
        Approver => "approver",
        /// The agency's office mailbox: nobody more specific has an address.
        Office => "office",
    }
}

string_enum! {
    /// Where a reminder is on its way to the recipient.
    OutboxState {
        /// Recorded, not yet tried.
        Pending => "pending",
        /// Claimed by a run that is sending it (until its lease runs out).
        Sending => "sending",
        /// Accepted by the mail server.
        Sent => "sent",
        /// The last try failed; retried after a backoff.
        Failed => "failed",
    }
}

/// The Message-ID of the digest carrying these reminders (outbox row ids): the same reminders give the
/// same id, so a digest sent again after a failed or interrupted attempt is recognisable as the same
/// message by the recipient's mail system.
pub fn digest_message_id(reminder_ids: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut ids: Vec<&str> = reminder_ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    let hash = Sha256::digest(ids.join("\n").as_bytes());
    format!("{}@foi-tracker", &hex::encode(hash)[..32])
}

/// What the reminder scheduler does next: the daily run (select and send) or, sooner, a delivery of
/// reminders whose retry time comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    Daily(chrono::DateTime<chrono::Utc>),
    Retry(chrono::DateTime<chrono::Utc>),
}

/// The scheduler's next wake: the retry time of the first reminder waiting (never before `now`) when
/// it comes before the daily run.
pub fn next_wake(
    now: chrono::DateTime<chrono::Utc>,
    daily: chrono::DateTime<chrono::Utc>,
    first_retry: Option<chrono::DateTime<chrono::Utc>>,
) -> Wake {
    match first_retry {
        Some(retry) if retry < daily => Wake::Retry(retry.max(now)),
        _ => Wake::Daily(daily),
    }
}

/// The threshold a reminder falls under: the smallest configured threshold at or above the working
/// days left, so a job that ran late sends the current tier only, never a burst of earlier ones.
pub fn tier(days_left: i64, thresholds: &[i64]) -> Option<i64> {
    if days_left < 0 {
        return None;
    }
    thresholds.iter().copied().filter(|&t| t >= days_left).min()
}

/// The reminders a case is due on `today`: (kind, date it is about, threshold or None for overdue,
/// working days left, negative when overdue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub kind: ReminderKind,
    pub on: NaiveDate,
    pub threshold: Option<i64>,
    pub working_days_left: i64,
}

/// Reminders for one open case. `reply_days_left`: working days from today to the final deadline
/// (negative when overdue) with that deadline; `stop_days_left`: the same for a stopped clock's end.
pub fn due_reminders(reply: Option<(NaiveDate, i64)>, stop: Option<(NaiveDate, i64)>, thresholds: &[i64]) -> Vec<Due> {
    let mut out = Vec::new();
    if let Some((on, left)) = reply {
        if left < 0 {
            out.push(Due { kind: ReminderKind::Overdue, on, threshold: None, working_days_left: left });
        } else if let Some(t) = tier(left, thresholds) {
            out.push(Due { kind: ReminderKind::Due, on, threshold: Some(t), working_days_left: left });
        }
    }
    if let Some((on, left)) = stop {
        if let Some(t) = tier(left, thresholds) {
            out.push(Due { kind: ReminderKind::StopEnds, on, threshold: Some(t), working_days_left: left });
        }
    }
    out
}

/// The key that makes a reminder unique: before a deadline (case, the deadline's date, threshold), so
/// a moved deadline (an extension, a recomputation) gets reminders of its own; once overdue, one per
/// day.
pub fn dedup_key(case_id: &str, due: &Due, today: NaiveDate) -> String {
    match due.threshold {
        Some(t) => format!("{}:{case_id}:{}:{t}", due.kind.as_str(), due.on),
        None => format!("{}:{case_id}:{}:{today}", due.kind.as_str(), due.on),
    }
}

/// Waiting time before retry number `attempts + 1` after a failed delivery: 1, 2, 4, ... minutes,
/// at most 6 hours.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let minutes = 1i64 << attempts.clamp(1, 20).saturating_sub(1);
    chrono::Duration::minutes(minutes.min(360))
}

/// One case in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestItem {
    pub tracking_number: String,
    pub stage: CaseState,
    pub kind: ReminderKind,
    pub due_on: NaiveDate,
    pub working_days_left: i64,
    /// Already masked.
    pub applicant: String,
}

/// A digest template (`config/templates/reminder.{zh,en}.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Template {
    pub subject: String,
    pub intro: String,
    pub line: String,
    pub outro: String,
    pub what: BTreeMap<String, String>,
    pub status: BTreeMap<String, String>,
    pub stage: BTreeMap<String, String>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        let t: Template = toml::from_str(text).map_err(|e| e.to_string())?;
        for key in ["due", "overdue", "stop_ends"] {
            if !t.what.contains_key(key) {
                return Err(format!("[what] needs `{key}`"));
            }
        }
        for key in ["left", "today", "overdue"] {
            if !t.status.contains_key(key) {
                return Err(format!("[status] needs `{key}`"));
            }
        }
        Ok(t)
    }

    /// The subject and body of one recipient's digest.
    pub fn render(&self, recipient: &str, date: NaiveDate, items: &[DigestItem]) -> (String, String) {
        let fill = |text: &str, pairs: &[(&str, String)]| {
            pairs.iter().fold(text.to_owned(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v))
        };
        let head =
            [("count", items.len().to_string()), ("date", date.to_string()), ("recipient", recipient.to_owned())];
        let subject = fill(&self.subject, &head);
        let mut body = fill(&self.intro, &head);
        for item in items {
            let days = item.working_days_left.abs().to_string();
            let status = match item.working_days_left {
                n if n < 0 => fill(&self.status["overdue"], &[("days", days)]),
                0 => self.status["today"].clone(),
                _ => fill(&self.status["left"], &[("days", days)]),
            };
            let line = fill(
                &self.line,
                &[
                    ("tracking_number", item.tracking_number.clone()),
                    ("stage", self.stage.get(item.stage.as_str()).cloned().unwrap_or_else(|| item.stage.to_string())),
                    ("what", self.what[item.kind.as_str()].clone()),
                    ("due_on", item.due_on.to_string()),
                    ("status", status),
                    ("applicant", item.applicant.clone()),
                ],
            );
            body.push_str(&line);
            body.push('\n');
        }
        body.push_str(&fill(&self.outro, &head));
        (subject, body)
    }
}

/// The compiled-in templates (the files in `config/templates/`).
pub fn default_template(language: &str) -> Option<&'static str> {
    match language {
        "zh" => Some(include_str!("../../../config/templates/reminder.zh.toml")),
        "en" => Some(include_str!("../../../config/templates/reminder.en.toml")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_digest_of_the_same_reminders_keeps_its_message_id() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let first = digest_message_id(&ids(&["b", "a"]));
        assert_eq!(first, digest_message_id(&ids(&["a", "b"])), "order does not matter");
        assert_ne!(first, digest_message_id(&ids(&["a", "b", "c"])));
        assert!(first.ends_with("@foi-tracker") && first.len() == 32 + "@foi-tracker".len());
    }

    #[test]
    fn the_scheduler_wakes_for_a_retry_before_the_daily_run() {
        let t = |h, m| chrono::NaiveDate::from_ymd_opt(2024, 3, 22).unwrap().and_hms_opt(h, m, 0).unwrap().and_utc();
        let (now, daily) = (t(1, 0), t(23, 30));
        assert_eq!(next_wake(now, daily, None), Wake::Daily(daily));
        assert_eq!(next_wake(now, daily, Some(t(1, 1))), Wake::Retry(t(1, 1)));
        assert_eq!(next_wake(now, daily, Some(t(0, 30))), Wake::Retry(now), "an overdue retry goes now");
        assert_eq!(next_wake(now, daily, Some(t(23, 45))), Wake::Daily(daily), "the daily run delivers it");
    }

    #[test]
    fn the_current_tier_only() {
        let t = [5, 2, 0];
        assert_eq!(tier(7, &t), None);
        assert_eq!(tier(5, &t), Some(5));
        assert_eq!(tier(4, &t), Some(5));
        assert_eq!(tier(2, &t), Some(2));
        assert_eq!(tier(1, &t), Some(2));
        assert_eq!(tier(0, &t), Some(0));
        assert_eq!(tier(-1, &t), None);
    }

    #[test]
    fn overdue_cases_get_a_daily_reminder_and_stops_their_own() {
        let due = due_reminders(Some((d(2024, 3, 1), -2)), Some((d(2024, 3, 5), 1)), &[5, 2, 0]);
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].kind, ReminderKind::Overdue);
        assert_eq!(dedup_key("c", &due[0], d(2024, 3, 4)), "overdue:c:2024-03-01:2024-03-04");
        assert_eq!(due[1].kind, ReminderKind::StopEnds);
        assert_eq!(dedup_key("c", &due[1], d(2024, 3, 4)), "stop_ends:c:2024-03-05:2");
        assert!(due_reminders(Some((d(2024, 3, 20), 9)), None, &[5, 2, 0]).is_empty());
    }

    #[test]
    fn a_moved_deadline_is_a_new_reminder() {
        let before = due_reminders(Some((d(2024, 3, 20), 2)), None, &[5, 2, 0]);
        let after = due_reminders(Some((d(2024, 4, 17), 2)), None, &[5, 2, 0]);
        assert_ne!(dedup_key("c", &before[0], d(2024, 3, 18)), dedup_key("c", &after[0], d(2024, 4, 15)));
    }

    #[test]
    fn backoff_doubles_up_to_six_hours() {
        assert_eq!(backoff(1), chrono::Duration::minutes(1));
        assert_eq!(backoff(2), chrono::Duration::minutes(2));
        assert_eq!(backoff(5), chrono::Duration::minutes(16));
        assert_eq!(backoff(30), chrono::Duration::minutes(360));
    }

    #[test]
    fn both_templates_parse_and_render_every_kind() {
        let items = vec![
            DigestItem {
                tracking_number: "PJ-2024-00001".into(),
                stage: CaseState::UnderReview,
                kind: ReminderKind::Due,
                due_on: d(2024, 3, 29),
                working_days_left: 2,
                applicant: "张*".into(),
            },
            DigestItem {
                tracking_number: "PJ-2024-00002".into(),
                stage: CaseState::AwaitingCorrection,
                kind: ReminderKind::StopEnds,
                due_on: d(2024, 3, 27),
                working_days_left: 0,
                applicant: "李*".into(),
            },
            DigestItem {
                tracking_number: "PJ-2024-00003".into(),
                stage: CaseState::ReplyDrafted,
                kind: ReminderKind::Overdue,
                due_on: d(2024, 3, 20),
                working_days_left: -3,
                applicant: "王*".into(),
            },
        ];
        let zh = Template::parse(default_template("zh").unwrap()).unwrap();
        let (subject, body) = zh.render("王科长", d(2024, 3, 27), &items);
        assert_eq!(subject, "【依申请公开】3 件申请临近或超过办理期限（2024-03-27）");
        assert!(body.contains("· PJ-2024-00001｜审核中｜答复期限 2024-03-29｜剩余 2 个工作日｜申请人：张*"), "{body}");
        assert!(body.contains("待补正｜补正/征求意见期限 2024-03-27｜今日到期"), "{body}");
        assert!(body.contains("已超期 3 个工作日"), "{body}");
        let en = Template::parse(default_template("en").unwrap()).unwrap();
        let (subject, body) = en.render("Ms Wang", d(2024, 3, 27), &items);
        assert!(subject.starts_with("[FOI] 3 request(s)"));
        assert!(body.contains("3 working day(s) overdue"), "{body}");
        assert!(Template::parse("subject = 1").is_err());
    }
}
