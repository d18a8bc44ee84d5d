//! The `foi-tracker` command line: serve, migrate, and administration of agencies and users.

use anyhow::Context;
use clap::{Parser, Subcommand};

use foi_tracker::config::Settings;
use foi_tracker::db::calendar::{self, CalendarCache};
use foi_tracker::db::{Db, PooledConn};
use foi_tracker::domain::calendar::YearNotice;
use foi_tracker::domain::role::Role;
use foi_tracker::error::AppError;
use foi_tracker::service::{self, accounts, directory, Caller};
use foi_tracker::{build_app, telemetry};

#[derive(Parser)]
#[command(
    name = "foi-tracker",
    version,
    about = "Tracks government information disclosure requests (政府信息依申请公开)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (migrates first unless database.run_migrations = false).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write a consistent copy of the live SQLite database to FILE (safe while the service runs; a
    /// PostgreSQL database is backed up with pg_dump, see the README).
    Backup {
        /// Where to write the copy (must not exist yet).
        file: std::path::PathBuf,
    },
    /// Manage agencies.
    Agency {
        #[command(subcommand)]
        command: AgencyCommand,
    },
    /// Manage users and their API tokens.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Compute a reply deadline, explained: the same JSON as GET /api/v1/deadlines/calculate.
    Deadline {
        /// The statutory receipt date, YYYY-MM-DD.
        #[arg(long)]
        received_on: chrono::NaiveDate,
        /// Regime code (ogi2008, ogi2019, ...); by default the one governing the receipt date.
        #[arg(long)]
        regime: Option<String>,
        /// Apply this agency's local calendar overlay.
        #[arg(long)]
        agency: Option<String>,
    },
    /// The daily lapse job (for cron): cases whose correction period ended without a corrected request
    /// are deemed abandoned (2019 Art. 30). Safe to run more than once a day and on several instances.
    Lapses {
        /// The date to apply lapses as of (default: today in China).
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
    },
    /// Tamper evidence.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The legal regimes (time limits) that registrations choose from.
    Regime {
        #[command(subcommand)]
        command: RegimeCommand,
    },
    /// The working-day calendar.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Developer tools (benchmarks).
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
    /// The deadline-reminder job: `--once` for cron (or tests, with `--now`); without it, the daily
    /// schedule of `serve` in the foreground.
    Remind {
        /// Run once and exit.
        #[arg(long)]
        once: bool,
        /// Run as of this instant (RFC 3339), not now: for tests and catching up.
        #[arg(long)]
        now: Option<String>,
    },
    /// Papers attached to cases (scans, faxes, postal receipts, decisions).
    Attachment {
        #[command(subcommand)]
        command: AttachmentCommand,
    },
    /// The letters generated from cases (登记回执, 补正告知书, 延期答复告知书, 征求第三方意见函, 答复书).
    Document {
        #[command(subcommand)]
        command: DocumentCommand,
    },
    /// Bring an office's existing ledger (台账) in.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export an annual report: the file's extension (.json, .csv, .xlsx) chooses the output.
    Report {
        /// pre2019, y2019 or y2021.
        #[arg(long, value_parser = parse_report_format)]
        format: foi_tracker::domain::report::ReportFormat,
        #[arg(long)]
        year: i32,
        /// The agency (code).
        #[arg(long)]
        agency: String,
        /// Count the agency's sub-agencies too.
        #[arg(long)]
        subtree: bool,
        /// Where to write it: FILE.json, FILE.csv or FILE.xlsx.
        #[arg(long)]
        output: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum AttachmentCommand {
    /// Attach FILE to a case; prints the attachment's id and SHA-256.
    Add {
        /// The case's tracking number, e.g. PJ-2026-00003.
        #[arg(long)]
        case: String,
        /// letter_original, envelope, fax, web_form, reply_as_served, postal_receipt,
        /// third_party_opinion, reconsideration_decision or other.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        note: Option<String>,
        /// Link it as the evidence of the receipt date (`receipt`) or of the reply's service (`service`).
        #[arg(long)]
        evidence_for: Option<String>,
        file: std::path::PathBuf,
    },
    /// Write an attachment's content to a new file, checked against its SHA-256.
    Get {
        #[arg(long)]
        case: String,
        /// The attachment's id (see `attachment list`).
        #[arg(long)]
        id: String,
        /// Where to write it (must not exist yet).
        #[arg(long)]
        output: std::path::PathBuf,
    },
    /// List a case's attachments: id, kind, size, SHA-256, file name.
    List {
        #[arg(long)]
        case: String,
    },
}

#[derive(Subcommand)]
enum DocumentCommand {
    /// Generate a letter from a case and write its DOCX to a new file (a new version when the
    /// letter changed, the existing one when it did not).
    Generate {
        /// The case's tracking number, e.g. PJ-2026-00003.
        #[arg(long)]
        case: String,
        /// receipt, correction, extension, consultation or reply.
        #[arg(long)]
        kind: String,
        /// Where to write the DOCX (must not exist yet).
        #[arg(long)]
        output: std::path::PathBuf,
        /// A fact the case does not hold, as NAME=VALUE (repeat): matters=..., respond_by=YYYY-MM-DD,
        /// third_party=..., content=..., other_agency=...
        #[arg(long = "particular", value_name = "NAME=VALUE")]
        particulars: Vec<String>,
        /// The date printed on the letter (default: today, China time).
        #[arg(long)]
        issued_on: Option<chrono::NaiveDate>,
    },
    /// List a case's letters: version id, number, kind, version, date, SHA-256.
    List {
        #[arg(long)]
        case: String,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import cases from FILE.xlsx or FILE.csv into agency CODE: every row is checked first; with any
    /// invalid row nothing is written. Rows imported before are skipped, so running it again is safe.
    Cases {
        file: std::path::PathBuf,
        /// The agency (code) the ledger belongs to.
        #[arg(long)]
        agency: String,
        /// Check every row and print the report; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The office's own headers, words and date formats (TOML; see the README).
        #[arg(long)]
        mapping: Option<std::path::PathBuf>,
    },
    /// Write the import template (XLSX, headers in Chinese, one example row).
    Template {
        #[arg(long)]
        output: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum DevCommand {
    /// Add synthetic cases under agency BENCH for benchmarks, on either backend (rows without event
    /// logs, which the audit reports as broken: never on a production database).
    Seed {
        /// How many cases to add (BENCH must have none yet).
        #[arg(long)]
        cases: i64,
        /// Leave this share of all cases open, in percent (default: the last 30 days' receipts and
        /// one in 500 older cases, as in an office).
        #[arg(long)]
        open_percent: Option<u32>,
        /// Receipts spread over this many years.
        #[arg(long, default_value_t = 10)]
        years: i32,
        /// The last receipt date (default: today in China).
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Re-check every case's event hash chain and that each case row is the projection of its
    /// events; print the first broken link of each damaged case; exit with status 1 if any.
    Verify,
}

#[derive(Subcommand)]
enum RegimeCommand {
    /// List the regimes.
    List,
    /// Add a regime: a stricter local rule (`--agency`) or a future amendment. It applies to requests
    /// registered from now on whose receipt date it covers; the most specific regime in force wins.
    Add {
        /// Code, e.g. `ln2025`.
        code: String,
        /// Name, e.g. the rule's title and number.
        name: String,
        /// First receipt date it governs.
        #[arg(long)]
        from: chrono::NaiveDate,
        /// First receipt date it no longer governs.
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
        #[arg(long)]
        reply_days: u32,
        #[arg(long)]
        max_extension_days: u32,
        /// Working days after receipt within which a correction notice must go out.
        #[arg(long)]
        correction_notice_days: Option<u32>,
        /// Working days after which an unanswered consultation lapses.
        #[arg(long)]
        consultation_lapse_days: Option<u32>,
        /// Leave the time between a fee notice and payment out of the reply period.
        #[arg(long)]
        fee_stops_clock: bool,
        /// Fee law: `cost_2008` (search, copying, postage at cost) or `processing_2020` (the
        /// information-processing fee).
        #[arg(long, default_value = "processing_2020", value_parser = parse_fee_scheme)]
        fee_scheme: foi_tracker::domain::fees::FeeScheme,
        /// The agency may not set a later reply date itself (no 2019 Art. 35 delay).
        #[arg(long)]
        no_agency_delay: bool,
        /// Which consultations stop the clock, comma-separated: `third_party`, `other_agency`
        /// (2019 Art. 33(3): both; 2008 Art. 24: third_party only). Empty: none.
        #[arg(long, default_value = "third_party,other_agency")]
        paused_consultations: String,
        /// Scope the regime to this agency's subtree.
        #[arg(long)]
        agency: Option<String>,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Import a year's State Council holiday notice in holiday-cn JSON format; recomputes the deadlines
    /// of open cases and prints those that moved.
    Import { file: std::path::PathBuf },
    /// List the loaded notices with their sources.
    List,
}

#[derive(Subcommand)]
enum AgencyCommand {
    /// Add an agency: `agency add PJ 盘锦市人民政府`, or under a parent with `--parent PJ`.
    Add {
        code: String,
        name: String,
        #[arg(long)]
        parent: Option<String>,
        /// The disclosure office's mailbox.
        #[arg(long)]
        email: Option<String>,
    },
    /// List agencies in tree order.
    List,
    /// Define or relabel a topic in an agency's taxonomy: `agency topic PJ urban 城建环保类`.
    Topic { agency: String, code: String, label: String },
    /// Set the disclosure office's mailbox (reminders of unassigned cases go there); without an
    /// address, clear it.
    Email { agency: String, address: Option<String> },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the new API token is printed as the last line of stdout.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The agency whose subtree the user works in (required except for admin).
        #[arg(long)]
        agency: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// The name to sign in with in a browser (default: the name, when it is one word nobody
        /// else signs in with).
        #[arg(long)]
        login: Option<String>,
    },
    /// List users: id, login, name, role, agency, e-mail.
    List,
    /// Set the password a user signs in with, read from standard input (its first line), e.g.
    /// `printf '%s\n' "$PASSWORD" | foi-tracker user password zhangwei`. NAME is the login or the
    /// user id. The user's sessions end.
    Password { name: String },
    /// Give a user the login name they sign in with.
    Login { user_id: String, login: String },
    /// Set a user's e-mail address (where reminders reach them); without an address, clear it.
    Email { user_id: String, address: Option<String> },
    /// Deactivate a user: their tokens stop working at once; their history stays.
    Deactivate { user_id: String },
    /// Reactivate a deactivated user (their unrevoked, unexpired tokens work again).
    Reactivate { user_id: String },
    /// A user's API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a named token for a user; the token is printed as the last line (shown once).
    Create {
        user_id: String,
        /// What the token is for, e.g. "front end" or "statistics export".
        #[arg(long, default_value = "command line")]
        name: String,
        /// When it stops working (RFC 3339), e.g. 2027-06-30T18:00:00+08:00.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List a user's tokens: id, prefix, name, created, last used, expires, revoked.
    List { user_id: String },
    /// Revoke one of a user's tokens (by its id from `list`).
    Revoke { user_id: String, token_id: String },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| {
        let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role `{text}`; one of {}", all.join(", "))
    })
}

/// Prints validation problems field by field.
fn explain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(errors) => {
            let lines: Vec<String> = errors.iter().map(|f| format!("  {}: {}", f.path, f.message)).collect();
            anyhow::anyhow!("invalid input:\n{}", lines.join("\n"))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

/// Opens the configured database, migrated to the current schema.
fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(&settings.database)?;
    db.migrate()?;
    Ok(db)
}

/// The database and one connection from it, for a command that works in a single connection.
fn connect(settings: &Settings) -> anyhow::Result<(Db, PooledConn)> {
    let db = open_db(settings)?;
    let conn = db.conn().map_err(explain)?;
    Ok((db, conn))
}

/// Errors are printed as one line with their causes (`Error: cannot open …: connection refused`),
/// never as a backtrace, whatever RUST_BACKTRACE says: the reader is an operator.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve) {
        // A command's output piped into `head` and cut short ends the command quietly, as for any
        // Unix tool, instead of a panic on the failed write. `serve` keeps ignoring SIGPIPE: a client
        // going away must not stop the server.
        #[cfg(unix)]
        // SAFETY: at start, on the main thread, before any other thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let settings = Settings::load().context("cannot load settings")?;
    telemetry::init(&settings.log);
    match cli.command {
        Command::Serve => serve(settings),
        Command::Migrate => {
            let db = Db::connect(&settings.database)?;
            let applied = db.migrate()?;
            println!("{applied} migration(s) applied to the {} database", db.backend_name());
            Ok(())
        }
        Command::Backup { file } => {
            let db = Db::connect(&settings.database)?;
            let copy = db.backup(&file)?;
            println!(
                "wrote {} ({} bytes, {} case(s)); its integrity check passed",
                file.display(),
                copy.bytes,
                copy.cases
            );
            Ok(())
        }
        Command::Agency { command } => {
            let (_db, mut conn) = connect(&settings)?;
            match command {
                AgencyCommand::Add { code, name, parent, email } => {
                    let new = directory::NewAgency { code, name, parent, email };
                    let row = directory::add_agency(&mut conn, Caller::Operator, &new).map_err(explain)?;
                    println!("added agency {} {} at {}", row.code, row.name, row.path);
                }
                AgencyCommand::List => {
                    for a in directory::agencies(&mut conn, Caller::Operator).map_err(explain)? {
                        let depth = a.path.matches('/').count().saturating_sub(2);
                        println!("{}{} {} {}", "  ".repeat(depth), a.code, a.name, a.email.unwrap_or_default());
                    }
                }
                AgencyCommand::Email { agency, address } => {
                    let a = directory::set_agency_email(&mut conn, Caller::Operator, &agency, address.as_deref())
                        .map_err(explain)?;
                    println!("{} mailbox: {}", a.code, a.email.as_deref().unwrap_or("(none)"));
                }
                AgencyCommand::Topic { agency, code, label } => {
                    let t =
                        directory::put_topic(&mut conn, Caller::Operator, &agency, &code, &label).map_err(explain)?;
                    println!("topic {} = {} for {agency}", t.code, t.label);
                }
            }
            Ok(())
        }
        Command::Deadline { received_on, regime, agency } => {
            let (_db, mut conn) = connect(&settings)?;
            let calendars = CalendarCache::default();
            let result = foi_tracker::service::clock::calculation(
                &mut conn,
                &calendars,
                agency.as_deref(),
                received_on,
                regime.as_deref(),
            )
            .map_err(explain)?;
            println!("{}", serde_json::to_string_pretty(&result)?);
            Ok(())
        }
        Command::Calendar { command: CalendarCommand::Import { file } } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let notice: YearNotice = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a holiday-cn notice", file.display()))?;
            let (_db, mut conn) = connect(&settings)?;
            let via = format!("from file {}", file.display());
            let change =
                service::calendar::import_notice(&mut conn, &CalendarCache::default(), Caller::Operator, &notice, &via)
                    .map_err(explain)?;
            println!("imported the {} notice ({} days)", notice.year, notice.days.len());
            for m in &change.recomputed {
                println!(
                    "{}: final deadline {} -> {}{}",
                    m.tracking_number,
                    m.before.map_or("none".into(), |d| d.to_string()),
                    m.after.map_or("none".into(), |d| d.to_string()),
                    if m.provisional_after { " (provisional)" } else { "" }
                );
            }
            println!(
                "{} open case(s) could be affected and were recomputed; {} deadline(s) changed",
                change.examined,
                change.recomputed.len()
            );
            Ok(())
        }
        Command::Attachment { command } => attachment_command(&settings, command),
        Command::Document { command } => document_command(&settings, command),
        Command::Import { command } => import_command(&settings, command),
        Command::Audit { command: AuditCommand::Verify } => {
            let (_db, mut conn) = connect(&settings)?;
            let report = service::audit::verify(&mut conn, Caller::Operator).map_err(explain)?;
            for b in &report.broken {
                let at = b.first_broken_seq.map_or(String::new(), |s| format!(" at event {s}"));
                println!("BROKEN {} ({}){at}: {}", b.tracking_number, b.case_id, b.detail);
            }
            println!(
                "checked {} case(s) and {} event(s): {} broken",
                report.cases_checked,
                report.events_checked,
                report.broken.len()
            );
            if !report.broken.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Regime { command: RegimeCommand::List } => {
            let (_db, mut conn) = connect(&settings)?;
            for (r, scope) in calendar::list_regimes(&mut conn).map_err(explain)? {
                println!(
                    "{} {} from {} until {} reply {} + at most {} working days{}, fees {}, Art. 35 delay {}, clock stops for consulting {} {}",
                    r.code,
                    scope.unwrap_or_else(|| "national".into()),
                    r.effective_from,
                    r.effective_until.map_or("-".into(), |d| d.to_string()),
                    r.reply_days,
                    r.max_extension_days,
                    if r.fee_notice_stops_clock { ", fee time not counted" } else { "" },
                    r.fee_scheme,
                    if r.agency_delay_allowed { "yes" } else { "no" },
                    match foi_tracker::domain::deadline::consultations_to_text(&r.paused_consultations) {
                        text if text.is_empty() => "nobody".to_owned(),
                        text => text,
                    },
                    r.name
                );
            }
            Ok(())
        }
        Command::Regime {
            command:
                RegimeCommand::Add {
                    code,
                    name,
                    from,
                    until,
                    reply_days,
                    max_extension_days,
                    correction_notice_days,
                    consultation_lapse_days,
                    fee_stops_clock,
                    fee_scheme,
                    no_agency_delay,
                    paused_consultations,
                    agency,
                },
        } => {
            let (_db, mut conn) = connect(&settings)?;
            let rules = foi_tracker::domain::deadline::RegimeRules {
                code,
                name,
                effective_from: from,
                effective_until: until,
                reply_days,
                max_extension_days,
                correction_notice_days,
                consultation_lapse_days,
                fee_notice_stops_clock: fee_stops_clock,
                fee_scheme,
                agency_delay_allowed: !no_agency_delay,
                paused_consultations: foi_tracker::domain::deadline::consultations_from_text(&paused_consultations)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "--paused-consultations `{paused_consultations}`: use third_party, other_agency or both, comma-separated"
                        )
                    })?,
            };
            service::calendar::add_regime(&mut conn, Caller::Operator, &rules, agency.as_deref()).map_err(explain)?;
            println!("added regime {}", rules.code);
            Ok(())
        }
        Command::Report { format, year, agency, subtree, output } => {
            anyhow::ensure!((2008..=2100).contains(&year), "the year must be between 2008 and 2100");
            use foi_tracker::service::reports::Output;
            let extension = output.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
            let written = Output::parse(&extension).ok_or_else(|| {
                let endings: Vec<String> = Output::ALL.iter().map(|o| format!(".{}", o.as_str())).collect();
                anyhow::anyhow!(
                    "the output file must end in {}",
                    foi_tracker::domain::report::choices(endings.iter().map(String::as_str))
                )
            })?;
            let (db, mut conn) = connect(&settings)?;
            let mut helper = db.helper();
            let request = service::reports::ReportRequest { agency, subtree, format, year, live: false };
            let caller = Caller::Operator;
            let report =
                service::reports::report(&mut conn, helper.as_deref_mut(), &CalendarCache::default(), caller, &request)
                    .map_err(explain)?;
            let bytes = written.render(&report).map_err(explain)?;
            std::fs::write(&output, bytes).with_context(|| format!("cannot write {}", output.display()))?;
            let failing = report.body.checks.iter().filter(|c| !c.holds).count();
            println!("wrote {} ({} check(s) failing)", output.display(), failing);
            Ok(())
        }
        Command::Dev { command: DevCommand::Seed { cases, open_percent, years, until } } => {
            anyhow::ensure!((1..=100_000_000).contains(&cases), "--cases must be between 1 and 100,000,000");
            anyhow::ensure!(open_percent.is_none_or(|p| p <= 100), "--open-percent must be between 0 and 100");
            anyhow::ensure!((1..=30).contains(&years), "--years must be between 1 and 30");
            let (_db, mut conn) = connect(&settings)?;
            let until = until.unwrap_or_else(|| foi_tracker::domain::china_date(chrono::Utc::now()));
            let plan = service::seed::SeedPlan { cases, years, until, open_percent };
            let started = std::time::Instant::now();
            let total = service::seed::seed(&mut conn, &plan, |done| {
                eprintln!("{done} case(s) added ({:.1} s)", started.elapsed().as_secs_f64())
            })
            .map_err(explain)?;
            println!("{total} synthetic case(s) under agency {}", foi_tracker::db::seed::ROOT);
            Ok(())
        }
        Command::Remind { once, now } => {
            let job = foi_tracker::service::reminders::Job::from_settings(&settings).map_err(anyhow::Error::msg)?;
            let db = open_db(&settings)?;
            if !once {
                anyhow::ensure!(now.is_none(), "--now needs --once");
                let at = chrono::NaiveTime::parse_from_str(&settings.reminders.at, "%H:%M")
                    .with_context(|| format!("reminders.at `{}` is not HH:MM", settings.reminders.at))?;
                // SIGTERM or Ctrl-C: finish the digest being sent, then stop.
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                    signal_hook::flag::register(signal, stop.clone())?;
                }
                foi_tracker::service::reminders::schedule(db, job, at, &stop);
                return Ok(());
            }
            let now = match now {
                Some(text) => chrono::DateTime::parse_from_rfc3339(&text)
                    .with_context(|| format!("--now `{text}` is not RFC 3339"))?
                    .to_utc(),
                None => chrono::Utc::now(),
            };
            let mut conn = db.conn().map_err(explain)?;
            let never = std::sync::atomic::AtomicBool::new(false);
            let report = job.run(&mut conn, &CalendarCache::default(), now, &never).map_err(explain)?;
            for (what, n) in foi_tracker::service::reminders::summary(&report) {
                println!("{what}: {n}");
            }
            Ok(())
        }
        Command::Lapses { today } => {
            let (_db, mut conn) = connect(&settings)?;
            let real_today = foi_tracker::domain::china_date(chrono::Utc::now());
            let today = today.unwrap_or(real_today);
            anyhow::ensure!(today <= real_today, "cannot apply lapses as of a future date ({today})");
            let lapsed =
                foi_tracker::service::lapses::apply_correction_lapses(&mut conn, &CalendarCache::default(), today)
                    .map_err(explain)?;
            for number in &lapsed {
                println!("{number}: correction lapsed, deemed abandoned");
            }
            println!("{} case(s) deemed abandoned", lapsed.len());
            Ok(())
        }
        Command::Calendar { command: CalendarCommand::List } => {
            let (_db, mut conn) = connect(&settings)?;
            for n in calendar::notices(&mut conn).map_err(explain)? {
                println!("{} {} {}", n.year, n.source, n.papers);
            }
            Ok(())
        }
        Command::User { command: UserCommand::List } => {
            let (_db, mut conn) = connect(&settings)?;
            let all =
                directory::users(&mut conn, Caller::Operator, &directory::UserQuery::default()).map_err(explain)?;
            for (user, agency) in all {
                println!(
                    "{} {} {} {} {} {}{}",
                    user.id,
                    user.login.as_deref().unwrap_or("-"),
                    user.name,
                    user.role,
                    agency.unwrap_or_else(|| "(all)".into()),
                    user.email.unwrap_or_default(),
                    if user.deactivated_at.is_some() { " (deactivated)" } else { "" }
                );
            }
            Ok(())
        }
        Command::User { command: UserCommand::Password { name } } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
            let password = line.strip_suffix('\n').unwrap_or(&line);
            let password = password.strip_suffix('\r').unwrap_or(password);
            if password.is_empty() {
                anyhow::bail!("no password on standard input (give it as the first line)");
            }
            let (_db, mut conn) = connect(&settings)?;
            let user_id = accounts::user_by_login_or_id(&mut conn, &name).map_err(explain)?;
            let (user, _) =
                accounts::set_password(&mut conn, Caller::Operator, &user_id, password, None, None).map_err(explain)?;
            println!("password set for {} ({}); their sessions have ended", user.name, user.id);
            Ok(())
        }
        Command::User { command: UserCommand::Login { user_id, login } } => {
            let (_db, mut conn) = connect(&settings)?;
            let change = directory::UserChange { login: Some(login), ..Default::default() };
            let (user, _) = directory::change_user(&mut conn, Caller::Operator, &user_id, &change).map_err(explain)?;
            println!("{} ({}) signs in as `{}`", user.name, user.id, user.login.unwrap_or_default());
            Ok(())
        }
        Command::User { command: UserCommand::Deactivate { user_id } } => {
            let (_db, mut conn) = connect(&settings)?;
            let (user, _) = directory::set_active(&mut conn, Caller::Operator, &user_id, false).map_err(explain)?;
            println!("deactivated {} ({}): their tokens and sessions no longer work", user.name, user.id);
            Ok(())
        }
        Command::User { command: UserCommand::Reactivate { user_id } } => {
            let (_db, mut conn) = connect(&settings)?;
            let (user, _) = directory::set_active(&mut conn, Caller::Operator, &user_id, true).map_err(explain)?;
            println!("reactivated {} ({})", user.name, user.id);
            Ok(())
        }
        Command::User { command: UserCommand::Token { command } } => {
            let (_db, mut conn) = connect(&settings)?;
            match command {
                TokenCommand::Create { user_id, name, expires } => {
                    let expires = expires
                        .map(|text| {
                            chrono::DateTime::parse_from_rfc3339(&text)
                                .map(|t| t.to_utc())
                                .with_context(|| format!("--expires `{text}` is not RFC 3339"))
                        })
                        .transpose()?;
                    let (row, token) = directory::create_token(&mut conn, Caller::Operator, &user_id, &name, expires)
                        .map_err(explain)?;
                    println!("token {} ({}) for user {user_id}; shown once:", row.id.unwrap_or_default(), row.name);
                    println!("{token}");
                }
                TokenCommand::List { user_id } => {
                    for t in directory::tokens(&mut conn, Caller::Operator, &user_id).map_err(explain)? {
                        let at =
                            |t: Option<chrono::NaiveDateTime>| t.map_or("-".to_owned(), |t| t.and_utc().to_rfc3339());
                        println!(
                            "{} {}… {} created {} last used {} expires {}{}",
                            t.id.unwrap_or_default(),
                            t.prefix,
                            t.name,
                            t.created_at.and_utc().to_rfc3339(),
                            at(t.last_used_at),
                            at(t.expires_at),
                            if t.revoked_at.is_some() { " (revoked)" } else { "" }
                        );
                    }
                }
                TokenCommand::Revoke { user_id, token_id } => {
                    directory::revoke_token(&mut conn, Caller::Operator, &user_id, &token_id).map_err(explain)?;
                    println!("revoked token {token_id} of user {user_id}");
                }
            }
            Ok(())
        }
        Command::User { command: UserCommand::Email { user_id, address } } => {
            let (_db, mut conn) = connect(&settings)?;
            directory::set_user_email(&mut conn, Caller::Operator, &user_id, address.as_deref()).map_err(explain)?;
            println!("{user_id} e-mail: {}", address.as_deref().map(str::trim).unwrap_or("(none)"));
            Ok(())
        }
        Command::User { command: UserCommand::Add { name, role, agency, email, login } } => {
            let (_db, mut conn) = connect(&settings)?;
            let (user, token) = directory::add_user(
                &mut conn,
                Caller::Operator,
                &name,
                role,
                agency.as_deref(),
                email.as_deref(),
                login.as_deref(),
            )
            .map_err(explain)?;
            if let Some(login) = &user.login {
                println!("signs in as `{login}` once a password is set (foi-tracker user password {login})");
            }
            println!("added user {} ({}) with role {}; API token (shown once):", user.name, user.id, user.role);
            println!("{token}");
            Ok(())
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let app = build_app(&settings)?;
        // Under the start-up lock: instances started at once on an empty database make one admin.
        let token = app.db.exclusively(|conn| directory::bootstrap_admin(conn).map_err(explain))?;
        if let Some(token) = token {
            println!(
                "No users yet: created user `admin` (role admin, all agencies). Its API token, shown only this once:"
            );
            println!("{token}");
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut scheduler = None;
        if settings.reminders.scheduler {
            let at = chrono::NaiveTime::parse_from_str(&settings.reminders.at, "%H:%M")
                .with_context(|| format!("reminders.at `{}` is not HH:MM", settings.reminders.at))?;
            let job = foi_tracker::service::reminders::Job::from_settings(&settings).map_err(anyhow::Error::msg)?;
            let (db, stop) = (app.db.clone(), stop.clone());
            scheduler = Some(
                std::thread::Builder::new()
                    .name("reminders".into())
                    .spawn(move || foi_tracker::service::reminders::schedule(db, job, at, &stop))?,
            );
        }
        tracing::info!(
            port = app.port,
            database = app.db.backend_name(),
            "foi-tracker listening on {}",
            settings.server.bind
        );
        // On SIGTERM or SIGINT the server stops accepting, finishes the requests in flight (up to 30 s)
        // and returns; then the reminder job finishes the digest it is sending.
        let served = app.server.await.context("server stopped with an error");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = scheduler {
            let _ = thread.join();
        }
        tracing::info!("foi-tracker stopped");
        served
    })
}

fn parse_fee_scheme(text: &str) -> Result<foi_tracker::domain::fees::FeeScheme, String> {
    foi_tracker::domain::fees::FeeScheme::parse(text)
        .ok_or_else(|| format!("`{text}` is not a fee scheme: use cost_2008 or processing_2020"))
}

fn parse_report_format(text: &str) -> Result<foi_tracker::domain::report::ReportFormat, String> {
    foi_tracker::domain::report::ReportFormat::parse(text).ok_or_else(|| {
        format!("`{text}` is not a report format: use {}", foi_tracker::domain::report::ReportFormat::choices())
    })
}

/// The case with tracking number `number`, with the projection of its events (the operator sees all).
fn case_by_number(
    conn: &mut foi_tracker::db::DbConnection,
    number: &str,
) -> anyhow::Result<(foi_tracker::db::cases::CaseRecord, foi_tracker::domain::case::Case)> {
    let record = foi_tracker::db::cases::find_by_number(conn, number)
        .map_err(explain)?
        .ok_or_else(|| anyhow::anyhow!("no case numbered {number}"))?;
    let events = foi_tracker::db::cases::events(conn, &record.row.id).map_err(explain)?;
    let case = foi_tracker::db::cases::project(&events).map_err(explain)?;
    Ok((record, case))
}

fn attachment_command(settings: &Settings, command: AttachmentCommand) -> anyhow::Result<()> {
    use foi_tracker::service::papers;
    let (_db, mut conn) = connect(settings)?;
    match command {
        AttachmentCommand::Add { case, kind, note, evidence_for, file } => {
            let (record, _) = case_by_number(&mut conn, &case)?;
            let reader = std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let upload = papers::Spool::read_all(settings.attachments.max_bytes, reader).map_err(explain)?;
            let meta = papers::NewAttachment {
                kind: Some(kind),
                filename: file.file_name().map(|n| n.to_string_lossy().into_owned()),
                note,
                evidence_for,
            };
            let (_, attachment) =
                papers::attach(&mut conn, Caller::Operator, &settings.attachments, &record, meta, upload)
                    .map_err(explain)?;
            println!(
                "attached {} to {case}: {} ({}, {} bytes, sha256 {})",
                attachment.id,
                attachment.kind.label(),
                attachment.media_type,
                attachment.size_bytes,
                attachment.sha256
            );
            Ok(())
        }
        AttachmentCommand::Get { case, id, output } => {
            let (_, projection) = case_by_number(&mut conn, &case)?;
            let attachment = papers::attachment_of(&projection, &id).map_err(explain)?;
            write_checked(&mut conn, &attachment.id, &attachment.sha256, &output)?;
            println!("wrote {} ({} bytes) to {}", attachment.filename, attachment.size_bytes, output.display());
            Ok(())
        }
        AttachmentCommand::List { case } => {
            let (_, projection) = case_by_number(&mut conn, &case)?;
            for a in &projection.attachments {
                let evidence = a.evidence_for.map(|e| format!(" [{}]", e.label())).unwrap_or_default();
                println!("{}\t{}\t{}\t{}\t{}{evidence}", a.id, a.kind.label(), a.size_bytes, a.sha256, a.filename);
            }
            Ok(())
        }
    }
}

/// Writes a stored file to a new file chunk by chunk, checking its SHA-256; a mismatch removes the
/// output and fails.
fn write_checked(
    conn: &mut foi_tracker::db::DbConnection,
    file_id: &str,
    sha256: &str,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    use sha2::Digest;
    use std::io::Write;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(output)
        .with_context(|| format!("cannot create {} (it must not exist yet)", output.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut seq = 0;
    while let Some(bytes) = foi_tracker::db::papers::chunk(conn, file_id, seq).map_err(explain)? {
        hasher.update(&bytes);
        out.write_all(&bytes)?;
        seq += 1;
    }
    out.sync_all()?;
    if hex::encode(hasher.finalize()) != sha256 {
        drop(out);
        std::fs::remove_file(output)?;
        anyhow::bail!(
            "the stored file does not match the SHA-256 in the case's event chain; run `foi-tracker audit verify`"
        );
    }
    Ok(())
}

fn document_command(settings: &Settings, command: DocumentCommand) -> anyhow::Result<()> {
    use foi_tracker::domain::letters::DocumentKind;
    use foi_tracker::service::letters;
    let (_db, mut conn) = connect(settings)?;
    match command {
        DocumentCommand::Generate { case, kind, output, particulars, issued_on } => {
            let kind = DocumentKind::parse(&kind).ok_or_else(|| {
                let kinds: Vec<&str> = DocumentKind::ALL.iter().map(|k| k.as_str()).collect();
                anyhow::anyhow!("unknown kind `{kind}`; one of {}", kinds.join(", "))
            })?;
            let mut given = std::collections::BTreeMap::new();
            for p in particulars {
                let (name, value) =
                    p.split_once('=').ok_or_else(|| anyhow::anyhow!("--particular {p}: write it as NAME=VALUE"))?;
                given.insert(name.trim().to_owned(), value.to_owned());
            }
            if output.exists() {
                anyhow::bail!("{} exists: give a new file name, so no earlier letter is overwritten", output.display());
            }
            let (record, _) = case_by_number(&mut conn, &case)?;
            let request = letters::GenerateRequest { kind, particulars: given, issued_on };
            let generated = letters::generate(&mut conn, Caller::Operator, &record, &request).map_err(explain)?;
            let d = &generated.document;
            write_checked(&mut conn, &d.id, &d.sha256, &output)?;
            println!(
                "{} {} version {} ({}) of {case}: {} bytes, sha256 {}, written to {}",
                if generated.created { "generated" } else { "unchanged:" },
                d.number,
                d.version,
                d.kind.title(),
                d.size_bytes,
                d.sha256,
                output.display()
            );
            Ok(())
        }
        DocumentCommand::List { case } => {
            let (_, projection) = case_by_number(&mut conn, &case)?;
            for d in &projection.documents {
                println!("{}\t{}\t{}\tv{}\t{}\t{}", d.id, d.number, d.kind.title(), d.version, d.issued_on, d.sha256);
            }
            Ok(())
        }
    }
}

fn import_command(settings: &Settings, command: ImportCommand) -> anyhow::Result<()> {
    use foi_tracker::service::ledger_import;
    match command {
        ImportCommand::Template { output } => {
            if output.exists() {
                anyhow::bail!("{} exists: give a new file name", output.display());
            }
            std::fs::write(&output, ledger_import::template_xlsx().map_err(explain)?)?;
            println!("wrote the import template to {}", output.display());
            Ok(())
        }
        ImportCommand::Cases { file, agency, dry_run, mapping } => {
            let mapping = match mapping {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                    foi_tracker::domain::ledger_import::Mapping::from_toml(&text)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                }
                None => Default::default(),
            };
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let sheet = ledger_import::read_sheet(&bytes).map_err(explain)?;
            let (db, mut conn) = connect(settings)?;
            let calendars = foi_tracker::db::calendar::CalendarCache::default();
            let bar = indicatif::ProgressBar::new(sheet.rows.len() as u64 * if dry_run { 1 } else { 2 });
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}")
                    .expect("a valid template"),
            );
            let checked = std::cell::Cell::new(0usize);
            let progress = |n: usize| {
                // Checking counts the first pass, writing the second.
                if n < checked.get() {
                    bar.set_message("writing");
                }
                checked.set(n);
                bar.set_position(n as u64);
            };
            let report = ledger_import::import(
                &mut conn,
                &calendars,
                Caller::Operator,
                &agency,
                &sheet,
                &ledger_import::file_hash(&bytes),
                &mapping,
                dry_run,
                &progress,
            )
            .map_err(explain)?;
            bar.finish_and_clear();
            drop(db);
            for p in &report.problems {
                println!("第{}行\t{}\t{}\t{} / {}", p.row, p.column, p.value, p.zh, p.en);
            }
            for s in &report.skipped {
                println!("第{}行\t跳过 skipped\t{}", s.row, s.why);
            }
            if !report.ignored_columns.is_empty() {
                println!("未使用的列 / ignored columns: {}", report.ignored_columns.join("、"));
            }
            let invalid = ledger_import::invalid_rows(&report).len();
            println!(
                "{} rows: {} imported, {} importable, {} skipped, {} invalid ({} problems) in {:.1} s{}",
                report.rows,
                report.imported,
                report.importable,
                report.skipped.len(),
                invalid,
                report.problems.len(),
                report.seconds,
                if dry_run {
                    " (dry run: nothing written)"
                } else if invalid > 0 {
                    " (nothing written: fix the invalid rows)"
                } else {
                    ""
                }
            );
            if !report.problems.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
