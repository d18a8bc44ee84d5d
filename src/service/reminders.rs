//! The deadline-reminder job: finds open cases near or past a deadline, records each reminder once in
//! the outbox, then mails one digest per recipient over SMTP, retrying failures with backoff. Safe to
//! run twice, on several instances at once, and after a crash: reminders are unique by their dedup
//! key and a run claims a recipient's reminders in one statement before sending them.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::config::MailSettings;
use crate::db::calendar::CalendarCache;
use crate::db::reminders::{self as outbox, OutboxRow};
use crate::db::DbConnection;
use crate::domain::calendar::WorkingDayIndex;
use crate::domain::masking::mask_name;
use crate::domain::reminders::{
    dedup_key, digest_message_id, due_reminders, next_wake, DigestItem, Due, OutboxState, RecipientRole, ReminderKind,
    Template, Wake,
};
use crate::error::AppError;

/// Sends one message. The SMTP implementation is `SmtpMailer`.
pub trait Mailer {
    fn send(&self, to: &str, subject: &str, body: &str, message_id: &str) -> Result<(), String>;
}

/// Mail over SMTP with lettre.
pub struct SmtpMailer {
    transport: lettre::SmtpTransport,
    from: lettre::message::Mailbox,
}

impl SmtpMailer {
    pub fn new(settings: &MailSettings) -> Result<SmtpMailer, String> {
        let transport = lettre::SmtpTransport::from_url(&settings.smtp_url)
            .map_err(|e| format!("mail.smtp_url: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(settings.timeout_seconds.max(1))))
            .build();
        let from = settings.from.parse().map_err(|e| format!("mail.from: {e}"))?;
        Ok(SmtpMailer { transport, from })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, to: &str, subject: &str, body: &str, message_id: &str) -> Result<(), String> {
        use lettre::Transport;
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to.parse().map_err(|e| format!("recipient {to}: {e}"))?)
            .subject(subject)
            .message_id(Some(message_id.to_owned()))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| e.to_string())?;
        self.transport.send(&message).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Open cases near or past a deadline.
    pub selected: usize,
    /// How long selecting them took, in milliseconds (the query and reading its rows).
    pub selection_ms: u128,
    /// New reminders recorded in the outbox.
    pub recorded: usize,
    /// Reminders without anybody to send them to (no handler, office head or office mailbox address).
    pub unaddressed: usize,
    pub digests_sent: usize,
    pub reminders_sent: usize,
    pub reminders_failed: usize,
}

/// How long a run holds the reminders it claimed; after that another run may take them over.
const LEASE: chrono::Duration = chrono::Duration::minutes(10);

/// One run of the job as of `now`. Without a mailer (mail disabled) it only records reminders. When
/// `stop` is set (the service is shutting down) it finishes the digest it is sending and stops.
pub fn run_once(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    thresholds: &[i64],
    template: &Template,
    mailer: Option<&dyn Mailer>,
    now: DateTime<Utc>,
    stop: &AtomicBool,
) -> Result<RunReport, AppError> {
    let today = crate::domain::china_date(now);
    let national = calendars.rules(conn, None)?;
    let furthest = thresholds.iter().copied().max().unwrap_or(0).clamp(0, 60) as u32;
    // Local overlays can only add rest days: a week's margin covers them; each case is then judged on
    // its own agency's calendar.
    let horizon = national.calendar.add_working_days(today, furthest).map_err(AppError::internal)?.date
        + chrono::Duration::days(7);
    let mut report = RunReport::default();
    let mut calendars_by_path: HashMap<String, std::sync::Arc<WorkingDayIndex>> = HashMap::new();
    let mut approvers: HashMap<String, Vec<String>> = HashMap::new();
    // Candidates are read a page at a time (in case-id order, from the index of open cases) and each
    // page's reminders recorded in one transaction, so memory stays flat however many cases are open.
    let mut after: Option<String> = None;
    loop {
        let started = std::time::Instant::now();
        let page = outbox::candidates_page(conn, horizon, after.as_deref(), CANDIDATES_PER_PAGE)?;
        report.selection_ms += started.elapsed().as_millis();
        let Some(last) = page.last() else { break };
        after = Some(last.case_id.clone());
        report.selected += page.len();
        let mut due = Vec::new();
        for case in &page {
            if !calendars_by_path.contains_key(&case.agency_path) {
                let rules = calendars.rules(conn, Some(&case.agency_path))?;
                calendars_by_path.insert(case.agency_path.clone(), rules.calendar.clone());
            }
            if !approvers.contains_key(&case.agency_id) {
                approvers.insert(case.agency_id.clone(), outbox::approver_emails(conn, &case.agency_id)?);
            }
            let cal = &calendars_by_path[&case.agency_path];
            reminders_for(case, cal, &approvers[&case.agency_id], thresholds, today, &mut due, &mut report)?;
        }
        // A rerun finds every reminder recorded already: ask about the page's reminders in one query
        // and build rows only for the new ones (ON CONFLICT still keeps a concurrent run's rows single).
        let pairs: Vec<(&str, &str)> = due.iter().map(|d| (d.key.as_str(), d.recipient.as_str())).collect();
        let existing = outbox::existing(conn, &pairs)?;
        drop(pairs);
        let rows = due
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !existing.contains(i))
            .map(|(_, d)| d.into_row(now))
            .collect::<Result<Vec<_>, _>>()?;
        report.recorded += outbox::record_many(conn, &rows)?;
    }
    if let Some(mailer) = mailer {
        deliver(conn, template, mailer, now, &mut report, stop)?;
    }
    Ok(report)
}

/// Candidates read per query by `run_once`.
const CANDIDATES_PER_PAGE: i64 = 5_000;

/// One reminder due to one recipient, before it is known whether the outbox holds it already.
struct DueReminder<'a> {
    case: &'a outbox::Candidate,
    due: Due,
    key: String,
    recipient: String,
    role: RecipientRole,
}

impl DueReminder<'_> {
    /// The outbox row recording this reminder as of `now`.
    fn into_row(self, now: DateTime<Utc>) -> Result<OutboxRow, AppError> {
        let item = DigestItem {
            tracking_number: self.case.tracking_number.clone(),
            stage: self.case.state,
            kind: self.due.kind,
            due_on: self.due.on,
            working_days_left: self.due.working_days_left,
            applicant: mask_name(&self.case.applicant_name),
        };
        Ok(OutboxRow {
            id: uuid::Uuid::now_v7().to_string(),
            dedup_key: self.key,
            recipient: self.recipient,
            recipient_role: self.role,
            case_id: self.case.case_id.clone(),
            agency_id: self.case.agency_id.clone(),
            kind: self.due.kind,
            due_on: self.due.on,
            working_days: self.due.working_days_left as i32,
            details: serde_json::to_string(&item).map_err(AppError::internal)?,
            state: OutboxState::Pending,
            attempts: 0,
            next_attempt_at: now.naive_utc(),
            claimed_by: None,
            claimed_until: None,
            last_error: None,
            created_at: now.naive_utc(),
            sent_at: None,
            digest_id: None,
        })
    }
}

/// The reminders one case is due `today`, one per recipient: pushed onto `out`.
fn reminders_for<'a>(
    case: &'a outbox::Candidate,
    cal: &WorkingDayIndex,
    heads: &[String],
    thresholds: &[i64],
    today: NaiveDate,
    out: &mut Vec<DueReminder<'a>>,
    report: &mut RunReport,
) -> Result<(), AppError> {
    let left = |day: Option<NaiveDate>| -> Result<Option<(NaiveDate, i64)>, AppError> {
        let Some(day) = day else { return Ok(None) };
        let n = if day >= today {
            cal.working_days_between(today, day)
        } else {
            cal.working_days_between(day, today).map(|n| -n)
        };
        Ok(Some((day, n.map_err(AppError::internal)?)))
    };
    // A stopped clock has no running reply deadline; its stop's end is what matters then.
    let stopped = case.stop_ends_on.is_some();
    let reply = if stopped { None } else { left(case.final_due_on)? };
    let stop = left(case.stop_ends_on)?;
    for due in due_reminders(reply, stop, thresholds) {
        let recipients: Vec<(String, RecipientRole)> = match due.kind {
            ReminderKind::Overdue if heads.is_empty() => {
                case.office_email.iter().map(|e| (e.clone(), RecipientRole::Office)).collect()
            }
            ReminderKind::Overdue => heads.iter().map(|e| (e.clone(), RecipientRole::Approver)).collect(),
            ReminderKind::Due | ReminderKind::StopEnds => match (&case.handler_email, &case.office_email) {
                (Some(handler), _) => vec![(handler.clone(), RecipientRole::Handler)],
                (None, Some(office)) => vec![(office.clone(), RecipientRole::Office)],
                (None, None) => vec![],
            },
        };
        if recipients.is_empty() {
            report.unaddressed += 1;
        }
        let key = dedup_key(&case.case_id, &due, today);
        for (recipient, role) in recipients {
            out.push(DueReminder { case, due: due.clone(), key: key.clone(), recipient, role });
        }
    }
    Ok(())
}

/// Sends one digest per recipient with every reminder of theirs that is ready.
fn deliver(
    conn: &mut DbConnection,
    template: &Template,
    mailer: &dyn Mailer,
    now: DateTime<Utc>,
    report: &mut RunReport,
    stop: &AtomicBool,
) -> Result<(), AppError> {
    let run_id = uuid::Uuid::now_v7().to_string();
    let at = now.naive_utc();
    for recipient in outbox::ready_recipients(conn, at)? {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let rows = outbox::claim(conn, &recipient, &run_id, at, at + LEASE)?;
        if rows.is_empty() {
            continue; // another run took them
        }
        let mut items: Vec<DigestItem> =
            rows.iter().filter_map(|r| serde_json::from_str::<DigestItem>(&r.details).ok()).collect();
        // Overdue first, then the nearest deadline.
        items.sort_by_key(|i| (i.kind != ReminderKind::Overdue, i.working_days_left, i.tracking_number.clone()));
        let name = recipient.split('@').next().unwrap_or(&recipient).to_owned();
        let (subject, body) = template.render(&name, crate::domain::china_date(now), &items);
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        // Stable for these reminders: a digest sent again after a failed or interrupted attempt
        // carries the Message-ID of its first attempt.
        let digest_id = digest_message_id(&ids);
        match mailer.send(&recipient, &subject, &body, &format!("<{digest_id}>")) {
            Ok(()) => {
                outbox::mark_sent(conn, &ids, &run_id, &digest_id, Utc::now().naive_utc())?;
                report.digests_sent += 1;
                report.reminders_sent += rows.len();
            }
            Err(error) => {
                tracing::warn!(recipient = %recipient, %error, "reminder digest not delivered; will retry");
                outbox::mark_failed(conn, &rows, &run_id, &error, at)?;
                report.reminders_failed += rows.len();
            }
        }
    }
    Ok(())
}

/// The template for `language`: `$FOI_CONFIG_DIR/templates/reminder.{language}.toml` if present,
/// else the compiled-in one.
pub fn template(config_dir: &str, language: &str) -> Result<Template, String> {
    let path = std::path::Path::new(config_dir).join(format!("templates/reminder.{language}.toml"));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) => crate::domain::reminders::default_template(language)
            .ok_or_else(|| {
                format!("mail.language `{language}`: no template (use zh or en, or add {})", path.display())
            })?
            .to_owned(),
    };
    Template::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The next run at `at` (China time) on a working day, strictly after `now`.
pub fn next_run(now: DateTime<Utc>, at: NaiveTime, is_working_day: impl Fn(NaiveDate) -> bool) -> DateTime<Utc> {
    let offset = crate::domain::china_offset();
    let local = now.with_timezone(&offset);
    let mut day = local.date_naive();
    for _ in 0..400 {
        let candidate = day.and_time(at).and_local_timezone(offset).single().expect("fixed offset").to_utc();
        if candidate > now && is_working_day(day) {
            return candidate;
        }
        day = day.succ_opt().expect("in range");
    }
    now + chrono::Duration::days(1)
}

/// Everything a run needs from the settings: thresholds, the template and (mail enabled) the mailer.
pub struct Job {
    pub thresholds: Vec<i64>,
    pub template: Template,
    pub mailer: Option<SmtpMailer>,
}

impl Job {
    pub fn from_settings(settings: &crate::config::Settings) -> Result<Job, String> {
        let config_dir = std::env::var("FOI_CONFIG_DIR").unwrap_or_else(|_| "config".to_owned());
        let mut thresholds = settings.reminders.thresholds.clone();
        if thresholds.is_empty() || thresholds.iter().any(|t| !(0..=60).contains(t)) {
            return Err("reminders.thresholds: give working days between 0 and 60, e.g. [5, 2, 0]".into());
        }
        thresholds.sort_unstable();
        thresholds.dedup();
        let mailer = if settings.mail.enabled { Some(SmtpMailer::new(&settings.mail)?) } else { None };
        Ok(Job { thresholds, template: template(&config_dir, &settings.mail.language)?, mailer })
    }

    pub fn run(
        &self,
        conn: &mut DbConnection,
        calendars: &CalendarCache,
        now: DateTime<Utc>,
        stop: &AtomicBool,
    ) -> Result<RunReport, AppError> {
        let mailer = self.mailer.as_ref().map(|m| m as &dyn Mailer);
        run_once(conn, calendars, &self.thresholds, &self.template, mailer, now, stop)
    }

    /// Sends the reminders whose retry time has come (no selection of new ones).
    pub fn deliver_ready(
        &self,
        conn: &mut DbConnection,
        now: DateTime<Utc>,
        stop: &AtomicBool,
    ) -> Result<RunReport, AppError> {
        let mut report = RunReport::default();
        if let Some(mailer) = &self.mailer {
            deliver(conn, &self.template, mailer, now, &mut report, stop)?;
        }
        Ok(report)
    }
}

/// Runs the job daily at `settings.reminders.at` (China time) on national working days, and in
/// between delivers reminders whose retry time comes (a digest that failed at 08:30 goes out at 08:31
/// once the mail server is back, not the next morning); on the calling thread (`serve` gives it a
/// thread of its own) until `stop` is set, finishing the digest it is sending.
pub fn schedule(db: crate::db::Db, job: Job, at: NaiveTime, stop: &AtomicBool) {
    let calendars = CalendarCache::default();
    while !stop.load(Ordering::Relaxed) {
        let now = Utc::now();
        let daily = match db.conn() {
            Ok(mut conn) => match calendars.rules(&mut conn, None) {
                Ok(rules) => next_run(now, at, |d| rules.calendar.is_working_day(d).unwrap_or(true)),
                Err(e) => {
                    tracing::warn!(error = %e, "reminder scheduler: calendar unavailable");
                    now + chrono::Duration::minutes(5)
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "reminder scheduler: database unavailable");
                now + chrono::Duration::minutes(5)
            }
        };
        let first_retry = match (&job.mailer, db.conn()) {
            (Some(_), Ok(mut conn)) => outbox::next_ready_at(&mut conn).ok().flatten().map(|t| t.and_utc()),
            _ => None,
        };
        let wake = next_wake(now, daily, first_retry);
        let until = match wake {
            Wake::Daily(t) => {
                tracing::info!(next = %t, "reminder job scheduled");
                t
            }
            // At least a second apart, so a retry that cannot be taken yet does not spin.
            Wake::Retry(t) => t.max(now + chrono::Duration::seconds(1)),
        };
        // Sleep in short steps so that a shutdown is noticed promptly.
        while !stop.load(Ordering::Relaxed) {
            let left = until - Utc::now();
            if left <= chrono::Duration::zero() {
                break;
            }
            std::thread::sleep(left.to_std().unwrap_or_default().min(std::time::Duration::from_millis(500)));
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let result = db.conn().and_then(|mut conn| match wake {
            Wake::Daily(_) => job.run(&mut conn, &calendars, Utc::now(), stop),
            Wake::Retry(_) => job.deliver_ready(&mut conn, Utc::now(), stop),
        });
        match (wake, result) {
            (Wake::Daily(_), Ok(report)) => {
                LAST_RUN_UNIX.store(Utc::now().timestamp(), Ordering::Relaxed);
                tracing::info!(?report, "reminder job done")
            }
            (Wake::Retry(_), Ok(report)) => tracing::info!(?report, "reminder retries done"),
            (_, Err(e)) => tracing::error!(error = %e, "reminder job failed; the next run retries"),
        }
    }
}

/// When this process last finished a reminder run (Unix seconds; 0: not yet), for monitoring.
pub static LAST_RUN_UNIX: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Counts of the outbox by state, for logs.
pub fn summary(report: &RunReport) -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("selected", report.selected),
        ("selection_ms", report.selection_ms as usize),
        ("recorded", report.recorded),
        ("unaddressed", report.unaddressed),
        ("digests_sent", report.digests_sent),
        ("reminders_sent", report.reminders_sent),
        ("reminders_failed", report.reminders_failed),
    ])
}

/// The reminder outbox within an administrator's scope, newest first (`filter.agency_path` is set
/// from the caller's scope).
pub fn outbox(
    conn: &mut DbConnection,
    user: &crate::domain::role::Principal,
    mut filter: outbox::OutboxFilter,
) -> Result<Vec<(OutboxRow, String)>, AppError> {
    if !user.role.can_administer() {
        return Err(AppError::Forbidden("only administrators see the reminder outbox".into()));
    }
    filter.agency_path = user.scope_path().map(str::to_owned);
    outbox::list(conn, &filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_run_is_the_next_working_morning_in_china() {
        let at = NaiveTime::from_hms_opt(8, 30, 0).unwrap();
        let weekday = |d: NaiveDate| chrono::Datelike::weekday(&d).number_from_monday() <= 5;
        // Friday 2024-03-01 09:00 China time = 01:00 UTC: next is Monday 08:30 China = 00:30 UTC.
        let now = DateTime::parse_from_rfc3339("2024-03-01T01:00:00Z").unwrap().to_utc();
        assert_eq!(next_run(now, at, weekday).to_rfc3339(), "2024-03-04T00:30:00+00:00");
        // Before 08:30 on a working day: the same morning.
        let now = DateTime::parse_from_rfc3339("2024-03-04T00:00:00Z").unwrap().to_utc();
        assert_eq!(next_run(now, at, weekday).to_rfc3339(), "2024-03-04T00:30:00+00:00");
    }
}
