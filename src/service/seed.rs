//! Synthetic data for benchmarks (`foi-tracker dev seed`): the BENCH agency tree with its topics and a
//! user, then cases that look like an office's: UUIDv7 ids in receipt order (as intake makes them),
//! receipts spread over the years and busier on working days, the channels, applicant types and
//! topics in the proportions of published annual reports, descriptions and names in Chinese with
//! common and rare words, replies mostly on time and some extended or late, every outcome and
//! reason, withdrawals and lapses, reconsiderations and lawsuits with every result, fees now and then,
//! and the recent cases still open (or, with `open_percent`, that share of all cases).
//!
//! The rows are written without event logs: they exist to measure reads, searches, reports and jobs,
//! and `foi-tracker audit verify` reports them as broken. Never run it against a production database.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::calendar::CalendarCache;
use crate::db::rows::{AppealRow, CaseRow};
use crate::db::seed::{bench_user, insert_batch, seeded_cases, ROOT};
use crate::db::{agencies, DbConnection};
use crate::domain::calendar::WorkingDayIndex;
use crate::domain::events::Closing;
use crate::domain::intake::{email_key, id_number_key, phone_key, ApplicantKind, Channel, DeliveryForm, ReceiptBasis};
use crate::domain::outcome::{OtherReason, Outcome, OutcomeKind};
use crate::domain::role::Role;
use crate::domain::search::case_terms;
use crate::domain::workflow::{AppealKind, AppealOutcome, CaseState, ServiceMethod};
use crate::error::AppError;
use crate::service::directory::{add_agency, add_user, put_topic, NewAgency};
use crate::service::Caller;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub cases: i64,
    /// Receipts spread over this many years, ending on `until`.
    pub years: i32,
    pub until: NaiveDate,
    /// None: the cases received in the last 30 days are open, and one in 500 older ones is stuck
    /// open; Some(p): p percent of all cases are open (for measuring jobs over many open cases).
    pub open_percent: Option<u32>,
}

/// Cases written per transaction.
const BATCH: usize = 2_000;

/// Adds `plan.cases` synthetic cases under agency BENCH, making its tree (a city and ten
/// departments) first; the number of BENCH cases afterwards. BENCH must have no cases yet: the
/// distributions are those of one office's history, not of several runs stacked.
pub fn seed(conn: &mut DbConnection, plan: &SeedPlan, progress: impl Fn(i64)) -> Result<i64, AppError> {
    if agencies::find_by_code(conn, ROOT)?.is_none() {
        make_tree(conn)?;
    }
    if seeded_cases(conn)? > 0 {
        return Err(AppError::validation("cases", "agency BENCH already has cases: seed a fresh database"));
    }
    let agency_ids: Vec<(String, String)> = (0..=10)
        .map(|i| {
            let code = if i == 0 { ROOT.to_owned() } else { format!("{ROOT}-{i:02}") };
            agencies::find_by_code(conn, &code)?
                .map(|a| (a.id, code.clone()))
                .ok_or_else(|| AppError::Internal(format!("seed agency {code} is missing")))
        })
        .collect::<Result<_, _>>()?;
    let user = bench_user(conn)?.ok_or_else(|| AppError::Internal("seed user bench is missing".into()))?;
    let calendar = CalendarCache::default().rules(conn, None)?.calendar;
    let mut generator = Generator::new(plan, agency_ids, user, &calendar);
    let mut done = 0;
    while done < plan.cases {
        let n = (plan.cases - done).min(BATCH as i64);
        let mut cases = Vec::with_capacity(n as usize);
        let mut appeals = Vec::new();
        for k in done..done + n {
            let (case, case_appeals) = generator.case(k);
            cases.push(case);
            appeals.extend(case_appeals);
        }
        insert_batch(conn, &cases, &appeals)?;
        done += n;
        if done % 100_000 == 0 || done == plan.cases {
            progress(done);
        }
    }
    crate::db::seed::sync_tracking_counters(conn)?;
    crate::db::seed::analyze(conn)?;
    seeded_cases(conn)
}

fn make_tree(conn: &mut DbConnection) -> Result<(), AppError> {
    let agency = |code: String, name: String, parent: Option<&str>| NewAgency {
        code,
        name,
        parent: parent.map(str::to_owned),
        email: Some("office@bench.example.cn".to_owned()),
    };
    add_agency(conn, Caller::Operator, &agency(ROOT.into(), "基准测试市人民政府".into(), None))?;
    for i in 1..=10 {
        let department = agency(format!("{ROOT}-{i:02}"), format!("基准测试部门{i}"), Some(ROOT));
        add_agency(conn, Caller::Operator, &department)?;
    }
    for ((code, label), _) in TOPICS {
        put_topic(conn, Caller::Operator, ROOT, code, label)?;
    }
    add_user(conn, Caller::Operator, "bench", Role::Admin, Some(ROOT), Some("bench@bench.example.cn"), None)?;
    Ok(())
}

/// Topic codes and labels with their weights below.
/// Topic codes and labels, with their weights.
const TOPICS: [((&str, &str), u32); 5] = [
    (("urban", "城建环保类"), 35),
    (("farming", "农林水类"), 12),
    (("livelihood", "民本民生类"), 30),
    (("labour", "劳动人事类"), 13),
    (("other", "其他类"), 10),
];
const CHANNELS: [(Channel, u32); 5] =
    [(Channel::Web, 45), (Channel::Letter, 25), (Channel::InPerson, 15), (Channel::Email, 10), (Channel::Fax, 5)];
const APPLICANTS: [(ApplicantKind, u32); 6] = [
    (ApplicantKind::NaturalPerson, 880),
    (ApplicantKind::Business, 70),
    (ApplicantKind::ResearchInstitution, 8),
    (ApplicantKind::PublicInterestOrg, 7),
    (ApplicantKind::LegalServices, 25),
    (ApplicantKind::OtherOrg, 10),
];
/// Reply outcomes by kind (a reason of the kind chosen uniformly).
const OUTCOMES: [(OutcomeKind, u32); 5] = [
    (OutcomeKind::Disclosed, 45),
    (OutcomeKind::PartlyDisclosed, 10),
    (OutcomeKind::Withheld, 7),
    (OutcomeKind::Unable, 28),
    (OutcomeKind::NotProcessed, 6),
];
/// What people ask about: a frequent few and a long tail. 道路 is in about one request in eight,
/// 古树名木 in about one in two thousand; the benchmark's "no match" term (量子) is never used.
const SUBJECTS: [(&str, u32); 16] = [
    ("道路改造工程", 120),
    ("征地补偿安置方案", 110),
    ("房屋征收补偿决定", 100),
    ("建设项目环评审批", 60),
    ("最低生活保障发放", 70),
    ("城市规划许可", 80),
    ("企业信用监管", 50),
    ("农村土地承包", 60),
    ("养老保险缴费", 60),
    ("学校招生计划", 50),
    ("财政预算执行", 40),
    ("河道治理项目", 40),
    ("食品安全抽检结果", 30),
    ("信访事项处理", 30),
    ("公租房分配", 30),
    ("古树名木保护", 1),
];
const PLACES: [&str; 12] = [
    "中山路",
    "兴隆台区",
    "双台子区",
    "大洼区",
    "盘山县",
    "石山镇",
    "胡家镇",
    "红旗大街",
    "渤海路",
    "新工街道",
    "辽河路",
    "湖滨路",
];
const DOCUMENTS: [&str; 6] = ["批复文件", "会议纪要", "实施方案", "资金使用情况", "审批材料", "相关文件"];
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅玉兰志强海燕晓东春梅丹凤立新";

fn pick<T: Copy>(rng: &mut StdRng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut at = rng.gen_range(0..total);
    for &(item, w) in weighted {
        if at < w {
            return item;
        }
        at -= w;
    }
    weighted[weighted.len() - 1].0
}

/// `n` working days after `day`, or about that many calendar days beyond the calendar's years.
fn working_days_after(calendar: &WorkingDayIndex, day: NaiveDate, n: u32) -> NaiveDate {
    calendar.add_working_days(day, n).map(|c| c.date).unwrap_or(day + Duration::days(i64::from(n) * 7 / 5))
}

struct Generator<'a> {
    rng: StdRng,
    plan: &'a SeedPlan,
    start: NaiveDate,
    span_days: i64,
    agencies: Vec<(String, String)>,
    user: String,
    calendar: &'a WorkingDayIndex,
    /// The next tracking sequence per (agency index, year).
    sequences: std::collections::HashMap<(usize, i32), i32>,
    surnames: Vec<char>,
    given: Vec<char>,
    /// The reply outcomes of each kind.
    replies: Vec<(OutcomeKind, Vec<Outcome>)>,
}

impl<'a> Generator<'a> {
    fn new(plan: &'a SeedPlan, agencies: Vec<(String, String)>, user: String, calendar: &'a WorkingDayIndex) -> Self {
        let start = plan.until.with_year(plan.until.year() - plan.years).unwrap_or(plan.until) + Duration::days(1);
        Generator {
            rng: StdRng::seed_from_u64(20_151_231),
            plan,
            start,
            span_days: (plan.until - start).num_days() + 1,
            agencies,
            user,
            calendar,
            sequences: Default::default(),
            surnames: SURNAMES.chars().collect(),
            given: GIVEN.chars().collect(),
            replies: OUTCOMES
                .iter()
                .map(|&(kind, _)| {
                    (kind, Outcome::all().into_iter().filter(|o| o.kind() == kind && o.is_reply()).collect())
                })
                .collect(),
        }
    }

    fn name(&mut self, kind: ApplicantKind) -> String {
        let surname = self.surnames[self.rng.gen_range(0..self.surnames.len())];
        let mut name = surname.to_string();
        for _ in 0..self.rng.gen_range(1..=2) {
            name.push(self.given[self.rng.gen_range(0..self.given.len())]);
        }
        match kind {
            ApplicantKind::NaturalPerson => name,
            ApplicantKind::Business => format!("{}{}有限公司", PLACES[self.rng.gen_range(0..PLACES.len())], name),
            ApplicantKind::LegalServices => format!("{name}律师事务所"),
            _ => format!("{name}研究会"),
        }
    }

    /// Case number `k` of the plan (in receipt order) and its appeals.
    fn case(&mut self, k: i64) -> (CaseRow, Vec<AppealRow>) {
        let rng = &mut self.rng;
        // Receipts in order over the span; a case landing on a rest day moves to the next working
        // day unless it came in on the web or by e-mail.
        let channel = pick(rng, &CHANNELS);
        let mut received_on = self.start + Duration::days(k * self.span_days / self.plan.cases.max(1));
        if !matches!(channel, Channel::Web | Channel::Email)
            && !self.calendar.is_working_day(received_on).unwrap_or(true)
        {
            received_on = working_days_after(self.calendar, received_on, 1).min(self.plan.until);
        }
        let seconds = rng.gen_range(8 * 3600..18 * 3600);
        let arrived_at = received_on.and_time(NaiveTime::MIN) + Duration::seconds(seconds) - Duration::hours(8);
        let stamp = uuid::Timestamp::from_unix(
            uuid::NoContext,
            arrived_at.and_utc().timestamp() as u64,
            arrived_at.and_utc().timestamp_subsec_nanos(),
        );
        let id = uuid::Uuid::new_v7(stamp).to_string();
        let agency = if rng.gen_range(0..10) < 3 { 0 } else { rng.gen_range(1..self.agencies.len()) };
        let year = received_on.year();
        let seq = self.sequences.entry((agency, year)).or_insert(0);
        *seq += 1;
        let tracking_number = format!("{}-{year}-{:05}", self.agencies[agency].1, seq);
        let tracking_seq = *seq;
        let applicant_kind = pick(rng, &APPLICANTS);
        let (topic, _) = pick(rng, &TOPICS);
        let subject = pick(rng, &SUBJECTS);
        let place = PLACES[rng.gen_range(0..PLACES.len())];
        let document = DOCUMENTS[rng.gen_range(0..DOCUMENTS.len())];
        let description = format!("申请公开{}年{place}{subject}的{document}", year - rng.gen_range(0..3));
        let phone = format!("1{}{:09}", [3, 5, 8][rng.gen_range(0..3)], rng.gen_range(0..1_000_000_000u64));
        let email = rng.gen_bool(0.2).then(|| format!("user{}@example.cn", rng.gen_range(0..10_000_000)));
        let id_number = rng
            .gen_bool(0.3)
            .then(|| format!("21110219{:02}0101{:04}", rng.gen_range(50..99), rng.gen_range(0..10_000)));
        let applicant_name = self.name(applicant_kind);
        let rng = &mut self.rng;

        let due_on = working_days_after(self.calendar, received_on, 20);
        let age = (self.plan.until - received_on).num_days();
        let open = match self.plan.open_percent {
            Some(p) => rng.gen_range(0..100) < p,
            None => age <= 30 || rng.gen_range(0..500) == 0,
        };
        let mut row = CaseRow {
            id,
            agency_id: self.agencies[agency].0.clone(),
            search_terms: case_terms(&description, &applicant_name, &tracking_number),
            tracking_number,
            tracking_year: year,
            tracking_seq,
            state: CaseState::Registered,
            regime: if received_on < NaiveDate::from_ymd_opt(2019, 5, 15).expect("date") {
                "ogi2008"
            } else {
                "ogi2019"
            }
            .to_owned(),
            channel,
            arrived_at,
            received_on,
            receipt_basis: ReceiptBasis::ClerkDetermined,
            receipt_evidence: Some("synthetic".to_owned()),
            applicant_kind,
            applicant_phone_key: phone_key(&phone),
            applicant_email_key: email.as_deref().and_then(email_key),
            applicant_id_number_key: id_number.as_deref().and_then(id_number_key),
            applicant_name,
            applicant_id_number: id_number,
            applicant_phone: Some(phone),
            applicant_email: email,
            applicant_address: None,
            description,
            delivery_form: DeliveryForm::Paper,
            topic: Some(topic.to_owned()),
            created_by: self.user.clone(),
            created_at: arrived_at,
            updated_at: arrived_at,
            last_event_seq: 0,
            last_event_hash: String::new(),
            due_on: Some(due_on),
            final_due_on: Some(due_on),
            deadline_provisional: false,
            closed_on: None,
            closed_as: None,
            handler_id: None,
            outcome: None,
            outcome_reason: None,
            already_public: false,
            repeat_of_case_id: None,
            draft_outcome: None,
            served_on: None,
            service_method: None,
            transferred_to_case_id: None,
            transferred_from_case_id: None,
            fee_charged_fen: 0,
            fee_waived_fen: 0,
            stop_ends_on: None,
            fee_paid_fen: 0,
            fee_paid_on: None,
            fee_receipt_number: None,
            fee_waived_on: None,
            re_replies: None,
            re_replied_on: None,
            repeat_of_earlier: None,
        };
        if open {
            row.state =
                [CaseState::Registered, CaseState::UnderReview, CaseState::UnderReview, CaseState::ReplyDrafted]
                    [rng.gen_range(0..4)];
            if row.state != CaseState::Registered {
                row.handler_id = Some(self.user.clone());
            }
            return (row, Vec::new());
        }

        // How it ended: mostly replies, a few withdrawals and lapses.
        let ending = rng.gen_range(0..100);
        let (state, outcome, closing, days) = if ending < 3 {
            (
                CaseState::Withdrawn,
                Outcome::Other { reason: OtherReason::Withdrawn },
                Closing::Withdrawn,
                rng.gen_range(1..15),
            )
        } else if ending < 5 {
            let reason = if rng.gen_bool(0.5) { OtherReason::CorrectionLapsed } else { OtherReason::FeeLapsed };
            (CaseState::DeemedAbandoned, Outcome::Other { reason }, Closing::DeemedAbandoned, rng.gen_range(16..40))
        } else {
            let kind = pick(rng, &OUTCOMES);
            let choices = &self.replies.iter().find(|(k, _)| *k == kind).expect("every kind listed").1;
            let outcome = choices[rng.gen_range(0..choices.len())].clone();
            let timing = rng.gen_range(0..100);
            let (closing, days) = if timing < 85 {
                (Closing::OnTime, rng.gen_range(1..=20))
            } else if timing < 98 {
                (Closing::Extended, rng.gen_range(21..=40))
            } else {
                (Closing::LateReply, rng.gen_range(41..=60))
            };
            let state = if age > 400 { CaseState::Archived } else { CaseState::Replied };
            (state, outcome, closing, days)
        };
        let closed_on = working_days_after(self.calendar, received_on, days).min(self.plan.until);
        if closing == Closing::Extended || closing == Closing::LateReply {
            row.final_due_on = Some(working_days_after(self.calendar, received_on, 40));
        }
        row.state = state;
        row.closed_on = Some(closed_on);
        row.closed_as = Some(closing);
        row.handler_id = Some(self.user.clone());
        row.outcome = Some(outcome.kind());
        row.outcome_reason = outcome.reason().map(str::to_owned);
        row.already_public = outcome.already_public();
        if closing.is_reply() {
            row.served_on = Some(closed_on);
            row.service_method = Some(ServiceMethod::Post);
        }
        if closing.is_reply() && rng.gen_range(0..200) == 0 {
            row.fee_charged_fen = 100 * rng.gen_range(1..50);
            row.fee_paid_fen = row.fee_charged_fen;
            row.fee_paid_on = Some(closed_on);
            row.fee_receipt_number = Some(format!("收据{}", rng.gen_range(0..1_000_000)));
        }

        // One reply in forty is appealed: reconsideration or a lawsuit, decided within about three
        // months (pending if that is after `until`).
        let mut appeals = Vec::new();
        if closing.is_reply() && rng.gen_range(0..40) == 0 {
            let kind = [AppealKind::Reconsideration, AppealKind::Reconsideration, AppealKind::LitigationDirect]
                [rng.gen_range(0..3)];
            let filed_on = closed_on + Duration::days(rng.gen_range(5..60));
            let decided_on = filed_on + Duration::days(rng.gen_range(30..120));
            let decided =
                [AppealOutcome::Upheld, AppealOutcome::Upheld, AppealOutcome::Corrected, AppealOutcome::Other]
                    [rng.gen_range(0..4)];
            if filed_on <= self.plan.until {
                let (outcome, decided_on) = if decided_on <= self.plan.until {
                    (decided, Some(decided_on))
                } else {
                    (AppealOutcome::Pending, None)
                };
                appeals.push(AppealRow {
                    case_id: row.id.clone(),
                    number: 1,
                    kind,
                    filed_on,
                    reference: None,
                    outcome,
                    decided_on,
                });
                if kind == AppealKind::Reconsideration && outcome == AppealOutcome::Upheld && rng.gen_range(0..4) == 0 {
                    let sued_on = decided_on.unwrap_or(filed_on) + Duration::days(rng.gen_range(5..15));
                    if sued_on <= self.plan.until {
                        appeals.push(AppealRow {
                            case_id: row.id.clone(),
                            number: 2,
                            kind: AppealKind::LitigationAfterReconsideration,
                            filed_on: sued_on,
                            reference: None,
                            outcome: AppealOutcome::Pending,
                            decided_on: None,
                        });
                    }
                }
            }
        }
        (row, appeals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights_sum<T>(w: &[(T, u32)]) -> u32 {
        w.iter().map(|(_, w)| w).sum()
    }

    #[test]
    fn weighted_picks_follow_their_weights() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut web = 0;
        for _ in 0..10_000 {
            if pick(&mut rng, &CHANNELS) == Channel::Web {
                web += 1;
            }
        }
        let expected = 10_000 * 45 / weights_sum(&CHANNELS);
        assert!((web as i64 - expected as i64).abs() < 300, "{web} web of 10,000, expected about {expected}");
    }
}
